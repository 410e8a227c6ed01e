"""The API's hooks, and the tracer they report to: ``observed`` where each RPC enters,
``about_run`` where a request is found to be about a run, ``dispatching`` where a poll hands
a task over and ``eager_dispatching`` where a workflow task's answer hands activities over.

Tracing is off unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or its traces-only form) is set;
off, OpenTelemetry is never imported and each hook costs one check of a module attribute.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from cadenza.config import ConfigError
from cadenza.observability.scope import RequestScope, current
from cadenza.persistence.records import TaskRecord

R = TypeVar("R")

Handler = Callable[[Any, Any], Awaitable[Any]]
"""A servicer method as the gRPC server calls it: (request, grpc context)."""


class Tracer(Protocol):
    """What the hooks report to while tracing is on (``cadenza.observability.otel``)."""

    def rpc_span(self, service: str, scope: RequestScope, context: Any) -> AbstractContextManager[None]:
        """The span of one RPC, current while it is served; it continues the caller's trace."""

    def task_dispatched(
        self, task: TaskRecord, started_ns: int, response: object, error: BaseException | None
    ) -> None:
        """Record the span of a task handed to a worker, from ``started_ns`` until now."""

    def activity_handed_over(self, task: Any, started_ns: int) -> None:
        """Record the span of an activity task handed over in a workflow task's answer (eager
        dispatch): ``task`` is its ``PollActivityTaskQueueResponse``."""

    def shutdown(self) -> None:
        """Send the spans not yet exported, then stop exporting."""


@dataclass
class _Tracing:
    tracer: Tracer | None = None


_tracing = _Tracing()


def use_tracer(tracer: Tracer | None) -> None:
    """Report every RPC and task dispatch of this process to ``tracer``; None turns tracing off."""
    _tracing.tracer = tracer


def observed(service: str, rpc: str, handler: Handler) -> Handler:
    """``handler`` serving within its request's scope, and its span when tracing is on."""

    async def observed_rpc(request: Any, context: Any) -> Any:
        scope = RequestScope(rpc, request)
        token = current.set(scope)
        try:
            tracer = _tracing.tracer
            if tracer is None:
                return await handler(request, context)
            with tracer.rpc_span(service, scope, context):
                return await handler(request, context)
        finally:
            current.reset(token)

    observed_rpc.__name__ = observed_rpc.__qualname__ = rpc
    return observed_rpc


def about_run(workflow_id: str, run_id: str) -> None:
    """The request being served turned out to be about this run: its later lines name it."""
    scope = current.get()
    if scope is not None:
        scope.names_run(workflow_id, run_id)


def dispatching(task: TaskRecord, deliver: Callable[[TaskRecord], Awaitable[R]]) -> Awaitable[R]:
    """``deliver(task)``: the poll hands ``task`` to its worker. The request's later log lines
    name the task's run, and with tracing on the hand-over is a span of its own."""
    about_run(task.workflow_id, task.run_id)
    tracer = _tracing.tracer
    if tracer is None:
        return deliver(task)
    return _traced_dispatch(tracer, task, deliver)


async def _traced_dispatch(
    tracer: Tracer, task: TaskRecord, deliver: Callable[[TaskRecord], Awaitable[R]]
) -> R:
    started = time.time_ns()
    try:
        response = await deliver(task)
    except BaseException as error:
        tracer.task_dispatched(task, started, None, error)
        raise
    tracer.task_dispatched(task, started, response, None)
    return response


def eager_dispatching(completing: Awaitable[R]) -> Awaitable[R]:
    """``completing``, a workflow task's completion; with tracing on, each activity task its
    answer hands over (eager dispatch) is a span, as if a poll had handed it over."""
    tracer = _tracing.tracer
    if tracer is None:
        return completing
    return _traced_eager_dispatch(tracer, completing)


async def _traced_eager_dispatch(tracer: Tracer, completing: Awaitable[R]) -> R:
    started = time.time_ns()
    response = await completing
    for task in getattr(response, "activity_tasks", ()):
        tracer.activity_handed_over(task, started)
    return response


TRACES_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


def tracer_from_env(env: Mapping[str, str]) -> Tracer | None:
    """The tracer the OpenTelemetry variables ask for: None unless an OTLP endpoint is set
    (and ``OTEL_SDK_DISABLED`` is not ``true``); a clear error if the ``otel`` extra is missing."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    variable = next((name for name in TRACES_ENDPOINT_VARIABLES if env.get(name)), None)
    if variable is None:
        return None
    # Imported here, and only here, so that a server without tracing never loads OpenTelemetry.
    try:
        from cadenza.observability import otel
    except ImportError as exc:
        raise ConfigError(
            f"{variable} is set but OpenTelemetry is not installed: pip install 'cadenza[otel]' ({exc})"
        ) from exc
    return otel.exporting_tracer(env)
