"""The planner's decision and what it writes (``cohesion plan``): the finalists' table, the
recommended plan (or what could not be satisfied, said plainly), the Pareto front, the Gantt
figure, the comparison with the programme as delivered and the summary with its provenance.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402

from runner import results  # noqa: E402

from . import drawing  # noqa: E402
from .plan import LOWER_IS_BETTER, OBJECTIVES, PlanFile  # noqa: E402
from .plan_search import Setup, completed, feasible, pareto_front, summarise  # noqa: E402

DELIVERED = -1


def finalist_table(setup: Setup, m: pd.DataFrame, scenarios: dict[int, object]) -> pd.DataFrame:
    """One row per re-scored candidate (the delivered programme as -1): each objective's mean and 90%
    interval, P(harm) with its 90% interval, and whether it meets every constraint."""
    from .plan import weekly_sessions

    plan = setup.plan
    rows = []
    for cid, scen in scenarios.items():
        s = summarise(m[m.candidate == cid], plan.objectives)
        sessions = float(weekly_sessions(scen).max())
        ok = (s["cost"] <= plan.budget, s["p_harm_high"] <= plan.harm.max_probability,
              sessions <= plan.session_capacity)
        rows.append({"candidate": cid, "scenario": scen.name, **s, "max_sessions": sessions,
                     "within_budget": ok[0], "no_harm": ok[1], "within_capacity": ok[2],
                     "meets_all": all(ok) and cid != DELIVERED})
    return pd.DataFrame(rows)


def decide(plan: PlanFile, table: pd.DataFrame, any_feasible: bool, cheapest: float) -> tuple[int | None, list[str]]:
    """The recommended candidate (the best on the first objective among those that meet every
    constraint on the re-scoring) and the findings, in words."""
    ok = table[table.meets_all]
    first = plan.objectives[0]
    harm_words = (f"keeps every village and group at or above its baseline acceptance, with no more than "
                  f"{plan.harm.tension_share:.0%} of households having had more negative than positive contact, "
                  f"with probability {1 - plan.harm.max_probability:.2f}")
    if len(ok):
        best = ok.sort_values(first, ascending=first in LOWER_IS_BETTER, kind="stable").iloc[0]
        return int(best.candidate), [
            f"recommended: trial {int(best.candidate)}, mean cost {best.cost:,.0f} USD (budget {plan.budget:,.0f}); "
            f"it {harm_words} (P(harm) {best.p_harm:.3f}, 90% interval up to {best.p_harm_high:.3f}, "
            f"{int(best.runs)} re-scoring runs)"]
    cands = table[table.candidate != DELIVERED]
    if not np.isfinite(cheapest) or cheapest > plan.budget:
        lines = [f"no plan under {plan.budget:,.0f} USD could be made from the allowed activities: the cheapest "
                 f"candidate scored costs {cheapest:,.0f} USD"]
    else:
        lines = [f"no plan under {plan.budget:,.0f} USD {harm_words} (upper end of the 90% interval of P(harm) "
                 f"at most {plan.harm.max_probability:.2f})"]
    if len(cands):
        c = cands.sort_values("p_harm_high", kind="stable").iloc[0]
        lines.append(f"the closest, trial {int(c.candidate)}: mean cost {c.cost:,.0f} USD, P(harm) {c.p_harm:.3f} "
                     f"(90% interval {c.p_harm_low:.3f}-{c.p_harm_high:.3f}, {int(c.runs)} runs)"
                     + ("" if any_feasible else "; no candidate of the search met the constraints on its own draws"))
    return None, lines


def compare_with_delivered(m: pd.DataFrame, chosen: int, objectives: list[str]) -> pd.DataFrame:
    """The recommended plan against the programme as delivered on the same (draw, seed) pairs: each
    objective's mean and 90% interval, the paired difference and P(recommended better)."""
    a = m[m.candidate == chosen].set_index("replicate")
    b = m[m.candidate == DELIVERED].set_index("replicate").reindex(a.index)
    rows = []
    for o in dict.fromkeys([*objectives, "cost", "gain", "sustained_gain"]):
        d = (a[o] - b[o]).astype(float)
        better = -d if o in LOWER_IS_BETTER else d
        rows.append({"objective": o, "recommended": a[o].mean(), "delivered": b[o].mean(),
                     "difference": d.mean(), "difference_p05": d.quantile(0.05), "difference_p95": d.quantile(0.95),
                     "p_recommended_better": float((better > 0).mean() + 0.5 * (better == 0).mean())})
    rows.append({"objective": "p_harm", "recommended": a.harm.mean(), "delivered": b.harm.mean(),
                 "difference": a.harm.mean() - b.harm.mean()})
    return pd.DataFrame(rows)


def front_table(setup: Setup, study, table: pd.DataFrame) -> pd.DataFrame:
    """pareto.csv: every trial of the front with its search figures (mean and 90% interval across the
    common replicates) and, for the finalists, the re-scored ones (``rescored_*``)."""
    front = pareto_front(completed(study), setup.plan.objectives)
    rows = [{"trial": t.number, "feasible": feasible(t), **t.user_attrs.get("summary", {})} for t in front]
    df = pd.DataFrame(rows)
    if len(df) and len(table):
        re = table[table.candidate >= 0].drop(columns=["scenario"]).add_prefix("rescored_")
        df = df.merge(re, left_on="trial", right_on="rescored_candidate", how="left").drop(columns=["rescored_candidate"])
    return df.sort_values("cost", kind="stable") if "cost" in df else df


def recommended_yaml(scenario, path: Path, plan: PlanFile, provenance: dict) -> None:
    """The recommended plan as a complete scenario file that ``cohesion run`` and ``compare`` accept,
    its header recording the seed, replicates and parameters that scored it."""
    head = [f"# Recommended by `cohesion plan` ({plan.name}).",
            f"# Scored on {provenance['replicates']} replicates, seed {provenance['seed']}, parameters "
            f"{provenance['params_file']} (every parameter set, equal weights). Reproduce its figures with:",
            f"#   cohesion compare {path.name} --replicates {provenance['replicates']} --seed {provenance['seed']} "
            f"--params {Path(provenance['params_file']).name}",
            "# (from this folder); the planner's per-run figures are in rescored.csv."]
    raw = scenario.model_dump(mode="json", exclude_defaults=False)
    raw["assumptions"] = {**raw.get("assumptions", {}), "planner": (
        f"programme chosen by cohesion plan {plan.name}: seed {provenance['seed']}, {provenance['replicates']} "
        f"replicates, parameters {Path(provenance['params_file']).name}")}
    path.write_text("\n".join(head) + "\n" + yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")


# --- figures ------------------------------------------------------------------------------------
def pareto_figure(setup: Setup, study, table: pd.DataFrame, path: Path) -> None:
    """Cost against each other objective: every scored trial (grey; feasible darker), the front with
    its 90% intervals across the common replicates, the re-scored finalists and the delivered programme."""
    others = [o for o in setup.plan.objectives if o != "cost"] or ["acceptance_least_group"]
    trials = [t for t in completed(study) if "summary" in t.user_attrs]
    front = {t.number for t in pareto_front(trials, setup.plan.objectives)}
    fig, axes = plt.subplots(1, len(others), figsize=(5.2 * len(others), 4.2), squeeze=False)
    for ax, o in zip(axes[0], others):
        for t in trials:
            s = t.user_attrs["summary"]
            ax.plot(s["cost"] / 1000, s[o], "o", ms=3, color="#444444" if feasible(t) else "#cccccc", zorder=1)
            if t.number in front:
                ax.errorbar(s["cost"] / 1000, s[o], yerr=[[s[o] - s[f"{o}_p05"]], [s[f"{o}_p95"] - s[o]]],
                            fmt="o", color="#1f78b4", ms=5, capsize=2, zorder=2)
        for r in table.itertuples():
            style = dict(fmt="*", color="#e31a1c", ms=11) if r.candidate == DELIVERED else dict(fmt="s", color="black", ms=5)
            ax.errorbar(r.cost / 1000, getattr(r, o), yerr=[[getattr(r, o) - getattr(r, f"{o}_p05")],
                                                            [getattr(r, f"{o}_p95") - getattr(r, o)]],
                        capsize=3, zorder=3, **style)
        ax.axvline(setup.plan.budget / 1000, color="grey", linestyle="--", linewidth=0.8)
        ax.set(xlabel="mean cost (thousand USD)", ylabel=OBJECTIVES[o].split(" (")[0][:60], title=o)
    fig.suptitle("Plans scored (grey; dark: met the constraints), front (blue, 90% intervals), finalists "
                 "re-scored (black squares), as delivered (red star); dashed: budget", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def gantt_figure(scenario, path: Path) -> None:
    """The plan's layering by village: one panel per village, its activities as bars over the weeks
    (hatched: handed over to the community), labelled with the places."""
    villages = scenario.village_names()
    fig, axes = plt.subplots(len(villages), 1, figsize=(9, 1.2 + 0.9 * len(villages) +
                                                         0.22 * len(scenario.programme) * len(villages)),
                             sharex=True, squeeze=False)
    for ax, v in zip(axes[:, 0], villages):
        here = [e for e in scenario.programme if v in scenario.entry_villages(e)]
        drawing.programme_timeline(ax, here, scenario.horizon_weeks)
        for row, e in enumerate(here):
            ax.annotate(f"{e.capacity()} places", (e.end_week + 1, row), fontsize=6, va="center")
        ax.set_title(v, fontsize=9, loc="left")
        ax.set_xlabel("")
        ax.axvline(scenario.survey.endline_week + 0.5, color="grey", linestyle=":", linewidth=0.8)
    axes[-1, 0].set_xlabel("week (dotted: end of the programme, the endline survey)")
    fig.suptitle(f"{scenario.name}: layering by village (hatched: handed over to the community)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --- the whole command --------------------------------------------------------------------------
def make_plan(plan_path: Path, *, out: Path | None = None, resume: bool = False, workers: int = 1,
              progress: bool = True, console=None, **overrides) -> dict:
    """``cohesion plan``: read the plan file, print the search space, search, re-score the finalists,
    decide and write the outputs. Returns the summary (``findings``, ``recommended``, ``files``).

    Raises
    ------
    InputError
        for a bad plan file (naming file and field) or a study in ``out`` made from another plan (--resume).
    """
    from rich.console import Console

    from .plan import describe_space, load_plan, search_space
    from .plan_search import cluster, finalists, rescore, run_search

    console = console or Console(stderr=True)
    plan, population, delivered = load_plan(plan_path, **overrides)
    out = Path(out or Path("results") / "plan" / plan.name)
    dims = search_space(plan, population)
    console.print(f"plan {plan.name}: search space of {describe_space(dims)}; {plan.search.trials} trials x "
                  f"{plan.search.replicates} common replicates ({plan.search.sampler}), then "
                  f"{plan.search.finalists} finalists x {plan.search.rescore_replicates} fresh replicates", highlight=False)
    for d in dims:
        if len(d.values) > 1:
            console.print(f"  {d.name}: {len(d.values)} values {list(d.values)}", highlight=False)
    with cluster(workers) as scheduler:
        setup = Setup(plan, population, delivered, dims, out, workers, scheduler, progress, console)
        study = run_search(setup, resume)
        chosen, any_feasible = finalists(study, plan)
        m, scenarios, params_file, seed = rescore(setup, chosen)
    ran = [t.user_attrs["summary"]["cost"] for t in completed(study) if "summary" in t.user_attrs]
    table = finalist_table(setup, m, scenarios)
    best, findings = decide(plan, table, any_feasible, min(ran) if ran else float("inf"))
    d = table[table.candidate == DELIVERED]
    if len(d):
        findings.append(f"the programme as delivered, on the same draws: mean cost {d.cost.iloc[0]:,.0f} USD, P(harm) "
                        f"{d.p_harm.iloc[0]:.3f} (90% interval up to {d.p_harm_high.iloc[0]:.3f})")
    return write_plan(setup, study, m, table, scenarios, best, findings, plan_path, params_file, seed)


def write_plan(setup: Setup, study, m, table, scenarios, best, findings, plan_path, params_file, seed) -> dict:
    """Every output of the planner, through the one results writer (summary.json last, with provenance)."""
    plan, out = setup.plan, setup.out
    prov = {"seed": seed, "replicates": plan.search.rescore_replicates, "params_file": str(params_file)}
    tables = {"pareto.csv": front_table(setup, study, table), "finalists.csv": table,
              "rescored.csv": m.sort_values(["candidate", "replicate"], kind="stable")}
    figures = {"pareto.png": lambda p: pareto_figure(setup, study, table, p)}
    if best is not None:
        rec = scenarios[best].model_copy(update={"name": f"{plan.name}_recommended"})
        recommended_yaml(rec, out / "recommended.yaml", plan, prov)
        figures["gantt.png"] = lambda p: gantt_figure(rec, p)
        if setup.delivered is not None:
            tables["comparison.csv"] = compare_with_delivered(m, best, plan.objectives)
            findings.append(_against_delivered(tables["comparison.csv"], plan.objectives[0]))
    population = Path(plan_path).parent / plan.population  # as the plan file names it: relative to the file
    population = population if population.is_file() else Path(plan.population)
    record = results.provenance({"plan": plan_path, "population": population, "rescore_params": params_file},
                                {"plan": plan.model_dump(mode="json"), "rescore_seed": seed})
    summary = {"plan": plan.name, "findings": findings, "recommended": best, "recommended_file":
               "recommended.yaml" if best is not None else None, "reproduce": prov,
               "trials": len(completed(study)), "search_space": [[d.name, list(d.values)] for d in setup.dims]}
    written = results.write(out, tables=tables, figures=figures, summary=summary, record=record)
    summary["files"] = written + (["recommended.yaml"] if best is not None else [])
    summary["out"] = str(out)
    return summary


def _against_delivered(cmp: pd.DataFrame, first: str) -> str:
    r = cmp[cmp.objective == first].iloc[0]
    c = cmp[cmp.objective == "cost"].iloc[0]
    return (f"against the programme as delivered, on the same draws: {first} {r.recommended:.3f} vs {r.delivered:.3f} "
            f"(paired difference {r.difference:+.3f}, 90% interval {r.difference_p05:+.3f} to {r.difference_p95:+.3f}; "
            f"P(recommended better) {r.p_recommended_better:.2f}); mean cost {c.recommended:,.0f} vs "
            f"{c.delivered:,.0f} USD")
