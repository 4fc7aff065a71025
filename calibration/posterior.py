"""The calibrated posterior: parameter sets with weights, and draws from it for each replicate."""

from __future__ import annotations

import csv
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from common.errors import InputError, is_file, read_text, read_yaml
from model.params import ALIASES, REMOVED, Params, addressable_ranges, names

POSTERIOR_PATH = Path(__file__).with_name("posterior.csv")
PARAMETERS_PATH = Path(__file__).with_name("parameters.yaml")
"""Which parameters the calibration fits (calibration.fit.load_parameter_choice reads it in full)."""
WEIGHT = "weight"
MAX_POSTERIOR_BYTES = 50_000_000
"""Largest posterior table read (bytes): the committed one is about 30 KB (300 parameter sets)."""
ALLOWED = ("allowed: a CSV table (lines starting with # are comments) with a header line naming model parameters "
           "(model/params.py) and 'weight', then one row per parameter set, as calibration/posterior.csv")


def _where(k: int, lines: list[int]) -> str:
    """Data row ``k`` (from 0), as the user finds it: its number from 1 and its line in the file."""
    return f"row {k + 1} (line {lines[k + 1]})"


def _read_table(path: Path) -> tuple[pd.DataFrame, list[str], list[int]]:
    """The table (as text), its header, and the file's line number of the header and of each row.
    Comments (from #) and blank lines are skipped, as pandas' ``comment="#"`` does."""
    text = read_text(path, MAX_POSTERIOR_BYTES, "CSV")
    rows, lines = [], []
    try:
        for n, line in enumerate(text.splitlines(), 1):
            line = line.split("#")[0]
            if line.strip():
                rows.append([field.strip() for field in next(csv.reader([line]))])
                lines.append(n)
    except csv.Error as exc:
        raise InputError(path, [f"line {n}: not a valid CSV line ({exc}); {ALLOWED}"]) from None
    if not rows:
        raise InputError(path, [f"no table: the file is empty or holds only comments; {ALLOWED}"])
    header, body = rows[0], rows[1:]
    bad = [k for k, row in enumerate(body) if len(row) != len(header)]
    if bad:
        k = bad[0]
        more = f" (and {len(bad) - 1} other rows)" if len(bad) > 1 else ""
        raise InputError(path, [f"{_where(k, lines)}: {len(body[k])} fields, the header has {len(header)}{more} "
                                f"(a truncated or damaged file?); {ALLOWED}"])
    return pd.DataFrame(body, columns=range(len(header)), dtype=object), header, lines


class PosteriorWarning(UserWarning):
    """A posterior that loads but was fitted to another choice of calibrated parameters."""


def _column_problems(header: list[str], df: pd.DataFrame) -> list[str]:
    known = addressable_ranges()
    cols = [ALIASES.get(c, c) for c in header]
    problems = []
    twice = sorted({c for c in cols if cols.count(c) > 1})
    if twice:
        problems.append(f"columns {twice} appear more than once (a renamed parameter and its new name count as "
                        f"one); allowed: each parameter once")
    unknown = [c for c in cols if c != WEIGHT and c not in known]
    if unknown:
        why = "".join(f" ({c}: {REMOVED[c]})" for c in unknown if c in REMOVED)
        problems.append(f"columns {unknown} are not parameters of the model (a posterior fitted to another version "
                        f"of the model?){why}; allowed: '{WEIGHT}' and the parameters {', '.join(names())}, "
                        "and channel strengths channel.<activity>.<channel> (model/activities.py)")
    if WEIGHT not in cols:
        problems.append(f"missing column '{WEIGHT}'; {ALLOWED}")
    if not problems and len(cols) == 1:
        problems.append(f"no parameter columns, only '{WEIGHT}'; {ALLOWED}")
    if not problems and len(df) == 0:
        problems.append(f"no rows: the header is there but no parameter set follows; {ALLOWED}")
    return problems


def _column_values(c: str, raw: pd.Series, lines: list[int]) -> tuple[pd.Series, str | None]:
    """Column ``c`` as numbers, and the problem with its first bad row (None if every row is good)."""
    text = raw.astype(str).str.strip()
    x = pd.to_numeric(text, errors="coerce").astype(float)
    low, high = (0.0, math.inf) if c == WEIGHT else addressable_ranges()[c]
    v = x.to_numpy()
    finite = np.isfinite(v)
    good = finite & (v >= low) & (v <= high)
    if good.all():
        return x, None
    k = int(np.argmin(good))
    shown = "an empty field" if text.iloc[k] == "" else repr(text.iloc[k])
    what = f"{shown} is not a finite number" if not finite[k] else f"{v[k]:g} is outside [{low:g}, {high:g}]"
    others = int((~good).sum()) - 1
    more = f" (and {others} other row{'s' if others > 1 else ''})" if others else ""
    allowed = ("finite, non-negative weights with a positive sum" if c == WEIGHT else
               f"a finite number in [{low:g}, {high:g}], the range declared in model/params.py (channel "
               "strengths: model/activities.py)")
    return x, f"{c}, {_where(k, lines)}: {what}{more}; allowed: {allowed}"


def _values(df: pd.DataFrame, lines: list[int]) -> tuple[pd.DataFrame, list[str]]:
    """The table as numbers, and what is wrong with its values: every parameter finite and inside its
    declared range, every weight finite and non-negative, the weights' sum positive and finite."""
    columns, problems = {}, []
    for c in df.columns:
        columns[c], problem = _column_values(c, df[c], lines)
        if problem:
            problems.append(problem)
    table = pd.DataFrame(columns, index=df.index)
    if not problems:
        with np.errstate(over="ignore"):
            total = float(np.sum(table[WEIGHT].to_numpy(float)))
        if total <= 0:
            problems.append(f"{WEIGHT}: every weight is 0; allowed: finite, non-negative weights with a positive sum")
        elif not math.isfinite(total):
            problems.append(f"{WEIGHT}: the weights sum to infinity; allowed: weights of ordinary size (they are "
                            "normalised), e.g. summing to 1")
    return table, problems


def calibrated_names(path: str | Path = PARAMETERS_PATH) -> list[str] | None:
    """The parameters ``calibration/parameters.yaml`` names as calibrated (None if it cannot be read)."""
    try:
        raw = read_yaml(path)
    except InputError:
        return None
    chosen = raw.get("calibrated") if isinstance(raw, dict) else None
    return [str(k) for k in chosen] if isinstance(chosen, dict) else None


def check_version(table: pd.DataFrame, path: str | Path, calibrated: list[str] | None) -> str | None:
    """The warning for a posterior fitted to another choice of calibrated parameters: the calibrated
    parameters it lacks stay at their defaults (None when it has them all)."""
    missing = [c for c in calibrated or () if c not in table.columns]
    if not missing:
        return None
    return (f"{path}: fitted to another version of the model's parameters: the calibrated parameters {missing} "
            f"({PARAMETERS_PATH.parent.name}/{PARAMETERS_PATH.name}) are not in it, so runs drawn from it keep "
            "their defaults; recalibrate (cohesion calibrate)")


def load_posterior(path: str | Path = POSTERIOR_PATH, calibrated: list[str] | None = None) -> pd.DataFrame:
    """Read and check a posterior table: one column per calibrated parameter, and ``weight``.

    Checked at the door, so that a bad file gives one message rather than wrong numbers or a
    traceback: the file exists and parses as CSV; every column other than ``weight`` is a parameter
    of the model (a column renamed since the file was written is read under its new name,
    ``model.params.ALIASES``; any other is refused with the names allowed, as is a posterior fitted to
    another version of the model); at least one row; every value finite and inside the parameter's
    declared range (``model.params.ranges``); weights finite, non-negative, with a positive sum.
    Columns may also be catalogue strengths (``channel.<activity>.<channel>``).

    A parameter of an earlier version that no longer exists is refused by name (with what replaced
    it, ``model.params.REMOVED``); a calibrated parameter (``calibrated``, by default those of
    calibration/parameters.yaml) missing from the table is warned about by name (``PosteriorWarning``).

    Raises
    ------
    InputError
        naming the file, the column and the row (and its line in the file).
    """
    path = Path(path)
    df, header, lines = _read_table(path)
    problems = _column_problems(header, df)
    if problems:
        raise InputError(path, problems)
    df.columns = [ALIASES.get(h, h) for h in header]
    table, problems = _values(df, lines)
    if problems:
        raise InputError(path, problems)
    warning = check_version(table, path, calibrated_names() if calibrated is None else calibrated)
    if warning:
        warnings.warn(warning, PosteriorWarning, stacklevel=2)
    return table


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float | np.ndarray) -> np.ndarray:
    """Quantile(s) ``q`` of ``values`` weighted by ``weights``: the weighted empirical distribution
    function with each value at the middle of its own weight, interpolated linearly."""
    order = np.argsort(values)
    v, w = np.asarray(values)[order], np.asarray(weights)[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, cdf, v)


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The weighted median, ``weighted_quantile`` at 0.5."""
    return float(weighted_quantile(values, weights, 0.5))


def posterior_medians(posterior: pd.DataFrame) -> dict[str, float]:
    """Each parameter's weighted posterior median: the medians of the calibration's intervals
    table (``calibration.fit.credible_intervals``) and the dashboard's starting values."""
    w = posterior[WEIGHT].to_numpy(float)
    return {c: weighted_median(posterior[c].to_numpy(float), w) for c in posterior.columns if c != WEIGHT}


def draw_params(posterior: pd.DataFrame, n: int, rng: np.random.Generator, base: Params | None = None) -> list[Params]:
    """``n`` parameter sets drawn from the weighted posterior (the rest stay at ``base``)."""
    base = base or Params()
    w = posterior[WEIGHT].to_numpy(float)
    rows = rng.choice(len(posterior), size=n, p=w / w.sum())
    cols = [c for c in posterior.columns if c != WEIGHT]
    return [base.with_values(**posterior.iloc[r][cols].to_dict()) for r in rows]


def resolve_params(choice: str, n: int, seed: int) -> tuple[list[Params], str]:
    """Parameter sets for ``n`` replicates: 'defaults', 'posterior' (the committed one) or a CSV path.

    Replicate k's draw depends only on the seed and k, so scenarios compared on the same seed
    share their draws (common random numbers).
    """
    if choice == "defaults":
        return [Params()] * n, "defaults"
    path = POSTERIOR_PATH if choice == "posterior" else Path(choice)
    if choice == "posterior" and not is_file(path):
        return [Params()] * n, "defaults (no calibrated posterior committed yet)"
    if not is_file(path):
        raise InputError(path, ["--params: file not found; allowed: 'posterior' (the committed posterior), "
                                "'defaults' or a posterior CSV file such as calibration/posterior.csv"])
    post = load_posterior(path)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**31,)))
    return draw_params(post, n, rng), str(path)
