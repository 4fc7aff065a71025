"""The ``cohesion`` command line."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from common.errors import InputError

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Community cohesion after conflict: an agent-based model of MHPSS programmes.")
console = Console()
err_console = Console(stderr=True)


@app.callback()
def _main() -> None:
    """Community cohesion after conflict: an agent-based model of MHPSS programmes."""


def fail(exc: Exception) -> None:
    """Bad input: one clear message, exit status 2, no traceback. The message (file names, values)
    is the user's text, printed as it is: never read as rich markup."""
    err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code=2)


def check_out(out: Path) -> Path:
    """``--out`` checked at the door, before any run starts and without writing anything: a folder
    that exists, or can be made under the nearest existing folder, and can be written.

    Raises
    ------
    InputError
        naming ``--out``, what is wrong and what is allowed.
    """
    allowed = "allowed: a folder that exists or can be created, and can be written"
    try:
        if out.exists():
            if not out.is_dir():
                raise InputError("--out", [f"{out} is a file, not a folder; {allowed}"])
            base = out
        else:
            base = out.parent
            while not base.exists() and base != base.parent:
                base = base.parent
            if not base.is_dir():
                raise InputError("--out", [f"{out} cannot be created: {base} is a file, not a folder; {allowed}"])
        if not os.access(base, os.W_OK | os.X_OK):
            raise InputError("--out", [f"{out} cannot be {'written' if base == out else 'created'}: "
                                       f"no permission to write in {base}; {allowed}"])
    except OSError as exc:
        raise InputError("--out", [f"{out} cannot be used ({exc.strerror or exc}); {allowed}"]) from None
    return out


def print_table(wide, title: str) -> None:
    t = Table(title=escape(title), show_lines=False)
    for col in ("item", "split", "baseline", "endline"):
        t.add_column(col, justify="left" if col in ("item", "split") else "right")
    last = None
    for row in wide.itertuples():
        t.add_row(escape(row.item) if row.item != last else "", escape(row.split), row.baseline, row.endline)
        last = row.item
    console.print(t)


WORKERS_HELP = "run on a Dask LocalCluster of N worker processes (default: local processes, all cores)"
SCHEDULER_HELP = "run on an existing Dask cluster, e.g. tcp://10.0.0.5:8786"
RESUME_HELP = "continue the batch already in --out: finished runs are kept, the rest are run"
MAX_REPLICATES = 100_000   # run and compare: more is a typo (100 replicates of the library take 42 s)
MAX_SWEEP_N = 2**16        # sweep --n: Sobol's 2^16 base samples are 2^16 x (factors + 2) runs


def engine_of(workers: Optional[int], scheduler: Optional[str]) -> str:
    return "dask" if scheduler or workers else "processes"


def resume_command() -> str:
    """The command being run, as typed, with ``--resume`` (added if it was not there)."""
    import shlex

    args = sys.argv[1:]
    return shlex.join(["cohesion", *args, *([] if "--resume" in args else ["--resume"])])


@contextmanager
def resumable() -> Iterator[None]:
    """Ctrl-C (or SIGTERM) during a batch: the finished runs are on disk; one line names the command
    that continues it, exit status 130, no traceback."""
    try:
        yield
    except KeyboardInterrupt:
        err_console.print(f"interrupted; the finished runs are kept. Continue with: {escape(resume_command())}",
                          highlight=False, markup=True, soft_wrap=True)
        raise typer.Exit(code=130) from None


def reproduce_run(summary: Path, out: Optional[Path], workers: Optional[int], scheduler: Optional[str]) -> None:
    """``cohesion run --reproduce``: exit 0 if the survey comes out identical, 1 if not, 2 for a bad file."""
    from experiments.run import reproduce

    try:
        with resumable():
            rep = reproduce(summary, check_out(out) if out is not None else None, workers=workers,
                            engine=engine_of(workers, scheduler), scheduler=scheduler)
    except InputError as exc:
        fail(exc)
    for line in rep.lines:
        console.print(escape(line), highlight=False, soft_wrap=True)
    raise typer.Exit(code=0 if rep.matches else 1)


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file")] = Path("scenarios/qayyarah.yaml"),
    replicates: Annotated[int, typer.Option(min=1, max=MAX_REPLICATES, help="replicate runs")] = 20,
    seed: Annotated[int, typer.Option(min=0, help="root seed; replicate k uses its k-th spawned seed")] = 7,
    out: Annotated[Optional[Path], typer.Option(help="output folder (default results/<scenario>)")] = None,
    params: Annotated[str, typer.Option(help="'posterior' (calibrated, the default), 'defaults', or a CSV")] = "posterior",
    resume: Annotated[bool, typer.Option(help=RESUME_HELP)] = False,
    workers: Annotated[Optional[int], typer.Option(min=1, help=WORKERS_HELP)] = None,
    scheduler: Annotated[Optional[str], typer.Option(help=SCHEDULER_HELP)] = None,
    reproduce: Annotated[Optional[Path], typer.Option(
        help="a results folder's summary.json: run again what made it (its scenario file, seed, replicates and "
             "parameters; the other settings here are ignored) into --out (default: a new temporary folder) "
             "and say whether survey.csv is identical (exit 0) or not (exit 1)")] = None,
) -> None:
    """Run a scenario's replicates; print and write the survey, time series and figure."""
    from experiments.report import wide_table
    from experiments.run import prepare, run_scenario, write_run
    from model import outcomes

    if reproduce is not None:
        reproduce_run(reproduce, out, workers, scheduler)
    with resumable():
        try:
            spec, tasks, source = prepare(scenario, replicates, seed, params)
            out = check_out(out or Path("results") / spec.name)
            console.print(f"[bold]{escape(spec.name)}[/]: {spec.n_households()} households, {len(spec.programme)} "
                          f"programme entries, {spec.horizon_weeks} weeks; {replicates} replicates, seed {seed}, "
                          f"params: {escape(str(source))}")
            res = run_scenario(scenario, tasks, source, out, seed=seed, resume=resume, workers=workers,
                               engine=engine_of(workers, scheduler), scheduler=scheduler, params=params)
        except InputError as exc:
            fail(exc)
        wide = wide_table(res.survey_table())
        print_table(wide[wide.split == "all"],
                    f"{spec.name}: survey of participants, median [5-95%] across {replicates} replicates")
        headline = [o.name for o in outcomes.survey_items() if o.headline]
        print_table(wide[wide.item.isin(headline) & (wide.split != "all")], "by group and by village")
        written = write_run(res, out)
    console.print(f"wrote {escape(str(out))}/{', '.join(written)}")


@app.command()
def compare(
    scenarios: Annotated[Optional[list[Path]], typer.Argument(
        help="scenario YAML files (default: scenarios/sequencing/*.yaml)")] = None,
    replicates: Annotated[int, typer.Option(min=2, max=MAX_REPLICATES, help="replicates per scenario")] = 100,
    seed: Annotated[int, typer.Option(min=0, help="root seed; replicate k of every scenario uses its k-th seed")] = 7,
    out: Annotated[Path, typer.Option(help="output folder")] = Path("results/compare"),
    params: Annotated[str, typer.Option(help="'posterior' (the default), 'defaults', or a CSV; replicate k of "
                                        "every scenario gets the same draw")] = "posterior",
    reference: Annotated[Optional[Path], typer.Option(help="no-intervention scenario for the differences "
                                                      "(default scenarios/no_intervention.yaml)")] = None,
    rank_by: Annotated[Optional[str], typer.Option(
        help="endline outcome to rank by (default: the first outcome that signals harm, acceptance)")] = None,
    harm_tension: Annotated[float, typer.Option(help="do no harm: share of participants reporting that contact "
                                                "created tension above which a run counts as harmful "
                                                "(ASSUMPTION, range 0.1-0.3)")] = 0.2,
    resume: Annotated[bool, typer.Option(help=RESUME_HELP)] = False,
    workers: Annotated[Optional[int], typer.Option(min=1, help=WORKERS_HELP)] = None,
    scheduler: Annotated[Optional[str], typer.Option(help=SCHEDULER_HELP)] = None,
    at_budget: Annotated[Optional[float], typer.Option(
        help="also compare every scenario at this budget (USD): its places rescaled so that its mean cost is "
             "the budget (within 2%; one that cannot reach it is flagged); written to OUT/at_budget")] = None,
    no_handover: Annotated[bool, typer.Option(
        help="also compare with no hand-over before the endline (at the budget, if one is given); written to "
             "OUT/no_handover")] = False,
) -> None:
    """Compare scenarios on the same population with common random numbers: what to conclude (best buy
    at each budget, dominated options), cost-effectiveness, tables, ranking, figures."""
    from experiments import compare as cmp

    paths = list(scenarios) if scenarios else cmp.default_scenarios()
    with resumable():
        try:
            check_out(out)
            variants = cmp.compare_variants(
                paths, at_budget=at_budget, no_handover=no_handover, out=out, replicates=replicates, seed=seed,
                params=params, reference=reference or cmp.REFERENCE, rank_by=rank_by, harm_tension=harm_tension,
                resume=resume, workers=workers, engine=engine_of(workers, scheduler), scheduler=scheduler)
        except InputError as exc:
            fail(exc)
        result = variants["own cost"]
        print_conclusions(variants)
        print_cost_effectiveness(result)
        print_outcome_tables(result, replicates)
        print_ranking(result)
        meta = {"scenario_files": [str(p) for p in paths], "replicates": replicates, "seed": seed, "params": params,
                "harm_tension": harm_tension, "at_budget": at_budget, "no_handover": no_handover}
        folders = {"at budget": "at_budget", "no hand-over": "no_handover"}
        for name, c in list(variants.items())[1:]:
            print_budget(c)
            print_ranking(c, pairwise=False)
            cmp.write_outputs(c, out / folders[name], meta)
        extra = {"ranking_changes.csv": cmp.ranking_changes(variants)} if len(variants) > 1 else None
        written = cmp.write_outputs(result, out, {**meta, "variants": {n: folders[n] for n in list(variants)[1:]},
                                                  "ranking_changes": cmp.variant_lines(variants)}, extra)
    console.print(f"wrote {escape(str(out))}/{', '.join(written)}"
                  + "".join(f"; {escape(str(out / folders[n]))}/" for n in list(variants)[1:]))


def print_conclusions(variants: dict) -> None:
    """The block a planner reads first: what to conclude from each variant, and how the ranking
    changes between them."""
    from experiments.compare import conclusions, variant_lines

    lines = []
    for name, c in variants.items():
        lines.append(f"[bold]{escape(c.variant)}[/]")
        lines += [f"  - {escape(line)}" for line in conclusions(c)]
    more = variant_lines(variants)
    if more:
        lines.append("[bold]how the ranking changes[/]")
        lines += [f"  - {escape(line)}" for line in more]
    console.print("[bold]What to conclude[/]")
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)
    console.print()


def print_budget(c) -> None:
    """At a budget: each scenario's factor of places, mean cost and whether it is within 2%."""
    if c.budget is None:
        return
    t = Table(title=escape(f"{c.variant}: places rescaled so that each mean cost is the budget"))
    for col in ("scenario", "places x", "mean cost", "within 2%", "flag"):
        t.add_column(col, justify="left" if col in ("scenario", "flag") else "right")
    for r in c.budget.itertuples():
        t.add_row(escape(r.scenario), f"{r.factor:.3f}", f"{r.mean_cost:,.0f}", "yes" if r.within else "NO",
                  escape(r.flag))
    console.print(t)


def print_cost_effectiveness(result) -> None:
    """The frontier table (ICERs, dominance) and the gain over the reference per 10,000 USD."""
    from experiments.compare import figure_outcomes

    ce = result.cea
    if ce is None:
        return
    t = Table(title=escape(f"cost-effectiveness frontier: effect = {ce.unit}; cost = mean USD up to the endline"))
    for col in ("scenario", "mean cost", "effect [90%]", "per 10k USD", "status", "vs", "ICER (USD/unit)"):
        t.add_column(col, justify="left" if col in ("scenario", "status", "vs") else "right")
    for r in ce.frontier.itertuples():
        t.add_row(escape(r.option), f"{r.cost:,.0f}", f"{r.effect:+.1f} [{r.effect_p05:+.1f}, {r.effect_p95:+.1f}]",
                  "" if pd_isna(r.per_10k) else f"{r.per_10k:+.2f}", r.status, escape(str(r.compared_with or "")),
                  "" if pd_isna(r.icer) else f"{r.icer:,.0f}")
    console.print(t)
    shown = [o.name for o in figure_outcomes()]
    d = result.table[result.table.outcome.isin(shown) & result.table.per_10k.notna()]
    t = Table(title=escape(f"gain over {result.reference} per 10,000 USD spent (mean gain / mean extra cost; "
                           "90% interval across replicates)"))
    t.add_column("outcome")
    names = list(dict.fromkeys(d.scenario))
    for s in names:
        t.add_column(escape(s), justify="right")
    for outcome, rows in d.groupby("outcome", sort=False):
        r = rows.set_index("scenario")
        t.add_row(escape(outcome), *(per_10k_cell(r.loc[s], outcome) for s in names))
    console.print(t)


def per_10k_cell(r, outcome: str) -> str:
    from model import outcomes

    o = outcomes.OUTCOMES.get(outcome.split(".", 1)[0])
    k = 100 if o is None or o.proportion else 1
    unit = " pp" if k == 100 else ""
    return f"{k * r.per_10k:+.2f}{unit} [{k * r.per_10k_p05:+.2f}, {k * r.per_10k_p95:+.2f}]"


def print_outcome_tables(result, replicates: int) -> None:
    """One table per outcome of a comparison: endline, change from baseline and difference from
    the reference, median [90% interval] per scenario."""
    from experiments.compare import fmt

    names = list(dict.fromkeys(result.table.scenario))
    for outcome, d in result.table.groupby("outcome", sort=False):
        t = Table(title=escape(f"{outcome}: median [90% interval] across {replicates} replicates"),
                  show_lines=False)
        t.add_column("scenario")
        t.add_column("endline", justify="right")
        t.add_column("change from baseline", justify="right")
        if result.reference:
            t.add_column(escape(f"vs {result.reference}"), justify="right")
        for s in names:
            r = d[d.scenario == s].iloc[0]
            cells = [fmt(r["median"], r.p05, r.p95, outcome)]
            cells.append(fmt(r.change_median, r.change_p05, r.change_p95, outcome, True)
                         if "change_median" in r and not pd_isna(r.get("change_median")) else "")
            if result.reference:
                cells.append("" if s == result.reference else
                             fmt(r.vs_reference_median, r.vs_reference_p05, r.vs_reference_p95, outcome, True))
            t.add_row(escape(s), *cells)
        console.print(t)


def print_ranking(result, pairwise: bool = True) -> None:
    """A comparison's ranking (P(best), median, P(harm), mean cost) and its pairwise P(row beats column)."""
    from experiments.compare import fmt

    rank_by = result.rank_by
    t = Table(title=escape(f"ranking by endline {rank_by}, {result.variant} (P(best) and P(harm) across replicates)"))
    cost = "mean_cost" in result.ranking
    for col in ("scenario", "P(best)", "median", "P(harm)", *(["mean cost"] if cost else [])):
        t.add_column(col, justify="left" if col == "scenario" else "right")
    for r in result.ranking.itertuples():
        t.add_row(escape(r.scenario), f"{r.p_best:.2f}", fmt(r.median, r.median, r.median, rank_by).split(" [")[0],
                  f"{r.p_harm:.2f}", *([f"{r.mean_cost:,.0f}"] if cost else []))
    console.print(t)
    if not pairwise:
        return
    t = Table(title=escape(f"P(row beats column) on endline {rank_by}, paired by replicate"))
    t.add_column("")
    for s in result.pairwise.columns:
        t.add_column(escape(s), justify="right")
    for s, row in result.pairwise.iterrows():
        t.add_row(escape(s), *("" if pd_isna(v) else f"{v:.2f}" for v in row))
    console.print(t)


def pd_isna(v) -> bool:
    import pandas as pd

    return bool(pd.isna(v))


@app.command()
def report(
    folder: Annotated[Path, typer.Argument(help="a results folder of cohesion compare (or of cohesion plan)")],
    sweep: Annotated[Optional[Path], typer.Option(
        help="a sensitivity sweep's results folder (cohesion sweep; indices.csv): the assumptions that matter most")] = None,
    out: Annotated[Optional[Path], typer.Option(help="the HTML file (default FOLDER/report.html)")] = None,
) -> None:
    """One self-contained HTML page of a comparison or a plan: the question, what to conclude, the ranking
    with its uncertainty, cost-effectiveness, harm, the assumptions that matter most, the figures."""
    from experiments.report import html_report

    try:
        if out is not None:
            check_out(out.parent if str(out.parent) else Path("."))
        path = html_report(folder, sweep=sweep, out=out)
    except InputError as exc:
        fail(exc)
    console.print(f"wrote {escape(str(path))}")


@app.command()
def sweep(
    sweep_file: Annotated[Path, typer.Argument(help="sweep YAML (experiments/sweeps/*.yaml)")],
    method: Annotated[str, typer.Option(help="sobol (Saltelli sampling) or morris")] = "sobol",
    n: Annotated[Optional[int], typer.Option(max=MAX_SWEEP_N, help="Sobol: base samples N, a power of two (runs: N x "
                                             "(factors + 2)); Morris: trajectories")] = None,
    out: Annotated[Optional[Path], typer.Option(help="output folder (default results/sweep-<name>-<method>-<n>)")] = None,
    second_order: Annotated[Optional[bool], typer.Option("--second-order/--no-second-order",
                                                         help="Sobol S2 (default: the sweep file's)")] = None,
    resume: Annotated[bool, typer.Option(help=RESUME_HELP)] = False,
    workers: Annotated[Optional[int], typer.Option(min=1, help=WORKERS_HELP)] = None,
    scheduler: Annotated[Optional[str], typer.Option(help=SCHEDULER_HELP)] = None,
) -> None:
    """Sensitivity sweep of a sweep file: Sobol or Morris indices, CSV tables and figures."""
    import time

    from experiments.sweep import check_n, load_sweep, run_model_sweep

    t0 = time.perf_counter()
    try:
        if method not in ("sobol", "morris"):
            raise InputError("--method", [f"unknown method '{method}'; allowed: sobol, morris"])
        if n is None:
            n = 1024 if method == "sobol" else 64
        check_n(method, n)
        spec = load_sweep(sweep_file)
        out = check_out(out or Path("results") / f"sweep-{spec.spec.name}-{method}-{n}")
        console.print(f"[bold]sweep {escape(spec.spec.name)}[/]: {len(spec.factors)} factors, {method}, n={n}, "
                      f"scenario {escape(spec.scenario.name)}, outcomes at endline week "
                      f"{spec.scenario.survey.endline_week}")
        with resumable():
            res = run_model_sweep(spec, method=method, n=n, out=out, resume=resume, workers=workers,
                                  engine=engine_of(workers, scheduler), scheduler=scheduler,
                                  second_order=second_order)
    except InputError as exc:
        fail(exc)
    cols = ["S1", "S1_conf", "ST", "ST_conf"] if method == "sobol" else ["mu_star", "mu_star_conf", "sigma"]
    for outcome, d in res.indices.groupby("outcome", sort=False):
        t = Table(title=escape(f"{outcome}"), show_lines=False)
        t.add_column("factor")
        for c in cols:
            t.add_column(c, justify="right")
        for row in d.itertuples():
            t.add_row(escape(row.factor), *(f"{getattr(row, c):.3f}" for c in cols))
        console.print(t)
    console.print(f"{len(res.runs)} runs in {time.perf_counter() - t0:.0f} s; wrote {escape(str(out))}/indices.csv, "
                  "runs.csv, indices_bars.png, indices_heatmap.png")


@app.command()
def calibrate(
    targets: Annotated[Path, typer.Argument(help="targets YAML")] = Path("calibration/targets.yaml"),
    scenario: Annotated[Path, typer.Option(help="scenario YAML")] = Path("scenarios/qayyarah.yaml"),
    budget: Annotated[str, typer.Option(help="small (minutes), default (< 30 min), large")] = "default",
    name: Annotated[Optional[str], typer.Option(help="results in calibration/results/<name> (default: the budget)")] = None,
    seed: Annotated[int, typer.Option(min=0, help="root seed")] = 7,
    workers: Annotated[Optional[int], typer.Option(min=1, help="local worker processes (default: all cores)")] = None,
    scheduler: Annotated[Optional[str], typer.Option(help="Dask scheduler address, e.g. tcp://host:8786")] = None,
    restart: Annotated[bool, typer.Option(help="discard the generations already in <name> and start over")] = False,
    install: Annotated[bool, typer.Option(help="copy the posterior to calibration/posterior.csv (cohesion run's default)")] = False,
    recovery: Annotated[bool, typer.Option(help="parameter recovery: fit targets made by the model at known values")] = False,
    predictive_only: Annotated[bool, typer.Option(help="only the posterior-predictive check of <name>'s posterior, "
                                                       "made again with the current model")] = False,
) -> None:
    """Fit the calibrated parameters to the reported survey figures (ABC-SMC); resumes an unfinished <name>."""
    from calibration.command import run_calibration
    from calibration.fit import BUDGETS

    try:
        if budget not in BUDGETS:
            raise InputError("--budget", [f"unknown budget '{budget}'; allowed: {', '.join(BUDGETS)}"])
        run_calibration(targets, scenario, budget, name, seed=seed, workers=workers, scheduler=scheduler,
                        restart=restart, install=install, recovery=recovery, console=console,
                        predictive_only=predictive_only)
    except InputError as exc:
        fail(exc)


@app.command()
def plan(
    plan_file: Annotated[Path, typer.Argument(help="plan YAML (experiments/plans/*.yaml)")],
    budget: Annotated[Optional[float], typer.Option(help="budget in USD (overrides the plan file's)")] = None,
    weeks: Annotated[Optional[int], typer.Option(help="programme length in weeks (overrides the plan file's)")] = None,
    villages: Annotated[Optional[list[str]], typer.Option(help="a village the plan may use (repeat the option; "
                                                          "default: the plan file's, or all)")] = None,
    trials: Annotated[Optional[int], typer.Option(help="candidates scored in the search (overrides the plan file's)")] = None,
    workers: Annotated[int, typer.Option(min=1, help="worker processes (a Dask LocalCluster kept for the search; "
                                         "1: in this process)")] = 1,
    out: Annotated[Optional[Path], typer.Option(help="output folder (default results/plan/<name>)")] = None,
    resume: Annotated[bool, typer.Option(help="continue the search in --out: finished trials are kept")] = False,
) -> None:
    """Search the plans a budget allows (optuna on the project runner) and recommend one, or say plainly
    what cannot be satisfied."""
    from experiments.plan_outputs import make_plan

    with resumable():
        try:
            if out is not None:
                check_out(out)
            summary = make_plan(plan_file, out=out, resume=resume, workers=workers, console=err_console,
                                budget=budget, weeks=weeks, villages=villages, trials=trials)
        except InputError as exc:
            fail(exc)
    for line in summary["findings"]:
        console.print(escape(line), highlight=False, soft_wrap=True)
    console.print(f"wrote {escape(summary['out'])}/{escape(', '.join(summary['files']))}", highlight=False)


@app.command()
def validate(
    observed: Annotated[Optional[Path], typer.Argument(
        help="observed figures, YAML in the form of calibration/targets.yaml: compared with every registration")] = None,
    predict: Annotated[bool, typer.Option(help="register a prediction of every survey item from the posterior "
                                               "(median and 90% interval, with the draws) in --out")] = False,
    posterior: Annotated[Path, typer.Option(help="--predict: the posterior CSV")] = Path("calibration/posterior.csv"),
    scenario: Annotated[Path, typer.Option(help="scenario YAML")] = Path("scenarios/qayyarah.yaml"),
    targets: Annotated[Path, typer.Option(help="--predict: the calibration's targets (which figures it used, "
                                               "which were held back)")] = Path("calibration/targets.yaml"),
    replicates: Annotated[int, typer.Option(min=2, max=MAX_REPLICATES, help="--predict: posterior-predictive "
                                                                            "runs")] = 200,
    seed: Annotated[int, typer.Option(min=0, help="--predict: root seed")] = 7,
    out: Annotated[Optional[Path], typer.Option(
        help="--predict: the registration file (default calibration/validation/predictions.csv; never "
             "overwritten); otherwise the folder of the comparison (default results/validation)")] = None,
    registration: Annotated[Optional[list[Path]], typer.Option(
        help="a registration to compare with (repeatable; default: calibration/fit/predictions.csv and "
             "calibration/validation/*.csv)")] = None,
    resume: Annotated[bool, typer.Option(help="--predict: continue an interrupted prediction's runs")] = False,
    workers: Annotated[Optional[int], typer.Option(min=1, help=WORKERS_HELP)] = None,
    scheduler: Annotated[Optional[str], typer.Option(help=SCHEDULER_HELP)] = None,
) -> None:
    """Register a prediction of the held-back survey figures (--predict), or compare observed figures with
    every registration: inside the 90% interval, predictive p-value, CRPS, a figure."""
    from calibration import validate as val

    with resumable():
        try:
            if predict == (observed is not None):
                raise InputError("cohesion validate", ["give either --predict (register a prediction) or an "
                                                       "OBSERVED.yaml file (compare with the registrations), not "
                                                       f"{'both' if predict else 'neither'}"])
            if predict:
                target = val.check_registration_out(out or val.REGISTRATION)
                check_out(target.parent)
                for item in val.missing_items():
                    err_console.print(f"[yellow]warning:[/] the outcome registry has no survey item "
                                      f"'{escape(item)}' (issue 12 asks for it): it is not in the registration",
                                      highlight=False)
                done = val.predict(posterior, scenario, replicates, seed, target, targets=targets, workers=workers,
                                   scheduler=scheduler, resume=resume)
                console.print(f"registered {len(done.table)} figures of {done.table['item'].nunique()} items from "
                              f"{replicates} runs in {done.seconds:.0f} s: {escape(str(target))}, its draws and "
                              f"record beside it")
                return
            result = val.validate(observed, check_out(out or val.COMPARISON), registrations=registration,
                                  scenario=scenario)
        except InputError as exc:
            fail(exc)
    print_validation(result.table)
    console.print(f"wrote {escape(str(out or val.COMPARISON))}/{', '.join(result.written)}")


def print_validation(table) -> None:
    """Each observed figure against each registration."""
    t = Table(title="observed figures against the registered predictions")
    for col in ("figure", "observed", "registration", "median [90%]", "inside", "p-value", "CRPS"):
        t.add_column(col, justify="left" if col in ("figure", "registration") else "right")
    for r in table.itertuples():
        where = r.group if r.village == "all" else r.village
        cells = ["not predicted", "", "", ""] if r.status == "not predicted" else [
            f"{100 * r.median:.0f}% [{100 * r.p05:.0f}-{100 * r.p95:.0f}%]", "yes" if r.inside else "NO",
            f"{r.p_value:.2f}", f"{r.crps:.3f}"]
        t.add_row(escape(f"{r.item} {r.wave}, {where}"), f"{100 * r.observed:.0f}%", escape(r.registration), *cells)
    console.print(t)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def bench(ctx: typer.Context) -> None:
    """Benchmarks (docs/performance.md): one run against the reference step and the floor, scaling
    to 10^6 households, runner throughput. Options are benchmarks/bench.py's (--quick, --sizes,
    --repeats, --runs, --out; see `python -m benchmarks.bench --help`)."""
    from benchmarks.bench import main as bench_main

    raise typer.Exit(bench_main(list(ctx.args)))


@app.command()
def dashboard(
    port: Annotated[int, typer.Option(min=0, max=65535, help="port to serve on")] = 8765,
    host: Annotated[str, typer.Option(help="address to listen on (loopback by default)")] = "127.0.0.1",
    library: Annotated[Optional[Path], typer.Option(help="folder of scenario files (default: scenarios/)")] = None,
    open_: Annotated[Optional[list[Path]], typer.Option("--open", help="a scenario file to open beside the library "
                                                        "and start from, e.g. a plan's recommended.yaml")] = None,
) -> None:
    """Serve the interactive dashboard (Mesa SolaraViz) in the browser; Ctrl-C stops it."""
    from experiments.dashboard import serve

    try:
        status = serve(host, port, library, opened=list(open_ or []))
    except InputError as exc:
        fail(exc)
    raise typer.Exit(code=status)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
