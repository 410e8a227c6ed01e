"""Protobuf's wire format as the history answers use it: fields written in where protobuf puts them."""

from __future__ import annotations

import pytest
from temporalio.api.common.v1 import Payload, WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History, HistoryEvent
from temporalio.api.workflowservice.v1 import (
    GetWorkflowExecutionHistoryResponse,
    PollWorkflowTaskQueueResponse,
)

from cadenza.history.service import wire
from cadenza.history.service.event_log import EventLog
from cadenza.history.service.reads import MAX_PAGE_BYTES, _slice


def events(n: int, size: int = 10) -> list[HistoryEvent]:
    out = []
    for i in range(1, n + 1):
        event = HistoryEvent(event_id=i)
        event.event_type = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
        attrs = event.workflow_execution_signaled_event_attributes
        attrs.signal_name = "x" * (size * i)
        attrs.input.payloads.append(Payload(data=b"\xff" * (size * i)))
        out.append(event)
    return out


@pytest.mark.parametrize("value", [1, 127, 128, 300, 2**14, 2**21 + 5, 2**35])
def test_varints_are_protobufs(value: int) -> None:
    encoded = wire.varint(value)
    assert HistoryEvent(event_id=value).SerializeToString() == b"\x08" + encoded


@pytest.mark.parametrize("n,size", [(0, 1), (1, 1), (3, 50), (20, 400)])
def test_a_history_splits_into_its_events_and_joins_back(n: int, size: int) -> None:
    history = History(events=events(n, size)).SerializeToString()
    split = wire.split_events(history)
    assert [HistoryEvent.FromString(wire.event_bytes(e)) for e in split] == events(n, size)
    assert [wire.event_size(e) for e in split] == [e.ByteSize() for e in events(n, size)]
    assert b"".join(split) == history


def test_what_is_not_a_history_is_refused() -> None:
    with pytest.raises(ValueError, match="not a History"):
        wire.split_events(HistoryEvent(event_id=3).SerializeToString())


def test_a_field_is_written_where_protobuf_writes_it() -> None:
    full = PollWorkflowTaskQueueResponse(
        task_token=b"token",
        workflow_execution=WorkflowExecution(workflow_id="w", run_id="r"),
        previous_started_event_id=3,
        attempt=2,
    )
    full.history.events.extend(events(5, 30))
    full.messages.add(id="m")
    full.started_time.seconds = 12
    without = PollWorkflowTaskQueueResponse()
    without.CopyFrom(full)
    without.ClearField("history")
    number = PollWorkflowTaskQueueResponse.DESCRIPTOR.fields_by_name["history"].number
    parts = wire.split_events(full.history.SerializeToString())
    assembled = wire.with_field(without.SerializeToString(), number, parts)
    assert assembled == full.SerializeToString()


@pytest.mark.parametrize("token", [b"", b"next"])
def test_a_field_before_or_after_every_other_one(token: bytes) -> None:
    full = GetWorkflowExecutionHistoryResponse(next_page_token=token)
    full.history.SetInParent()  # present even when empty, as the extend of no events makes it
    number = GetWorkflowExecutionHistoryResponse.DESCRIPTOR.fields_by_name["history"].number
    head = GetWorkflowExecutionHistoryResponse(next_page_token=token).SerializeToString()
    assert wire.with_field(head, number, []) == full.SerializeToString()


def test_an_event_log_decodes_each_event_once() -> None:
    given = events(4)
    log = EventLog.of_batches([History(events=given[:2]).SerializeToString()])
    log.append_batch(History(events=given[2:]).SerializeToString())
    assert len(log) == 4 and list(log) == given
    assert log[0] is log[0] and log[-1] is log[3] and log[3] == given[3]
    assert log[1:3] == given[1:3]
    assert History.FromString(b"".join(log.entries(1))).events == given[1:]
    with pytest.raises(IndexError):
        log[4]


def test_a_history_page_holds_at_most_2_mb_of_events_and_at_least_one() -> None:
    big = events(6, 100_000)  # event i carries 2 * 100 kB * i
    log = EventLog.of_batches([History(events=big).SerializeToString()])
    sizes = [e.ByteSize() for e in big]
    first = _slice(log, 1, 100, follow=False, run_id="r")
    assert first.events == big[:4] and sum(sizes[:4]) <= MAX_PAGE_BYTES < sum(sizes[:5])
    last = _slice(log, 6, 100, follow=False, run_id="r")
    assert last.events == big[5:] and sizes[5] > MAX_PAGE_BYTES // 2 and not last.next_page_token
    assert _slice(log, 2, 2, follow=False, run_id="r").events == big[1:3]
