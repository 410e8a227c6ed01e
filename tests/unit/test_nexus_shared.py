"""Nexus requests as rows shared with other replicas: IDs, deadlines and answers."""

from __future__ import annotations

import time

import pytest
from temporalio.api.nexus.v1 import HandlerError, Request
from temporalio.api.workflowservice.v1 import RespondNexusTaskCompletedRequest, RespondNexusTaskFailedRequest

from cadenza.matching import nexus_shared


def test_a_request_row_is_told_from_a_query_by_its_id() -> None:
    row = nexus_shared.row_id("abc")
    assert nexus_shared.is_nexus(row) and not nexus_shared.is_nexus("abc")
    assert nexus_shared.task_id_of(row) == "abc"


@pytest.mark.parametrize(
    ("header", "seconds"), [("2.500s", 2.5), ("750ms", 0.75), ("", 10.0), ("soon", 10.0)]
)
def test_a_claimed_request_expires_when_its_caller_stops_waiting(header: str, seconds: float) -> None:
    request = Request(header={"request-timeout": header} if header else {})
    request.start_operation.service = "greeting"
    row = nexus_shared.offered("abc", "replica-a", "ns", "q", request)
    read, expires_at = nexus_shared.request_of(row)
    assert read == request
    assert expires_at - time.monotonic() == pytest.approx(seconds, abs=0.5)


def test_an_answer_comes_back_as_the_handler_sent_it() -> None:
    completed = RespondNexusTaskCompletedRequest(namespace="ns", identity="w")
    failed = RespondNexusTaskFailedRequest(namespace="ns", error=HandlerError(error_type="BAD_REQUEST"))
    assert nexus_shared.answer_of(nexus_shared.reply_of(completed)) == completed
    assert nexus_shared.answer_of(nexus_shared.reply_of(failed)) == failed
