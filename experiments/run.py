"""``cohesion run``: one scenario's replicates, its survey, time series and figure.

``run_scenario`` runs the replicates through the runner (streamed to ``<out>/runs`` as they
finish, so an interrupted batch resumes); ``write_run`` writes the results folder through the one
writer (``runner.results.write``): ``timeseries.parquet``, ``survey.csv``, ``figure.png`` and
``summary.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from calibration.posterior import resolve_params
from runner import Task, results, run_batch
from scenarios import load_scenario

from .drawing import group_trajectory_figure
from .report import survey_table

SURVEY_COLUMNS = ["scenario", "replicate", "wave", "item", "group", "village", "value", "n"]


@dataclass
class RunResult:
    scenario: object               # scenarios.schema.Scenario
    scenario_file: Path
    seed: int
    replicates: int
    params: str                    # where the parameters came from
    tables: dict[str, pd.DataFrame]

    @property
    def survey(self) -> pd.DataFrame:
        return self.tables["survey"][SURVEY_COLUMNS]

    def survey_table(self) -> pd.DataFrame:
        """Median and 5-95% interval across replicates of every item, wave and split."""
        return survey_table(self.survey)


def prepare(scenario_file: Path, replicates: int, seed: int, params: str) -> tuple[object, list[Task], str]:
    """The scenario, its tasks and where their parameters come from (InputError for bad input)."""
    spec = load_scenario(scenario_file)
    param_sets, source = resolve_params(params, replicates, seed)
    tasks = [Task(index=k, scenario=spec, params=param_sets[k], root_seed=seed, seed_key=k, replicate=k)
             for k in range(replicates)]
    return spec, tasks, source


def run_scenario(scenario_file: Path, tasks: list[Task], source: str, out: Path, *, seed: int, resume: bool = False,
                 workers: int | None = None, engine: str | None = None, scheduler: str | None = None) -> RunResult:
    spec = tasks[0].scenario
    tables = run_batch(tasks, workers=workers, label=spec.name, out=out / "runs", resume=resume, engine=engine,
                       scheduler=scheduler)
    return RunResult(spec, scenario_file, seed, len(tasks), source, tables)


def write_run(res: RunResult, out: Path) -> list[str]:
    spec = res.scenario
    table = res.survey_table()
    summary = {"scenario": spec.model_dump(mode="json"), "scenario_file": str(res.scenario_file), "seed": res.seed,
               "replicates": res.replicates, "params": res.params, "table": table.to_dict(orient="records"),
               "cost_median": float(res.tables["outcomes"]["endline.cost"].median())}
    figure = {"figure.png": lambda path: group_trajectory_figure(
        res.tables["timeseries"], spec.survey.baseline_week, spec.survey.endline_week, spec.name, path,
        programme=spec.programme)}
    return results.write(out, tables={"timeseries.parquet": res.tables["timeseries"].drop(columns=["run"]),
                                      "survey.csv": res.survey}, figures=figure, summary=summary)
