"""The limits themselves: rates per namespace, per principal and for the server, and long
polls waiting at once per namespace.

Checked in Temporal's order: the long polls waiting, then the rates (the principal's,
the namespace's, the server's), so a refused call spends no token of a wider limit.
Limits are read from the settings on every call, so new settings apply at once (the rates of
the namespaces and the server, which every call needs, are read once per settings).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from cadenza.clock import Clock
from cadenza.quotas.buckets import MonotonicClock, PriorityBuckets, Rate
from cadenza.quotas.classes import LONG_RUNNING, OPERATOR_PRIORITY, PRIORITIES, RPCS, RateClass
from cadenza.quotas.settings import QuotaSettings

MAX_BUCKETS = 10_000
"""Buckets kept at most; past it the least recently used are forgotten (a bucket that is
full again loses nothing by it)."""

UNKNOWN_NAMESPACE = "\0unknown"
"""Where calls naming a namespace this server has not loaded are counted, all together, so
made-up names cannot grow the buckets without end (such calls fail with NotFound anyway)."""

_RATE_KEYS = {
    RateClass.EXECUTION: (
        "frontend.namespaceRPS",
        "frontend.globalNamespaceRPS",
        "frontend.namespaceBurstRatio",
    ),
    RateClass.VISIBILITY: (
        "frontend.namespaceRPS.visibility",
        "frontend.globalNamespaceRPS.visibility",
        "frontend.namespaceBurstRatio.visibility",
    ),
}
SERVER_BURST_RATIO = 2.0
"""Temporal's burst for ``frontend.rps``: twice the rate."""


@dataclass(frozen=True)
class Refusal:
    """Why a call was refused, in Temporal's terms (``ResourceExhaustedFailure``)."""

    cause: str
    scope: str
    message: str


NAMESPACE_RATE = Refusal("RPS_LIMIT", "NAMESPACE", "namespace rate limit exceeded")
SERVER_RATE = Refusal("RPS_LIMIT", "SYSTEM", "service rate limit exceeded")
PRINCIPAL_RATE = Refusal("RPS_LIMIT", "NAMESPACE", "principal rate limit exceeded")
CONCURRENT_POLLS = Refusal("CONCURRENT_LIMIT", "NAMESPACE", "namespace concurrent poller limit exceeded")


@dataclass(frozen=True)
class Call:
    """What the limits look at in one call."""

    rpc: str
    """The RPC's name, ``PollWorkflowExecutionHistory`` for a history long poll."""
    namespace: str = ""
    principal: str | None = None
    """The caller's name; None for an anonymous one, whom only the other limits hold."""
    operator: bool = False
    """Sent ``caller-type: operator``, as Temporal's UI and CLI do."""


class Quotas:
    """Every limit of one server, with its buckets and long-poll counts."""

    def __init__(
        self,
        settings: QuotaSettings,
        known_namespace: Callable[[str], bool] = lambda _name: True,
        clock: Clock | None = None,
    ) -> None:
        self._base = settings
        self._settings = settings
        self._namespace_rates: dict[tuple[RateClass, str], Rate] = {}
        self._namespace_waits: dict[str, float] = {}
        self._server: Rate | None = None
        """The rates ``_settings`` give, kept until the settings change."""
        self._known = known_namespace
        self._clock = clock or MonotonicClock()
        self._buckets: OrderedDict[tuple[str, ...], PriorityBuckets] = OrderedDict()
        self._waiting: dict[tuple[str, str], int] = {}

    @property
    def settings(self) -> QuotaSettings:
        """Read on every call, so new settings change the limits at once."""
        return self._settings

    def apply_file(self, file_settings: QuotaSettings) -> None:
        """Take the dynamic-config file's settings, over those the server started with."""
        self._settings = file_settings.over(self._base)
        self._namespace_rates.clear()
        self._namespace_waits.clear()
        self._server = None

    def hold(self, call: Call) -> Callable[[], None]:
        """Count a long-running call as waiting until the returned function is called."""
        if call.rpc not in LONG_RUNNING:
            return _nothing
        key = (self._namespace(call.namespace), call.rpc)
        self._waiting[key] = self._waiting.get(key, 0) + 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                left = self._waiting[key] - 1
                if left:
                    self._waiting[key] = left
                else:
                    del self._waiting[key]

        return release

    def refusal(self, call: Call) -> Refusal | None:
        """Why ``call`` may not go on now (it has been counted by ``hold``), or None."""
        if call.rpc in LONG_RUNNING and self._over_waiting(call):
            return CONCURRENT_POLLS
        limited = RPCS.get(call.rpc)
        if limited is None:
            return None
        priority = OPERATOR_PRIORITY if call.operator else limited.priority
        namespace = self._namespace(call.namespace) if call.namespace else ""
        if namespace and call.principal is not None and not self._principal_allows(call, namespace, priority):
            return PRINCIPAL_RATE
        if namespace:
            rate = self._namespace_rate(limited.rate_class, call.namespace)
            if not self._take(
                ("namespace", limited.rate_class.value, namespace), limited.rate_class, priority, rate
            ):
                return NAMESPACE_RATE
        rate = self._server_rate()
        if not self._take(("server", limited.rate_class.value), limited.rate_class, priority, rate):
            return SERVER_RATE
        return None

    def _over_waiting(self, call: Call) -> bool:
        waiting = self._waiting.get((self._namespace(call.namespace), call.rpc), 0)
        # As on Temporal: refused only past the limit, not at it.
        return waiting > self._waiting_allowed(call.namespace)

    def _waiting_allowed(self, namespace: str) -> float:
        """How many long polls may wait on ``namespace``, read from the settings once per name."""
        allowed = self._namespace_waits.get(namespace)
        if allowed is None:
            allowed = self._setting("frontend.globalNamespaceCount", namespace) or self._setting(
                "frontend.namespaceCount", namespace
            )
            if len(self._namespace_waits) >= MAX_BUCKETS:  # made-up names must not grow it without end
                self._namespace_waits.clear()
            self._namespace_waits[namespace] = allowed
        return allowed

    def _principal_allows(self, call: Call, namespace: str, priority: int) -> bool:
        assert call.principal is not None
        per_second = self._setting("cadenza.principalRPS", call.namespace, call.principal)
        if not per_second:
            return True
        ratio = self._setting("cadenza.principalBurstRatio", call.namespace, call.principal)
        key = ("principal", call.principal, namespace)
        return self._take(key, RateClass.EXECUTION, max(priority, 1), Rate.with_ratio(per_second, ratio))

    def _namespace_rate(self, rate_class: RateClass, namespace: str) -> Rate:
        rate = self._namespace_rates.get((rate_class, namespace))
        if rate is None:
            per_instance, cluster, ratio = _RATE_KEYS[rate_class]
            per_second = self._setting(cluster, namespace) or self._setting(per_instance, namespace)
            rate = Rate.with_ratio(per_second, self._setting(ratio, namespace))
            if len(self._namespace_rates) >= MAX_BUCKETS:  # made-up names must not grow it without end
                self._namespace_rates.clear()
            self._namespace_rates[(rate_class, namespace)] = rate
        return rate

    def _server_rate(self) -> Rate:
        if self._server is None:
            per_second = self._setting("frontend.globalRPS") or self._setting("frontend.rps")
            self._server = Rate.with_ratio(per_second, SERVER_BURST_RATIO)
        return self._server

    def _setting(self, key: str, namespace: str = "", principal: str = "") -> float:
        return self._settings.value(key, namespace, principal)

    def _take(self, key: tuple[str, ...], rate_class: RateClass, priority: int, rate: Rate) -> bool:
        buckets = self._buckets.get(key)
        if buckets is None:
            buckets = self._buckets[key] = PriorityBuckets(self._clock, PRIORITIES[rate_class], rate)
            while len(self._buckets) > MAX_BUCKETS:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        deciding = None
        if priority == OPERATOR_PRIORITY:
            deciding = Rate(rate.per_second * self._setting("system.operatorRPSRatio"), rate.burst)
        return buckets.take(priority, rate, deciding)

    def _namespace(self, name: str) -> str:
        return name if self._known(name) else UNKNOWN_NAMESPACE


def _nothing() -> None:
    return None
