"""Each reported figure is used once: the baselines set the scenario's initial state
(calibration/targets.yaml, ``used_for: initial_conditions``), so the baseline survey of the
Qayyarah scenario must reproduce them without any calibration.

Tolerance: two standard errors of the mean of six surveys, each with the figure's own sampling
error (``Target.sampling_sd``, from its sample size), plus 0.01 for the seeds' spread in who
enters the frame."""

import numpy as np
import pandas as pd
import pytest

from calibration.targets import load_targets
from model import CohesionModel
from scenarios import DEFAULT_SCENARIO, load_scenario

SEEDS = range(6)


@pytest.fixture(scope="module")
def baseline_survey():
    scenario = load_scenario(DEFAULT_SCENARIO)
    rows = []
    for seed in SEEDS:
        m = CohesionModel(scenario, rng=seed).run(weeks=scenario.survey.endline_week)
        rows.append(m.survey_results())
    s = pd.concat(rows)
    return s[s.wave == "baseline"].groupby(["item", "group", "village"]).value.mean()


def test_the_baselines_that_set_the_initial_state_are_reproduced(baseline_survey):
    targets = [t for t in load_targets().reported() if t.used_for == "initial_conditions"]
    assert {(t.item, t.group) for t in targets} == {("acceptance", "all"), ("acceptance", "VF"),
                                                     ("wellbeing_mean", "all")}
    for t in targets:
        simulated = baseline_survey[(t.item, t.group, t.village)]
        tolerance = 2 * t.sampling_sd() / np.sqrt(len(SEEDS)) + 0.01
        assert abs(simulated - t.value) <= tolerance, (t.key, simulated, t.value, tolerance)


def test_the_calibration_fits_only_the_endline_figures():
    observed = load_targets().observed()
    assert observed and all(k.startswith("endline.") for k in observed)
