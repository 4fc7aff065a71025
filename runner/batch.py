"""The one execution layer every batch of runs goes through (run, compare, sweep, calibrate).

A run is a pure function of its task (``runner.task.Task``: scenario, parameters, design
changes, seed, stop week), run by ``runner.task.run``. Seeds are spawned per run
index from one root ``numpy.random.SeedSequence``, so results do not depend on the number of
workers or on the engine.

Engines (where the runs happen is a switch, not a different code path):

- ``"processes"`` (default): a local ``ProcessPoolExecutor`` with all cores (a fork server's
  workers; with one worker the runs happen in this process). Each worker ignores Ctrl-C: this
  process stops the batch (the runs not started are cancelled, those in progress end first; a
  second Ctrl-C kills them). Each worker exits as soon as this process is gone, also when it was
  killed with SIGKILL, so no worker, fork server or resource tracker outlives it.
Short runs go to a worker several at a time (``Chunker``: a worker task holds about
``CHUNK_SECONDS`` of work, measured from the first runs; long runs go one by one), which halves
this process's cost per run (Qayyarah runs on 2 workers: 2.0 ms -> 1.0 ms of its CPU a run,
wall time 1-2% less; `python -m benchmarks.chunks`, docs/performance.md); the results do not
depend on it.

- ``"dask"``: Dask distributed, on an existing cluster (``scheduler="tcp://host:port"``) or on a
  ``LocalCluster`` of ``workers`` single-threaded processes. A task on a worker that dies is run
  again elsewhere by Dask.

With ``out=folder`` results stream to disk as runs finish (``RunStore``): every few seconds the
finished runs are written as one part, a folder ``parts/part-NNNNNN`` of Parquet tables (one per
kind of table) and ``runs.json`` (the batch, the runs that succeeded, those that raised, and the
size and sha256 of every table), written under a temporary name and renamed into place. Every
part is verified when read: a damaged or incomplete one is discarded with a one-line notice and
its runs are run again. ``batch.json`` holds the batch's fingerprint and provenance record
(``runner.results.provenance``); ``resume=True`` continues only the same batch (otherwise it is
refused, naming what differs; without it another batch is replaced, the same one continued),
skips the runs already in a part and returns the same final table as an uninterrupted batch
(rows ordered by run). A run that raises is recorded as failed
(the ``errors`` table: run, error, traceback, attempts) and the batch goes on; running the batch
again (``--resume``) tries it again, up to ``MAX_ATTEMPTS`` attempts in all. The final tables
(``<kind>.parquet``) are written only when the batch is complete; when runs are about to be made
they are removed, and the results folder made from them is marked stale
(``runner.results.mark_stale``).
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import multiprocessing
import os
import select
import shutil
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import closing
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)

from common.errors import InputError

from . import results as results_files
from .task import run

Engine = Literal["processes", "dask"]
ERRORS = "errors"
ERROR_COLUMNS = ["run", "error", "traceback", "attempts"]
FLUSH_SECONDS = 5.0     # at most this much finished work is lost to a hard kill (COHESION_FLUSH_SECONDS)
LOG_SECONDS = 30.0      # progress line interval when the output is not a terminal
MAX_ATTEMPTS = 3        # a run that raises is tried at most this often, over the sessions of a batch
CHUNK_SECONDS = 0.5     # short runs go to a worker several at a time, about this much work a task (Chunker)
MAX_CHUNK = 32          # ... and at most this many (COHESION_CHUNK=n fixes the size, for measurements)
MANIFEST, PART_MANIFEST = "batch.json", "runs.json"


class BatchError(InputError):
    """No run of a batch succeeded: there is nothing to report. An ``InputError``, so that every
    command reports it as one message (exit status 2) naming the folder and the first error."""


def notice(text: str) -> None:
    """One line on stderr (file names printed as they are, never read as markup)."""
    Console(stderr=True).print(escape(text), highlight=False, soft_wrap=True)
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
    """A folder of finished runs: ``batch.json``, ``parts/part-*/`` and the final tables.

    ``record``: the provenance record of the command (``runner.results.provenance``), kept in
    ``batch.json`` and compared with the one there; ``results``: the folder of final results made
    from these runs, marked stale when runs are about to be made (``begin``).
    """

    def __init__(self, folder: Path, batch_id: str, n_tasks: int, label: str, resume: bool,
                 record: dict | None = None, results: Path | None = None):
        self.folder, self.parts = Path(folder), Path(folder) / "parts"
        self.batch_id, self.label, self.record, self.results = batch_id, label, record, results
        self.folder.mkdir(parents=True, exist_ok=True)
        # one batch at a time per folder; the lock goes with the process, also when it is killed
        self._lock = open(self.folder / ".lock", "w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise InputError(self.folder, ["is in use by another running batch; wait for it to finish or stop "
                                           "it, then --resume"]) from None
        try:
            self._take_over(resume)
        except BaseException:
            self._lock.close()
            raise
        self.parts.mkdir(parents=True, exist_ok=True)
        for tmp in self.parts.glob(".tmp-*"):      # a part interrupted while being written
            shutil.rmtree(tmp, ignore_errors=True)
        manifest = {"batch": batch_id, "label": label, "tasks": n_tasks, "provenance": record}
        _atomic_write_text(self.folder / MANIFEST, json.dumps(manifest, indent=1, default=str))
        self.seq = max((int(p.name.split("-")[1]) for p in self.part_dirs()), default=-1) + 1

    def _take_over(self, resume: bool) -> None:
        """Keep the finished runs of the same batch (with or without --resume: a run is a pure function
        of its task); refuse to resume another batch, naming what differs; otherwise replace it."""
        path = self.folder / MANIFEST
        existing = self.part_dirs()
        try:
            old = json.loads(path.read_text()) if path.is_file() else {}
        except ValueError:
            old = {"batch": "(unreadable batch.json)"}
        if not old and not existing:
            return
        why = self.differences(old)
        if not why:
            return
        if resume:
            raise InputError(self.folder, [f"holds another batch ({old.get('label')}, {old.get('tasks')} runs): "
                                           "--resume continues only the same command on the same inputs; run "
                                           "without --resume to replace it, or choose another output folder. "
                                           "What differs:", *why])
        notice(f"{self.folder}: replacing {len(existing)} part(s) of an earlier, different batch ({'; '.join(why)})")
        shutil.rmtree(self.parts, ignore_errors=True)

    def differences(self, old: dict) -> list[str]:
        """How the batch in the folder (its ``batch.json``) differs from this one, one line per field;
        empty if it is the same batch."""
        before, now = old.get("provenance"), self.record
        why = results_files.differences(before, now) if before and now else []
        if old.get("batch") != self.batch_id and not why:
            why = [f"the runs: {old.get('tasks')} tasks before, other tasks or settings now"]
        return why

    def close(self) -> None:
        self._lock.close()

    def part_dirs(self) -> list[Path]:
        return sorted(p for p in self.parts.glob("part-*") if p.is_dir()) if self.parts.is_dir() else []

    def begin(self, kept: int, todo: int) -> None:
        """Runs are about to be made: the final tables of this folder, and the results made from
        them, are stale until the batch is complete."""
        for f in self.folder.glob("*.parquet"):
            f.unlink(missing_ok=True)
        if self.results is not None:
            rec = self.record or {}
            results_files.mark_stale(self.results, (
                f"The results in this folder are being remade: a batch ({self.label}, {kept + todo} runs) started "
                f"{rec.get('date', '')} by `{rec.get('command', 'a command')}` writes them when it is complete.\n"
                "If it was interrupted, the same command with --resume continues it."))
        if kept:
            notice(f"{self.label}: {kept} of {kept + todo} runs finished earlier are kept; running the other {todo}")

    def load_part(self, part: Path) -> tuple[dict, dict[str, bytes]] | str:
        """A part's manifest and its tables' bytes, each checked against its size and sha256; or
        what is wrong with it."""
        try:
            manifest = json.loads((part / PART_MANIFEST).read_text())
        except FileNotFoundError:
            return f"no {PART_MANIFEST}"
        except (OSError, ValueError) as exc:
            return f"{PART_MANIFEST} unreadable ({exc})"
        if not isinstance(manifest, dict) or "files" not in manifest:
            return "written without checksums (by an older version)"
        if manifest.get("batch") != self.batch_id:
            return "of another batch"
        blobs = {}
        for name, expect in manifest["files"].items():
            try:
                data = (part / name).read_bytes()
            except OSError:
                return f"{name} missing"
            if len(data) != expect["bytes"] or hashlib.sha256(data).hexdigest() != expect["sha256"]:
                return f"{name} damaged ({len(data)} bytes, {expect['bytes']} written; checksum differs)"
            blobs[name] = data
        return manifest, blobs

    def discard(self, part: Path, problem: str) -> None:
        notice(f"{part}: {problem}; discarded, its runs will be run again")
        shutil.rmtree(part, ignore_errors=True)

    def scan(self) -> tuple[set[int], dict[int, int]]:
        """Verify every part, discarding damaged ones: the runs that succeeded, and how often each
        run that raised has been tried."""
        done: set[int] = set()
        attempts: dict[int, int] = {}
        for p in self.part_dirs():
            loaded = self.load_part(p)
            if isinstance(loaded, str):
                self.discard(p, loaded)
                continue
            done.update(loaded[0]["runs"])
            for i in loaded[0]["failed"]:
                attempts[i] = attempts.get(i, 0) + 1
        return done, attempts

    def write(self, results: dict[int, dict[str, pd.DataFrame]]) -> None:
        """One part holding these runs, all its tables or none of them, with their checksums."""
        if not results:
            return
        tmp = self.parts / f".tmp-{self.seq:06d}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)    # left by a failed attempt of this very write
        tmp.mkdir()
        files = {}
        for kind, df in concat_runs(results).items():
            buf = io.BytesIO()
            df.to_parquet(buf, index=False)
            data = buf.getvalue()
            (tmp / f"{kind}.parquet").write_bytes(data)
            files[f"{kind}.parquet"] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        failed = sorted(i for i, res in results.items() if ERRORS in res)
        manifest = {"batch": self.batch_id, "runs": sorted(set(results) - set(failed)), "failed": failed,
                    "files": files}
        (tmp / PART_MANIFEST).write_text(json.dumps(manifest))
        name, self.seq = self.parts / f"part-{self.seq:06d}", self.seq + 1   # never reused, even if interrupted
        os.replace(tmp, name)

    def read(self) -> dict[str, pd.DataFrame] | None:
        """Every kind of table over all parts, rows ordered by run (stable within a run), each run
        once; ``errors`` holds the runs that never succeeded, their last error and their attempts.
        None if a part turned out damaged (it is discarded: its runs are to be run again)."""
        frames: dict[str, list[pd.DataFrame]] = {}
        taken: set[int] = set()
        for p in self.part_dirs():
            loaded = self.load_part(p)
            if isinstance(loaded, str):
                self.discard(p, loaded)
                return None
            manifest, blobs = loaded
            new = set(manifest["runs"]) - taken
            for name, data in blobs.items():
                df = pd.read_parquet(io.BytesIO(data))
                if name != f"{ERRORS}.parquet" and "run" in df.columns and len(new) < len(manifest["runs"]):
                    df = df[df.run.isin(new)]
                frames.setdefault(name.removesuffix(".parquet"), []).append(df)
            taken |= new
        tables = {k: order_by_run(pd.concat(v, ignore_index=True)) for k, v in frames.items() if k != ERRORS}
        tables[ERRORS] = final_errors(frames.get(ERRORS, []), taken)
        return tables

    def write_tables(self, tables: dict[str, pd.DataFrame]) -> None:
        for kind, df in tables.items():
            tmp = self.folder / f".{kind}.parquet.tmp"
            df.to_parquet(tmp, index=False)
            os.replace(tmp, self.folder / f"{kind}.parquet")


def final_errors(frames: list[pd.DataFrame], succeeded: set[int]) -> pd.DataFrame:
    """The runs that never succeeded: the last error of each and how often it was tried."""
    if not frames:
        return pd.DataFrame(columns=ERROR_COLUMNS)
    err = pd.concat(frames, ignore_index=True)
    err = err[~err.run.isin(succeeded)]
    attempts = err.groupby("run").size()
    err = err.drop_duplicates("run", keep="last").drop(columns=["attempts"], errors="ignore")
    return order_by_run(err.assign(attempts=err.run.map(attempts).astype(int)))[ERROR_COLUMNS]


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


def _worker_init(parent: int) -> None:
    """In each worker process: leave Ctrl-C to the parent (it stops the batch and keeps what finished),
    and exit as soon as the parent is gone. A parent killed with SIGKILL cannot stop its workers;
    once they are gone, the fork server and the resource tracker exit by themselves."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(parent,), daemon=True, name="exit-with-parent").start()


def _exit_with(pid: int) -> None:
    try:
        fd = os.pidfd_open(pid)           # Linux: readable when the process has exited
        select.select([fd], [], [])
    except (AttributeError, OSError):
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            except PermissionError:
                pass
            time.sleep(0.5)
    os._exit(1)


def guarded_chunk(fn: Callable[[Any], dict[str, pd.DataFrame]], tasks: Sequence[Any]
                  ) -> list[tuple[int, dict[str, pd.DataFrame], float]]:
    """Run several tasks in one worker task: each guarded, with the seconds it took."""
    out = []
    for t in tasks:
        t0 = time.perf_counter()
        i, res = guarded(fn, t)
        out.append((i, res, time.perf_counter() - t0))
    return out


class Chunker:
    """How many runs go into the next worker task.

    A worker task costs a fixed overhead (sending the tasks, the result tables back, the pool's
    bookkeeping in this process, which shares the cores with the workers). When runs are short,
    several go into one task, so that a task holds about ``CHUNK_SECONDS`` of work; long runs go
    one by one, so that a run is handed back (and kept on disk) as soon as it is finished. The
    first tasks are single runs, which measure how long a run takes; then the size follows the
    mean seconds per run, never more than ``MAX_CHUNK`` and never so many that the last tasks
    leave a worker idle (at most the runs left over two tasks per worker). The runs and their
    results do not depend on the chunks (a run is a pure function of its task).
    """

    def __init__(self, workers: int, fixed: int | None = None):
        self.workers, self.fixed = workers, fixed
        self.seconds, self.runs = 0.0, 0

    def record(self, durations: Sequence[float]) -> None:
        self.seconds += float(sum(durations))
        self.runs += len(durations)

    def size(self, left: int) -> int:
        if self.fixed is not None:
            return max(1, min(self.fixed, left))
        if self.runs < self.workers:
            return 1
        per_run = self.seconds / self.runs
        n = int(CHUNK_SECONDS / max(per_run, 1e-6))
        return max(1, min(n, MAX_CHUNK, left // (2 * self.workers) or 1, left))


def _chunk_size_setting() -> int | None:
    raw = os.environ.get("COHESION_CHUNK")
    if not raw:
        return None
    try:
        n = int(raw)
        if n < 1:
            raise ValueError
    except ValueError:
        raise InputError("COHESION_CHUNK", [f"'{raw}' is not a whole number of runs of at least 1"]) from None
    return n


def _chunked(submit: Callable, wait_any: Callable, tasks: Sequence[Any], workers: int
             ) -> Iterator[tuple[int, dict[str, pd.DataFrame]]]:
    """Hand ``tasks`` to workers in chunks (``Chunker``), at most two chunks per worker in flight,
    and yield each run as its chunk finishes. ``submit(chunk)`` returns a future; ``wait_any(futures)``
    returns the finished ones and the rest; each finished future's ``result()`` is ``guarded_chunk``'s."""
    chunker = Chunker(workers, _chunk_size_setting())
    queue = list(tasks)
    queue.reverse()            # pop() from the end: the tasks in their order
    pending: set = set()
    while queue or pending:
        while queue and len(pending) < 2 * workers:
            n = chunker.size(len(queue))
            chunk = [queue.pop() for _ in range(n)]
            pending.add(submit(chunk))
        done, pending = wait_any(pending)
        for fut in done:
            runs = fut.result()
            chunker.record([d for _, _, d in runs])
            for i, res, _ in runs:
                yield i, res


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
    ctx.set_forkserver_preload(["runner", "runner.preload", fn.__module__])  # preload: the compiled kernels
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init,
                               initargs=(os.getpid(),))

    def wait_any(pending):
        done, rest = wait(pending, return_when=FIRST_COMPLETED)
        return done, rest

    try:
        yield from _chunked(lambda chunk: pool.submit(guarded_chunk, fn, chunk), wait_any, tasks, workers)
    except BaseException:
        _stop(pool)        # interrupted (Ctrl-C, SIGTERM) or stopped
        raise
    pool.shutdown(wait=True)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel the runs not yet started and let those in progress end (a worker killed while it sends
    its result would leave the pool reading half a message for ever); a second Ctrl-C kills them."""
    try:
        pool.shutdown(wait=True, cancel_futures=True)
    except KeyboardInterrupt:
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            proc.kill()
        raise


def _run_dask(fn, tasks, workers: int | None, scheduler: str | None) -> Iterator[tuple[int, dict[str, pd.DataFrame]]]:
    import logging

    from distributed import Client, LocalCluster
    from distributed import wait as dask_wait

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
        # a task whose worker dies is run again on another one (the scheduler's allowed-failures)
        n_workers = max(1, len(client.scheduler_info().get("workers", {})) or (workers or default_workers()))

        def wait_any(pending):
            done, rest = dask_wait(list(pending), return_when="FIRST_COMPLETED")
            return done, set(rest)

        yield from _chunked(lambda chunk: client.submit(guarded_chunk, fn, chunk, pure=False), wait_any, tasks, n_workers)
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
              scheduler: str | None = None, flush_seconds: float | None = None, record: dict | None = None,
              results: str | Path | None = None) -> dict[str, pd.DataFrame]:
    """Run every task and concatenate each kind of table, rows ordered by run.

    Parameters
    ----------
    tasks : sequence of tasks, each with a unique integer ``index``
        Picklable; ``fn(task)`` returns a dict of DataFrames (a ``run`` column is added if absent).
    workers : int, optional
        Worker processes (default: all cores). With the Dask engine, the LocalCluster's size.
    out : folder, optional
        Stream finished runs to ``out/parts`` and write the final tables as ``out/<kind>.parquet``
        once the batch is complete.
    resume : bool
        Continue the batch already in ``out`` (same tasks and provenance record), running only the
        missing runs and the failed ones not yet tried ``MAX_ATTEMPTS`` times.
    engine : "processes" or "dask"
        Default "processes"; "dask" when ``scheduler`` is given.
    scheduler : str, optional
        Address of an existing Dask scheduler, e.g. ``tcp://127.0.0.1:8786``.
    flush_seconds : float, optional
        Finished runs are written to ``out`` at least this often (default ``FLUSH_SECONDS``, or the
        environment's ``COHESION_FLUSH_SECONDS``).
    record : dict, optional
        The command's provenance record (``runner.results.provenance``), kept in ``out/batch.json``;
        a batch in ``out`` with another record is not resumed.
    results : folder, optional
        The folder of final results made from these runs: marked stale while runs are being made.

    Returns
    -------
    dict of kind -> DataFrame, always with ``errors`` (run, error, traceback, attempts; empty if none).

    Raises
    ------
    InputError
        ``BatchError`` if no run succeeded; an output folder holding another batch (with --resume)
        or a scheduler that does not answer.
    """
    engine = engine or ("dask" if scheduler else "processes")
    if engine not in ("processes", "dask"):
        raise InputError("--engine", [f"unknown engine '{engine}'; allowed: processes, dask"])
    indices = [t.index for t in tasks]
    if len(set(indices)) != len(indices):
        raise ValueError("task indices must be unique")
    flush_seconds = _flush_seconds(flush_seconds)
    store = (RunStore(Path(out), fingerprint(tasks, fn), len(tasks), label, resume, record,
                      None if results is None else Path(results)) if out is not None else None)
    run_with = dict(workers=workers, progress=progress, label=label, engine=engine, scheduler=scheduler,
                    flush_seconds=flush_seconds)
    try:
        tables = _run_in_memory(tasks, fn, run_with) if store is None else _run_with_store(tasks, fn, store, run_with)
        return _report(tables, len(tasks), label, store)
    finally:
        if store is not None:
            store.close()


def _flush_seconds(given: float | None) -> float:
    """The flush interval: given, or the environment's; a bad COHESION_CHUNK is refused here too,
    before anything runs."""
    _chunk_size_setting()
    return float(os.environ.get("COHESION_FLUSH_SECONDS", FLUSH_SECONDS)) if given is None else given


def _execute(todo: Sequence[Any], fn, sink: Callable[[dict], None], total: int, *, workers, progress, label, engine,
             scheduler, flush_seconds) -> set[int]:
    """Run ``todo``, handing finished runs to ``sink`` at least every ``flush_seconds`` and at the
    end, also when interrupted (Ctrl-C, SIGTERM); returns the runs that raised."""
    failed: set[int] = set()
    buffer: dict[int, dict[str, pd.DataFrame]] = {}
    meter = Meter(label, total, total - len(todo), progress)
    last_flush = time.perf_counter()
    restore_term = _terminate_as_interrupt()
    try:
        if todo:
            if engine == "dask":
                stream = _run_dask(fn, todo, workers, scheduler)
            else:
                stream = _run_processes(fn, todo, min(workers or default_workers(), len(todo)))
            # closed at once when interrupted here, not when collected: its workers stop now
            with closing(stream):
                for i, res in stream:
                    buffer[i] = res
                    if ERRORS in res:
                        failed.add(i)
                    meter.advance()
                    if time.perf_counter() - last_flush >= flush_seconds:
                        sink(buffer)
                        buffer, last_flush = {}, time.perf_counter()
    finally:
        try:
            sink(buffer)        # whatever finished is kept, also on Ctrl-C or kill (SIGTERM)
        finally:
            meter.close()
            restore_term()
    return failed


def _run_in_memory(tasks, fn, run_with: dict) -> dict[str, pd.DataFrame]:
    results: dict[int, dict[str, pd.DataFrame]] = {}
    _execute(tasks, fn, results.update, len(tasks), **{**run_with, "flush_seconds": 0.0})
    tables = concat_runs(results)
    if ERRORS in tables:
        tables[ERRORS] = tables[ERRORS].assign(attempts=1)
    return tables


def _run_with_store(tasks, fn, store: RunStore, run_with: dict) -> dict[str, pd.DataFrame]:
    """Run what the store lacks: runs never finished, in a damaged part, or failed fewer than
    ``MAX_ATTEMPTS`` times (not again in this session); then read every part back, verified."""
    failed_now: set[int] = set()
    for _ in range(MAX_ATTEMPTS):        # again only if a part turns out damaged when read back
        done, attempts = store.scan()
        todo = [t for t in tasks if t.index not in done and t.index not in failed_now
                and attempts.get(t.index, 0) < MAX_ATTEMPTS]
        if todo:
            store.begin(len(tasks) - len(todo), len(todo))
        failed_now |= _execute(todo, fn, store.write, len(tasks), **run_with)
        tables = store.read()
        if tables is not None:
            return tables
    raise BatchError(store.folder, ["parts keep turning out damaged when read back; is the disk failing?"])


def _report(tables: dict[str, pd.DataFrame], n: int, label: str, store: RunStore | None) -> dict[str, pd.DataFrame]:
    """Say which runs failed (and whether they will be tried again); refuse a batch where every run
    failed; write the final tables of a complete batch."""
    tables.setdefault(ERRORS, pd.DataFrame(columns=ERROR_COLUMNS))
    err = tables[ERRORS]
    left = int((err.attempts < MAX_ATTEMPTS).sum()) if store is not None and len(err) else 0
    if store is None:
        again = "fix the cause, then run the batch again"
    elif left:
        again = (f"the same command with --resume tries {left} of them again (at most {MAX_ATTEMPTS} attempts "
                 "in all)")
    else:
        again = (f"each was tried {MAX_ATTEMPTS} times and is not tried again; fix the cause, then start "
                 f"afresh (remove {store.folder} or choose another output folder)")
    if len(err):
        first = err.iloc[0]
        notice(f"{label}: {len(err)} of {n} runs raised; first, run {first['run']}: {first['error']} "
               f"(all in the errors table; {again})")
    if len(err) == n:
        if store is not None:
            store.write_tables({ERRORS: err})
        where = store.folder if store is not None else label
        tracebacks = f" (tracebacks in {store.folder / 'errors.parquet'})" if store is not None else ""
        raise BatchError(where, [f"all {n} runs raised; first, run {err.iloc[0]['run']}: {err.iloc[0]['error']}"
                                 f"{tracebacks}", again])
    if store is not None:
        store.write_tables(tables)
    return tables
