"""Parameter recovery: targets made by the model itself at known values, then calibrated.

The synthetic targets are one run's survey at the known values (the same items, waves,
groups and sample sizes as the real targets; a figure the programme did not report stays
unreported), so they carry the survey's sampling noise as the real figures do. Calibration
recovers a parameter when its known value lies inside the 90% credible interval; it
*identifies* it when that interval is also clearly narrower than the prior's.

    cohesion calibrate --recovery --budget default --name recovery-default   # the larger check
"""

from __future__ import annotations

from runner import Task
from model.params import Params
from scenarios.schema import Scenario

from .simulate import statistics, survey_at_endline
from .targets import TargetsFile

# Known values, away from the defaults and inside the declared ranges (model/params.py).
TRUTH = {
    "readiness_threshold": 0.2,
    "w_ready_tension": 0.6,
    "legitimisation_rate": 0.004,
    "alpha_contact_pos": 0.09,
    "contact_neg_ratio": 2.5,
    "alpha_coping": 0.1,
    "theta_coping": 0.5,
}


def synthetic_targets(targets: TargetsFile, scenario: Scenario, truth: dict[str, float], seed: int) -> TargetsFile:
    """``targets`` with each reported value replaced by the model's survey at ``truth``."""
    params = Params().with_values(**truth)
    survey = survey_at_endline(Task(index=0, scenario=scenario, params=params, root_seed=seed, seed_key=2**30))
    values = statistics(survey, [t.key for t in targets.reported()])
    new = [t.model_copy(update={"value": round(values[t.key], 4),
                                "quote": f"synthetic: the model's survey at known values (seed {seed})"})
           if t.reported else t for t in targets.targets]
    return targets.model_copy(update={"targets": new, "source": "synthetic (parameter recovery)"})
