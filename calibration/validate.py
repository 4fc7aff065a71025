"""``cohesion validate``: register a prediction of the survey's held-back figures, then set the
observed figures, when they come, against every registration.

A **registration** (``cohesion validate --predict``) is the posterior-predictive distribution of
every survey item of the outcome registry (``model.outcomes.survey_items``), overall, by group and
by village, at both waves: runs of the scenario, each on a parameter set drawn from the calibrated
posterior, through the project runner (``calibration.report.predictive_survey``, the code of the
calibration's posterior-predictive check; resumable). Each run's survey samples its respondents,
so the spread includes survey sampling at the scenario's sample size. It is three files:

- ``<name>.csv``: one row per figure (wave, item, group, village), what the calibration used it
  for (``used_for``: ``fit``, ``initial_conditions`` or ``held back``), the median and the 90% interval (``p05``, ``p95``) over the runs, the median
  number of respondents; its ``#`` header lines say how it was made: command, git commit, date,
  the posterior and the scenario with their sha256, replicates, seed, and the draws file with its
  sha256;
- ``<name>.draws.parquet``: every run's value of every figure (what p-values and CRPS are computed
  from);
- ``<name>.json``: the project's provenance record (``runner.results.write``).

A registration is never overwritten. ``calibration/fit/predictions.csv`` (made with the committed
posterior on 2026-11-25, before this command existed) is the first registration: it holds only
the quantiles of the figures the calibration did not fit, so its p-values and CRPS are
approximations from those quantiles (``score_quantiles``); later ones carry their draws.

A **comparison** (``cohesion validate OBSERVED.yaml``) reads observed figures in the form of
``calibration/targets.yaml`` and, for each figure and each registration: inside the 90% interval
or not, the predictive p-value (two-sided, from the mid-rank of the observation among the draws)
and the CRPS (continuous ranked probability score, in units of the share; lower is better).
"""

from __future__ import annotations

import io
import math
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.stats import norm

from common.errors import InputError, is_file, read_text
from model import outcomes
from runner import results
from scenarios import load_scenario

from .posterior import POSTERIOR_PATH, load_posterior
from .report import KEY_COLUMNS, _quantiles, predictive_survey
from .targets import TARGETS_PATH, TargetsFile, load_targets

VALIDATION = Path(__file__).with_name("validation")
REGISTRATION = VALIDATION / "predictions.csv"
FIRST_REGISTRATION = Path(__file__).with_name("fit") / "predictions.csv"
COMPARISON = Path("results/validation")
ISSUE_ITEMS = ("openness", "wellbeing_good", "frequent_positive_interactions", "improved_interactions",
               "improved_perceptions", "positive_view_shift", "rated_interactions_positive", "tension_reduced",
               "tension_created", "initiatives_very_effective")
"""The held-back items issue 12 asks a registration to predict; the registration itself takes
every survey item of the outcome registry, and warns about any of these the registry lacks."""
LEVEL = 0.9
HELD_BACK = "held back"
QUANTILES = ["p05", "median", "p95"]
REQUIRED = [*KEY_COLUMNS, *QUANTILES]
DRAW_COLUMNS = [*KEY_COLUMNS, "replicate", "value", "n"]
MAX_REGISTRATION_BYTES = 50_000_000
ALLOWED = ("allowed: a registration written by `cohesion validate --predict` (CSV with '#' header lines, columns "
           f"{', '.join(REQUIRED)}, its draws file beside it) or the first registration's form "
           "(calibration/fit/predictions.csv: the same columns, no header)")
QUANTILE_METHOD = ("quantiles only: p-value and CRPS approximated from a split normal through p05, median and p95 "
                   "(CRPS by the quantile-score approximation)")


# --- scores -----------------------------------------------------------------------------------------
def score_draws(x: np.ndarray, y: float) -> dict[str, float]:
    """The observation ``y`` against the predictive draws ``x``.

    ``pit``: the mid-rank of ``y`` among the draws and itself, ``(#below + #tied/2 + 1/2) / (m + 1)``
    (ties are common: survey shares are counts over respondents); uniform on (0, 1), mean 1/2,
    when ``y`` is one more draw of the same distribution. ``p_value``: two-sided, ``2 min(pit, 1 -
    pit)``. ``crps``: the unbiased ("fair") ensemble estimator ``mean|x - y| - sum_{i<j}|x_i - x_j|
    / (m (m - 1))``.
    """
    x = np.sort(np.asarray(x, float))
    m = x.size
    tied = np.isclose(x, y, rtol=0.0, atol=1e-9)
    below = int(np.sum((x < y) & ~tied))
    pit = (below + 0.5 * int(tied.sum()) + 0.5) / (m + 1)
    spread = float(np.sum(x * (2 * np.arange(1, m + 1) - m - 1))) / (m * (m - 1)) if m > 1 else 0.0
    crps = float(np.mean(np.abs(x - y))) - spread
    return {"pit": pit, "p_value": min(1.0, 2 * min(pit, 1 - pit)), "crps": crps}


GRID = (np.arange(2000) + 0.5) / 2000


def quantile_curve(p05: float, median: float, p95: float) -> np.ndarray:
    """The predictive quantile function on ``GRID`` when only three quantiles are known: a split
    normal through them (a normal's shape on each side of the median, each side's spread set by
    its outer quantile), kept in [0, 1] (the figures are shares)."""
    z = norm.ppf(GRID)
    z95 = norm.ppf(0.95)
    q = np.where(GRID < 0.5, median + z * (median - p05) / z95, median + z * (p95 - median) / z95)
    return np.clip(q, 0.0, 1.0)


def score_quantiles(p05: float, median: float, p95: float, y: float) -> dict[str, float]:
    """``score_draws`` for a registration that kept only p05, median and p95: the quantile function
    of ``quantile_curve``; the PIT is the share of its levels below ``y`` (ties counted half), the
    CRPS twice the mean quantile (pinball) score over its levels,
    ``CRPS = 2 \\int_0^1 (1{y < Q(t)} - t) (Q(t) - y) dt``."""
    q = quantile_curve(p05, median, p95)
    tied = np.isclose(q, y, rtol=0.0, atol=1e-9)
    pit = float(np.mean((q < y) & ~tied) + 0.5 * np.mean(tied))
    crps = 2 * float(np.mean(((y < q).astype(float) - GRID) * (q - y)))
    return {"pit": pit, "p_value": min(1.0, 2 * min(pit, 1 - pit)), "crps": crps}


# --- registrations, read ------------------------------------------------------------------------
@dataclass
class Registration:
    """One registered prediction: its file, its header, one row per figure, and (for those made by
    ``--predict``) every run's value of each figure."""

    path: Path
    header: dict[str, str]
    table: pd.DataFrame                              # indexed by (wave, item, group, village)
    draws: dict[tuple, np.ndarray] | None = None

    @property
    def name(self) -> str:
        return display(self.path)

    @property
    def method(self) -> str:
        if self.draws is None:
            return QUANTILE_METHOD
        return f"draws ({max(len(v) for v in self.draws.values())} replicates)"

    def score(self, key: tuple, y: float) -> dict:
        """The observation ``y`` of figure ``key`` against this registration."""
        if key not in self.table.index or (self.draws is not None and not self.draws.get(key, np.empty(0)).size):
            return {"status": "not predicted", "method": self.method}
        row = self.table.loc[key]
        p05, med, p95 = (float(row[c]) for c in QUANTILES)
        scores = score_draws(self.draws[key], y) if self.draws is not None else score_quantiles(p05, med, p95, y)
        inside = bool(p05 <= y <= p95)
        used = str(row["used_for"]) if "used_for" in row.index else HELD_BACK   # the first registration: held back
        return {"used_for": used, "median": med, "p05": p05,
                "p95": p95, "inside": inside, **scores, "method": self.method,
                "status": "inside" if inside else "outside"}


def display(path: Path) -> str:
    """A path as the user knows it: relative to the working folder when it is under it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def split_header(text: str) -> tuple[dict[str, str], str]:
    """The ``# key: value`` lines of a registration, and the rest (the CSV table)."""
    header, body = {}, []
    for line in text.splitlines():
        if line.startswith("#"):
            key, sep, value = line[1:].partition(":")
            if sep:
                header[key.strip()] = value.strip()
        elif line.strip():
            body.append(line)
    return header, "\n".join(body)


def _table_problems(table: pd.DataFrame) -> list[str]:
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        return [f"columns: {missing} missing (columns found: {', '.join(map(str, table.columns))}); {ALLOWED}"]
    if table.empty:
        return [f"no rows: the header is there but no figure follows; {ALLOWED}"]
    values = table[QUANTILES].apply(pd.to_numeric, errors="coerce")
    bad = ~np.isfinite(values.to_numpy(float)).all(axis=1)
    if bad.any():
        k = int(np.argmax(bad))
        return [f"row {k + 1}: p05, median and p95 must be finite numbers ({table.iloc[k][QUANTILES].tolist()}); "
                f"{ALLOWED}"]
    unordered = ~((values.p05 <= values["median"]) & (values["median"] <= values.p95))
    if unordered.any():
        k = int(np.argmax(unordered.to_numpy()))
        return [f"row {k + 1}: p05 <= median <= p95 does not hold ({values.iloc[k].tolist()}); {ALLOWED}"]
    twice = table.duplicated(KEY_COLUMNS)
    if twice.any():
        k = int(np.argmax(twice.to_numpy()))
        return [f"row {k + 1}: the figure {tuple(table.iloc[k][KEY_COLUMNS])} appears twice; allowed: each figure "
                "once"]
    return []


def read_registration(path: str | Path) -> Registration:
    """Read and check one registration (``ALLOWED``); with a draws file named in its header, the
    draws must be the registered ones (sha256) and give the table's quantiles.

    Raises
    ------
    InputError
        naming the file and the column, row or header line at fault.
    """
    path = Path(path)
    header, body = split_header(read_text(path, MAX_REGISTRATION_BYTES, "CSV"))
    try:
        table = pd.read_csv(io.StringIO(body), dtype={c: str for c in KEY_COLUMNS}) if body else pd.DataFrame()
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(path, [f"not a valid CSV table ({str(exc).strip()}); {ALLOWED}"]) from None
    problems = _table_problems(table)
    if problems:
        raise InputError(path, problems)
    table[QUANTILES] = table[QUANTILES].astype(float)
    draws = read_draws(path, header, table) if ("draws" in header or "draws_sha256" in header) else None
    return Registration(path, header, table.set_index(KEY_COLUMNS).sort_index(), draws)


def read_draws(path: Path, header: dict[str, str], table: pd.DataFrame) -> dict[tuple, np.ndarray]:
    """The draws a registration's header names, checked against the header's sha256 and the table."""
    for field in ("draws", "draws_sha256"):
        if not header.get(field):
            raise InputError(path, [f"header '{field}': missing (the header names a draws file with its sha256, "
                                    f"both or neither); {ALLOWED}"])
    draws_path = path.parent / header["draws"]
    if not is_file(draws_path):
        raise InputError(path, [f"header 'draws: {header['draws']}': {draws_path} not found; allowed: the draws file "
                                "written with the registration, beside it"])
    actual = results.sha256_file(draws_path)
    if actual != header["draws_sha256"]:
        raise InputError(path, [f"header 'draws_sha256': {draws_path.name} has sha256 {actual[:16]}..., the header "
                                f"says {header['draws_sha256'][:16]}...: these are not the registered draws (changed "
                                "or replaced since); allowed: the registration's own draws file, unchanged"])
    try:
        draws = pd.read_parquet(draws_path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the user's problem, reported as one
        raise InputError(draws_path, [f"not a readable Parquet table ({exc})"]) from None
    missing = [c for c in DRAW_COLUMNS if c not in draws.columns]
    if missing:
        raise InputError(draws_path, [f"columns: {missing} missing; allowed: the columns {', '.join(DRAW_COLUMNS)}"])
    expected = _quantiles(draws).set_index(KEY_COLUMNS).sort_index()
    mine = table.set_index(KEY_COLUMNS).sort_index()
    if not expected.index.equals(mine.index):
        odd = sorted(set(expected.index) ^ set(mine.index))[:3]
        raise InputError(path, [f"the table and its draws ({draws_path.name}) hold different figures, e.g. {odd}; "
                                "allowed: the table written with its draws"])
    off = (expected[QUANTILES] - mine[QUANTILES]).abs().max(axis=1) > 1e-4   # the table is written to 4 decimals
    if off.any():
        raise InputError(path, [f"figure {off.idxmax()}: p05, median, p95 {mine.loc[off.idxmax(), QUANTILES].tolist()} "
                                f"are not those of the draws {expected.loc[off.idxmax(), QUANTILES].round(4).tolist()}; "
                                "allowed: the table written with its draws"])
    return {k: g["value"].dropna().to_numpy(float) for k, g in draws.groupby(KEY_COLUMNS)}


def find_registrations(folder: Path = VALIDATION, first: Path = FIRST_REGISTRATION) -> list[Path]:
    """Every registration: the first (``calibration/fit/predictions.csv``), then ``folder``'s CSV files."""
    found = [first] if is_file(first) else []
    return found + (sorted(folder.glob("*.csv")) if folder.is_dir() else [])


# --- registrations, made ------------------------------------------------------------------------
def missing_items() -> list[str]:
    """The held-back items of issue 12 that the outcome registry does not (yet) have."""
    return [i for i in ISSUE_ITEMS if i not in outcomes.item_names()]


def check_registration_out(out: Path) -> Path:
    """A new ``.csv`` file in a folder that can be made: a registration is never overwritten."""
    if out.suffix != ".csv":
        raise InputError("--out", [f"{out}: a registration is a .csv file (its draws and record are written beside "
                                   "it); allowed: a new file name ending in .csv"])
    if out.exists():
        raise InputError("--out", [f"{out} exists: a registration is never overwritten; allowed: a new file name "
                                   "(e.g. predictions-2.csv), or delete the old registration deliberately first"])
    return out


def runs_folder(out: Path) -> Path:
    """Where the runs of a registration are kept until it is written (what ``--resume`` continues)."""
    return out.with_name(f".{out.stem}.runs")


@dataclass
class Prediction:
    """What ``predict`` registered."""

    out: Path
    table: pd.DataFrame
    missing: list[str]
    replicates: int
    seconds: float


def predict(posterior: str | Path = POSTERIOR_PATH, scenario: str | Path = "scenarios/qayyarah.yaml",
            replicates: int = 200, seed: int = 7, out: str | Path = REGISTRATION, *,
            targets: str | Path = TARGETS_PATH, workers: int | None = None, scheduler: str | None = None,
            resume: bool = False, progress: bool = True) -> Prediction:
    """``cohesion validate --predict``: run the posterior predictive and write the registration.

    The runs are those of the calibration's posterior-predictive check (``predictive_survey``,
    same draws for the same seed), kept in ``runs_folder(out)`` while they are made (an interrupted
    prediction continues with ``resume``); the folder is removed once the registration is written.
    """
    out = check_registration_out(Path(out))
    post = load_posterior(posterior)
    spec = load_scenario(scenario)
    used = load_targets(targets, spec.village_names(), spec.group_names())
    record = results.provenance({"posterior": posterior, "scenario": scenario, "targets": targets},
                                {"replicates": replicates, "seed": seed, "registration": out.name})
    start = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    store = runs_folder(out)
    survey = predictive_survey(post, spec, replicates, seed, workers=workers, scheduler=scheduler, progress=progress,
                               out=store, resume=resume, record=record)
    done = survey["replicate"].nunique()
    if done < replicates:
        raise InputError(store, [f"{replicates - done} of {replicates} runs raised (their errors in "
                                 f"{store / 'errors.parquet'}); nothing registered: fix the cause, or run the same "
                                 "command with --resume to try them again"])
    survey = survey[survey["value"].notna()]     # a figure nobody answered in a run: no draw of it
    table = registration_table(survey, used)
    header = {
        "registration": f"posterior-predictive prediction of every survey item: median and {LEVEL:.0%} interval "
                        "(p05, p95) over the runs, each run's survey sampling its respondents",
        "command": record["command"], "git": record["git_revision"],
        "made": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "posterior": str(posterior), "posterior_sha256": results.sha256_file(posterior),
        "scenario": str(scenario), "scenario_sha256": results.sha256_file(scenario),
        "targets": f"{targets} (used_for: what the calibration used a figure for; '{HELD_BACK}': not used)",
        "replicates": replicates, "seed": seed,
    }
    write_registration(out, table, survey[DRAW_COLUMNS], header, record)
    shutil.rmtree(store, ignore_errors=True)
    return Prediction(out=out, table=table, missing=missing_items(), replicates=replicates,
                      seconds=time.perf_counter() - start)


def registration_table(survey: pd.DataFrame, targets: TargetsFile) -> pd.DataFrame:
    """One row per figure: what the calibration used it for, median and 90% interval, median respondents."""
    q = _quantiles(survey)
    used = {(t.wave, t.item, t.group, t.village): getattr(t, "used_for", "fit") for t in targets.reported()}
    q.insert(len(KEY_COLUMNS), "used_for", [used.get(tuple(k), HELD_BACK)
                                            for k in q[KEY_COLUMNS].itertuples(index=False)])
    return q[[*KEY_COLUMNS, "used_for", *QUANTILES, "n_median"]]


def write_registration(out: Path, table: pd.DataFrame, draws: pd.DataFrame, header: dict, record: dict) -> None:
    """The draws, then the table with its header (naming the draws and their sha256), then the
    provenance record, through the project's one results writer."""
    draws_name = f"{out.stem}.draws.parquet"

    def write_draws(path: Path) -> None:
        draws.reset_index(drop=True).to_parquet(path, index=False)

    def write_table(path: Path) -> None:
        lines = [f"# {k}: {v}" for k, v in {**header, "draws": draws_name,
                                             "draws_sha256": results.sha256_file(path.with_name(draws_name))}.items()]
        tmp = path.with_name(f".tmp-{path.name}")
        tmp.write_text("\n".join(lines) + "\n" + table.to_csv(index=False, float_format="%.4f"), encoding="utf-8")
        tmp.replace(path)

    summary = {"what": "a registered prediction (cohesion validate --predict)", "registration": out.name,
               "draws": draws_name, "figures": len(table), "items": sorted(table["item"].unique()),
               "replicates": header["replicates"], "posterior_sha256": header["posterior_sha256"]}
    # ``figures`` of the writer: files made by a function (here a table with its header, and the draws)
    results.write(out.parent, figures={draws_name: write_draws, out.name: write_table}, summary=summary,
                  summary_name=f"{out.stem}.json", record=record)


# --- observed figures against the registrations ---------------------------------------------------------
def compare(observed: TargetsFile, registrations: list[Registration]) -> pd.DataFrame:
    """One row per observed figure and registration (``Registration.score``)."""
    rows = []
    for t in observed.reported():
        key = (t.wave, t.item, t.group, t.village)
        for reg in registrations:
            rows.append({"registration": reg.name, "wave": t.wave, "item": t.item, "group": t.group,
                         "village": t.village, "observed": float(t.value), **reg.score(key, float(t.value))})
    columns = ["registration", *KEY_COLUMNS, "observed", "used_for", "median", "p05", "p95", "inside", "pit", "p_value",
               "crps", "status", "method"]
    return pd.DataFrame(rows).reindex(columns=columns)


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Per registration: figures predicted, inside the 90% interval, mean CRPS and p-value."""
    rows = []
    for name, d in table.groupby("registration", sort=False):
        scored = d[d.status != "not predicted"]
        held = scored[scored.used_for == HELD_BACK]
        rows.append({"registration": name, "observed": len(d), "predicted": len(scored),
                     "inside": int(scored.inside.astype(bool).sum()),
                     "coverage": scored.inside.astype(bool).mean() if len(scored) else math.nan,
                     "held_back": len(held), "held_back_inside": int(held.inside.astype(bool).sum()),
                     "mean_crps": scored.crps.mean() if len(scored) else math.nan,
                     "mean_p_value": scored.p_value.mean() if len(scored) else math.nan,
                     "method": d.method.iloc[0]})
    return pd.DataFrame(rows)


def label(r) -> str:
    where = r.group if r.village == "all" else r.village
    return f"{r.item} {r.wave}, {where}"


def markdown(table: pd.DataFrame, summary: pd.DataFrame, observed: str) -> str:
    """The comparison as markdown: the summary per registration, then every figure."""
    def pct(v) -> str:
        return "-" if pd.isna(v) else f"{100 * v:.0f}%"

    def num(v, digits: int) -> str:
        return "-" if pd.isna(v) else f"{v:.{digits}f}"

    lines = [f"# Observed figures ({observed}) against the registered predictions", "",
             "| registration | figures predicted | inside the 90% interval | held back (inside) | mean CRPS | "
             "mean p-value | p-value and CRPS from |", "|---|---|---|---|---|---|---|"]
    for s in summary.itertuples():
        lines.append(f"| {s.registration} | {s.predicted} of {s.observed} | {s.inside} ({pct(s.coverage)}) | "
                     f"{s.held_back} ({s.held_back_inside}) | {num(s.mean_crps, 3)} | {num(s.mean_p_value, 2)} | {s.method} |")
    lines += ["", "| figure | observed | registration | median [90% interval] | inside | p-value | CRPS |",
              "|---|---|---|---|---|---|---|"]
    for r in table.itertuples():
        if r.status == "not predicted":
            lines.append(f"| {label(r)} | {pct(r.observed)} | {r.registration} | not predicted | | | |")
            continue
        used = "" if r.used_for == HELD_BACK else f" (used: {r.used_for})"
        lines.append(f"| {label(r)}{used} | {pct(r.observed)} | {r.registration} | {pct(r.median)} "
                     f"[{pct(r.p05)}-{pct(r.p95)}] | {'yes' if r.inside else 'NO'} | {r.p_value:.2f} | {r.crps:.3f} |")
    return "\n".join(lines) + "\n"


COLOURS = ["#1f78b4", "#33a02c", "#ff7f00", "#6a3d9a", "#b15928", "#a6cee3"]


def figure(table: pd.DataFrame, path: Path, title: str) -> None:
    """Each observed figure (red) against each registration's median and 90% interval."""
    figures = table.drop_duplicates(KEY_COLUMNS).reset_index(drop=True)
    names = list(dict.fromkeys(table.registration))
    y = np.arange(len(figures))[::-1].astype(float)
    fig, ax = plt.subplots(figsize=(8.5, 0.5 * len(figures) * max(1, 0.6 * len(names)) + 1.5))
    width = 0.7 / max(len(names), 1)
    for j, name in enumerate(names):
        d = table[table.registration == name].set_index(KEY_COLUMNS)
        keys = [tuple(k) for k in figures[KEY_COLUMNS].itertuples(index=False)]
        rows = d.reindex(keys)
        yj = y + 0.35 - width * (j + 0.5)
        ax.hlines(yj, rows.p05, rows.p95, color=COLOURS[j % len(COLOURS)], lw=max(2.0, 14 * width), alpha=0.55,
                  label=f"{name}: 90% interval")
        ax.plot(rows["median"], yj, "|", color=COLOURS[j % len(COLOURS)], ms=10, mew=2)
    ax.vlines(figures.observed, y - 0.4, y + 0.4, color="#e31a1c", lw=1.5, zorder=3)
    ax.plot(figures.observed, y, "o", color="#e31a1c", label="observed", zorder=3)
    ax.set_yticks(y)
    ax.set_yticklabels([label(r) for r in figures.itertuples()], fontsize=8)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("share")
    ax.legend(fontsize=7, loc="best")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


@dataclass
class Comparison:
    table: pd.DataFrame
    summary: pd.DataFrame
    written: list[str]


def validate(observed: str | Path, out: str | Path = COMPARISON, *, registrations: list[str | Path] | None = None,
             scenario: str | Path = "scenarios/qayyarah.yaml") -> Comparison:
    """``cohesion validate OBSERVED.yaml``: every observed figure against every registration;
    ``validation.csv``, ``validation.md``, ``validation.png`` and ``summary.json`` in ``out``.

    ``registrations``: the files to compare with (default: ``find_registrations()``).
    """
    spec = load_scenario(scenario)
    figures = load_targets(observed, spec.village_names(), spec.group_names())
    paths = [Path(p) for p in registrations] if registrations else find_registrations(VALIDATION, FIRST_REGISTRATION)
    if not paths:
        raise InputError("--registration", [f"no registration found (looked for {FIRST_REGISTRATION} and "
                                            f"{VALIDATION}/*.csv); allowed: make one with cohesion validate --predict"])
    regs = [read_registration(p) for p in paths]
    table = compare(figures, regs)
    summary = summarise(table)
    inputs = {"observed": observed, "scenario": scenario}
    for k, reg in enumerate(regs):
        inputs[f"registration {k + 1}"] = reg.path
        if reg.draws is not None:
            inputs[f"registration {k + 1} draws"] = reg.path.parent / reg.header["draws"]
    out = Path(out)
    written = results.write(
        out, tables={"validation.csv": table},
        figures={"validation.png": lambda p: figure(table, p, f"{display(Path(observed))} against the registrations"),
                 "validation.md": lambda p: p.write_text(markdown(table, summary, display(Path(observed))),
                                                         encoding="utf-8")},
        summary={"observed": str(observed), "registrations": summary.to_dict("records")},
        record=results.provenance(inputs, {"registrations": [str(p) for p in paths]}))
    return Comparison(table=table, summary=summary, written=written)
