"""``cohesion run``: one scenario's replicates, its survey, time series and figure.

``run_scenario`` runs the replicates through the runner (streamed to ``<out>/runs`` as they
finish, so an interrupted batch resumes; the command's provenance record in
``<out>/runs/batch.json``); ``write_run`` writes the results folder through the one writer
(``runner.results.write``): ``timeseries.parquet``, ``survey.csv``, ``figure.png`` and
``summary.json`` (with the same record and the sha256 of each file). ``reproduce`` runs again
what made a ``summary.json`` and says whether its ``survey.csv`` comes out identical.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from calibration.posterior import resolve_params
from common.errors import InputError
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
    record: dict | None = None     # the provenance record (runner.results.provenance)

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


def run_record(scenario_file: Path, source: str, *, replicates: int, seed: int, params: str) -> dict:
    """The provenance record of a ``cohesion run``: the scenario and parameter files' hashes and
    the settings that make its runs."""
    inputs = {"scenario": scenario_file, "params": source if Path(source).is_file() else None}
    return results.provenance(inputs, {"replicates": replicates, "seed": seed, "params": params})


def run_scenario(scenario_file: Path, tasks: list[Task], source: str, out: Path, *, seed: int, resume: bool = False,
                 workers: int | None = None, engine: str | None = None, scheduler: str | None = None,
                 params: str = "posterior") -> RunResult:
    spec = tasks[0].scenario
    record = run_record(scenario_file, source, replicates=len(tasks), seed=seed, params=params)
    tables = run_batch(tasks, workers=workers, label=spec.name, out=out / "runs", resume=resume, engine=engine,
                       scheduler=scheduler, record=record, results=out)
    return RunResult(spec, scenario_file, seed, len(tasks), source, tables, record)


def write_run(res: RunResult, out: Path) -> list[str]:
    spec = res.scenario
    table = res.survey_table()
    summary = {"scenario": spec.model_dump(mode="json"), "scenario_file": str(res.scenario_file), "seed": res.seed,
               "replicates": res.replicates, "params": res.params, "table": table.to_dict(orient="records"),
               "cost_median": float(res.tables["outcomes"]["endline.cost"].median())}
    errors = res.tables.get("errors")
    if errors is not None and len(errors):   # the survey holds fewer replicates than asked: say which
        summary["failed_runs"] = errors[["run", "error", "attempts"]].to_dict(orient="records")
    figure = {"figure.png": lambda path: group_trajectory_figure(
        res.tables["timeseries"], spec.survey.baseline_week, spec.survey.endline_week, spec.name, path,
        programme=spec.programme)}
    return results.write(out, tables={"timeseries.parquet": res.tables["timeseries"].drop(columns=["run"]),
                                      "survey.csv": res.survey}, figures=figure, summary=summary, record=res.record)


# --- reproduce ------------------------------------------------------------------------------------
@dataclass
class Reproduction:
    matches: bool
    original: Path                 # the summary.json reproduced
    out: Path                      # where it was made again
    lines: list[str]               # what to tell the user


def read_summary(path: Path) -> tuple[dict, str]:
    """The settings of the ``cohesion run`` that wrote ``path`` (scenario_file, replicates, seed,
    params) and the sha256 of its survey.csv. InputError for anything else."""
    if not path.is_file():
        raise InputError(path, ["file not found; allowed: the summary.json of a `cohesion run` results folder"])
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(path, [f"not a JSON file ({exc})"]) from None
    record = summary.get("provenance") if isinstance(summary, dict) else None
    if not isinstance(record, dict) or "scenario_file" not in summary or "replicates" not in summary:
        raise InputError(path, ["not the summary.json of a `cohesion run` (no scenario_file, replicates or "
                                "provenance)"])
    if results.is_stale(path.parent):
        raise InputError(path.parent, [f"is stale ({results.STALE}): a later batch started remaking its results"])
    settings = record.get("settings") or {}
    source = str(summary.get("params", "defaults"))
    params = settings.get("params") or ("defaults" if source.startswith("defaults") else source)
    survey = path.parent / "survey.csv"
    expected = (record.get("files") or {}).get("survey.csv") or (results.sha256_file(survey) if survey.is_file()
                                                                  else None)
    if expected is None:
        raise InputError(path, ["names no survey.csv to compare with, and there is none beside it"])
    file = ((record.get("inputs") or {}).get("scenario") or {}).get("file") or summary["scenario_file"]
    return ({"scenario_file": Path(file), "replicates": int(settings.get("replicates", summary["replicates"])),
             "seed": int(settings.get("seed", summary.get("seed", 7))), "params": params, "record": record},
            expected)


def reproduce(summary_file: Path, out: Path | None = None, *, workers: int | None = None, engine: str | None = None,
              scheduler: str | None = None) -> Reproduction:
    """Run again what made ``summary_file`` (same scenario file, seed, replicates, parameters) into
    ``out`` (default: a new temporary folder) and compare the survey.csv made with the original."""
    s, expected = read_summary(summary_file)
    if out is not None and out.resolve() == summary_file.parent.resolve():
        raise InputError("--out", ["is the folder of the result to reproduce; choose another folder"])
    out = out or Path(tempfile.mkdtemp(prefix="cohesion-reproduce-"))
    _spec, tasks, source = prepare(s["scenario_file"], s["replicates"], s["seed"], s["params"])
    res = run_scenario(s["scenario_file"], tasks, source, out, seed=s["seed"], workers=workers, engine=engine,
                       scheduler=scheduler, params=s["params"])
    write_run(res, out)
    got = results.sha256_file(out / "survey.csv")
    what = f"{out / 'survey.csv'} against {summary_file.parent / 'survey.csv'} (sha256 {expected[:12]})"
    if got == expected:
        return Reproduction(True, summary_file, out, [f"reproduced: {what} is identical"])
    lines = [f"NOT reproduced: {what} differs (sha256 {got[:12]} now)"]
    why = results.differences(s["record"], res.record)
    lines += ([f"what differs in the record: {w}" for w in why] if why else
              ["the record (input files, settings, package versions, git revision) is the same: uncommitted "
               "changes to the code, or the machine, made the difference"])
    return Reproduction(False, summary_file, out, lines)
