"""present() tells a field the sender set from proto3's default value; keyword_payload() encodes a
Keyword search-attribute value as the SDK does."""

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.common.v1 import Payloads
from temporalio.api.workflowservice.v1 import SignalWorkflowExecutionRequest
from temporalio.common import SearchAttributeKey
from temporalio.converter import encode_typed_search_attribute_value

from cadenza.protoutil import keyword_payload, present, seconds


def test_a_field_never_set_is_none() -> None:
    assert present(SignalWorkflowExecutionRequest(), "input") is None


def test_a_set_field_is_returned_even_when_empty() -> None:
    request = SignalWorkflowExecutionRequest(input=Payloads())
    assert present(request, "input") == Payloads()
    assert present(request, "input") is not None


def test_seconds_keeps_the_fraction_of_a_timestamp_and_of_a_duration() -> None:
    assert seconds(Timestamp(seconds=1_700_000_000, nanos=250_000_000)) == 1_700_000_000.25
    assert seconds(Duration(seconds=3, nanos=500_000_000)) == 3.5
    assert seconds(Duration()) == 0.0


def test_a_keyword_payload_is_the_one_the_sdk_encodes_for_a_keyword_attribute() -> None:
    key = SearchAttributeKey.for_keyword("Key")
    for value in ("Running", "", 'quoted "x"', "é ü"):
        sdk = encode_typed_search_attribute_value(key, value)
        ours = keyword_payload(value)
        assert ours == sdk
        assert ours.SerializeToString(deterministic=True) == sdk.SerializeToString(deterministic=True)
