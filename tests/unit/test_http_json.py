"""Temporal's JSON for the HTTP API: proto3 JSON as Go writes it, and the payload shorthand."""

from __future__ import annotations

import base64
import json

import pytest
from google.protobuf.any_pb2 import Any as AnyMessage
from google.rpc import status_pb2
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.enums.v1 import WorkflowIdReusePolicy
from temporalio.api.errordetails.v1 import NotFoundFailure
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.web.temporal_api import media
from cadenza.web.temporal_api.json_decode import DecodeError, decode
from cadenza.web.temporal_api.json_encode import EncodeError, Style, encode
from cadenza.web.temporal_api.payloads import go_json, go_value

SHORTHAND = media.DEFAULT
FULL = media.STYLES["application/json+no-payload-shorthand"]
PRETTY = media.STYLES["application/json+pretty"]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def plain(data: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=data.encode())


def as_json(message: object, style: Style = SHORTHAND) -> object:
    return json.loads(encode(message, style))  # type: ignore[arg-type]


def test_proto3_json_as_go_writes_it() -> None:
    request = wsv1.StartWorkflowExecutionRequest(
        namespace="default",
        workflow_id="w",
        request_id="",
        workflow_id_reuse_policy=WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
    )
    request.workflow_execution_timeout.FromSeconds(90)
    assert as_json(request) == {
        "namespace": "default",
        "workflowId": "w",
        "workflowExecutionTimeout": "90s",
        "workflowIdReusePolicy": "WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY",
    }
    count = wsv1.CountWorkflowExecutionsResponse(count=2**40)
    assert as_json(count) == {"count": str(2**40)}  # int64 as a string
    listing = wsv1.ListWorkflowExecutionsResponse(next_page_token=b"\x00\xff")
    assert as_json(listing) == {"nextPageToken": "AP8="}  # bytes in base64, the empty list left out


def test_fields_come_in_declaration_order() -> None:
    request = wsv1.StartWorkflowExecutionRequest(identity="me", namespace="n")
    assert list(as_json(request)) == ["namespace", "identity"]  # type: ignore[call-overload]


def test_a_json_plain_payload_is_shown_as_its_value() -> None:
    request = wsv1.SignalWorkflowExecutionRequest(input=Payloads(payloads=[plain('{"b": 1.0, "a": [1, 2]}')]))
    assert encode(request, SHORTHAND) == b'{"input":[{"a":[1,2],"b":1}]}'
    assert as_json(request, FULL) == {
        "input": {
            "payloads": [
                {"metadata": {"encoding": b64("json/plain")}, "data": b64('{"b": 1.0, "a": [1, 2]}')}
            ]
        }
    }


def test_empty_lists_in_shorthand_values_are_null() -> None:
    assert go_value({"list": [], "map": {}, "n": 3.0, "x": [{}, None]}) == {
        "list": None,
        "map": {},
        "n": 3,
        "x": [{}, None],
    }


NULL_FORM = {"metadata": {"encoding": b64("binary/null")}}


def test_null_is_written_as_the_binary_null_payload() -> None:
    null = Payload(metadata={"encoding": b"binary/null"}, data=b"ignored")
    request = wsv1.SignalWorkflowExecutionRequest(
        input=Payloads(payloads=[null, plain("null"), plain("[null]")])
    )
    assert as_json(request) == {"input": [NULL_FORM, NULL_FORM, [None]]}


def test_proto_json_payloads_name_their_type() -> None:
    message = Payload(metadata={"encoding": b"json/protobuf", "messageType": b"my.Msg"}, data=b'{"b": 1}')
    request = wsv1.SignalWorkflowExecutionRequest(input=Payloads(payloads=[message]))
    assert as_json(request) == {"input": [{"_protoMessageType": "my.Msg", "b": 1}]}


def test_other_payloads_keep_their_full_form() -> None:
    custom = Payload(metadata={"encoding": b"binary/custom"}, data=b"raw")
    tagged = Payload(metadata={"encoding": b"json/plain", "messageType": b"x"}, data=b"1")
    request = wsv1.SignalWorkflowExecutionRequest(input=Payloads(payloads=[plain('"a"'), custom]))
    request.header.fields["tagged"].CopyFrom(tagged)
    assert as_json(request) == {
        # Not every payload has a shorthand: the list is written in full, each payload on its own.
        "input": {"payloads": ["a", {"metadata": {"encoding": b64("binary/custom")}, "data": b64("raw")}]},
        "header": {
            "fields": {
                "tagged": {
                    "metadata": {"encoding": b64("json/plain"), "messageType": b64("x")},
                    "data": b64("1"),
                }
            }
        },
    }


def test_an_empty_payload_list_is_an_empty_array() -> None:
    assert as_json(wsv1.SignalWorkflowExecutionRequest(input=Payloads())) == {"input": []}


def test_a_payload_that_is_not_json_cannot_be_written() -> None:
    with pytest.raises(EncodeError):
        encode(wsv1.SignalWorkflowExecutionRequest(input=Payloads(payloads=[plain("{not json")])), SHORTHAND)


def test_zero_values_are_left_out() -> None:
    assert as_json(status_pb2.Status(code=5, message="Not Found")) == {"code": 5, "message": "Not Found"}
    assert as_json(wsv1.DescribeWorkflowExecutionRequest(namespace="")) == {}


def test_error_details_are_written_with_their_type() -> None:
    detail = AnyMessage()
    detail.Pack(NotFoundFailure(current_cluster="active"))
    status = status_pb2.Status(code=5, message="gone", details=[detail])
    assert as_json(status) == {
        "code": 5,
        "message": "gone",
        "details": [
            {
                "@type": "type.googleapis.com/temporal.api.errordetails.v1.NotFoundFailure",
                "currentCluster": "active",
            }
        ],
    }


def test_payloads_nested_deep_are_written_or_refused_but_never_crash() -> None:
    deep = "[" * 400 + "]" * 400
    written = encode(wsv1.SignalWorkflowExecutionRequest(input=Payloads(payloads=[plain(deep)])), SHORTHAND)
    assert written.startswith(b'{"input":[[[[')
    with pytest.raises(EncodeError):
        too_deep = "[" * 5000 + "]" * 5000
        encode(wsv1.SignalWorkflowExecutionRequest(input=Payloads(payloads=[plain(too_deep)])), SHORTHAND)


def test_pretty_indents() -> None:
    assert encode(wsv1.CountWorkflowExecutionsResponse(count=1), PRETTY) == b'{\n  "count": "1"\n}'


def test_shorthand_input_becomes_payloads() -> None:
    body = b'{"input": ["hi", {"a": 1}, null], "header": {"fields": {"h": 5}}}'
    request = decode(body, wsv1.SignalWorkflowExecutionRequest(), SHORTHAND)
    first, second, third = request.input.payloads
    assert (dict(first.metadata), first.data) == ({"encoding": b"json/plain"}, b'"hi"')
    assert second.data == b'{"a":1}'
    assert (dict(third.metadata), third.data) == ({"encoding": b"binary/null"}, b"")
    assert request.header.fields["h"].data == b"5"


def test_full_form_input_is_taken_as_is() -> None:
    full = {"metadata": {"encoding": b64("binary/custom")}, "data": b64("raw")}
    body = json.dumps({"input": [full], "header": {"fields": {"x": full}}}).encode()
    request = decode(body, wsv1.SignalWorkflowExecutionRequest(), SHORTHAND)
    assert request.input.payloads[0].metadata["encoding"] == b"binary/custom"
    assert request.header.fields["x"].data == b"raw"
    also_full = decode(
        json.dumps({"input": {"payloads": [full]}}).encode(), wsv1.SignalWorkflowExecutionRequest(), FULL
    )
    assert also_full.input.payloads[0].data == b"raw"


def test_proto_message_shorthand_names_its_type() -> None:
    body = b'{"input": [{"_protoMessageType": "my.Msg", "z": 1, "a": "<"}]}'
    payload = decode(body, wsv1.SignalWorkflowExecutionRequest(), SHORTHAND).input.payloads[0]
    assert dict(payload.metadata) == {"encoding": b"json/protobuf", "messageType": b"my.Msg"}
    assert payload.data == b'{"a":"\\u003c","z":1}'


def test_input_without_shorthand_wants_the_full_form() -> None:
    with pytest.raises(DecodeError):
        decode(b'{"input": ["hi"]}', wsv1.SignalWorkflowExecutionRequest(), FULL)


def test_unknown_fields_are_refused_by_name() -> None:
    with pytest.raises(DecodeError) as refused:
        decode(b'{"nope": 1}', wsv1.SignalWorkflowExecutionRequest(), SHORTHAND)
    assert '"nope"' in str(refused.value)
    assert "signalName" not in str(refused.value)  # not every field the request has


def test_an_empty_body_is_an_empty_request_and_trailing_text_is_ignored() -> None:
    assert (
        decode(b"", wsv1.SignalWorkflowExecutionRequest(), SHORTHAND) == wsv1.SignalWorkflowExecutionRequest()
    )
    assert (
        decode(b'{"signalName": "s"} trailing', wsv1.SignalWorkflowExecutionRequest(), SHORTHAND).signal_name
        == "s"
    )


@pytest.mark.parametrize("body", [b"{", b"[1]", b'{"signalName": 5}', b"[" * 100_000])
def test_bad_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(DecodeError):
        decode(body, wsv1.SignalWorkflowExecutionRequest(), SHORTHAND)


def test_go_json_sorts_keys_and_escapes_html() -> None:
    assert go_json({"b": [1.5, 2.0], "a": "<&>"}) == b'{"a":"\\u003c\\u0026\\u003e","b":[1.5,2]}'


def test_media_types_pick_the_styles() -> None:
    assert media.styles_for([], [], []) == (SHORTHAND, SHORTHAND)
    assert media.styles_for(["*/*"], ["application/json; charset=utf-8"], []) == (SHORTHAND, SHORTHAND)
    assert media.styles_for([], [], ["pretty"]) == (SHORTHAND, PRETTY)
    assert media.styles_for(["application/json+pretty"], [], []) == (SHORTHAND, PRETTY)
    assert media.styles_for([], [], ["noPayloadShorthand"]) == (SHORTHAND, FULL)
    # A request body in the full form, and so its answer unless Accept says otherwise.
    assert media.styles_for([], ["application/json+no-payload-shorthand"], []) == (FULL, FULL)
