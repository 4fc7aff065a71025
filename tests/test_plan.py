"""The planner (``cohesion plan``): bad plan files, an impossible budget, a toy catalogue whose best
order is known, the recommended plan reproduced from what it records, and a search resumed after a kill.

Small populations (the Qayyarah file divided by 4) and few trials and replicates keep each test
well under a minute.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from experiments.cli import app
from tests.conftest import ROOT, small_raw

SMALL_SEARCH = {"trials": 6, "replicates": 2, "batch": 3, "finalists": 2, "rescore_replicates": 6, "seed": 3}


def _population(tmp_path: Path) -> Path:
    path = tmp_path / "population.yaml"
    path.write_text(yaml.safe_dump(small_raw(4), sort_keys=False))
    return path


def _plan(tmp_path: Path, **overrides) -> Path:
    raw = {"name": "small_plan", "population": str(_population(tmp_path)), "delivered": str(_population(tmp_path)),
           "activities": ["family_pss", "recreation", "dialogue"], "budget": 1e7, "weeks": 52,
           "follow_up_weeks": 26, "objectives": ["acceptance_least_group", "cost"],
           "harm": {"max_probability": 0.99}, "search": dict(SMALL_SEARCH)}
    for k, v in overrides.items():
        raw[k] = {**raw[k], **v} if isinstance(v, dict) and isinstance(raw.get(k), dict) else v
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def test_a_bad_plan_file_names_the_file_and_the_field_and_exits_2(tmp_path):
    path = _plan(tmp_path, objectives=["acceptance_least_group", "happiness"], activities=["dialogue", "yoga"])
    res = CliRunner().invoke(app, ["plan", str(path), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2, res.output
    assert "plan.yaml" in res.output
    assert "objectives" in res.output and "acceptance_worst_village" in res.output   # what is allowed
    assert "activities" in res.output and "yoga" in res.output
    fix = _plan(tmp_path, fixes=[{"activity": "counselling", "every_village": True}])
    res = CliRunner().invoke(app, ["plan", str(fix), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2 and "fixes[0].activity" in res.output


def test_an_impossible_budget_is_said_plainly_with_exit_0(tmp_path):
    path = _plan(tmp_path, budget=50)
    res = CliRunner().invoke(app, ["plan", str(path), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "no plan under 50 USD" in " ".join(res.output.split())
    assert not (tmp_path / "out" / "recommended.yaml").exists()
    summary = yaml.safe_load((tmp_path / "out" / "summary.json").read_text())
    assert summary["recommended"] is None and summary["findings"][0].startswith("no plan under 50 USD")


TOY = {
    "prep": {"description": "toy PSS: raises coping and well-being, so readiness for contact", "level": "family",
             "programme": "both", "sessions_per_week": 1, "places_per_session": 80, "cycle_weeks": 8,
             "cost_per_session": 10, "channels": {"coping": 1.5, "wellbeing": 1.5, "stigma": 1.0}},
    "meet": {"description": "toy contact between groups", "level": "group", "programme": "both",
             "mixes_groups": True, "sessions_per_week": 2, "places_per_session": 80, "cycle_weeks": 8,
             "cost_per_session": 10, "channels": {"contact": 1.5, "ties": 0.5}},
}


@pytest.fixture
def toy_catalogue(tmp_path, monkeypatch):
    import model.activities as acts

    path = tmp_path / "toy_catalogue.yaml"
    path.write_text(yaml.safe_dump(TOY))
    monkeypatch.setattr(acts, "CATALOGUE_PATH", path)
    acts.catalogue.cache_clear()
    yield path
    acts.catalogue.cache_clear()


def test_on_a_toy_catalogue_the_planner_puts_support_before_contact(tmp_path, toy_catalogue):
    """Contact before readiness backfires (DOMAIN.md); by construction the toy's best plans run ``prep``
    (eight weeks of PSS for most households) before ``meet`` (eight weeks of mixed contact). Measured
    with 12 replicates: every order with prep first ends with the least-accepting group at 0.49-0.50,
    every other order at 0.40 (standard error 0.02)."""
    from experiments.plan_outputs import make_plan

    raw = small_raw(4, programme=[], horizon_weeks=32)
    raw["survey"].update(endline_week=24, frame="households")
    raw["survey"].pop("surveyed_activities", None)
    (tmp_path / "population.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    plan = {"name": "toy", "population": "population.yaml", "activities": ["prep", "meet"], "budget": 1e7,
            "weeks": 24, "follow_up_weeks": 8, "objectives": ["acceptance_least_group"],
            "harm": {"max_probability": 1.0},     # no harm bound: the test is about the order
            "search": {"trials": 14, "replicates": 8, "batch": 2, "week_step": 8, "min_weeks": 8, "max_weeks": 8,
                       "intensity": [1.0], "finalists": 2, "rescore_replicates": 8, "params": "defaults",
                       "robust": False, "seed": 1}}
    (tmp_path / "toy.yaml").write_text(yaml.safe_dump(plan))
    summary = make_plan(tmp_path / "toy.yaml", out=tmp_path / "out", progress=False)
    assert summary["recommended"] is not None, summary["findings"]
    rec = yaml.safe_load((tmp_path / "out" / "recommended.yaml").read_text())
    start = {e["activity"]: e["start_week"] for e in rec["programme"]}
    end = {e["activity"]: e["end_week"] for e in rec["programme"]}
    assert end["prep"] < start["meet"], rec["programme"]


def test_the_recommended_plan_reproduces_its_figures_from_what_it_records(tmp_path):
    """recommended.yaml, run again by `cohesion compare` with the seed, replicates and parameter file
    it records, gives the very numbers the planner reported (rescored.csv)."""
    from experiments.compare import compare
    from experiments.plan import metrics
    from scenarios import load_scenario

    path = _plan(tmp_path)
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["plan", str(path), "--out", str(out)])
    assert res.exit_code == 0, res.output
    summary = yaml.safe_load((out / "summary.json").read_text())
    rec = summary["recommended"]
    assert rec is not None and (out / "gantt.png").is_file() and (out / "pareto.png").is_file()
    assert (out / "comparison.csv").is_file() and (out / "pareto.csv").is_file()
    header = (out / "recommended.yaml").read_text().splitlines()[:4]
    assert any("--seed 4" in line and "--replicates 6" in line for line in header), header
    spec = load_scenario(out / "recommended.yaml")
    again = compare([out / "recommended.yaml"], replicates=6, seed=summary["reproduce"]["seed"],
                    params=str(out / "rescore_params.csv"), reference=None, progress=False)
    mine = metrics(again.measures, spec.group_names(), spec.village_names(), 0.2)
    planner = pd.read_csv(out / "rescored.csv")
    planner = planner[planner.candidate == rec].sort_values("replicate")
    for col in ("acceptance_least_group", "acceptance_worst_village", "wellbeing", "cost", "gain"):
        np.testing.assert_array_equal(mine[col].to_numpy(float), planner[col].to_numpy(float), err_msg=col)


def _complete_trials(db: Path, name: str) -> list:
    import optuna
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.load_study(study_name=name, storage=f"sqlite:///{db}")
    except Exception:  # noqa: BLE001 - not created yet
        return []
    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def test_a_killed_search_resumes_with_no_trial_lost_or_counted_twice(tmp_path):
    import optuna
    from optuna.trial import TrialState

    path = _plan(tmp_path, search={"trials": 24, "batch": 3, "replicates": 2, "rescore_replicates": 4})
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "experiments.cli", "plan", str(path), "--out", str(out)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 50
    while len(_complete_trials(out / "study.db", "small_plan")) < 6:
        assert proc.poll() is None and time.time() < deadline, "the search did not get going"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    kept = {t.number: t.params for t in _complete_trials(out / "study.db", "small_plan")}
    assert 6 <= len(kept) < 24
    res = CliRunner().invoke(app, ["plan", str(path), "--out", str(out), "--resume"])
    assert res.exit_code == 0, res.output
    study = optuna.load_study(study_name="small_plan", storage=f"sqlite:///{out / 'study.db'}")
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    assert len(done) == 24                                           # counted once
    assert all(study.trials[n].params == p for n, p in kept.items())  # the finished ones kept as they were
    failed = study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
    retried = {t.user_attrs.get("retry_of") for t in done}
    assert all(t.number in retried for t in failed)                  # what was being scored is scored again
    assert not study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))


def test_the_dashboard_labels_sliders_in_words_and_opens_a_recommended_plan(tmp_path, monkeypatch):
    from dataclasses import fields

    from experiments import dashboard as dash
    from model import Params

    docs = {f.name: f.metadata["doc"] for f in fields(Params)}
    for s in dash.SLIDERS:
        assert s.label and s.unit and s.label != s.name, s.name          # words and a unit, not the code name
        if s.name in docs:
            assert s.meaning == docs[s.name]                               # the parameter's own one-line doc
    labels = [p.label for p in dash.model_params().values() if hasattr(p, "label")]
    assert not set(labels) & set(docs)
    raw = small_raw(4, name="planned")
    rec = tmp_path / "recommended.yaml"
    rec.write_text(yaml.safe_dump(raw, sort_keys=False))
    monkeypatch.setenv(dash.OPEN_ENV, str(rec))
    names = list(dash.library())
    assert dash.default_scenario(names).startswith("opened/") and dash.library()[dash.default_scenario(names)] == rec
    m = dash.DashboardModel(scenario_name=dash.default_scenario(names))
    assert m.runs[0].spec.name == "planned"
