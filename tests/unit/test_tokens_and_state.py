"""Task tokens and the mutable state's serialization."""

from __future__ import annotations

import pytest

from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine.state import Activity, MutableState, RetryPolicy, WorkflowTask
from cadenza.history.machine.tokens import TaskToken


def test_token_round_trip() -> None:
    token = TaskToken("ns", "wf", "run", 5, 2, started_event_id=7, activity_id="a1")
    assert TaskToken.decode(token.encode()) == token


def test_token_bytes_keep_their_format() -> None:
    """Workers hold tokens across server upgrades, and replicas of two versions read each
    other's: the bytes of a token must not change."""
    token = TaskToken("ns", "wf-é", "run", 5, 2, started_event_id=7, query_id="q")
    assert token.encode() == (
        b'{"v":1,"namespace_id":"ns","workflow_id":"wf-\\u00e9","run_id":"run","scheduled_event_id":5,'
        b'"attempt":2,"started_event_id":7,"activity_id":"","query_id":"q","start_request_id":""}'
    )


@pytest.mark.parametrize("data", [b"garbage", b"{}", b"[1]", b'{"v": 99}', b"\xff\xfe"])
def test_malformed_tokens_are_invalid_arguments(data: bytes) -> None:
    with pytest.raises(InvalidArgumentError, match=r"Error deserializing task token\."):
        TaskToken.decode(data)


def test_state_round_trip_keeps_tasks_and_activities() -> None:
    state = MutableState(
        namespace_id="n",
        namespace="default",
        workflow_id="w",
        run_id="r",
        workflow_type="T",
        task_queue="q",
        start_time=1.5,
        start_request_id="req",
        workflow_task_timeout=10,
        run_timeout=0,
        execution_timeout=0,
        next_event_id=6,
    )
    state.workflow_task = WorkflowTask(2, 1, "q", 1.5, "task-1")
    state.activities[5] = Activity(
        5, "1", "act", "q", 2.0, 0, 0, 10, 0, RetryPolicy(maximum_attempts=3), attempt=2
    )
    again = MutableState.from_bytes(state.to_bytes())
    assert again == state
    assert again.activities[5].retry.maximum_attempts == 3


def test_run_ids_are_time_ordered_uuid7() -> None:
    import uuid

    from cadenza.history.machine.change import new_run_id

    first, second = new_run_id(), new_run_id()
    assert uuid.UUID(first).version == 7
    assert uuid.UUID(first).variant == uuid.RFC_4122
    assert first[:8] <= second[:8]
