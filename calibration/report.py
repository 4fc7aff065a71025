"""What a calibration leaves behind: the posterior, the fit table, predictions and figures.

The fit table is posterior-predictive: parameter sets drawn from the posterior are run through
the project runner (``runner.run``, to the scenario's horizon, as ``cohesion
run`` does), and each target's observed value is set against the median and 90% interval of
the simulated survey figure. Every other survey item is reported from the same runs as a
prediction, never fitted.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from calibration.posterior import draw_params, weighted_quantile
from runner import Task, run_batch
from model.params import ranges
from scenarios.schema import Scenario

from .targets import TargetsFile

KEY_COLUMNS = ["wave", "item", "group", "village"]


def predictive_survey(post: pd.DataFrame, scenario: Scenario, runs: int, seed: int, *, workers: int | None = None,
                      scheduler: str | None = None, progress: bool = True, **store) -> pd.DataFrame:
    """Survey rows of ``runs`` full runs, each on a parameter set drawn from the posterior.

    ``store``: ``out``, ``resume``, ``record`` of ``runner.run_batch`` (finished runs kept on disk,
    so that an interrupted batch resumes; ``cohesion validate --predict``)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**31 + 1,)))
    sets = draw_params(post, runs, rng)
    tasks = [Task(index=k, scenario=scenario, params=sets[k], root_seed=seed, seed_key=10**6 + k, replicate=k)
             for k in range(runs)]
    extra = {"scheduler": scheduler} if scheduler else {}
    res = run_batch(tasks, workers=workers, progress=progress, label="posterior predictive", **extra, **store)
    return res["survey"]


def _quantiles(survey: pd.DataFrame) -> pd.DataFrame:
    q = survey.groupby(KEY_COLUMNS)["value"].quantile([0.05, 0.5, 0.95]).unstack()
    q.columns = ["p05", "median", "p95"]
    q["n_median"] = survey.groupby(KEY_COLUMNS)["n"].median()
    return q.reset_index()


def fit_table(targets: TargetsFile, survey: pd.DataFrame) -> pd.DataFrame:
    """One row per target: observed, sampling sd, predictive median and 90% interval, inside or not."""
    q = _quantiles(survey).set_index(KEY_COLUMNS)
    rows = []
    for t in targets.targets:
        k = (t.wave, t.item, t.group, t.village)
        pred = q.loc[k] if k in q.index else None
        row = {"wave": t.wave, "item": t.item, "group": t.group, "village": t.village,
               "observed": t.value, "sampling_sd": t.sampling_sd() if t.reported else np.nan,
               "sample_size": t.sample_size.n, "used_for": t.used_for,
               "median": pred["median"] if pred is not None else np.nan,
               "p05": pred["p05"] if pred is not None else np.nan,
               "p95": pred["p95"] if pred is not None else np.nan}
        if not t.reported:
            row["status"] = "not reported (prediction only)"
        elif pred is None:
            row["status"] = "missed (no simulated answer)"
        else:
            row["status"] = "inside" if row["p05"] <= t.value <= row["p95"] else "missed"
        rows.append(row)
    return pd.DataFrame(rows)


def predictions_table(targets: TargetsFile, survey: pd.DataFrame) -> pd.DataFrame:
    """Every survey item the calibration did not fit: the calibrated model's prediction."""
    fitted = {(t.wave, t.item, t.group, t.village) for t in targets.reported()}
    q = _quantiles(survey)
    keep = [tuple(r) not in fitted for r in q[KEY_COLUMNS].itertuples(index=False)]
    return q[keep].reset_index(drop=True)


def marginals_figure(post: pd.DataFrame, path: Path, title: str) -> None:
    """Weighted posterior histogram of each calibrated parameter, the uniform prior behind it."""
    params = [c for c in post.columns if c != "weight"]
    r = ranges()
    ncol = 4
    nrow = int(np.ceil(len(params) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.2 * ncol, 2.6 * nrow), squeeze=False)
    for ax, k in zip(axes.flat, params):
        lo, hi = r[k]
        ax.axhspan(0, 1 / (hi - lo), color="0.85", label="prior (uniform over the range)")
        ax.hist(post[k], bins=20, range=(lo, hi), weights=post["weight"], density=True, color="#1f78b4",
                alpha=0.8, label="posterior")
        qs = weighted_quantile(post[k].to_numpy(), post["weight"].to_numpy(), np.array([0.05, 0.95]))
        for x in qs:
            ax.axvline(x, color="#1f78b4", ls=":", lw=1)
        ax.set_xlim(lo, hi)
        ax.set_title(k, fontsize=9)
        ax.set_yticks([])
    for ax in list(axes.flat)[len(params):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, loc="upper right")
    fig.suptitle(title + " (dotted: 90% credible interval)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def weighted_correlations(post: pd.DataFrame) -> pd.DataFrame:
    params = [c for c in post.columns if c != "weight"]
    w = post["weight"].to_numpy()
    x = post[params].to_numpy()
    mean = (w[:, None] * x).sum(0) / w.sum()
    cov = ((w[:, None] * (x - mean)).T @ (x - mean)) / w.sum()
    sd = np.sqrt(np.diag(cov))
    return pd.DataFrame(cov / np.outer(sd, sd), index=params, columns=params)


def top_pairs(post: pd.DataFrame, n: int = 4) -> list[tuple[str, str, float]]:
    corr = weighted_correlations(post)
    pairs = [(a, b, corr.loc[a, b]) for i, a in enumerate(corr.index) for b in corr.index[i + 1:]]
    return sorted(pairs, key=lambda p: -abs(p[2]))[:n]


def pairs_figure(post: pd.DataFrame, path: Path, title: str, n: int = 4) -> None:
    """Posterior scatter of the ``n`` most correlated parameter pairs (point size: weight)."""
    r = ranges()
    pairs = top_pairs(post, n)
    fig, axes = plt.subplots(1, len(pairs), figsize=(3.3 * len(pairs), 3.2), squeeze=False)
    size = 200 * post["weight"] / post["weight"].max()
    for ax, (a, b, rho) in zip(axes.flat, pairs):
        ax.scatter(post[a], post[b], s=size, alpha=0.5, color="#1f78b4", edgecolor="none")
        ax.set_xlim(*r[a])
        ax.set_ylim(*r[b])
        ax.set_xlabel(a, fontsize=8)
        ax.set_ylabel(b, fontsize=8)
        ax.set_title(f"weighted r = {rho:+.2f}", fontsize=9)
    fig.suptitle(title + ": most correlated pairs (axes span the prior ranges)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def observed_vs_predicted_figure(fit: pd.DataFrame, path: Path, title: str) -> None:
    """Each target: observed value (with its sampling 90% interval) against the posterior prediction."""
    fit = fit.reset_index(drop=True)
    labels = [f"{r.item} {r.wave}, {r.group if r.village == 'all' else r.village}" for r in fit.itertuples()]
    y = np.arange(len(fit))[::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(fit) + 1.2))
    ax.hlines(y, fit.p05, fit.p95, color="#1f78b4", lw=6, alpha=0.5, label="posterior predictive 90% interval")
    ax.plot(fit["median"], y, "|", color="#1f78b4", ms=14, mew=2, label="posterior predictive median")
    rep = fit.observed.notna()
    half = 1.645 * fit.sampling_sd
    ax.errorbar(fit.observed[rep], y[rep], xerr=half[rep], fmt="o", color="#e31a1c", capsize=3,
                label="observed (90% sampling interval, assumed n)")
    for yi, r in zip(y, fit.itertuples()):
        if r.status == "missed":
            ax.annotate("missed", (max(r.p95, r.observed) + 0.01, yi), fontsize=7, va="center", color="#e31a1c")
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlim(0, 1.05)
    ax.set_xlabel("share")
    ax.legend(fontsize=7, loc="lower left")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
