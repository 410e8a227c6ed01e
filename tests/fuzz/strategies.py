"""Requests to one RPC, built from its protobuf descriptor: Hypothesis strategies for the
random ones, and a list of targeted ones.

Each case starts from a valid request aimed at real data (the namespace ``default``, the
seeded workflows, schedule and task tokens) and changes one field, however deep, to a
hostile value; or it is a body that does not decode at all. So requests get past the
namespace lookup and reach the code behind it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import message_factory
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message
from hypothesis import strategies as st
from temporalio.api.enums.v1 import CommandType
from temporalio.api.schedule.v1 import BackfillRequest, ScheduleSpec
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.protoutil import is_repeated
from tests.fuzz import values, wire
from tests.fuzz.rpcs import Rpc

LEAF_MESSAGES = frozenset(
    {
        "google.protobuf.Duration",
        "google.protobuf.Timestamp",
        "google.protobuf.Any",
        "temporal.api.common.v1.Payload",
        "temporal.api.common.v1.Payloads",
        "temporal.api.failure.v1.Failure",
        "temporal.api.common.v1.SearchAttributes",
        "temporal.api.common.v1.Memo",
        "temporal.api.common.v1.Header",
    }
)
"""Messages changed as a whole, with values that mean something for them."""

MAX_DEPTH = 5
TARGETED_DEPTH = 3
COMMAND = "temporal.api.command.v1.Command"

Pick = Callable[[Sequence[Any]], Any]
"""Chooses one of several real values: Hypothesis's draw, or the first for targeted cases."""


@dataclass(frozen=True)
class Made:
    """A value made anew for each request that uses it: a name nothing has yet (``new``), so
    a start or create is not stopped by the one before; or a task still open, so a request
    answering it is not stopped by one that answered it already."""

    make: Callable[[], str | bytes]
    new: bool = False


_fresh_numbers = itertools.count()


def fresh(prefix: str) -> Made:
    return Made(lambda: f"{prefix}-{next(_fresh_numbers)}", new=True)


Pooled = str | bytes | Made


@dataclass
class Known:
    """Real values on the server under test, by the field name (or ``Message.field``) they fill."""

    pools: dict[str, list[Pooled]] = field(default_factory=dict)

    def pool(self, descriptor: Any, field_name: str) -> list[Pooled] | None:
        return self.pools.get(f"{descriptor.name}.{field_name}") or self.pools.get(field_name)

    def has_fresh(self, descriptor: Any) -> bool:
        """Whether a field of this message can take a fresh name."""
        return any(
            isinstance(value, Made) and value.new
            for fd in descriptor.fields
            for value in self.pool(descriptor, fd.name) or []
        )


def _real(value: Pooled) -> str | bytes:
    return value.make() if isinstance(value, Made) else value


@dataclass(frozen=True)
class Case:
    """One request: the RPC, what was changed, and the bytes sent."""

    rpc: Rpc
    changed: str
    value: str
    body: bytes
    aimed_at: str

    def summary(self) -> str:
        return f"{self.rpc.name}({self.aimed_at}) with {self.changed} = {self.value}"


def _schedule_spec() -> Message:
    spec = ScheduleSpec()
    spec.interval.add().interval.FromSeconds(3600)
    return spec


def _backfill() -> Message:
    backfill = BackfillRequest()
    backfill.start_time.FromSeconds(1_700_000_000)
    backfill.end_time.FromSeconds(1_700_003_600)
    return backfill


def _matching_times() -> Message:
    request = wsv1.ListScheduleMatchingTimesRequest()
    request.start_time.FromSeconds(1_700_000_000)
    request.end_time.FromSeconds(1_700_086_400)
    return request


TEMPLATES = {
    "temporal.api.schedule.v1.ScheduleSpec": _schedule_spec,
    "temporal.api.schedule.v1.BackfillRequest": _backfill,
    "temporal.api.workflowservice.v1.ListScheduleMatchingTimesRequest": _matching_times,
}
"""What a valid request needs beyond the seeded names."""


def _fill(pick: Pick, message: Message, known: Known, depth: int) -> None:
    """Set the fields a real value exists for, recursing into singular messages (only the
    first member of a oneof)."""
    descriptor = message.DESCRIPTOR
    template = TEMPLATES.get(descriptor.full_name)
    if template is not None:
        message.MergeFrom(template())
    oneofs_seen: set[str] = set()
    for fd in descriptor.fields:
        if is_repeated(fd):
            continue
        if fd.containing_oneof is not None:
            if fd.containing_oneof.name in oneofs_seen:
                continue
            oneofs_seen.add(fd.containing_oneof.name)
        pool = known.pool(descriptor, fd.name)
        child_type: Any = fd.message_type
        if pool and fd.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES):
            setattr(message, fd.name, _real(pick(pool)))
        elif child_type is not None and depth < MAX_DEPTH and child_type.full_name not in LEAF_MESSAGES:
            child = getattr(message, fd.name)
            _fill(pick, child, known, depth + 1)
            if not child.ListFields():
                message.ClearField(fd.name)


def _element(pick: Pick, element_type: Any, inner: Any, known: Known) -> bytes:
    """A valid new element of a repeated field, into which the change to ``inner`` is merged."""
    element = message_factory.GetMessageClass(element_type)()
    _fill(pick, element, known, 1)
    if inner.containing_oneof is not None and inner.message_type is not None:
        chosen = getattr(element, inner.name)
        _fill(pick, chosen, known, 2)
        chosen.SetInParent()
    if element_type.full_name == COMMAND and inner.containing_oneof is not None:
        # A command's type names its attributes: schedule_activity_task_command_attributes
        # goes with COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK.
        kind = "COMMAND_TYPE_" + inner.name.removesuffix("_command_attributes").upper()
        if kind in CommandType.keys():  # noqa: SIM118 (an enum wrapper, not a dict)
            element.command_type = CommandType.Value(kind)  # type: ignore[attr-defined]
    return element.SerializeToString()


def _changed(pick: Pick, path: list[Any], occurrence: bytes, known: Known) -> bytes:
    """The bytes that, appended to a request, set the last field of ``path`` to ``occurrence``;
    a repeated message on the way gets a new, otherwise valid, element."""
    body = occurrence
    for level in range(len(path) - 2, -1, -1):
        holder = path[level]
        if is_repeated(holder):
            body = _element(pick, holder.message_type, path[level + 1], known) + body
        body = wire.length_delimited(holder.number, body)
    return body


def _descends(fd: Any, seen: set[str], depth: int, limit: int) -> bool:
    child = fd.message_type
    return not (
        child is None
        or child.full_name in LEAF_MESSAGES
        or child.GetOptions().map_entry
        or child.full_name in seen
        or depth >= limit
        or not child.fields
    )


def _path(draw: Any, descriptor: Any) -> list[Any]:
    """A field to change: one of this message's, or, as often as not, one inside it."""
    path: list[Any] = []
    seen: set[str] = {descriptor.full_name}
    while True:
        fd = draw(st.sampled_from(list(descriptor.fields)))
        path.append(fd)
        if not _descends(fd, seen, len(path), MAX_DEPTH) or draw(st.booleans()):
            return path
        seen.add(fd.message_type.full_name)
        descriptor = fd.message_type


def _all_paths(descriptor: Any, seen: frozenset[str], prefix: list[Any]) -> Iterator[list[Any]]:
    for fd in descriptor.fields:
        path = [*prefix, fd]
        yield path
        if _descends(fd, set(seen), len(path), TARGETED_DEPTH):
            yield from _all_paths(fd.message_type, seen | {fd.message_type.full_name}, path)


def _aimed_at(request: Message) -> str:
    """The real names a request carries, for the report."""
    names = []
    for key in ("namespace", "workflow_id", "schedule_id"):
        for fd, value in request.ListFields():
            if fd.name == key:
                names.append(f"{key}={value}")
    execution = next(
        (v for fd, v in request.ListFields() if fd.name in ("execution", "workflow_execution")), None
    )
    if execution is not None:
        names.append(f"workflow_id={execution.workflow_id}")
    return ", ".join(names)


def _case(
    rpc: Rpc,
    request: Message,
    path: list[Any],
    value: values.Value,
    pick: Pick,
    known: Known,
    copies: int = 1,
) -> Case:
    name, payload = value
    leaf = path[-1]
    body = request.SerializeToString() + _changed(pick, path, wire.field_bytes(leaf, payload) * copies, known)
    changed = ".".join(fd.name for fd in path)
    if copies > 1:
        name = f"{copies:,} x {name}"
    if not _decodes(rpc, body):  # one defect however the body came to be undecodable
        return Case(rpc, "body", f"undecodable {changed} = {name}", body, _aimed_at(request))
    return Case(rpc, changed, name, body, _aimed_at(request))


def _decodes(rpc: Rpc, body: bytes) -> bool:
    try:
        rpc.request_class.FromString(body)
    except DecodeError:
        return False
    return True


def targeted_cases(rpc: Rpc, known: Known) -> Iterator[Case]:
    """Every field of the request down to three levels, each set to its sharpest values: in
    a request aimed at the seeded data, and, where the request can name something new (a
    workflow to start, a schedule to create), in one aimed at something new."""

    def first(options: Sequence[Any]) -> Any:
        return options[0]

    def last(options: Sequence[Any]) -> Any:
        return options[-1]

    def request(pick: Pick) -> Message:
        """A new one each time, so that each gets a fresh name of its own."""
        made = rpc.request_class()
        _fill(pick, made, known, 0)
        return made

    descriptor = rpc.request_class.DESCRIPTOR
    picks = [first, last] if known.has_fresh(descriptor) else [first]
    yield from _raw_cases(rpc, request(first))
    # Made lazily: a task made for a case is still open when the case is sent.
    yield from (
        _case(rpc, request(pick), path, value, pick, known)
        for pick in picks
        for path in _all_paths(descriptor, frozenset({descriptor.full_name}), [])
        for value in values.sharpest(path[-1])
    )


def _raw_cases(rpc: Rpc, request: Message) -> list[Case]:
    """Bodies that do not decode: garbage, and the valid request cut short."""
    return [
        Case(rpc, "body", *values.RAW_BODIES[0], _aimed_at(request)),
        Case(rpc, "body", *_cut_short(request), _aimed_at(request)),
    ]


def _cut_short(request: Message) -> values.Value:
    """The valid request, then a field whose length runs past the end of the body."""
    return "raw: request cut short", request.SerializeToString() + b"\x0a\x05ab"


@st.composite
def cases(draw: Any, rpc: Rpc, known: Known) -> Case:
    """A valid request with one field changed, or, now and then, a body that does not decode."""

    def pick(options: Sequence[Any]) -> Any:
        return draw(st.sampled_from(options))

    request = rpc.request_class()
    _fill(pick, request, known, 0)
    # A request with no fields (GetSystemInfo) has nothing to change but its body.
    fields = ["field"] * 8 if rpc.request_class.DESCRIPTOR.fields else []
    shape = draw(st.sampled_from([*fields, "raw", "valid"]))
    if shape == "raw":
        raw = draw(st.sampled_from([*values.RAW_BODIES, _cut_short(request)]))
        return Case(rpc, "body", raw[0], raw[1], _aimed_at(request))
    if shape == "valid":
        return Case(rpc, "-", "valid request", request.SerializeToString(), _aimed_at(request))
    path = _path(draw, rpc.request_class.DESCRIPTOR)
    value = draw(st.sampled_from(values.leaf_values(path[-1])))
    copies = 10_000 if is_repeated(path[-1]) and len(value[1]) < 100 and draw(st.integers(0, 4)) == 0 else 1
    return _case(rpc, request, path, value, pick, known, copies)
