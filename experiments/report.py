"""Reports of a batch of replicates: the survey table and the trajectory figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from model.activities import GROUPS  # noqa: E402
from model.survey import ITEMS  # noqa: E402

GROUP_COLOURS = {"FPA": "#d95f02", "VF": "#7570b3", "HC": "#1b9e77", "all": "#333333"}


def survey_table(survey: pd.DataFrame) -> pd.DataFrame:
    """Median and 5-95% interval across replicates of every item, wave, group and village."""
    keys = ["item", "group", "village", "wave"]
    q = survey.groupby(keys, sort=False)["value"].quantile([0.05, 0.5, 0.95]).unstack()
    q.columns = ["p05", "median", "p95"]
    q["n"] = survey.groupby(keys, sort=False)["n"].median()
    q["replicates"] = survey.groupby(keys, sort=False)["value"].size()
    out = q.reset_index()
    # items in the survey's order; splits overall, then groups, then villages in scenario order
    item_order = {item: i for i, item in enumerate(ITEMS)}
    split_order = {("all", "all"): 0, **{(g, "all"): 1 + k for k, g in enumerate(GROUPS)}}
    villages = [v for v in dict.fromkeys(survey["village"]) if v != "all"]
    split_order.update({("all", v): 1 + len(GROUPS) + k for k, v in enumerate(villages)})
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


def band(ax, df: pd.DataFrame, metric: str, colour: str, label: str) -> None:
    q = df.groupby("week")[metric].quantile([0.05, 0.5, 0.95]).unstack()
    ax.fill_between(q.index, q[0.05], q[0.95], color=colour, alpha=0.2, linewidth=0)
    ax.plot(q.index, q[0.5], color=colour, label=label)


def mark_survey(ax, baseline: int, endline: int) -> None:
    for week, name in ((baseline, "baseline"), (endline, "endline")):
        ax.axvline(week, color="grey", linestyle="--", linewidth=0.8)
        ax.annotate(name, (week, 1.0), xycoords=("data", "axes fraction"), rotation=90, va="top",
                    ha="right", fontsize=8, color="grey")


def programme_timeline(ax, programme, horizon: int) -> None:
    """The scenario's activities as bars over the weeks (hand-over periods hatched)."""
    for row, entry in enumerate(programme):
        ax.barh(row, entry.end_week - entry.start_week + 1, left=entry.start_week, height=0.6, color="#4c72b0")
        if entry.handover_share > 0 and entry.end_week < horizon:
            ax.barh(row, horizon - entry.end_week, left=entry.end_week + 1, height=0.6, color="none",
                    edgecolor="#4c72b0", hatch="///", linewidth=0)
    ax.set_yticks(range(len(programme)), [e.activity.replace("_", " ") for e in programme], fontsize=7)
    ax.invert_yaxis()
    ax.set(xlim=(0, horizon), xlabel="week", title="Programme (hatched: handed over to the community)")


def trajectory_figure(ts: pd.DataFrame, baseline: int, endline: int, title: str, path: Path | None = None,
                      programme=None):
    """Acceptance by group and mean well-being over time, median and 5-95% band across replicates.

    With ``programme`` (the scenario's entries) a timeline of the activities is drawn below.
    """
    if programme:
        fig = plt.figure(figsize=(11, 4.2 + 0.18 * len(programme) + 0.8))
        grid = fig.add_gridspec(2, 2, height_ratios=[4.2, 0.18 * len(programme) + 0.8])
        a1, a2 = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
        programme_timeline(fig.add_subplot(grid[1, :]), programme, int(ts["week"].max()))
    else:
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    acc = group_trajectories(ts, "acceptance")
    for g in GROUPS:
        band(a1, acc[acc.group == g], "acceptance", GROUP_COLOURS[g], g)
    band(a1, overall_trajectory(ts, "acceptance"), "acceptance", GROUP_COLOURS["all"], "all households")
    a1.set(xlabel="week", ylabel="share accepting cohabitation", ylim=(0, 1),
           title="Acceptance of cohabitation by group")
    a1.legend(loc="lower right", fontsize=8)
    wb = group_trajectories(ts, "wellbeing")
    for g in GROUPS:
        band(a2, wb[wb.group == g], "wellbeing", GROUP_COLOURS[g], g)
    band(a2, overall_trajectory(ts, "wellbeing"), "wellbeing", GROUP_COLOURS["all"], "all households")
    a2.set(xlabel="week", ylabel="mean WEMWBS score (14-70)", title="Mean well-being")
    a2.legend(loc="lower right", fontsize=8)
    for ax in (a1, a2):
        mark_survey(ax, baseline, endline)
    fig.suptitle(f"{title}: median and 5-95% band across replicates (all households)")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
        plt.close(fig)
    return fig
