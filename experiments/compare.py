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

from model.programme import COST_PARTS, unit_cost_ranges  # noqa: E402
from runner import TABLES, Task, results, run_batch, run_model  # noqa: E402

from . import cea, drawing  # noqa: E402

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
    costs: pd.DataFrame | None = None    # per run and programme entry: what the programme paid for
    cea: "CostEffectiveness | None" = None   # the cost-effectiveness analysis (with a reference)
    budget: pd.DataFrame | None = None   # at a budget: each scenario's scale of places and mean cost
    variant: str = "own cost"            # own cost, at budget, no hand-over (experiments.budget)


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
            scheduler: str | None = None, progress: bool = True, at_budget: float | None = None,
            no_handover: bool = False) -> Comparison:
    """Run every scenario's replicates with common random numbers and reduce them.

    ``no_handover``: every entry that hands places over before the survey's endline does not
    (``experiments.budget.without_handover``); ``at_budget``: every scenario but the reference has
    its places rescaled so that its mean cost is the budget (``experiments.budget.rescale``).

    Raises
    ------
    InputError
        for a bad scenario file, a missing or bad reference file, scenarios that do not share their
        population, an unknown ``rank_by`` outcome, a harm threshold outside [0, 1] or a budget
        that is not a positive number.
    """
    from calibration.posterior import resolve_params

    from . import budget as equal

    equal.check_budget(at_budget)
    scenarios, ref = load_scenarios(list(paths), reference)
    groups, villages = scenarios[0].group_names(), scenarios[0].village_names()
    known = outcome_names(groups, villages)
    rank_by = rank_by or outcomes.primary()
    if rank_by not in known:
        raise InputError("--rank-by", [f"unknown outcome '{rank_by}'; allowed: {', '.join(known)}"])
    if not 0 <= harm_tension <= 1:
        raise InputError("--harm-tension", [f"{harm_tension}: a share in [0, 1]"])
    param_sets, source = resolve_params(params, replicates, seed)
    ref_name = ref.name if ref else None
    scenarios, budget_table = equal.prepare(scenarios, ref_name, param_sets, seed, at_budget, no_handover,
                                            workers=workers, engine=engine, scheduler=scheduler)
    record = results.provenance({**{f"scenarios[{i}]": p for i, p in enumerate(paths)}, "reference": reference,
                                 "params": source if Path(source).is_file() else None},
                                {"replicates": replicates, "seed": seed, "params": params,
                                 "at_budget": at_budget, "no_handover": no_handover})
    tasks = [Task(index=i * replicates + k, scenario=s, params=param_sets[k], root_seed=seed, seed_key=k,
                  replicate=k, tables=("outcomes", "trajectories"))
             for i, s in enumerate(scenarios) for k in range(replicates)]
    res = run_batch(tasks, run_with_costs, workers=workers, progress=progress, label="compare",
                    out=None if out is None else out / "batch", resume=resume, engine=engine, scheduler=scheduler,
                    record=record, results=out)
    c = reduce(res, scenarios, ref_name, known, rank_by, harm_tension, seed)
    c.record, c.budget = record, equal.achieved(budget_table, c.measures, at_budget)
    c.variant = equal.variant_name(at_budget, no_handover)
    return c


def reduce(res: dict[str, pd.DataFrame], scenarios: list[Scenario], ref: str | None, known: list[str],
           rank_by: str, harm_tension: float, seed: int) -> Comparison:
    """The comparison's tables from the batch's: summary per outcome (with the gain per 10,000 USD),
    ranking, pairwise, harm, and the cost-effectiveness analysis."""
    wide = res["outcomes"]
    names = [s.name for s in scenarios]
    groups, villages = scenarios[0].group_names(), scenarios[0].village_names()
    table = summarise(wide, names, known, ref)
    ranking, pairwise = rank(wide, names, rank_by)
    wide = wide.assign(harm=harm(wide, groups, villages, harm_tension))
    ranking["p_harm"] = ranking.scenario.map(wide.groupby("scenario")["harm"].mean())
    costs = res.get("costs", pd.DataFrame(columns=["scenario", "replicate", "activity", *COST_PARTS]))
    ce = None
    if ref is not None:
        table = add_gain_per_10k(table, wide, ref)
        ce = cost_effectiveness(wide, costs, names, ref, ce_outcome(rank_by), seed)
        ranking["mean_cost"] = ranking.scenario.map(wide.groupby("scenario")["endline.cost"].mean())
    return Comparison(wide, res["trajectories"], table, ranking, pairwise, ref, rank_by, scenarios, None,
                      res["errors"], costs=costs, cea=ce)


def run_with_costs(task: Task) -> dict[str, pd.DataFrame]:
    """``runner.run`` and one more table, ``costs``: per programme entry of the run, what the
    programme paid for up to the endline (``CohesionModel.cost_quantities``: participant-weeks of
    places filled, sessions held, weeks of handed-over pools in use), so that the comparison can
    price them again at other unit costs within the catalogue's ranges."""
    m = run_model(task)
    labels = {"run": task.index, "scenario": task.scenario.name, "replicate": task.replicate, **task.labels}
    out = {name: TABLES[name](m, labels) for name in task.tables}
    q = m.cost_quantities
    costs = pd.DataFrame({"entry": np.arange(q.shape[1]), "activity": [e.name for e in m.programme.entries],
                          **{part: q[j] for j, part in enumerate(COST_PARTS)}})
    for k, v in reversed(list(labels.items())):
        costs.insert(0, k, v)
    out["costs"] = costs
    return out


# --- cost-effectiveness ---------------------------------------------------------------------------
COST_DRAWS = 20     # draws of the unit costs within their ranges per replicate (the acceptability curve)
WTP_POINTS = 61     # willingness-to-pay values of the acceptability curve


@dataclass
class CostEffectiveness:
    """The cost-effectiveness analysis of one comparison on one outcome (``experiments.cea``)."""
    outcome: str               # the effect: its endline value minus the reference's, paired by replicate
    unit: str                  # of the effect (percentage points of a share, else the outcome's unit)
    frontier: pd.DataFrame     # cea.frontier of the mean cost and mean effect, with intervals, per_10k
    ceac: pd.DataFrame         # index wtp (USD per effect unit), a column per option: P(best buy)
    ceaf: pd.DataFrame         # wtp, the option of highest expected net benefit, its P(best buy)
    by_budget: pd.DataFrame    # from_usd, to_usd, option, effect: the most effective affordable option
    effect_draws: pd.DataFrame  # replicate x option: the effect (paired gain over the reference)
    cost_draws: pd.DataFrame   # (replicate, cost draw) x option: cost at drawn unit costs


def ce_outcome(rank_by: str) -> str:
    """The effect of the cost-effectiveness analysis: the ranking's outcome, unless that is a run
    total (cost), then the primary outcome."""
    base = outcomes.OUTCOMES.get(rank_by.split(".", 1)[0])
    return outcomes.primary() if base is not None and base.total is not None else rank_by


def effect_unit(outcome: str) -> tuple[float, str]:
    """Scale and unit of an outcome's effect: a share in percentage points, else its own unit."""
    o = outcomes.OUTCOMES.get(outcome.split(".", 1)[0])
    if o is None or o.proportion:
        return 100.0, f"percentage points of {outcome}"
    return 1.0, f"{o.unit} of {outcome}"


def paired_gain(wide: pd.DataFrame, names: list[str], ref: str, outcome: str) -> pd.DataFrame:
    """Replicate x scenario: the endline ``outcome`` minus the reference's in the same replicate,
    signed so that more is better, in the outcome's effect unit (``effect_unit``)."""
    x = wide.pivot(index="replicate", columns="scenario", values=f"endline.{outcome}")[names]
    if _on_participants(outcome):
        x = x.fillna(0.0)
    gain = x.sub(x[ref], axis=0) * (-1.0 if outcomes.is_better_lower(outcome) else 1.0)
    return gain.dropna() * effect_unit(outcome)[0]


def add_gain_per_10k(table: pd.DataFrame, wide: pd.DataFrame, ref: str) -> pd.DataFrame:
    """Per outcome and scenario: the gain over the reference per 10,000 USD spent beyond it
    (``cea.per_10k``: mean gain over mean extra cost; more is better, in the outcome's unit,
    proportions as shares), and its 90% interval across replicates (gain / extra cost of each)."""
    names = list(dict.fromkeys(table.scenario))
    cost = wide.pivot(index="replicate", columns="scenario", values="endline.cost")[names]
    extra = cost.sub(cost[ref], axis=0)
    cols = {"per_10k": [], "per_10k_p05": [], "per_10k_p95": []}
    for r in table.itertuples():
        if r.outcome == "cost" or r.scenario == ref or f"endline.{r.outcome}" not in wide:
            for v in cols.values():
                v.append(np.nan)
            continue
        gain = paired_gain(wide, names, ref, r.outcome)[r.scenario] / effect_unit(r.outcome)[0]
        spent = extra[r.scenario].reindex(gain.index)
        ok = spent > 0
        cols["per_10k"].append(float(cea.per_10k(gain[ok].mean(), spent[ok].mean())) if ok.any() else np.nan)
        ratio = cea.per_10k(gain[ok], spent[ok])
        _, lo, hi = quantiles(ratio)
        cols["per_10k_p05"].append(lo)
        cols["per_10k_p95"].append(hi)
    return table.assign(**cols)


def unit_cost_draws(activities: list[str], n: int, seed: int) -> np.ndarray:
    """``n`` draws of every unit cost (n x activities x COST_PARTS), USD: one uniform number per
    draw and part of the cost, shared by all activities (prices and wages of a kind move together:
    ASSUMPTION) and by all scenarios (a fact about the world, not about a programme), mapped
    piecewise-linearly onto each activity's range so that half the draws lie below the catalogue's
    value and half above (``model.programme.unit_cost_ranges``)."""
    ranges = unit_cost_ranges()
    lo, mid, hi = (np.array([[ranges[(a, p)][j] for p in COST_PARTS] for a in activities], dtype=float)
                   .reshape(len(activities), len(COST_PARTS)) for j in range(3))
    u = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**31 + 13,))).random((n, 1, len(COST_PARTS)))
    return np.where(u < 0.5, lo + 2 * u * (mid - lo), mid + (2 * u - 1) * (hi - mid))


def drawn_costs(costs: pd.DataFrame, names: list[str], replicates: list, seed: int,
                n_draws: int = COST_DRAWS) -> pd.DataFrame:
    """Rows (replicate, draw), a column per scenario: each run's quantities (the ``costs`` table)
    priced at ``n_draws`` draws of the unit costs per replicate (``unit_cost_draws``)."""
    activities = sorted(set(costs["activity"])) or ["-"]
    q = (costs.groupby(["scenario", "replicate", "activity"])[list(COST_PARTS)].sum()
         .reindex(pd.MultiIndex.from_product([names, replicates, activities]), fill_value=0.0)
         .to_numpy(float).reshape(len(names), len(replicates), len(activities), len(COST_PARTS)))
    prices = (unit_cost_draws(activities, len(replicates) * n_draws, seed) if activities != ["-"]
              else np.zeros((len(replicates) * n_draws, 1, len(COST_PARTS))))
    prices = prices.reshape(len(replicates), n_draws, len(activities), len(COST_PARTS))
    drawn = np.einsum("srac,rdac->rds", q, prices).reshape(len(replicates) * n_draws, len(names))
    index = pd.MultiIndex.from_product([replicates, range(n_draws)], names=["replicate", "draw"])
    return pd.DataFrame(drawn, index=index, columns=names)


def wtp_grid(front: pd.DataFrame) -> np.ndarray:
    """Willingness-to-pay values for the acceptability curve: 0 to twice the frontier's largest
    ICER (or to twice the largest mean cost per unit of mean effect if the frontier has none)."""
    icers = front["icer"].dropna()
    top = 2 * icers.max() if len(icers) else np.nan
    if not np.isfinite(top) or top <= 0:
        eff = front["effect"].abs().max()
        top = 2 * front["cost"].max() / eff if eff > 0 else 1.0
    return np.linspace(0.0, float(top if top > 0 else 1.0), WTP_POINTS)


def cost_effectiveness(wide: pd.DataFrame, costs: pd.DataFrame, names: list[str], ref: str, outcome: str,
                       seed: int) -> CostEffectiveness:
    """The cost-effectiveness analysis on ``outcome``'s gain over ``ref``: the frontier of mean cost
    (catalogue unit costs) and mean effect with ICERs (``cea.frontier``), the acceptability curve and
    frontier over replicates (posterior draws) x unit-cost draws (``cea.acceptability``), and the
    most effective option each budget affords."""
    gain = paired_gain(wide, names, ref, outcome)
    cost = wide.pivot(index="replicate", columns="scenario", values="endline.cost")[names].reindex(gain.index)
    table = pd.DataFrame({"option": names, "cost": cost.mean().to_numpy(), "effect": gain.mean().to_numpy()})
    for col, x in (("cost", cost), ("effect", gain)):
        table[f"{col}_p05"], table[f"{col}_p95"] = x.quantile(0.05).to_numpy(), x.quantile(0.95).to_numpy()
    extra = (table["cost"] - table.loc[table.option == ref, "cost"].iloc[0]).clip(lower=0)
    table["per_10k"] = cea.per_10k(table["effect"], extra)
    front = cea.frontier(table.dropna(subset=["cost", "effect"]))
    drawn = drawn_costs(costs, names, list(gain.index), seed)
    effects = gain.loc[drawn.index.get_level_values("replicate")].to_numpy()
    wtp = wtp_grid(front)
    ceac = cea.acceptability(drawn.to_numpy(), effects, wtp, options=names)
    return CostEffectiveness(outcome, effect_unit(outcome)[1], front, ceac,
                             cea.acceptability_frontier(drawn.to_numpy(), effects, wtp, options=names),
                             by_budget(front), gain, drawn)


def by_budget(front: pd.DataFrame) -> pd.DataFrame:
    """For budgets from 0 up: the most effective option whose mean cost is within the budget (a
    programme is bought whole: extended dominance, which assumes mixing, does not remove options
    here; strongly dominated ones never win). One row per budget band: from_usd, to_usd (inf for
    the last), option, effect."""
    t = front[front.status != cea.DOMINATED].sort_values("cost", kind="stable")
    rows, best = [], -np.inf
    for r in t.itertuples():
        if r.effect > best:
            rows.append({"from_usd": max(float(r.cost), 0.0), "option": r.option, "effect": float(r.effect)})
            best = r.effect
    for a, b in zip(rows, rows[1:]):
        a["to_usd"] = b["from_usd"]
    if rows:
        rows[-1]["to_usd"] = np.inf
    return pd.DataFrame(rows, columns=["from_usd", "to_usd", "option", "effect"])


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


def write_outputs(c: Comparison, out: Path, meta: dict, extra: dict | None = None) -> list[str]:
    """The comparison's tables, figures and summary, through the one writer (``runner.results``);
    ``extra``: more tables to write (name -> table), e.g. the ranking across variants."""
    first = c.scenarios[0]
    names = [s.name for s in c.scenarios]
    figures = {"trajectories.png": lambda path: trajectory_figure(c.trajectories, names, first.survey.baseline_week,
                                                                   first.survey.endline_week, path)}
    if c.reference:
        figures["forest.png"] = lambda path: forest_figure(c.table, c.reference, first.group_names(),
                                                           first.village_names(), path)
    tables = {"measures.csv": c.measures, "outcomes.csv": c.table, "ranking.csv": c.ranking,
              "pairwise.csv": c.pairwise}
    summary = {**meta, "kind": "compare", "variant": c.variant, "rank_by": c.rank_by, "reference": c.reference,
               "ranking": c.ranking.to_dict(orient="records")}
    if c.costs is not None:
        tables["costs.csv"] = c.costs
    if c.cea is not None:
        ce = c.cea
        tables.update({"cea_frontier.csv": ce.frontier, "ceac.csv": ce.ceac.reset_index(), "ceaf.csv": ce.ceaf,
                       "best_by_budget.csv": ce.by_budget})
        figures["ce_plane.png"] = lambda path: ce_plane_figure(ce, c.measures, path)
        figures["ceac.png"] = lambda path: ceac_figure(ce, path)
        summary["cost_effectiveness"] = {"outcome": ce.outcome, "unit": ce.unit, "cost_draws_per_replicate": COST_DRAWS,
                                         "frontier": ce.frontier.to_dict(orient="records"),
                                         "best_by_budget": ce.by_budget.to_dict(orient="records")}
    if c.budget is not None:
        tables["at_budget.csv"] = c.budget
        summary["at_budget"] = c.budget.to_dict(orient="records")
    tables.update(extra or {})
    summary["conclusions"] = conclusions(c)
    if c.errors is not None and len(c.errors):   # fewer replicates than asked for some scenario: say which
        summary["failed_runs"] = c.errors[["run", "error", "attempts"]].to_dict(orient="records")
    return results.write(out, tables=tables, figures=figures, summary=summary, index={"pairwise.csv"},
                         record=c.record)


# --- variants: own cost, at an equal budget, without hand-over -------------------------------------
def compare_variants(paths: list[Path], *, at_budget: float | None = None, no_handover: bool = False,
                     out: Path | None = None, **kw) -> dict[str, Comparison]:
    """The comparison as given, and (when asked) at an equal budget and without hand-over (at the
    budget too when one is given), each in its own folder under ``out`` (``at_budget/``,
    ``no_handover/``). Keys: "own cost", "at budget", "no hand-over"."""
    from . import budget as equal

    equal.check_budget(at_budget)
    runs = {"own cost": (None, False, out)}
    if at_budget is not None:
        runs["at budget"] = (at_budget, False, None if out is None else out / "at_budget")
    if no_handover:
        runs["no hand-over"] = (at_budget, True, None if out is None else out / "no_handover")
    return {name: compare(paths, at_budget=b, no_handover=nh, out=o, **kw) for name, (b, nh, o) in runs.items()}


def ordered(c: Comparison) -> pd.DataFrame:
    """The ranking in rank order: P(best) first, then the median (so that options never best are
    still ordered by how well they do)."""
    key = -c.ranking["median"] if outcomes.is_better_lower(c.rank_by) else c.ranking["median"]
    return c.ranking.assign(_k=key).sort_values(["p_best", "_k"], ascending=False, kind="stable").drop(columns="_k")


def ranking_changes(variants: dict[str, Comparison]) -> pd.DataFrame:
    """One row per scenario: in each variant its rank (1 = highest P(best), then median), P(best),
    mean cost and P(harm) on the ranking's outcome."""
    rows: dict[str, dict] = {}
    for name, c in variants.items():
        for pos, r in enumerate(ordered(c).itertuples(), start=1):
            row = rows.setdefault(r.scenario, {"scenario": r.scenario})
            row.update({f"{name}: rank": pos, f"{name}: P(best)": r.p_best,
                        f"{name}: mean cost": getattr(r, "mean_cost", np.nan), f"{name}: P(harm)": r.p_harm})
    return pd.DataFrame(list(rows.values()))


def usd(x: float) -> str:
    if not np.isfinite(x):
        return "inf"
    return f"{x / 1000:,.1f}k USD" if abs(x) >= 1000 else f"{x:,.0f} USD"


def conclusions(c: Comparison) -> list[str]:
    """What to conclude from one comparison, in a few sentences: the best buy at each budget, the
    frontier and what it dominates, the most likely best buy at a few willingnesses to pay, the
    ranking on the outcome alone, and harm."""
    lines = []
    if c.cea is not None:
        lines += _cea_lines(c.cea)
    top = c.ranking.iloc[0]
    lines.append(f"On endline {c.rank_by} alone (cost aside), {top.scenario} is most likely best "
                 f"(P(best) {top.p_best:.2f}).")
    harmful = c.ranking[c.ranking.p_harm >= HARM_NOTED]
    lines.append("Do no harm: " + ("; ".join(f"{r.scenario} harms in {r.p_harm:.0%} of replicates"
                                            for r in harmful.itertuples())
                                   if len(harmful) else
                                   f"no programme harms in {HARM_NOTED:.0%} of replicates or more")
                 + " (a group or village below its baseline, or too much contact creating tension).")
    if c.budget is not None:
        flagged = c.budget[c.budget["flag"] != ""]
        lines += [f"FLAG {r.scenario}: {r.flag}" for r in flagged.itertuples()]
    return lines


HARM_NOTED = 0.05   # P(harm) from which the conclusions name a programme


def _cea_lines(ce: CostEffectiveness) -> list[str]:
    f = ce.frontier
    bands = [f"{usd(r.from_usd)}-{usd(r.to_usd)}: {r.option} ({r.effect:+.1f})" if np.isfinite(r.to_usd)
             else f"from {usd(r.from_usd)}: {r.option} ({r.effect:+.1f})" for r in ce.by_budget.itertuples()]
    lines = [f"Effect: {ce.unit}, gain over the reference (mean over replicates); cost: mean USD up to the endline.",
             "Best buy at each budget (most effective programme it affords): " + "; ".join(bands) + "."]
    front = f[f.status == cea.FRONTIER]
    if len(front):
        lines.append("Cost-effectiveness frontier (ICER, USD per unit of effect): " + "; ".join(
            f"{r.option} {r.icer:,.0f} vs {r.compared_with}" for r in front.itertuples()) + ".")
    for status, what in ((cea.DOMINATED, "Dominated (another costs no more and gains at least as much)"),
                         (cea.EXTENDEDLY_DOMINATED, "Extendedly dominated (a mix of two others does better)")):
        d = f[f.status == status]
        if len(d):
            lines.append(f"{what}: " + ", ".join(f"{r.option} (by {r.compared_with})" for r in d.itertuples()) + ".")
    picks = ce.ceaf.iloc[[len(ce.ceaf) // 4, len(ce.ceaf) // 2, 3 * len(ce.ceaf) // 4]]
    lines.append("Most likely best buy, per willingness to pay per unit of effect: " + "; ".join(
        f"at {r.wtp:,.0f} USD: {r.option} (P {r.probability:.2f})" for r in picks.itertuples()) + ".")
    return lines


def variant_lines(variants: dict[str, Comparison]) -> list[str]:
    """How the ranking changes between the variants (own cost, at budget, no hand-over): rank by
    P(best), then median."""
    if len(variants) < 2:
        return []
    lines = []
    for name, c in variants.items():
        order = " > ".join(f"{r.scenario} ({r.p_best:.2f})" for r in c.ranking.itertuples() if r.p_best > 0)
        lines.append(f"Ranking by P(best) on {c.rank_by}, {c.variant}: {order or 'none'}.")
    base = ordered(list(variants.values())[0]).scenario.tolist()
    for name, c in list(variants.items())[1:]:
        now = ordered(c).scenario.tolist()
        moved = [f"{s} {base.index(s) + 1}->{now.index(s) + 1}" for s in now if s in base and base.index(s) != now.index(s)]
        lines.append(f"{name} vs own cost: " + (", ".join(moved) if moved else "the same order") + ".")
    return lines


# --- cost-effectiveness figures ---------------------------------------------------------------------
def ce_plane_figure(ce: CostEffectiveness, measures: pd.DataFrame, path: Path) -> None:
    """The cost-effectiveness plane: every replicate (small), the means (large), the frontier
    joined, dominated options crossed out and extendedly dominated ones hollow."""
    f = ce.frontier.set_index("option")
    cost = measures.pivot(index="replicate", columns="scenario", values="endline.cost")
    fig, ax = plt.subplots(figsize=(8, 5.5))
    for i, name in enumerate(ce.effect_draws.columns):
        colour = COLOURS[i % len(COLOURS)]
        ax.scatter(ce.effect_draws[name], cost[name].reindex(ce.effect_draws.index) / 1000, s=8, alpha=0.25,
                   color=colour)
        status = f.loc[name, "status"]
        marker = {cea.DOMINATED: "X", cea.EXTENDEDLY_DOMINATED: "o"}.get(status, "o")
        face = "none" if status == cea.EXTENDEDLY_DOMINATED else colour
        ax.scatter([f.loc[name, "effect"]], [f.loc[name, "cost"] / 1000], s=110, marker=marker, facecolors=face,
                   edgecolors=colour, linewidths=2, label=f"{name} ({status})", zorder=3)
    on = f[f.status.isin([cea.REFERENCE, cea.FRONTIER])].sort_values("cost")
    ax.plot(on["effect"], on["cost"] / 1000, color="black", linewidth=1.2, zorder=2, label="frontier")
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.set_xlabel(f"gain over the reference: {ce.unit}")
    ax.set_ylabel("cost up to the endline (thousand USD)")
    ax.set_title("Cost-effectiveness plane: replicates (dots), means (large), frontier (line)")
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def ceac_figure(ce: CostEffectiveness, path: Path) -> None:
    """The acceptability curve of every option and the acceptability frontier (black)."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for i, name in enumerate(ce.ceac.columns):
        ax.plot(ce.ceac.index / 1000, ce.ceac[name], color=COLOURS[i % len(COLOURS)], label=name)
    ax.plot(ce.ceaf["wtp"] / 1000, ce.ceaf["probability"], color="black", linewidth=2.5, alpha=0.5,
            label="frontier (highest expected net benefit)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(f"willingness to pay (thousand USD per unit: {ce.unit})")
    ax.set_ylabel("P(best buy)")
    ax.set_title(f"Acceptability: replicates x posterior draws x {COST_DRAWS} unit-cost draws each")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
