"""The pieces of Nexus that travel: link URLs both ways, callback tokens, handler answers."""

from __future__ import annotations

from temporalio.api.common.v1 import Link
from temporalio.api.enums.v1 import EventType, NexusHandlerErrorRetryBehavior
from temporalio.api.failure.v1 import Failure
from temporalio.api.nexus.v1 import Failure as NexusFailure
from temporalio.api.nexus.v1 import HandlerError
from temporalio.api.nexus.v1 import Link as NexusLink
from temporalio.api.workflowservice.v1 import RespondNexusTaskFailedRequest

from cadenza.nexus import answers, links
from cadenza.nexus.answers import Verdict
from cadenza.nexus.requests import CallbackToken

SCHEDULED = EventType.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED


def test_an_event_link_survives_its_url_with_odd_ids() -> None:
    link = links.event_link("ns one", "wf/with?odd&chars", "run-1", 5, SCHEDULED)
    nexus = links.to_nexus(link)
    assert nexus is not None
    assert nexus.url.startswith("temporal:///namespaces/ns%20one/workflows/wf%2Fwith%3Fodd%26chars/run-1/")
    assert "eventType=NexusOperationScheduled" in nexus.url
    assert links.from_nexus(nexus) == link


def test_a_request_id_reference_is_read_from_its_url() -> None:
    url = (
        "temporal:///namespaces/ns/workflows/wf/run/history"
        "?referenceType=RequestIdReference&requestID=abc&eventType=WorkflowExecutionSignaled"
    )
    link = links.from_nexus(NexusLink(url=url, type=links.WORKFLOW_EVENT_TYPE))
    assert link is not None
    assert link.workflow_event.request_id_ref.request_id == "abc"
    assert link.workflow_event.request_id_ref.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED


def test_links_of_other_kinds_or_shapes_are_left_out() -> None:
    assert links.from_nexus(NexusLink(url="https://example.com/x", type=links.WORKFLOW_EVENT_TYPE)) is None
    assert (
        links.from_nexus(NexusLink(url="temporal:///namespaces/a/workflows/b/c/history", type="other"))
        is None
    )
    assert links.to_nexus(Link()) is None


def test_a_callback_token_round_trips_and_refuses_strangers() -> None:
    token = CallbackToken("ns-id", "wf", "run", 7, "req")
    assert CallbackToken.decode(token.encode()) == token
    for stranger in ("", "{}", '{"v":1,"d":"!!"}', '{"v":2,"d":""}', "not json"):
        assert CallbackToken.decode(stranger) is None


def test_handler_errors_retry_by_type_unless_the_handler_says_otherwise() -> None:
    def verdict(error_type: str, behavior: int = 0) -> Verdict:
        error = HandlerError(error_type=error_type, failure=NexusFailure(message="m"))
        error.retry_behavior = behavior  # type: ignore[assignment]
        return answers.from_failed(RespondNexusTaskFailedRequest(error=error)).verdict

    assert verdict("INTERNAL") is Verdict.RETRY
    assert verdict("BAD_REQUEST") is Verdict.FAILED
    retryable = NexusHandlerErrorRetryBehavior.NEXUS_HANDLER_ERROR_RETRY_BEHAVIOR_RETRYABLE
    never = NexusHandlerErrorRetryBehavior.NEXUS_HANDLER_ERROR_RETRY_BEHAVIOR_NON_RETRYABLE
    assert verdict("BAD_REQUEST", retryable) is Verdict.RETRY
    assert verdict("INTERNAL", never) is Verdict.FAILED


def test_a_wrapped_temporal_failure_is_unwrapped() -> None:
    details = b'{"message": "inner", "applicationFailureInfo": {"type": "Boom"}}'
    wrapped = NexusFailure(message="outer", metadata={"type": answers.FAILURE_TYPE}, details=details)
    failure = answers.temporal_failure(wrapped)
    assert failure.message == "inner" and failure.application_failure_info.type == "Boom"
    plain = answers.temporal_failure(NexusFailure(message="plain"))
    assert plain == Failure(message="plain", application_failure_info=plain.application_failure_info)
