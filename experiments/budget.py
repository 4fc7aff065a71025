"""Comparisons on equal terms: every programme at the same budget, and without hand-over.

``cohesion compare --at-budget B`` rescales each scenario's places (every entry's ``places``,
the places per village at a time, times one factor per scenario, rounded, at least 1) so that its
mean cost (``model.programme``'s cost model, the catalogue's unit costs, up to the endline) is B.
The factor is found on short runs: the first ``SEARCH_REPLICATES`` replicates of the comparison
(same seeds and posterior draws, common random numbers, so the mean cost is a deterministic step
function of the factor), stopped at the survey's endline, the scenarios searched together in one
batch per step: a proportional first guess, then bisection on the logarithm of the factor inside
the bracket found (interpolated, kept away from the bracket's ends). A scenario whose mean cost
cannot reach B (its places do not fill: demand, not places, limits it; or places of 1 everywhere
still cost more) is kept at the nearest factor and flagged, never left out. The comparison's own
mean cost over all its replicates is reported beside the search's, and whether it is within
``TOLERANCE`` of B.

``--no-handover``: every entry that would hand places over to the community before the survey's
endline does not (its ``handover_share`` becomes 0): it stops at its end week.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from common.errors import InputError
from runner import Task, run_batch
from scenarios.schema import Scenario

TOLERANCE = 0.02            # mean cost within 2% of the budget
SEARCH_TOLERANCE = 0.01     # the search aims closer, so that all replicates land within TOLERANCE
SEARCH_REPLICATES = 4       # replicates per evaluation of a factor (cost varies < 1% across them)
MAX_STEPS = 12              # evaluations of a factor per scenario
MAX_SCALE = 25.0            # places at most 25 times the scenario's
FINE_ROUNDS = 3             # rounds of single places moved (fine_tune) where one factor jumps over
MAX_BUDGET = 1e12


def check_budget(budget: float | None) -> None:
    """A budget is a finite positive number of USD (or None: no rescaling)."""
    if budget is None:
        return
    if not (isinstance(budget, (int, float)) and math.isfinite(budget) and 0 < budget <= MAX_BUDGET):
        raise InputError("--at-budget", [f"{budget}: allowed: a positive number of USD up to {MAX_BUDGET:.0e} "
                                         "(the programme's cost at the catalogue's unit costs, e.g. 150000)"])


def variant_name(at_budget: float | None, no_handover: bool) -> str:
    parts = [f"at budget {at_budget:,.0f} USD" if at_budget is not None else "own cost"]
    if no_handover:
        parts.append("no hand-over")
    return ", ".join(parts)


def scaled_places(places: list[int], factor: float) -> list[int]:
    """``places`` times ``factor`` in whole numbers, at least 1 each, rounded so that the total is
    the rounded exact total (largest remainders get the extra places; ties to the first listed):
    the total then moves one place at a time as the factor grows, not every entry of a size at once."""
    exact = np.asarray(places, dtype=float) * factor
    whole = np.floor(exact).astype(int)
    extra = int(round(exact.sum())) - int(whole.sum())
    order = np.argsort(-(exact - whole), kind="stable")
    whole[order[:max(extra, 0)]] += 1
    return [max(1, int(v)) for v in whole]


def with_places(scenario: Scenario, places: list[int]) -> Scenario:
    """The scenario with its programme entries' places (per village at a time) set to ``places``."""
    raw = scenario.model_dump()
    for entry, n in zip(raw["programme"], places):
        entry["places"] = int(n)
    return Scenario.model_validate(raw)


def scaled(scenario: Scenario, factor: float) -> Scenario:
    """The scenario with every programme entry's places times ``factor`` (``scaled_places``)."""
    return with_places(scenario, scaled_places(own_places(scenario), factor))


def own_places(scenario: Scenario) -> list[int]:
    return [e.capacity() for e in scenario.programme]


def without_handover(scenario: Scenario) -> Scenario:
    """The scenario with no hand-over before the survey's endline: entries ending before it keep
    no places after their end week."""
    raw = scenario.model_dump()
    endline = scenario.survey.endline_week
    for entry in raw["programme"]:
        if entry["end_week"] < endline:
            entry["handover_share"] = 0.0
    return Scenario.model_validate(raw)


def prepare(scenarios: list[Scenario], reference: str | None, param_sets: list, seed: int,
            at_budget: float | None, no_handover: bool, **batch) -> tuple[list[Scenario], pd.DataFrame | None]:
    """The scenarios a comparison runs: without hand-over and/or rescaled to the budget (the
    reference as it is), and the search's table (None without a budget)."""
    if no_handover:
        scenarios = [s if s.name == reference else without_handover(s) for s in scenarios]
    if at_budget is None:
        return scenarios, None
    movable = [s for s in scenarios if s.name != reference and s.programme]
    found = search(movable, at_budget, param_sets[:SEARCH_REPLICATES], seed, **batch)
    out = [with_places(s, found.loc[s.name, "places"]) if s.name in found.index else s for s in scenarios]
    return out, found.reset_index()


def mean_costs(configs: list[tuple[Scenario, list[int]]], param_sets: list, seed: int, **batch) -> np.ndarray:
    """Mean cost of each (scenario, places) over the search's replicates (runs stopped at the
    endline, only the outcomes table kept), one batch for all."""
    tasks = [Task(index=i * len(param_sets) + k, scenario=with_places(s, places), params=p, root_seed=seed,
                  seed_key=k, replicate=k, stop="endline", tables=("outcomes",), labels={"config": i})
             for i, (s, places) in enumerate(configs) for k, p in enumerate(param_sets)]
    if not batch.get("scheduler") and len(tasks) <= 64:   # short: in this process, no pool to start
        batch = {**batch, "workers": 1, "engine": "processes"}
    wide = run_batch(tasks, progress=False, label="budget", **batch)["outcomes"]
    by = wide.groupby("config")["endline.cost"].mean()
    return np.array([by.get(i, np.nan) for i in range(len(configs))])


def min_scale(scenario: Scenario) -> float:
    """The factor under which every entry is at one place."""
    return 1.0 / max(e.capacity() for e in scenario.programme)


def next_factor(state: dict, budget: float) -> float | None:
    """The next factor to try, from the bracket so far (``lo``: cost under the budget, ``hi``:
    over), or None when the search is over."""
    lo, hi = state.get("lo"), state.get("hi")
    if lo is not None and hi is not None:
        (a, ca), (b, cb) = lo, hi
        if b / a < 1.0 + 1e-3:
            return None
        t = (math.log(budget) - math.log(max(ca, 1e-9))) / (math.log(cb) - math.log(max(ca, 1e-9)))
        t = min(max(t, 0.15), 0.85)    # interpolated, away from the ends: the bracket shrinks
        return math.exp(math.log(a) + t * (math.log(b) - math.log(a)))
    f, c = lo or hi
    if lo is not None:
        return None if f >= state["max"] else min(f * max(budget / max(c, 1e-9), 1.0) * 1.05, state["max"])
    return None if f <= state["min"] else max(f * budget / c / 1.05, state["min"])


def search(scenarios: list[Scenario], budget: float, param_sets: list, seed: int, **batch) -> pd.DataFrame:
    """Per scenario: the places whose mean cost is nearest the budget (one factor on all entries,
    then single places moved: ``fine_tune``), that cost, and whether it is within
    ``SEARCH_TOLERANCE`` (``reached``); indexed by scenario."""
    states = {s.name: {"min": min_scale(s), "max": MAX_SCALE, "tried": []} for s in scenarios}
    pending = {s.name: 1.0 for s in scenarios}
    for _ in range(MAX_STEPS):
        todo = [s for s in scenarios if pending.get(s.name) is not None]
        if not todo:
            break
        configs = [(s, scaled_places(own_places(s), pending[s.name])) for s in todo]
        for (s, places), c in zip(configs, mean_costs(configs, param_sets, seed, **batch)):
            st, f = states[s.name], pending[s.name]
            st["tried"].append((f, places, float(c)))
            if abs(c - budget) <= SEARCH_TOLERANCE * budget:
                pending[s.name] = None
                continue
            st["lo" if c < budget else "hi"] = (f, float(c))
            pending[s.name] = next_factor(st, budget)
    for _ in range(FINE_ROUNDS):
        fine_tune([s for s in scenarios if "lo" in states[s.name] and "hi" in states[s.name]
                   and not _near(states[s.name], budget)], states, budget, param_sets, seed, **batch)
    return pd.DataFrame([_found(s, states[s.name], budget) for s in scenarios]).set_index("scenario")


def _near(state: dict, budget: float) -> bool:
    return any(abs(c - budget) <= SEARCH_TOLERANCE * budget for _, _, c in state["tried"])


def fine_tune(scenarios: list[Scenario], states: dict, budget: float, param_sets: list, seed: int, **batch) -> None:
    """Where one factor on all entries jumps over the budget (a cohort more holds more sessions),
    move one place of one entry from the best configuration on either side: every such move,
    in one batch; the tried configurations are added to each scenario's ``tried``."""
    configs, owner = [], []
    for s in scenarios:
        tried = states[s.name]["tried"]
        below = max((t for t in tried if t[2] < budget), key=lambda t: t[2])
        above = min((t for t in tried if t[2] > budget), key=lambda t: t[2])
        done = {tuple(t[1]) for t in tried}
        for (f, places, _), step in ((below, 1), (above, -1)):
            for j in range(len(places)):
                moved = list(places)
                moved[j] += step
                if moved[j] >= 1 and tuple(moved) not in done:
                    done.add(tuple(moved))
                    configs.append((s, moved))
                    owner.append((s.name, f))
    if not configs:
        return
    for (name, f), (_, places), c in zip(owner, configs, mean_costs(configs, param_sets, seed, **batch)):
        states[name]["tried"].append((f, places, float(c)))


def _found(scenario: Scenario, state: dict, budget: float) -> dict:
    factor, places, cost = min(state["tried"], key=lambda t: abs(t[2] - budget))
    reached = abs(cost - budget) <= SEARCH_TOLERANCE * budget
    costs = [c for _, _, c in state["tried"]]
    note = ""
    if not reached and max(costs) < budget:
        note = (f"cannot reach the budget: at {max(f for f, _, _ in state['tried']):g} times its places it costs "
                f"{max(costs):,.0f} USD (its places do not fill: demand, not places, limits it)")
    elif not reached and min(costs) > budget:
        note = (f"cannot come down to the budget: with places cut to {min(f for f, _, _ in state['tried']):.3g} "
                f"times its own it still costs {min(costs):,.0f} USD (every entry that runs holds its sessions)")
    elif not reached:
        note = f"nearest the search came: {cost:,.0f} USD (a cohort more or less moves the cost by more)"
    total = sum(own_places(scenario))
    return {"scenario": scenario.name, "factor": sum(places) / total, "places": places, "search_cost": cost,
            "reached": reached, "note": note, "evaluations": len(state["tried"])}


def achieved(found: pd.DataFrame | None, measures: pd.DataFrame, budget: float | None) -> pd.DataFrame | None:
    """The search's table with the comparison's own mean cost over all its replicates and whether
    it is within ``TOLERANCE`` of the budget (``within``); a scenario not within it is flagged."""
    if found is None or budget is None:
        return None
    mean = measures.groupby("scenario")["endline.cost"].mean()
    out = found.copy()
    out["mean_cost"] = out.scenario.map(mean)
    out["within"] = (out["mean_cost"] - budget).abs() <= TOLERANCE * budget
    out["flag"] = np.where(out["within"], "", np.where(out["note"] != "", out["note"],
                                                       "mean cost over all replicates not within 2% of the budget"))
    return out
