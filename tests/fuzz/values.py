"""Hostile values for one protobuf field, each already wire-encoded, with a short description.

Values come by the field's type (strings, numbers, enums) and, for messages Temporal gives
a meaning to (durations, timestamps, payloads, failures, search attributes), by that
meaning: out-of-range times, JSON nested past any parser's recursion limit, failure chains
deeper than protobuf's decoder allows, and sizes past Temporal's limits.
"""

from __future__ import annotations

import functools
import struct
from typing import Any

from google.protobuf.descriptor import FieldDescriptor

from tests.fuzz import wire

Value = tuple[str, bytes]
"""A description for the report and one encoded occurrence of the field."""

HUGE = 8_000
"""Longer than any name Temporal accepts; echoed back in an error's message and details,
more than the 16 KB of trailers a client takes."""

STRINGS: list[tuple[str, bytes]] = [
    ("empty", b""),
    ("1,001 chars", b"n" * 1_001),
    (f"{HUGE:,} chars", b"h" * HUGE),
    ("100,000 chars", b"z" * 100_000),
    ("NUL", b"a\x00b"),
    ("invalid UTF-8", b"\xff\xfe\xfd"),
    ("emoji and RTL", "w\u202e😀ü".encode()),
    ("blank", b" \t\n"),
    ("SQL", b"x' OR '1'='1"),
    ("format string", b"%s%n%x{0}"),
    ("path", b"../../etc/passwd"),
]
FILTERS: list[tuple[str, bytes]] = [
    ("5,000 nested parentheses", b"(" * 5_000 + b"WorkflowId = 'x'" + b")" * 5_000),
    ("integer past 64 bits", b"HistoryLength > 99999999999999999999999"),
    ("year 10000", b"StartTime > '10000-01-01T00:00:00Z'"),
    ("ORDER BY", b"WorkflowId = 'x' ORDER BY StartTime"),
    ("unbalanced", b"ExecutionStatus = 'Running' AND ("),
    ("empty IN", b"FuzzKeyword IN ()"),
    ("unknown attribute", b"NoSuchAttribute = 1"),
    ("wrong type", b"FuzzInt = 'text'"),
    ("GROUP BY", b"GROUP BY ExecutionStatus"),
    ("LIKE", b"WorkflowId LIKE '%'"),
]
CRONS: list[tuple[str, bytes]] = [
    ("cron never fires", b"0 0 31 2 *"),
    ("cron 8 fields", b"* * * * * * * *"),
    ("cron @every 0s", b"@every 0s"),
    ("cron unknown zone", b"CRON_TZ=Nowhere/Zone * * * * *"),
    ("cron garbage", b"every tuesday"),
]
DURATIONS = [
    (10**12, 0),
    (-(10**12), 0),
    (315_576_000_001, 0),
    (-1, 0),
    (0, -1),
    (0, 10**9),
    (1, -1),
    (2**63 - 1, 999_999_999),
    (-(2**63), 0),
]
TIMESTAMPS = [
    (-62_135_596_800, 0),
    (253_402_300_799, 0),
    (253_402_300_800, 0),
    (-62_135_596_801, 0),
    (-(10**15), 0),
    (10**15, 0),
    (0, -1),
    (0, 2 * 10**9),
    (2**63 - 1, 0),
    (-(2**63), 0),
]
DEEP_JSON = [
    ("JSON nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000),
    ("JSON objects nested 20,000 deep", b'{"a":' * 20_000 + b"1" + b"}" * 20_000),
]
PAYLOAD_DATA = [
    *DEEP_JSON,
    ("invalid JSON", b"{not json"),
    ("JSON of the wrong type", b'{"a": [1, 2]}'),
    ("300 KB", b'"' + b"p" * 300_000 + b'"'),
    ("2.1 MB", b'"' + b"q" * 2_100_000 + b'"'),
]
ENCODINGS = [b"json/plain", b"binary/plain", b"binary/null", b"json/protobuf", b"no/such"]
SEARCH_ATTRIBUTE_TYPES = [b"Keyword", b"Int", b"Datetime", b"Bool", b"NoSuchType"]
FAILURE_DEPTHS = [150, 1_000, 10_000]


def _int_payloads(field: Any) -> list[Value]:
    numbers = [0, -1, 999, 2**31 - 1, -(2**31)]
    if field.type in (
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED64,
    ):
        numbers += [2**63 - 1, -(2**63), 10**12, -(10**15), 2**64 - 1]
    if field.type == FieldDescriptor.TYPE_ENUM:
        numbers += [value.number for value in field.enum_type.values]
    out = []
    for number in numbers:
        out.append((f"{number}", _scalar(field, number)))
    return out


def _scalar(field: Any, number: int) -> bytes:
    kind = wire.wire_type(field)
    if kind == wire.FIXED64:
        return number.to_bytes(8, "little", signed=number < 0) if -(2**63) <= number < 2**64 else b""
    if kind == wire.FIXED32:
        return (number & 0xFFFFFFFF).to_bytes(4, "little")
    if field.type in (FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SINT64):
        return wire.varint(number << 1 ^ number >> 63)
    return wire.varint(number)


def _floats(field: Any) -> list[Value]:
    fmt = "<d" if field.type == FieldDescriptor.TYPE_DOUBLE else "<f"
    return [(str(x), struct.pack(fmt, x)) for x in (float("nan"), float("inf"), float("-inf"), -1.0, 1e38)]


def _seconds_nanos(seconds: int, nanos: int) -> bytes:
    return wire.tag(1, wire.VARINT) + wire.varint(seconds) + wire.tag(2, wire.VARINT) + wire.varint(nanos)


def _payload(data: bytes, encoding: bytes = b"json/plain", kind: bytes = b"") -> bytes:
    """A temporal.api.common.v1.Payload: metadata (field 1, a map) and data (field 2)."""

    def entry(key: bytes, value: bytes) -> bytes:
        return wire.length_delimited(1, wire.length_delimited(1, key) + wire.length_delimited(2, value))

    body = entry(b"encoding", encoding)
    if kind:
        body += entry(b"type", kind)
    return body + wire.length_delimited(2, data)


def payloads() -> list[Value]:
    out = [(f"payload {name}", _payload(data)) for name, data in PAYLOAD_DATA]
    out += [(f"payload encoding {enc.decode()}", _payload(b"1", enc)) for enc in ENCODINGS]
    out.append(
        (
            "payload with 10,000 metadata entries",
            b"".join(
                wire.length_delimited(
                    1, wire.length_delimited(1, b"k%d" % i) + wire.length_delimited(2, b"v")
                )
                for i in range(10_000)
            ),
        )
    )
    return out


def search_attribute_payloads() -> list[Value]:
    out = []
    for kind in SEARCH_ATTRIBUTE_TYPES:
        for name, data in [
            *DEEP_JSON,
            ("invalid JSON", b"{x"),
            ("a string", b'"text"'),
            ("a number", b"12"),
            ("a date past 9999", b'"10000-01-01T00:00:00Z"'),
        ]:
            out.append((f"{kind.decode()} search attribute, {name}", _payload(data, kind=kind)))
    return out


def failure_chain(descriptor: Any, depth: int) -> bytes:
    """A Failure whose causes nest ``depth`` deep, built as bytes: protobuf's own classes
    stop at 100 levels."""
    message = descriptor.fields_by_name["message"].number
    cause = descriptor.fields_by_name["cause"].number
    body = wire.length_delimited(message, b"leaf")
    for level in range(depth):
        body = wire.length_delimited(message, b"level %d" % level) + wire.length_delimited(cause, body)
    return body


def _any() -> list[Value]:
    def packed(type_url: bytes, value: bytes) -> bytes:
        return wire.length_delimited(1, type_url) + wire.length_delimited(2, value)

    return [
        (
            "Any with a corrupt body",
            packed(b"type.googleapis.com/temporal.api.update.v1.Request", b"\xff\xff\xff\xff"),
        ),
        (
            "Any of a corrupt Acceptance",
            packed(b"type.googleapis.com/temporal.api.update.v1.Acceptance", b"\x0a\xff"),
        ),
        ("Any of an unknown type", packed(b"type.googleapis.com/no.such.Type", b"\x08\x01")),
        ("Any without a type", packed(b"", b"\x08\x01")),
    ]


def _message(field: Any) -> list[Value]:
    name = field.message_type.full_name
    out: list[Value] = [("empty message", b""), ("garbage message", b"\xff\xff\xff\x07")]
    if name == "google.protobuf.Duration":
        out += [(f"duration {s}s {n}ns", _seconds_nanos(s, n)) for s, n in DURATIONS]
    elif name == "google.protobuf.Timestamp":
        out += [(f"timestamp {s}s {n}ns", _seconds_nanos(s, n)) for s, n in TIMESTAMPS]
    elif name == "google.protobuf.Any":
        out += _any()
    elif name == "temporal.api.common.v1.Payload":
        out += payloads()
    elif name == "temporal.api.common.v1.Payloads":
        out += [(name, wire.length_delimited(1, body)) for name, body in payloads()]
        out.append(("10,000 payloads", wire.length_delimited(1, _payload(b"1")) * 10_000))
    elif name == "temporal.api.failure.v1.Failure":
        out += [
            (f"failure chain {depth:,} deep", failure_chain(field.message_type, depth))
            for depth in FAILURE_DEPTHS
        ]
        out.append((f"failure with a {HUGE:,}-char message", wire.length_delimited(1, b"m" * HUGE)))
    elif name in (
        "temporal.api.common.v1.SearchAttributes",
        "temporal.api.common.v1.Memo",
        "temporal.api.common.v1.Header",
    ):
        out += _payload_maps(field.message_type)
    return out


def _payload_maps(descriptor: Any) -> list[Value]:
    """Hostile entries for the one map<string, Payload> these messages hold."""
    map_field = descriptor.fields[0]

    def entry(key: bytes, value: bytes) -> bytes:
        return wire.length_delimited(
            map_field.number, wire.length_delimited(1, key) + wire.length_delimited(2, value)
        )

    values = search_attribute_payloads() if "SearchAttributes" in descriptor.name else payloads()
    keys = [b"FuzzKeyword", b"FuzzInt", b"FuzzDatetime", b"CustomKeywordField", b"x" * HUGE]
    out = [
        (f"{value_name} under {key[:20].decode()}", entry(key, value))
        for key in keys
        for value_name, value in values
    ]
    out.append(
        (
            "10,000 entries",
            b"".join(entry(b"K%d" % i, _payload(b'"v"', kind=b"Keyword")) for i in range(10_000)),
        )
    )
    return out


def _map_entries(field: Any) -> list[Value]:
    entry_type = field.message_type
    key_field, value_field = entry_type.fields_by_name["key"], entry_type.fields_by_name["value"]
    keys = [b"k", b"", b"x" * HUGE] if key_field.type == FieldDescriptor.TYPE_STRING else [b"\x01"]
    out = []
    for value_name, value in leaf_values(value_field)[:30]:
        out.append(
            (
                f"entry of {value_name}",
                wire.field_bytes(key_field, keys[0]) + wire.field_bytes(value_field, value),
            )
        )
    for key in keys[1:]:
        out.append((f"key of {len(key)} chars", wire.field_bytes(key_field, key)))
    return out


@functools.cache
def leaf_values(field: Any) -> list[Value]:
    """Every hostile value for ``field``, each one encoded occurrence's payload (see
    ``wire.field_bytes``)."""
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        return _map_entries(field)
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return _message(field)
    if field.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES):
        out = list(STRINGS)
        if "query" in field.name:
            out += FILTERS
        if "cron" in field.name:
            out += CRONS
        return out
    if field.type == FieldDescriptor.TYPE_BOOL:
        return [("true", wire.varint(1)), ("2", wire.varint(2))]
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return _floats(field)
    return _int_payloads(field)


RAW_BODIES: list[Value] = [
    ("raw: garbage", b"\xff\xff\xff\xff\xff"),
    ("raw: truncated length", b"\x0a\x7f" + b"a" * 3),
    ("raw: end-group tag", b"\x0c"),
    ("raw: wire type 7", b"\x0f\x01"),
    ("raw: field number 0", b"\x02\x01a"),
    ("raw: overlong varint", b"\x08" + b"\xff" * 11),
    ("raw: 1 MB of zeros", b"\x00" * 1_000_000),
]


def sharpest(field: Any) -> list[Value]:
    """The few values most likely to break something behind this field, tried on every field
    of every request whatever the random budget: names past every limit, filters and crons
    that break parsers, times at and past the ends of the calendar, JSON nested past the
    recursion limit, enum values that do not exist."""
    everything = leaf_values(field)

    def named(*prefixes: str) -> list[Value]:
        """The first value of each kind."""
        return [
            next(value for value in everything if value[0].startswith(prefix))
            for prefix in prefixes
            if any(value[0].startswith(prefix) for value in everything)
        ]

    child = field.message_type
    if child is not None and child.GetOptions().map_entry:
        return []
    if child is not None:
        return named(
            "duration 1000000000000s",
            "timestamp -62135596800s",
            "timestamp 253402300800s",
            "timestamp -1000000000000000s",
            "payload JSON nested",
            "JSON nested",
            "Keyword search attribute, JSON nested",
            "failure chain 150 ",
            "Any with a corrupt",
            "10,000 entries",
        )
    if field.type == FieldDescriptor.TYPE_STRING:
        if "query" in field.name:
            return FILTERS
        if "cron" in field.name:
            return CRONS
        if field.name in ("namespace", "identity") or field.name.endswith(("_id", "name", "type")):
            return named(f"{HUGE:,} chars")
        return []
    if field.type == FieldDescriptor.TYPE_ENUM:
        return named("999")
    return []
