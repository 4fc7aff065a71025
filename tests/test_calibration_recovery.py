"""Parameter recovery: calibration finds known parameter values from targets the model made.

A budget the suite can afford, the same every time (one process, a fixed number of
generations, no wall-time cap): the Qayyarah scenario at a quarter of its households (same
survey sample of 150, same targets and weights), targets from one run at the known values
``calibration.recovery.TRUTH``; four parameters the screen finds tied to the endline targets
are calibrated, the other calibrated ones held at their known values. The full check (all
calibrated parameters, full scenario) is ``cohesion calibrate --recovery --budget default``
(docs/calibration.md).
"""

from __future__ import annotations

import pytest

from calibration.fit import Budget, calibrate, credible_intervals, posterior_table
from calibration.recovery import TRUTH, synthetic_targets
from calibration.targets import TARGETS_PATH, load_targets
from model.params import Params
from tests.conftest import build, small_raw

FITTED = ["readiness_threshold", "legitimisation_rate", "w_ready_tension", "alpha_coping"]
# four intervals checked at once: at 97.5% each, all four hold their truths with probability at
# least 90% (Bonferroni); at 90% each, only about 66% of the time, even for a well-calibrated posterior
LEVEL = 1 - 0.1 / len(FITTED)
WIDTH = {"alpha_coping": 0.75}  # measured 0.55 here (seed 5), 0.62 on the full scenario at the default budget
BUDGET = Budget(population=50, generations=4, max_simulations=10**6, max_minutes=60, min_acceptance=0.0,
                predictive=0)


@pytest.fixture(scope="module")
def recovered(tmp_path_factory):
    raw = small_raw(scale=4)
    raw["survey"]["sample_size"] = 150
    spec = build(raw)
    targets = synthetic_targets(load_targets(TARGETS_PATH, spec.village_names()), spec, TRUTH, seed=5)
    history = calibrate(spec, targets, FITTED, BUDGET, tmp_path_factory.mktemp("recovery"), seed=5, workers=1,
                        base=Params().with_values(**TRUTH))
    ci = credible_intervals(posterior_table(history), level=LEVEL).set_index("parameter")
    ci["truth"] = ci.index.map(TRUTH)
    return ci, history


@pytest.mark.slow
def test_every_known_value_lies_inside_its_credible_interval(recovered):
    ci, history = recovered
    assert history.max_t == BUDGET.generations - 1
    outside = ci[(ci.truth < ci.low) | (ci.truth > ci.high)]
    assert outside.empty, f"not recovered:\n{outside[['low', 'median', 'high', 'truth']]}"


@pytest.mark.slow
def test_the_targets_narrow_the_best_identified_parameters_well_inside_their_priors(recovered):
    # inside the interval is trivially true of a posterior equal to the prior: the coping gain
    # (pinned by endline well-being) must be learnt. The routes to acceptance (readiness threshold,
    # tension weight, legitimisation) are not narrowed by the three endline acceptance figures
    # (0.94-0.97 of their priors here, 0.87-0.91 on the full scenario: docs/calibration.md), a
    # finding about what four figures can identify, not asserted away
    ci, _ = recovered
    print(ci[["low", "median", "high", "truth", "width_vs_prior"]])
    assert ci.loc["alpha_coping", "width_vs_prior"] < WIDTH["alpha_coping"]
