"""Results that cannot lie (issue 14): damaged parts are found and run again, failed runs are
recorded as failed and retried, a folder's results are never those of another batch, and every
result carries the record of what made it (``--resume`` refuses another record; ``--reproduce``
makes it again and compares)."""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import sys
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from experiments.cli import app
from runner import BatchError, run_batch
from tests.test_runner_support import slow_square, tiny_raw, tiny_tasks, write_scenario


STALE = "STALE"      # runner.results.STALE: the marker of a folder whose results are being remade


def cli(*args):
    """The command line as typed (also in sys.argv, where the provenance record and the hint read it)."""
    argv = [str(a) for a in args]
    with mock.patch.object(sys, "argv", ["cohesion", *argv]):
        return CliRunner().invoke(app, argv)


def said(result) -> str:
    """A command's output with rich's line wrapping undone."""
    return " ".join(result.output.split())


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def scenario(tmp_path) -> Path:
    return write_scenario(tiny_raw(), tmp_path / "tiny.yaml")


@pytest.fixture
def one_run_per_part(monkeypatch):
    monkeypatch.setenv("COHESION_FLUSH_SECONDS", "0")


def run_args(scenario: Path, out: Path, *extra) -> list:
    return ["run", scenario, "--replicates", "4", "--params", "defaults", "--out", out, *extra]


def parts(out: Path) -> list[Path]:
    return sorted((out / "runs" / "parts").glob("part-*"))


def part_runs(part: Path) -> list[int]:
    """The runs a part holds (``runs.json``: a manifest, or a bare list as before it had checksums)."""
    manifest = json.loads((part / "runs.json").read_text())
    return manifest["runs"] if isinstance(manifest, dict) else manifest


# --- 1. damaged parts ---------------------------------------------------------------------------------
@pytest.mark.parametrize("damage, resume", [("truncate", True), ("truncate", False), ("delete", False),
                                            ("no manifest", True)])
def test_a_damaged_part_is_discarded_and_its_runs_run_again(tmp_path, scenario, one_run_per_part, damage, resume):
    out = tmp_path / "out"
    first = cli(*run_args(scenario, out))
    assert first.exit_code == 0, first.output
    whole = (out / "survey.csv").read_bytes()
    part = parts(out)[len(parts(out)) // 2]          # one run per part: the second of four
    kept = part_runs(part)
    if damage == "truncate":
        survey = part / "survey.parquet"
        survey.write_bytes(survey.read_bytes()[: survey.stat().st_size // 2])
    elif damage == "delete":
        (part / "survey.parquet").unlink()
    else:
        (part / "runs.json").unlink()
    again = cli(*run_args(scenario, out, *(["--resume"] if resume else [])))
    assert again.exit_code == 0, again.output
    assert "Traceback" not in again.output
    assert f"{part}: " in again.output and "discarded, its runs will be run again" in again.output
    others = 4 - len(kept)
    assert others == 0 or f"{others} of 4 runs finished earlier are kept; running the other {len(kept)}" in said(again)
    assert (out / "survey.csv").read_bytes() == whole          # every replicate, as before
    assert sorted(pd.read_csv(out / "survey.csv").replicate.unique()) == [0, 1, 2, 3]
    rerun = [p for p in parts(out) if part_runs(p) == kept]
    assert len(rerun) == 1 and rerun[0] != part


def test_every_part_carries_the_size_and_sha256_of_each_table(tmp_path):
    run_batch(tiny_tasks(3), slow_square, workers=1, progress=False, out=tmp_path, flush_seconds=0)
    for part in sorted((tmp_path / "parts").glob("part-*")):
        manifest = json.loads((part / "runs.json").read_text())
        assert manifest["batch"] and manifest["failed"] == [] and len(manifest["runs"]) == 1
        for name, expect in manifest["files"].items():
            assert expect == {"bytes": (part / name).stat().st_size, "sha256": sha(part / name)}


# --- 2. failed runs -------------------------------------------------------------------------------------
FLAKY: dict[str, Path] = {}     # where broken_until_fixed logs its calls and looks for its fix (one worker)


def broken_until_fixed(task):
    with FLAKY["calls"].open("a") as f:
        f.write(f"{task.index}\n")
    if task.index == 3 and not FLAKY["fixed"].exists():
        raise ValueError("run three is broken")
    return {"values": pd.DataFrame({"value": [float(task.index)]})}


@pytest.fixture
def flaky(tmp_path, monkeypatch):
    monkeypatch.setitem(FLAKY, "calls", tmp_path / "calls")
    monkeypatch.setitem(FLAKY, "fixed", tmp_path / "fixed")
    return broken_until_fixed


def test_a_failed_run_is_retried_on_resume_at_most_three_attempts_in_all(tmp_path, flaky):
    calls, fn = FLAKY["calls"], flaky
    tasks = tiny_tasks(5)
    out = tmp_path / "out"
    for attempt in (1, 2, 3):
        res = run_batch(tasks, fn, workers=1, progress=False, out=out, resume=attempt > 1)
        assert list(res["values"].run) == [0, 1, 2, 4]
        assert list(res["errors"].run) == [3] and list(res["errors"].attempts) == [attempt]
        assert "ValueError: run three is broken" in res["errors"].error.iloc[0]
        assert "Traceback" in res["errors"].traceback.iloc[0]
    assert calls.read_text().split() == ["0", "1", "2", "3", "4", "3", "3"]   # only the failed run again
    pd.testing.assert_frame_equal(pd.read_parquet(out / "errors.parquet"), res["errors"])
    # after three attempts it is reported with its error, not tried again
    res = run_batch(tasks, fn, workers=1, progress=False, out=out, resume=True)
    assert list(res["errors"].attempts) == [3] and calls.read_text().split().count("3") == 3


def test_a_failed_run_that_succeeds_on_resume_leaves_no_error(tmp_path, flaky):
    fn = flaky
    out = tmp_path / "out"
    run_batch(tiny_tasks(5), fn, workers=1, progress=False, out=out)
    FLAKY["fixed"].touch()
    res = run_batch(tiny_tasks(5), fn, workers=1, progress=False, out=out, resume=True)
    assert list(res["values"].run) == [0, 1, 2, 3, 4] and res["errors"].empty
    assert pd.read_parquet(out / "errors.parquet").empty


def always_fails(task):
    raise RuntimeError(f"no memory for run {task.index}")


def test_when_every_run_fails_the_command_says_so_with_exit_2(tmp_path, scenario, monkeypatch):
    import experiments.run

    monkeypatch.setattr(experiments.run, "run_batch", functools.partial(run_batch, fn=always_fails))
    out = tmp_path / "out"
    res = cli(*run_args(scenario, out))
    assert res.exit_code == 2, res.output
    assert "error:" in res.output and "all 4 runs raised; first, run 0: RuntimeError: no memory for run 0" in res.output
    assert "--resume tries 4 of them again" in res.output
    assert "Traceback" not in res.output and "BatchError" not in res.output
    assert not (out / "survey.csv").exists() and not (out / "summary.json").exists()
    assert len(pd.read_parquet(out / "runs" / "errors.parquet")) == 4
    with pytest.raises(BatchError):
        run_batch(tiny_tasks(2), always_fails, workers=1, progress=False)


def test_a_run_with_some_failed_replicates_says_so_in_its_summary(tmp_path, scenario, monkeypatch):
    import experiments.run

    monkeypatch.setattr(experiments.run, "run_batch", functools.partial(run_batch, fn=fails_on_two))
    out = tmp_path / "out"
    res = cli(*run_args(scenario, out))
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["replicates"] == 4 and [r["run"] for r in summary["failed_runs"]] == [2]
    assert sorted(pd.read_csv(out / "survey.csv").replicate.unique()) == [0, 1, 3]
    assert "1 of 4 runs raised; first, run 2: ValueError: replicate two" in res.output


def fails_on_two(task):
    from runner.task import run

    if task.index == 2:
        raise ValueError("replicate two")
    return run(task)


# --- 3. results of one batch only ------------------------------------------------------------------------
def test_a_new_batch_marks_the_old_results_stale_at_once(tmp_path, scenario, one_run_per_part, monkeypatch):
    import runner.batch
    import runner.task

    out = tmp_path / "out"
    assert cli(*run_args(scenario, out, "--seed", "7")).exit_code == 0
    assert {"survey.csv", "summary.json", "figure.png", "timeseries.parquet"} <= {p.name for p in out.iterdir()}
    # another batch, stopped by Ctrl-C after two runs (the runs in this process, the real run function)
    real = runner.task.run_model

    def interrupted(task):
        if task.index >= 2:
            raise KeyboardInterrupt
        return real(task)

    monkeypatch.setattr(runner.batch, "default_workers", lambda: 1)
    monkeypatch.setattr(runner.task, "run_model", interrupted)
    stopped = cli(*run_args(scenario, out, "--seed", "8"))
    assert stopped.exit_code == 130, stopped.output
    assert (f"interrupted; the finished runs are kept. Continue with: cohesion run {scenario} --replicates 4 "
            f"--params defaults --out {out} --seed 8 --resume") in said(stopped)
    left = {p.name for p in out.iterdir()}
    assert left == {"runs", STALE}, left                        # nothing of the seed-7 results is left
    assert "--resume" in (out / STALE).read_text()
    assert not list((out / "runs").glob("*.parquet"))           # nor the runner's final tables
    # the seed-7 batch cannot be resumed here any more; the seed-8 one can
    monkeypatch.undo()
    refused = cli(*run_args(scenario, out, "--seed", "7", "--resume"))
    assert refused.exit_code == 2 and "settings.seed: 8 before, 7 now" in refused.output
    resumed = cli(*run_args(scenario, out, "--seed", "8", "--resume"))
    assert resumed.exit_code == 0, resumed.output
    assert not (out / STALE).exists()
    fresh = cli(*run_args(scenario, tmp_path / "fresh", "--seed", "8"))
    assert fresh.exit_code == 0
    assert (out / "survey.csv").read_bytes() == (tmp_path / "fresh" / "survey.csv").read_bytes()


def test_the_runner_writes_its_final_tables_only_for_a_complete_batch(tmp_path):
    run_batch(tiny_tasks(3), slow_square, workers=1, progress=False, out=tmp_path)
    assert (tmp_path / "values.parquet").is_file()

    def stop_at_four(task):
        if task.index == 4:
            raise KeyboardInterrupt
        return slow_square(task)

    with pytest.raises(KeyboardInterrupt):
        run_batch(tiny_tasks(6), stop_at_four, workers=1, progress=False, out=tmp_path)
    assert not (tmp_path / "values.parquet").exists()


# --- 4. provenance ----------------------------------------------------------------------------------------
def test_every_result_records_what_made_it(tmp_path, scenario):
    out = tmp_path / "out"
    assert cli(*run_args(scenario, out)).exit_code == 0
    record = json.loads((out / "summary.json").read_text())["provenance"]
    assert record["command"].startswith("cohesion run ")
    assert record["inputs"]["scenario"] == {"file": str(scenario), "sha256": sha(scenario)}
    assert record["settings"] == {"replicates": 4, "seed": 7, "params": "defaults"}
    assert {"python", "numpy", "mesa", "pandas", "pyabc"} <= set(record["versions"]) and record["git_revision"]
    assert record["files"]["survey.csv"] == sha(out / "survey.csv")
    assert set(record["files"]) == {"timeseries.parquet", "survey.csv", "figure.png"}
    batch = json.loads((out / "runs" / "batch.json").read_text())["provenance"]
    assert {k: batch[k] for k in ("inputs", "settings", "versions", "git_revision")} == \
        {k: record[k] for k in ("inputs", "settings", "versions", "git_revision")}
    # the committed posterior is an input like the scenario: its hash is recorded
    with_posterior = cli("run", scenario, "--replicates", "2", "--out", tmp_path / "post")
    assert with_posterior.exit_code == 0, with_posterior.output
    from calibration.posterior import POSTERIOR_PATH

    inputs = json.loads((tmp_path / "post" / "summary.json").read_text())["provenance"]["inputs"]
    assert inputs["params"]["sha256"] == sha(POSTERIOR_PATH)


def test_compare_and_sweep_record_their_inputs(tmp_path):
    from tests.test_compare import library
    from tests.test_sweep import sweep_file

    (tmp_path / "lib").mkdir()
    files = library(tmp_path / "lib")
    scenario, reference = files["tiny"], files["none"]
    res = cli("compare", scenario, "--reference", reference, "--replicates", "2", "--params", "defaults",
              "--out", tmp_path / "cmp")
    assert res.exit_code == 0, res.output
    record = json.loads((tmp_path / "cmp" / "summary.json").read_text())["provenance"]
    assert record["inputs"]["scenarios[0]"]["sha256"] == sha(scenario)
    assert record["inputs"]["reference"]["sha256"] == sha(reference)
    assert record["settings"]["seed"] == 7 and record["files"]["outcomes.csv"] == sha(tmp_path / "cmp" / "outcomes.csv")
    sw = sweep_file(tmp_path)
    res = cli("sweep", sw, "--method", "morris", "--n", "2", "--out", tmp_path / "sw")
    assert res.exit_code == 0, res.output
    record = json.loads((tmp_path / "sw" / "sweep.json").read_text())["provenance"]
    assert record["inputs"]["sweep_file"]["sha256"] == sha(sw)
    assert record["inputs"]["scenario"]["sha256"]
    assert record["settings"]["method"] == "morris" and record["files"]["runs.csv"] == sha(tmp_path / "sw" / "runs.csv")


def test_resume_with_another_record_is_refused_naming_each_difference(tmp_path, scenario):
    out = tmp_path / "out"
    assert cli(*run_args(scenario, out)).exit_code == 0
    # the same scenario read back, with a comment added: the runs would be the same, the file is not
    scenario.write_text(scenario.read_text() + "# edited\n")
    refused = cli(*run_args(scenario, out, "--seed", "9", "--resume"))
    assert refused.exit_code == 2, refused.output
    assert "Traceback" not in refused.output
    assert "inputs.scenario.sha256" in refused.output and "settings.seed: 7 before, 9 now" in refused.output
    assert (out / "survey.csv").is_file()                    # a refused command changes nothing
    same_seed = cli(*run_args(scenario, out, "--resume"))
    assert same_seed.exit_code == 2 and "inputs.scenario.sha256" in same_seed.output
    assert "settings.seed" not in same_seed.output
    # without --resume the other batch replaces it, saying so
    replaced = cli(*run_args(scenario, out))
    assert replaced.exit_code == 0 and "part(s) of an earlier, different batch" in said(replaced)


# --- cohesion run --reproduce -------------------------------------------------------------------------------
def test_reproduce_runs_again_and_says_whether_the_survey_matches(tmp_path, scenario):
    out = tmp_path / "out"
    assert cli(*run_args(scenario, out)).exit_code == 0
    same = cli("run", "--reproduce", out / "summary.json", "--out", tmp_path / "again")
    assert same.exit_code == 0, same.output
    assert "reproduced:" in same.output and "is identical" in same.output
    assert (tmp_path / "again" / "survey.csv").read_bytes() == (out / "survey.csv").read_bytes()
    # the scenario file changed since: not reproduced, and the record says why
    raw = yaml.safe_load(scenario.read_text())
    raw["survey"]["sample_size"] = 20
    scenario.write_text(yaml.safe_dump(raw, sort_keys=False))
    other = cli("run", "--reproduce", out / "summary.json", "--out", tmp_path / "other")
    assert other.exit_code == 1, other.output
    assert "NOT reproduced" in other.output and "inputs.scenario.sha256" in other.output


@pytest.mark.parametrize("content, message", [
    (None, "file not found"),
    ("{not json", "not a JSON file"),
    ('{"seed": 7}', "not the summary.json of a `cohesion run`"),
])
def test_reproduce_of_a_bad_file_exits_2(tmp_path, content, message):
    path = tmp_path / "summary.json"
    if content is not None:
        path.write_text(content)
    res = cli("run", "--reproduce", path)
    assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output


def test_reproduce_refuses_to_write_over_the_result_it_checks(tmp_path, scenario):
    out = tmp_path / "out"
    assert cli(*run_args(scenario, out)).exit_code == 0
    res = cli("run", "--reproduce", out / "summary.json", "--out", out)
    assert res.exit_code == 2 and "is the folder of the result to reproduce" in res.output


def test_reproduce_refuses_a_stale_folder(tmp_path, scenario):
    out = tmp_path / "out"
    assert cli(*run_args(scenario, out)).exit_code == 0
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / STALE).write_text("being remade\n")
    res = cli("run", "--reproduce", copy / "summary.json")
    assert res.exit_code == 2 and "is stale" in res.output
