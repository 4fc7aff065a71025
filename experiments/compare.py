"""Compare programmes on the same population with common random numbers.

Replicate k of every scenario uses the same seed (so the same households, network and chance
events, drawn from separate streams: model/draws.py) and the same posterior parameter draw,
so differences between scenarios are differences of programme, not of chance. Outcomes are
measured on all households (or participants) at the baseline and endline weeks: the population
measures of the outcome registry (model/outcomes.py).

Reported per scenario and outcome: median and 90% interval across replicates, the change from
baseline, and the paired difference from the reference (no-intervention) scenario; the ranking
on one outcome with the probability of being best and the pairwise probability that A beats B
(paired by replicate); and the probability of harm ("do no harm"): some group's or village's
value of an outcome marked ``harm_if_below_baseline`` (acceptance) ends below its baseline, or
more than ``harm_tension`` of participants report an outcome marked ``harm_above_share``
(contact created tension; the threshold is the user's: an assumption, default 0.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from model import outcomes  # noqa: E402
from common.errors import InputError  # noqa: E402
from scenarios import LIBRARY, SEQUENCING, load_scenario  # noqa: E402
from scenarios.schema import Scenario  # noqa: E402

from runner import Task, results, run_batch  # noqa: E402

from . import drawing  # noqa: E402

REFERENCE = LIBRARY / "no_intervention.yaml"
Q = (0.05, 0.5, 0.95)   # 90% interval


def default_scenarios() -> list[Path]:
    return sorted(SEQUENCING.glob("*.yaml"))


def outcome_names(groups: list[str], villages: list[str]) -> list[str]:
    """The endline measures a comparison reports (the outcome registry's population measures)."""
    return outcomes.measure_names(groups, villages, "endline")


def load_scenarios(paths: list[Path], reference: Path | None) -> tuple[list[Scenario], Scenario | None]:
    """The scenarios (and the reference), checked to share population, network and survey weeks."""
    if not paths:
        raise InputError("scenarios", ["no scenario files given and none in the default folder "
                                       f"{SEQUENCING}"])
    scenarios = [load_scenario(p) for p in paths]
    ref = None
    if reference is not None:
        if not Path(reference).is_file():
            raise InputError("--reference", [f"{reference}: file not found; allowed: a scenario YAML file "
                                             f"(default {REFERENCE})"])
        ref = load_scenario(reference)  # an invalid reference is an InputError naming its file and field
        same = [s for s in scenarios if s.name == ref.name]
        if same:
            ref = same[0]
        else:
            scenarios.append(ref)
            paths = [*paths, reference]
    names = [s.name for s in scenarios]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError("scenarios", [f"scenario names {dup} appear twice; each compared scenario needs its own name"])
    first, problems = scenarios[0], []
    for p, s in zip(paths[1:], scenarios[1:]):
        for block in ("population", "network"):
            if getattr(s, block) != getattr(first, block):
                problems.append(f"{p}: {block} differs from {paths[0]}; compared scenarios must share it "
                                "(common random numbers need the same households)")
        for week in ("baseline_week", "endline_week"):
            if getattr(s.survey, week) != getattr(first.survey, week):
                problems.append(f"{p}: survey.{week} {getattr(s.survey, week)} differs from "
                                f"{getattr(first.survey, week)} in {paths[0]}")
    if problems:
        raise InputError("scenarios", problems)
    return scenarios, ref


@dataclass
class Comparison:
    measures: pd.DataFrame        # one row per scenario x replicate, baseline.* and endline.*
    trajectories: pd.DataFrame    # one row per scenario x replicate x week
    table: pd.DataFrame           # one row per outcome x scenario
    ranking: pd.DataFrame
    pairwise: pd.DataFrame
    reference: str | None
    rank_by: str
    scenarios: list[Scenario]
    record: dict | None = None    # the provenance record (runner.results.provenance)
    errors: pd.DataFrame | None = None   # the runs that failed (run, error, traceback, attempts)


def quantiles(x: pd.Series | np.ndarray) -> tuple[float, float, float]:
    x = pd.Series(x).dropna()
    if not len(x):
        return (np.nan, np.nan, np.nan)
    q = x.quantile(list(Q)).to_numpy()
    return float(q[1]), float(q[0]), float(q[2])


def summarise(wide: pd.DataFrame, scenarios: list[str], outcomes: list[str], reference: str | None) -> pd.DataFrame:
    """Median and 90% interval of the endline, of the change from baseline and of the paired
    difference from the reference, per outcome and scenario."""
    rows = []
    ref = wide[wide.scenario == reference].set_index("replicate") if reference else None
    for o in outcomes:
        for s in scenarios:
            d = wide[wide.scenario == s].set_index("replicate")
            row = {"outcome": o, "scenario": s}
            row["median"], row["p05"], row["p95"] = quantiles(d[f"endline.{o}"])
            if f"baseline.{o}" in d:
                row["change_median"], row["change_p05"], row["change_p95"] = quantiles(
                    d[f"endline.{o}"] - d[f"baseline.{o}"])
            if ref is not None:
                diff = d[f"endline.{o}"] - ref[f"endline.{o}"].reindex(d.index)
                row["vs_reference_median"], row["vs_reference_p05"], row["vs_reference_p95"] = quantiles(diff)
            rows.append(row)
    return pd.DataFrame(rows)


def harm(wide: pd.DataFrame, groups: list[str], villages: list[str], harm_tension: float) -> pd.Series:
    """Per run: some group's or village's value of a harm outcome ended below its baseline, or a
    share of participants above ``harm_tension`` reported harm (``outcomes.Outcome`` flags)."""
    harmed = np.zeros(len(wide), dtype=bool)
    for o in outcomes.population_measures():
        if o.harm_if_below_baseline:
            for s in [f"{o.name}.{g}" for g in groups] + [f"{o.name}.{v}" for v in villages]:
                # where households arrived or left, the baseline's households followed (like with like)
                end = wide[f"endline.cohort.{s}"] if f"endline.cohort.{s}" in wide else wide[f"endline.{s}"]
                harmed |= (end < wide[f"baseline.{s}"]).to_numpy()
        if o.harm_above_share and f"endline.{o.name}" in wide:
            harmed |= (wide[f"endline.{o.name}"].fillna(0) > harm_tension).to_numpy()
    return pd.Series(harmed, index=wide.index)


def rank(wide: pd.DataFrame, scenarios: list[str], outcome: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """P(best) per scenario and P(row beats column), paired by replicate; ties count one half."""
    x = wide.pivot(index="replicate", columns="scenario", values=f"endline.{outcome}")[scenarios]
    if _on_participants(outcome):  # undefined without participants: nobody reports it
        x = x.fillna(0.0)
    if outcomes.is_better_lower(outcome):
        x = -x
    x = x.dropna()
    v = x.to_numpy(float)
    best = v == v.max(axis=1, keepdims=True)
    p_best = (best / best.sum(axis=1, keepdims=True)).mean(axis=0)
    pair = np.zeros((len(scenarios), len(scenarios)))
    for i in range(len(scenarios)):
        for j in range(len(scenarios)):
            pair[i, j] = np.nan if i == j else ((v[:, i] > v[:, j]) + 0.5 * (v[:, i] == v[:, j])).mean()
    ranking = pd.DataFrame({"scenario": scenarios, "p_best": p_best, "median": np.median(v, axis=0)})
    if outcomes.is_better_lower(outcome):
        ranking["median"] = -ranking["median"]
    ranking = ranking.sort_values("p_best", ascending=False, kind="stable").reset_index(drop=True)
    pairwise = pd.DataFrame(pair, index=pd.Index(scenarios, name="scenario"), columns=scenarios)
    return ranking, pairwise


def _on_participants(measure: str) -> bool:
    base = measure.split(".", 1)[0]
    return base in outcomes.OUTCOMES and outcomes.OUTCOMES[base].on == "participants"


def compare(paths: list[Path], *, replicates: int, seed: int, params: str = "posterior",
            reference: Path | None = REFERENCE, rank_by: str | None = None, harm_tension: float = 0.2,
            out: Path | None = None, resume: bool = False, workers: int | None = None, engine: str | None = None,
            scheduler: str | None = None, progress: bool = True) -> Comparison:
    """Run every scenario's replicates with common random numbers and reduce them.

    Raises
    ------
    InputError
        for a bad scenario file, a missing or bad reference file, scenarios that do not share their
        population, an unknown ``rank_by`` outcome or a harm threshold outside [0, 1].
    """
    from calibration.posterior import resolve_params

    scenarios, ref = load_scenarios(list(paths), reference)
    groups, villages = scenarios[0].group_names(), scenarios[0].village_names()
    known = outcome_names(groups, villages)
    rank_by = rank_by or outcomes.primary()
    if rank_by not in known:
        raise InputError("--rank-by", [f"unknown outcome '{rank_by}'; allowed: {', '.join(known)}"])
    if not 0 <= harm_tension <= 1:
        raise InputError("--harm-tension", [f"{harm_tension}: a share in [0, 1]"])
    param_sets, source = resolve_params(params, replicates, seed)
    record = results.provenance({**{f"scenarios[{i}]": p for i, p in enumerate(paths)}, "reference": reference,
                                 "params": source if Path(source).is_file() else None},
                                {"replicates": replicates, "seed": seed, "params": params})
    tasks = [Task(index=i * replicates + k, scenario=s, params=param_sets[k], root_seed=seed, seed_key=k,
                  replicate=k, tables=("outcomes", "trajectories"))
             for i, s in enumerate(scenarios) for k in range(replicates)]
    res = run_batch(tasks, workers=workers, progress=progress, label="compare",
                    out=None if out is None else out / "batch", resume=resume, engine=engine, scheduler=scheduler,
                    record=record, results=out)
    wide = res["outcomes"]
    names = [s.name for s in scenarios]
    table = summarise(wide, names, known, ref.name if ref else None)
    ranking, pairwise = rank(wide, names, rank_by)
    wide = wide.assign(harm=harm(wide, groups, villages, harm_tension))
    ranking["p_harm"] = ranking.scenario.map(wide.groupby("scenario")["harm"].mean())
    return Comparison(wide, res["trajectories"], table, ranking, pairwise, ref.name if ref else None, rank_by,
                      scenarios, record, res["errors"])


# --- figures --------------------------------------------------------------------------------------
COLOURS = plt.get_cmap("tab10").colors


def figure_outcomes() -> list:
    """What the comparison's figures show: outcomes that signal harm, then the headline levels."""
    shown = [o for o in outcomes.population_measures() if o.harm_if_below_baseline or (o.headline and not o.proportion)]
    return sorted(shown, key=lambda o: not o.harm_if_below_baseline)


def trajectory_figure(traj: pd.DataFrame, scenarios: list[str], baseline: int, endline: int, path: Path) -> None:
    """The figure outcomes over time: median and 90% band per scenario (drawn by
    ``experiments.drawing.trajectory_figure``)."""
    columns = [(o.name, f"{o.doc} ({o.unit})") for o in figure_outcomes() if o.weekly and o.name in traj]
    panels = [drawing.Panel([drawing.Band(traj[traj.scenario == s], col, COLOURS[i % len(COLOURS)], s,
                                          "--" if s == "no_intervention" else "-") for i, s in enumerate(scenarios)],
                            label, legend={"fontsize": 7, "loc": "best"} if k == 0 else None)
              for k, (col, label) in enumerate(columns)]
    drawing.trajectory_figure(
        panels, "All households: median and 90% band across replicates (dotted: baseline and endline weeks)",
        baseline, endline, panel_width=4.4, alpha=0.15, survey_labels=False, path=path)


def forest_figure(table: pd.DataFrame, reference: str, groups: list[str], villages: list[str], path: Path) -> None:
    """Endline difference from the reference scenario, paired by replicate: median and 90% interval
    (outcomes that signal harm by group and village, then the headline levels)."""
    shown = []
    for o in figure_outcomes():
        shown.append((o.name, o))
        if o.harm_if_below_baseline:
            shown += [(f"{o.name}.{w}", o) for w in (*groups, *villages)]
    shown = [(name, o) for name, o in shown if name in set(table.outcome)]
    t = table[table.scenario != reference]
    scen = list(dict.fromkeys(t.scenario))
    ncol = 3
    nrow = int(np.ceil(len(shown) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(13, 2.6 + 0.28 * len(scen) * nrow), sharey=True, squeeze=False)
    for ax, (name, o) in zip(axes.ravel(), shown):
        d = t[t.outcome == name].set_index("scenario").loc[scen]
        y = np.arange(len(scen))
        ax.errorbar(d.vs_reference_median, y, xerr=[d.vs_reference_median - d.vs_reference_p05,
                                                     d.vs_reference_p95 - d.vs_reference_median],
                    fmt="o", color="#333333", ecolor="#7570b3", capsize=3)
        ax.axvline(0, color="grey", linewidth=0.8)
        ax.set_yticks(y, scen, fontsize=8)
        ax.set_title(f"{name} ({o.unit})", fontsize=9)
    for ax in axes.ravel()[len(shown):]:
        ax.set_visible(False)
    axes[0][0].invert_yaxis()
    fig.suptitle(f"Endline difference from {reference} (same replicate): median and 90% interval")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def fmt(median: float, lo: float, hi: float, outcome: str, signed: bool = False) -> str:
    """A measure's median [90% interval] in its unit (the outcome registry's): thousands of USD,
    a share in percent, or a level with two decimals."""
    if np.isnan(median):
        return "n/a"
    o = outcomes.OUTCOMES.get(outcome.split(".", 1)[0])
    s = "+" if signed else ""
    if o is not None and o.unit == "USD":
        return f"{median / 1000:,.0f}k [{lo / 1000:,.0f}-{hi / 1000:,.0f}k]"
    if o is not None and not o.proportion:
        return f"{median:{s}.2f} [{lo:.2f}, {hi:.2f}]"
    return f"{100 * median:{s}.0f}% [{100 * lo:.0f}, {100 * hi:.0f}]"


def write_outputs(c: Comparison, out: Path, meta: dict) -> list[str]:
    """The comparison's tables, figures and summary, through the one writer (``runner.results``)."""
    first = c.scenarios[0]
    names = [s.name for s in c.scenarios]
    figures = {"trajectories.png": lambda path: trajectory_figure(c.trajectories, names, first.survey.baseline_week,
                                                                   first.survey.endline_week, path)}
    if c.reference:
        figures["forest.png"] = lambda path: forest_figure(c.table, c.reference, first.group_names(),
                                                           first.village_names(), path)
    summary = {**meta, "rank_by": c.rank_by, "reference": c.reference, "ranking": c.ranking.to_dict(orient="records")}
    if c.errors is not None and len(c.errors):   # fewer replicates than asked for some scenario: say which
        summary["failed_runs"] = c.errors[["run", "error", "attempts"]].to_dict(orient="records")
    return results.write(out, tables={"measures.csv": c.measures, "outcomes.csv": c.table, "ranking.csv": c.ranking,
                                      "pairwise.csv": c.pairwise}, figures=figures, summary=summary,
                         index={"pairwise.csv"}, record=c.record)
