"""The planner's search (``cohesion plan``): optuna proposes candidates, the project runner scores
them, finalists are re-scored on fresh draws across the parameters' ranges, one is recommended.

- **Common random numbers.** Every candidate of the search is scored on the same list of
  (posterior draw, seed) pairs: replicate k uses parameter set k of ``resolve_params(params, R,
  seed)`` and the runner's seed k of ``seed`` (``runner.Task``), so a candidate wins because it is
  better, not luckier.
- **The search** is optuna's (TPE or NSGA-II; several objectives make it multi-objective), with the
  constraints (mean cost within the budget, sessions per week within the capacity, the share of
  replicates with harm under the bound, at least one activity) given to its ``constraints_func``.
  Candidates are asked in batches (``search.batch``) and their runs handed to ``runner.run_batch``
  together (in this process with one worker; on a Dask cluster of ``--workers`` processes kept for
  the whole search otherwise). The study lives in ``study.db`` (sqlite) in the output folder: a
  resumed search keeps every finished trial and scores again the candidates a killed session was
  scoring (marked failed, and asked again with the same values), so no trial is lost or counted twice.
- **Robust re-scoring.** The finalists (the front's candidates, best on the first objective first)
  and the programme as delivered are scored again on ``rescore_replicates`` fresh (draw, seed)
  pairs: the calibrated parameters drawn from the posterior, those the calibration left at their
  defaults drawn uniformly across their ranges (model/params.py), written to ``rescore_params.csv``
  so that ``cohesion run``/``compare --params <that file> --seed S --replicates R`` reproduce every
  figure. Do no harm is judged there, by the upper end of the 90% interval of P(harm).
"""

from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console

from calibration.posterior import POSTERIOR_PATH, load_posterior, resolve_params
from common.errors import InputError
from model.params import Params, names, ranges
from runner import Task, run_batch
from runner.batch import progress_bar

from .plan import (LOWER_IS_BETTER, Dimension, PlanFile, lower_90, metrics, plan_run, plan_to_scenario, upper_90,
                   weekly_sessions)

RESCORE_SEED_OFFSET = 1   # the re-scoring's seed is the search's + 1: fresh draws and seeds
STUDY_FILE = "study.db"


@dataclass
class Setup:
    plan: PlanFile
    population: object               # scenarios.Scenario
    delivered: object | None
    dims: list[Dimension]
    out: Path
    workers: int = 1
    scheduler: str | None = None     # a Dask scheduler (its workers kept for the whole search)
    progress: bool = True
    console: Console = field(default_factory=lambda: Console(stderr=True))

    @property
    def groups(self) -> list[str]:
        return self.population.group_names()

    @property
    def villages(self) -> list[str]:
        return self.population.village_names()


# --- running candidates -------------------------------------------------------------------------
def score(setup: Setup, scenarios: dict[int, object], params: list[Params], seed: int) -> pd.DataFrame:
    """Every candidate (id -> scenario) on the same (draw, seed) pairs: replicate k gets ``params[k]``
    and the runner's k-th seed of ``seed``. One row per run: candidate, replicate and the metrics."""
    r = len(params)
    tasks = [Task(index=i * r + k, scenario=s, params=params[k], root_seed=seed, seed_key=k, replicate=k,
                  labels={"candidate": cid}, tables=("outcomes",))
             for i, (cid, s) in enumerate(scenarios.items()) for k in range(r)]
    if not tasks:
        return pd.DataFrame(columns=["candidate", "replicate"])
    engine = "dask" if setup.scheduler else "processes"
    res = run_batch(tasks, plan_run, workers=1 if not setup.scheduler else None, progress=False, label="plan",
                    engine=engine, scheduler=setup.scheduler)
    rows = res["outcomes"]
    return metrics(rows, setup.groups, setup.villages, setup.plan.harm.tension_share)


@contextmanager
def cluster(workers: int):
    """A Dask LocalCluster of ``workers`` processes for the whole search (its address), or None for
    one worker (the runs happen in this process)."""
    if workers <= 1:
        yield None
        return
    import logging

    from distributed import LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as c:
        yield c.scheduler_address


def summarise(m: pd.DataFrame, objectives: list[str]) -> dict[str, float]:
    """Mean and 90% interval across replicates of each objective; P(harm) and its interval."""
    out: dict[str, float] = {}
    for o in [*objectives, *(x for x in ("cost", "gain", "sustained_gain") if x not in objectives)]:
        x = m[o].to_numpy(float)
        out[o], out[f"{o}_p05"], out[f"{o}_p95"] = float(np.nanmean(x)), *map(float, np.nanquantile(x, [0.05, 0.95]))
    k, n = int(m.harm.sum()), len(m)
    out.update(p_harm=k / n if n else np.nan, p_harm_low=lower_90(k, n), p_harm_high=upper_90(k, n), runs=n)
    return out


# --- the study ----------------------------------------------------------------------------------
def plan_fingerprint(plan: PlanFile, dims: list[Dimension]) -> str:
    """What a resumed search must share with the one in the folder: the plan and its search space
    (not the number of trials, which a resumed search may raise)."""
    body = plan.model_dump(mode="json")
    body["search"].pop("trials", None)
    text = json.dumps([body, [(d.name, list(d.values)) for d in dims]], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def make_sampler(plan: PlanFile, seed: int):
    import warnings

    import optuna

    with warnings.catch_warnings():  # constraints_func: deprecated in optuna 5 (still there), kept for optuna 4
        warnings.simplefilter("ignore")
        return _sampler(plan, seed)


def _sampler(plan: PlanFile, seed: int):
    import optuna

    def constraints(trial) -> list[float]:
        return list(trial.user_attrs.get("constraints", [1.0]))

    if plan.search.sampler == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, constraints_func=constraints,
                                             population_size=max(8, plan.search.batch))
    return optuna.samplers.TPESampler(seed=seed, constraints_func=constraints, multivariate=True,
                                      n_startup_trials=max(10, plan.search.batch), group=True)


def open_study(setup: Setup, resume: bool, seed: int):
    """The study in ``out/study.db``: continued with ``resume`` (the same plan and space only; stale
    trials of a killed session marked failed and their candidates asked again), else started afresh."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    plan = setup.plan
    setup.out.mkdir(parents=True, exist_ok=True)
    storage = f"sqlite:///{(setup.out / STUDY_FILE).resolve()}"
    directions = ["minimize" if o in LOWER_IS_BETTER else "maximize" for o in plan.objectives]
    existing = [s.study_name for s in optuna.get_all_study_summaries(storage)]
    if plan.name in existing and not resume:
        optuna.delete_study(study_name=plan.name, storage=storage)
    study = optuna.create_study(study_name=plan.name, storage=storage, directions=directions,
                                sampler=make_sampler(plan, seed), load_if_exists=True)
    print_ = study.user_attrs.get("plan")
    fp = plan_fingerprint(plan, setup.dims)
    if print_ is None:
        study.set_user_attr("plan", fp)
    elif print_ != fp:
        raise InputError(setup.out / STUDY_FILE, [f"--resume: the study there was made from another plan or search "
                                                  f"space ({print_}, now {fp}); run without --resume to start afresh, "
                                                  "or choose another --out"])
    from optuna.trial import TrialState

    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING)):
        if t.state == TrialState.RUNNING:
            study.enqueue_trial(t.params, user_attrs={"retry_of": t.number})
            study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
    return study


def distributions(dims: list[Dimension]) -> dict:
    from optuna.distributions import IntDistribution

    return {d.name: IntDistribution(0, len(d.values) - 1) for d in dims if len(d.values) > 1}


def values_of(trial_params: dict, dims: list[Dimension]) -> dict:
    """A trial's indices as the dimensions' values (fixed dimensions at their one value)."""
    return {d.name: d.values[int(trial_params[d.name])] if d.name in trial_params else d.values[0] for d in dims}


def completed(study) -> list:
    from optuna.trial import TrialState

    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


WORST = {"acceptance_least_group": 0.0, "acceptance_worst_village": 0.0, "wellbeing": 14.0, "sustained_gain": -1.0}


def _tell(study, trial, setup: Setup, m: pd.DataFrame | None, why: str | None, sessions: float) -> None:
    """Give optuna a scored candidate (objective means, constraints: cost over budget, P(harm) over its
    bound, sessions over capacity, no activity at all; each <= 0 when met) or one not run (``why``)."""
    plan = setup.plan
    over_sessions = sessions / plan.session_capacity - 1
    if m is None or not len(m):
        values = [10 * plan.budget if o == "cost" else WORST[o] for o in plan.objectives]
        trial.set_user_attr("skipped", why or "every run failed")
        trial.set_user_attr("constraints", [1.0, 1.0, max(over_sessions, 1e-9 if why else 1.0), 1.0])
    else:
        s = summarise(m, plan.objectives)
        values = [s[o] for o in plan.objectives]
        trial.set_user_attr("summary", s)
        trial.set_user_attr("constraints", [s["cost"] / plan.budget - 1, s["p_harm"] - plan.harm.max_probability,
                                            over_sessions, -1.0])
    trial.set_user_attr("max_sessions", float(sessions))
    study.tell(trial, values)


def run_search(setup: Setup, resume: bool) -> object:
    """Ask, score and tell until the study holds ``search.trials`` complete trials; a bar shows it."""
    plan, s = setup.plan, setup.plan.search
    study = open_study(setup, resume, s.seed)
    crn, _ = resolve_params(s.params, s.replicates, s.seed)
    dists = distributions(setup.dims)
    done = len(completed(study))
    bar = progress_bar("plan search", setup.console) if setup.progress else None
    if bar is not None:
        bar.start()
        job = bar.add_task("plan search", total=s.trials, completed=done, rate="")
    try:
        while done < s.trials:
            trials = [study.ask(dists) for _ in range(min(s.batch, s.trials - done))]
            scenarios, why, sessions = {}, {}, {}
            for t in trials:
                sc = plan_to_scenario(values_of(t.params, setup.dims), plan, setup.population,
                                      name=f"{plan.name}-trial{t.number}")
                sessions[t.number] = float(weekly_sessions(sc).max())
                if not sc.programme:
                    why[t.number] = "no activity runs"
                elif sessions[t.number] > plan.session_capacity:
                    why[t.number] = f"{sessions[t.number]:g} sessions in a week, over the capacity"
                else:
                    scenarios[t.number] = sc
            m = score(setup, scenarios, crn, s.seed)
            for t in trials:
                _tell(study, t, setup, m[m.candidate == t.number] if t.number in scenarios else None,
                      why.get(t.number), sessions[t.number])
            done = len(completed(study))
            if bar is not None:
                bar.update(job, completed=done, rate=f"{len(scenarios) * s.replicates} runs")
    finally:
        if bar is not None:
            bar.stop()
    return study


# --- the front, the finalists, the re-scoring ---------------------------------------------------
def feasible(t) -> bool:
    return all(c <= 0 for c in t.user_attrs.get("constraints", [1.0]))


def violation(t) -> float:
    return float(sum(max(c, 0.0) for c in t.user_attrs.get("constraints", [1.0])))


def pareto_front(trials: list, objectives: list[str]) -> list:
    """The feasible trials no other feasible trial beats on every objective (and strictly on one)."""
    ok = [t for t in trials if feasible(t)]
    sign = np.array([1.0 if o in LOWER_IS_BETTER else -1.0 for o in objectives])
    loss = np.array([np.asarray(t.values) * sign for t in ok]).reshape(len(ok), len(objectives))
    keep = [i for i in range(len(ok))
            if not any((loss[j] <= loss[i]).all() and (loss[j] < loss[i]).any() for j in range(len(ok)) if j != i)]
    return [ok[i] for i in keep]


def finalists(study, plan: PlanFile) -> tuple[list, bool]:
    """Up to ``search.finalists`` trials of the front, spread from the best on the first objective to
    the cheapest; if no trial met the constraints, the ones that came closest (and False)."""
    trials = completed(study)
    front = pareto_front(trials, plan.objectives)
    if not front:
        ran = [t for t in trials if "summary" in t.user_attrs]
        return sorted(ran, key=lambda t: (violation(t), t.number))[:plan.search.finalists], False
    first = plan.objectives[0]
    sign = 1.0 if first in LOWER_IS_BETTER else -1.0
    front = sorted(front, key=lambda t: (sign * t.values[0], t.number))
    n = min(plan.search.finalists, len(front))
    picks = sorted(set(np.round(np.linspace(0, len(front) - 1, n)).astype(int)))
    return [front[i] for i in picks], True


def rescore_params(setup: Setup) -> tuple[list[Params], Path, int]:
    """Fresh parameter sets for the re-scoring, written to ``rescore_params.csv`` (a posterior table:
    every parameter, equal weights) and read back as ``cohesion compare --params`` reads it."""
    s = setup.plan.search
    seed = s.seed + RESCORE_SEED_OFFSET
    n = s.rescore_replicates
    drawn, _ = resolve_params(s.params, n, seed)
    calibrated = ([c for c in load_posterior(POSTERIOR_PATH).columns if c != "weight"]
                  if s.params == "posterior" and POSTERIOR_PATH.is_file() else [])
    if s.params not in ("posterior", "defaults"):
        calibrated = [c for c in load_posterior(s.params).columns if c != "weight"]
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(3,)))
    rows = []
    for p in drawn:
        row = p.as_dict()
        if s.robust:
            for name, (low, high) in ranges().items():
                if name not in calibrated:
                    row[name] = float(rng.uniform(low, high))
        rows.append({k: row[k] for k in names()} | {"weight": 1.0})
    path = setup.out / "rescore_params.csv"
    pd.DataFrame(rows).to_csv(path, index=False, float_format="%.17g")
    params, _ = resolve_params(str(path), n, seed)
    return params, path, seed


def rescore(setup: Setup, chosen: list) -> tuple[pd.DataFrame, dict[int, object], Path, int]:
    """The finalists (and the programme as delivered, candidate -1) on the re-scoring's fresh pairs."""
    params, path, seed = rescore_params(setup)
    scenarios = {t.number: plan_to_scenario(values_of(t.params, setup.dims), setup.plan, setup.population,
                                            name=f"{setup.plan.name}-trial{t.number}") for t in chosen}
    if setup.delivered is not None:
        scenarios[-1] = setup.delivered
    return score(setup, scenarios, params, seed), scenarios, path, seed
