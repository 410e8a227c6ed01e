"""Reading a rendered metrics page the way Prometheus does, for tests that check exact values."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


class Scrape:
    """One page of metrics, parsed by ``prometheus_client``'s own parser."""

    def __init__(self, page: bytes, bare_counters: bool = False) -> None:
        """``bare_counters`` names a counter's samples after the counter, as Temporal's page does
        (the parser calls them ``..._total`` whatever the page says)."""
        self.types: dict[str, str] = {}
        self.samples: list[Sample] = []
        for family in text_string_to_metric_families(page.decode()):
            self.types[family.name] = family.type
            bare = bare_counters and family.type == "counter"
            self.samples.extend(
                Sample(family.name if bare else s.name, dict(s.labels), s.value) for s in family.samples
            )

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples named ``name`` whose labels include ``labels`` (0 if none)."""
        return sum(s.value for s in self.matching(name, **labels))

    def matching(self, name: str, **labels: str) -> list[Sample]:
        return [
            s for s in self.samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        ]

    def label_values(self, name: str, label: str) -> set[str]:
        return {s.labels[label] for s in self.samples if s.name == name and label in s.labels}
