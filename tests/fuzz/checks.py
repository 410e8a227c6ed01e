"""Sending one fuzz case and judging the answer; the findings, deduplicated, as a report.

A served RPC may refuse a request with any clear status, but never answer UNKNOWN or
INTERNAL (an unexpected exception), never leave the caller without an answer, and never
stop the server answering others.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import grpc

from tests.fuzz.strategies import Case

CALL_TIMEOUT = 10.0
"""Far above what any request needs; a call still unanswered by then is hung."""
WAITING_CALL_TIMEOUT = 1.5
"""Long polls and calls answered by a worker end empty or with DEADLINE_EXCEEDED: the server
answers them a second before the caller's deadline, so this keeps them short."""
PING_TIMEOUT = 5.0

BAD_CODES = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.DATA_LOSS,
        grpc.StatusCode.UNAVAILABLE,
    }
)
MESSAGE_IN_REPORT = 160
EARLIER_DATA = "(earlier data)"
"""What a finding about the witnesses names as the field changed."""


TRAILERS_A_CLIENT_TAKES = 16 * 1024
"""The SDKs' HTTP/2 stack drops the connection (every call on it) past this much trailer."""


@dataclass(frozen=True)
class Answer:
    code: grpc.StatusCode
    message: str
    trailer_bytes: int = 0


def send(channel: grpc.Channel, case: Case) -> Answer:
    """Send the case's bytes as they are: identity serializers, so undecodable bodies go out."""
    call = channel.unary_unary(case.rpc.path, request_serializer=None, response_deserializer=None)
    timeout = WAITING_CALL_TIMEOUT if case.rpc.waits else CALL_TIMEOUT
    try:
        call(case.body, timeout=timeout)
    except grpc.RpcError as error:
        message = error.details() or ""
        metadata: Any = error.trailing_metadata() or ()
        return Answer(error.code(), message, _trailer_bytes(message, metadata))
    return Answer(grpc.StatusCode.OK, "")


def _trailer_bytes(message: str, metadata: Any) -> int:
    """About what the trailers take on the wire: binary values travel base64-encoded."""
    size = len(message.encode())
    for key, value in metadata:
        size += len(key) + (len(value) * 4 // 3 if key.endswith("-bin") else len(value))
    return size


def trouble(case: Case, answer: Answer) -> tuple[str, str] | None:
    """What is wrong with this answer, if anything (before asking whether the server lives):
    a status and a message for the report."""
    if answer.code in BAD_CODES:
        return answer.code.name, answer.message
    if answer.code == grpc.StatusCode.DEADLINE_EXCEEDED and not case.rpc.waits:
        return f"no answer within {CALL_TIMEOUT:.0f} s", answer.message
    if answer.trailer_bytes > TRAILERS_A_CLIENT_TAKES:
        return (
            f"{answer.code.name} with trailers over {TRAILERS_A_CLIENT_TAKES // 1024} KB",
            f"{answer.trailer_bytes:,} bytes: {answer.message}",
        )
    return None


def _normalized(message: str) -> str:
    """The message with its numbers and long names blurred, so one defect is one line."""
    # The decoder's detail (which wire error, where) varies with the bytes, not the defect.
    message = re.sub(r"(Error parsing message with type '[^']+').*", r"\1", message)
    message = re.sub(r"\d+", "N", message)
    message = re.sub(r"([A-Za-z])\1{20,}", r"\1…", message)
    return message[:MESSAGE_IN_REPORT]


@dataclass
class Finding:
    rpc: str
    changed: str
    status: str
    message: str
    values: list[str] = field(default_factory=list)
    example: str = ""
    count: int = 0


@dataclass
class Findings:
    """Every bad answer, deduplicated by RPC, field changed, status and message."""

    by_key: dict[tuple[str, str, str, str], Finding] = field(default_factory=dict)
    sent: int = 0

    def add(self, case: Case, status: str, message: str) -> None:
        key = (case.rpc.name, case.changed, status, _normalized(message))
        finding = self.by_key.setdefault(key, Finding(*key, example=case.summary()[:300]))
        finding.count += 1
        if case.value not in finding.values and len(finding.values) < 4:
            finding.values.append(case.value)

    def add_damage(self, rpc: str, problems: list[str]) -> None:
        """Earlier data found changed or unreadable after ``rpc``'s batch: each problem is
        reported once, under the first batch after which it showed."""
        reported = {f.message for f in self.by_key.values() if f.changed == EARLIER_DATA}
        for problem in problems:
            if _normalized(problem) not in reported:
                key = (rpc, EARLIER_DATA, "damaged", _normalized(problem))
                self.by_key[key] = Finding(*key, count=1)

    def of(self, rpc: str) -> list[Finding]:
        return [f for f in self.by_key.values() if f.rpc == rpc]


def report(findings: Iterable[Finding]) -> str:
    """The findings grouped by RPC, one line each."""
    lines: list[str] = []
    current = None
    for finding in sorted(findings, key=lambda f: (f.rpc, f.changed, f.status)):
        if finding.rpc != current:
            current = finding.rpc
            lines.append(f"{finding.rpc}:")
        values = ", ".join(finding.values)
        lines.append(
            f"  {finding.changed} [{values}] -> {finding.status} {finding.message!r} (x{finding.count})"
        )
    return "\n".join(lines)
