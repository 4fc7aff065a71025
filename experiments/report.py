"""Tables of a batch of replicates: the survey table, and the household-weighted trajectories
that the trajectory figure draws (experiments/drawing.py, ``group_trajectory_figure``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from model import outcomes


def survey_table(survey: pd.DataFrame) -> pd.DataFrame:
    """Median and 5-95% interval across replicates of every item, wave, group and village."""
    keys = ["item", "group", "village", "wave"]
    q = survey.groupby(keys, sort=False)["value"].quantile([0.05, 0.5, 0.95]).unstack()
    q.columns = ["p05", "median", "p95"]
    q["n"] = survey.groupby(keys, sort=False)["n"].median()
    q["replicates"] = survey.groupby(keys, sort=False)["value"].size()
    out = q.reset_index()
    # items in the survey's order; splits overall, then groups, then villages in scenario order
    item_order = {item: i for i, item in enumerate(outcomes.item_names())}
    groups = [g for g in dict.fromkeys(survey["group"]) if g != "all"]  # the scenario's order
    split_order = {("all", "all"): 0, **{(g, "all"): 1 + k for k, g in enumerate(groups)}}
    villages = [v for v in dict.fromkeys(survey["village"]) if v != "all"]
    split_order.update({("all", v): 1 + len(groups) + k for k, v in enumerate(villages)})
    out["_i"] = out["item"].map(item_order)
    out["_s"] = [split_order.get((g, v), 99) for g, v in zip(out["group"], out["village"])]
    out = out.sort_values(["_i", "_s", "wave"], kind="stable")
    return out.drop(columns=["_i", "_s"]).reset_index(drop=True)


def split_label(group: str, village: str) -> str:
    if group == "all" and village == "all":
        return "all"
    return group if village == "all" else village


def fmt(median: float, lo: float, hi: float) -> str:
    if np.isnan(median):
        return ""
    return f"{100 * median:.0f}% [{100 * lo:.0f}-{100 * hi:.0f}]"


def wide_table(table: pd.DataFrame) -> pd.DataFrame:
    """One row per item and split, baseline and endline side by side, as printable text."""
    rows = []
    for (item, group, village), sub in table.groupby(["item", "group", "village"], sort=False):
        row = {"item": item, "split": split_label(group, village)}
        for wave in ("baseline", "endline"):
            w = sub[sub.wave == wave]
            row[wave] = fmt(*w[["median", "p05", "p95"]].iloc[0]) if len(w) else ""
        rows.append(row)
    return pd.DataFrame(rows)


def group_trajectories(ts: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Household-weighted mean of a metric per replicate, week and group (villages pooled)."""
    df = ts.assign(_w=ts[metric] * ts["households"])
    g = df.groupby(["replicate", "week", "group"], as_index=False)[["_w", "households"]].sum()
    g[metric] = g["_w"] / g["households"]
    return g.drop(columns=["_w"])


def overall_trajectory(ts: pd.DataFrame, metric: str) -> pd.DataFrame:
    df = ts.assign(_w=ts[metric] * ts["households"])
    g = df.groupby(["replicate", "week"], as_index=False)[["_w", "households"]].sum()
    g[metric] = g["_w"] / g["households"]
    return g.drop(columns=["_w"])
