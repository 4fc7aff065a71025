"""Regression baseline: a seeded Qayyarah run's key outputs, stored and compared.

A change of behaviour, intended or not, shows here at once. After an intended change, rewrite
the baseline and commit it with the change that explains it:

    .venv/bin/python -m tests.test_regression --update
"""

import json
import sys
from pathlib import Path

import numpy as np

from model import CohesionModel, Params
from scenarios import load_scenario
from tests.conftest import ROOT

BASELINE = Path(__file__).with_name("baselines") / "qayyarah_seed7.json"


def key_outputs() -> dict[str, float]:
    m = CohesionModel(load_scenario(ROOT / "scenarios/qayyarah.yaml"), Params(), rng=7).run()
    s = m.survey_results()
    overall = s[(s.group == "all") & (s.village == "all")]
    out = {f"{r.wave}.{r.item}": float(r.value) for r in overall.itertuples()}
    st = m.state
    out.update({"mean.wellbeing": float(st.wellbeing.mean()), "mean.coping": float(st.coping.mean()),
                "mean.stigma": float(st.stigma.mean()), "mean.attitude": float(st.mean_other_attitude().mean()),
                "mean.need": float(st.need.mean()), "ties.new": float(m.network.new_src.size),
                "ever": float(st.ever.sum()), "tension.sum": float(st.tension.sum()), "cost": float(m.cost)})
    return out


def test_seeded_qayyarah_run_matches_its_stored_baseline():
    stored = json.loads(BASELINE.read_text())
    now = key_outputs()
    assert set(now) == set(stored)
    for key, value in stored.items():
        # same code, same seed: equal up to floating-point reordering
        assert np.isclose(now[key], value, rtol=1e-9, atol=1e-9), f"{key}: {now[key]} != stored {value}"


if __name__ == "__main__":
    if "--update" in sys.argv:
        BASELINE.write_text(json.dumps(key_outputs(), indent=1, sort_keys=True))
        print(f"wrote {BASELINE}")
