"""The runner: same results whatever the engine, streaming to disk, resume, errors recorded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from runner import BatchError, run_batch
from common.errors import InputError
from tests.test_runner_support import fails_on_three, slow_square, tiny_tasks

ROOT = Path(__file__).resolve().parents[1]


def test_results_are_the_same_with_one_and_two_workers_and_on_dask(tmp_path):
    tasks = tiny_tasks(6)
    one = run_batch(tasks, workers=1, progress=False, out=tmp_path / "one")
    two = run_batch(tasks, workers=2, progress=False, out=tmp_path / "two")
    dask = run_batch(tasks, workers=2, engine="dask", progress=False, out=tmp_path / "dask")
    memory = run_batch(tasks, workers=2, progress=False)
    for kind in ("survey", "timeseries", "outcomes"):
        pd.testing.assert_frame_equal(one[kind], two[kind])
        pd.testing.assert_frame_equal(one[kind], dask[kind])
        pd.testing.assert_frame_equal(one[kind], memory[kind], check_dtype=False)
        assert (tmp_path / "one" / f"{kind}.parquet").is_file()
    # different seeds give different runs: the comparison above is not trivially true
    assert one["outcomes"]["endline.acceptance"].nunique() > 1


def test_a_run_that_raises_is_recorded_and_the_batch_goes_on(tmp_path):
    tasks = tiny_tasks(6)
    res = run_batch(tasks, fails_on_three, workers=2, progress=False, out=tmp_path)
    assert list(res["errors"].run) == [3]
    assert "run three is broken" in res["errors"].error.iloc[0]
    assert "Traceback" in res["errors"].traceback.iloc[0]
    assert list(res["values"].run) == [0, 1, 2, 4, 5]
    # resuming tries the failed run again (it fails again: its attempts are counted), nothing else
    again = run_batch(tasks, fails_on_three, workers=1, progress=False, out=tmp_path, resume=True)
    pd.testing.assert_frame_equal(res["values"], again["values"])
    assert list(again["errors"].attempts) == [2]


def test_a_batch_where_every_run_raises_is_an_error():
    with pytest.raises(BatchError, match="all 1 runs raised"):
        run_batch(tiny_tasks(4)[3:], fails_on_three, workers=1, progress=False)
    assert issubclass(BatchError, InputError)   # reported by the commands as one message, exit 2


KILLED_BATCH = """
import sys
from runner import run_batch
from tests.test_runner_support import slow_square, tiny_tasks
run_batch(tiny_tasks(150), slow_square, workers=2, progress=False, out=sys.argv[1], flush_seconds=0.1)
"""


def test_resume_after_a_killed_batch_gives_the_full_table_without_duplicates(tmp_path):
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_BATCH, str(out)], cwd=ROOT, start_new_session=True)
    deadline = time.time() + 60
    try:
        while time.time() < deadline:
            parts = list((out / "parts").glob("part-*")) if (out / "parts").is_dir() else []
            if len(parts) >= 3:
                break
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)   # no clean-up: as if the machine went down
    finally:
        proc.wait()
    done = set()
    for p in (out / "parts").glob("part-*"):
        done |= set(json.loads((p / "runs.json").read_text())["runs"])
    assert 0 < len(done) < 150, "the batch should have been killed part-way"
    assert not (out / "values.parquet").exists()

    resumed = run_batch(tiny_tasks(150), slow_square, workers=1, progress=False, out=out, resume=True)
    whole = run_batch(tiny_tasks(150), slow_square, workers=1, progress=False, out=tmp_path / "whole")
    values = resumed["values"]
    assert sorted(values.run.unique()) == list(range(150))
    assert not values.duplicated(["run", "row"]).any()
    pd.testing.assert_frame_equal(values, whole["values"])
    pd.testing.assert_frame_equal(pd.read_parquet(out / "values.parquet"), whole["values"])


def test_an_output_folder_is_not_mixed_with_another_batch(tmp_path):
    first = run_batch(tiny_tasks(3), slow_square, workers=1, progress=False, out=tmp_path)
    parts = sorted((tmp_path / "parts").glob("part-*"))
    # the same batch again reuses its finished runs: no new part is written
    again = run_batch(tiny_tasks(3), slow_square, workers=1, progress=False, out=tmp_path)
    assert sorted((tmp_path / "parts").glob("part-*")) == parts
    pd.testing.assert_frame_equal(again["values"], first["values"])
    # a different batch cannot resume this one ...
    with pytest.raises(InputError, match="holds another batch"):
        run_batch(tiny_tasks(4), slow_square, workers=1, progress=False, out=tmp_path, resume=True)
    # ... but without --resume it replaces it, never mixing runs of the two
    other = run_batch(tiny_tasks(4), slow_square, workers=1, progress=False, out=tmp_path)
    assert sorted(other["values"].run.unique()) == [0, 1, 2, 3]
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "values.parquet"), other["values"])


def test_an_unreachable_scheduler_is_a_clear_input_error():
    with pytest.raises(InputError, match="no Dask scheduler answers"):
        run_batch(tiny_tasks(2), slow_square, progress=False, scheduler="tcp://127.0.0.1:9")


TERMINATED_BATCH = """
import sys
from runner import run_batch
from tests.test_runner_support import slow_square, tiny_tasks
run_batch(tiny_tasks(2000), slow_square, workers=1, progress=False, out=sys.argv[1], flush_seconds=1e9)
"""


def test_a_terminated_batch_writes_what_finished_before_it_stops(tmp_path):
    out = tmp_path / "terminated"
    proc = subprocess.Popen([sys.executable, "-c", TERMINATED_BATCH, str(out)], cwd=ROOT)
    time.sleep(1.0)
    while not (out / "batch.json").exists() and proc.poll() is None:
        time.sleep(0.1)
    time.sleep(1.0)            # some runs finish, none is written yet (no periodic flush)
    proc.terminate()
    assert proc.wait(timeout=30) != 0
    parts = list((out / "parts").glob("part-*"))
    assert len(parts) == 1
    kept = json.loads((parts[0] / "runs.json").read_text())["runs"]
    assert 0 < len(kept) < 2000 and kept == list(range(len(kept)))


def test_two_batches_cannot_write_to_one_folder_at_the_same_time(tmp_path):
    from runner import RunStore

    first = RunStore(tmp_path, "a", 1, "first", resume=False)
    with pytest.raises(InputError, match="in use by another running batch"):
        RunStore(tmp_path, "a", 1, "second", resume=True)
    first.close()
    RunStore(tmp_path, "a", 1, "third", resume=True).close()


# --- several runs per worker task ---------------------------------------------------------------
def test_chunks_follow_the_measured_run_time_and_leave_no_worker_idle_at_the_end():
    from runner.batch import CHUNK_SECONDS, MAX_CHUNK, Chunker

    c = Chunker(workers=2)
    assert c.size(1000) == 1                       # nothing measured yet: single runs measure
    c.record([0.05])
    assert c.size(1000) == 1                       # one run measured, one worker still unmeasured
    c.record([0.05])
    assert c.size(1000) == int(CHUNK_SECONDS / 0.05)   # about CHUNK_SECONDS of work a task
    assert c.size(12) == 3                         # the last runs spread over two tasks per worker
    assert c.size(1) == 1
    c.record([1e-5] * 100)
    assert c.size(10**6) == MAX_CHUNK
    slow = Chunker(workers=2)
    slow.record([3.0, 3.0])
    assert slow.size(1000) == 1                    # long runs one by one: each kept as it finishes
    assert Chunker(workers=2, fixed=5).size(3) == 3


def test_results_do_not_depend_on_how_runs_are_chunked(monkeypatch):
    tasks = tiny_tasks(7)
    monkeypatch.setenv("COHESION_CHUNK", "1")
    single = run_batch(tasks, workers=2, progress=False)
    monkeypatch.setenv("COHESION_CHUNK", "3")
    chunked = run_batch(tasks, fails_on_three, workers=2, progress=False)
    plain = run_batch(tasks, fails_on_three, workers=1, progress=False)
    for kind in ("survey", "outcomes"):
        assert list(single[kind].run.unique()) == list(range(7))
    # a run that raises inside a chunk is recorded alone; the others of its chunk are kept
    assert list(chunked["errors"].run) == [3]
    pd.testing.assert_frame_equal(chunked["values"], plain["values"])
    monkeypatch.setenv("COHESION_CHUNK", "3")
    again = run_batch(tasks, workers=2, progress=False)
    for kind in ("survey", "timeseries", "outcomes"):
        pd.testing.assert_frame_equal(single[kind], again[kind])


def test_a_bad_chunk_setting_is_refused(monkeypatch):
    monkeypatch.setenv("COHESION_CHUNK", "zero")
    for workers in (1, 2):
        with pytest.raises(InputError, match="COHESION_CHUNK"):
            run_batch(tiny_tasks(2), workers=workers, progress=False)
