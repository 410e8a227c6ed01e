"""What a run shows to listing and filtering: its search attributes and memo, kept current."""

from __future__ import annotations

import json

from temporalio.api.common.v1 import Memo, Payload, SearchAttributes
from temporalio.api.enums.v1 import WorkflowExecutionStatus

from cadenza.history.machine.encoded import decode_blob, encode_blob
from cadenza.history.machine.state import MutableState
from cadenza.persistence.records import Visibility
from cadenza.protoutil import keyword_payload
from cadenza.visibility import attributes as attrs

_TYPES_BY_NAME = {name: kind for kind, name in attrs.TYPE_NAMES.items()}
BUILD_IDS = "BuildIds"
PAUSE_INFO = "TemporalPauseInfo"
PAUSED = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_PAUSED


def shown_status(state: MutableState) -> int:
    """The status clients see, in listings and descriptions: a paused run is shown PAUSED,
    though it is running."""
    return PAUSED if state.paused else state.status


def upsert_search_attributes(state: MutableState, upsert: SearchAttributes) -> None:
    """Apply an upsert; a ``binary/null`` value removes the attribute, as in Temporal."""
    for name, payload in upsert.indexed_fields.items():
        if attrs.decode(payload) is None:
            state.search_attributes.pop(name, None)
        else:
            state.search_attributes[name] = encode_blob(payload.SerializeToString())


def record_build_id(state: MutableState, build_id: str, versioned: bool, deployed: bool = False) -> None:
    """Add the worker's build to the run's ``BuildIds``, as Temporal lists the builds that
    completed its workflow tasks: ``unversioned`` and ``unversioned:<id>`` for a worker
    without versioning, ``versioned:<id>`` for one with it; a worker of a Worker Deployment
    version (``deployed``) adds only ``unversioned:<id>``."""
    wanted = [f"versioned:{build_id}"] if versioned else ([] if deployed else ["unversioned"])
    if build_id and not versioned:
        wanted.append(f"unversioned:{build_id}")
    add_keywords(state, BUILD_IDS, wanted)


def add_keywords(state: MutableState, name: str, items: list[str], first: bool = False) -> None:
    """Add the ``items`` a server-set keyword-list attribute lacks, in order (before the
    others if ``first``)."""
    blob = state.search_attributes.get(name)
    listed: list[str] = json.loads(Payload.FromString(decode_blob(blob)).data) if blob else []
    added = [item for item in items if item not in listed]
    if added:
        payload = Payload(
            metadata={"encoding": b"json/plain", "type": b"KeywordList"},
            data=json.dumps(added + listed if first else listed + added, separators=(",", ":")).encode(),
        )
        state.search_attributes[name] = encode_blob(payload.SerializeToString())


def set_keyword(state: MutableState, name: str, value: str) -> None:
    """Set a server-set keyword attribute (Temporal's Worker Deployment attributes, say)."""
    payload = keyword_payload(value)
    state.search_attributes[name] = encode_blob(payload.SerializeToString())


def record_pause_info(state: MutableState) -> None:
    """Keep ``TemporalPauseInfo`` as Temporal does: ``Workflow:<id>`` and ``Reason:<reason>``
    while the run is paused, ``property:activityType=<type>`` for each type of paused
    activity; gone when nothing is paused."""
    entries: list[str] = []
    if state.paused:
        entries.append(f"Workflow:{state.workflow_id}")
        if state.pause.get("reason"):
            entries.append(f"Reason:{state.pause['reason']}")
    paused_types = dict.fromkeys(a.activity_type for a in state.activities.values() if a.paused)
    entries.extend(f"property:activityType={activity_type}" for activity_type in paused_types)
    if not entries:
        state.search_attributes.pop(PAUSE_INFO, None)
        return
    payload = Payload(
        metadata={"encoding": b"json/plain", "type": b"KeywordList"},
        data=json.dumps(entries, separators=(",", ":")).encode(),
    )
    state.search_attributes[PAUSE_INFO] = encode_blob(payload.SerializeToString())


def current_search_attributes(state: MutableState) -> SearchAttributes:
    """The run's search attributes as they stand, each value as it was given (typed)."""
    current = SearchAttributes()
    for name, blob in state.search_attributes.items():
        current.indexed_fields[name].CopyFrom(Payload.FromString(decode_blob(blob)))
    return current


def upsert_memo(state: MutableState, upsert: Memo) -> None:
    memo = Memo.FromString(decode_blob(state.memo)) if state.memo else Memo()
    for name, payload in upsert.fields.items():
        if payload.metadata.get("encoding") == b"binary/null":
            memo.fields.pop(name, None)
        else:
            memo.fields[name].CopyFrom(payload)
    state.memo = encode_blob(memo.SerializeToString())


def snapshot(state: MutableState) -> Visibility:
    payloads = current_search_attributes(state)
    values: dict[str, object] = {}
    for name, payload in payloads.indexed_fields.items():
        kind = _TYPES_BY_NAME.get(attrs.payload_type(payload), attrs.SYSTEM_CUSTOM.get(name, 0))
        try:
            values[name] = attrs.stored_value(kind, attrs.decode(payload))
        except Exception:  # an unreadable value is listed but cannot be filtered on
            continue
    values.update(system_values(state))
    return Visibility(
        execution_time=state.execution_time or state.start_time,
        history_length=state.next_event_id - 1,
        search_attributes=json.dumps(values),
        search_attribute_payloads=payloads.SerializeToString(),
        memo=decode_blob(state.memo) if state.memo else b"",
    )


def system_values(state: MutableState) -> dict[str, object]:
    """The run's own facts Temporal keeps in visibility under system attribute names.

    Listings show them and filters match on them. As on Temporal, the counters a run
    only has once it closed (history size, state transitions) are recorded at close.
    """
    root_workflow_id, root_run_id = state.root
    values: dict[str, object] = {attrs.ROOT_WORKFLOW_ID: root_workflow_id, attrs.ROOT_RUN_ID: root_run_id}
    if state.parent is not None:
        values[attrs.PARENT_WORKFLOW_ID] = state.parent.workflow_id
        values[attrs.PARENT_RUN_ID] = state.parent.run_id
    if not state.running:
        values[attrs.HISTORY_SIZE_BYTES] = state.history_size
        values[attrs.STATE_TRANSITION_COUNT] = state.state_transitions
    return values
