"""The metrics package's pure parts: the cardinality guard, Temporal's names, rendering."""

from __future__ import annotations

import pytest
from google.protobuf import any_pb2
from google.rpc import status_pb2
from temporalio.api.enums.v1 import TimeoutType
from temporalio.api.errordetails.v1 import NamespaceNotFoundFailure

from cadenza.config import ConfigError, from_env
from cadenza.metrics.guard import OTHER, LabelGuard
from cadenza.metrics.rpc import error_type
from cadenza.metrics.runs import timeout_type_name
from cadenza.metrics.service import Metrics
from cadenza.metrics.store import operation_name
from cadenza.metrics.tasks import StickyQueues
from tests.scrape import Scrape


def test_admitted_values_are_written_as_temporal_writes_label_values() -> None:
    guard = LabelGuard(5)
    assert guard("orders-eu.v2") == "orders_eu_v2"
    assert guard("Payments_1") == "Payments_1"


def test_the_guard_keeps_the_first_values_and_folds_the_rest() -> None:
    guard = LabelGuard(2)
    assert [guard(v) for v in ("a", "b", "c", "a", "d", "b")] == ["a", "b", OTHER, "a", OTHER, "b"]
    assert len(guard) == 2
    assert guard.folded == 2


def test_a_value_once_admitted_stays_admitted() -> None:
    guard = LabelGuard(1)
    assert guard("first") == "first"
    for i in range(1000):
        assert guard(f"later-{i}") == OTHER
    assert guard("first") == "first"
    assert len(guard) == 1


def test_a_client_cannot_take_a_slot_by_naming_a_value_other() -> None:
    guard = LabelGuard(1)
    assert guard(OTHER) == OTHER
    assert guard("real") == "real"


def test_a_limit_of_zero_folds_everything_and_a_negative_one_is_refused() -> None:
    guard = LabelGuard(0)
    assert guard("anything") == OTHER
    with pytest.raises(ValueError, match="cannot be negative"):
        LabelGuard(-1)


def test_names_follow_temporal() -> None:
    assert operation_name("load_execution") == "LoadExecution"
    assert operation_name("commit") == "Commit"
    assert timeout_type_name(TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE) == "StartToClose"
    assert timeout_type_name(TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE) == "ScheduleToClose"
    assert timeout_type_name(TimeoutType.TIMEOUT_TYPE_HEARTBEAT) == "Heartbeat"
    assert timeout_type_name(9999) == "9999"


class _Ended:
    """What a handler's gRPC context says once the call has ended."""

    def __init__(self, trailers: tuple[tuple[str, bytes], ...] = ()) -> None:
        self._trailers = trailers

    def trailing_metadata(self) -> tuple[tuple[str, bytes], ...]:
        return self._trailers


def test_an_error_type_is_named_by_its_temporal_detail_else_by_its_code() -> None:
    detail = any_pb2.Any()
    detail.Pack(NamespaceNotFoundFailure(namespace="x"))
    status = status_pb2.Status(code=5, message="Namespace x is not found.", details=[detail])
    with_detail = _Ended((("grpc-status-details-bin", status.SerializeToString()),))
    assert error_type("NOT_FOUND", with_detail) == "serviceerror_NamespaceNotFound"
    assert error_type("NOT_FOUND", _Ended()) == "serviceerror_NotFound"
    assert error_type("UNAVAILABLE", _Ended()) == "serviceerror_Unavailable"
    assert error_type("SOMETHING_NEW", _Ended()) == "serviceerror_Unknown"
    broken = _Ended((("grpc-status-details-bin", b"\xff\xff"),))
    assert error_type("INTERNAL", broken) == "serviceerror_Internal"


def test_sticky_queues_count_as_their_normal_queue() -> None:
    sticky = StickyQueues()
    sticky.learn("host-1-abc", "orders")
    assert sticky.partition("host-1-abc") == ("orders", "__sticky__")
    assert sticky.partition("orders") == ("orders", "0")


def test_each_metrics_object_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.families.service_requests.labels("frontend", "StartWorkflowExecution", "default").inc()
    assert Scrape(first.render()[0]).value("service_requests") == 1
    assert Scrape(second.render()[0]).value("service_requests") == 0


def test_render_speaks_openmetrics_when_asked() -> None:
    metrics = Metrics()
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain; version=0.0.4")
    # Temporal's counters under their bare names, as Temporal's dashboards query them.
    assert b"# TYPE service_requests untyped" in body
    assert b"# TYPE cadenza_metric_label_values_folded_total counter" not in body  # not watching yet
    assert b"service_latency_created" not in body
    body, content_type = metrics.render("application/openmetrics-text; version=1.0.0")
    assert content_type.startswith("application/openmetrics-text")
    assert body.endswith(b"# EOF\n")


def test_recording_off_renders_an_empty_page() -> None:
    metrics = Metrics(enabled=False)
    assert metrics.render()[0] == b""
    assert metrics.on_committed is None
    assert metrics.on_timer_fired is None


def test_recording_and_the_label_limit_are_read_from_the_environment() -> None:
    assert from_env({}).metrics is True
    assert from_env({"CADENZA_METRICS": "false"}).metrics is False
    assert from_env({"CADENZA_METRICS": "On"}).metrics is True
    assert from_env({"CADENZA_METRICS_LABEL_LIMIT": "7"}).metrics_label_limit == 7
    with pytest.raises(ConfigError, match="CADENZA_METRICS: 'maybe' is not one of 1, true"):
        from_env({"CADENZA_METRICS": "maybe"})
    with pytest.raises(ConfigError, match="CADENZA_METRICS_LABEL_LIMIT -1 is negative"):
        from_env({"CADENZA_METRICS_LABEL_LIMIT": "-1"})
