"""ABC-SMC calibration with pyabc: priors, distance, sampler, budgets, resume.

- Priors: uniform over each calibrated parameter's declared range (``model.params.ranges``).
- Distance: the Euclidean norm of (simulated - observed) / sampling error over the reported
  targets (``TargetsFile.weights``), so a target measured on 27 respondents counts less than
  one measured on 150. pyabc's ``PNormDistance`` with fixed weights.
- Tolerance: pyabc's default, the median distance of the previous generation.
- Simulations: ``calibration.simulate.survey_at_endline`` on the project's ``Task``; pyabc's
  samplers spread them over local processes (default) or a Dask cluster (``scheduler``).
- Resume: the run lives in ``<out>/abc.db`` (pyabc's SQLite history). A finished generation
  is never lost: starting again with the same name loads the history and goes on from the
  next generation (``ABCSMC.load``). The results an earlier session wrote from it (the files
  its ``summary.json`` lists, and the summary) are removed and the folder marked ``STALE`` as
  soon as a session starts (``runner.results.mark_stale``); the session writes them anew
  when it finishes.
- Processes: the local sampler's workers exit when the calibration's process is gone, also
  when it was killed with SIGKILL (``OrphanFreeSampler``).
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import os
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyabc
from pydantic import Field, ValidationError

from runner import Task, default_workers, results
from common.errors import InputError, from_validation_error, read_yaml
from model.params import Params, names, ranges
from common.strict import Strict
from scenarios.schema import Scenario

from .posterior import posterior_medians, weighted_quantile
from .simulate import survey_statistics
from .targets import TargetsFile

PARAMETERS_PATH = Path(__file__).with_name("parameters.yaml")


@dataclass(frozen=True)
class Budget:
    """How much simulation a calibration may spend; it stops at the first limit reached."""

    population: int          # accepted particles per generation
    generations: int         # at most this many generations
    max_simulations: int     # at most this many simulations in all
    max_minutes: float       # and at most this long (no generation is started that would not end in time)
    min_acceptance: float    # stop when a generation accepts fewer than this share
    predictive: int          # posterior-predictive runs for the fit table


BUDGETS = {
    "tiny": Budget(population=20, generations=2, max_simulations=200, max_minutes=1, min_acceptance=0.0, predictive=8),
    "small": Budget(population=60, generations=6, max_simulations=1000, max_minutes=1.5, min_acceptance=0.05,
                    predictive=20),
    "default": Budget(population=300, generations=12, max_simulations=10000, max_minutes=24, min_acceptance=0.03,
                      predictive=200),
    "large": Budget(population=1000, generations=20, max_simulations=60000, max_minutes=240, min_acceptance=0.02,
                    predictive=400),
}


class ParameterChoice(Strict):
    calibrated: dict[str, str] = Field(min_length=1, description="parameter -> why the targets identify it")
    fixed_reason: str = Field(min_length=1, description="why the other parameters stay at their defaults")


def load_parameter_choice(path: str | Path = PARAMETERS_PATH) -> ParameterChoice:
    """Which parameters are calibrated; unknown names are refused with the allowed ones."""
    try:
        choice = ParameterChoice.model_validate(read_yaml(path))
    except ValidationError as err:
        raise from_validation_error(path, err) from None
    unknown = [k for k in choice.calibrated if k not in names()]
    if unknown:
        raise InputError(path, [f"calibrated: {unknown} are not parameters of the model; allowed: {', '.join(names())}"])
    return choice


def prior(calibrated: list[str]) -> pyabc.Distribution:
    """Uniform prior over each parameter's declared range."""
    r = ranges()
    return pyabc.Distribution(**{k: pyabc.RV("uniform", r[k][0], r[k][1] - r[k][0]) for k in calibrated})


class SurveyModel:
    """pyabc's model: parameters in, the simulated targets' statistics out.

    A plain class (not a closure) so that it pickles to Dask workers.
    """

    def __init__(self, scenario: Scenario, keys: list[str], root_seed: int, base: Params | None = None):
        self.scenario = scenario
        self.keys = keys
        self.root_seed = root_seed
        self.base = base or Params()

    def __call__(self, pars: dict) -> dict[str, float]:
        params = self.base.with_values(**{k: float(v) for k, v in pars.items()})
        # pyabc seeds numpy in each worker; the run's seed comes from there
        key = int(np.random.randint(0, 2**31 - 1))
        stats = survey_statistics(Task(index=0, scenario=self.scenario, params=params, root_seed=self.root_seed,
                                       seed_key=key), self.keys)
        # nobody of a group in the sample: no answer, so the particle is rejected
        return {k: (v if np.isfinite(v) else 1e6) for k, v in stats.items()}


def make_sampler(workers: int | None = None, scheduler: str | None = None):
    """Local processes by default; a Dask cluster when a scheduler address is given."""
    if scheduler:
        from dask.distributed import Client
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise InputError("--scheduler", [f"cannot reach the Dask scheduler at {scheduler}: {exc}"]) from None
        return pyabc.sampler.DaskDistributedSampler(dask_client=client, batch_size=4)
    workers = workers or default_workers()
    if workers == 1:
        return pyabc.sampler.SingleCoreSampler()
    return OrphanFreeSampler(n_procs=workers)


class OrphanFreeSampler(pyabc.sampler.MulticoreEvalParallelSampler):
    """pyabc's multicore sampler whose worker processes exit when the calibration's process is gone.

    pyabc forks its workers for each generation and stops them itself when the generation ends or
    the process exits normally; a process killed with SIGKILL cannot, and its workers would go on
    sampling. Each worker runs ``simulate_one`` (pyabc's public sampler interface), wrapped here
    so that its first call in a worker arranges the worker's exit with its parent."""

    def sample_until_n_accepted(self, n, simulate_one, t, **kwargs):
        return super().sample_until_n_accepted(n, ExitWithParent(simulate_one, os.getpid()), t, **kwargs)


class ExitWithParent:
    """``fn``, and in any process other than ``parent`` (a forked worker), first ``exit_with_parent``."""

    def __init__(self, fn: Callable, parent: int):
        self.fn, self.parent, self.armed_in = fn, parent, parent

    def __call__(self, *args, **kwargs):
        if self.armed_in != os.getpid():
            self.armed_in = os.getpid()
            exit_with_parent(self.parent)
        return self.fn(*args, **kwargs)


PR_SET_PDEATHSIG = 1   # linux/prctl.h


def exit_with_parent(parent: int) -> None:
    """Make this process exit when ``parent`` does: on Linux the kernel sends it SIGKILL when its
    parent dies (``prctl(PR_SET_PDEATHSIG)``); elsewhere a daemon thread polls ``os.getppid()``.
    A parent already gone by then means exiting at once."""
    armed = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent:
        os._exit(1)
    if not armed:
        threading.Thread(target=_poll_parent, args=(parent,), daemon=True, name="exit-with-parent").start()


def _poll_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


@dataclass
class Generation:
    """What the progress line shows after each generation."""

    t: int
    epsilon: float
    accepted: int
    simulations: int          # in this generation
    total_simulations: int    # in the whole run so far (also across resumes)
    acceptance_rate: float
    seconds: float


def fingerprint(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def quiet_pyabc() -> None:
    for name in ("ABC", "Sampler", "Distance", "Epsilon", "Acceptor", "History", "pyabc", "Data_plot",
                 "ABC.History", "ABC.Sampler", "ABC.Distance", "ABC.Epsilon", "ABC.Acceptor"):
        logging.getLogger(name).setLevel(logging.WARNING)


def calibrate(scenario: Scenario, targets: TargetsFile, calibrated: list[str], budget: Budget, out: Path, *,
              seed: int = 7, workers: int | None = None, scheduler: str | None = None,
              restart: bool = False, config: dict | None = None, base: Params | None = None,
              on_generation: Callable[[Generation], None] | None = None) -> pyabc.History:
    """Run (or resume) ABC-SMC into ``out/abc.db``; return pyabc's history.

    ``config`` describes what is being fitted (targets, scenario, parameters, budget); a run is
    resumed only if it was started with the same description, otherwise it is refused.
    ``base``: values of the parameters not calibrated (default: model/params.py's defaults).
    """
    base = base or Params()
    quiet_pyabc()
    out.mkdir(parents=True, exist_ok=True)
    config = {**(config or {}), "observed": targets.observed(), "weights": targets.weights(),
              "calibrated": calibrated, "scenario": scenario.model_dump(mode="json"), "seed": seed}
    if base != Params():
        config["base"] = base.as_dict()
    resume = prepare_folder(out, config, restart)
    results.mark_stale(out, (
        f"The results in this folder are being remade: a calibration session started "
        f"{datetime.now(UTC).isoformat(timespec='seconds')} by `{results.command_line()}` writes them when it "
        "finishes.\nIf it was interrupted, the same command continues it (the finished generations are kept in "
        "abc.db)."))
    np.random.seed(seed)
    abc = make_abc(scenario, targets, calibrated, budget, seed=seed, base=base, workers=workers,
                   scheduler=scheduler)
    if resume:
        abc.load(f"sqlite:///{out / 'abc.db'}", 1)
    else:
        abc.new(f"sqlite:///{out / 'abc.db'}", targets.observed())
    run_generations(abc, budget, on_generation)
    return abc.history


def stored_history(db: Path) -> tuple[int, int]:
    """Finished generations (t >= 0) in pyabc's history ``db`` and the simulations it counts (each
    generation's, and the prior sample's, once). (0, 0) for a missing history or one cut short
    before its first generation was stored (pyabc writes a generation in one transaction)."""
    if not db.is_file():
        return 0, 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            gens = con.execute("SELECT COUNT(*) FROM populations WHERE t >= 0").fetchone()[0]
            sims = con.execute("SELECT COALESCE(SUM(nr_samples), 0) FROM populations").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0, 0
    return (int(gens), int(sims)) if gens else (0, 0)


def prepare_folder(out: Path, config: dict, restart: bool) -> bool:
    """Get ``out`` ready for the run described by ``config``; return whether it resumes one.

    ``--restart`` discards the history; a history is resumed only with its ``config.json`` of the
    same description (fingerprint), which is (re)written here, and only if it holds a finished
    generation (a history killed before its first one is started again: nothing is lost).

    Raises
    ------
    InputError
        when ``out`` holds a calibration of other targets, scenario, parameters or seed (naming
        what differs).
    """
    db = out / "abc.db"
    config_path = out / "config.json"
    if restart:
        db.unlink(missing_ok=True)
    resume = stored_history(db)[0] > 0 and config_path.is_file()
    if resume:
        before = json.loads(config_path.read_text())
        if before.get("fingerprint") != fingerprint(config):
            now = json.loads(json.dumps(config, default=str))
            why = results.differences(before, now, tuple(k for k in dict.fromkeys([*before, *now]) if k != "fingerprint"))
            raise InputError(config_path, [("this results folder holds a calibration of other targets, scenario, "
                                            "parameters or seed; use another --name, or --restart to start over. "
                                            "What differs:"), *why[:12],
                                           *([f"... and {len(why) - 12} more"] if len(why) > 12 else [])])
    elif db.is_file():
        db.unlink()
    config_path.write_text(json.dumps({"fingerprint": fingerprint(config), **config}, indent=1, default=str))
    return resume


def make_abc(scenario: Scenario, targets: TargetsFile, calibrated: list[str], budget: Budget, *, seed: int,
             base: Params, workers: int | None, scheduler: str | None) -> pyabc.ABCSMC:
    """pyabc's ABC-SMC for these targets: the survey model, uniform priors, the weighted distance
    and the sampler (not yet attached to a history)."""
    return pyabc.ABCSMC(
        models=SurveyModel(scenario, list(targets.observed()), root_seed=seed, base=base),
        parameter_priors=prior(calibrated),
        distance_function=pyabc.distance.PNormDistance(p=2, fixed_weights=targets.weights()),
        population_size=budget.population,
        sampler=make_sampler(workers, scheduler),
    )


def run_generations(abc: pyabc.ABCSMC, budget: Budget,
                    on_generation: Callable[[Generation], None] | None = None) -> None:
    """The generations the budget still allows, one at a time as pyabc's ``ABCSMC.run`` would run
    them, so that progress shows after each; then the history is closed. When the budget is
    already spent (a finished run resumed), none is run. The sampler is stopped in either case."""
    done = abc.history.max_t + 1
    remaining = budget.generations - done
    if remaining <= 0 or (done > 0 and abc.history.total_nr_simulations >= budget.max_simulations):
        abc.sampler.stop()
        return
    session_start = time.perf_counter()
    t = abc.initialize_components_before_run(
        minimum_epsilon=0.0, max_nr_populations=remaining, min_acceptance_rate=budget.min_acceptance,
        max_total_nr_simulations=budget.max_simulations, max_walltime=timedelta(minutes=budget.max_minutes),
        min_eps_diff=0.0)
    try:
        while True:
            start = time.perf_counter()
            ret = abc.run_generation(t=t)
            if not ret["successful"]:
                break
            if on_generation:
                on_generation(generation_done(abc, t, budget, ret, start))
            if abc.check_terminate(t=t, acceptance_rate=ret["acceptance_rate"]):
                break
            # pyabc checks the wall time between generations only: do not start one that would
            # not finish in time, judging by the one just done (the next one is usually slower)
            elapsed = time.perf_counter() - session_start
            if elapsed + 1.25 * (time.perf_counter() - start) > 60 * budget.max_minutes:
                break
            t += 1
    finally:
        abc.history.done()
        abc.sampler.stop()


def generation_done(abc: pyabc.ABCSMC, t: int, budget: Budget, ret: dict, start: float) -> Generation:
    """What the progress line shows of generation ``t``, started at ``start`` (perf_counter) and
    just finished."""
    pops = abc.history.get_all_populations()
    row = pops[pops.t == t].iloc[0]
    return Generation(t=t, epsilon=float(row.epsilon), accepted=budget.population, simulations=int(row.samples),
                      total_simulations=int(abc.history.total_nr_simulations),
                      acceptance_rate=float(ret["acceptance_rate"]), seconds=time.perf_counter() - start)


def posterior_table(history: pyabc.History) -> pd.DataFrame:
    """The last generation: one row per particle, the calibrated parameters and ``weight``."""
    df, w = history.get_distribution(m=0, t=history.max_t)
    df = df.reset_index(drop=True)
    df.columns.name = None
    df["weight"] = w / w.sum()
    return df


def generations_table(history: pyabc.History) -> pd.DataFrame:
    pops = history.get_all_populations()
    pops = pops[pops.t >= -1].copy()  # t = -1: the prior sample pyabc draws to set the first epsilon
    pops["acceptance_rate"] = pops["particles"] / pops["samples"]
    pops["total_simulations"] = pops["samples"].cumsum()
    return pops[["t", "epsilon", "particles", "samples", "acceptance_rate", "total_simulations"]]


def credible_intervals(post: pd.DataFrame, level: float = 0.9) -> pd.DataFrame:
    """Weighted median and central ``level`` interval of each parameter, with its prior range."""
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    r = ranges()
    rows = []
    w = post["weight"].to_numpy()
    medians = posterior_medians(post)
    for k in post.columns.drop("weight"):
        lo, hi = weighted_quantile(post[k].to_numpy(), w, np.array([lo_q, hi_q]))
        med = medians[k]
        p_lo, p_hi = r[k]
        x, edge = post[k].to_numpy(), EDGE_SHARE * (p_hi - p_lo)
        at_low, at_high = w[x <= p_lo + edge].sum() / w.sum(), w[x >= p_hi - edge].sum() / w.sum()
        rows.append({"parameter": k, "default": getattr(Params(), k), "prior_low": p_lo, "prior_high": p_hi,
                     "median": med, "low": lo, "high": hi,
                     "width_vs_prior": (hi - lo) / (level * (p_hi - p_lo)),
                     "share_outer_low": at_low, "share_outer_high": at_high,
                     "piles_at_edge": bool(max(at_low, at_high) > EDGE_LIMIT)})
    return pd.DataFrame(rows)


EDGE_SHARE = 0.05
"""The outer part of a parameter's range, at each end, where posterior weight is counted."""
EDGE_LIMIT = 0.10
"""More posterior weight than this in an outer 5% of the range is a structural finding (issue 12's
bound): the data push the parameter to where its declared range ends, so the model needs a
mechanism there, not a wider range."""


def budget_dict(budget: Budget) -> dict:
    return asdict(budget)
