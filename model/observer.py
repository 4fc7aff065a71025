"""The observer: what a run records of itself, every week and at the survey's waves.

One object owns everything observed (it only reads the state): the weekly time series by
(group, village) cell, the population summary and Mesa's DataCollector (both from the weekly
outcomes of ``model/outcomes.py``), the survey's readings at the baseline and endline weeks, and
the survey's frame, frozen at the endline week.

Each week the weekly outcomes' per-household values (``Outcome.of``, defined in the registry
only) are written into one columns x households matrix, and one compiled pass
(``kernels.cell_means``; its numpy form ``kernels.cell_means_plain``) gives the time series' row
and the summary. Mesa's DataCollector is filled from the observer's own weekly records instead
of ``collect()`` every week: ``model.datacollector`` is a ``mesa.DataCollector`` (``Collector``)
with the same model reporters, and its ``model_vars`` (which ``get_model_vars_dataframe`` and
everything else read) take the weeks not yet in them, in order, the first time they are read
after a week: the same values ``collect()`` would have stored each week (the reporters' values
then: the week, the summary, the cost, each village's tension). Calling ``collect()`` still works
(it takes the pending weeks first).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np
import pandas as pd

from . import outcomes
from .kernels import cell_means
from .outcomes import Reading

if TYPE_CHECKING:
    from .model import CohesionModel


class Collector(mesa.DataCollector):
    """Mesa's DataCollector of the model reporters, whose ``model_vars`` are filled from weekly
    ``records`` when read: ``row(record)`` gives a week's value of each reporter, in order."""

    def __init__(self, model_reporters: dict, records: list, row):
        self._records, self._row, self._taken, self._steps = records, row, 0, []
        super().__init__(model_reporters=model_reporters)

    @property
    def model_vars(self) -> dict[str, list]:
        if self._taken < len(self._records):
            pending = self._records[self._taken:]
            self._taken = len(self._records)
            self._steps.extend(r[0] for r in pending)
            for values, column in zip(self._vars.values(), zip(*map(self._row, pending))):
                values.extend(column)
        return self._vars

    @model_vars.setter
    def model_vars(self, value: dict[str, list]) -> None:
        self._vars = value

    @property
    def _collection_steps(self) -> list:
        self.model_vars
        return self._steps

    @_collection_steps.setter
    def _collection_steps(self, value: list) -> None:
        self._steps = value

    def collect(self, model) -> None:
        self.model_vars  # the weeks recorded so far first
        super().collect(model)


class Observer:
    def __init__(self, model: "CohesionModel"):
        s = model.state
        self.groups, self.villages = list(model.groups), list(model.villages)
        self.weekly = outcomes.weekly()
        ng, nv = len(self.groups), len(self.villages)
        self.columns = [f"{o.name}_{g}" if o.towards_groups else o.name
                        for o in self.weekly for g in (self.groups if o.towards_groups else [None])]
        # each outcome's first column in the week's matrix (columns x households)
        self._slots = [(o.of, self.columns.index(f"{o.name}_{self.groups[0]}" if o.towards_groups else o.name),
                        o.towards_groups) for o in self.weekly]
        self._matrix = np.zeros((len(self.columns), s.n))
        # (group, village) cells, group-major (the series' order); households come in (village,
        # group) blocks (population.build_population), so a cell's sums are sums over blocks
        cell = s.group.astype(np.int64) * nv + s.village
        block = s.village.astype(np.int64) * ng + s.group
        self._order = np.argsort(block, kind="stable")
        self._starts = np.flatnonzero(np.diff(block[self._order], prepend=-1))
        self._start_cell = cell[self._order][self._starts]
        self._own = self._own_group_cells(ng, nv)
        self.series: list[np.ndarray] = []
        self.readings: dict[str, Reading] = {}
        self.moved = bool((s.arrival_week > 0).any() or (s.departure_week < np.iinfo(s.departure_week.dtype).max).any())
        self.endline_frame: np.ndarray | None = None
        names = [o.name for o in self.weekly if not o.towards_groups]
        self._summary_columns = np.array([self.columns.index(name) for name in names], dtype=np.int64)
        self._summary_keys = names + [f"{name}_{g}" for name in names for g in self.groups]
        self._summary = np.full(len(self._summary_keys), np.nan)
        self._records: list[tuple] = []  # each week: (time, week, cost, summary, tension)
        self.datacollector = Collector(self._reporters(model), self._records, self._reporter_values())

    def _own_group_cells(self, ng: int, nv: int) -> np.ndarray:
        """Cells x columns: True where a column is the attitude towards the cell's own group."""
        own = np.zeros((ng * nv, len(self.columns)), dtype=bool)
        for k, g in enumerate(self.groups):
            for o in self.weekly:
                if o.towards_groups:
                    own[k * nv:(k + 1) * nv, self.columns.index(f"{o.name}_{g}")] = True
        return own

    def _reporter_keys(self) -> list[str]:
        """The weekly outcomes' population means, by group those that signal harm."""
        keys = [o.name for o in self.weekly if not o.towards_groups]
        return keys + [f"{o.name}_{g}" for o in self.weekly if o.harm_if_below_baseline for g in self.groups]

    def _reporters(self, model: "CohesionModel") -> dict:
        """The DataCollector's columns: the weekly outcomes' population means, by group those
        that signal harm (the comparison's trajectories), the cost so far, each village's tension."""
        at = {k: i for i, k in enumerate(self._summary_keys)}
        return {"week": "week", **{k: (lambda m, i=at[k]: m.observer._summary_values[i]) for k in self._reporter_keys()},
                "cost": "cost",
                **{f"tension_{v}": (lambda m, i=i: float(m.state.tension[i])) for i, v in enumerate(self.villages)}}

    def _reporter_values(self):
        """A week's record as the reporters' values, in the reporters' order."""
        at = [self._summary_keys.index(k) for k in self._reporter_keys()]

        def row(record: tuple) -> list:
            _, week, cost, summary, tension = record
            values = summary.tolist()
            return [week, *(values[i] for i in at), cost, *tension]
        return row

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
        matrix = self._matrix
        for of, j, by_group in self._slots:
            value = of(reading)
            if by_group:  # a column per group
                value = np.asarray(value).T
                matrix[j:j + value.shape[0]] = value
            else:
                matrix[j] = value
        # only households that are there count (model/presence.py); NaN where a cell is empty,
        # and for the attitude towards one's own group, which is not a state
        row, self._summary = cell_means(matrix, self._order, self._starts, self._start_cell, s.present, self._own,
                                        self._summary_columns, len(self.groups), len(self.villages))
        self.series.append(row)
        self._records.append((model.time, model.week, model.cost, self._summary, s.tension.tolist()))

    @property
    def _summary_values(self) -> list[float]:
        return self._summary.tolist()

    @property
    def summary(self) -> dict[str, float]:
        """This week's population and group means: ``<outcome>`` and ``<outcome>_<group>`` for
        each weekly outcome with one column."""
        return dict(zip(self._summary_keys, self._summary.tolist()))

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
