"""Work repeated on a timer for as long as the server runs: sweeps, refreshes, replica passes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from cadenza.persistence.errors import StorageError

_logger = logging.getLogger(__name__)


class Periodic:
    """Runs ``action`` every ``interval`` seconds, the first time one interval after ``start``,
    until ``stop``.

    A round that fails does not end the loop: a ``StorageError`` (the database away for a
    while) is one warning line, anything else is logged with its traceback; either way the
    next round tries again. Lines go to ``logger``, the owner's, so they name the module
    whose work failed.
    """

    def __init__(
        self,
        action: Callable[[], Awaitable[object]],
        interval: float,
        *,
        name: str,
        what: str,
        logger: logging.Logger = _logger,
    ) -> None:
        self._action = action
        self._interval = interval
        self._name = name
        self._what = what
        self._logger = logger
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Whether the rounds were started and not stopped since."""
        return self._task is not None

    def start(self) -> None:
        """Start the rounds; a second ``start`` while running changes nothing."""
        if self._task is None:
            self._task = asyncio.create_task(self._rounds(), name=self._name)

    async def stop(self) -> None:
        """Cancel the rounds and wait until the one under way has ended; safe to repeat."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _rounds(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self._round()

    async def _round(self) -> None:
        try:
            await self._action()
        except StorageError as error:
            self._logger.warning("%s failed, retrying: %s", self._what, error)
        except Exception:
            self._logger.exception("%s failed; trying again later", self._what)
