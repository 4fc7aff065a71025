"""Interruptions (issue 14): `cohesion run`, `compare` and `sweep` killed with SIGKILL part-way and
resumed give exactly the results of an uninterrupted run; a killed calibration loses no generation
and counts none twice; a Dask worker killed mid-sweep loses no run; Ctrl-C names the command that
continues; no process outlives a killed parent. Every test here starts the real command in a
subprocess and kills it."""

from __future__ import annotations

import json
import os
import shlex
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import ROOT, small_raw
from tests.test_compare import library
from tests.test_runner_support import write_scenario
from tests.test_sweep import sweep_file

COHESION = str(Path(sys.executable).parent / "cohesion")
FLUSH = {"COHESION_FLUSH_SECONDS": "0.2"}     # a part every 0.2 s: kills land between parts
CALIBRATE = """
import sys
from pathlib import Path
if __name__ == "__main__":
    import calibration.command as command
    command.run_calibration.__kwdefaults__["results"] = Path(sys.argv[1])   # not under the repository
    sys.argv = ["cohesion", *sys.argv[2:]]
    from experiments.cli import app
    app()
"""


# --- helpers --------------------------------------------------------------------------------------
def start(args: list, **kw) -> subprocess.Popen:
    return subprocess.Popen([COHESION, *map(str, args)], cwd=ROOT, env={**os.environ, **FLUSH},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def finish(args: list, timeout: float = 120) -> str:
    proc = start(args)
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out
    return out


def finished_runs(store: Path, tasks: int | None = None) -> set[int]:
    """The runs in the parts of ``store`` (of a batch of ``tasks`` runs, if given)."""
    done: set[int] = set()
    if tasks is not None:
        try:
            if json.loads((store / "batch.json").read_text())["tasks"] != tasks:
                return done
        except (OSError, ValueError, KeyError):
            return done
    for p in (store / "parts").glob("part-*"):
        try:
            manifest = json.loads((p / "runs.json").read_text())
            done |= set(manifest["runs"] if isinstance(manifest, dict) else manifest)
        except (OSError, ValueError):
            pass
    return done


def wait_for(condition, proc: subprocess.Popen, timeout: float = 60, what: str = "") -> None:
    deadline = time.time() + timeout
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"the command ended before {what}: {proc.communicate()[0]}")
        if time.time() > deadline:
            proc.kill()
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def descendants(pid: int) -> set[int]:
    """Every process below ``pid``, from /proc."""
    parent: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            parent[int(d)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        kids = {c for c, pp in parent.items() if pp == p}
        found |= kids
        todo += kids
    return found


def alive(pids: set[int]) -> set[int]:
    out = set()
    for p in pids:
        try:
            state = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            out.add(p)
    return out


def kill_part_way(args: list, store: Path, total: int, min_done: int = 1) -> set[int]:
    """Start the command, SIGKILL it once some runs are in parts and before it ends; the runs kept."""
    proc = start(args)
    wait_for(lambda: len(finished_runs(store)) >= min_done, proc, what="the first parts")
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    kept = finished_runs(store)
    assert 0 < len(kept) < total, f"the kill should land part-way ({len(kept)} of {total} runs kept)"
    return kept


@pytest.fixture
def small_scenario_file(tmp_path) -> Path:
    return write_scenario(small_raw(scale=8), tmp_path / "small.yaml")


# --- run, compare, sweep: killed, resumed, identical ---------------------------------------------------
def test_a_killed_run_resumes_to_the_uninterrupted_results_and_leaves_no_process(tmp_path, small_scenario_file):
    # enough runs that the kill lands while workers run (short runs go to workers several at a time)
    args = ["run", small_scenario_file, "--replicates", "96", "--params", "defaults"]
    whole = tmp_path / "whole"
    finish([*args, "--out", whole])
    out = tmp_path / "killed"
    # the folder held another, finished batch: its results must not survive beside the new parts
    finish(["run", small_scenario_file, "--replicates", "1", "--params", "defaults", "--seed", "3", "--out", out])
    proc = start([*args, "--out", out])
    wait_for(lambda: len(finished_runs(out / "runs", 96)) >= 2, proc, what="the first parts")
    tree = descendants(proc.pid)
    names = " ".join(Path(f"/proc/{p}/cmdline").read_text() for p in tree)
    assert "forkserver" in names and "resource_tracker" in names and len(tree) >= 3, names
    os.kill(proc.pid, signal.SIGKILL)            # the parent only: its workers must go by themselves
    proc.communicate()
    deadline = time.time() + 5
    while alive(tree) and time.time() < deadline:
        time.sleep(0.1)
    assert not alive(tree), f"processes outlived their killed parent: {alive(tree)}"
    assert 0 < len(finished_runs(out / "runs")) < 96
    assert sorted(p.name for p in out.iterdir()) == ["STALE", "runs"]    # no survey.csv of the seed-3 batch
    said = finish([*args, "--out", out, "--resume"])
    assert "runs finished earlier are kept" in said
    assert (out / "survey.csv").read_bytes() == (whole / "survey.csv").read_bytes()
    survey = pd.read_csv(out / "survey.csv")
    assert sorted(survey.replicate.unique()) == list(range(96))
    assert not survey.duplicated().any() and not (out / "STALE").exists()
    pd.testing.assert_frame_equal(pd.read_parquet(out / "timeseries.parquet"), pd.read_parquet(whole / "timeseries.parquet"))


def test_a_killed_compare_resumes_to_the_uninterrupted_results(tmp_path):
    f = library(tmp_path)
    args = ["compare", f["tiny"], f["late"], "--reference", f["none"], "--replicates", "8", "--params", "defaults"]
    finish([*args, "--out", tmp_path / "whole"])
    out = tmp_path / "killed"
    kill_part_way([*args, "--out", out], out / "batch", total=24)
    finish([*args, "--out", out, "--resume"])
    for name in ("measures.csv", "outcomes.csv", "ranking.csv", "pairwise.csv"):
        assert (out / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name
    measures = pd.read_csv(out / "measures.csv")
    assert len(measures) == 24 and not measures.duplicated(["scenario", "replicate"]).any()


def test_a_killed_sweep_resumes_to_the_uninterrupted_results(tmp_path):
    sw = sweep_file(tmp_path)
    args = ["sweep", sw, "--method", "morris", "--n", "6"]             # 6 x (3 + 1) = 24 runs
    finish([*args, "--out", tmp_path / "whole"])
    out = tmp_path / "killed"
    kill_part_way([*args, "--out", out], out / "batch", total=24)
    finish([*args, "--out", out, "--resume"])
    for name in ("runs.csv", "indices.csv"):
        assert (out / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name
    runs = pd.read_csv(out / "runs.csv")
    assert sorted(runs.run) == list(range(24))


# --- calibration ------------------------------------------------------------------------------------------
def generations(db: Path) -> list[tuple[int, int]]:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return con.execute("SELECT t, nr_samples FROM populations ORDER BY t").fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return []


def test_a_killed_calibration_loses_no_generation_and_counts_none_twice(tmp_path, small_scenario_file):
    script = tmp_path / "calibrate.py"
    script.write_text(CALIBRATE)
    results = tmp_path / "results"
    args = [sys.executable, script, results, "calibrate", "--budget", "tiny", "--scenario", small_scenario_file,
            "--name", "k", "--seed", "4"]
    db = results / "k" / "abc.db"
    # killed while pyabc creates its history: the empty database is started afresh, not resumed
    proc = subprocess.Popen(list(map(str, args)), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_for(db.is_file, proc, timeout=90, what="abc.db")
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    db.write_bytes(b"")
    # killed after generation 0
    proc = subprocess.Popen(list(map(str, args)), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_for(lambda: any(t >= 0 for t, _ in generations(db)), proc, timeout=90, what="generation 0")
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    before = generations(db)
    assert [t for t, _ in before] == [-1, 0], "killed after generation 0, before generation 1 was stored"
    import pyabc

    first, _ = pyabc.History(f"sqlite:///{db}").get_distribution(m=0, t=0)
    resumed = subprocess.run(list(map(str, args)), cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "generation 0:" not in resumed.stdout and "generation 1:" in resumed.stdout
    after = generations(db)
    assert [t for t, _ in after] == [-1, 0, 1] and after[:2] == before          # each generation once
    again, _ = pyabc.History(f"sqlite:///{db}").get_distribution(m=0, t=0)
    pd.testing.assert_frame_equal(first, again)                                  # generation 0 kept as it was
    summary = json.loads((results / "k" / "summary.json").read_text())
    total = sum(n for _, n in after)
    assert summary["generations"] == 2 and summary["simulations"] == total
    assert summary["session_simulations"] == total - sum(n for _, n in before) == after[2][1]
    table = pd.read_csv(results / "k" / "generations.csv")
    assert list(table.t) == [-1, 0, 1] and table.total_simulations.iloc[-1] == total
    assert summary["provenance"]["inputs"]["scenario"]["file"] == str(small_scenario_file)


# --- a Dask worker dies --------------------------------------------------------------------------------
def dask_workers(pid: int) -> set[int]:
    return {p for p in descendants(pid) if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text()}


def test_a_dask_worker_killed_mid_sweep_loses_no_run(tmp_path):
    from experiments.sweep import load_sweep, run_model_sweep

    sw = sweep_file(tmp_path)
    args = ["sweep", sw, "--method", "morris", "--n", "12", "--workers", "2"]   # 48 runs
    out = tmp_path / "dask"
    proc = start([*args, "--out", out])
    wait_for(lambda: len(dask_workers(proc.pid)) == 2 and finished_runs(out / "batch"), proc, what="the workers")
    victim = min(dask_workers(proc.pid))
    os.kill(victim, signal.SIGKILL)
    said, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, said
    assert victim not in alive({victim})
    assert len(finished_runs(out / "batch")) == 48
    local = run_model_sweep(load_sweep(sw), method="morris", n=12, out=tmp_path / "local", progress=False)
    pd.testing.assert_frame_equal(pd.read_csv(out / "runs.csv"), pd.read_csv(tmp_path / "local" / "runs.csv"))
    assert len(local.runs) == 48


# --- Ctrl-C ---------------------------------------------------------------------------------------------
N_CTRL_C = 400
"""Runs in the interrupted batch: enough that the signal, sent once the first parts are written,
arrives before the last run ends (the compiled model runs 60 small runs in under 3 s, the first
parts appearing near the end: worker start-up dominates)."""


def terminal_like() -> None:
    """In the child before it runs: Ctrl-C as a terminal's shell leaves it (default action, not
    blocked), whatever the test process inherited."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def press_ctrl_c(proc: subprocess.Popen) -> str:
    """SIGINT to the command's whole process group, as a terminal sends it; again if the command
    has not stopped 3 s later (a user presses again); what it said."""
    for _ in range(5):
        os.killpg(proc.pid, signal.SIGINT)
        try:
            return proc.communicate(timeout=3)[0]
        except subprocess.TimeoutExpired:
            continue
    return proc.communicate(timeout=30)[0]


def test_ctrl_c_names_the_command_that_continues_and_that_command_does(tmp_path, small_scenario_file):
    out = tmp_path / "out"
    args = ["run", small_scenario_file, "--replicates", str(N_CTRL_C), "--params", "defaults", "--out", out]
    proc = start(args, start_new_session=True, preexec_fn=terminal_like)
    wait_for(lambda: finished_runs(out / "runs"), proc, what="the first parts")
    tree = descendants(proc.pid)
    said = press_ctrl_c(proc)
    assert proc.returncode == 130, said
    assert "Traceback" not in said and "KeyboardInterrupt" not in said
    hint = [line for line in said.splitlines() if "--resume" in line]
    assert len(hint) == 1 and hint[0].startswith("interrupted; the finished runs are kept. Continue with: ")
    command = hint[0].split("Continue with: ", 1)[1]
    assert shlex.split(command) == ["cohesion", *map(str, args), "--resume"]
    assert not alive(tree)
    kept = finished_runs(out / "runs")
    assert 0 < len(kept) < N_CTRL_C
    resumed = finish(shlex.split(command)[1:])
    assert f"{len(kept)} of {N_CTRL_C} runs finished earlier are kept" in " ".join(resumed.split())
    assert sorted(pd.read_csv(out / "survey.csv").replicate.unique()) == list(range(N_CTRL_C))


def test_the_hint_is_given_for_compare_and_sweep_too(tmp_path):
    sw = sweep_file(tmp_path)
    out = tmp_path / "sw"
    proc = start(["sweep", sw, "--method", "morris", "--n", "200", "--out", out], start_new_session=True,
                 preexec_fn=terminal_like)
    wait_for(lambda: finished_runs(out / "batch"), proc, what="the first parts")
    said = press_ctrl_c(proc)
    assert proc.returncode == 130 and "Continue with: cohesion sweep" in said and "--resume" in said, said
    assert yaml.safe_load(sw.read_text())["name"] == "t"


# --- calibration: no orphan, no stale summary ---------------------------------------------------------
def test_a_killed_calibration_leaves_no_sampler_process(tmp_path, small_scenario_file):
    """pyabc's sampler forks its worker processes from the calibration's process: killed with
    SIGKILL, that process cannot stop them, so each must exit by itself when its parent is gone."""
    script = tmp_path / "calibrate.py"
    # a generation far longer than the test: its workers would run on for minutes if left behind
    script.write_text(CALIBRATE.replace("    import calibration.command as command\n", (
        "    import calibration.command as command\n"
        "    from calibration.fit import BUDGETS, Budget\n"
        "    BUDGETS['long'] = Budget(population=100000, generations=1, max_simulations=10**6, max_minutes=60,\n"
        "                             min_acceptance=0.0, predictive=8)\n")))
    args = [sys.executable, script, tmp_path / "results", "calibrate", "--budget", "long", "--scenario",
            small_scenario_file, "--name", "orphans", "--seed", "5", "--workers", "2"]
    log = open(tmp_path / "log.txt", "w")  # not a pipe: a process left behind would hold it open
    proc = subprocess.Popen(list(map(str, args)), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    # the sampler's workers are forks of the command: the same command line
    def workers() -> set[int]:
        found = set()
        mine = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        for p in alive(descendants(proc.pid)):
            try:
                if Path(f"/proc/{p}/cmdline").read_bytes() == mine:
                    found.add(p)
            except OSError:
                pass
        return found

    wait_for(lambda: len(workers()) >= 2, proc, timeout=90, what="the sampler's two workers")
    tree = alive(descendants(proc.pid))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    log.close()
    deadline = time.time() + 5
    while alive(tree) and time.time() < deadline:
        time.sleep(0.1)
    left = alive(tree)
    for p in left:                         # do not leave them to the next test
        os.kill(p, signal.SIGKILL)
    assert not left, f"sampler processes outlived their killed parent: {left}"


def test_a_new_calibration_session_marks_the_finished_results_stale_until_it_writes_them(tmp_path, monkeypatch,
                                                                                          small_scenario_file):
    """A calibration resumed (or continued) in a folder holding a finished one: the old summary and
    the files it lists are gone, and STALE says why, from the moment the session starts; the
    session's end writes them anew."""
    from calibration import command
    from calibration.targets import TARGETS_PATH
    from runner.results import STALE, sha256_file

    def calibrate() -> dict:
        return command.run_calibration(TARGETS_PATH, small_scenario_file, "tiny", "again", seed=3, workers=1,
                                       results=tmp_path, command="cohesion calibrate --budget tiny --name again")

    out = tmp_path / "again"
    first = calibrate()
    listed = first["provenance"]["files"]
    assert {"posterior.csv", "fit.csv", "predictions.csv", "observed_vs_predicted.png"} <= set(listed)
    assert all(sha256_file(out / n) == h for n, h in listed.items()) and not (out / STALE).exists()

    class Killed(BaseException):
        pass

    def killed(job, fitted):
        # the new session has started (its ABC is done): what does the folder say now?
        assert not (out / "summary.json").exists(), "the earlier session's summary survived into the new one"
        assert (out / STALE).is_file() and "calibration session" in (out / STALE).read_text()
        assert not any((out / n).exists() for n in listed), "files of the earlier session survived"
        raise Killed

    monkeypatch.setattr(command, "posterior_predictive", killed)
    with pytest.raises(Killed):
        calibrate()
    assert (out / STALE).is_file() and not (out / "summary.json").exists() and (out / "abc.db").is_file()
    monkeypatch.undo()
    again = calibrate()
    assert (out / "summary.json").is_file() and not (out / STALE).exists()
    assert set(again["provenance"]["files"]) == set(listed)
    assert again["simulations"] == first["simulations"]          # the finished generations were kept, not redone
