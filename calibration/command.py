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
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyabc
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from runner import results
from scenarios import load_scenario
from scenarios.schema import Scenario

from .fit import (
    BUDGETS,
    Budget,
    Generation,
    calibrate,
    credible_intervals,
    generations_table,
    PARAMETERS_PATH,
    load_parameter_choice,
    posterior_table,
    stored_history,
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
from .targets import TargetsFile, load_targets

RESULTS = Path(__file__).with_name("results")
INSTALLED = Path(__file__).with_name("fit")  # the committed posterior's fit table, predictions and figures
INSTALLED_FILES = ("fit.csv", "predictions.csv", "intervals.csv", "generations.csv", "summary.json", "marginals.png",
                   "pairs.png", "observed_vs_predicted.png")


def versions() -> dict[str, str]:
    """Package versions and the git revision, as every results folder records them."""
    return {**results.versions(), "git": results.git_revision()}


def write_posterior(post: pd.DataFrame, path: Path, header: dict) -> None:
    """The posterior as CSV, with how it was made in '#' comment lines (read with comment='#')."""
    lines = [f"# {k}: {v}" for k, v in header.items()]
    path.write_text("\n".join(lines) + "\n" + post.to_csv(index=False, float_format="%.6g"))


@dataclass
class Job:
    """What one ``cohesion calibrate`` fits, with what, and where its results go."""

    targets_path: Path
    scenario_path: Path
    scenario: Scenario
    targets: TargetsFile    # the reported figures, or (recovery) figures the model made at TRUTH
    calibrated: list[str]
    budget_name: str
    budget: Budget
    name: str
    out: Path               # results/<name>
    seed: int
    recovery: bool
    command: str
    workers: int | None = None
    scheduler: str | None = None


@dataclass
class Fitted:
    """What the ABC and the posterior-predictive check of a ``Job`` produced."""

    history: pyabc.History
    post: pd.DataFrame          # the last generation's particles and weights
    gens: pd.DataFrame          # one row per generation
    intervals: pd.DataFrame     # median and 90% credible interval per parameter (and truth, in recovery)
    simulations: int            # in all, across the sessions of a resumed run
    before: int                 # of earlier sessions of a resumed run
    abc_seconds: float          # this session's ABC
    fit: pd.DataFrame | None = None
    predictions: pd.DataFrame | None = None
    predictive_seconds: float = 0.0


def run_calibration(targets_path: Path, scenario_path: Path, budget_name: str, name: str | None, *, seed: int = 7,
                    workers: int | None = None, scheduler: str | None = None, restart: bool = False,
                    install: bool = False, recovery: bool = False, results: Path = RESULTS,
                    console: Console | None = None, command: str | None = None, predictive_only: bool = False) -> dict:
    """The whole ``cohesion calibrate``; returns the summary it writes. Bad input raises InputError.

    The steps: ``prepare_job`` (inputs), ``run_abc``, ``posterior_predictive``, ``write_results``
    and ``report_results`` (tables on the console, summary.json, installing the posterior).
    """
    console = console or Console()
    scenario = load_scenario(scenario_path)
    if predictive_only:
        return run_predictive_check(targets_path, scenario, budget_name, name, seed=seed, workers=workers,
                                    scheduler=scheduler, install=install, results=results, console=console,
                                    command=command)
    job = prepare_job(targets_path, scenario_path, scenario, budget_name, name, seed=seed, recovery=recovery,
                      results=results, command=command, workers=workers, scheduler=scheduler)
    fitted = run_abc(job, restart, console)
    posterior_predictive(job, fitted)
    write_results(job, fitted)
    return report_results(job, fitted, install, console)


def prepare_job(targets_path: Path, scenario_path: Path, scenario: Scenario, budget_name: str, name: str | None, *,
                seed: int, recovery: bool, results: Path, command: str | None, workers: int | None = None,
                scheduler: str | None = None) -> Job:
    """Load the targets and the parameter choice (with ``recovery``, replace the reported figures by
    ones the model makes at ``recovery.TRUTH``) and name the results folder."""
    targets = load_targets(targets_path, scenario.village_names(), scenario.group_names())
    calibrated = list(load_parameter_choice().calibrated)
    if recovery:
        targets = synthetic_targets(targets, scenario, TRUTH, seed)
    name = name or (f"recovery-{budget_name}" if recovery else budget_name)
    return Job(targets_path=targets_path, scenario_path=scenario_path, scenario=scenario, targets=targets,
               calibrated=calibrated, budget_name=budget_name, budget=BUDGETS[budget_name], name=name,
               out=results / name, seed=seed, recovery=recovery,
               command=command or " ".join(["cohesion", *sys.argv[1:]]), workers=workers, scheduler=scheduler)


def run_abc(job: Job, restart: bool, console: Console) -> Fitted:
    """Run (or resume) the ABC-SMC with a progress line per generation; the posterior's tables."""
    budget = job.budget
    n_fit, n_rep = len(job.targets.fitted()), len(job.targets.reported())
    console.print(f"[bold]calibrate[/] {n_fit} reported figures of "
                  f"{escape(str(job.targets_path))} (the other {n_rep - n_fit} set the initial state: checked, not fitted) on {escape(job.scenario.name)}; {len(job.calibrated)} parameters; "
                  f"budget {job.budget_name} ({budget.population} particles, at most {budget.generations} "
                  f"generations, {budget.max_simulations} simulations, {budget.max_minutes:g} min); "
                  f"results in {escape(str(job.out))}")
    start = time.perf_counter()

    def progress(g: Generation) -> None:
        console.print(f"generation {g.t}: epsilon {g.epsilon:.2f}, accepted {g.accepted}/{g.simulations} "
                      f"({100 * g.acceptance_rate:.0f}%), simulations so far {g.total_simulations}, "
                      f"{g.simulations / g.seconds:.1f} sims/s, {time.perf_counter() - start:.0f} s")

    # simulations of earlier sessions of a resumed run: those of its stored generations (a generation
    # cut short by a kill was never stored, so it is neither kept nor counted)
    before = 0 if restart else stored_history(job.out / "abc.db")[1]
    history = calibrate(job.scenario, job.targets, job.calibrated, budget, job.out, seed=job.seed,
                        workers=job.workers, scheduler=job.scheduler, restart=restart,
                        config={"targets_file": str(job.targets_path), "recovery": job.recovery},
                        on_generation=progress)
    abc_seconds = time.perf_counter() - start
    post = posterior_table(history)
    intervals = credible_intervals(post)
    if job.recovery:
        intervals["truth"] = intervals.parameter.map(TRUTH)
        intervals["recovered"] = (intervals.low <= intervals.truth) & (intervals.truth <= intervals.high)
    return Fitted(history=history, post=post, gens=generations_table(history), intervals=intervals,
                  simulations=int(history.total_nr_simulations), before=before, abc_seconds=abc_seconds)


def predictive_tables(post: pd.DataFrame, targets: TargetsFile, scenario: Scenario, runs: int, seed: int, *,
                      workers: int | None, scheduler: str | None) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """The posterior-predictive check: ``runs`` runs on parameter sets drawn from ``post``; the fit
    table, the predictions table and the seconds the runs took."""
    start = time.perf_counter()
    survey = predictive_survey(post, scenario, runs, seed, workers=workers, scheduler=scheduler)
    seconds = time.perf_counter() - start
    return fit_table(targets, survey), predictions_table(targets, survey), seconds


def posterior_predictive(job: Job, fitted: Fitted) -> None:
    """The fit and predictions tables of the new posterior (into ``fitted``)."""
    fitted.fit, fitted.predictions, fitted.predictive_seconds = predictive_tables(
        fitted.post, job.targets, job.scenario, job.budget.predictive, job.seed, workers=job.workers,
        scheduler=job.scheduler)


def write_results(job: Job, fitted: Fitted) -> None:
    """posterior.csv (with how it was made), the tables and the figures, in ``job.out``."""
    out, post = job.out, fitted.post
    header = {
        "what": f"ABC-SMC posterior (pyabc), generation {int(fitted.history.max_t)} of {job.name}: "
                f"{len(post)} particles with normalised weights; uncalibrated parameters at model/params.py defaults",
        "command": job.command,
        "made": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "versions": json.dumps(versions()),
        "targets": str(job.targets_path) + (" (synthetic, recovery)" if job.recovery else ""),
        "scenario": str(job.scenario_path),
        "epsilon": f"{fitted.gens.epsilon.iloc[-1]:.4g}",
        "simulations": fitted.simulations,
    }
    write_posterior(post, out / "posterior.csv", header)
    fitted.intervals.to_csv(out / "intervals.csv", index=False, float_format="%.5g")
    fitted.gens.to_csv(out / "generations.csv", index=False, float_format="%.5g")
    fitted.fit.to_csv(out / "fit.csv", index=False, float_format="%.4f")
    fitted.predictions.to_csv(out / "predictions.csv", index=False, float_format="%.4f")
    title = f"{job.scenario.name}, {job.name}"
    marginals_figure(post, out / "marginals.png", title)
    pairs_figure(post, out / "pairs.png", title)
    observed_vs_predicted_figure(fitted.fit, out / "observed_vs_predicted.png", title + ": fit of the posterior")


def report_results(job: Job, fitted: Fitted, install: bool, console: Console) -> dict:
    """The fit and posterior tables on the console, summary.json, the posterior installed if asked
    (never a recovery's); returns the summary."""
    fit, budget, total, session = fitted.fit, job.budget, fitted.simulations, fitted.simulations - fitted.before
    show_fit(fit, console)
    show_intervals(fitted.intervals, console)
    summary = {
        "command": job.command, "versions": versions(), "budget": job.budget_name, "budget_limits": budget.__dict__,
        "generations": int(fitted.history.max_t) + 1, "simulations": total,
        "abc_seconds": round(fitted.abc_seconds, 1), "session_simulations": session,
        "simulations_per_second": round(session / fitted.abc_seconds, 2) if fitted.abc_seconds > 0 else None,
        "predictive_runs": budget.predictive, "predictive_seconds": round(fitted.predictive_seconds, 1),
        "final_epsilon": float(fitted.gens.epsilon.iloc[-1]), "targets_inside": int((fit.status == "inside").sum()),
        "targets_reported": int(fit.observed.notna().sum()),
        "recovered": (bool(fitted.intervals.recovered.all()) if job.recovery else None),
        "piles_at_edge": fitted.intervals.loc[fitted.intervals.piles_at_edge, "parameter"].tolist(),
        "provenance": {**results.provenance(
            {"targets": job.targets_path, "scenario": job.scenario_path, "parameters": PARAMETERS_PATH},
            {"budget": job.budget_name, "seed": job.seed, "name": job.name, "recovery": job.recovery}),
            "files": written_files(job.out)},
    }
    write_summary(job.out, summary)
    for _, row in fitted.intervals[fitted.intervals.piles_at_edge].iterrows():
        console.print(f"[yellow]structural finding:[/] {escape(row.parameter)} has "
                      f"{max(row.share_outer_low, row.share_outer_high):.0%} of its posterior in the outer 5% of "
                      f"its range ({row.prior_low:g}-{row.prior_high:g}): the data push it past what the model allows; "
                      "answer with a mechanism, not a wider range (docs/calibration.md)")
    if install and not job.recovery:
        kept = install_posterior(job.out)
        console.print(f"installed the posterior as {POSTERIOR_PATH} (used by cohesion run by default), "
                      f"its fit table and figures in {INSTALLED}/{kept_note(kept)}")
    console.print(f"wrote {escape(str(job.out))}: posterior.csv, intervals.csv, generations.csv, fit.csv, "
                  f"predictions.csv, marginals.png, pairs.png, observed_vs_predicted.png, summary.json "
                  f"({session} simulations in {fitted.abc_seconds:.0f} s this session, "
                  f"{summary['simulations_per_second']} sims/s; {total} in all)")
    return summary


RESULT_FILES = ("posterior.csv", "intervals.csv", "generations.csv", "fit.csv", "predictions.csv", "marginals.png",
                "pairs.png", "observed_vs_predicted.png")


def written_files(out: Path) -> dict[str, str]:
    """The sha256 of each results file in ``out``: what the summary's provenance lists, and what
    marking the folder stale removes when a new session starts (``runner.results.mark_stale``)."""
    return {name: results.sha256_file(out / name) for name in RESULT_FILES if (out / name).is_file()}


def write_summary(out: Path, summary: dict) -> None:
    """summary.json, written last (under a temporary name, then renamed); the folder is no longer
    stale."""
    tmp = out / ".tmp-summary.json"
    tmp.write_text(json.dumps(summary, indent=1, default=float))
    tmp.replace(out / "summary.json")
    (out / results.STALE).unlink(missing_ok=True)


def run_predictive_check(targets_path: Path, scenario: Scenario, budget_name: str, name: str | None, *, seed: int,
                         workers: int | None, scheduler: str | None, install: bool, results: Path,
                         console: Console, command: str | None) -> dict:
    """The posterior-predictive check of a finished calibration again, with the model as it is now
    (after a change to the code that leaves the model's equations alone, such as how random
    numbers are drawn): the fit table, predictions and their figure are made anew, the
    posterior and the ABC figures are kept."""
    out = results / (name or budget_name)
    post = load_posterior(out / "posterior.csv")  # InputError naming the file if it is missing
    targets = load_targets(targets_path, scenario.village_names(), scenario.group_names())
    runs = BUDGETS[budget_name].predictive
    fit, predictions, seconds = predictive_tables(post, targets, scenario, runs, seed, workers=workers,
                                                  scheduler=scheduler)
    fit.to_csv(out / "fit.csv", index=False, float_format="%.4f")
    predictions.to_csv(out / "predictions.csv", index=False, float_format="%.4f")
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
    if isinstance(summary.get("provenance"), dict) and "files" in summary["provenance"]:
        summary["provenance"]["files"] = written_files(out)
    if summary_path.is_file() or not results.is_stale(out):
        write_summary(out, summary)
    else:
        summary_path.write_text(json.dumps(summary, indent=1, default=float))  # still stale: its ABC never ended
    show_fit(fit, console)
    if install:
        kept = install_posterior(out)
        console.print(f"installed {escape(str(out))}'s posterior and its new fit table and figures in "
                      f"{INSTALLED}/{kept_note(kept)}")
    console.print(f"wrote {escape(str(out))}: fit.csv, predictions.csv, observed_vs_predicted.png, summary.json "
                  f"({runs} posterior-predictive runs in {seconds:.0f} s)")
    return summary


FROZEN = ("predictions.csv",)
"""Installed files never overwritten: ``calibration/fit/predictions.csv`` is the first registered
prediction of the held-back figures (``calibration/validate.py``); a new posterior's predictions
are registered with ``cohesion validate --predict``."""


def install_posterior(out: Path) -> list[str]:
    """Make ``out``'s posterior the one ``cohesion run`` uses; keep its fit table and figures beside it.
    Returns the installed files kept as they were (``FROZEN``)."""
    shutil.copyfile(out / "posterior.csv", POSTERIOR_PATH)
    INSTALLED.mkdir(exist_ok=True)
    kept = [name for name in INSTALLED_FILES if name in FROZEN and (INSTALLED / name).is_file()]
    for name in INSTALLED_FILES:
        if name not in kept:
            shutil.copyfile(out / name, INSTALLED / name)
    return kept


def kept_note(kept: list[str]) -> str:
    return "".join(f"; kept {INSTALLED / name}, the first registered prediction (never overwritten: register this "
                   "posterior's with cohesion validate --predict)" for name in kept)


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
