"""Limits on what a client may send, with Temporal's values and wording.

The API checks requests and the engine checks workflow-task commands with these
same functions, so a name, a duration or a failure chain is judged the same
way wherever it comes in. Each check raises ``InvalidArgumentError``; the
engine turns that into a failed workflow task with the command's cause.
"""

from __future__ import annotations

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.failure.v1 import Failure

from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine.events import TIMESTAMP_MAX, TIMESTAMP_MIN

MAX_ID_LENGTH = 1000
"""Temporal's default limit on IDs and names (``limit.maxIDLength``), in bytes."""

MAX_DURATION_SECONDS = 100 * 365 * 24 * 3600
"""Temporal caps every duration it is given at 100 years, so deadlines stay representable."""

MAX_FAILURE_DEPTH = 95
"""The longest failure cause chain taken.

Protobuf decoders stop at 100 nested messages (upb in this server, prost in the
SDKs' core), and a failure travels inside its event, its history and the
response that carries them: a longer chain could be stored but never read back
by the server or by a worker. (Temporal takes longer chains, which its SDKs then
cannot decode.)
"""


def length_of(value: str) -> int:
    """A name's length as Temporal counts it: UTF-8 bytes."""
    return len(value.encode())


def check_length(value: str, message: str) -> None:
    """Refuse ``value`` with Temporal's ``message`` if it is over the ID length limit."""
    if length_of(value) > MAX_ID_LENGTH:
        raise InvalidArgumentError(message)


def check_length_counted(value: str, label: str) -> None:
    """Temporal's newer wording, which states the length: ``... (1001/1000)``."""
    length = length_of(value)
    if length > MAX_ID_LENGTH:
        raise InvalidArgumentError(f"{label} exceeds maximum allowed length ({length}/{MAX_ID_LENGTH})")


def check_length_stated(value: str, label: str) -> None:
    """The wording of Temporal's activity checks: ``activityId exceeds length limit. Length=.. Limit=..``."""
    length = length_of(value)
    if length > MAX_ID_LENGTH:
        raise InvalidArgumentError(f"{label} exceeds length limit. Length={length} Limit={MAX_ID_LENGTH}")


def check_on_command(value: str, field: str, command: str) -> None:
    """Temporal's wording for a command's field: ``TimerId on StartTimerCommand exceeds ...``.

    Temporal also quotes the value; it is left out here, since it may be megabytes long
    and the message is kept in the workflow task's failed event.
    """
    length = length_of(value)
    if length > MAX_ID_LENGTH:
        raise InvalidArgumentError(
            f"{field} on {command}Command exceeds length limit. Length={length} Limit={MAX_ID_LENGTH}"
        )


def check_task_queue_on_command(name: str, command: str) -> None:
    if length_of(name) > MAX_ID_LENGTH:
        raise InvalidArgumentError(f"invalid TaskQueue on {command}Command: taskQueue length exceeds limit")


def cap_duration(duration: Duration, label: str, command: str = "") -> None:
    """Refuse a malformed duration; cap a valid one at 100 years in place, as Temporal does.

    ``command`` names the command the duration came in, if not a request.
    """
    if (duration.seconds < 0 < duration.nanos) or (duration.nanos < 0 < duration.seconds):
        raise InvalidArgumentError(
            _invalid_duration(label, command, "duration has seconds and nanos with different signs")
        )
    if duration.seconds < 0 or duration.nanos < 0:
        raise InvalidArgumentError(_invalid_duration(label, command, "negative duration"))
    if duration.seconds + duration.nanos // 1_000_000_000 >= MAX_DURATION_SECONDS:
        duration.seconds, duration.nanos = MAX_DURATION_SECONDS, 0


def _invalid_duration(label: str, command: str, cause: str) -> str:
    if command:
        return f"Invalid {label} on {command}Command: {cause}."
    return f"An invalid {label} is set on request. cause: {cause}"


def cap_durations(message: object, fields: tuple[tuple[str, str], ...], command: str = "") -> None:
    """``cap_duration`` on each (field, label) of ``message`` that is set."""
    for field_name, label in fields:
        if message.HasField(field_name):  # type: ignore[attr-defined]
            cap_duration(getattr(message, field_name), label, command)


PROTO_DURATION_MAX_SECONDS = 315_576_000_000
"""10,000 years, the protobuf limit for a Duration."""
_NANOS = 1_000_000_000


def duration_problem(value: Duration) -> str | None:
    """Why ``value`` is not a valid protobuf Duration, in the words of Go's ``CheckValid``
    (which Temporal quotes, e.g. for a schedule's interval); None when it is valid."""
    shown = _shown(value.seconds, value.nanos)
    if value.seconds > PROTO_DURATION_MAX_SECONDS:
        return f"proto: duration ({shown}) exceeds +10000 years"
    if value.seconds < -PROTO_DURATION_MAX_SECONDS:
        return f"proto: duration ({shown}) exceeds -10000 years"
    if not -_NANOS < value.nanos < _NANOS:
        return f"proto: duration ({shown}) has out-of-range nanos"
    if (value.seconds > 0 > value.nanos) or (value.seconds < 0 < value.nanos):
        return f"proto: duration ({shown}) has seconds and nanos with different signs"
    return None


def timestamp_problem(value: Timestamp) -> str | None:
    """Why ``value`` is not a valid protobuf Timestamp, in Go's words; None when it is valid.
    A time outside 0001-01-01..9999-12-31 can be neither computed with nor sent back."""
    shown = _shown(value.seconds, value.nanos)
    if value.seconds < TIMESTAMP_MIN:
        return f"proto: timestamp ({shown}) before 0001-01-01"
    if value.seconds > TIMESTAMP_MAX:
        return f"proto: timestamp ({shown}) after 9999-12-31"
    if not 0 <= value.nanos < _NANOS:
        return f"proto: timestamp ({shown}) has out-of-range nanos"
    return None


def _shown(seconds: int, nanos: int) -> str:
    """A Duration or Timestamp as Go's %v prints it: its set fields."""
    parts = [f"seconds:{seconds}"] if seconds else []
    if nanos:
        parts.append(f"nanos:{nanos}")
    return " ".join(parts)


def check_failure(failure: Failure) -> None:
    """Refuse a failure whose cause chain is too deep to be stored and read back."""
    depth, current = 1, failure
    while current.HasField("cause"):
        depth += 1
        if depth > MAX_FAILURE_DEPTH:
            raise InvalidArgumentError(
                f"Failure cause chain exceeds the maximum depth of {MAX_FAILURE_DEPTH}."
            )
        current = current.cause
