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


def random_ties(rng, n: int, groups: int, within_group: float):
    """Households of ``groups`` groups in two villages and the baseline ties between them
    (``model.network.generate_ties``, mean degree 4): group, village, src, dst."""
    from types import SimpleNamespace

    import numpy as np

    from model.network import generate_ties

    spec = SimpleNamespace(mean_degree=4.0, within_village=0.8, within_group=within_group)
    group = rng.integers(0, groups, n).astype(np.int8)
    village = rng.integers(0, 2, n).astype(np.int8)
    src, dst = generate_ties(group, village, spec, rng, groups)
    return group, village, src, dst


def build(raw: dict) -> Scenario:
    return Scenario.model_validate(raw)


@pytest.fixture
def small_scenario() -> Scenario:
    return build(small_raw())


def regrouped_raw(groups: dict[str, str], scale: int = 4, name: str | None = None) -> dict:
    """The small Qayyarah population split into other groups: ``groups`` maps each new group's
    name to its role; households of every village are spread over the groups as evenly as the
    three original groups' totals allow, initial conditions interpolated between the original
    groups', and every programme entry offered to all groups."""
    raw = small_raw(scale)
    old = list(raw["population"]["initial"].values())
    names = list(groups)
    initial = {}
    for k, g in enumerate(names):
        base = dict(old[k % len(old)])
        base["attitude"] = {h: round(0.5 + 0.05 * ((k + j) % 5), 3) for j, h in enumerate(names) if h != g}
        initial[g] = base
    raw["population"]["groups"] = dict(groups)
    raw["population"]["initial"] = initial
    for village in raw["population"]["villages"].values():
        total = sum(village["households"].values())
        village["households"] = {g: max(3, total // len(names)) for g in names}
    for entry in raw["programme"]:
        entry.pop("target_groups", None)
    raw["name"] = name or f"{len(names)}_groups"
    return raw
