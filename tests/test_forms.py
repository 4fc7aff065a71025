"""The three forms of the week give the same states, on every scenario of the library.

``step_mode="array"`` (compiled kernels where they pay), ``"plain"`` (the same arrays in plain
numpy, the readable specification of the kernels) and ``"reference"`` (one household at a time)
run side by side, week after week over the scenario's whole horizon; every state array and the
network's tie count must agree (atol 1e-9). Each library scenario is run with its households,
arrivals, departures and places divided by ``SCALE`` (every village, group and activity kept),
so the reference form takes well under a second a scenario.

The plain form must call no compiled kernel: ``test_plain_form_calls_no_compiled_kernel`` runs
it with every numba dispatcher of the ``model`` package recorded, mechanism by mechanism.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from numba.core.dispatcher import Dispatcher

from model import CohesionModel
from scenarios import LIBRARY, load_scenario
from scenarios.schema import Scenario

SCALE = 10
"""Households, movements and places of each library scenario are divided by this."""

SEED = 2


def library() -> list[Path]:
    """Every scenario of the library (as benchmarks/check_same_states.py lists them)."""
    return sorted(LIBRARY.rglob("*.yaml"))


def label(path: Path) -> str:
    return path.relative_to(LIBRARY).with_suffix("").as_posix()


def scaled(path: Path, scale: int = SCALE) -> Scenario:
    """The library scenario at ``path`` with its population divided by ``scale``: households of
    every (village, group) cell that has any (at least 3), arrivals and departures (at least 1),
    places of every programme entry (at least 1) and the survey's sample; nothing removed."""
    from model.activities import catalogue

    raw = load_scenario(path).model_dump(mode="python")
    pop = raw["population"]
    for village in pop["villages"].values():
        village["households"] = {g: (max(3, round(n / scale)) if n > 0 else 0)
                                 for g, n in village["households"].items()}
    for move in pop.get("movements") or []:
        move["households"] = max(1, round(move["households"] / scale))
    for entry in raw["programme"]:
        places = entry["places"] if entry["places"] is not None else catalogue()[entry["activity"]].places_per_session
        entry["places"] = max(1, round(places / scale))
    raw["survey"]["sample_size"] = max(10, raw["survey"]["sample_size"] // scale)
    raw["name"] = f"{raw['name']}_div{scale}"
    return Scenario.model_validate(raw)


def state_arrays(model: CohesionModel) -> dict[str, np.ndarray]:
    return {k: v for k, v in vars(model.state).items() if isinstance(v, np.ndarray)}


@pytest.mark.parametrize("path", library(), ids=label)
def test_array_plain_and_reference_forms_give_the_same_states_every_week(path):
    scenario = scaled(path)
    models = {form: CohesionModel(scenario, rng=SEED, step_mode=form) for form in ("array", "plain", "reference")}
    array = models["array"]
    for _ in range(scenario.horizon_weeks):
        for m in models.values():
            m.step()
        expected = state_arrays(array)
        for form in ("plain", "reference"):
            got = state_arrays(models[form])
            assert got.keys() == expected.keys(), f"{form}: state arrays differ at week {array.week}"
            for name, value in expected.items():
                np.testing.assert_allclose(got[name].astype(float), value.astype(float), rtol=0, atol=1e-9,
                                           err_msg=f"{form}: {name} differs at week {array.week}")
            assert models[form].network.n_ties == array.network.n_ties, f"{form}: ties differ at week {array.week}"
    # the run did something: people took part (a scenario without a programme has none)
    assert array.state.ever.any() or not scenario.programme


def _dispatchers() -> list[tuple[object, str, Dispatcher]]:
    """Every (module, attribute, dispatcher) of the ``model`` package's modules: the kernels of
    ``model/kernels.py`` and the names other modules imported them under."""
    found = []
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "model" or name.startswith("model.")):
            continue
        for attr, value in list(vars(module).items()):
            if isinstance(value, Dispatcher):
                found.append((module, attr, value))
    return found


@pytest.mark.parametrize("name", ["qayyarah", "iom_return_area"])
def test_plain_form_calls_no_compiled_kernel(monkeypatch, name):
    """Every mechanism's ``plain`` runs with no compiled kernel (set-up and observation, which
    are no part of the week, may call them). Every dispatcher is replaced by a recorder that
    notes which mechanism called it and then runs it, so one run names every offender. Qayyarah
    has victims (acknowledgement), the return area arrivals; both get shocks and departures."""
    raw = scaled(LIBRARY / f"{name}.yaml").model_dump(mode="python")
    village, spec = next(iter(raw["population"]["villages"].items()))
    group = max(spec["households"], key=spec["households"].get)
    raw["population"]["movements"] = [*(raw["population"].get("movements") or []),
                                      {"kind": "leave", "group": group, "village": village, "households": 3,
                                       "start_week": 5, "end_week": 25}]
    raw["events"] = [{"type": "discriminatory_act", "week": 10, "magnitude": 0.3},
                     {"type": "returns_wave", "week": 20, "magnitude": 0.3},
                     {"type": "security_incident", "week": 30, "magnitude": 0.2}]
    scenario = Scenario.model_validate(raw)
    model = CohesionModel(scenario, rng=SEED, step_mode="plain")
    running: list[str] = []
    calls: set[tuple[str, str]] = set()

    def recorder(attr, kernel):
        def call(*args, **kwargs):
            if running:
                calls.add((running[-1], attr))
            return kernel(*args, **kwargs)
        return call

    for module, attr, kernel in _dispatchers():
        monkeypatch.setattr(module, attr, recorder(attr, kernel))
    for mechanism in model.world.mechanisms:
        def plain(state, world, week, _m=mechanism, _plain=mechanism.plain):
            running.append(_m.name)
            try:
                _plain(state, world, week)
            finally:
                running.pop()
        monkeypatch.setattr(mechanism, "plain", plain)
    for _ in range(40):
        model.step()
    assert model.state.ever.any() and model.network.new_src.size > 0  # the weeks did something
    assert not calls, "compiled kernels called from plain: " + ", ".join(
        f"{m} -> {k}" for m, k in sorted(calls))


def test_an_unknown_step_mode_is_refused():
    from tests.conftest import build, small_raw

    with pytest.raises(ValueError, match="step_mode"):
        CohesionModel(build(small_raw(scale=8)), rng=1, step_mode="fast")
