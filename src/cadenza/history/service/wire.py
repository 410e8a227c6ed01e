"""Protobuf's wire format, for answers assembled from event bytes already serialized.

A repeated message field is, on the wire, one (tag, length, bytes) entry per
element, and a message's fields may come in any order and merge when repeated.
So a response carrying stored events is the rest of the response serialized as
usual, with the stored events written in as entries of its nested ``History``:
they are neither parsed nor encoded again.
"""

from __future__ import annotations

from collections.abc import Sequence

_LENGTH_DELIMITED = 2
_ONE_BYTE = [bytes((value,)) for value in range(0x80)]
EVENTS_TAG = b"\x0a"
"""``History.events``: field 1, length-delimited."""


def varint(value: int) -> bytes:
    """``value`` (not negative) as a base-128 varint."""
    if value < 0x80:
        return _ONE_BYTE[value]
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """The varint at ``pos`` and the position after it."""
    value = data[pos]
    if value < 0x80:  # most tags and lengths: one byte
        return value, pos + 1
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def split_events(history: bytes) -> list[bytes]:
    """The entries of a serialized ``History`` message: each event with its tag and length,
    as written, so that joining entries gives the ``History`` holding those events."""
    entries = []
    pos, end = 0, len(history)
    while pos < end:
        if history[pos] != EVENTS_TAG[0]:
            raise ValueError(f"not a History message: tag {history[pos]} at {pos}")
        length, after = _read_varint(history, pos + 1)
        entries.append(history[pos : after + length])
        pos = after + length
    if pos != end:
        raise ValueError("truncated History message")
    return entries


def event_bytes(entry: bytes) -> bytes:
    """The serialized event of one ``History`` entry (the entry less its tag and length)."""
    return entry[_read_varint(entry, 1)[1] :]


def event_size(entry: bytes) -> int:
    """The serialized size of one entry's event, what ``ByteSize`` of its message gives."""
    return _read_varint(entry, 1)[0]


def with_field(message: bytes, number: int, value: Sequence[bytes]) -> bytes:
    """A serialized message with a length-delimited field ``number`` added, in field order.

    The field's value is the concatenation of ``value``'s parts (the entries of a
    ``History``, say), copied once. It is written before the first field with a
    higher number, where protobuf's own serializer puts it, so the answer is the
    bytes that serializing the whole message gives (up to the order of map
    entries, which protobuf leaves unspecified).
    """
    pos, end = 0, len(message)
    while pos < end:
        tag, after_tag = _read_varint(message, pos)
        if tag >> 3 > number:
            break
        pos = _skip(message, after_tag, tag & 7)
    header = varint(number << 3 | _LENGTH_DELIMITED) + varint(sum(map(len, value)))
    return b"".join((message[:pos], header, *value, message[pos:]))


def _skip(message: bytes, pos: int, wire_type: int) -> int:
    """The position after a field's value of ``wire_type`` starting at ``pos``."""
    if wire_type == 0:
        return _read_varint(message, pos)[1]
    if wire_type == 1:
        return pos + 8
    if wire_type == _LENGTH_DELIMITED:
        length, pos = _read_varint(message, pos)
        return pos + length
    if wire_type == 5:
        return pos + 4
    raise ValueError(f"unexpected wire type {wire_type}")
