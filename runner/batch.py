"""The one execution layer every batch of runs goes through (run, compare, sweep, calibrate).

A run is a pure function of its task (``runner.task.Task``: scenario, parameters, design
changes, seed, stop week), run by ``runner.task.run``. Seeds are spawned per run
index from one root ``numpy.random.SeedSequence``, so results do not depend on the number of
workers or on the engine.

Engines (where the runs happen is a switch, not a different code path):

- ``"processes"`` (default): a local ``ProcessPoolExecutor`` with all cores; one worker runs
  in this process.
- ``"dask"``: Dask distributed, on an existing cluster (``scheduler="tcp://host:port"``) or on a
  ``LocalCluster`` of ``workers`` single-threaded processes.

With ``out=folder`` results stream to disk as runs finish: every few seconds the finished runs
are written as one part, a folder ``parts/part-NNNNNN`` of Parquet tables (one per kind of
table) and ``runs.json`` (the run indices it holds), written under a temporary name and renamed
into place, so a part is either complete or absent. ``resume=True`` skips the runs already in a
part and returns the same final table as an uninterrupted batch (rows ordered by run). A run
that raises is recorded in the ``errors`` table (run, error, traceback) and the batch goes on.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import multiprocessing
import os
import shutil
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)

from common.errors import InputError

from .task import run

Engine = Literal["processes", "dask"]
ERRORS = "errors"
FLUSH_SECONDS = 5.0     # at most this much finished work is lost to a hard kill
LOG_SECONDS = 30.0      # progress line interval when the output is not a terminal


class BatchError(RuntimeError):
    """No run of a batch succeeded: there is nothing to report."""


# --- progress -------------------------------------------------------------------------------
def progress_bar(label: str, console: Console | None = None) -> Progress:
    return Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("left"),
                    TimeRemainingColumn(), console=console)


class Meter:
    """Runs done, runs per second (this session) and time left; a bar on a terminal, lines otherwise."""

    def __init__(self, label: str, total: int, done: int, show: bool):
        self.label, self.total, self.done, self.show = label, total, done, show
        self.start_done, self.t0, self.last_log = done, time.perf_counter(), 0.0
        self.console = Console(stderr=True)
        self.bar = progress_bar(label, self.console) if show and self.console.is_terminal else None
        if self.bar is not None:
            self.bar.start()
            self.job = self.bar.add_task(label, total=total, completed=done, rate="")

    def rate(self) -> float:
        return (self.done - self.start_done) / max(time.perf_counter() - self.t0, 1e-9)

    def advance(self, n: int = 1) -> None:
        self.done += n
        rate = self.rate()
        if self.bar is not None:
            self.bar.update(self.job, advance=n, rate=f"{rate:.1f} runs/s")
        elif self.show and time.perf_counter() - self.last_log >= LOG_SECONDS:
            self.last_log = time.perf_counter()
            left = (self.total - self.done) / rate if rate > 0 else float("nan")
            self.console.print(f"{self.label}: {self.done}/{self.total} runs, {rate:.2f} runs/s, "
                               f"{left / 60:.1f} min left", highlight=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
        if self.show:
            self.console.print(f"{self.label}: {self.done}/{self.total} runs, {self.rate():.2f} runs/s this session, "
                               f"{time.perf_counter() - self.t0:.1f} s", highlight=False)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)))


# --- the store of finished runs -------------------------------------------------------------
def fingerprint(tasks: Sequence[Any], fn: Callable) -> str:
    """What identifies a batch: the function and every task (a resumed batch must be the same)."""
    h = hashlib.sha256(f"{fn.__module__}.{fn.__qualname__}".encode())
    for t in tasks:
        h.update(repr(t).encode())
    return h.hexdigest()


class RunStore:
    """A folder of finished runs: ``batch.json``, ``parts/part-*/`` and the final tables."""

    def __init__(self, folder: Path, batch_id: str, n_tasks: int, label: str, resume: bool):
        self.folder, self.parts = Path(folder), Path(folder) / "parts"
        self.folder.mkdir(parents=True, exist_ok=True)
        # one batch at a time per folder; the lock goes with the process, also when it is killed
        self._lock = open(self.folder / ".lock", "w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise InputError(self.folder, ["is in use by another running batch; wait for it to finish or stop "
                                           "it, then --resume"]) from None
        manifest = self.folder / "batch.json"
        existing = sorted(self.parts.glob("part-*")) if self.parts.is_dir() else []
        old = json.loads(manifest.read_text()) if existing and manifest.is_file() else {}
        if existing and old.get("batch") != batch_id:
            if resume:
                raise InputError(self.folder, [f"holds a different batch ({old.get('label')}, {old.get('tasks')} "
                                               "runs, other settings or scenarios); --resume needs the same "
                                               "command, or choose another output folder"])
            # a new, different batch in this folder replaces the old one, as its final tables will
            Console(stderr=True).print(f"{self.folder}: replacing {len(existing)} part(s) of an earlier, "
                                       "different batch")
            shutil.rmtree(self.parts)
        # the same batch again: its finished runs are kept (a run is a pure function of its task),
        # with or without --resume
        self.parts.mkdir(parents=True, exist_ok=True)
        for tmp in self.parts.glob(".tmp-*"):      # a part interrupted while being written
            shutil.rmtree(tmp, ignore_errors=True)
        _atomic_write_text(manifest, json.dumps({"batch": batch_id, "label": label, "tasks": n_tasks}, indent=1))
        self.seq = max((int(p.name.split("-")[1]) for p in self.part_dirs()), default=-1) + 1

    def close(self) -> None:
        self._lock.close()

    def part_dirs(self) -> list[Path]:
        return sorted(p for p in self.parts.glob("part-*") if p.is_dir())

    def finished(self) -> set[int]:
        done: set[int] = set()
        for p in self.part_dirs():
            done.update(json.loads((p / "runs.json").read_text()))
        return done

    def write(self, results: dict[int, dict[str, pd.DataFrame]]) -> None:
        """One part holding these runs, all its tables or none of them."""
        if not results:
            return
        tmp = self.parts / f".tmp-{self.seq:06d}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)    # left by a failed attempt of this very write
        tmp.mkdir()
        for kind, df in concat_runs(results).items():
            df.to_parquet(tmp / f"{kind}.parquet", index=False)
        (tmp / "runs.json").write_text(json.dumps(sorted(results)))
        os.replace(tmp, self.parts / f"part-{self.seq:06d}")
        self.seq += 1

    def read(self) -> dict[str, pd.DataFrame]:
        """Every kind of table over all parts, rows ordered by run (stable within a run)."""
        frames: dict[str, list[pd.DataFrame]] = {}
        for p in self.part_dirs():
            for f in sorted(p.glob("*.parquet")):
                frames.setdefault(f.stem, []).append(pd.read_parquet(f))
        return {k: order_by_run(pd.concat(v, ignore_index=True)) for k, v in frames.items()}

    def write_tables(self, tables: dict[str, pd.DataFrame]) -> None:
        for kind, df in tables.items():
            tmp = self.folder / f".{kind}.parquet.tmp"
            df.to_parquet(tmp, index=False)
            os.replace(tmp, self.folder / f"{kind}.parquet")


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def order_by_run(df: pd.DataFrame) -> pd.DataFrame:
    if "run" not in df.columns:
        return df.reset_index(drop=True)
    return df.sort_values("run", kind="stable").reset_index(drop=True)


def concat_runs(results: dict[int, dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    kinds: list[str] = []
    for res in results.values():
        kinds += [k for k in res if k not in kinds]
    out = {}
    for k in kinds:
        frames = [results[i][k] for i in sorted(results) if k in results[i] and len(results[i][k])]
        if frames:
            out[k] = pd.concat(frames, ignore_index=True)
    return out


# --- running one task, guarded ----------------------------------------------------------------
def guarded(fn: Callable[[Any], dict[str, pd.DataFrame]], task: Any) -> tuple[int, dict[str, pd.DataFrame]]:
    """Run one task; an exception becomes a row of the ``errors`` table instead of ending the batch."""
    try:
        res = dict(fn(task))
        for k, df in res.items():
            if "run" not in df.columns:
                res[k] = df.assign(run=task.index)
        return task.index, res
    except Exception as exc:  # noqa: BLE001 - any failure of one run is recorded, the batch goes on
        err = pd.DataFrame([{"run": task.index, "error": f"{type(exc).__name__}: {exc}",
                             "traceback": traceback.format_exc()}])
        return task.index, {ERRORS: err}


def _run_processes(fn, tasks, workers: int) -> Iterator[tuple[int, dict[str, pd.DataFrame]]]:
    if workers == 1:
        for t in tasks:
            yield guarded(fn, t)
        return
    # forkserver: workers do not inherit this process's threads (Dask's, rich's) as fork would; the
    # server imports the model once, so each worker starts as a fork of it, not from scratch
    # one BLAS thread per worker (the workers are the parallelism): set before the fork server
    # starts, which the workers inherit it from (Dask's workers set the same themselves)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["runner", fn.__module__])
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    try:
        futures = [pool.submit(guarded, fn, t) for t in tasks]
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _run_dask(fn, tasks, workers: int | None, scheduler: str | None) -> Iterator[tuple[int, dict[str, pd.DataFrame]]]:
    import logging

    from distributed import Client, LocalCluster
    from distributed import as_completed as dask_as_completed

    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise InputError("--scheduler", [f"no Dask scheduler answers at {scheduler} ({exc}); start one with "
                                             "`dask scheduler` and `dask worker <address>`"]) from None
    else:
        cluster = LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster)
    try:
        futures = client.map(guarded, [fn] * len(tasks), tasks, pure=False)
        for fut in dask_as_completed(futures):
            res = fut.result()
            fut.release()
            yield res
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _terminate_as_interrupt() -> Callable[[], None]:
    """Turn SIGTERM into KeyboardInterrupt while a batch runs, so ``kill`` also keeps finished runs.

    Returns the function that restores the previous handler.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    return lambda: signal.signal(signal.SIGTERM, previous)


# --- the batch ----------------------------------------------------------------------------------
def run_batch(tasks: Sequence[Any], fn: Callable[[Any], dict[str, pd.DataFrame]] = run, *,
              workers: int | None = None, progress: bool = True, label: str = "runs",
              out: str | Path | None = None, resume: bool = False, engine: Engine | None = None,
              scheduler: str | None = None, flush_seconds: float = FLUSH_SECONDS) -> dict[str, pd.DataFrame]:
    """Run every task and concatenate each kind of table, rows ordered by run.

    Parameters
    ----------
    tasks : sequence of tasks, each with a unique integer ``index``
        Picklable; ``fn(task)`` returns a dict of DataFrames (a ``run`` column is added if absent).
    workers : int, optional
        Worker processes (default: all cores). With the Dask engine, the LocalCluster's size.
    out : folder, optional
        Stream finished runs to ``out/parts`` and write the final tables as ``out/<kind>.parquet``.
    resume : bool
        Continue the batch already in ``out`` (same tasks), running only the missing runs.
    engine : "processes" or "dask"
        Default "processes"; "dask" when ``scheduler`` is given.
    scheduler : str, optional
        Address of an existing Dask scheduler, e.g. ``tcp://127.0.0.1:8786``.
    flush_seconds : float
        Finished runs are written to ``out`` at least this often.

    Returns
    -------
    dict of kind -> DataFrame, always with ``errors`` (run, error, traceback; empty if none).

    Raises
    ------
    BatchError
        if no run succeeded.
    InputError
        for an output folder holding another batch, or a scheduler that does not answer.
    """
    engine = engine or ("dask" if scheduler else "processes")
    if engine not in ("processes", "dask"):
        raise InputError("--engine", [f"unknown engine '{engine}'; allowed: processes, dask"])
    indices = [t.index for t in tasks]
    if len(set(indices)) != len(indices):
        raise ValueError("task indices must be unique")
    store = RunStore(Path(out), fingerprint(tasks, fn), len(tasks), label, resume) if out is not None else None
    try:
        return _run_with_store(tasks, fn, store, workers=workers, progress=progress, label=label, engine=engine,
                               scheduler=scheduler, flush_seconds=flush_seconds)
    finally:
        if store is not None:
            store.close()


def _run_with_store(tasks, fn, store: RunStore | None, *, workers, progress, label, engine, scheduler,
                    flush_seconds) -> dict[str, pd.DataFrame]:
    done = store.finished() if store is not None else set()
    todo = [t for t in tasks if t.index not in done]
    results: dict[int, dict[str, pd.DataFrame]] = {}
    buffer: dict[int, dict[str, pd.DataFrame]] = {}
    meter = Meter(label, len(tasks), len(tasks) - len(todo), progress)
    last_flush = time.perf_counter()
    restore_term = _terminate_as_interrupt()
    try:
        if todo:
            if engine == "dask":
                stream = _run_dask(fn, todo, workers, scheduler)
            else:
                stream = _run_processes(fn, todo, min(workers or default_workers(), len(todo)))
            for i, res in stream:
                if store is None:
                    results[i] = res
                else:
                    buffer[i] = res
                    if time.perf_counter() - last_flush >= flush_seconds:
                        store.write(buffer)
                        buffer, last_flush = {}, time.perf_counter()
                meter.advance()
    finally:
        try:
            if store is not None:   # whatever finished is kept, also on Ctrl-C or kill (SIGTERM)
                store.write(buffer)
        finally:
            meter.close()
            restore_term()
    tables = store.read() if store is not None else concat_runs(results)
    tables.setdefault(ERRORS, pd.DataFrame(columns=["run", "error", "traceback"]))
    n_err = len(tables[ERRORS])
    if n_err:
        first = tables[ERRORS].iloc[0]
        Console(stderr=True).print(f"[yellow]{label}: {n_err} of {len(tasks)} runs raised; first, run "
                                   f"{first['run']}: {first['error']}[/] (all in the errors table)")
    if n_err == len(tasks):
        raise BatchError(f"{label}: all {len(tasks)} runs raised; first: {tables[ERRORS].iloc[0]['error']}")
    if store is not None:
        store.write_tables(tables)
    return tables

