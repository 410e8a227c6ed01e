"""The cardinality guard: label values past a limit fold into ``_other_``.

Task queue and workflow type names come from clients, and a client that names
a fresh queue per host or per run would otherwise grow one series per name
without bound. Each guarded label admits its first ``limit`` distinct values
(in practice the long-lived queues and types a deployment starts with) and
keeps them for the life of the process, so a series never disappears and never
changes its name; every later value is counted under ``_other_``.

Admitted values are written as Temporal's default metrics reporter writes label
values: every character but a letter, a digit or ``_`` becomes ``_`` (queue
``orders-eu`` is ``orders_eu``), so a dashboard's filters read the same values
from Cadenza as from Temporal.
"""

from __future__ import annotations

import re

OTHER = "_other_"
"""The label value every value past the limit is counted under."""

_NOT_SAFE = re.compile(r"[^A-Za-z0-9_]")


def temporal_value(value: str) -> str:
    """``value`` as Temporal reports a label value: unsafe characters replaced by ``_``."""
    return _NOT_SAFE.sub("_", value)


class LabelGuard:
    """Admits at most ``limit`` distinct values of one label; the rest read as ``OTHER``."""

    __slots__ = ("_admitted", "_limit", "folded")

    def __init__(self, limit: int) -> None:
        if limit < 0:
            raise ValueError(f"a label's value limit cannot be negative, got {limit}")
        self._limit = limit
        self._admitted: dict[str, str] = {}
        """Each admitted value, as it is written in a label."""
        self.folded = 0
        """How many times a value was counted as ``OTHER``, so an operator sees the limit bite."""

    def __call__(self, value: str) -> str:
        label = self._admitted.get(value)
        if label is not None:
            return label
        if len(self._admitted) < self._limit and value != OTHER:
            label = self._admitted[value] = temporal_value(value)
            return label
        self.folded += 1
        return OTHER

    def __len__(self) -> int:
        """How many distinct values are admitted."""
        return len(self._admitted)
