"""The project's pictures: the trajectory figure of a batch of replicates, the programme's
timeline, and the live views of one run (the network, the week-by-week charts, the survey table).

The trajectory figure (``trajectory_figure``; ``group_trajectory_figure`` is the one ``cohesion
run`` writes, ``experiments.compare.trajectory_figure`` the one ``cohesion compare`` writes) and
the timeline (``programme_timeline``, also under the live charts) are drawn here and nowhere else.

The dashboard (experiments/dashboard.py) redraws the live views every week; the notebooks call
the same functions on a finished run. They read a ``CohesionModel`` and never change it, and use
matplotlib's object API (no pyplot state), so the dashboard can draw from its stepping thread.
The trajectory figure is a pyplot figure, shown inline in a notebook or saved to a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from io import BytesIO
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from PIL import Image  # noqa: E402

from experiments.report import group_trajectories, overall_trajectory, split_label, survey_table  # noqa: E402
from model import outcomes  # noqa: E402
from model.activities import catalogue  # noqa: E402
from model.model import CohesionModel  # noqa: E402
from model.state import WEMWBS_MAX, WEMWBS_MIN  # noqa: E402

SHADES = ("attitude", "wellbeing")
PALETTE = ("#d95f02", "#7570b3", "#1b9e77", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1f78b4")
"""Colours of a scenario's groups, in its order (matplotlib's Dark2, reordered, and one Paired blue)."""
ALL_COLOUR = "#333333"  # all households together


def group_colours(groups: list[str]) -> dict[str, str]:
    """A colour for each of the scenario's groups (by position, from ``PALETTE``), and for "all"."""
    return {**{g: PALETTE[k % len(PALETTE)] for k, g in enumerate(groups)}, "all": ALL_COLOUR}


def groups_of(table: pd.DataFrame) -> list[str]:
    """The groups of a time-series or survey table, in the order they first appear."""
    return [g for g in dict.fromkeys(table["group"]) if g != "all"]
LEVEL_COLOURS = {"individual": "#a6cee3", "family": "#1f78b4", "group": "#b2df8a", "community": "#33a02c"}
PROGRAMME_COLOUR = "#4c72b0"


def chart_outcomes() -> list:
    """The weekly outcomes the live charts show: the registry's headline weekly outcomes."""
    shown = [o for o in outcomes.weekly() if o.headline and not o.towards_groups]
    return sorted(shown, key=lambda o: not o.harm_if_below_baseline)  # harm signals first


def chart_metrics(groups: list[str]) -> tuple[str, ...]:
    """The charted series (DataCollector columns): each headline weekly outcome, and by group
    for an outcome that signals harm (``<name>_<group>``)."""
    out: list[str] = []
    for o in chart_outcomes():
        out.append(o.name)
        if o.harm_if_below_baseline:
            out += [f"{o.name}_{g}" for g in groups]
    return tuple(out)


def split_metric(metric: str, groups: list[str]) -> tuple:
    """A charted series as (outcome, group or None): ``acceptance_<g>`` is acceptance in group g."""
    if metric in outcomes.OUTCOMES:
        return outcomes.OUTCOMES[metric], None
    for g in groups:
        name = metric.removesuffix(f"_{g}")
        if name != metric and name in outcomes.OUTCOMES:
            return outcomes.OUTCOMES[name], g
    raise KeyError(f"{metric!r} is not an outcome of the registry, nor one by group of {groups}")


def metric_label(metric: str, groups: list[str]) -> str:
    """A charted series in words: the outcome's explanation, with its group if any."""
    o, group = split_metric(metric, groups)
    return f"{o.doc}, {group}" if group else o.doc


def format_value(metric: str, v: float, groups: list[str]) -> str:
    """A value in its outcome's unit: a share in percent, a level with two decimals, a WEMWBS
    score with one."""
    o, _ = split_metric(metric, groups)
    if o.proportion:
        return f"{100 * v:.1f}%"
    return f"{v:.1f}" if "WEMWBS" in o.unit else f"{v:.2f}"
RUN_STYLES = ("-", "--")


# --- survey weeks and the programme's timeline ------------------------------------------------
def mark_survey(ax, baseline: int, endline: int, labelled: bool = True) -> None:
    """The baseline and endline weeks as grey vertical lines: dashed and named, or (``labelled``
    False) dotted and bare."""
    for week, name in ((baseline, "baseline"), (endline, "endline")):
        if not labelled:
            ax.axvline(week, color="grey", linestyle=":", linewidth=0.8)
            continue
        ax.axvline(week, color="grey", linestyle="--", linewidth=0.8)
        ax.annotate(name, (week, 1.0), xycoords=("data", "axes fraction"), rotation=90, va="top",
                    ha="right", fontsize=8, color="grey")


# The timeline's two looks. "report" (figures of a batch, notebooks): week k spans [k, k + 1],
# one colour, readable activity names, the axis titled. "live" (under the dashboard's charts,
# compact): week k centred on its tick, coloured by the activity's level, titled by the caller.
TIMELINE_LOOKS = {
    "report": {"offset": 0.0, "height": 0.6, "edge": 0.0, "fontsize": 7, "by_level": False},
    "live": {"offset": -0.5, "height": 0.7, "edge": 0.5, "fontsize": 6, "by_level": True},
}


def programme_timeline(ax, programme, horizon: int, look: str = "report") -> None:
    """The scenario's programme entries (``Scenario.programme``) as bars over the weeks, one row
    each; an activity handed over to the community (``handover_share`` > 0) is hatched over the
    weeks after its end week, up to ``horizon``.
    ``look``: "report" or "live" (``TIMELINE_LOOKS``)."""
    if look not in TIMELINE_LOOKS:
        raise ValueError(f"unknown timeline look '{look}'; allowed: {', '.join(TIMELINE_LOOKS)}")
    style = TIMELINE_LOOKS[look]
    offset, height = style["offset"], style["height"]
    for row, entry in enumerate(programme):
        colour = (LEVEL_COLOURS.get(catalogue()[entry.activity].level, "#999999") if style["by_level"]
                  else PROGRAMME_COLOUR)
        ax.barh(row, entry.end_week - entry.start_week + 1, left=entry.start_week + offset, height=height,
                color=colour)
        if entry.handover_share > 0 and entry.end_week < horizon:
            ax.barh(row, horizon - entry.end_week, left=entry.end_week + 1 + offset, height=height, color="none",
                    edgecolor=colour, hatch="///", linewidth=style["edge"])
    names = [e.activity if style["by_level"] else e.activity.replace("_", " ") for e in programme]
    ax.set_yticks(range(len(programme)), names, fontsize=style["fontsize"])
    ax.invert_yaxis()
    ax.set_xlim(0, horizon)
    if look == "report":
        ax.set(xlabel="week", title="Programme (hatched: handed over to the community)")
    else:
        ax.tick_params(axis="x", labelsize=7)


# --- the trajectory figure of a batch of replicates -----------------------------------------------
@dataclass(frozen=True)
class Band:
    """One series of a trajectory panel: ``column`` of ``data`` (rows per replicate and week, with
    a ``week`` column), drawn as its median and 5-95% band across replicates."""

    data: pd.DataFrame
    column: str
    colour: str
    label: str
    linestyle: str = "-"


@dataclass(frozen=True)
class Panel:
    """One panel of the trajectory figure."""

    bands: list[Band]
    ylabel: str
    title: str | None = None
    ylim: tuple[float, float] | None = None
    legend: dict | None = None  # keyword arguments of ``Axes.legend``; None: no legend


def draw_band(ax, band: Band, alpha: float) -> None:
    q = band.data.groupby("week")[band.column].quantile([0.05, 0.5, 0.95]).unstack()
    ax.fill_between(q.index, q[0.05], q[0.95], color=band.colour, alpha=alpha, linewidth=0)
    ax.plot(q.index, q[0.5], color=band.colour, label=band.label, linestyle=band.linestyle)


def trajectory_figure(panels: list[Panel], title: str, baseline: int, endline: int, *, panel_width: float = 5.5,
                      alpha: float = 0.2, survey_labels: bool = True, programme=None, path: Path | None = None):
    """Panels side by side of series over the weeks, each a median and 5-95% band across
    replicates, the survey weeks marked (``mark_survey``); with ``programme`` (the scenario's
    entries) its timeline below. Saved to ``path`` and closed if a path is given; returns the
    pyplot figure."""
    n = len(panels)
    if programme:
        fig = plt.figure(figsize=(panel_width * n, 4.2 + 0.18 * len(programme) + 0.8))
        grid = fig.add_gridspec(2, n, height_ratios=[4.2, 0.18 * len(programme) + 0.8])
        axes = [fig.add_subplot(grid[0, k]) for k in range(n)]
        horizon = int(max(band.data["week"].max() for panel in panels for band in panel.bands))
        programme_timeline(fig.add_subplot(grid[1, :]), programme, horizon)
    else:
        fig, row = plt.subplots(1, n, figsize=(panel_width * n, 4.2), squeeze=False)
        axes = list(row[0])
    for ax, panel in zip(axes, panels):
        for band in panel.bands:
            draw_band(ax, band, alpha)
        ax.set(xlabel="week", ylabel=panel.ylabel)
        if panel.ylim is not None:
            ax.set(ylim=panel.ylim)
        if panel.title is not None:
            ax.set(title=panel.title)
        if panel.legend is not None:
            ax.legend(**panel.legend)
        mark_survey(ax, baseline, endline, labelled=survey_labels)
    fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
        plt.close(fig)
    return fig


def group_trajectory_figure(ts: pd.DataFrame, baseline: int, endline: int, title: str, path: Path | None = None,
                            programme=None):
    """The weekly outcomes that signal harm (acceptance) and the headline weekly levels (well-being)
    by group over time, median and 5-95% band across replicates (the figure of ``cohesion run``;
    ``ts``: its time series, one row per replicate, week, group and village). With ``programme``
    (the scenario's entries) a timeline of the activities is drawn below."""
    panels = []
    for o in sorted(outcomes.weekly(), key=lambda o: not o.harm_if_below_baseline):  # harm signals first
        if not (o.harm_if_below_baseline or (o.headline and not o.proportion)) or o.name not in ts:
            continue
        by_group = group_trajectories(ts, o.name)
        colours = group_colours(groups_of(ts))
        bands = [Band(by_group[by_group.group == g], o.name, colours[g], g) for g in groups_of(ts)]
        bands.append(Band(overall_trajectory(ts, o.name), o.name, ALL_COLOUR, "all households"))
        limits = {"ylim": (0, 1)} if o.proportion else {}
        panels.append(Panel(bands, o.unit, legend={"loc": "lower right", "fontsize": 8},
                            title=f"{o.doc[:1].upper() + o.doc[1:]}, by group", **limits))
    return trajectory_figure(panels, f"{title}: median and 5-95% band across replicates (all households)",
                             baseline, endline, programme=programme, path=path)


# --- fast redraws -----------------------------------------------------------------------------
class Blit:
    """PNG frames of a figure whose static part is drawn once (matplotlib's blitting).

    The ``dynamic`` artists are drawn over a saved background each frame; ``invalidate`` when
    something static changed (axis limits). Only the dashboard uses this: figures returned to a
    notebook draw normally.
    """

    def __init__(self, fig: Figure, dynamic: list):
        self.fig = fig
        self.canvas = FigureCanvasAgg(fig)
        self.dynamic = dynamic
        for artist in dynamic:
            artist.set_animated(True)
        self.background = None

    def invalidate(self) -> None:
        self.background = None

    def png(self) -> bytes:
        if self.background is None:
            self.canvas.draw()
            self.background = self.canvas.copy_from_bbox(self.fig.bbox)
        else:
            self.canvas.restore_region(self.background)
        for artist in self.dynamic:
            self.fig.draw_artist(artist)
        buf = self.canvas.buffer_rgba()
        out = BytesIO()
        Image.frombuffer("RGBA", (buf.shape[1], buf.shape[0]), buf, "raw", "RGBA", 0, 1).save(out, "png",
                                                                                              compress_level=1)
        return out.getvalue()


# --- the network ------------------------------------------------------------------------------
def village_layout(group: np.ndarray, village: np.ndarray, n_villages: int, n_groups: int, seed: int = 0) -> np.ndarray:
    """Household positions: one cluster per village on a circle, one sub-cluster per group in it.

    Computed once per population (array arithmetic, no force layout), so that cross-group ties
    show as lines between the sub-clusters of a village and cross-village ties between villages.
    The jitter has its own seed: drawing never touches the model's random streams.
    """
    rng = np.random.default_rng(seed)
    angle_v = np.pi / 2 + 2 * np.pi * np.arange(n_villages) / max(n_villages, 1)
    centres = 3.4 * np.column_stack([np.cos(angle_v), np.sin(angle_v)]) if n_villages > 1 else np.zeros((1, 2))
    angle_g = np.pi / 2 + 2 * np.pi * np.arange(n_groups) / n_groups
    offsets = 0.95 * np.column_stack([np.cos(angle_g), np.sin(angle_g)])
    block = village.astype(np.int64) * n_groups + group
    counts = np.bincount(block, minlength=n_villages * n_groups)
    # a uniform disc per (village, group), its area proportional to the households in it
    radius = 0.045 * np.sqrt(np.maximum(counts[block], 1))
    r = radius * np.sqrt(rng.random(group.size))
    theta = 2 * np.pi * rng.random(group.size)
    return centres[village] + offsets[group] + np.column_stack([r * np.cos(theta), r * np.sin(theta)])


def shade_values(model: CohesionModel, shade: str) -> np.ndarray:
    """The 0-1 value that shades each household: mean attitude to the other groups, or well-being."""
    s = model.state
    if shade == "attitude":
        return (s.attitude * s.other_mask).sum(axis=1) / (s.attitude.shape[1] - 1)
    if shade == "wellbeing":
        return (s.wellbeing - WEMWBS_MIN) / (WEMWBS_MAX - WEMWBS_MIN)
    raise ValueError(f"unknown shade '{shade}'; allowed: {', '.join(SHADES)}")


def node_colours(group: np.ndarray, value: np.ndarray, groups: list[str]) -> np.ndarray:
    """Group hue, from pale (value 0) to full colour (value 1)."""
    colours = group_colours(groups)
    base = np.array([to_rgb(colours[g]) for g in groups])[group]
    w = 0.12 + 0.88 * np.clip(value, 0.0, 1.0)[:, None]
    return np.column_stack([1.0 - w * (1.0 - base), np.ones(group.size)])


class NetworkView:
    """The social network of one run, drawn once and updated in place each week.

    Ties within a group are faint grey, baseline cross-group ties light red, and cross-group
    ties made by the programme's mixed activities dark red.
    """

    def __init__(self, model: CohesionModel, shade: str = "attitude", ax=None, title: str | None = None):
        if shade not in SHADES:
            raise ValueError(f"unknown shade '{shade}'; allowed: {', '.join(SHADES)}")
        self.shade = shade
        self.title = title or model.spec.name
        s, net = model.state, model.network
        self.pos = village_layout(s.group, s.village, len(model.villages), len(model.groups))
        if ax is None:
            self.fig = Figure(figsize=(6.2, 6.2), layout="constrained")
            ax = self.fig.add_subplot()
        else:
            self.fig = ax.figure
        self.ax = ax
        self._blit: Blit | None = None
        same = s.group[net.src] == s.group[net.dst]
        seg = np.stack([self.pos[net.src], self.pos[net.dst]], axis=1)
        ax.add_collection(LineCollection(seg[same], colors=(0.55, 0.55, 0.55, 0.12), linewidths=0.4))
        ax.add_collection(LineCollection(seg[~same], colors=(0.85, 0.2, 0.2, 0.35), linewidths=0.6))
        self.new_ties = LineCollection([], colors=(0.55, 0.0, 0.0, 0.55), linewidths=0.6)
        ax.add_collection(self.new_ties)
        self.nodes = ax.scatter(self.pos[:, 0], self.pos[:, 1], s=11, linewidths=0.2, edgecolors="#555555",
                                zorder=3)
        for v, name in enumerate(model.villages):
            here = self.pos[s.village == v]
            ax.annotate(name, (here[:, 0].mean(), here[:, 1].max()), xytext=(0, 4), textcoords="offset points",
                        ha="center", va="bottom", fontsize=9, weight="bold", color="#333333")
        ax.set_aspect("equal")
        ax.autoscale_view()
        ax.margins(0.08)
        ax.set_axis_off()
        colours = group_colours(model.groups)
        handles = [Line2D([], [], marker="o", linestyle="", color=colours[g], label=g) for g in model.groups]
        handles += [Line2D([], [], color=(0.85, 0.2, 0.2, 0.6), label="cross-group tie"),
                    Line2D([], [], color=(0.55, 0.0, 0.0, 0.9), label="tie made by an activity")]
        ax.legend(handles=handles, loc="lower center", ncol=5, fontsize=7, frameon=False,
                  bbox_to_anchor=(0.5, -0.06), handletextpad=0.3, columnspacing=0.8)
        self.update(model)

    def update(self, model: CohesionModel) -> Figure:
        net = model.network
        self.nodes.set_facecolors(node_colours(model.state.group, shade_values(model, self.shade), model.groups))
        if net.new_src.size:
            self.new_ties.set_segments(np.stack([self.pos[net.new_src], self.pos[net.new_dst]], axis=1))
        else:
            self.new_ties.set_segments([])
        shade = "mean attitude to the other groups" if self.shade == "attitude" else "well-being"
        self.ax.set_title(f"{self.title}, week {model.week}: shade = {shade} (pale = low); "
                          f"{net.new_src.size} ties made by activities", fontsize=8)
        return self.fig

    def png(self, model: CohesionModel) -> bytes:
        """This week's picture as PNG bytes, redrawing only the households and the new ties."""
        self.update(model)
        if self._blit is None:
            self._blit = Blit(self.fig, [self.new_ties, self.nodes, self.ax.title])
        return self._blit.png()


def network_figure(model: CohesionModel, shade: str = "attitude") -> Figure:
    """The network of a run at its current week (see ``NetworkView``)."""
    return NetworkView(model, shade).fig


# --- week-by-week charts ----------------------------------------------------------------------
def weekly(model: CohesionModel) -> pd.DataFrame:
    """The run's model-level series so far, one row per week (the DataCollector's table)."""
    df = model.datacollector.get_model_vars_dataframe()
    return df.reset_index(drop=True)[["week", *chart_metrics(model.groups)]]


class ChartsView:
    """The headline weekly outcomes (model/outcomes.py) over the weeks run so far, one panel each
    (an outcome that signals harm by group as well), with each run's activity timeline and survey
    weeks; a second run is drawn dashed.

    Axes, timelines and layout are built once; ``update`` only replaces the lines' data, so a
    week redraws quickly.
    """

    def __init__(self, models: list[CohesionModel], labels: list[str] | None = None):
        self.labels = labels or [m.spec.name for m in models]
        self._blit: Blit | None = None
        self.shown = chart_outcomes()
        horizon = max(m.spec.horizon_weeks for m in models)
        n_entries = [max(len(m.spec.programme), 1) for m in models]
        rows = (len(self.shown) + 1) // 2
        fig = self.fig = Figure(figsize=(9.0, 2.6 * rows + 0.14 * sum(n_entries)), layout="constrained")
        gs = fig.add_gridspec(rows + len(models), 2, height_ratios=[*[1] * rows, *[0.12 * n for n in n_entries]])
        self.axes = [fig.add_subplot(gs[k // 2, k % 2]) for k in range(len(self.shown))]
        self.groups = models[0].groups
        self.lines = [self._lines(label, style) for label, style in zip(self.labels, RUN_STYLES)]
        for ax, o in zip(self.axes, self.shown):
            ax.set(ylabel=o.unit, title=o.doc[:1].upper() + o.doc[1:])
            if o.harm_if_below_baseline:
                ax.set_ylim(0, 1)
                ax.legend(fontsize=6, loc="lower right", ncol=2)
            elif o.proportion:
                ax.set_ylim(0, 0.05)  # a share: from 0, widened as the data need
            elif len(models) > 1:
                ax.legend(fontsize=6, loc="lower right")
            ax.set_xlim(0, horizon)
            ax.tick_params(labelsize=7)
            ax.title.set_fontsize(8)
            ax.yaxis.label.set_fontsize(7)
            mark_survey(ax, models[0].spec.survey.baseline_week, models[0].spec.survey.endline_week)
        self.now = [self._timeline(fig.add_subplot(gs[rows + k, :], sharex=self.axes[0]), model, label, horizon)
                    for k, (model, label) in enumerate(zip(models, self.labels))]
        fig.supxlabel("week", fontsize=8)
        self.update(models)
        # fix the layout after the first draw: later weeks only move data
        fig.draw_without_rendering()
        fig.set_layout_engine("none")

    def _lines(self, label: str, style: str) -> dict[str, Line2D]:
        lines = {}
        for ax, o in zip(self.axes, self.shown):
            if o.harm_if_below_baseline:
                colours = group_colours(self.groups)
                for g in self.groups:
                    lines[f"{o.name}_{g}"] = ax.plot([], [], style, color=colours[g],
                                                     label=g if style == "-" else None)[0]
                lines[o.name] = ax.plot([], [], style, color=ALL_COLOUR, label=f"all: {label}")[0]
            else:
                lines[o.name] = ax.plot([], [], style, color=ALL_COLOUR, label=label)[0]
        return lines

    @staticmethod
    def _timeline(ax, model: CohesionModel, label: str, horizon: int):
        programme_timeline(ax, model.spec.programme, horizon, look="live")
        mark_survey(ax, model.spec.survey.baseline_week, model.spec.survey.endline_week)
        ax.set_title(f"programme of {label} (hatched: handed over to the community)", fontsize=8)
        return ax.axvline(model.week, color="black", linewidth=1.0)

    def update(self, models: list[CohesionModel]) -> Figure:
        for model, lines, now in zip(models, self.lines, self.now):
            df = weekly(model)
            for name, line in lines.items():
                line.set_data(df.week.to_numpy(), df[name].to_numpy())
            now.set_xdata([model.week, model.week])
        for ax, o in zip(self.axes, self.shown):
            if not o.harm_if_below_baseline:
                self._fit(ax, o, np.concatenate([lines[o.name].get_ydata() for lines in self.lines]))
        return self.fig

    def _fit(self, ax, o, ys: np.ndarray) -> None:
        """Widen the y-axis, with room to spare, when the data leave it (so that the limits, and the
        saved background, change rarely); shares start at 0."""
        lo, hi = float(np.nanmin(ys)), float(np.nanmax(ys))
        bottom, top = ax.get_ylim()
        if lo < bottom or hi > top:
            pad = 0.25 * max(hi - lo, 0.02 * max(abs(hi), 1.0))
            ax.set_ylim(0.0 if o.proportion else lo - pad, hi + pad)
            if self._blit is not None:
                self._blit.invalidate()

    def png(self, models: list[CohesionModel]) -> bytes:
        """This week's charts as PNG bytes, redrawing only the lines."""
        self.update(models)
        if self._blit is None:
            dynamic = [line for lines in self.lines for line in lines.values()] + self.now
            self._blit = Blit(self.fig, dynamic)
        return self._blit.png()


def live_charts(models: list[CohesionModel], labels: list[str] | None = None) -> Figure:
    """The charts of ``ChartsView`` for runs at their current week."""
    return ChartsView(models, labels).fig


def chart_data_html(models: list[CohesionModel], labels: list[str] | None = None, digits: int = 4) -> str:
    """The charts' numbers as an HTML table (one row per run and week), for reading and testing."""
    labels = labels or [m.spec.name for m in models]
    metrics = chart_metrics(models[0].groups)
    head = "".join(f"<th>{escape(c)}</th>" for c in ("run", "week", *metrics))
    rows = []
    for k, (model, label) in enumerate(zip(models, labels)):
        for rec in weekly(model).itertuples(index=False):
            cells = [f"<td>{escape(label)}</td>", f"<td data-col='week'>{int(rec.week)}</td>"]
            cells += [f"<td data-col='{c}'>{getattr(rec, c):.{digits}f}</td>" for c in metrics]
            rows.append(f"<tr data-run='{k}'>{''.join(cells)}</tr>")
    return (f"<table class='chart-data' data-testid='chart-data'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def current_values_html(models: list[CohesionModel], labels: list[str] | None = None) -> str:
    """This week's values of the charted metrics, one column per run."""
    labels = labels or [m.spec.name for m in models]
    head = "<th></th>" + "".join(f"<th>{escape(lab)}</th>" for lab in labels)
    body = [f"<tr><td>week</td>{''.join(f'<td>{m.week}</td>' for m in models)}</tr>"]
    for c in chart_metrics(models[0].groups):
        vals = [weekly(m)[c].iloc[-1] for m in models]
        groups = models[0].groups
        body.append(f"<tr><td>{escape(metric_label(c, groups))}</td>"
                    f"{''.join(f'<td>{format_value(c, v, groups)}</td>' for v in vals)}</tr>")
    return (f"<table class='now' data-testid='current-values'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


# --- the survey -------------------------------------------------------------------------------
def survey_wide(model: CohesionModel) -> pd.DataFrame:
    """The run's survey so far: one row per item and split, baseline and endline value and n."""
    survey = model.survey_results()
    if survey.empty:
        return pd.DataFrame(columns=["item", "split", "baseline", "endline", "n"])
    table = survey_table(survey)
    table["split"] = [split_label(g, v) for g, v in zip(table.group, table.village)]
    wide = table.pivot_table(index=["item", "split"], columns="wave", values="median", sort=False)
    n = table.groupby(["item", "split"], sort=False)["n"].max()
    out = wide.reindex(columns=["baseline", "endline"]).assign(n=n).reset_index()
    return out


def survey_html(models: list[CohesionModel], labels: list[str] | None = None) -> str:
    """The survey table of each run (percent of respondents; well-being as a share of the scale)."""
    labels = labels or [m.spec.name for m in models]
    parts = []
    for k, (model, label) in enumerate(zip(models, labels)):
        wide = survey_wide(model)
        sv = model.spec.survey
        if wide.empty:
            parts.append(f"<p>{escape(label)}: no survey yet (baseline at week {sv.baseline_week}).</p>")
            continue
        done = "endline" if "endline" in model.snapshots else f"baseline only; endline at week {sv.endline_week}"
        rows = []
        last = None
        for r in wide.itertuples(index=False):
            cells = [f"<td>{escape(r.item) if r.item != last else ''}</td>", f"<td>{escape(r.split)}</td>"]
            for wave in ("baseline", "endline"):
                v = getattr(r, wave)
                cells.append(f"<td data-wave='{wave}'>{'' if pd.isna(v) else f'{100 * v:.1f}%'}</td>")
            cells.append(f"<td>{int(r.n)}</td>")
            rows.append(f"<tr data-item='{escape(r.item)}' data-split='{escape(r.split)}'>{''.join(cells)}</tr>")
            last = r.item
        parts.append(
            f"<table class='survey' data-testid='survey' data-run='{k}'><caption>{escape(label)}: survey of "
            f"{escape(sv.frame)} ({done})</caption><thead><tr><th>item</th><th>split</th><th>baseline</th>"
            f"<th>endline</th><th>n</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")
    return "".join(parts)
