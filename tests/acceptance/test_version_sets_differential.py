"""Worker versioning v0.1's data API (version sets and reachability) answers what the real
Temporal dev server answers when both run with ``frontend.workerVersioningDataAPIs``: the same
sets in the same order after each change, the same refusals in the same words, the same
reachability, request by request."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import pytest
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.client import (
    BuildIdOpAddNewCompatible,
    BuildIdOpAddNewDefault,
    BuildIdOpMergeSets,
    BuildIdOpPromoteBuildIdWithinSet,
    BuildIdOpPromoteSetByBuildId,
    Client,
)

from tests import servers
from tests.acceptance.test_standalone_differential import answer

pytestmark = [
    pytest.mark.differential,
    pytest.mark.skipif(servers.temporal_binary() is None, reason="temporal CLI not installed"),
]

NS = "default"
DATA_APIS = "frontend.workerVersioningDataAPIs"
Update = wsv1.UpdateWorkerBuildIdCompatibilityRequest
Compatible = Update.AddNewCompatibleVersion
Merge = Update.MergeSets


@pytest.fixture(scope="module")
async def versioning_temporal(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    """The real dev server with the version-set data API and legacy routing turned on."""
    workdir = tmp_path_factory.mktemp("temporal-version-sets")
    flags = {DATA_APIS: "true", "frontend.workerVersioningWorkflowAPIs": "true"}
    async with servers.temporal_dev_client(workdir, flags) as client:
        yield client


@pytest.fixture
async def versioning_cadenza() -> AsyncIterator[Client]:
    async with servers.in_process(dynamic_config={DATA_APIS: "true"}) as server:
        yield await Client.connect(server.address)


class Session:
    """The calls of one scenario on one server, each answer recorded under a name."""

    def __init__(self, client: Client, queue: str) -> None:
        self.service = client.workflow_service
        self.queue = queue
        self.seen: dict[str, str] = {}

    async def record(self, name: str, call: Awaitable[Any]) -> None:
        self.seen[name] = await answer(call)

    async def update(self, name: str, queue: str | None = None, **operation: Any) -> None:
        request = Update(namespace=NS, task_queue=self.queue if queue is None else queue, **operation)
        await self.record(name, self.service.update_worker_build_id_compatibility(request))

    async def sets(self, name: str, queue: str | None = None, **given: Any) -> None:
        request = wsv1.GetWorkerBuildIdCompatibilityRequest(
            namespace=NS, task_queue=self.queue if queue is None else queue, **given
        )
        await self.record(name, self.service.get_worker_build_id_compatibility(request))

    async def reach(self, name: str, **given: Any) -> None:
        request = wsv1.GetWorkerTaskReachabilityRequest(namespace=NS, **given)
        await self.record(name, self.service.get_worker_task_reachability(request))


async def sdk_sequence(client: Client, queue: str) -> list[Any]:
    """The official SDK's build-ID conformance sequence, through its client, with what each
    read shows."""
    shown: list[Any] = []

    async def read() -> None:
        sets = await client.get_worker_build_id_compatibility(queue)
        shown.append([list(s.build_ids) for s in sets.version_sets])
        shown.append(sets.default_build_id())

    await client.update_worker_build_id_compatibility(queue, BuildIdOpAddNewDefault("1.0"))
    await client.update_worker_build_id_compatibility(queue, BuildIdOpAddNewCompatible("1.1", "1.0"))
    await read()
    await client.update_worker_build_id_compatibility(queue, BuildIdOpPromoteBuildIdWithinSet("1.0"))
    await read()
    await client.update_worker_build_id_compatibility(queue, BuildIdOpAddNewDefault("2.0"))
    await read()
    await client.update_worker_build_id_compatibility(queue, BuildIdOpPromoteSetByBuildId("1.0"))
    await read()
    await client.update_worker_build_id_compatibility(queue, BuildIdOpMergeSets("2.0", "1.0"))
    await read()
    reachability = await client.get_worker_task_reachability(["2.0", "1.0", "1.1"])
    for build_id, entry in sorted(reachability.build_id_reachability.items()):
        shown.append(
            (build_id, sorted((q, [str(r) for r in rs]) for q, rs in entry.task_queue_reachability.items()))
        )
    return shown


async def refusals_on_empty_queue(session: Session) -> None:
    await session.sets("get empty")
    await session.update("promote unknown", promote_set_by_build_id="x")
    await session.update("promote unknown within", promote_build_id_within_set="x")
    await session.update(
        "compatible with unknown",
        add_new_compatible_build_id=Compatible(new_build_id="1.1", existing_compatible_build_id="1.0"),
    )
    await session.update(
        "merge unknown", merge_sets=Merge(primary_set_build_id="a", secondary_set_build_id="b")
    )
    await session.update("no operation")
    await session.update("no operation, no queue", queue="")
    await session.update("empty build ID", add_new_build_id_in_new_default_set="")
    await session.update("long build ID", add_new_build_id_in_new_default_set="x" * 256)
    await session.update("long queue", queue="q" * 1001, add_new_build_id_in_new_default_set="z")
    await session.update("empty promote", promote_set_by_build_id="")
    await session.update("empty promote within", promote_build_id_within_set="")
    await session.update("compatible, no existing", add_new_compatible_build_id=Compatible(new_build_id="E"))
    await session.update(
        "compatible, no new", add_new_compatible_build_id=Compatible(existing_compatible_build_id="E")
    )
    long = "x" * 256
    await session.update("long promote", promote_set_by_build_id=long)
    await session.update("long promote within", promote_build_id_within_set=long)
    await session.update(
        "long merge", merge_sets=Merge(primary_set_build_id=long, secondary_set_build_id=long)
    )
    await session.update("compatible, nothing", add_new_compatible_build_id=Compatible())
    await session.update(
        "compatible, long, no existing", add_new_compatible_build_id=Compatible(new_build_id=long)
    )
    await session.update("long queue and build ID", queue="q" * 1001, promote_set_by_build_id=long)
    await session.sets("get, no queue", queue="")
    await session.sets("get, long queue", queue="q" * 1001)


async def changes(session: Session) -> None:
    """Sets built, promoted and merged, with the refusals of adding what already exists."""
    compatible = Compatible
    await session.update("add A", add_new_build_id_in_new_default_set="A")
    await session.update(
        "A1 with A",
        add_new_compatible_build_id=compatible(new_build_id="A1", existing_compatible_build_id="A"),
    )
    for name in ("B", "C", "D"):
        await session.update(f"add {name}", add_new_build_id_in_new_default_set=name)
    await session.update("add A1 again", add_new_build_id_in_new_default_set="A1")
    await session.update("add D again", add_new_build_id_in_new_default_set="D")
    await session.update(
        "A1 with B",
        add_new_compatible_build_id=compatible(new_build_id="A1", existing_compatible_build_id="B"),
    )
    await session.update(
        "A with A1",
        add_new_compatible_build_id=compatible(new_build_id="A", existing_compatible_build_id="A1"),
    )
    await session.update(
        "A1 with A again",
        add_new_compatible_build_id=compatible(new_build_id="A1", existing_compatible_build_id="A"),
    )
    await session.update(
        "A1 with A, default",
        add_new_compatible_build_id=compatible(
            new_build_id="A1", existing_compatible_build_id="A", make_set_default=True
        ),
    )
    await session.update(
        "D1 with D",
        add_new_compatible_build_id=compatible(new_build_id="D1", existing_compatible_build_id="D"),
    )
    await session.update(
        "B1 with B, default",
        add_new_compatible_build_id=compatible(
            new_build_id="B1", existing_compatible_build_id="B", make_set_default=True
        ),
    )
    await session.sets("after adding")
    await session.update("promote within", promote_build_id_within_set="A")
    await session.update("promote set", promote_set_by_build_id="D")
    await session.sets("after promoting")
    await session.sets("newest two", max_sets=2)
    await session.update(
        "merge, unknown secondary", merge_sets=Merge(primary_set_build_id="A", secondary_set_build_id="9")
    )
    await session.update(
        "merge one set", merge_sets=Merge(primary_set_build_id="A", secondary_set_build_id="A1")
    )
    await session.update(
        "merge A and C", merge_sets=Merge(primary_set_build_id="A", secondary_set_build_id="C")
    )
    await session.sets("after merging A and C")
    await session.update(
        "merge into default", merge_sets=Merge(primary_set_build_id="B", secondary_set_build_id="D")
    )
    await session.sets("after merging into the default")


async def limits(session: Session, suffix: str) -> None:
    for index in range(11):
        await session.update(
            f"set {index}", queue=f"sets-{suffix}", add_new_build_id_in_new_default_set=f"s{index}"
        )
    await session.sets("ten sets", queue=f"sets-{suffix}")
    await session.update("first build ID", queue=f"ids-{suffix}", add_new_build_id_in_new_default_set="c0")
    for index in range(1, 101):
        operation = Compatible(new_build_id=f"c{index}", existing_compatible_build_id="c0")
        await session.update(
            f"build ID {index}", queue=f"ids-{suffix}", add_new_compatible_build_id=operation
        )


async def reachability(session: Session, suffix: str) -> None:
    other = f"b-{suffix}"
    await session.update("other queue Z", queue=other, add_new_build_id_in_new_default_set="Z")
    await session.update("other queue A", queue=other, add_new_build_id_in_new_default_set="A")
    await session.reach("by build ID", build_ids=["A", "B", "D1", "nope"])
    await session.reach(
        "named queues", build_ids=["B", "A"], task_queues=[session.queue, other, f"c-{suffix}"]
    )
    await session.reach("new workflows only", build_ids=["B"], reachability=1)
    await session.reach("closed workflows only", build_ids=["A"], reachability=4)
    await session.reach("unversioned", build_ids=[""], task_queues=[session.queue, f"c-{suffix}"])
    await session.reach("unversioned, no queue", build_ids=[""])
    await session.reach("no build ID")
    await session.reach("six build IDs", build_ids=list("abcdef"))
    await session.reach("long build ID", build_ids=["x" * 256])
    await session.reach("unknown type", build_ids=["A"], reachability=9)
    await session.reach("empty queue name", build_ids=["A"], task_queues=[""])
    await session.reach("unknown type, empty queue name", build_ids=["A"], reachability=9, task_queues=[""])
    await session.reach(
        "unknown type, long queue name", build_ids=["A"], reachability=9, task_queues=["q" * 1001]
    )
    await session.reach("unversioned and long", build_ids=["", "x" * 256])
    await session.reach("unversioned, empty queue name", build_ids=[""], task_queues=[""])
    await session.reach("thirty queues", build_ids=["A"], task_queues=[f"t{i}" for i in range(30)])


async def observe(client: Client) -> dict[str, Any]:
    suffix = uuid.uuid4().hex[:8]
    session = Session(client, f"a-{suffix}")
    await refusals_on_empty_queue(session)
    await changes(session)
    await limits(session, suffix)
    await reachability(session, suffix)
    seen: dict[str, Any] = {name: text.replace(suffix, "*") for name, text in session.seen.items()}
    seen["sdk"] = await sdk_sequence(client, f"sdk-{suffix}")
    seen["sdk"] = [str(item).replace(suffix, "*") for item in seen["sdk"]]
    return seen


async def test_version_sets_answer_as_real_temporal(
    versioning_cadenza: Client, versioning_temporal: Client
) -> None:
    cadenza, temporal = await observe(versioning_cadenza), await observe(versioning_temporal)
    assert cadenza == temporal
