"""The ``cohesion`` command line."""

from __future__ import annotations

import json
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from model.errors import InputError

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Community cohesion after conflict: an agent-based model of MHPSS programmes.")
console = Console()
err_console = Console(stderr=True)


@app.callback()
def _main() -> None:
    """Community cohesion after conflict: an agent-based model of MHPSS programmes."""


def fail(exc: Exception) -> None:
    """Bad input: one clear message, exit status 2, no traceback."""
    err_console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code=2)


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("cohesion-model", "mesa", "numpy", "scipy", "pandas", "networkx", "pydantic", "SALib"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def print_table(wide, title: str) -> None:
    t = Table(title=title, show_lines=False)
    for col in ("item", "split", "baseline", "endline"):
        t.add_column(col, justify="left" if col in ("item", "split") else "right")
    last = None
    for row in wide.itertuples():
        t.add_row(row.item if row.item != last else "", row.split, row.baseline, row.endline)
        last = row.item
    console.print(t)


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file")] = Path("scenarios/qayyarah.yaml"),
    replicates: Annotated[int, typer.Option(min=1, help="replicate runs")] = 20,
    seed: Annotated[int, typer.Option(help="root seed; replicate k uses its k-th spawned seed")] = 7,
    out: Annotated[Optional[Path], typer.Option(help="output folder (default results/<scenario>)")] = None,
    params: Annotated[str, typer.Option(help="'posterior' (calibrated, the default), 'defaults', or a CSV")] = "posterior",
    workers: Annotated[Optional[int], typer.Option(min=1, help="worker processes (default: all cores)")] = None,
) -> None:
    """Run a scenario's replicates; print and write the survey, time series and figure."""
    from calibration.posterior import resolve_params
    from experiments.report import survey_table, trajectory_figure, wide_table
    from experiments.runner import Task, run_batch
    from scenarios import load_scenario

    try:
        spec = load_scenario(scenario)
        param_sets, param_source = resolve_params(params, replicates, seed)
    except InputError as exc:
        fail(exc)
    out = out or Path("results") / spec.name
    out.mkdir(parents=True, exist_ok=True)
    tasks = [Task(index=k, scenario=spec, params=param_sets[k], root_seed=seed, seed_key=k, replicate=k)
             for k in range(replicates)]
    console.print(f"[bold]{spec.name}[/]: {spec.n_households()} households, {len(spec.programme)} programme "
                  f"entries, {spec.horizon_weeks} weeks; {replicates} replicates, seed {seed}, params: {param_source}")
    res = run_batch(tasks, workers=workers, label=spec.name)

    res["timeseries"].drop(columns=["run"]).to_parquet(out / "timeseries.parquet", index=False)
    survey = res["survey"][["scenario", "replicate", "wave", "item", "group", "village", "value", "n"]]
    survey.to_csv(out / "survey.csv", index=False)
    table = survey_table(survey)
    wide = wide_table(table)
    overall = wide[wide.split == "all"]
    print_table(overall, f"{spec.name}: survey of participants, median [5-95%] across {replicates} replicates")
    key = wide[wide.item.isin(["acceptance", "wellbeing_mean"]) & (wide.split != "all")]
    print_table(key, "by group and by village")
    trajectory_figure(res["timeseries"], spec.survey.baseline_week, spec.survey.endline_week, spec.name,
                      out / "figure.png", programme=spec.programme)
    summary = {
        "scenario": spec.model_dump(mode="json"),
        "scenario_file": str(scenario),
        "seed": seed,
        "replicates": replicates,
        "params": param_source,
        "versions": versions(),
        "command": " ".join(["cohesion", *sys.argv[1:]]),
        "table": table.to_dict(orient="records"),
        "cost_median": float(res["outcomes"]["cost"].median()),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=float))
    console.print(f"wrote {out}/timeseries.parquet, survey.csv, summary.json, figure.png")


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
