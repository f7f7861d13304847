"""Read a Prometheus exposition the way Prometheus does (the official client's parser, no
regular expressions), for the tests of ``/metrics``."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


@dataclass(frozen=True, slots=True)
class Exposition:
    families: dict[str, str]
    """Family name -> type (counter, gauge, histogram...)."""
    samples: list[Sample]

    @classmethod
    def parse(cls, text: str) -> Exposition:
        families = list(text_string_to_metric_families(text))
        return cls(
            {family.name: family.type for family in families},
            [sample for family in families for sample in family.samples],
        )

    def value(self, name: str, **labels: str) -> float:
        """The value of the one sample ``name`` with exactly ``labels``; 0 if there is none
        (a counter not incremented yet), an error if several match."""
        found = [s.value for s in self.samples if s.name == name and s.labels == labels]
        assert len(found) <= 1, f"{len(found)} samples {name}{labels}"
        return found[0] if found else 0.0

    def label_values(self, name: str, label: str) -> set[str]:
        return {s.labels[label] for s in self.samples if s.name == name and label in s.labels}
