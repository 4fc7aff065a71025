"""Calibration: the targets file, its validation, the distance weights, resume, and the committed posterior."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from calibration.fit import BUDGETS, Budget, calibrate, load_parameter_choice, posterior_table, prior
from calibration.posterior import POSTERIOR_PATH, load_posterior, resolve_params
from calibration.targets import TARGETS_PATH, load_targets
from experiments.cli import app
from common.errors import InputError
from model.params import Params, names, ranges
from scenarios import load_scenario
from tests.conftest import QAYYARAH, build, small_raw

VILLAGES = ["Imam Gharbi", "Haj Ali", "Jmisah"]


def raw_targets() -> dict:
    return copy.deepcopy(yaml.safe_load(TARGETS_PATH.read_text()))


def write(tmp_path, raw) -> str:
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


# --- the targets file -------------------------------------------------------------------------

def test_targets_hold_every_figure_of_the_domain_table_and_no_invented_baseline():
    t = load_targets(TARGETS_PATH, VILLAGES)
    reported = {(x.item, x.wave, x.group): x.value for x in t.reported()}
    assert reported == {
        ("acceptance", "baseline", "all"): 0.65, ("acceptance", "endline", "all"): 0.89,
        ("acceptance", "baseline", "VF"): 0.53, ("acceptance", "endline", "VF"): 0.89,
        ("acceptance", "endline", "FPA"): 0.90,
        ("wellbeing_mean", "baseline", "all"): 0.62, ("wellbeing_mean", "endline", "all"): 0.78,
    }
    fpa_baseline = [x for x in t.targets if (x.item, x.wave, x.group) == ("acceptance", "baseline", "FPA")]
    assert len(fpa_baseline) == 1 and fpa_baseline[0].value is None
    for x in t.targets:
        assert x.quote and x.population
        # the presentation gives no sample size: each one is marked as an assumption
        assert x.sample_size.source.startswith("ASSUMPTION")


def test_distance_weights_are_one_over_the_sampling_error():
    t = load_targets(TARGETS_PATH, VILLAGES)
    w = t.weights()
    assert w["endline.acceptance.all.all"] == pytest.approx(1 / np.sqrt(0.89 * 0.11 / 150))
    assert w["endline.acceptance.VF.all"] == pytest.approx(1 / np.sqrt(0.89 * 0.11 / 38))
    assert w["endline.wellbeing_mean.all.all"] == pytest.approx(np.sqrt(150) / 0.114)
    # the same share measured on fewer respondents counts less
    assert w["endline.acceptance.VF.all"] < w["endline.acceptance.all.all"]
    assert "baseline.acceptance.FPA.all" not in w


def mutate(kind: str) -> tuple[dict, str, str]:
    raw = raw_targets()
    first = raw["targets"][0]
    if kind == "unknown item":
        first["item"] = "happiness"
        return raw, "targets[0]", "unknown item 'happiness'; allowed: acceptance"
    if kind == "unknown group":
        first["group"] = "IDP"
        return raw, "targets[0].group", "unknown group 'IDP'; the scenario's groups: FPA, VF, HC, all"
    if kind == "unknown village":
        first["village"] = "Mosul"
        return raw, "targets[0].village", "unknown village 'Mosul'; allowed: Imam Gharbi, Haj Ali, Jmisah, all"
    if kind == "value outside [0, 1]":
        first["value"] = 89
        return raw, "targets[0]", "value: 89.0 is outside [0, 1]"
    if kind == "missing field":
        del first["wave"]
        return raw, "targets[0].wave", "Field required"
    if kind == "missing sample size":
        del raw["targets"][3]["sample_size"]
        return raw, "targets[3].sample_size", "Field required"
    if kind == "typo in a key":
        first["vaule"] = first.pop("value")
        return raw, "targets[0]", "unknown key 'vaule' (did you mean 'value'?)"
    if kind == "baseline of an endline-only item":
        first["item"] = "tension_created"
        return raw, "targets[0]", "asked at endline only"
    raise AssertionError(kind)


KINDS = ["unknown item", "unknown group", "unknown village", "value outside [0, 1]", "missing field",
         "missing sample size", "typo in a key", "baseline of an endline-only item"]


@pytest.mark.parametrize("kind", KINDS)
def test_bad_targets_file_gives_one_message_naming_file_and_field(tmp_path, kind):
    raw, field, what = mutate(kind)
    path = write(tmp_path, raw)
    with pytest.raises(InputError) as err:
        load_targets(path, VILLAGES, ["FPA", "VF", "HC"])
    msg = str(err.value)
    assert str(path) in msg and field in msg and what in msg, msg


def test_cli_refuses_a_bad_targets_file_with_exit_status_2_before_simulating(tmp_path):
    raw, field, _ = mutate("value outside [0, 1]")
    path = write(tmp_path, raw)
    result = CliRunner().invoke(app, ["calibrate", str(path), "--budget", "small", "--name", "never"])
    assert result.exit_code == 2, result.output
    assert str(path) in result.output and field in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(app, ["calibrate", "--budget", "huge"])
    assert result.exit_code == 2 and "allowed: tiny, small, default, large" in result.output


def test_parameter_choice_names_only_model_parameters_and_gives_reasons(tmp_path):
    choice = load_parameter_choice()
    assert set(choice.calibrated) <= set(names()) and len(choice.calibrated) >= 3
    assert all(len(reason) > 40 for reason in choice.calibrated.values())
    bad = tmp_path / "parameters.yaml"
    bad.write_text(yaml.safe_dump({"calibrated": {"alpha_contact": "typo"}, "fixed_reason": "x"}))
    with pytest.raises(InputError, match=r"\['alpha_contact'\] are not parameters of the model"):
        load_parameter_choice(bad)


def test_priors_are_uniform_over_the_declared_ranges():
    p = prior(["acceptance_threshold", "alpha_coping"])
    draws = pd.DataFrame([p.rvs() for _ in range(400)])
    for k in draws:
        lo, hi = ranges()[k]
        assert draws[k].min() >= lo and draws[k].max() <= hi
        assert draws[k].min() < lo + 0.1 * (hi - lo) and draws[k].max() > hi - 0.1 * (hi - lo)


# --- resume -----------------------------------------------------------------------------------

def test_a_stopped_calibration_resumes_without_losing_finished_generations(tmp_path):
    spec = build(small_raw(scale=6))
    targets = load_targets(TARGETS_PATH, spec.village_names())
    one = Budget(population=12, generations=1, max_simulations=500, max_minutes=2, min_acceptance=0.0, predictive=0)
    calibrated = ["acceptance_threshold", "alpha_coping"]
    h1 = calibrate(spec, targets, calibrated, one, tmp_path, seed=3, workers=1)
    first = posterior_table(h1)
    sims_first = h1.total_nr_simulations
    two = Budget(**{**one.__dict__, "generations": 2})
    h2 = calibrate(spec, targets, calibrated, two, tmp_path, seed=3, workers=1)
    assert h2.max_t == 1
    again, _ = h2.get_distribution(m=0, t=0)
    pd.testing.assert_frame_equal(first[calibrated], again.reset_index(drop=True)[calibrated], check_names=False)
    assert h2.total_nr_simulations > sims_first
    # another calibration is refused in the same folder rather than mixed into it
    with pytest.raises(InputError, match="another --name, or --restart"):
        calibrate(spec, targets, ["acceptance_threshold"], two, tmp_path, seed=3, workers=1)


# --- the committed posterior ------------------------------------------------------------------

def test_committed_posterior_is_used_by_default_and_says_how_it_was_made():
    assert POSTERIOR_PATH.is_file(), "calibration/posterior.csv is committed"
    header = [line for line in POSTERIOR_PATH.read_text().splitlines() if line.startswith("#")]
    text = "\n".join(header)
    assert "command: cohesion calibrate" in text and "pyabc" in text and "versions" in text
    post = load_posterior()
    assert set(post.columns) - {"weight"} == set(load_parameter_choice().calibrated)
    sets, source = resolve_params("posterior", 5, seed=7)
    assert source == str(POSTERIOR_PATH)
    lo, hi = ranges()["readiness_threshold"]  # a calibrated parameter
    assert all(lo <= p.readiness_threshold <= hi for p in sets)
    assert len({p.readiness_threshold for p in sets}) > 1  # replicates draw different parameter sets
    assert all(p.w_stigma == Params().w_stigma for p in sets)  # uncalibrated ones stay at their defaults


def test_a_posterior_with_unknown_columns_is_refused_with_the_names(tmp_path):
    bad = tmp_path / "post.csv"
    bad.write_text("# made by hand\nacceptance_threshold,alpha_contact,weight\n0.5,0.1,1\n")
    with pytest.raises(InputError, match=r"\['alpha_contact'\] are not parameters of the model"):
        load_posterior(bad)


def test_budgets_small_and_default_fit_the_time_limits():
    # the wall-time caps are what keep small < 3 min and default < 30 min on this machine
    assert BUDGETS["small"].max_minutes <= 2 and BUDGETS["default"].max_minutes <= 25


def test_scenario_for_calibration_is_the_library_one():
    assert load_scenario(QAYYARAH).survey.endline_week == 52


# --- the whole command --------------------------------------------------------------------------

def test_calibrate_command_writes_posterior_fit_table_predictions_and_figures(tmp_path, monkeypatch):
    from calibration import command

    raw = small_raw(scale=6)
    scenario = tmp_path / "small.yaml"
    scenario.write_text(yaml.safe_dump(raw, sort_keys=False))
    monkeypatch.setattr(command, "POSTERIOR_PATH", tmp_path / "installed.csv")
    monkeypatch.setattr(command, "INSTALLED", tmp_path / "installed")
    summary = command.run_calibration(TARGETS_PATH, scenario, "tiny", "demo", seed=2, workers=1, install=True,
                                      results=tmp_path / "results", command="cohesion calibrate --budget tiny")
    out = tmp_path / "results" / "demo"
    for name in command.INSTALLED_FILES + ("posterior.csv", "abc.db", "config.json"):
        assert (out / name).is_file(), name
    fit = pd.read_csv(out / "fit.csv")
    assert len(fit) == len(load_targets(TARGETS_PATH).targets)
    assert set(fit.status) <= {"inside", "missed", "not reported (prediction only)"}
    assert fit.loc[fit.observed.isna(), "status"].eq("not reported (prediction only)").all()
    predictions = pd.read_csv(out / "predictions.csv")
    fitted = {(r.wave, r.item, r.group, r.village) for r in fit[fit.observed.notna()].itertuples()}
    assert not fitted & {(r.wave, r.item, r.group, r.village) for r in predictions.itertuples()}
    assert {"improved_perceptions", "tension_reduced", "wellbeing_good"} <= set(predictions["item"])
    post = load_posterior(tmp_path / "installed.csv")
    assert set(post.columns) - {"weight"} == set(load_parameter_choice().calibrated)
    assert post["weight"].sum() == pytest.approx(1.0)
    assert summary["simulations"] > 0 and summary["generations"] == 2


def test_predictive_only_remakes_the_check_and_keeps_the_posterior(tmp_path, monkeypatch):
    from calibration import command

    raw = small_raw(scale=6)
    scenario = tmp_path / "small.yaml"
    scenario.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(InputError, match="posterior.csv"):  # nothing to check yet
        command.run_calibration(TARGETS_PATH, scenario, "tiny", "demo", workers=1, results=tmp_path / "results",
                                predictive_only=True)
    out = tmp_path / "results" / "demo"
    out.mkdir(parents=True)
    (out / "posterior.csv").write_text(POSTERIOR_PATH.read_text())
    (out / "summary.json").write_text(json.dumps({"simulations": 123, "abc_seconds": 4.5}))
    summary = command.run_calibration(TARGETS_PATH, scenario, "tiny", "demo", seed=2, workers=1,
                                      results=tmp_path / "results", predictive_only=True,
                                      command="cohesion calibrate --budget tiny --predictive-only")
    assert (out / "posterior.csv").read_text() == POSTERIOR_PATH.read_text()  # the posterior is kept
    assert not (out / "abc.db").exists()                                      # no ABC was run
    fit = pd.read_csv(out / "fit.csv")
    assert len(fit) == len(load_targets(TARGETS_PATH).targets) and (out / "observed_vs_predicted.png").is_file()
    assert summary["simulations"] == 123 and summary["abc_seconds"] == 4.5  # the ABC's record is kept
    assert summary["predictive_check"]["command"] == "cohesion calibrate --budget tiny --predictive-only"
    assert summary["predictive_runs"] == command.BUDGETS["tiny"].predictive
    assert json.loads((out / "summary.json").read_text()) == json.loads(json.dumps(summary, default=float))


def test_docs_show_the_fit_table_of_the_committed_posterior():
    from calibration.doc_tables import BLOCKS, DOC, current_block

    text = DOC.read_text(encoding="utf-8")
    for tag, make in BLOCKS.items():
        assert current_block(text, tag) == make(), (
            f"the {tag} table of docs/calibration.md is out of date; run `.venv/bin/python -m calibration.doc_tables`")
