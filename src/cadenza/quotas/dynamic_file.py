"""Temporal's dynamic-config YAML file, read at start and again whenever it changes.

Like Temporal's file-based dynamic config, the file is polled (every 10 s by default)
and a changed file replaces the settings it gives at once. A file that turns bad or
disappears while the server runs is reported in the log and the last good settings
stay, so a half-saved edit cannot lift every limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

from cadenza.quotas.settings import QuotaSettings, SettingsError, from_yaml

logger = logging.getLogger(__name__)

FILE_FLAG = "--dynamic-config-file"


def read_settings(path: str) -> QuotaSettings:
    """The rate-limit settings in the file at ``path``; ``SettingsError`` says what is wrong."""
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{FILE_FLAG} {path}: cannot read it: {exc}") from exc
    settings, others = from_yaml(text, f"{FILE_FLAG} {path}")
    if others:
        logger.info("dynamic config file keys not read (only rate limits are): %s", ", ".join(others))
    return settings


class DynamicConfigFile:
    """Watches one file and hands each new, valid version's settings to ``apply``."""

    def __init__(self, path: str, poll_seconds: float, apply: Callable[[QuotaSettings], None]) -> None:
        self._path = path
        self._poll_seconds = poll_seconds
        self._apply = apply
        self._last: bytes | None = None
        self._task: asyncio.Task[None] | None = None

    def load(self) -> None:
        """Read the file now and apply it; ``SettingsError`` if it cannot be used."""
        self._last = self._contents()
        self._apply(read_settings(self._path))

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="dynamic-config-file")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._poll_seconds)
            self.check()

    def check(self) -> None:
        """Apply the file if it changed since it was last read; keep the old settings if it is bad."""
        contents = self._contents()
        if contents is None or contents == self._last:
            if contents is None and self._last is not None:
                logger.warning("dynamic config file %s is gone; keeping its last settings", self._path)
                self._last = None
            return
        self._last = contents
        try:
            settings = read_settings(self._path)
        except SettingsError as error:
            logger.warning("dynamic config file not applied, keeping its last settings: %s", error)
            return
        self._apply(settings)
        logger.info("dynamic config file %s applied", self._path)

    def _contents(self) -> bytes | None:
        try:
            return Path(self._path).read_bytes()
        except OSError:
            return None
