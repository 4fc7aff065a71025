"""Sensitivity sweeps: the SALib pipeline proven on known answers, the sweep file checked,
programme design transformations, and a sweep on a Dask cluster started as separate processes."""

from __future__ import annotations

import math
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
from experiments.sweep import (DesignFactor, Factor, SamplePoint, apply_design, load_sweep, run_model_sweep,
                               run_sweep)
from common.errors import InputError
from tests.test_runner_support import tiny_raw, write_scenario

ROOT = Path(__file__).resolve().parents[1]
A, B = 7.0, 0.1
# Ishigami's analytic indices (Ishigami and Homma 1990; SALib's test function)
V = A**2 / 8 + B * np.pi**4 / 5 + B**2 * np.pi**8 / 18 + 0.5
V1 = 0.5 * (1 + B * np.pi**4 / 5) ** 2
V2 = A**2 / 8
V13 = B**2 * np.pi**8 * (1 / 18 - 1 / 50)
S1_TRUE = np.array([V1 / V, V2 / V, 0.0])
ST_TRUE = np.array([(V1 + V13) / V, V2 / V, V13 / V])


def ishigami(task: SamplePoint) -> dict[str, pd.DataFrame]:
    x = dict(task.values)
    y = math.sin(x["x1"]) + A * math.sin(x["x2"]) ** 2 + B * x["x3"] ** 4 * math.sin(x["x1"])
    return {"runs": pd.DataFrame([{"y": y}])}


def linear(task: SamplePoint) -> dict[str, pd.DataFrame]:
    x = dict(task.values)
    return {"runs": pd.DataFrame([{"y": 2 * x["a"] + x["b"]}])}


def test_sobol_pipeline_recovers_ishigami_indices_within_their_confidence_intervals(tmp_path):
    factors = [Factor(f"x{i}", (-math.pi, math.pi)) for i in (1, 2, 3)]
    res = run_sweep(factors, ["y"], ishigami, method="sobol", n=1024, seed=11, workers=1, progress=False,
                    out=tmp_path)
    ind = res.indices.set_index("factor").loc[["x1", "x2", "x3"]]
    assert len(res.runs) == 1024 * 5
    assert np.all(np.abs(ind.S1.to_numpy() - S1_TRUE) <= ind.S1_conf.to_numpy()), ind
    assert np.all(np.abs(ind.ST.to_numpy() - ST_TRUE) <= ind.ST_conf.to_numpy()), ind
    # and the intervals are informative, not wide enough to contain anything
    assert ind.S1_conf.max() < 0.1 and ind.ST_conf.max() < 0.1


def test_morris_pipeline_recovers_the_slopes_of_a_linear_function(tmp_path):
    factors = [Factor(n, (0.0, 1.0)) for n in ("a", "b", "c")]
    res = run_sweep(factors, ["y"], linear, method="morris", n=10, seed=3, workers=1, progress=False)
    mu_star = res.indices.set_index("factor").mu_star
    assert mu_star.to_numpy() == pytest.approx([2.0, 1.0, 0.0], abs=1e-9)


def test_sobol_sample_size_must_be_a_power_of_two():
    with pytest.raises(InputError, match="power of two"):
        run_sweep([Factor("a", (0, 1)), Factor("b", (0, 1))], ["y"], linear, method="sobol", n=1000, seed=1,
                  workers=1, progress=False)


# --- the sweep file ---------------------------------------------------------------------------------
def sweep_file(tmp_path: Path, **changes) -> Path:
    scen = write_scenario(tiny_raw(), tmp_path / "tiny.yaml")
    raw = {"name": "t", "scenario": str(scen.name), "outcomes": ["acceptance", "wellbeing"],
           "parameters": {"alpha_contact_pos": {}, "readiness_threshold": {"bounds": [0.05, 0.3]}},
           "design": {"recreation_places": {"change": "places_scale", "activities": ["peer_groups"],
                                            "bounds": [0.5, 2.0]}}}
    raw.update(changes)
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_default_sweep_file_is_valid_and_reads_bounds_from_the_declared_ranges():
    from model.params import ranges

    sw = load_sweep(ROOT / "experiments" / "sweeps" / "default.yaml")
    bounds = {f.name: f.bounds for f in sw.factors}
    assert bounds["alpha_contact_pos"] == ranges()["alpha_contact_pos"]
    assert {f.kind for f in sw.factors} == {"parameter", "design"}


@pytest.mark.parametrize("changes, message", [
    ({"parameters": {"alpha_contact_posx": {}, "tie_rate": {}}}, "'alpha_contact_posx' is not a model parameter"),
    ({"parameters": {"tie_rate": {"bounds": [0.0, 0.9]}}}, "inside the declared range"),
    ({"outcomes": ["acceptence"]}, "unknown outcome 'acceptence'"),
    ({"design": {"d": {"change": "places_scale", "activities": ["dialog"], "bounds": [1, 2]}}}, "unknown activities"),
    ({"design": {"d": {"change": "start_week", "activities": ["dialogue"], "bounds": [1, 5]}}},
     "not in the programme"),
    ({"design": {"d": {"change": "places_share", "activities": ["peer_groups"], "bounds": [0.2, 0.8]}}},
     "needs 'versus'"),
    ({"design": {"d": {"change": "start_week", "activities": ["peer_groups"], "bounds": [1, 30]}}},
     "at 30.0 the scenario is invalid"),
    ({"design": {"d": {"change": "places_scale", "activities": ["peer_groups"], "bounds": [0, 2]}}},
     "outside what places_scale allows"),
    ({"seeds": "sometimes"}, "seeds"),
])
def test_a_bad_sweep_file_names_the_field_and_what_is_allowed(tmp_path, changes, message):
    with pytest.raises(InputError, match="sweep.yaml") as exc:
        load_sweep(sweep_file(tmp_path, **changes))
    assert message in str(exc.value)


def test_cli_sweep_with_a_bad_file_exits_2_without_traceback(tmp_path):
    res = CliRunner().invoke(app, ["sweep", str(sweep_file(tmp_path, outcomes=["nope"])), "--n", "4"])
    assert res.exit_code == 2
    assert "unknown outcome 'nope'" in res.output and "Traceback" not in res.output


# --- programme design transformations -----------------------------------------------------------------
def test_design_changes_move_timing_and_reallocate_places_keeping_the_total(tmp_path):
    from scenarios import load_scenario

    s = load_scenario(ROOT / "scenarios" / "qayyarah.yaml")
    start = DesignFactor(change="start_week", activities=["dialogue"], bounds=(1, 40))
    moved = apply_design(s, {"d": start}, {"d": 10.4})
    (old,) = [e for e in s.programme if e.activity == "dialogue"]
    (new,) = [e for e in moved.programme if e.activity == "dialogue"]
    assert (new.start_week, new.end_week - new.start_week) == (10, old.end_week - old.start_week)

    pss = ["individual_counselling", "family_pss", "peer_groups", "psycho_education"]
    share = DesignFactor(change="places_share", activities=pss, versus=["vocational_training"], bounds=(0.3, 0.9))
    shifted = apply_design(s, {"p": share}, {"p": 0.5})

    def places(sc, acts):
        return sum(e.capacity() for e in sc.programme if e.activity in acts)

    total = places(s, pss + ["vocational_training"])
    assert abs(places(shifted, pss + ["vocational_training"]) - total) <= 5   # rounding only
    assert places(shifted, pss) / total == pytest.approx(0.5, abs=0.05)
    untouched = [e for e in s.programme if e.activity not in pss + ["vocational_training"]]
    assert untouched == [e for e in shifted.programme if e.activity not in pss + ["vocational_training"]]


# --- a sweep on a Dask cluster of separate processes ------------------------------------------------------
def test_a_sweep_runs_on_a_dask_scheduler_and_two_workers_started_as_separate_processes(tmp_path):
    bin_dir = Path(sys.executable).parent
    sched_file = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(sched_file)],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.time() + 60
        while not sched_file.is_file() and time.time() < deadline:
            time.sleep(0.1)
        import json
        address = json.loads(sched_file.read_text())["address"]
        for _ in range(2):
            procs.append(subprocess.Popen([str(bin_dir / "dask"), "worker", address, "--nthreads", "1",
                                           "--no-dashboard", "--name", f"w{len(procs)}"],
                                          cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client
        with Client(address, timeout="30s") as c:
            c.wait_for_workers(2, timeout=60)
            assert len(c.scheduler_info()["workers"]) == 2
        sw = load_sweep(sweep_file(tmp_path))
        on_dask = run_model_sweep(sw, method="morris", n=2, out=tmp_path / "dask", scheduler=address, progress=False)
        local = run_model_sweep(sw, method="morris", n=2, out=tmp_path / "local", workers=None, progress=False)
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
    assert len(on_dask.runs) == 2 * (3 + 1)
    pd.testing.assert_frame_equal(on_dask.runs, local.runs)
    for f in ("indices.csv", "runs.csv", "indices_bars.png", "indices_heatmap.png"):
        assert (tmp_path / "dask" / f).is_file()


def test_cli_sweep_writes_indices_runs_and_figures(tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["sweep", str(sweep_file(tmp_path)), "--method", "morris", "--n", "2",
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    indices = pd.read_csv(out / "indices.csv")
    assert set(indices.factor) == {"alpha_contact_pos", "readiness_threshold", "recreation_places"}
    assert set(indices.outcome) == {"acceptance", "wellbeing"}
    assert len(pd.read_csv(out / "runs.csv")) == 2 * 4
    assert (out / "indices_bars.png").is_file() and (out / "indices_heatmap.png").is_file()


def test_a_sweep_file_naming_a_missing_scenario_says_where_it_looked(tmp_path):
    with pytest.raises(InputError, match="scenario: file 'nowhere.yaml' not found"):
        load_sweep(sweep_file(tmp_path, scenario="nowhere.yaml"))
