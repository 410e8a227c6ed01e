"""Protobuf wire encoding by hand, for requests the generated classes refuse to build.

Appending an encoded field to a serialized message sets it (scalars: the last one wins;
messages: merged; repeated: one more element), so a mutated request is the valid one's
bytes plus one field, however deep, nested or malformed that field is.
"""

from __future__ import annotations

from google.protobuf.descriptor import FieldDescriptor

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5

_WIRE_TYPES = {
    FieldDescriptor.TYPE_DOUBLE: FIXED64,
    FieldDescriptor.TYPE_FIXED64: FIXED64,
    FieldDescriptor.TYPE_SFIXED64: FIXED64,
    FieldDescriptor.TYPE_FLOAT: FIXED32,
    FieldDescriptor.TYPE_FIXED32: FIXED32,
    FieldDescriptor.TYPE_SFIXED32: FIXED32,
    FieldDescriptor.TYPE_STRING: LENGTH,
    FieldDescriptor.TYPE_BYTES: LENGTH,
    FieldDescriptor.TYPE_MESSAGE: LENGTH,
}


def varint(value: int) -> bytes:
    """A varint; negative numbers as their 64-bit two's complement, as protobuf sends them."""
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def tag(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def length_delimited(number: int, body: bytes) -> bytes:
    return tag(number, LENGTH) + varint(len(body)) + body


def wire_type(field: FieldDescriptor) -> int:
    return _WIRE_TYPES.get(field.type, VARINT)


def field_bytes(field: FieldDescriptor, payload: bytes) -> bytes:
    """One occurrence of ``field`` whose value is ``payload``, already encoded for its wire type
    (a varint, fixed bytes, or the body of a length-delimited value)."""
    if wire_type(field) == LENGTH:
        return length_delimited(field.number, payload)
    return tag(field.number, wire_type(field)) + payload


def nested(path: list[FieldDescriptor], leaf: bytes) -> bytes:
    """``leaf`` (an encoded occurrence of the last field in ``path``) wrapped in the messages
    that lead to it."""
    for field in reversed(path[:-1]):
        leaf = length_delimited(field.number, leaf)
    return leaf
