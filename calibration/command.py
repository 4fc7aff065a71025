"""``cohesion calibrate``: run or resume ABC-SMC, then write the posterior, fit table and figures.

Outputs in ``calibration/results/<name>/``:

- ``abc.db``: pyabc's history (every generation; what a resume continues from)
- ``config.json``: what was fitted (targets, weights, parameters, scenario, seed)
- ``posterior.csv``: the last generation's particles with weights (header: command, versions)
- ``intervals.csv``: each parameter's median and 90% credible interval against its prior range
- ``generations.csv``: epsilon, simulations and acceptance rate per generation
- ``fit.csv``: each target observed vs posterior-predictive median and 90% interval, inside or not
- ``predictions.csv``: every other survey item, predicted (never fitted)
- ``marginals.png``, ``pairs.png``, ``observed_vs_predicted.png``
- ``summary.json``: command, versions, budget, wall times, simulations per second
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from scenarios import load_scenario
from scenarios.schema import Scenario

from .fit import (
    BUDGETS,
    Generation,
    calibrate,
    credible_intervals,
    generations_table,
    load_parameter_choice,
    posterior_table,
)
from .posterior import POSTERIOR_PATH, load_posterior
from .recovery import TRUTH, synthetic_targets
from .report import (
    fit_table,
    marginals_figure,
    observed_vs_predicted_figure,
    pairs_figure,
    predictions_table,
    predictive_survey,
)
from .targets import load_targets

RESULTS = Path(__file__).with_name("results")
INSTALLED = Path(__file__).with_name("fit")  # the committed posterior's fit table, predictions and figures
INSTALLED_FILES = ("fit.csv", "predictions.csv", "intervals.csv", "generations.csv", "summary.json", "marginals.png",
                   "pairs.png", "observed_vs_predicted.png")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    try:
        out["git"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False,
                                    cwd=Path(__file__).parent, timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        out["git"] = "unknown"
    for pkg in ("cohesion-model", "pyabc", "mesa", "numpy", "pandas", "dask", "distributed"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def write_posterior(post: pd.DataFrame, path: Path, header: dict) -> None:
    """The posterior as CSV, with how it was made in '#' comment lines (read with comment='#')."""
    lines = [f"# {k}: {v}" for k, v in header.items()]
    path.write_text("\n".join(lines) + "\n" + post.to_csv(index=False, float_format="%.6g"))


def run_calibration(targets_path: Path, scenario_path: Path, budget_name: str, name: str | None, *, seed: int = 7,
                    workers: int | None = None, scheduler: str | None = None, restart: bool = False,
                    install: bool = False, recovery: bool = False, results: Path = RESULTS,
                    console: Console | None = None, command: str | None = None, predictive_only: bool = False) -> dict:
    """The whole ``cohesion calibrate``; returns the summary it writes. Bad input raises InputError."""
    console = console or Console()
    budget = BUDGETS[budget_name]
    scenario = load_scenario(scenario_path)
    if predictive_only:
        return run_predictive_check(targets_path, scenario, budget_name, name, seed=seed, workers=workers,
                                    scheduler=scheduler, install=install, results=results, console=console,
                                    command=command)
    targets = load_targets(targets_path, scenario.village_names())
    choice = load_parameter_choice()
    calibrated = list(choice.calibrated)
    if recovery:
        targets = synthetic_targets(targets, scenario, TRUTH, seed)
    name = name or (f"recovery-{budget_name}" if recovery else budget_name)
    out = results / name
    command = command or " ".join(["cohesion", *sys.argv[1:]])

    console.print(f"[bold]calibrate[/] {len(targets.reported())} reported figures of {targets_path} on "
                  f"{scenario.name}; {len(calibrated)} parameters; budget {budget_name} ({budget.population} "
                  f"particles, at most {budget.generations} generations, {budget.max_simulations} simulations, "
                  f"{budget.max_minutes:g} min); results in {out}")
    start = time.perf_counter()

    def progress(g: Generation) -> None:
        console.print(f"generation {g.t}: epsilon {g.epsilon:.2f}, accepted {g.accepted}/{g.simulations} "
                      f"({100 * g.acceptance_rate:.0f}%), simulations so far {g.total_simulations}, "
                      f"{g.simulations / g.seconds:.1f} sims/s, {time.perf_counter() - start:.0f} s")

    before = 0  # simulations of earlier sessions of a resumed run
    if (out / "abc.db").is_file() and not restart:
        import pyabc
        before = int(pyabc.History(f"sqlite:///{out / 'abc.db'}").total_nr_simulations or 0)
    history = calibrate(scenario, targets, calibrated, budget, out, seed=seed, workers=workers, scheduler=scheduler,
                        restart=restart, config={"targets_file": str(targets_path), "recovery": recovery},
                        on_generation=progress)
    abc_seconds = time.perf_counter() - start
    post = posterior_table(history)
    gens = generations_table(history)
    intervals = credible_intervals(post)
    total_sims = int(history.total_nr_simulations)
    if recovery:
        intervals["truth"] = intervals.parameter.map(TRUTH)
        intervals["recovered"] = (intervals.low <= intervals.truth) & (intervals.truth <= intervals.high)

    pp_start = time.perf_counter()
    survey = predictive_survey(post, scenario, budget.predictive, seed, workers=workers, scheduler=scheduler)
    pp_seconds = time.perf_counter() - pp_start
    fit = fit_table(targets, survey)
    predictions = predictions_table(targets, survey)

    header = {
        "what": f"ABC-SMC posterior (pyabc), generation {int(history.max_t)} of {name}: "
                f"{len(post)} particles with normalised weights; uncalibrated parameters at model/params.py defaults",
        "command": command,
        "made": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "versions": json.dumps(versions()),
        "targets": str(targets_path) + (" (synthetic, recovery)" if recovery else ""),
        "scenario": str(scenario_path),
        "epsilon": f"{gens.epsilon.iloc[-1]:.4g}",
        "simulations": total_sims,
    }
    write_posterior(post, out / "posterior.csv", header)
    intervals.to_csv(out / "intervals.csv", index=False, float_format="%.5g")
    gens.to_csv(out / "generations.csv", index=False, float_format="%.5g")
    fit.to_csv(out / "fit.csv", index=False, float_format="%.4f")
    predictions.to_csv(out / "predictions.csv", index=False, float_format="%.4f")
    title = f"{scenario.name}, {name}"
    marginals_figure(post, out / "marginals.png", title)
    pairs_figure(post, out / "pairs.png", title)
    observed_vs_predicted_figure(fit, out / "observed_vs_predicted.png", title + ": fit of the posterior")

    show_fit(fit, console)
    show_intervals(intervals, console)
    summary = {
        "command": command, "versions": versions(), "budget": budget_name, "budget_limits": budget.__dict__,
        "generations": int(history.max_t) + 1, "simulations": total_sims, "abc_seconds": round(abc_seconds, 1),
        "session_simulations": total_sims - before,
        "simulations_per_second": round((total_sims - before) / abc_seconds, 2) if abc_seconds > 0 else None,
        "predictive_runs": budget.predictive, "predictive_seconds": round(pp_seconds, 1),
        "final_epsilon": float(gens.epsilon.iloc[-1]), "targets_inside": int((fit.status == "inside").sum()),
        "targets_reported": int(fit.observed.notna().sum()),
        "recovered": (bool(intervals.recovered.all()) if recovery else None),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=float))
    if install and not recovery:
        install_posterior(out)
        console.print(f"installed the posterior as {POSTERIOR_PATH} (used by cohesion run by default), "
                      f"its fit table and figures in {INSTALLED}/")
    console.print(f"wrote {out}: posterior.csv, intervals.csv, generations.csv, fit.csv, predictions.csv, "
                  f"marginals.png, pairs.png, observed_vs_predicted.png, summary.json "
                  f"({total_sims - before} simulations in {abc_seconds:.0f} s this session, {summary['simulations_per_second']} "
                  f"sims/s; {total_sims} in all)")
    return summary


def run_predictive_check(targets_path: Path, scenario: Scenario, budget_name: str, name: str | None, *, seed: int,
                         workers: int | None, scheduler: str | None, install: bool, results: Path,
                         console: Console, command: str | None) -> dict:
    """The posterior-predictive check of a finished calibration again, with the model as it is now
    (after a change to the code that leaves the model's equations alone, such as how random
    numbers are drawn): the fit table, predictions and their figure are made anew, the
    posterior and the ABC figures are kept."""
    out = results / (name or budget_name)
    post = load_posterior(out / "posterior.csv")  # InputError naming the file if it is missing
    targets = load_targets(targets_path, scenario.village_names())
    runs = BUDGETS[budget_name].predictive
    start = time.perf_counter()
    survey = predictive_survey(post, scenario, runs, seed, workers=workers, scheduler=scheduler)
    seconds = time.perf_counter() - start
    fit = fit_table(targets, survey)
    fit.to_csv(out / "fit.csv", index=False, float_format="%.4f")
    predictions_table(targets, survey).to_csv(out / "predictions.csv", index=False, float_format="%.4f")
    observed_vs_predicted_figure(fit, out / "observed_vs_predicted.png",
                                 f"{scenario.name}, {out.name}: fit of the posterior")
    summary_path = out / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    summary.update({
        "predictive_runs": runs, "predictive_seconds": round(seconds, 1),
        "targets_inside": int((fit.status == "inside").sum()), "targets_reported": int(fit.observed.notna().sum()),
        "predictive_check": {"command": command or " ".join(["cohesion", *sys.argv[1:]]), "versions": versions(),
                             "made": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")},
    })
    summary_path.write_text(json.dumps(summary, indent=1, default=float))
    show_fit(fit, console)
    if install:
        install_posterior(out)
        console.print(f"installed {out}'s posterior and its new fit table and figures in {INSTALLED}/")
    console.print(f"wrote {out}: fit.csv, predictions.csv, observed_vs_predicted.png, summary.json "
                  f"({runs} posterior-predictive runs in {seconds:.0f} s)")
    return summary


def install_posterior(out: Path) -> None:
    """Make ``out``'s posterior the one ``cohesion run`` uses; keep its fit table and figures beside it."""
    shutil.copyfile(out / "posterior.csv", POSTERIOR_PATH)
    INSTALLED.mkdir(exist_ok=True)
    for name in INSTALLED_FILES:
        shutil.copyfile(out / name, INSTALLED / name)


def show_fit(fit: pd.DataFrame, console: Console) -> None:
    t = Table(title="fit: observed vs posterior predictive")
    for col in ("target", "observed", "median", "90% interval", "status"):
        t.add_column(col, justify="left" if col in ("target", "status") else "right")
    for r in fit.itertuples():
        where = r.group if r.village == "all" else r.village
        obs = "not reported" if pd.isna(r.observed) else f"{100 * r.observed:.0f}%"
        t.add_row(f"{r.item} {r.wave}, {where}", obs, f"{100 * r.median:.0f}%",
                  f"{100 * r.p05:.0f}-{100 * r.p95:.0f}%", r.status)
    console.print(t)


def show_intervals(intervals: pd.DataFrame, console: Console) -> None:
    t = Table(title="posterior: median and 90% credible interval")
    cols = ["parameter", "prior range", "median", "90% interval", "width / prior"]
    if "truth" in intervals:
        cols += ["truth", "recovered"]
    for col in cols:
        t.add_column(col, justify="left" if col == "parameter" else "right")
    for r in intervals.itertuples():
        row = [r.parameter, f"{r.prior_low:g}-{r.prior_high:g}", f"{r.median:.3g}", f"{r.low:.3g}-{r.high:.3g}",
               f"{r.width_vs_prior:.2f}"]
        if "truth" in intervals:
            row += [f"{r.truth:g}", "yes" if r.recovered else "NO"]
        t.add_row(*row)
    console.print(t)
