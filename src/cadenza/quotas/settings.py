"""The rate-limit settings: Temporal's dynamic-config keys, with values per namespace.

A key's value is a list of ``{value, constraints}`` entries, as in Temporal's
dynamic-config YAML file; an entry applies to the calls its constraints match
(``namespace``, and Cadenza's ``principal``, a principal's name), the most specific
matching entry wins, and a key with no matching entry has its default. The settings
come in layers (the dynamic-config file over the command line's values): the first
layer with an entry matching a call decides.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml


class SettingsError(ValueError):
    """A rate-limit setting could not be used; the message names the key."""


@dataclass(frozen=True)
class Key:
    """One setting: its default and whether it counts whole things."""

    default: float
    whole: bool
    doc: str


# Temporal's defaults, except where Cadenza's own choice is said (and why) in the doc.
KEYS: Mapping[str, Key] = {
    "frontend.rps": Key(2400, True, "calls per second the server takes, all namespaces together"),
    "frontend.globalRPS": Key(0, True, "the same for the whole cluster; over 0 it replaces frontend.rps"),
    "frontend.namespaceRPS": Key(2400, True, "calls per second one namespace may make"),
    "frontend.globalNamespaceRPS": Key(0, True, "over 0, replaces frontend.namespaceRPS"),
    "frontend.namespaceBurstRatio": Key(2, False, "a namespace's burst, as a multiple of its rate"),
    "frontend.namespaceRPS.visibility": Key(
        100, True, "list and count calls per second per namespace (100, as temporal server start-dev sets it)"
    ),
    "frontend.globalNamespaceRPS.visibility": Key(
        0, True, "over 0, replaces frontend.namespaceRPS.visibility"
    ),
    "frontend.namespaceBurstRatio.visibility": Key(
        1, False, "the visibility burst as a multiple of its rate"
    ),
    "frontend.namespaceCount": Key(1200, True, "long polls waiting at once per namespace, per RPC"),
    "frontend.globalNamespaceCount": Key(0, True, "over 0, replaces frontend.namespaceCount"),
    "system.operatorRPSRatio": Key(
        0.2, False, "the share of a rate left to calls marked caller-type: operator"
    ),
    "cadenza.principalRPS": Key(
        0, False, "calls per second one principal may make on a namespace; 0: no limit"
    ),
    "cadenza.principalBurstRatio": Key(2, False, "a principal's burst, as a multiple of its rate"),
}

CONSTRAINTS = ("namespace", "principal")
"""The constraints an entry may carry; Temporal's others (task queue, ...) match no call here."""


@dataclass(frozen=True)
class Entry:
    """One value of a key, and the calls it applies to (None: any)."""

    value: float
    namespace: str | None = None
    principal: str | None = None

    def matches(self, namespace: str, principal: str) -> bool:
        return (self.namespace is None or self.namespace == namespace) and (
            self.principal is None or self.principal == principal
        )

    @property
    def specificity(self) -> int:
        return (self.namespace is not None) + (self.principal is not None)


Layer = Mapping[str, Sequence[Entry]]


@dataclass(frozen=True)
class QuotaSettings:
    """Every rate-limit setting, in layers, the first layer with a matching entry deciding."""

    layers: tuple[Layer, ...] = field(default_factory=tuple)

    def value(self, key: str, namespace: str = "", principal: str = "") -> float:
        """``key``'s value for a call on ``namespace`` by the principal named ``principal``."""
        for layer in self.layers:
            matching = [entry for entry in layer.get(key, ()) if entry.matches(namespace, principal)]
            if matching:
                return max(matching, key=lambda entry: entry.specificity).value
        return KEYS[key].default

    def over(self, base: QuotaSettings) -> QuotaSettings:
        """These settings first, then ``base``'s."""
        return QuotaSettings((*self.layers, *base.layers))


def from_pairs(pairs: Iterable[str], source: str) -> QuotaSettings:
    """The settings among ``KEY=VALUE`` pairs (``--dynamic-config-value``); other keys are skipped.

    VALUE is a number, or Temporal's list of entries in JSON:
    ``[{"value": 10, "constraints": {"namespace": "batch"}}, {"value": 100}]``.
    """
    layer: dict[str, list[Entry]] = {}
    for pair in pairs:
        key, _, raw = pair.partition("=")
        key = key.strip()
        if key not in KEYS:
            continue
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise SettingsError(f"{source} {key}: {raw!r} is neither a number nor a JSON list") from exc
        layer[key] = _entries(key, parsed if isinstance(parsed, list) else [{"value": parsed}], source)
    return QuotaSettings((layer,) if layer else ())


def from_yaml(text: str, source: str) -> tuple[QuotaSettings, list[str]]:
    """The settings in a Temporal dynamic-config YAML document, and the keys in it not read here."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SettingsError(f"{source}: not YAML: {exc}") from exc
    if document is None:
        return QuotaSettings(), []
    if not isinstance(document, dict):
        raise SettingsError(f"{source}: expected a mapping of keys to lists of values")
    layer: dict[str, list[Entry]] = {}
    others = []
    for key, values in document.items():
        if key not in KEYS:
            others.append(str(key))
            continue
        if not isinstance(values, list):
            raise SettingsError(f"{source} {key}: expected a list of {{value, constraints}}")
        layer[key] = _entries(key, values, source)
    return QuotaSettings((layer,) if layer else ()), others


def _entries(key: str, values: list[Any], source: str) -> list[Entry]:
    return [_entry(key, item, source) for item in values]


def _entry(key: str, item: Any, source: str) -> Entry:
    where = f"{source} {key}"
    if not isinstance(item, dict) or "value" not in item:
        raise SettingsError(
            f"{where}: each entry needs a value, as {{value: 10, constraints: {{namespace: ns}}}}"
        )
    constraints = item.get("constraints") or {}
    if not isinstance(constraints, dict):
        raise SettingsError(f"{where}: constraints must be a mapping")
    unknown = sorted(set(constraints) - set(CONSTRAINTS))
    if unknown:
        raise SettingsError(f"{where}: constraint {unknown[0]!r} is not one of {', '.join(CONSTRAINTS)}")
    for name, given in constraints.items():
        if not isinstance(given, str):
            raise SettingsError(f"{where}: constraint {name} must be a string")
    return Entry(
        _number(key, item["value"], where), constraints.get("namespace"), constraints.get("principal")
    )


def _number(key: str, value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SettingsError(f"{where}: {value!r} is not a number")
    if value < 0:
        raise SettingsError(f"{where}: {value!r} is negative")
    if KEYS[key].whole and value != int(value):
        raise SettingsError(f"{where}: {value!r} is not a whole number")
    return float(value)
