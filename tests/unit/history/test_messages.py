"""Signals (buffered while a task runs, deduplicated) and updates through their stages."""

from __future__ import annotations

import pytest
from temporalio.api.enums.v1 import CommandType, EventType
from temporalio.api.failure.v1 import Failure
from temporalio.api.protocol.v1 import Message
from temporalio.api.update.v1 import Acceptance, Input, Meta, Outcome, Rejection, Request, Response

from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine import signals, updates, workflow_ops, workflow_tasks
from tests.unit.history.builders import Run, command, packed, payloads, started_run

E = EventType


def signal(run: Run, name: str = "go", request_id: str = "") -> None:
    change = run.change()
    if not signals.seen(run.state, request_id):
        signals.record(change, signals.Signal(name, payloads(b"1"), "client", None, request_id))
        workflow_tasks.ensure_scheduled(change)
    run.commit(change)


def test_a_signal_to_an_idle_run_is_written_and_wakes_it() -> None:
    run = started_run()
    run.complete_task()
    signal(run)
    assert run.event_types()[-2:] == [
        E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
        E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    ]
    attrs = run.history[-2].workflow_execution_signaled_event_attributes
    assert (attrs.signal_name, attrs.identity) == ("go", "client")
    assert attrs.input.payloads[0].data == b"1"


def test_a_signal_during_a_running_task_is_buffered() -> None:
    run = started_run()
    before = len(run.history)
    signal(run)
    assert len(run.history) == before
    assert len(run.state.buffered_events) == 1


def test_buffered_signals_follow_the_completed_task_and_need_a_new_one() -> None:
    run = started_run()
    signal(run, "a")
    signal(run, "b")
    run.complete_task()
    assert run.event_types()[-4:] == [
        E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
        E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
        E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    ]
    names = [e.workflow_execution_signaled_event_attributes.signal_name for e in run.history[-3:-1]]
    assert names == ["a", "b"]
    assert run.state.buffered_events == []


def test_a_retried_signal_request_is_dropped() -> None:
    run = started_run()
    run.complete_task()
    signal(run, request_id="r1")
    signal(run, request_id="r1")
    signaled = [t for t in run.event_types() if t == E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED]
    assert len(signaled) == 1


def test_only_the_latest_signal_request_ids_are_remembered() -> None:
    run = started_run()
    for n in range(signals.MAX_REMEMBERED_REQUESTS + 5):
        signal(run, request_id=f"r{n}")
    assert not signals.seen(run.state, "r0")
    assert signals.seen(run.state, f"r{signals.MAX_REMEMBERED_REQUESTS + 4}")
    assert len(run.state.signal_request_ids) == signals.MAX_REMEMBERED_REQUESTS


def test_an_empty_request_id_is_never_seen() -> None:
    assert not signals.seen(started_run().state, "")


# -- updates ------------------------------------------------------------------------


def request(update_id: str = "u1") -> Request:
    return Request(
        meta=Meta(update_id=update_id, identity="client"), input=Input(name="upd", args=payloads(b"5"))
    )


def admit(run: Run, update_id: str = "u1") -> None:
    change = run.change()
    updates.admit(change, request(update_id))
    workflow_tasks.ensure_scheduled(change, speculative=True)
    change.counts_as_transition = False
    run.commit(change)


def acceptance(update_id: str = "u1") -> Message:
    return Message(
        id=f"{update_id}/accept",
        protocol_instance_id=update_id,
        body=packed(
            Acceptance(
                accepted_request_message_id=f"{update_id}/request",
                accepted_request_sequencing_event_id=2,
                accepted_request=request(update_id),
            )
        ),
    )


def response(update_id: str = "u1") -> Message:
    return Message(
        id=f"{update_id}/complete",
        protocol_instance_id=update_id,
        body=packed(Response(meta=Meta(update_id=update_id), outcome=Outcome(success=payloads(b"10")))),
    )


def rejection(update_id: str = "u1") -> Message:
    return Message(
        id=f"{update_id}/reject",
        protocol_instance_id=update_id,
        body=packed(
            Rejection(rejected_request_message_id=f"{update_id}/request", failure=Failure(message="no"))
        ),
    )


def idle_run() -> Run:
    run = started_run()
    run.complete_task()
    return run


def test_an_admitted_update_is_at_the_admitted_stage_with_no_events() -> None:
    run = idle_run()
    before = len(run.history)
    admit(run)
    status = updates.status(run.state, "u1")
    assert status is not None and status.stage == updates.ADMITTED and status.outcome is None
    assert len(run.history) == before
    assert updates.has_undelivered(run.state)


def test_an_admitted_update_gets_a_speculative_task() -> None:
    run = idle_run()
    admit(run)
    wft = run.state.workflow_task
    assert wft is not None and wft.speculative


def test_the_task_carries_a_request_message_per_undelivered_update() -> None:
    run = idle_run()
    admit(run, "u1")
    admit(run, "u2")
    scheduled = run.state.workflow_task.scheduled_event_id  # type: ignore[union-attr]
    messages = updates.messages(run.state, scheduled)
    assert [(m.id, m.protocol_instance_id, m.event_id) for m in messages] == [
        ("u1/request", "u1", scheduled),
        ("u2/request", "u2", scheduled),
    ]
    body = Request()
    messages[0].body.Unpack(body)
    assert body.input.name == "upd"


def test_an_unknown_update_has_no_status() -> None:
    assert updates.status(idle_run().state, "nope") is None


def accept_and_complete(run: Run) -> None:
    run.start_task()
    run.complete_task(
        command(CommandType.COMMAND_TYPE_PROTOCOL_MESSAGE, message_id="u1/accept"),
        command(CommandType.COMMAND_TYPE_PROTOCOL_MESSAGE, message_id="u1/complete"),
        messages=[acceptance(), response()],
    )


def test_accepting_and_completing_writes_both_events() -> None:
    run = idle_run()
    admit(run)
    accept_and_complete(run)
    assert run.event_types()[-5:] == [
        E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        E.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
        E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
    ]
    accepted = run.history[-2].workflow_execution_update_accepted_event_attributes
    assert accepted.protocol_instance_id == "u1"
    assert accepted.accepted_request.input.name == "upd"
    completed = run.history[-1].workflow_execution_update_completed_event_attributes
    assert completed.accepted_event_id == run.history[-2].event_id
    assert completed.outcome.success.payloads[0].data == b"10"


def test_a_completed_update_reports_its_outcome() -> None:
    run = idle_run()
    admit(run)
    accept_and_complete(run)
    status = updates.status(run.state, "u1")
    assert status is not None and status.stage == updates.COMPLETED
    assert status.outcome is not None and status.outcome.success.payloads[0].data == b"10"
    assert not updates.has_undelivered(run.state)


def test_an_accepted_update_is_at_the_accepted_stage() -> None:
    run = idle_run()
    admit(run)
    run.start_task()
    run.complete_task(
        command(CommandType.COMMAND_TYPE_PROTOCOL_MESSAGE, message_id="u1/accept"), messages=[acceptance()]
    )
    status = updates.status(run.state, "u1")
    assert status is not None and status.stage == updates.ACCEPTED


def test_an_accepted_update_left_by_a_closed_run_reports_a_failure() -> None:
    run = idle_run()
    admit(run)
    run.start_task()
    run.complete_task(
        command(CommandType.COMMAND_TYPE_PROTOCOL_MESSAGE, message_id="u1/accept"), messages=[acceptance()]
    )
    change = run.change()
    workflow_ops.terminate(change, "x", None, "admin")
    run.commit(change)
    status = updates.status(run.state, "u1")
    assert status is not None and status.abandoned and status.outcome is not None
    assert status.outcome.failure.application_failure_info.type == "AcceptedUpdateCompletedWorkflow"


def test_a_rejected_update_completes_without_any_event() -> None:
    run = idle_run()
    admit(run)
    run.start_task()
    change = run.change()
    before = len(run.history)
    updates.apply(change, rejection())
    run.commit(change)
    assert len(run.history) == before
    status = updates.status(run.state, "u1")
    assert status is not None and status.stage == updates.COMPLETED
    assert status.outcome is not None and status.outcome.failure.message == "no"
    assert not updates.has_undelivered(run.state)


def test_a_rejection_for_an_unknown_update_is_ignored() -> None:
    run = idle_run()
    change = run.change()
    updates.apply(change, rejection("ghost"))
    assert "ghost" not in run.state.updates


def test_only_the_latest_rejections_are_kept() -> None:
    run = idle_run()
    change = run.change()
    for n in range(updates.KEPT_REJECTIONS + 3):
        updates.admit(change, request(f"u{n}"))
        updates.apply(change, rejection(f"u{n}"))
    assert len(run.state.updates) == updates.KEPT_REJECTIONS
    assert "u0" not in run.state.updates and f"u{updates.KEPT_REJECTIONS + 2}" in run.state.updates


def test_a_message_body_that_does_not_decode_is_refused() -> None:
    message = acceptance()
    message.body.value = b"\xff\xff"
    with pytest.raises(InvalidArgumentError, match="does not decode"):
        updates.check_body(message)


def test_a_task_whose_update_is_still_undelivered_gets_another() -> None:
    run = idle_run()
    admit(run)
    run.start_task()
    admit(run, "u2")  # arrives while the task runs
    run.complete_task(
        command(CommandType.COMMAND_TYPE_PROTOCOL_MESSAGE, message_id="u1/accept"), messages=[acceptance()]
    )
    assert run.state.workflow_task is not None
    assert updates.has_undelivered(run.state)
