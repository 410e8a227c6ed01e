"""A task queue's version sets are durable: a restarted server reads them as they were left,
and serves them only while ``frontend.workerVersioningDataAPIs`` is set. Runs on PostgreSQL too
when ``CADENZA_TEST_DB`` names one."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import (
    BuildIdOpAddNewCompatible,
    BuildIdOpAddNewDefault,
    BuildIdOpMergeSets,
    Client,
    TaskReachabilityType,
)
from temporalio.service import RPCError, RPCStatusCode

from tests import servers

DATA_APIS = {"frontend.workerVersioningDataAPIs": "true"}


async def test_version_sets_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "cadenza.db"
    async with servers.in_process(db, dynamic_config=DATA_APIS) as server:
        client = await Client.connect(server.address)
        await client.update_worker_build_id_compatibility("q", BuildIdOpAddNewDefault("1.0"))
        await client.update_worker_build_id_compatibility("q", BuildIdOpAddNewCompatible("1.1", "1.0"))
        await client.update_worker_build_id_compatibility("q", BuildIdOpAddNewDefault("2.0"))
        await client.update_worker_build_id_compatibility("q", BuildIdOpMergeSets("1.1", "2.0"))
        await client.update_worker_build_id_compatibility("other", BuildIdOpAddNewDefault("1.0"))

    async with servers.in_process(db, dynamic_config=DATA_APIS) as server:
        client = await Client.connect(server.address)
        sets = await client.get_worker_build_id_compatibility("q")
        assert [list(s.build_ids) for s in sets.version_sets] == [["1.0", "2.0", "1.1"]]
        reachability = await client.get_worker_task_reachability(["1.0", "1.1"])
        assert {
            b: dict(r.task_queue_reachability) for b, r in reachability.build_id_reachability.items()
        } == {
            "1.0": {"other": [TaskReachabilityType.NEW_WORKFLOWS], "q": []},
            "1.1": {"q": [TaskReachabilityType.NEW_WORKFLOWS]},
        }

    async with servers.in_process(db) as server:  # the data API off again: refused as before
        client = await Client.connect(server.address)
        with pytest.raises(RPCError) as refused:
            await client.get_worker_build_id_compatibility("q")
        assert refused.value.status == RPCStatusCode.PERMISSION_DENIED


async def test_a_refused_change_leaves_the_sets_as_they_were() -> None:
    limits = {**DATA_APIS, "limit.versionCompatibleSetLimitPerQueue": 2}
    async with servers.in_process(dynamic_config=limits) as server:
        client = await Client.connect(server.address)
        await client.update_worker_build_id_compatibility("q", BuildIdOpAddNewDefault("1"))
        await client.update_worker_build_id_compatibility("q", BuildIdOpAddNewDefault("2"))
        with pytest.raises(RPCError) as refused:
            await client.update_worker_build_id_compatibility("q", BuildIdOpAddNewDefault("3"))
        assert refused.value.status == RPCStatusCode.FAILED_PRECONDITION
        assert "(3/2)" in refused.value.message
        sets = await client.get_worker_build_id_compatibility("q")
        assert [list(s.build_ids) for s in sets.version_sets] == [["1"], ["2"]]
