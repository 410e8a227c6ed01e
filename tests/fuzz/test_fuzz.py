"""Every served RPC, fed hostile requests: each gets a clear answer, and the server and its
data come through unharmed.

``CADENZA_FUZZ_EXAMPLES`` sets the requests per RPC (a fixed, derandomized budget in CI;
raise it for a longer run); ``CADENZA_FUZZ_REPORT`` names a file that receives every
finding, grouped by RPC.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from hypothesis import HealthCheck, Phase, given, settings

from tests.fuzz.checks import PING_TIMEOUT, Findings, report, send, trouble
from tests.fuzz.rpcs import Rpc, served_rpcs
from tests.fuzz.seeds import SPARE_NAMESPACE, ping
from tests.fuzz.strategies import Case, Known, Made, cases, targeted_cases
from tests.fuzz.target import FuzzTarget

EXAMPLES = int(os.environ.get("CADENZA_FUZZ_EXAMPLES", "40"))
MAX_STALLS_PER_RPC = 2
"""After this many requests that stopped the server, the RPC's remaining cases are skipped:
each costs a restart, and the report already has the defect."""
SERVED = served_rpcs()


@pytest.fixture(scope="module")
def findings() -> Iterator[Findings]:
    found = Findings()
    yield found
    if path := os.environ.get("CADENZA_FUZZ_REPORT"):
        Path(path).write_text(f"{found.sent} requests\n{report(found.by_key.values())}\n")


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    fuzzed = FuzzTarget(tmp_path_factory.mktemp("fuzz"))
    yield fuzzed
    fuzzed.stop()


def _aim(target: FuzzTarget, rpc: Rpc, known: Known) -> None:
    """Fresh targets on the current server. Calls that change a namespace get the spare one;
    calls that answer an activity get one still open, for most requests."""
    seeder = target.current.seeder
    seeder.ensure_spare_namespace()
    known.pools = seeder.targets(rpc.name.lower()).pools
    if rpc.touches_namespaces:
        known.pools["namespace"] = [SPARE_NAMESPACE]
    if "ActivityTask" in rpc.name:
        known.pools["task_token"] = [Made(lambda: seeder.open_activity()[1]), *known.pools["task_token"]]
        known.pools["workflow_id"] = [Made(lambda: seeder.open_activity()[0]), *known.pools["workflow_id"]]


def test_served_rpcs_come_from_the_servicers() -> None:
    names = {rpc.name for rpc in SERVED}
    assert {"GetSystemInfo", "StartWorkflowExecution", "PatchSchedule", "AddSearchAttributes"} <= names
    assert "CreateWorkflowRule" not in names  # answered UNIMPLEMENTED


@pytest.mark.timeout(60 + EXAMPLES * 3)
@pytest.mark.parametrize("rpc", SERVED, ids=str)
def test_hostile_requests_get_clear_answers(rpc: Rpc, target: FuzzTarget, findings: Findings) -> None:
    if not ping(target.channel, PING_TIMEOUT):
        target.restart()
    known = Known()
    _aim(target, rpc, known)
    stalls: list[Case] = []

    def exercise(case: Case) -> None:
        if len(stalls) >= MAX_STALLS_PER_RPC:
            return
        answer = send(target.channel, case)
        findings.sent += 1
        problem = trouble(case, answer)
        if answer.code in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE) and not ping(
            target.channel, PING_TIMEOUT
        ):
            findings.add(case, "server stopped answering", f"{answer.code.name}: {case.summary()}")
            stalls.append(case)
            target.restart()
            _aim(target, rpc, known)
        elif problem:
            findings.add(case, *problem)

    for case in targeted_cases(rpc, known):
        exercise(case)
    settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )(given(cases(rpc, known))(exercise))()
    assert ping(target.channel, PING_TIMEOUT), "the server stopped answering after the batch"
    damage = target.current.seeder.check(target.current.witnesses)
    if damage:
        findings.add_damage(rpc.name, damage)
        target.replace(f"after {rpc.name}: {damage}")
    found = findings.of(rpc.name)
    assert not found, "\n" + report(found)


def test_earlier_data_unchanged_and_listable(target: FuzzTarget) -> None:
    """Checked after every RPC's batch too; a damaged file was left for a fresh one."""
    assert target.current.seeder.check(target.current.witnesses) == []
    assert target.damaged == []


def test_databases_intact(target: FuzzTarget) -> None:
    checked = target.stop()
    assert all(result in ("ok", "") for result in checked.values()), checked
