"""Shared fixtures: small scenarios built from the library's Qayyarah file."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from scenarios.schema import Scenario, read_raw

ROOT = Path(__file__).resolve().parents[1]
QAYYARAH = ROOT / "scenarios" / "qayyarah.yaml"


def qayyarah_raw() -> dict:
    return copy.deepcopy(read_raw(QAYYARAH))


def small_raw(scale: int = 4, **overrides) -> dict:
    """The Qayyarah population divided by ``scale`` (places too), same context."""
    raw = qayyarah_raw()
    for v in raw["population"]["villages"].values():
        v["households"] = {g: max(3, n // scale) for g, n in v["households"].items()}
    for entry in raw["programme"]:
        if "places" in entry:
            entry["places"] = max(1, entry["places"] // scale)
    raw["survey"]["sample_size"] = min(raw["survey"]["sample_size"], 60)
    raw.update(overrides)
    return raw


def build(raw: dict) -> Scenario:
    return Scenario.model_validate(raw)


@pytest.fixture
def small_scenario() -> Scenario:
    return build(small_raw())
