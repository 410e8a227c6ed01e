"""present() tells a field the sender set from proto3's default value."""

from temporalio.api.common.v1 import Payloads
from temporalio.api.workflowservice.v1 import SignalWorkflowExecutionRequest

from cadenza.protoutil import present


def test_a_field_never_set_is_none() -> None:
    assert present(SignalWorkflowExecutionRequest(), "input") is None


def test_a_set_field_is_returned_even_when_empty() -> None:
    request = SignalWorkflowExecutionRequest(input=Payloads())
    assert present(request, "input") == Payloads()
    assert present(request, "input") is not None
