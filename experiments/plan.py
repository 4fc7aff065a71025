"""The planner's inputs: the plan file, its search space, a candidate as a scenario, and how a
candidate is scored (``cohesion plan``; the search itself is ``experiments/plan_search.py``).

A plan file (``experiments/plans/*.yaml``) names the population scenario, the activities allowed
(catalogue names), the budget, the sessions the programme can hold per week, the programme's
length, what to optimise and the constraints (do no harm; the user's fixes such as "dialogue not
before week 20" or "counselling in every village"). The search varies, per allowed activity, its
start week and length (so which runs first), its places in each village (0: not there) and, where
the catalogue allows it, the share handed over to the community at its end.

A candidate is scored on runs of the project runner (``runner.Task``, ``plan_run``): the outcome
registry's measures on all households at the baseline and endline weeks (``runner.outcomes_row``),
the share of all households whose contact was more negative than positive (the registry's
``harm_above_share`` outcomes, on all households rather than participants), and the acceptance
``follow_up_weeks`` after the programme ends (how much of the gain remains).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, field_validator, model_validator

from common.errors import InputError, from_validation_error, read_yaml
from common.strict import Strict, each_once
from model import outcomes
from model.activities import catalogue
from model.observer import split_means
from model.outcomes import Reading
from runner import outcomes_row
from scenarios import ProgrammeEntry, Scenario, load_scenario
from scenarios.schema import check_safe_name

OBJECTIVES = {
    "acceptance_least_group": "acceptance of cohabitation in the least-accepting group at the endline (share)",
    "acceptance_worst_village": "acceptance of cohabitation in the least-accepting village at the endline (share)",
    "wellbeing": "mean well-being at the endline (WEMWBS score, 14-70)",
    "cost": "the programme's cost over the whole horizon (USD, the model's cost outcome)",
    "sustained_gain": "acceptance gain over baseline still there follow_up_weeks after the programme ends "
                      "(share points)",
}
"""What a plan may optimise, in words (all measured on all households)."""
LOWER_IS_BETTER = {"cost"}
Objective = Literal["acceptance_least_group", "acceptance_worst_village", "wellbeing", "cost", "sustained_gain"]


# --- the plan file ------------------------------------------------------------------------------
class Fix(Strict):
    """Something the user fixes: an activity not before (or not after) a week, or in every village."""

    activity: str
    not_before: int | None = Field(default=None, ge=1, description="the activity starts at this week or later")
    not_after: int | None = Field(default=None, ge=1, description="the activity starts at this week or earlier")
    every_village: bool = Field(default=False, description="the activity runs in every village")


class Harm(Strict):
    """Do no harm, judged on all households (not the survey's self-reports)."""

    max_probability: float = Field(default=0.1, gt=0, le=1, description=(
        "bound on the probability that some village or group ends below its baseline acceptance, or that more "
        "than tension_share of households had more negative than positive contact; judged by the upper end of "
        "its 90% interval over the re-scoring replicates; 1: no bound"))
    tension_share: float = Field(default=0.2, ge=0, le=1,
                                 description="share of households with net negative contact counted as harm")


class Search(Strict):
    trials: int = Field(default=240, ge=1, le=100_000, description="candidates scored in the search")
    replicates: int = Field(default=8, ge=1, le=1000, description="common (draw, seed) pairs per candidate")
    sampler: Literal["tpe", "nsga2"] = "tpe"
    batch: int = Field(default=8, ge=1, le=1000, description="candidates asked of optuna and run together")
    week_step: int = Field(default=4, ge=1, le=52, description="start weeks and lengths in steps of this")
    min_weeks: int = Field(default=8, ge=1, description="shortest run of an activity (weeks)")
    max_weeks: int | None = Field(default=None, ge=1, description="longest run of an activity (default: weeks)")
    intensity: list[float] = Field(default=[0.0, 0.5, 1.0, 2.0], min_length=1,
                                   description="places as multiples of the activity's usual places (0: not there)")
    handover: list[float] = Field(default=[0.0, 0.3], min_length=1,
                                  description="shares handed over at the end, for activities that can be")
    finalists: int = Field(default=4, ge=1, le=50, description="candidates re-scored on fresh draws")
    rescore_replicates: int = Field(default=200, ge=2, le=100_000,
                                    description="replicates of the re-scoring (at least 200 for a harm judgement)")
    seed: int = Field(default=7, ge=0)
    params: str = Field(default="posterior", description="'posterior', 'defaults' or a posterior CSV")
    robust: bool = Field(default=True, description=(
        "re-score across the ranges of the parameters the calibration left at their defaults"))

    @field_validator("intensity", "handover")
    @classmethod
    def _levels(cls, v: list[float]) -> list[float]:
        if any(x < 0 or not math.isfinite(x) for x in v):
            raise ValueError(f"{v}: allowed: numbers >= 0")
        return sorted(set(v))


class PlanFile(Strict):
    name: str
    population: str = Field(description="scenario file of the population (relative to the plan file)")
    delivered: str | None = Field(default=None, description="the programme as delivered, compared on the same draws")
    activities: list[str] = Field(min_length=1, description="catalogue activities the plan may use")
    budget: float = Field(gt=0, description="USD over the whole horizon (mean over replicates)")
    session_capacity: float = Field(default=1e9, gt=0,
                                    description="sessions the programme can hold per week, all villages together")
    weeks: int = Field(ge=1, le=520, description="the programme's length; the endline survey is at its end")
    follow_up_weeks: int = Field(default=26, ge=1, le=520, description="weeks after the programme ends for the "
                                 "sustained gain")
    villages: list[str] | None = Field(default=None, description="villages the plan may use (default: all)")
    objectives: list[Objective] = Field(min_length=1, description="what to optimise: " + ", ".join(OBJECTIVES))
    harm: Harm = Harm()
    fixes: list[Fix] = []
    search: Search = Search()

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_safe_name(v)

    @field_validator("objectives")
    @classmethod
    def _once(cls, v: list[str]) -> list[str]:
        return each_once(v, f"objective ({', '.join(OBJECTIVES)})")

    @field_validator("activities")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        unknown = [a for a in v if a not in catalogue()]
        if unknown:
            raise ValueError(f"unknown activities {unknown}; allowed: {', '.join(catalogue())}")
        if len(set(v)) != len(v):
            raise ValueError("an activity listed twice; list each once")
        return v

    @model_validator(mode="after")
    def _fixes(self) -> "PlanFile":
        problems = []
        for i, f in enumerate(self.fixes):
            if f.activity not in self.activities:
                problems.append(f"fixes[{i}].activity: '{f.activity}' is not among the plan's activities; "
                                f"allowed: {', '.join(self.activities)}")
            last = self.weeks - min(self.search.min_weeks, self.weeks) + 1
            if f.not_before is not None and f.not_before > last:
                problems.append(f"fixes[{i}].not_before: week {f.not_before} leaves no room for {self.search.min_weeks} "
                                f"weeks in a {self.weeks}-week programme; allowed: at most {last}")
            if f.not_before and f.not_after and f.not_after < f.not_before:
                problems.append(f"fixes[{i}].not_after: {f.not_after} is before not_before {f.not_before}")
        if self.search.min_weeks > self.weeks:
            problems.append(f"search.min_weeks: {self.search.min_weeks} is longer than weeks {self.weeks}")
        if problems:
            raise ValueError(" | ".join(problems))
        return self


def load_plan(path: str | Path, **overrides) -> tuple[PlanFile, Scenario, Scenario | None]:
    """The plan file (with the command's overrides: budget, weeks, villages, trials), its population
    scenario and the delivered programme; every problem names the file and the field.

    Raises
    ------
    InputError
        naming the plan file (or the scenario file at fault), each field and what is allowed.
    """
    path = Path(path)
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise InputError(path, ["(top level): expected a mapping with name, population, activities, budget, weeks, "
                                "objectives"])
    raw.setdefault("name", path.stem)
    for key, value in overrides.items():
        if value is not None:
            (raw.setdefault("search", {}) if key == "trials" else raw)[key] = value
    try:
        plan = PlanFile.model_validate(raw)
    except ValidationError as err:
        problems = []
        for p in from_validation_error(path, err).problems:
            head, _, rest = p.partition(": ")
            problems += rest.split(" | ") if " | " in rest and head == "(top level)" else [p]
        raise InputError(path, problems) from None
    population = _scenario_file(path, plan.population, "population")
    delivered = _scenario_file(path, plan.delivered, "delivered") if plan.delivered else None
    if plan.villages is not None:
        unknown = [v for v in plan.villages if v not in population.village_names()]
        if unknown or not plan.villages:
            raise InputError(path, [f"villages: unknown {unknown or 'none given'}; allowed: "
                                    f"{', '.join(population.village_names())}"])
    return plan, population, delivered


def _scenario_file(plan_path: Path, name: str, field: str) -> Scenario:
    p = (plan_path.parent / name) if not Path(name).is_absolute() else Path(name)
    if not p.is_file() and Path(name).is_file():
        p = Path(name)   # relative to the working folder, as typed
    if not p.is_file():
        raise InputError(plan_path, [f"{field}: scenario file '{name}' not found (relative to {plan_path.parent}); "
                                     "allowed: a scenario YAML file such as ../../scenarios/qayyarah.yaml"])
    return load_scenario(p)


# --- the search space ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Dimension:
    """One thing the search varies: a name, the values it may take (in order)."""

    name: str
    values: tuple
    doc: str


def usual_places(activity: str, population: Scenario, smallest: int = 10) -> int:
    """An activity's usual places per village: as the population scenario's programme has it, else
    the catalogue's places per session, at least ``smallest``."""
    given = [e.capacity() for e in population.programme if e.activity == activity]
    return max(given[0] if given else catalogue()[activity].places_per_session, smallest)


def _week_grid(low: int, high: int, step: int) -> tuple[int, ...]:
    grid = list(range(low, high + 1, step))
    return tuple(grid if grid and grid[-1] == high or not grid else [*grid, high]) if high >= low else (low,)


def search_space(plan: PlanFile, population: Scenario) -> list[Dimension]:
    """Per allowed activity: start week, length, places per village (one value for activities that
    mix villages) and, where it can be handed over, the share handed over; the fixes narrow them."""
    s = plan.search
    villages = plan.villages or population.village_names()
    dims = []
    for a in plan.activities:
        fixes = [f for f in plan.fixes if f.activity == a]
        first = max([1, *(f.not_before for f in fixes if f.not_before)])
        last = min([plan.weeks - s.min_weeks + 1, *(f.not_after for f in fixes if f.not_after)])
        dims.append(Dimension(f"start:{a}", _week_grid(first, max(first, last), s.week_step), f"week {a} starts"))
        longest = min(plan.weeks, s.max_weeks or plan.weeks)
        dims.append(Dimension(f"weeks:{a}", _week_grid(s.min_weeks, max(s.min_weeks, longest), s.week_step),
                              f"weeks {a} runs"))
        unit = usual_places(a, population)
        levels = sorted({0 if x == 0 else max(1, round(x * unit)) for x in s.intensity})
        if any(f.every_village for f in fixes):
            levels = [p for p in levels if p > 0] or [unit]
        where = ["all"] if catalogue()[a].mixes_villages else villages
        dims += [Dimension(f"places:{a}:{v}", tuple(levels), f"places of {a} in {v} (0: not there)") for v in where]
        if catalogue()[a].can_hand_over and len(s.handover) > 1:
            dims.append(Dimension(f"handover:{a}", tuple(s.handover), f"share of {a}'s places handed over"))
    return dims


def space_size(dims: list[Dimension]) -> float:
    return float(np.prod([float(len(d.values)) for d in dims]))


def describe_space(dims: list[Dimension]) -> str:
    varying = [d for d in dims if len(d.values) > 1]
    return (f"{len(varying)} dimensions ({len(dims) - len(varying)} fixed), "
            f"{space_size(dims):.3g} possible plans")


# --- a candidate as a scenario ------------------------------------------------------------------
def plan_entries(values: dict, plan: PlanFile, population: Scenario) -> list[ProgrammeEntry]:
    """The programme entries of one candidate (``values``: dimension name -> value): per activity,
    one entry per set of villages sharing the same places, from its start week for its length
    (cut at the programme's end); none where its places are 0 everywhere."""
    entries = []
    for a in plan.activities:
        start = int(values[f"start:{a}"])
        end = min(start + int(values[f"weeks:{a}"]) - 1, plan.weeks)
        handover = float(values.get(f"handover:{a}", plan.search.handover[0] if catalogue()[a].can_hand_over else 0))
        places = {k.split(":", 2)[2]: int(v) for k, v in values.items() if k.startswith(f"places:{a}:")}
        by_level: dict[int, list[str]] = {}
        for v, p in places.items():
            if p > 0:
                by_level.setdefault(p, []).append(v)
        for p, where in sorted(by_level.items(), key=lambda kv: population.village_names().index(kv[1][0])
                               if kv[1][0] != "all" else 0):
            entries.append(ProgrammeEntry(activity=a, villages="all" if where == ["all"] else where,
                                          start_week=start, end_week=end, places=p, handover_share=handover))
    return sorted(entries, key=lambda e: (e.start_week, e.activity))


def plan_to_scenario(values: dict, plan: PlanFile, population: Scenario, name: str | None = None,
                     description: str = "") -> Scenario:
    """The candidate as a scenario of the population: its programme, the endline survey at the end
    of the programme, the horizon ``follow_up_weeks`` later. The survey's sample is cut to the
    households the programme reaches where it reaches fewer."""
    raw = population.model_dump(mode="python")
    raw.update(name=name or plan.name, description=description or f"planned by cohesion plan ({plan.name})",
               horizon_weeks=plan.weeks + plan.follow_up_weeks,
               programme=[e.model_dump(mode="python", exclude_defaults=True) for e in
                          plan_entries(values, plan, population)])
    raw["survey"] = {**raw["survey"], "endline_week": plan.weeks, "frame": "households"}
    scenario = Scenario.model_validate(raw)
    if population.survey.frame == "participants" and scenario.programme:
        participants = scenario.model_copy(update={"survey": scenario.survey.model_copy(update={"frame": "participants"})})
        frame = participants.frame_size()
        if frame >= 1:
            sample = min(population.survey.sample_size, frame)
            raw["survey"] = {**raw["survey"], "frame": "participants", "sample_size": sample}
            scenario = Scenario.model_validate(raw)
    return scenario


def weekly_sessions(scenario: Scenario) -> np.ndarray:
    """Sessions held each week of the programme (cohorts per village times sessions per week), as
    the catalogue defines them: what the plan's ``session_capacity`` bounds."""
    sessions = np.zeros(scenario.horizon_weeks + 1)
    for e in scenario.programme:
        act = catalogue()[e.activity]
        cohorts = math.ceil(e.capacity() / act.places_per_session) * len(scenario.entry_villages(e))
        sessions[e.start_week:e.end_week + 1] += cohorts * act.sessions_per_week
    return sessions


# --- scoring ------------------------------------------------------------------------------------
FOLLOW = "followup"


def plan_run(task) -> dict[str, pd.DataFrame]:
    """One run of a candidate (``runner.Task``): the registry's measures on all households at
    baseline and endline, the share of all households flagged by each ``harm_above_share`` outcome
    (``all.<outcome>``) and, at the horizon, the primary outcome again (``followup.<outcome>``)."""
    m = task.model()
    m.run(weeks=m.spec.survey.endline_week - m.week)
    row = {"run": task.index, "scenario": task.scenario.name, "replicate": task.replicate, **task.labels,
           **outcomes_row(m)}
    end = m.snapshots["endline"]
    for o in outcomes.OUTCOMES.values():
        if o.harm_above_share and o.of is not None:
            value = np.asarray(o.of(end), dtype=float)
            row[f"all.{o.name}"] = float(np.nanmean(np.where(end.present, value, np.nan)))
    m.run()
    primary = outcomes.get(outcomes.primary())
    now = Reading(m.week, m.state, m.network, m.params, base=m.snapshots["baseline"])
    row.update(split_means(f"{FOLLOW}.{primary.name}", np.asarray(primary.of(now), dtype=float),
                           m.state.present.copy(), m.state.group, m.state.village, m.groups, m.villages))
    return {"outcomes": pd.DataFrame([row])}


def metrics(rows: pd.DataFrame, groups: list[str], villages: list[str], tension_share: float) -> pd.DataFrame:
    """Per run: every objective (``OBJECTIVES``) and the harm flag (some group or village below its
    baseline on an outcome marked ``harm_if_below_baseline``, or more than ``tension_share`` of all
    households flagged by one marked ``harm_above_share``)."""
    p = outcomes.primary()
    end = lambda k: rows[f"endline.{p}.{k}"]  # noqa: E731
    harmed = np.zeros(len(rows), dtype=bool)
    for o in outcomes.population_measures():
        if o.harm_if_below_baseline:
            for k in (*groups, *villages):
                col = f"endline.cohort.{o.name}.{k}" if f"endline.cohort.{o.name}.{k}" in rows else f"endline.{o.name}.{k}"
                harmed |= (rows[col] < rows[f"baseline.{o.name}.{k}"]).to_numpy()
        if o.harm_above_share and f"all.{o.name}" in rows:
            harmed |= (rows[f"all.{o.name}"].fillna(0) > tension_share).to_numpy()
    out = pd.DataFrame({
        "acceptance_least_group": np.min([end(g) for g in groups], axis=0),
        "acceptance_worst_village": np.min([end(v) for v in villages], axis=0),
        "wellbeing": rows["endline.wellbeing"],
        "cost": rows["endline.cost"],
        "sustained_gain": (rows[f"{FOLLOW}.{p}"] if f"{FOLLOW}.{p}" in rows else np.nan) - rows[f"baseline.{p}"],
        "gain": rows[f"endline.{p}"] - rows[f"baseline.{p}"],
        "harm": harmed,
    }, index=rows.index)
    for c in ("run", "candidate", "replicate"):
        if c in rows:
            out.insert(0, c, rows[c])
    return out


def upper_90(k: int, n: int) -> float:
    """Upper end of the 90% (Clopper-Pearson) interval of a probability seen ``k`` times in ``n``."""
    from scipy.stats import beta

    return 1.0 if k >= n else float(beta.ppf(0.95, k + 1, n - k))


def lower_90(k: int, n: int) -> float:
    from scipy.stats import beta

    return 0.0 if k <= 0 else float(beta.ppf(0.05, k, n - k + 1))
