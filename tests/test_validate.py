"""``cohesion validate`` (issue 12, part 4): a registered prediction, and observed figures set
against every registration.

The coverage test needs no recalibration: a tiny registration (a small population, a few dozen
runs on a small posterior) predicts every survey figure; each figure is then "observed" in a run
of its own drawn from the same posterior predictive (another seed), so the figures' observations
are independent of each other and exchangeable with the registration's draws. Under that null,
each figure falls inside its 90% interval with the probability the registration's own draws give
it (leave one out: ties at 0 or 1 make it more than 90% for some figures), the number inside is
a sum of independent Bernoulli trials, and the PIT values (mid-ranks) are uniform with mean 1/2.
"""

from __future__ import annotations

import json
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

from calibration import validate as val
from calibration.fit import load_parameter_choice
from calibration.report import KEY_COLUMNS, predictive_survey
from calibration.targets import TARGETS_PATH
from common.errors import InputError
from experiments.cli import app
from model import outcomes
from model.params import ranges
from scenarios import load_scenario
from tests.conftest import ROOT, small_raw
from tests.test_runner_support import write_scenario

REPLICATES = 60     # the registration's draws
OBSERVATION_SEED = 1234


def tiny_posterior(path: Path, rows: int = 30, seed: int = 0) -> Path:
    """A posterior over the calibrated parameters: values in the middle half of each range."""
    rng = np.random.default_rng(seed)
    r = ranges()
    table = {k: r[k][0] + (r[k][1] - r[k][0]) * rng.uniform(0.25, 0.75, rows) for k in load_parameter_choice().calibrated}
    pd.DataFrame({**table, "weight": np.full(rows, 1.0 / rows)}).to_csv(path, index=False)
    return path


def observed_yaml(figures: pd.DataFrame, path: Path) -> Path:
    """Figures (one row each: wave, item, group, village, value, n) in the form of targets.yaml."""
    targets = []
    for r in figures.itertuples():
        t = {"item": r.item, "wave": r.wave, "group": r.group, "village": r.village, "value": float(r.value),
             "population": "simulated respondents", "quote": "drawn from the posterior predictive (a test)",
             "sample_size": {"n": max(1, int(r.n)), "source": "ASSUMPTION: the run's respondents"}}
        if not outcomes.OUTCOMES[r.item].proportion:
            t["score_sd"] = 0.114
        targets.append(t)
    path.write_text(yaml.safe_dump({"source": "a test", "targets": targets}, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    """A small scenario, a tiny posterior, a registration of it, and one observation per figure,
    each from a run of its own."""
    d = tmp_path_factory.mktemp("validate")
    scenario = write_scenario(small_raw(scale=8, horizon_weeks=52), d / "small.yaml")   # runs end at the endline
    posterior = tiny_posterior(d / "posterior.csv")
    reg = val.predict(posterior, scenario, REPLICATES, seed=3, out=d / "reg" / "tiny.csv", workers=1, progress=False)
    figures = reg.table[KEY_COLUMNS].reset_index(drop=True)
    runs = predictive_survey(val.load_posterior(posterior), load_scenario(scenario), len(figures), OBSERVATION_SEED,
                             workers=1, progress=False)
    by_run = runs.set_index(["replicate", *KEY_COLUMNS])
    picked = []
    for k, f in enumerate(figures.itertuples(index=False)):
        if (k, *f) in by_run.index:
            row = by_run.loc[(k, *f)]
            picked.append({**f._asdict(), "value": float(row["value"]), "n": int(row["n"])})
    observed = observed_yaml(pd.DataFrame(picked), d / "observed.yaml")
    return {"dir": d, "scenario": scenario, "posterior": posterior, "registration": reg.out, "observed": observed,
            "figures": len(figures), "prediction": reg}


def loo_coverage(draws: np.ndarray) -> float:
    """P(a new draw inside the 90% interval of the others), leaving each draw out in turn."""
    inside = []
    for i in range(draws.size):
        rest = np.delete(draws, i)
        lo, hi = np.quantile(rest, [0.05, 0.95])
        inside.append(lo <= draws[i] <= hi)
    return float(np.mean(inside))


# --- the registration -------------------------------------------------------------------------------
def test_the_registration_predicts_every_survey_item_and_says_how_it_was_made(world):
    reg = val.read_registration(world["registration"])
    items = set(reg.table.index.get_level_values("item"))
    assert items == set(outcomes.item_names())                  # the registry's items, none hand-listed
    assert {"positive_view_shift", "rated_interactions_positive"} <= items
    spec = load_scenario(world["scenario"])
    shift = reg.table.xs(("endline", "positive_view_shift"), level=("wave", "item")).index
    assert {g for g, v in shift if v == "all"} == {"all", *spec.group_names()}
    assert {v for g, v in shift if g == "all"} == {"all", *spec.village_names()}
    h = reg.header
    assert h["command"] and h["git"] and h["made"] and h["replicates"] == str(REPLICATES)
    assert h["posterior_sha256"] == val.results.sha256_file(world["posterior"])
    assert reg.draws is not None and all(len(v) == REPLICATES for v in reg.draws.values())
    record = json.loads((world["registration"].with_suffix(".json")).read_text())["provenance"]
    assert record["inputs"]["posterior"]["sha256"] == h["posterior_sha256"]
    assert set(record["files"]) == {"tiny.csv", "tiny.draws.parquet"}
    assert not val.runs_folder(world["registration"]).exists()  # the runs are gone once registered
    used = reg.table[reg.table.used_for != val.HELD_BACK]
    reported = [t for t in yaml.safe_load(TARGETS_PATH.read_text())["targets"] if t["value"] is not None]
    assert len(used) == len(reported) and set(used.used_for) <= {"fit", "initial_conditions"}


def test_the_issue_items_are_checked_against_the_registry(monkeypatch, tmp_path):
    assert not val.missing_items(), "the registry lacks items issue 12 asks a registration to predict"
    monkeypatch.delitem(outcomes.OUTCOMES, "openness")
    assert val.missing_items() == ["openness"]
    made = []
    monkeypatch.setattr(val, "predict", lambda *a, **k: made.append(a) or val.Prediction(
        out=a[4], table=pd.DataFrame({"item": ["x"]}), missing=[], replicates=2, seconds=0.0))
    res = CliRunner().invoke(app, ["validate", "--predict", "--out", str(tmp_path / "p.csv")])
    assert res.exit_code == 0 and made, res.output
    assert "warning" in res.output and "'openness'" in " ".join(res.output.split())


# --- coverage and calibration of the p-values ------------------------------------------------------------
def test_observations_from_the_posterior_predictive_are_covered_at_the_rate_the_registration_claims(world):
    reg = val.read_registration(world["registration"])
    table = val.compare(val.load_targets(world["observed"]), [reg])
    assert len(table) >= 0.9 * world["figures"] and (table.status != "not predicted").all()
    inside = table.inside.astype(bool).to_numpy()
    keys = [tuple(k) for k in table[KEY_COLUMNS].itertuples(index=False)]
    claimed = np.array([loo_coverage(reg.draws[k]) for k in keys])
    # the count inside is a sum of independent Bernoulli(claimed_k): its sd
    sd = np.sqrt(np.sum(claimed * (1 - claimed))) / len(keys)
    assert 0.88 <= claimed.mean() <= 0.99, claimed.mean()       # 90% intervals, more where draws tie
    assert abs(inside.mean() - claimed.mean()) <= 3 * sd + 0.01, (inside.mean(), claimed.mean(), sd)


def test_the_p_values_of_such_observations_are_roughly_uniform(world):
    reg = val.read_registration(world["registration"])
    table = val.compare(val.load_targets(world["observed"]), [reg])
    pit, p = table.pit.to_numpy(float), table.p_value.to_numpy(float)
    k = len(pit)
    # mid-rank PIT: mean 1/2 and variance at most 1/12 under the null
    assert abs(pit.mean() - 0.5) <= 3 * np.sqrt(1 / 12 / k), pit.mean()
    # valid p-values: P(p <= a) <= a, up to the binomial spread over k figures
    for a in (0.1, 0.2, 0.5):
        assert (p <= a).mean() <= a + 3 * np.sqrt(a * (1 - a) / k), (a, (p <= a).mean())
    # and not piled at 1: figures whose draws do not all tie spread over (0, 1) (Kolmogorov-Smirnov, 1%)
    varied = np.array([np.ptp(reg.draws[tuple(key)]) > 0 for key in table[KEY_COLUMNS].itertuples(index=False)])
    u = np.sort(pit[varied])
    ks = np.max(np.maximum(np.arange(1, u.size + 1) / u.size - u, u - np.arange(u.size) / u.size))
    assert ks <= 1.63 / np.sqrt(u.size), (ks, u.size)


def test_scores_against_known_values():
    rng = np.random.default_rng(1)
    x = rng.normal(0.5, 0.1, 20000)
    # the CRPS of a normal at its mean is sd (2 phi(0) - 1/sqrt(pi)) = 0.0234 for sd 0.1
    assert val.score_draws(x, 0.5)["crps"] == pytest.approx(0.02337, abs=5e-4)
    assert val.score_draws(x, 0.5)["p_value"] == pytest.approx(1.0, abs=0.02)
    assert val.score_draws(x, 0.5 + 1.645 * 0.1)["p_value"] == pytest.approx(0.1, abs=0.01)
    q = np.quantile(x, [0.05, 0.5, 0.95])
    for y in (0.5, 0.62, 0.3, 0.9):
        exact, approx = val.score_draws(x, y), val.score_quantiles(*q, y)
        assert approx["crps"] == pytest.approx(exact["crps"], rel=0.03, abs=1e-3)
        assert approx["pit"] == pytest.approx(exact["pit"], abs=0.01)
    tied = val.score_draws(np.ones(19), 1.0)                    # every draw at 100%, observed 100%
    assert tied["pit"] == 0.5 and tied["p_value"] == 1.0 and tied["crps"] == 0.0
    assert val.score_draws(np.ones(19), 0.7)["p_value"] == pytest.approx(0.05)   # the least 19 draws can give


def test_the_quantile_approximation_tracks_the_draws_on_model_output(world):
    """The first registration kept only quantiles: how far its approximate CRPS is from the exact one."""
    reg = val.read_registration(world["registration"])
    table = val.compare(val.load_targets(world["observed"]), [reg])
    approx = [val.score_quantiles(r.p05, r.median, r.p95, r.observed)["crps"] for r in table.itertuples()]
    assert np.mean(approx) == pytest.approx(table.crps.mean(), rel=0.25)


# --- the command line ------------------------------------------------------------------------------------
def test_validate_compares_with_every_registration_and_writes_table_markdown_figure_and_record(world, tmp_path):
    out = tmp_path / "cmp"
    first = val.FIRST_REGISTRATION
    res = CliRunner().invoke(app, ["validate", str(world["observed"]), "--scenario", str(world["scenario"]),
                                   "--registration", str(first), "--registration", str(world["registration"]),
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out / "validation.csv")
    assert set(table.registration) == {val.display(first), val.display(world["registration"])}
    mine = table[table.registration == val.display(world["registration"])]
    assert (mine.status != "not predicted").all() and mine.method.str.startswith("draws").all()
    old = table[(table.registration == val.display(first)) & (table.status != "not predicted")]
    assert len(old) and old.method.str.startswith("quantiles only").all() and old.crps.notna().all()
    for name in ("validation.md", "validation.png", "summary.json"):
        assert (out / name).is_file(), name
    assert "inside the 90% interval" in (out / "validation.md").read_text()
    record = json.loads((out / "summary.json").read_text())["provenance"]
    assert record["inputs"]["observed"]["sha256"] == val.results.sha256_file(world["observed"])
    assert {"validation.csv", "validation.png", "validation.md"} <= set(record["files"])


def test_a_bad_observed_file_is_refused_naming_file_and_field(world, tmp_path):
    raw = yaml.safe_load(world["observed"].read_text())
    raw["targets"][1]["value"] = 1.7
    raw["targets"][2]["item"] = "happiness"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw))
    res = CliRunner().invoke(app, ["validate", str(bad), "--scenario", str(world["scenario"]), "--registration",
                                   str(world["registration"]), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "bad.yaml" in res.output and "targets[1]" in res.output and "value" in res.output
    assert "targets[2]" in res.output and "happiness" in res.output and "allowed" in res.output
    assert not (tmp_path / "o").exists()


def test_a_registration_that_does_not_match_its_header_is_refused_clearly(world, tmp_path):
    reg = world["registration"]
    args = ["validate", str(world["observed"]), "--scenario", str(world["scenario"]), "--out", str(tmp_path / "o")]
    # its draws replaced after the registration
    changed = tmp_path / "changed"
    changed.mkdir()
    (changed / reg.name).write_text(reg.read_text())
    draws = pd.read_parquet(reg.with_name("tiny.draws.parquet"))
    draws.loc[0, "value"] = 1 - draws.loc[0, "value"]
    draws.to_parquet(changed / "tiny.draws.parquet", index=False)
    res = CliRunner().invoke(app, [*args, "--registration", str(changed / reg.name)])
    assert res.exit_code == 2 and "draws_sha256" in res.output and "not the registered draws" in res.output
    # a column renamed
    renamed = tmp_path / "renamed.csv"
    renamed.write_text(reg.read_text().replace(",p05,", ",p5,"))
    res = CliRunner().invoke(app, [*args, "--registration", str(renamed)])
    assert res.exit_code == 2 and "renamed.csv" in res.output and "columns: ['p05'] missing" in res.output
    # the table's quantiles edited by hand, the header left alone
    edited = changed / "edited.csv"
    (changed / "tiny.draws.parquet").write_bytes(reg.with_name("tiny.draws.parquet").read_bytes())
    lines = reg.read_text().splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("endline,openness,all,all"))
    cells = lines[row].split(",")
    cells[5] = "0.0000"
    lines[row] = ",".join(cells)
    edited.write_text("\n".join(lines) + "\n")
    res = CliRunner().invoke(app, [*args, "--registration", str(edited)])
    assert res.exit_code == 2 and "are not those of the draws" in res.output, res.output
    assert "Traceback" not in res.output and not (tmp_path / "o").exists()


def test_predict_refuses_to_overwrite_a_registration_and_needs_one_mode(world, tmp_path):
    res = CliRunner().invoke(app, ["validate", "--predict", "--out", str(world["registration"])])
    assert res.exit_code == 2 and "never overwritten" in res.output
    res = CliRunner().invoke(app, ["validate"])
    assert res.exit_code == 2 and "either --predict" in res.output
    res = CliRunner().invoke(app, ["validate", str(world["observed"]), "--predict"])
    assert res.exit_code == 2 and "not both" in res.output
    res = CliRunner().invoke(app, ["validate", "--predict", "--out", str(tmp_path / "p.txt")])
    assert res.exit_code == 2 and ".csv" in res.output



def test_every_registration_is_found_and_none_is_an_error(world, tmp_path, monkeypatch):
    folder = tmp_path / "validation"
    folder.mkdir()
    (folder / "b.csv").write_text(world["registration"].read_text().replace("tiny.draws", "b.draws"))
    (folder / "b.draws.parquet").write_bytes(world["registration"].with_name("tiny.draws.parquet").read_bytes())
    (folder / "b.json").write_text("{}")
    monkeypatch.setattr(val, "VALIDATION", folder)
    assert val.find_registrations(folder, val.FIRST_REGISTRATION) == [val.FIRST_REGISTRATION, folder / "b.csv"]
    res = val.validate(world["observed"], tmp_path / "o", scenario=world["scenario"])
    assert set(res.table.registration) == {val.display(val.FIRST_REGISTRATION), val.display(folder / "b.csv")}
    monkeypatch.setattr(val, "VALIDATION", tmp_path / "none")
    monkeypatch.setattr(val, "FIRST_REGISTRATION", tmp_path / "none.csv")
    res = CliRunner().invoke(app, ["validate", str(world["observed"]), "--scenario", str(world["scenario"]),
                                   "--out", str(tmp_path / "o2")])
    assert res.exit_code == 2 and "no registration found" in res.output


def test_an_interrupted_prediction_resumes_to_the_same_registration(world, tmp_path):
    """Killed with SIGKILL part-way, ``--predict --resume`` keeps the finished runs and registers
    exactly what an uninterrupted prediction registers."""
    out = tmp_path / "killed.csv"
    args = [str(Path(sys.executable).parent / "cohesion"), "validate", "--predict", "--posterior", world["posterior"],
            "--scenario", world["scenario"], "--replicates", str(REPLICATES), "--seed", "3", "--out", out,
            "--workers", "1"]
    env = {**os.environ, "COHESION_FLUSH_SECONDS": "0.1"}
    store = val.runs_folder(out)
    proc = subprocess.Popen(list(map(str, args)), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not list((store / "parts").glob("part-*")) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists() and list((store / "parts").glob("part-*")), "the kill should land part-way"
    done = subprocess.run([*map(str, args), "--resume"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "finished earlier are kept" in " ".join(done.stderr.split())
    again, first = val.read_registration(out), val.read_registration(world["registration"])
    pd.testing.assert_frame_equal(again.table, first.table)
    assert all(np.array_equal(again.draws[k], first.draws[k]) for k in first.draws)
    assert not store.exists()


def test_installing_a_new_posterior_keeps_the_first_registration(tmp_path, monkeypatch):
    from calibration import command

    assert val.FIRST_REGISTRATION == command.INSTALLED / "predictions.csv"
    installed, out = tmp_path / "fit", tmp_path / "results"
    installed.mkdir()
    out.mkdir()
    (installed / "predictions.csv").write_text("the first registration\n")
    for name in (*command.INSTALLED_FILES, "posterior.csv"):
        (out / name).write_text(f"new {name}\n")
    monkeypatch.setattr(command, "INSTALLED", installed)
    monkeypatch.setattr(command, "POSTERIOR_PATH", tmp_path / "posterior.csv")
    assert command.install_posterior(out) == ["predictions.csv"]
    assert (installed / "predictions.csv").read_text() == "the first registration\n"
    assert (installed / "fit.csv").read_text() == "new fit.csv\n" and (tmp_path / "posterior.csv").is_file()
