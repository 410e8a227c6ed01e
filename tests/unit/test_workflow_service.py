"""The servicer hands every RPC to the one group of RPCs that defines it, and to no other."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import fields
from typing import Any, cast, get_type_hints

from temporalio.api.workflowservice.v1 import service_pb2 as workflow_service_pb2

from cadenza.api import server
from cadenza.api.workflow_service import WorkflowService

RPC_NAMES = list(workflow_service_pb2.DESCRIPTOR.services_by_name["WorkflowService"].methods_by_name)


class RecordingGroup:
    """Stands in for a group of RPCs: answers any RPC with its own name, and remembers it."""

    def __init__(self) -> None:
        self.called: list[str] = []

    def __getattr__(self, name: str) -> Callable[[Any, Any], Awaitable[str]]:
        async def rpc(request: Any, context: Any) -> str:
            self.called.append(name)
            return name

        return rpc


def defined_by(group: str) -> list[str]:
    group_class = get_type_hints(WorkflowService)[group]
    return [name for name in RPC_NAMES if name in vars(group_class)]


async def test_each_rpc_reaches_the_group_that_defines_it() -> None:
    groups = {group.name: RecordingGroup() for group in fields(WorkflowService)}
    service = cast(Any, WorkflowService)(**groups)
    for group in groups:
        for name in defined_by(group):
            assert await getattr(service, name)(None, None) == name
    for group, recorder in groups.items():
        assert recorder.called == defined_by(group)


def test_the_groups_serve_every_rpc_cadenza_answers() -> None:
    served = [name for group in fields(WorkflowService) for name in defined_by(group.name)]
    unimplemented = server._unimplemented("probe").__code__
    assert len(served) == len(set(served)) > 50
    for name in RPC_NAMES:
        handler = getattr(WorkflowService, name)
        assert (handler.__code__ is not unimplemented) == (name in served), name
