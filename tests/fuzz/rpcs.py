"""The RPCs Cadenza serves, read from the protobuf service descriptors and the servicer classes.

An RPC is served when its servicer class has a handler of its own; the rest are given a
handler by ``cadenza.api.server.fill_unimplemented`` that answers UNIMPLEMENTED, and are
left out of the fuzzing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from google.protobuf import message_factory
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import Message
from temporalio.api.operatorservice.v1 import service_pb2 as operator_service_pb2
from temporalio.api.workflowservice.v1 import service_pb2 as workflow_service_pb2

from cadenza.api import server
from cadenza.api.operator_service import OperatorService
from cadenza.api.workflow_service import WorkflowService

_UNIMPLEMENTED_CODE = server._unimplemented("probe").__code__

WAIT_FIELDS = frozenset({"wait_new_event", "wait_policy"})
"""Request fields that ask the server to hold the call until something happens."""


@dataclass(frozen=True)
class Rpc:
    """One served RPC: its gRPC path and its request and response classes."""

    service: str
    name: str
    request_class: type[Message]
    response_class: type[Message]

    @property
    def path(self) -> str:
        return f"/{self.service}/{self.name}"

    @property
    def waits(self) -> bool:
        """Whether the call may rightly wait until its deadline: long polls, and calls
        answered by a worker (queries, updates) or by new events."""
        return self.name.startswith("Poll") or _asks_to_wait(self.request_class.DESCRIPTOR, 3)

    @property
    def touches_namespaces(self) -> bool:
        """Whether the call changes a namespace itself (and so is aimed at a spare one)."""
        return "Namespace" in self.name or "SearchAttributes" in self.name

    def __str__(self) -> str:
        return self.name


def _asks_to_wait(descriptor: Any, depth: int) -> bool:
    if depth == 0:
        return False
    for field in descriptor.fields:
        if field.name in WAIT_FIELDS or (field.name == "query" and field.message_type is not None):
            return True
        if field.message_type is not None and _asks_to_wait(field.message_type, depth - 1):
            return True
    return False


def _is_served(servicer_class: type, name: str) -> bool:
    handler: Any = getattr(servicer_class, name, None)
    return handler is not None and getattr(handler, "__code__", None) is not _UNIMPLEMENTED_CODE


def _served(servicer_class: type, service: ServiceDescriptor) -> list[Rpc]:
    return [
        Rpc(
            service.full_name,
            method.name,
            message_factory.GetMessageClass(method.input_type),
            message_factory.GetMessageClass(method.output_type),
        )
        for method in service.methods
        if _is_served(servicer_class, method.name)
    ]


def served_rpcs() -> list[Rpc]:
    """Every RPC Cadenza answers with something other than UNIMPLEMENTED."""
    workflow = workflow_service_pb2.DESCRIPTOR.services_by_name["WorkflowService"]
    operator = operator_service_pb2.DESCRIPTOR.services_by_name["OperatorService"]
    return _served(WorkflowService, workflow) + _served(OperatorService, operator)


def rpc_named(name: str) -> Rpc:
    return next(rpc for rpc in served_rpcs() if rpc.name == name)
