"""Sensitivity sweeps: which parameters and design choices move the outcomes (SALib).

A sweep file (experiments/sweeps/*.yaml) declares *what* varies and *what* is measured:

- ``scenario``: the scenario file (relative to the sweep file, or to the working folder);
- ``parameters``: model parameters (model/params.py) with bounds; ``{}`` takes the declared
  range (``model.params.ranges()``), and bounds outside it are refused. A catalogue channel
  strength is a parameter too, ``channel.<activity>.<channel>`` (model/activities.py,
  ``strength_ranges``: 0.5x-1.5x its catalogue value), for activities of the scenario's programme;
- ``design``: programme design parameters, each a transformation (``change``: start_week,
  shift_weeks, duration_scale, places_scale, places_share, handover_share) of the scenario's
  programme entries of the named activities, as scenarios/design.py defines them;
- ``outcomes``: population measures at the endline week (the outcome registry, model/outcomes.py),
  so runs stop there;
- ``seeds``: ``block`` (default: every run of one Saltelli block or Morris trajectory shares a
  seed, so differences inside it are due to the factors, not to chance; the seed still varies
  across blocks), ``run`` (every run its own seed), or ``common`` (one seed for all).

Sampling and analysis go through SALib's ``ProblemSpec``: Sobol (Saltelli's scheme, N a power
of two; second-order indices when asked) or Morris. Runs go through the runner
(runner/), so a sweep streams to disk, resumes and runs on Dask like any batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from pydantic import Field, ValidationError, field_validator, model_validator  # noqa: E402
from SALib import ProblemSpec  # noqa: E402

from model import Params, outcomes  # noqa: E402
from model.activities import catalogue  # noqa: E402
from common.errors import InputError, from_validation_error, is_file, read_yaml  # noqa: E402
from model.params import addressable_ranges as param_ranges  # noqa: E402
from model.activities import STRENGTH_PREFIX, strength_problem  # noqa: E402
from model.params import REMOVED  # noqa: E402
from model.params import names as param_names  # noqa: E402
from common.strict import Strict, each_once  # noqa: E402
from scenarios import load_scenario  # noqa: E402
from scenarios.design import CHANGES, DesignFactor, apply_design, finite_bounds, ordered  # noqa: E402,F401
from scenarios.schema import Scenario, check_safe_name  # noqa: E402

from runner import Task, results, run, run_batch  # noqa: E402

Method = Literal["sobol", "morris"]


# --- the sweep file -------------------------------------------------------------------------------
class ParameterFactor(Strict):
    bounds: tuple[float, float] | None = Field(default=None, description="default: the declared range")

    @field_validator("bounds")
    @classmethod
    def _legal(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None:
            finite_bounds(v)
            if ordered(v):
                raise ValueError(ordered(v))
        return v


class SweepFile(Strict):
    name: str
    description: str = ""
    scenario: str
    outcomes: list[str] = Field(min_length=1)
    parameters: dict[str, ParameterFactor | None] = Field(default_factory=dict)
    design: dict[str, DesignFactor] = Field(default_factory=dict)
    seeds: Literal["block", "run", "common"] = "block"
    seed: int = Field(default=20250325, ge=0)
    second_order: bool = False
    morris_levels: int = Field(default=4, ge=2)

    @field_validator("name")
    @classmethod
    def _safe_name(cls, v: str) -> str:
        return check_safe_name(v)

    @field_validator("outcomes")
    @classmethod
    def _once(cls, v: list[str]) -> list[str]:
        return each_once(v, "outcome")

    @field_validator("parameters")
    @classmethod
    def _known(cls, v: dict[str, ParameterFactor | None]) -> dict[str, ParameterFactor | None]:
        problems = []
        for name, f in v.items():
            if name.startswith(STRENGTH_PREFIX + "."):
                if strength_problem(name):
                    problems.append(strength_problem(name))
                    continue
            elif name not in param_names():
                why = f" ({name}: {REMOVED[name]})" if name in REMOVED else ""
                problems.append(f"'{name}' is not a model parameter{why}; allowed: {', '.join(param_names())}, "
                                f"or a channel strength {STRENGTH_PREFIX}.<activity>.<channel>")
                continue
            low, high = param_ranges()[name]
            if f is not None and f.bounds is not None:
                lo, hi = f.bounds
                if not low <= lo < hi <= high:
                    problems.append(f"{name}.bounds {[lo, hi]} must be increasing and inside the declared range "
                                    f"[{low}, {high}] (model/params.py)")
        if problems:
            raise ValueError(" | ".join(problems))
        return v


@dataclass(frozen=True)
class Factor:
    """One dimension of the sweep: a model parameter, a design change, or anything (tests)."""

    name: str
    bounds: tuple[float, float]
    kind: str = "parameter"


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: the factors, outcomes and scenario it runs on."""

    spec: SweepFile
    path: Path
    scenario: Scenario
    factors: tuple[Factor, ...]

    @property
    def outcomes(self) -> tuple[str, ...]:
        return tuple(self.spec.outcomes)


def _split(problems: list[str]) -> list[str]:
    out = []
    for p in problems:
        head, _, rest = p.partition(": ")
        out += [f"{head}: {r}" for r in rest.split(" | ")] if " | " in rest else [p]
    return out


def _strengths_outside(spec: SweepFile, present: set[str], scen_path: Path) -> list[str]:
    """Channel strengths of activities the scenario's programme does not run (they would change nothing)."""
    return [f"parameters.{name}: activity '{name.split('.')[1]}' is not in the programme of {scen_path} (the "
            f"strength would change nothing); it has: {', '.join(sorted(present))}"
            for name in spec.parameters
            if name.startswith(STRENGTH_PREFIX + ".") and name.split(".")[1] not in present]


def load_sweep(path: str | Path) -> Sweep:
    """Read and check a sweep file; every problem names the field and what is allowed.

    Raises
    ------
    InputError
        naming the file and each field at fault.
    """
    path = Path(path)
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise InputError(path, ["(top level): expected a mapping with name, scenario, outcomes, parameters, design"])
    raw.setdefault("name", path.stem)
    try:
        spec = SweepFile.model_validate(raw)
    except ValidationError as err:
        raise InputError(path, _split(from_validation_error(path, err).problems)) from None
    candidates = [path.parent / spec.scenario, Path(spec.scenario)]
    scen_path = next((c for c in candidates if is_file(c)), None)
    if scen_path is None:
        tried = ", ".join(map(str, candidates))
        raise InputError(path, [f"scenario: file '{spec.scenario}' not found (tried {tried})"])
    scenario = load_scenario(scen_path)
    problems = []
    known = outcomes.measure_names(scenario.group_names(), scenario.village_names())
    for o in spec.outcomes:
        if o not in known:
            problems.append(f"outcomes: unknown outcome '{o}'; allowed: {', '.join(known)}")
    present = {e.activity for e in scenario.programme}
    problems += _strengths_outside(spec, present, scen_path)
    for name, d in spec.design.items():
        if ordered(d.bounds):   # SALib refuses them ("Bounds are not legal")
            problems.append(f"design.{name}.bounds: {ordered(d.bounds)}")
            continue
        missing = [a for a in d.activities + d.versus if a not in present]
        if missing:
            problems.append(f"design.{name}.activities: {missing} not in the programme of {scen_path}; "
                            f"it has: {', '.join(sorted(present))}")
            continue
        if d.change == "handover_share":
            no = [a for a in d.activities if not catalogue()[a].can_hand_over]
            if no:
                problems.append(f"design.{name}: {no} cannot be handed over")
                continue
        for bound in d.bounds:
            try:
                apply_design(scenario, {name: d}, {name: bound})
            except ValueError as exc:
                problems.append(f"design.{name}.bounds: at {bound} the scenario is invalid: {exc}")
    clash = set(spec.parameters) & set(spec.design)
    if clash:
        problems.append(f"design: names {sorted(clash)} are also under parameters; use distinct names")
    if len(spec.parameters) + len(spec.design) < 2:
        problems.append("parameters/design: a sweep needs at least two factors")
    if problems:
        raise InputError(path, problems)
    factors = [Factor(n, (f.bounds if f is not None and f.bounds is not None else param_ranges()[n]))
               for n, f in spec.parameters.items()]
    factors += [Factor(n, tuple(d.bounds), "design") for n, d in spec.design.items()]
    return Sweep(spec, path, scenario, tuple(factors))


# --- one run of the sweep -----------------------------------------------------------------------
@dataclass(frozen=True)
class SamplePoint:
    """One row of the sample: the factors' values and the seed key of its block (``seeds``)."""

    index: int
    values: tuple[tuple[str, float], ...]
    root_seed: int
    seed_key: int


@dataclass(frozen=True)
class ModelTasks:
    """Makes the runner's task of a model sweep at one sample point: parameters set, design
    changes applied, stopped at the endline week, only the outcomes kept."""

    scenario: Scenario
    design: tuple[tuple[str, DesignFactor], ...]
    parameters: tuple[str, ...]

    def __call__(self, point: SamplePoint) -> Task:
        values = dict(point.values)
        return Task(index=point.index, scenario=self.scenario,
                    params=Params().with_values(**{k: values[k] for k in self.parameters}),
                    root_seed=point.root_seed, seed_key=point.seed_key, replicate=point.seed_key,
                    labels={"seed_key": point.seed_key, **values}, design=self.design,
                    changes=tuple((k, values[k]) for k, _ in self.design), stop="endline", tables=("outcomes",))


def evaluate_model(task: Task) -> dict[str, pd.DataFrame]:
    """One sample point's run (``runner.run``): its outcomes at the endline week, one row."""
    row = run(task)["outcomes"]
    return {"runs": row.rename(columns=lambda c: c.removeprefix("endline.")).drop(
        columns=[c for c in row.columns if c.startswith("baseline.")] + ["scenario", "replicate"])}


# --- the pipeline: sample, run, analyse -----------------------------------------------------------
def problem(factors: tuple[Factor, ...] | list[Factor], outcomes: tuple[str, ...] | list[str]) -> ProblemSpec:
    return ProblemSpec({"names": [f.name for f in factors], "bounds": [list(f.bounds) for f in factors],
                        "outputs": list(outcomes)})


def block_size(method: Method, d: int, second_order: bool) -> int:
    """Rows of one Saltelli block (Sobol) or one trajectory (Morris), in SALib's sample order."""
    if method == "sobol":
        return 2 * d + 2 if second_order else d + 2
    return d + 1


def check_n(method: Method, n: int) -> None:
    """Refuse a sample size the method cannot use, before anything runs."""
    if n < 2:
        allowed = ("a power of two, at least 2 (e.g. 64, 512 or 1024)" if method == "sobol"
                   else "a whole number of trajectories, at least 2")
        raise InputError("--n", [f"{n} is too small; allowed for {method}: {allowed}"])
    if method == "sobol" and n & (n - 1):
        lower = 1 << (n.bit_length() - 1)
        raise InputError("--n", [f"{n}: Sobol sampling needs a power of two (e.g. {lower} or {2 * lower})"])


def sample(sp: ProblemSpec, method: Method, n: int, seed: int, second_order: bool, levels: int) -> np.ndarray:
    if method == "sobol":
        sp.sample_sobol(n, calc_second_order=second_order, seed=seed)
    elif method == "morris":
        sp.sample_morris(n, num_levels=levels, seed=seed)
    else:
        raise InputError("--method", [f"unknown method '{method}'; allowed: sobol, morris"])
    return sp.samples


def seed_keys(rows: int, policy: str, block: int) -> np.ndarray:
    if policy == "block":
        return np.arange(rows) // block
    if policy == "run":
        return np.arange(rows)
    return np.zeros(rows, dtype=int)


def analyse(sp: ProblemSpec, method: Method, y: np.ndarray, seed: int, second_order: bool,
            levels: int) -> dict[str, pd.DataFrame]:
    """Indices with 95% confidence intervals (bootstrap, SALib), as tables."""
    outputs = sp["outputs"]
    sp.set_results(y[:, 0] if len(outputs) == 1 else y)
    names = sp["names"]
    if method == "sobol":
        sp.analyze_sobol(calc_second_order=second_order, num_resamples=200, conf_level=0.95, seed=seed)
    else:
        sp.analyze_morris(num_resamples=200, conf_level=0.95, num_levels=levels, seed=seed)
    res = sp.analysis if len(outputs) > 1 else {outputs[0]: sp.analysis}
    rows, pairs = [], []
    for out in outputs:
        r = res[out]
        for i, f in enumerate(names):
            if method == "sobol":
                rows.append({"outcome": out, "factor": f, "S1": r["S1"][i], "S1_conf": r["S1_conf"][i],
                             "ST": r["ST"][i], "ST_conf": r["ST_conf"][i]})
            else:
                rows.append({"outcome": out, "factor": f, "mu": r["mu"][i], "mu_star": r["mu_star"][i],
                             "sigma": r["sigma"][i], "mu_star_conf": r["mu_star_conf"][i]})
        if method == "sobol" and second_order:
            for i in range(len(names)):
                for j in range(i + 1, len(names)):
                    pairs.append({"outcome": out, "factor_i": names[i], "factor_j": names[j],
                                  "S2": r["S2"][i, j], "S2_conf": r["S2_conf"][i, j]})
    out = {"indices": pd.DataFrame(rows)}
    if pairs:
        out["second_order"] = pd.DataFrame(pairs)
    return out


@dataclass
class SweepResult:
    runs: pd.DataFrame
    indices: pd.DataFrame
    second_order: pd.DataFrame | None
    samples: np.ndarray
    errors: pd.DataFrame
    record: dict | None = None    # the provenance record (runner.results.provenance)


def run_sweep(factors: tuple[Factor, ...] | list[Factor], outcomes: tuple[str, ...] | list[str],
              evaluate: Callable[[Any], dict[str, pd.DataFrame]], *, method: Method, n: int,
              seed: int, seeds: str = "block", second_order: bool = False, levels: int = 4,
              make_task: Callable[[SamplePoint], Any] | None = None, out: Path | None = None, resume: bool = False, workers: int | None = None,
              engine: str | None = None, scheduler: str | None = None, progress: bool = True,
              label: str = "sweep", record: dict | None = None, results_folder: Path | None = None) -> SweepResult:
    """Sample the factors, run ``evaluate`` at every point through the runner, analyse.

    ``evaluate(task)`` returns ``{"runs": one-row DataFrame}`` with a column per outcome; the task
    is the ``SamplePoint``, or ``make_task(point)`` when given (a model sweep: ``ModelTasks``).
    ``record`` (the provenance record) and ``results_folder`` (marked stale while runs are made)
    go to the runner.
    """
    check_n(method, n)
    sp = problem(factors, outcomes)
    x = sample(sp, method, n, seed, second_order, levels)
    keys = seed_keys(len(x), seeds, block_size(method, len(factors), second_order))
    names = [f.name for f in factors]
    tasks = [SamplePoint(i, tuple(zip(names, map(float, row))), seed, int(keys[i])) for i, row in enumerate(x)]
    tasks = [make_task(t) for t in tasks] if make_task is not None else tasks
    res = run_batch(tasks, evaluate, workers=workers, progress=progress, label=label, out=out, resume=resume,
                    engine=engine, scheduler=scheduler, record=record, results=results_folder)
    errors = res["errors"]
    runs = res.get("runs", pd.DataFrame(columns=["run"]))
    if len(errors):
        raise InputError(out or label, [f"{len(errors)} of {len(tasks)} runs raised (first: "
                                        f"{errors.iloc[0]['error']}); the indices need every run. The raw "
                                        "table and the errors are in the output folder"])
    y = runs.set_index("run").loc[range(len(tasks)), list(outcomes)].to_numpy(float)
    if np.isnan(y).any():
        bad = [o for o, c in zip(outcomes, np.isnan(y).any(axis=0)) if c]
        raise InputError(out or label, [f"outcomes {bad} are undefined (NaN) in some runs; choose other outcomes"])
    tables = analyse(sp, method, y, seed, second_order, levels)
    return SweepResult(runs, tables["indices"], tables.get("second_order"), x, errors, record)


def run_model_sweep(sweep: Sweep, *, method: Method, n: int, out: Path, resume: bool = False,
                    workers: int | None = None, engine: str | None = None, scheduler: str | None = None,
                    second_order: bool | None = None, progress: bool = True) -> SweepResult:
    """A sweep file run on the model; writes runs, indices and figures to ``out``."""
    spec = sweep.spec
    so = spec.second_order if second_order is None else second_order
    tasks = ModelTasks(sweep.scenario, tuple(spec.design.items()), tuple(spec.parameters))
    scenario_file = next((c for c in (sweep.path.parent / spec.scenario, Path(spec.scenario)) if c.is_file()), None)
    record = results.provenance({"sweep_file": sweep.path, "scenario": scenario_file},
                                {"method": method, "n": n, "second_order": so, "seed": spec.seed, "seeds": spec.seeds})
    res = run_sweep(sweep.factors, sweep.outcomes, evaluate_model, method=method, n=n, seed=spec.seed,
                    seeds=spec.seeds, second_order=so, levels=spec.morris_levels, make_task=tasks, out=out / "batch",
                    resume=resume, workers=workers, engine=engine, scheduler=scheduler, progress=progress,
                    label=f"{spec.name} {method}", record=record, results_folder=out)
    write_outputs(res, sweep, method, out)
    return res


# --- outputs --------------------------------------------------------------------------------------
def write_outputs(res: SweepResult, sweep: Sweep, method: Method, out: Path) -> list[str]:
    """The sweep's runs, indices, figures and ``sweep.json``, through the one writer (``runner.results``)."""
    tables = {"runs.csv": res.runs, "indices.csv": res.indices}
    kinds = {f.name: f.kind for f in sweep.factors}
    figures = {"indices_bars.png": lambda path: bar_figure(res.indices, method, kinds, path),
               "indices_heatmap.png": lambda path: heatmap_figure(res.indices, method, path)}
    if res.second_order is not None:
        tables["second_order.csv"] = res.second_order
        figures["second_order_heatmap.png"] = lambda path: second_order_figure(res.second_order, path)
    summary = {"sweep_file": str(sweep.path), "spec": sweep.spec.model_dump(mode="json"), "method": method,
               "runs": len(res.runs), "factors": [f.__dict__ for f in sweep.factors]}
    return results.write(out, tables=tables, figures=figures, summary=summary, summary_name="sweep.json",
                         record=res.record)


def bar_figure(indices: pd.DataFrame, method: Method, kinds: dict[str, str], path: Path) -> None:
    outs = list(dict.fromkeys(indices.outcome))
    ncol = min(3, len(outs))
    nrow = math.ceil(len(outs) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.4 * ncol + 1, nrow * (0.45 * indices.factor.nunique() + 1.6)),
                             sharey=True, squeeze=False)
    for ax in axes.ravel()[len(outs):]:
        ax.set_visible(False)
    for ax, o in zip(axes.ravel(), outs):
        d = indices[indices.outcome == o]
        y = np.arange(len(d))
        labels = [f"{f} *" if kinds.get(f) == "design" else f for f in d.factor]
        if method == "sobol":
            ax.barh(y - 0.2, d.S1, 0.4, xerr=d.S1_conf, label="first order S1", color="#7570b3")
            ax.barh(y + 0.2, d.ST, 0.4, xerr=d.ST_conf, label="total ST", color="#d95f02")
            ax.set_xlim(left=min(0, float((d.S1 - d.S1_conf).min())))
        else:
            ax.barh(y, d.mu_star, 0.6, xerr=d.mu_star_conf, color="#1b9e77", label="mu*")
        ax.set_yticks(y, labels)
        ax.set_title(o, fontsize=10)
        ax.axvline(0, color="grey", linewidth=0.6)
    axes[0][0].invert_yaxis()
    axes[0][0].legend(fontsize=8, loc="lower right")
    what = "Sobol indices with 95% intervals" if method == "sobol" else "Morris mu* with 95% intervals"
    fig.suptitle(f"{what} (* programme design factor)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def heatmap_figure(indices: pd.DataFrame, method: Method, path: Path) -> None:
    col = "ST" if method == "sobol" else "mu_star"
    m = indices.pivot(index="factor", columns="outcome", values=col)
    m = m.loc[list(dict.fromkeys(indices.factor)), list(dict.fromkeys(indices.outcome))]
    if method == "morris":   # mu* in outcome units: scale each outcome by its largest effect
        m = m / m.max(axis=0).replace(0, np.nan)
    fig, ax = plt.subplots(figsize=(1.3 * m.shape[1] + 3, 0.45 * m.shape[0] + 1.8))
    im = ax.imshow(m.to_numpy(float), cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(m.shape[1]), m.columns, rotation=30, ha="right")
    ax.set_yticks(range(m.shape[0]), m.index)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            v = m.iat[i, j]
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8, color="white" if v < 0.5 else "black")
    fig.colorbar(im, ax=ax, label="total index ST" if method == "sobol" else "mu* / largest mu* of the outcome")
    ax.set_title("total Sobol index" if method == "sobol" else "Morris mu*, scaled per outcome")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def second_order_figure(s2: pd.DataFrame, path: Path) -> None:
    outs = list(dict.fromkeys(s2.outcome))
    names = list(dict.fromkeys([*s2.factor_i, *s2.factor_j]))
    fig, axes = plt.subplots(1, len(outs), figsize=(4.2 * len(outs) + 1, 4), squeeze=False)
    for ax, o in zip(axes[0], outs):
        mat = np.full((len(names), len(names)), np.nan)
        for r in s2[s2.outcome == o].itertuples():
            i, j = names.index(r.factor_i), names.index(r.factor_j)
            mat[i, j] = mat[j, i] = r.S2
        im = ax.imshow(mat, cmap="viridis", vmin=0, vmax=max(0.05, np.nanmax(mat)))
        ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(names)), names, fontsize=7)
        ax.set_title(o, fontsize=10)
        fig.colorbar(im, ax=ax, shrink=0.7)
    fig.suptitle("second-order Sobol indices S2")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
