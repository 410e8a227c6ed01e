"""A listed run's WorkflowExecutionInfo is the one protobuf's own conversions build from its
visibility row: times, duration, memo, search attributes and the system values recorded at close,
for open and closed runs and rows whose JSON only json reads."""

from __future__ import annotations

import json
import random

from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.common.v1 import Memo, Payload, SearchAttributes, WorkflowExecution, WorkflowType
from temporalio.api.workflow.v1 import WorkflowExecutionInfo

from cadenza.history.machine import events as ev
from cadenza.persistence.records import ListedExecution
from cadenza.visibility import service
from cadenza.visibility.service import _fill_system_values


def protobuf_timestamp(seconds: float) -> Timestamp:
    stamp = Timestamp()
    stamp.FromNanoseconds(int(min(max(seconds, ev.TIMESTAMP_MIN), ev.TIMESTAMP_MAX) * 1e9))
    return stamp


def expected_info(row: ListedExecution) -> WorkflowExecutionInfo:
    info = WorkflowExecutionInfo(
        execution=WorkflowExecution(workflow_id=row.workflow_id, run_id=row.run_id),
        type=WorkflowType(name=row.workflow_type),
        status=row.status,  # type: ignore[arg-type]
        history_length=row.history_length,
        task_queue=row.task_queue,
        memo=Memo.FromString(row.memo),
        search_attributes=SearchAttributes.FromString(row.search_attribute_payloads),
    )
    info.start_time.CopyFrom(protobuf_timestamp(row.start_time))
    info.execution_time.CopyFrom(protobuf_timestamp(row.execution_time or row.start_time))
    if row.close_time:
        info.close_time.CopyFrom(protobuf_timestamp(row.close_time))
        start = protobuf_timestamp(row.execution_time or row.start_time)
        info.execution_duration.FromNanoseconds(
            protobuf_timestamp(row.close_time).ToNanoseconds() - start.ToNanoseconds()
        )
    _fill_system_values(info, json.loads(row.search_attributes or "{}"))
    return info


SYSTEM_VALUES = [
    "",
    "{}",
    '{"RootWorkflowId": "root", "RootRunId": "r1", "HistorySizeBytes": 249, "StateTransitionCount": 2}',
    '{"ParentWorkflowId": "p\\u00e9re", "ParentRunId": "r0", "CustomDouble": NaN, "HistorySizeBytes": 9}',
    '{"HistorySizeBytes": 1.5, "StateTransitionCount": 9223372036854775807, "CustomInt": -7}',
]


def rows() -> list[ListedExecution]:
    draw = random.Random(18)
    memo = Memo(
        fields={"note": Payload(metadata={"encoding": b"json/plain"}, data=b'"hi"')}
    ).SerializeToString()
    found = []
    for index in range(400):
        start = draw.choice(
            [0.0, 1e-9, draw.uniform(1.6e9, 1.9e9), draw.uniform(ev.TIMESTAMP_MIN, ev.TIMESTAMP_MAX)]
        )
        close = draw.choice([None, 0.0, start + draw.uniform(0, 1e5)])
        found.append(
            ListedExecution(
                workflow_id=f"wf-{index}",
                run_id=f"run-{index}",
                workflow_type="T",
                task_queue="q",
                status=draw.randint(1, 7),
                start_time=start,
                close_time=close,
                execution_time=draw.choice([0.0, start + 2.5]),
                history_length=draw.randint(0, 5000),
                search_attribute_payloads=b"",
                memo=draw.choice([b"", memo]),
                search_attributes=SYSTEM_VALUES[index % len(SYSTEM_VALUES)],
            )
        )
    return found


def test_a_listed_run_is_built_as_protobuf_builds_it() -> None:
    for row in rows():
        built = service._info(row)
        expected = expected_info(row)
        assert built == expected, row
        assert built.SerializeToString(deterministic=True) == expected.SerializeToString(deterministic=True)
