"""Persistence metrics: every store call counted and timed, by the store method it is.

The wrapper stands in for the store: each coroutine method is wrapped the first
time it is looked up and kept, so later calls cost one attribute lookup and the
recording; sync methods and attributes pass through untouched. ``operation`` is
the method's name in Temporal's style (``commit`` is ``Commit``), and a commit
that waited for a group commit is timed with its wait, as a caller sees it. As in
Temporal, ``persistence_errors`` leaves out a lost condition and a refused write
(an ID taken, a namespace missing): only a store that failed counts.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

from cadenza.exceptions import CadenzaError, ConcurrentUpdateError
from cadenza.metrics.families import Families
from cadenza.persistence.store import Store

SERVICE_NAME = "history"
"""The ``service_name`` of store metrics: the role that makes nearly all of Cadenza's store calls."""
UNKNOWN_NAMESPACE = "_unknown_"
"""Store calls are not labelled by namespace (Temporal's label for a call it cannot place)."""


def instrumented(store: Store, families: Families) -> Store:
    """``store`` with its calls recorded in ``persistence_requests``, ``_errors`` and ``_latency``."""
    return cast(Store, _InstrumentedStore(store, families))


def operation_name(method: str) -> str:
    """``load_execution`` as Temporal names operations: ``LoadExecution``."""
    return "".join(part.capitalize() for part in method.split("_"))


class _InstrumentedStore:
    def __init__(self, store: Store, families: Families) -> None:
        self._store = store
        self._families = families

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute
        timed = self._timed(operation_name(name), attribute)
        setattr(self, name, timed)
        return timed

    def _timed(self, operation: str, call: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        f = self._families
        labels = (SERVICE_NAME, operation, UNKNOWN_NAMESPACE)
        requests = f.persistence_requests.labels(*labels)
        errors = f.persistence_errors.labels(*labels)
        latency = f.persistence_latency.labels(*labels)

        async def timed(*args: Any, **kwargs: Any) -> Any:
            requests.inc()
            started = time.perf_counter()
            try:
                return await call(*args, **kwargs)
            except (CadenzaError, ConcurrentUpdateError):
                raise  # a lost condition or a refused write: the store worked as it should
            except Exception:
                errors.inc()
                raise
            finally:
                latency.observe(time.perf_counter() - started)

        timed.__name__ = call.__name__
        return timed
