"""One way to run the model: a task, and the one function that runs it.

A ``Task`` is everything a run depends on: the scenario, the parameters, design changes to the
scenario's programme (``scenarios.design``), the seed and the week to stop at. ``run(task)``
builds the model, steps it and returns the tables the task asks for, each a pure function of the
task. ``cohesion run``, ``compare``, ``sweep``, the calibration and the benchmarks all build
tasks and hand them to the runner (``runner.batch.run_batch``), which runs ``run`` on each.

Tables (``TABLES``):

- ``survey``: the virtual survey (survey.csv's long form);
- ``timeseries``: weekly means by (group, village) cell;
- ``outcomes``: one row, every population measure of the outcome registry at both survey waves
  (``baseline.<outcome>[.<group or village>]``, ``endline.<...>``) and the run's totals;
- ``trajectories``: the weekly population means (the DataCollector's model variables).

Every table carries the task's ``run`` index and labels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from model import CohesionModel, Params
from model.outcomes import WAVES
from scenarios.design import apply_design

Stop = Literal["horizon", "endline"]


@dataclass(frozen=True)
class Task:
    """One run: the scenario, its parameters and design changes, where its seed comes from, and
    what to keep."""

    index: int                     # position in the batch
    scenario: Any                  # scenarios.schema.Scenario
    params: Params
    root_seed: int
    seed_key: int                  # the run's seed is SeedSequence(root_seed, spawn_key=(seed_key,))
    replicate: int = 0
    labels: dict = field(default_factory=dict)
    design: tuple = ()             # ((name, scenarios.design.DesignFactor), ...) ...
    changes: tuple = ()            # ... and ((name, value), ...): the design changes to apply
    stop: Stop = "horizon"         # run to the scenario's horizon, or stop at the survey's endline
    tables: tuple[str, ...] = ("survey", "timeseries", "outcomes")

    def seed(self) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.root_seed, spawn_key=(self.seed_key,))

    def model(self) -> CohesionModel:
        """The model of this task, built and not yet stepped."""
        scenario = apply_design(self.scenario, dict(self.design), dict(self.changes)) if self.changes else self.scenario
        return CohesionModel(scenario, self.params, rng=self.seed(), replicate=self.replicate)


def run_model(task: Task) -> CohesionModel:
    """Build and step the model of ``task`` to its stop week."""
    m = task.model()
    m.run() if task.stop == "horizon" else m.run(weeks=m.spec.survey.endline_week - m.week)
    return m


def run(task: Task) -> dict[str, pd.DataFrame]:
    """Run ``task``; return the tables it asks for."""
    m = run_model(task)
    labels = {"run": task.index, "scenario": task.scenario.name, "replicate": task.replicate, **task.labels}
    return {name: TABLES[name](m, labels) for name in task.tables}


def outcomes_row(m: CohesionModel) -> dict[str, float]:
    """Every population measure at the waves the run reached, ``<wave>.<measure>``."""
    return {f"{wave}.{k}": v for wave in WAVES if wave in m.snapshots for k, v in m.measures(wave).items()}


def _labelled(df: pd.DataFrame, labels: dict) -> pd.DataFrame:
    df = df.drop(columns=[c for c in ("scenario", "replicate") if c in df.columns])
    for k, v in reversed(list(labels.items())):
        df.insert(0, k, v)
    return df


def _trajectories(m: CohesionModel) -> pd.DataFrame:
    return m.datacollector.get_model_vars_dataframe().reset_index(drop=True)


TABLES: dict[str, Callable[[CohesionModel, dict], pd.DataFrame]] = {
    "survey": lambda m, labels: _labelled(m.survey_results(), labels),
    "timeseries": lambda m, labels: _labelled(m.timeseries(), labels),
    "outcomes": lambda m, labels: pd.DataFrame([{**labels, **outcomes_row(m)}]),
    "trajectories": lambda m, labels: _labelled(_trajectories(m), labels),
}
