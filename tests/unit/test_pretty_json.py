"""The UI's indented JSON is, character for character, what ``json.dumps(indent=2)`` writes:
for the values a history's events and payloads hold, and for the numbers and strings on which a
faster writer could differ."""

from __future__ import annotations

import json
import random
from typing import Any

from temporalio.api.common.v1 import Payload

from cadenza.web.temporal_api.json_encode import to_json_value
from cadenza.web.ui import present
from tests.unit.synthetic_history import fan_out


def by_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


def numbers() -> list[Any]:
    draw = random.Random(17)
    floats = [10.0**k for k in range(-320, 308)] + [1.5 * 10.0**k for k in range(-300, 300)]
    floats += [draw.random() * 10 ** draw.randint(-300, 300) for _ in range(5000)]
    floats += [-draw.random() * 10 ** draw.randint(-30, 30) for _ in range(2000)]
    floats += [0.0, -0.0, 5e-324, float("nan"), float("inf"), -float("inf")]
    ints = [0, -1, 2**53, 2**63 - 1, -(2**63), 2**64 - 1, 2**64, -(2**64), 10**30]
    return [*floats, *ints, True, False, None]


def strings() -> list[str]:
    every_bmp = "".join(chr(code) for code in range(0x10000) if not 0xD800 <= code < 0xE000)
    return [every_bmp, "\ud800 lone surrogate", "😀 astral", 'quote " back \\ slash', "1e5: 0.00001 null", ""]


def test_every_number_and_string_is_written_as_json_writes_it() -> None:
    for leaf in [*numbers(), *strings()]:
        for value in (leaf, [leaf], {"k": leaf}, {"k": [leaf, {"x": leaf, "e": {}, "l": []}]}):
            assert present.pretty(value) == by_json(value), value


def test_every_event_of_a_history_is_shown_as_json_writes_it() -> None:
    for event in fan_out(40):
        shown = present.as_json(event)
        assert shown == by_json(json.loads(shown))
        assert present.as_json(event) == by_json(to_json_value(event, present.SHORTHAND))


def test_payloads_are_shown_as_json_writes_them() -> None:
    for data in (b'{"a": 1e-07, "b": [1.5, null, "x"], "c": 12345678901234567890}', b'"text"', b"[]", b"0.1"):
        payload = Payload(metadata={"encoding": b"json/plain"}, data=data)
        shown = present.shown_payload(payload)
        assert shown.decoded == by_json(json.loads(data))
