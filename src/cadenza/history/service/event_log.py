"""A run's committed history in memory: each event's stored bytes, decoded only when asked."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import overload

from temporalio.api.history.v1 import HistoryEvent

from cadenza.history.service import wire


class EventLog(Sequence[HistoryEvent]):
    """Events in order, event ID ``i + 1`` at index ``i``.

    Answers to workers are assembled from ``entries`` (the bytes the store holds), so
    a history is never parsed just to be encoded again; an event is decoded the
    first time something reads it as a message, and kept. The bytes take about a
    tenth of the memory of the messages.
    """

    __slots__ = ("_entries", "_events")

    def __init__(self) -> None:
        self._entries: list[bytes] = []
        """Each event as an entry of a serialized ``History``: tag, length and bytes."""
        self._events: list[HistoryEvent | None] = []

    @classmethod
    def of_batches(cls, batches: Iterable[bytes]) -> EventLog:
        """The events of stored batches (each a serialized ``History``), in order."""
        log = cls()
        for batch in batches:
            log.append_batch(batch)
        return log

    def append_batch(self, data: bytes) -> None:
        """Add the events of a serialized ``History`` batch."""
        entries = wire.split_events(data)
        self._entries.extend(entries)
        self._events.extend([None] * len(entries))

    def entries(self, start: int = 0, stop: int | None = None) -> list[bytes]:
        """Events ``[start:stop]`` as entries of a ``History``; joined, they serialize one."""
        return self._entries[start:stop]

    def __len__(self) -> int:
        return len(self._entries)

    @overload
    def __getitem__(self, index: int) -> HistoryEvent: ...

    @overload
    def __getitem__(self, index: slice) -> list[HistoryEvent]: ...

    def __getitem__(self, index: int | slice) -> HistoryEvent | list[HistoryEvent]:
        if isinstance(index, slice):
            return [self._decoded(i) for i in range(*index.indices(len(self._entries)))]
        if index < 0:
            index += len(self._entries)
        if not 0 <= index < len(self._entries):
            raise IndexError("event index out of range")
        return self._decoded(index)

    def __iter__(self) -> Iterator[HistoryEvent]:
        for i in range(len(self._entries)):
            yield self._decoded(i)

    def _decoded(self, index: int) -> HistoryEvent:
        event = self._events[index]
        if event is None:
            event = self._events[index] = HistoryEvent.FromString(wire.event_bytes(self._entries[index]))
        return event
