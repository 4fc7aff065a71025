"""The observer: what a run records of itself, every week and at the survey's waves.

One object owns everything observed (it only reads the state): the weekly time series by
(group, village) cell, the population summary and Mesa's DataCollector (both from the weekly
outcomes of ``model/outcomes.py``), the survey's readings at the baseline and endline weeks, and
the survey's frame, frozen at the endline week.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np
import pandas as pd

from . import outcomes
from .kernels import segment_sums
from .outcomes import Reading

if TYPE_CHECKING:
    from .model import CohesionModel


class Observer:
    def __init__(self, model: "CohesionModel"):
        s = model.state
        self.groups, self.villages = list(model.groups), list(model.villages)
        self.weekly = outcomes.weekly()
        ng, nv = len(self.groups), len(self.villages)
        self.columns = [f"{o.name}_{g}" if o.towards_groups else o.name
                        for o in self.weekly for g in (self.groups if o.towards_groups else [None])]
        # (group, village) cells, group-major (the series' order); households come in (village,
        # group) blocks (population.build_population), so a cell's sums are segment sums
        self._cell = s.group.astype(np.int64) * nv + s.village
        self._cell_count = np.bincount(self._cell, minlength=ng * nv).astype(float)
        block = s.village.astype(np.int64) * ng + s.group
        by_block = np.argsort(block, kind="stable")
        self._order = None if np.array_equal(by_block, np.arange(block.size)) else by_block
        self._starts = np.flatnonzero(np.diff(block[by_block], prepend=-1))
        self._start_cell = self._cell[by_block][self._starts]
        self._own = self._own_group_cells(ng, nv)
        self.series: list[np.ndarray] = []
        self.readings: dict[str, Reading] = {}
        self.moved = bool((s.arrival_week > 0).any() or (s.departure_week < np.iinfo(s.departure_week.dtype).max).any())
        self.endline_frame: np.ndarray | None = None
        self._summary_values: list[float] = []
        names = [o.name for o in self.weekly if not o.towards_groups]
        self._summary_columns = [self.columns.index(name) for name in names]
        self._summary_keys = names + [f"{name}_{g}" for name in names for g in self.groups]
        self.datacollector = mesa.DataCollector(model_reporters=self._reporters(model))

    def _own_group_cells(self, ng: int, nv: int) -> np.ndarray:
        """Cells x columns: True where a column is the attitude towards the cell's own group."""
        own = np.zeros((ng * nv, len(self.columns)), dtype=bool)
        for k, g in enumerate(self.groups):
            for o in self.weekly:
                if o.towards_groups:
                    own[np.arange(ng * nv) // nv == k, self.columns.index(f"{o.name}_{g}")] = True
        return own

    def _reporters(self, model: "CohesionModel") -> dict:
        """The DataCollector's columns: the weekly outcomes' population means, by group those
        that signal harm (the comparison's trajectories), the cost so far, each village's tension."""
        keys = [o.name for o in self.weekly if not o.towards_groups]
        keys += [f"{o.name}_{g}" for o in self.weekly if o.harm_if_below_baseline for g in self.groups]
        at = {k: i for i, k in enumerate(self._summary_keys)}
        return {"week": "week", **{k: (lambda m, i=at[k]: m.observer._summary_values[i]) for k in keys}, "cost": "cost",
                **{f"tension_{v}": (lambda m, i=i: float(m.state.tension[i])) for i, v in enumerate(self.villages)}}

    # --- every week -------------------------------------------------------------------------
    def observe(self, model: "CohesionModel") -> None:
        s, survey = model.state, model.spec.survey
        reading = Reading(model.week, s, model.network, model.params)
        if model.week == survey.baseline_week:
            self.readings["baseline"] = Reading(model.week, s, model.network, model.params, copy=True)
        if model.week == survey.endline_week:
            self.readings["endline"] = Reading(model.week, s, model.network, model.params, copy=True,
                                               base=self.readings.get("baseline"))
            self.readings["endline"].arrays["cutoff_z"] = personal_cutoffs(model)
            self.endline_frame = self.frame(model)  # who had attended by the endline, not later
        values = [v for o in self.weekly for v in _columns(np.asarray(o.of(reading)))]
        counts = self._cell_count
        if not s.present.all():  # only households that are there count (model/presence.py)
            values = [np.where(s.present, v, 0.0) for v in values]
            counts = segment_sums([s.present], self._order, self._starts, self._start_cell, counts.size)[:, 0]
        sums = segment_sums(values, self._order, self._starts, self._start_cell, counts.size)
        means = sums / np.where(counts > 0, counts, np.nan)[:, None]  # NaN where a cell is empty
        means[self._own] = np.nan  # attitude towards one's own group is not a state
        self.series.append(np.column_stack([counts, means]))
        self._summary_values = self._summarise(sums, counts)
        self.datacollector.collect(model)

    @property
    def summary(self) -> dict[str, float]:
        """This week's population and group means: ``<outcome>`` and ``<outcome>_<group>`` for
        each weekly outcome with one column."""
        return dict(zip(self._summary_keys, self._summary_values))

    def _summarise(self, sums: np.ndarray, counts: np.ndarray) -> list[float]:
        """The summary's values from the cell sums and counts (the cells are group-major)."""
        ng, nv = len(self.groups), len(self.villages)
        chosen = sums[:, self._summary_columns]
        group_size = counts.reshape(ng, nv).sum(axis=1)
        everyone = counts.sum()  # dividing by NaN (nobody there) gives NaN, without a warning
        values = np.concatenate([chosen.sum(axis=0) / (everyone if everyone > 0 else np.nan),
                                 (chosen.reshape(ng, nv, -1).sum(axis=1)
                                  / np.where(group_size > 0, group_size, np.nan)[:, None]).T.ravel()])
        return values.tolist()

    # --- the survey's frame -------------------------------------------------------------------
    def frame(self, model: "CohesionModel") -> np.ndarray:
        """Who the survey samples (docs/survey.md): all households present, or the participants: those
        present who have attended the surveyed activities (``survey.surveyed_activities``) for at
        least ``survey.min_attendance_weeks`` weeks (``state.attendance``, model/recall.py); while
        nobody has, those eligible for a surveyed activity. Frozen at the endline week once it has
        passed."""
        if self.endline_frame is not None:
            return self.endline_frame.copy()
        s, survey = model.state, model.spec.survey
        if survey.frame == "households":
            return s.present.copy()
        attended = (s.attendance >= survey.min_attendance_weeks) & s.present
        if attended.any():
            return attended
        asked = set(survey.surveyed_activities)
        eligible = [e.eligible for e in model.programme.entries if e.name in asked]
        return np.logical_or.reduce(eligible) & s.present if eligible else np.zeros(s.n, dtype=bool)

    # --- results ------------------------------------------------------------------------------
    def timeseries(self, scenario: str, replicate: int) -> pd.DataFrame:
        """One row per week x group x village: households and mean state (timeseries.parquet)."""
        ng, nv = len(self.groups), len(self.villages)
        data = np.stack(self.series)  # weeks x cells x (1 + columns)
        cells = np.tile(np.arange(ng * nv), data.shape[0])
        df = pd.DataFrame(data.reshape(-1, data.shape[2]), columns=["households", *self.columns])
        df.insert(0, "village", [self.villages[c % nv] for c in cells])
        df.insert(0, "group", [self.groups[c // nv] for c in cells])
        df.insert(0, "week", np.repeat(np.arange(data.shape[0]), ng * nv))
        df.insert(0, "replicate", replicate)
        df.insert(0, "scenario", scenario)
        df = df[df.households > 0].reset_index(drop=True)
        df["households"] = df["households"].astype(int)
        return df

    def measures(self, model: "CohesionModel", wave: str) -> dict[str, float]:
        """The population measures at one survey wave (``outcomes.population_measures``), overall,
        by group and by village; run totals (cost) at the endline. Names ``<outcome>[.<where>]``.
        Where households arrive or leave, an outcome that signals harm is also given at the endline
        over the households present at both waves (``cohort.<outcome>[.<where>]``)."""
        if wave not in self.readings:
            raise ValueError(f"the run has not reached the {wave} week")
        r = self.readings[wave]
        out: dict[str, float] = {}
        for o in outcomes.population_measures():
            if o.total is not None:
                if wave == "endline":
                    out[o.name] = float(o.total(model))
                continue
            if wave not in o.waves:
                continue
            who = r.present & (r.ever if o.on == "participants" else True)
            value = np.asarray(o.of(r), dtype=float)
            out.update(split_means(o.name, value, who, r.group, r.village, self.groups, self.villages))
            if wave == "endline" and o.harm_if_below_baseline and self.moved:
                # the households of the baseline, followed: like with like when others arrived or left
                out.update(split_means(f"cohort.{o.name}", value, who & r.base.present, r.group, r.village,
                                       self.groups, self.villages))
        return out


def personal_cutoffs(model: "CohesionModel") -> np.ndarray:
    """Each household's personal cut-off for answering "yes" (model/respondent.py), a standard
    normal deviation drawn once per run from the survey's stream (a stream of its own, so that the
    respondents drawn do not change)."""
    return np.random.default_rng([int(model._survey_seed), 1]).standard_normal(model.state.n)


def _columns(value: np.ndarray) -> list[np.ndarray]:
    """An outcome's per-household value as columns (one, or one per group)."""
    return [value] if value.ndim == 1 else list(value.T)


def split_means(name: str, value: np.ndarray, who: np.ndarray, group: np.ndarray, village: np.ndarray,
                groups: list[str], villages: list[str], sep: str = ".") -> dict[str, float]:
    """Mean of ``value`` over ``who`` (answers that are NaN left out): overall as ``name``, by group
    and by village as ``name.<group>`` and ``name.<village>``; NaN where nobody answered."""
    valid = who & ~np.isnan(value)
    out = {name: _mean(value, valid)}
    out.update({f"{name}{sep}{g}": _mean(value, valid & (group == k)) for k, g in enumerate(groups)})
    out.update({f"{name}{sep}{v}": _mean(value, valid & (village == k)) for k, v in enumerate(villages)})
    return out


def _mean(value: np.ndarray, mask: np.ndarray) -> float:
    return float(value[mask].mean()) if mask.any() else np.nan
