"""The one execution layer every batch of runs goes through (run, compare, sweep, calibrate).

A run is a pure function of (scenario, parameters, seed). Seeds are spawned per run index from
one root ``numpy.random.SeedSequence``, so results do not depend on the number of workers or on
the engine. Batches run in local processes by default.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)

from model import CohesionModel, Params
from scenarios.schema import Scenario


@dataclass(frozen=True)
class Task:
    """One run: the scenario, its parameters and where its seed comes from."""

    index: int                     # position in the batch
    scenario: Scenario
    params: Params
    root_seed: int
    seed_key: int                  # the run's seed is SeedSequence(root_seed, spawn_key=(seed_key,))
    replicate: int = 0
    labels: dict = field(default_factory=dict)

    def seed(self) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.root_seed, spawn_key=(self.seed_key,))


def outcomes(model: CohesionModel) -> dict[str, float]:
    """Scalar end-of-run outcomes a comparison or sweep ranks scenarios by."""
    survey = model.survey_results()
    out: dict[str, float] = {}
    for row in survey.itertuples():
        out[f"{row.wave}.{row.item}.{row.group}.{row.village}"] = row.value
    out["cross_group_ties"] = float(model.network.cross_group_ties().mean())
    out["wellbeing_population"] = float(model.state.wellbeing.mean())
    out["acceptance_population"] = float(model.summary["acceptance"])
    out["cost"] = float(model.cost)
    return out


def simulate(task: Task) -> dict[str, pd.DataFrame]:
    """Run one task to its horizon; return its survey, time series and outcomes as tables."""
    m = CohesionModel(task.scenario, task.params, rng=task.seed(), replicate=task.replicate)
    m.run()
    labels = {"run": task.index, **task.labels}
    survey = m.survey_results()
    ts = m.timeseries()
    out = pd.DataFrame([{**labels, "scenario": task.scenario.name, "replicate": task.replicate, **outcomes(m)}])
    for k, v in task.labels.items():
        if k not in ("scenario", "replicate"):
            survey[k] = v
            ts[k] = v
    survey.insert(0, "run", task.index)
    ts.insert(0, "run", task.index)
    return {"survey": survey, "timeseries": ts, "outcomes": out}


def progress_bar(label: str) -> Progress:
    return Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("left"),
                    TimeRemainingColumn())


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)))


def run_batch(tasks: Sequence[Task], fn: Callable[[Task], dict[str, pd.DataFrame]] = simulate, *,
              workers: int | None = None, progress: bool = True, label: str = "runs") -> dict[str, pd.DataFrame]:
    """Run every task and concatenate each kind of table, in task order."""
    workers = workers or default_workers()
    results: dict[int, dict[str, pd.DataFrame]] = {}
    with progress_bar(label) as bar:
        job = bar.add_task(label, total=len(tasks), rate="", visible=progress)

        def done(i: int, res: dict[str, pd.DataFrame]) -> None:
            results[i] = res
            elapsed = bar.tasks[job].elapsed or 1e-9
            bar.update(job, advance=1, rate=f"{len(results) / elapsed:.1f} runs/s")

        if workers == 1 or len(tasks) == 1:
            for t in tasks:
                done(t.index, fn(t))
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = {pool.submit(fn, t): t.index for t in tasks}
                for fut in as_completed(futures):
                    done(futures[fut], fut.result())
    kinds = next(iter(results.values())).keys() if results else []
    return {k: pd.concat([results[i][k] for i in sorted(results)], ignore_index=True) for k in kinds}
