"""What the rate limits keep between calls to stay cheap: the rates the settings give, read once
per settings, and no wrapper at all around an RPC that no limit counts."""

from __future__ import annotations

from typing import Any

from cadenza.api.rate_limiting import RateLimiting
from cadenza.api.server import OPERATOR_SERVICE, WORKFLOW_SERVICE
from cadenza.quotas.classes import HISTORY_LONG_POLL, LONG_RUNNING, RPCS, ever_limited
from cadenza.quotas.limiter import NAMESPACE_RATE, SERVER_RATE, Call, Quotas
from cadenza.quotas.settings import Entry, QuotaSettings, from_pairs


class StoppedClock:
    def now(self) -> float:
        return 1000.0


def test_a_rate_already_read_gives_way_to_a_changed_file_at_once() -> None:
    limits = Quotas(from_pairs(["frontend.namespaceRPS=1000"], "test"), clock=StoppedClock())
    start = Call("StartWorkflowExecution", "a")
    assert limits.refusal(start) is None
    limits.apply_file(QuotaSettings(({"frontend.namespaceRPS": [Entry(0, namespace="a")]},)))
    assert [limits.refusal(start) for _ in range(2)] == [None, NAMESPACE_RATE]
    limits.apply_file(QuotaSettings(({"frontend.rps": [Entry(0)]},)))
    # Namespace "a" is back at the flags' rate (its bucket refills on the clock, which stands
    # still here); the server's rate is the file's now, so "b" gets one call through.
    assert [limits.refusal(Call("StartWorkflowExecution", "b")) for _ in range(2)] == [None, SERVER_RATE]


def test_each_namespace_keeps_its_own_rate() -> None:
    pairs = ['frontend.namespaceRPS=[{"value":0,"constraints":{"namespace":"a"}}]']
    limits = Quotas(from_pairs(pairs, "test"), clock=StoppedClock())
    assert [limits.refusal(Call("SignalWorkflowExecution", "a")) for _ in range(2)] == [None, NAMESPACE_RATE]
    assert all(limits.refusal(Call("SignalWorkflowExecution", "b")) is None for _ in range(50))


async def handler(_request: Any, _context: Any) -> None:
    return None


def test_only_the_rpcs_a_limit_counts_are_wrapped() -> None:
    wrap = RateLimiting(Quotas(QuotaSettings())).wrap
    assert wrap(WORKFLOW_SERVICE, "RegisterNamespace", handler) is handler
    assert wrap(OPERATOR_SERVICE, "AddSearchAttributes", handler) is handler
    for counted in ("StartWorkflowExecution", "ListWorkflowExecutions", "GetWorkflowExecutionHistory"):
        assert wrap(WORKFLOW_SERVICE, counted, handler) is not handler


def test_every_rpc_with_a_rate_or_a_waiting_count_is_limited() -> None:
    assert all(ever_limited(rpc) for rpc in (*RPCS, *LONG_RUNNING))
    assert ever_limited(HISTORY_LONG_POLL) and not ever_limited("UpdateNamespace")
