"""The calibrated posterior: parameter sets with weights, and draws from it for each replicate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from common.errors import InputError
from model.params import Params, names

POSTERIOR_PATH = Path(__file__).with_name("posterior.csv")
WEIGHT = "weight"


def load_posterior(path: str | Path = POSTERIOR_PATH) -> pd.DataFrame:
    """Read a posterior table: one column per calibrated parameter, and ``weight``.

    A column that is not a model parameter is refused with the names that differ.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, ["file not found"])
    df = pd.read_csv(path, comment="#")
    unknown = [c for c in df.columns if c != WEIGHT and c not in names()]
    problems = []
    if unknown:
        problems.append(f"columns {unknown} are not parameters of the model; known: {', '.join(names())}")
    if WEIGHT not in df.columns:
        problems.append(f"missing column '{WEIGHT}'")
    if not problems and (df[WEIGHT] < 0).any():
        problems.append(f"{WEIGHT}: negative weights")
    if problems:
        raise InputError(path, problems)
    return df


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
    if choice == "posterior" and not path.is_file():
        return [Params()] * n, "defaults (no calibrated posterior committed yet)"
    post = load_posterior(path)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**31,)))
    return draw_params(post, n, rng), str(path)
