"""Sending one fuzz case and judging the answer; the findings, deduplicated, as a report.

A served RPC may refuse a request with any clear status, but never answer UNKNOWN or
INTERNAL (an unexpected exception), never leave the caller without an answer, and never
stop the server answering others.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import grpc

from tests.fuzz.strategies import Case

CALL_TIMEOUT = 10.0
"""Far above what any request needs; a call still unanswered by then is hung."""
WAITING_CALL_TIMEOUT = 1.5
"""Long polls and calls answered by a worker end empty or with DEADLINE_EXCEEDED: the server
answers them a second before the caller's deadline, so this keeps them short."""
PING_TIMEOUT = 5.0

BAD_CODES = frozenset({grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL, grpc.StatusCode.DATA_LOSS,
                       grpc.StatusCode.UNAVAILABLE})
MESSAGE_IN_REPORT = 160


@dataclass(frozen=True)
class Answer:
    code: grpc.StatusCode
    message: str


def send(channel: grpc.Channel, case: Case) -> Answer:
    """Send the case's bytes as they are: identity serializers, so undecodable bodies go out."""
    call = channel.unary_unary(case.rpc.path, request_serializer=None, response_deserializer=None)
    timeout = WAITING_CALL_TIMEOUT if case.rpc.waits else CALL_TIMEOUT
    try:
        call(case.body, timeout=timeout)
    except grpc.RpcError as error:
        return Answer(error.code(), error.details() or "")
    return Answer(grpc.StatusCode.OK, "")


def trouble(case: Case, answer: Answer) -> str | None:
    """What is wrong with this answer, if anything (before asking whether the server lives)."""
    if answer.code in BAD_CODES:
        return answer.code.name
    if answer.code == grpc.StatusCode.DEADLINE_EXCEEDED and not case.rpc.waits:
        return f"no answer within {CALL_TIMEOUT:.0f} s"
    return None


def _normalized(message: str) -> str:
    """The message with its numbers and long names blurred, so one defect is one line."""
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

    def add(self, case: Case, status: str, message: str) -> None:
        key = (case.rpc.name, case.changed, status, _normalized(message))
        finding = self.by_key.setdefault(key, Finding(*key, example=case.summary()[:300]))
        finding.count += 1
        if case.value not in finding.values and len(finding.values) < 4:
            finding.values.append(case.value)

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
        lines.append(f"  {finding.changed} [{values}] -> {finding.status} {finding.message!r}"
                     f" (x{finding.count})")
    return "\n".join(lines)
