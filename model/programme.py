"""The scenario's programme compiled to arrays: who may join each entry, where, when, how many.

Entry k of the scenario's programme becomes row k of every array here. A household's weekly dose
of each effect channel is ``enrolled @ channel_matrix`` (docs/model.md, section 7.1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from common.vocabulary import CHANNELS

from .activities import Activity, catalogue, channel_group, strength_name
from .kernels import cost_week, pairs
from .params import Params
from .state import State


@dataclass(frozen=True)
class Schedule:
    """The programme in one week."""
    active: np.ndarray      # indices of the active entries, in programme order
    mixed: np.ndarray       # the active entries that mix groups
    ending: np.ndarray      # entries active last week and not this week
    places: np.ndarray      # places of every pool of every entry (pool_offset[k] + pool)


@dataclass(frozen=True)
class Members:
    """The members of the week's mixed entries, as (entry, household) pairs: entries in programme
    order, households in index order within each; ``pool`` numbered across entries."""
    k: np.ndarray
    i: np.ndarray
    pool: np.ndarray


@dataclass(frozen=True)
class Entry:
    index: int
    name: str
    activity: Activity
    start: int
    end: int
    capacity: np.ndarray        # places per pool at a time, during the programme
    handover_capacity: np.ndarray  # places per pool after end_week (community-run)
    eligible: np.ndarray        # bool N: group, village and role allow joining
    n_pools: int                # pools of places (one per village, or one: Programme.pool_of)
    villages: tuple[int, ...]


def entry_reach(scenario, entry) -> tuple[set[tuple[str, str]], tuple[str, ...]]:
    """Who may join a programme entry, defined once: the (village, group) cells it reaches (its
    villages, and the groups it targets that its activity admits) and the roles a household must
    hold (one of them; none required when empty). Used by the programme and by the scenario's
    check of the survey's sample size."""
    act = catalogue()[entry.activity]
    if act.on_demand:  # delivered to villages, not joined by households (model/tension.py)
        return set(), ()
    role = dict(zip(scenario.group_names(), scenario.group_roles()))
    groups = [g for g in scenario.entry_groups(entry)
              if act.eligible_group_roles is None or role[g] in act.eligible_group_roles]
    cells = {(v, g) for v in scenario.entry_villages(entry) for g in groups}
    return cells, tuple(act.eligible_roles or ())


def expected_frame(scenario, activities: set[str] | None = None) -> float:
    """Expected number of households eligible for some entry (of an activity in ``activities``, if
    given: the survey's surveyed activities): a household of a reached cell counts with probability
    one if an entry reaching it requires no role, and otherwise with the probability of holding one
    of the required roles (roles are drawn independently with their shares, ``population.roles``)."""
    roles_needed: dict[tuple[str, str], set[str] | None] = {}
    for entry in scenario.programme:
        if activities is not None and entry.activity not in activities:
            continue
        cells, roles = entry_reach(scenario, entry)
        for cell in cells:
            have = roles_needed.get(cell, set())
            roles_needed[cell] = None if (have is None or not roles) else have | set(roles)
    shares = scenario.population.roles
    total = 0.0
    for (v, g), roles in roles_needed.items():
        p = 1.0 if roles is None else 1.0 - math.prod(1.0 - getattr(shares, r) for r in roles)
        total += scenario.population.villages[v].households.get(g, 0) * p
    return total


class Programme:
    def __init__(self, scenario, state: State):
        """``scenario``: a validated ``scenarios.schema.Scenario``."""
        villages, groups = scenario.village_names(), scenario.group_names()
        n_entries = len(scenario.programme)
        # eligibility of all entries, one row per entry (each Entry holds a view of its row)
        self.eligible = np.zeros((n_entries, state.n), dtype=bool)
        self.entries: list[Entry] = []
        cell = state.village.astype(np.int64) * len(groups) + state.group  # each household's (village, group)
        for k, spec in enumerate(scenario.programme):
            act = catalogue()[spec.activity]
            vs = tuple(villages.index(v) for v in scenario.entry_villages(spec))
            cells, roles = entry_reach(scenario, spec)
            cell_ids = [villages.index(v) * len(groups) + groups.index(g) for v, g in cells]
            eligible = self.eligible[k]
            reached = np.zeros(len(villages) * len(groups), dtype=bool)
            reached[cell_ids] = True
            eligible[:] = reached[cell]  # np.isin(cell, cell_ids), by a table of the cells
            if roles:
                eligible &= np.logical_or.reduce([getattr(state, r) for r in roles])
            if act.mixes_villages:  # one pool of places for its villages
                capacity = np.array([spec.capacity() * len(vs)])
            else:                   # a pool per village (pool_of)
                capacity = np.array([spec.capacity() if v in vs else 0 for v in range(len(villages))])
            handover = np.floor(capacity * spec.handover_share).astype(int)
            self.entries.append(Entry(k, spec.activity, act, spec.start_week, spec.end_week, capacity,
                                      handover, eligible, capacity.shape[0], vs))
        self._eligible_anyone: np.ndarray | None = None  # eligibility whoever is present (set_present)
        self.ever_eligible = np.zeros(state.n, dtype=bool)
        for e in self.entries:
            self.ever_eligible |= e.eligible
        # per entry, what the joining rule needs (participation.entry_terms)
        self.cycle_weeks = np.array([e.activity.cycle_weeks for e in self.entries], dtype=np.int16)
        self.income = np.array([e.activity.income for e in self.entries], dtype=bool)
        self.women_children = np.array([e.activity.audience == "women_children" for e in self.entries], dtype=bool)
        self.mixes_groups = np.array([e.activity.mixes_groups for e in self.entries], dtype=bool)
        self.max_wellbeing = np.array([np.inf if e.activity.max_wellbeing is None else e.activity.max_wellbeing
                                       for e in self.entries], dtype=float)
        # the pools of all entries numbered one after the other: entry k's pool j is pool_offset[k] + j
        self._village = state.village
        self.by_village = np.array([not e.activity.mixes_villages for e in self.entries], dtype=bool)
        self.pool_offset = np.cumsum([0] + [e.n_pools for e in self.entries])[:-1].astype(np.int64)
        self.n_pools = sum(e.n_pools for e in self.entries)
        # when each entry runs, and its pools' places during and after it (handed over)
        self._start = np.array([e.start for e in self.entries], dtype=np.int64)
        self._end = np.array([e.end for e in self.entries], dtype=np.int64)
        self._hands_over = np.array([e.handover_capacity.sum() > 0 for e in self.entries], dtype=bool)
        self._pool_entry = np.repeat(np.arange(len(self.entries)), [e.n_pools for e in self.entries])
        self._capacity = np.concatenate([e.capacity for e in self.entries]) if self.entries else np.zeros(0, int)
        self._handover = np.concatenate([e.handover_capacity for e in self.entries]) if self.entries else np.zeros(0, int)
        self._cost_setup()
        self.memo: dict = {}  # per-run values the mechanisms derive from the programme and parameters
        # weekly dose per enrolled household: sessions per week x channel strength (the catalogue's
        # until World sets the run's parameters: set_strengths)
        self.set_strengths(Params())
        self._weeks: dict[int, Schedule] = {}
        self._schedule(np.arange(scenario.horizon_weeks + 1))

    def set_strengths(self, params: Params) -> None:
        """The channel strengths of every entry under ``params`` (``channel_strengths``): the catalogue's
        value or the one set by name, times its group's multiplier (docs/model.md, section 7.1). Once
        per run, before the mechanisms' ``init`` (``World``); sets ``channel_matrix`` (sessions per week
        x strength) and ``tie_strength``."""
        set_by_name = dict(params.channel_strengths)
        names, value, groups, group_of = self._strength_cells()
        value = value.copy()
        for name, v in set_by_name.items():
            for k, j in names.get(name, ()):
                value[k, j] = v
        multiplier = np.array([getattr(params, g) for g in groups] + [1.0])  # the last: no group
        self.strength = strength = value * multiplier[group_of]
        self.channel_matrix = np.array([e.activity.sessions_per_week for e in self.entries])[:, None] * strength
        self.tie_strength = strength[:, CHANNELS.index("ties")].copy()
        self.memo.clear()  # values derived from the programme and parameters (participation.entry_terms)

    def _strength_cells(self) -> tuple[dict, np.ndarray, list[str], np.ndarray]:
        """What ``set_strengths`` reads of each (entry, channel) cell, made on first use: the cells
        of each strength's parameter name, the catalogue's value, the grouped multipliers' names
        and each cell's multiplier (an index into them, ``len(groups)`` for none)."""
        if "_cells" not in self.__dict__:
            names: dict[str, list[tuple[int, int]]] = {}
            value = np.zeros((len(self.entries), len(CHANNELS)))
            groups: list[str] = []
            group_of = np.zeros((len(self.entries), len(CHANNELS)), dtype=np.int64)
            for k, e in enumerate(self.entries):
                row_names, value[k], row_groups = _strength_row(e.name, e.activity)
                for j, (name, group) in enumerate(zip(row_names, row_groups)):
                    names.setdefault(name, []).append((k, j))
                    if group and group not in groups:
                        groups.append(group)
                    group_of[k, j] = groups.index(group) if group else -1
            group_of[group_of < 0] = len(groups)
            self._cells = (names, value, groups, group_of)
        return self._cells

    def set_present(self, present: np.ndarray) -> None:
        """Only households present may join (model/presence.py); eligibility is otherwise fixed."""
        if self._eligible_anyone is None:
            self._eligible_anyone = self.eligible.copy()
        self.eligible[:] = self._eligible_anyone & present
        self.ever_eligible = self.eligible.any(axis=0) if len(self.entries) else np.zeros(present.size, dtype=bool)

    def __len__(self) -> int:
        return len(self.entries)

    def _schedule(self, weeks: np.ndarray) -> None:
        """Make the ``Schedule`` of each of ``weeks`` (arrays over weeks x entries at once)."""
        w = weeks[:, None]
        running = (self._start <= w) & (w <= self._end)
        after = w > self._end
        active = running | (after & self._hands_over)
        was_active = ((self._start <= w - 1) & (w - 1 <= self._end)) | ((w - 1 > self._end) & self._hands_over)
        places = np.where(running[:, self._pool_entry], self._capacity,
                          np.where(after[:, self._pool_entry], self._handover, 0))
        ending = was_active & ~active
        made: dict[tuple[bytes, bytes], tuple[np.ndarray, ...]] = {}  # weeks alike share their index arrays
        for j, week in enumerate(weeks.tolist()):
            key = (active[j].tobytes(), ending[j].tobytes())
            if key not in made:
                ks = np.flatnonzero(active[j])
                made[key] = (ks, ks[self.mixes_groups[ks]], np.flatnonzero(ending[j]))
            ks, mixed, ends = made[key]
            self._weeks[week] = Schedule(active=ks, mixed=mixed, ending=ends, places=places[j])

    def week(self, week: int) -> Schedule:
        """This week's schedule (made for the scenario's weeks at once, for later weeks when
        asked): an entry runs from its start to its end week, and after it if some of its places
        are handed over; its pools have their capacity while it runs, the handed-over places after."""
        if week not in self._weeks:
            self._schedule(np.array([week]))
        return self._weeks[week]

    def active_indices(self, week: int) -> np.ndarray:
        """Indices of this week's active entries, in programme order."""
        return self.week(week).active

    def ending(self, week: int) -> np.ndarray:
        """Entries active last week and not this week (their members leave)."""
        return self.week(week).ending

    def places(self, week: int) -> np.ndarray:
        """Places of every pool of every entry this week (indexed by pool_offset[k] + pool)."""
        return self.week(week).places

    def mixed_members(self, week: int, enrolled: np.ndarray) -> Members:
        """Who takes part in this week's mixed entries (``enrolled``: ``State.enrolled``)."""
        mixed = self.week(week).mixed
        a, i = pairs(enrolled[:, mixed].T)
        k = mixed[a]
        return Members(k, i, self.pool_of(k, i))

    def pool_of(self, k: np.ndarray, i: np.ndarray) -> np.ndarray:
        """Pool of household i in entry k, numbered across entries: ``pool_offset[k]`` plus the
        household's village, or plus 0 where the entry mixes villages."""
        return self.pool_offset.take(k) + self._village.take(i) * self.by_village.take(k)

    def doses(self, enrolled: np.ndarray, taking_part: np.ndarray) -> dict[str, np.ndarray]:
        """Weekly dose of each channel for every household: ``enrolled @ channel_matrix``
        (``enrolled``: ``State.enrolled``, households x entries; ``taking_part``: its rows with any)."""
        rows = np.flatnonzero(taking_part)  # the others get no dose
        d = np.zeros((len(CHANNELS), enrolled.shape[0]))
        d[:, rows] = (enrolled[rows].astype(float) @ self.channel_matrix).T
        return {c: d[i] for i, c in enumerate(CHANNELS)}

    # --- cost (docs/model.md, section 7.1, Cost) -------------------------------------------------
    def _cost_setup(self) -> None:
        """Per pool: the entry's places per session, sessions per week, whether it is delivered on
        demand (no enrolment: its sessions are paid as offered); per entry the unit costs (K x 3)."""
        acts = [e.activity for e in self.entries]
        per_pool = np.repeat(np.arange(len(acts)), [e.n_pools for e in self.entries])
        self._pool_pps = np.array([a.places_per_session for a in acts], dtype=float)[per_pool]
        self._pool_spw = np.array([a.sessions_per_week for a in acts], dtype=float)[per_pool]
        self._pool_on_demand = np.array([a.on_demand for a in acts], dtype=bool)[per_pool]
        self.unit_costs = np.array([[unit_cost(a, part) for part in COST_PARTS] for a in acts],
                                   dtype=float).reshape(len(acts), len(COST_PARTS))

    def cost_quantities(self, week: int, enrolled: np.ndarray, taking_part: np.ndarray) -> np.ndarray:
        """``cost_quantities_plain`` in one compiled pass (kernels.cost_week)."""
        return cost_week(week, enrolled, taking_part, self.pool_offset, self._village, self.by_village, self.n_pools,
                         self._start, self._end, self._hands_over, self._pool_entry, self._capacity, self._pool_pps,
                         self._pool_spw, self._pool_on_demand)

    def cost_quantities_plain(self, week: int, enrolled: np.ndarray, taking_part: np.ndarray) -> np.ndarray:
        """What the programme pays for this week, per entry (3 x K, rows ``COST_PARTS``): places
        filled (participant-weeks) and sessions held (a cohort of ``places_per_session`` with at
        least one member holds ``sessions_per_week`` sessions) while the programme runs the entry,
        and pools whose handed-over places are in use after its end week (one week of running
        cost each). ``enrolled``: households x entries this week; ``taking_part``: its rows with any.
        Array operations over the enrolments (no loop over households)."""
        rows = np.flatnonzero(taking_part)
        k, r = pairs(enrolled[rows].T)
        filled = np.bincount(self.pool_of(k, rows.take(r)), minlength=self.n_pools).astype(float)
        running = (self._start <= week) & (week <= self._end)
        handed = (week > self._end) & self._hands_over
        run_pool, hand_pool = running[self._pool_entry], handed[self._pool_entry]
        sessions = np.where(self._pool_on_demand, np.ceil(self._capacity / self._pool_pps),
                            np.ceil(filled / self._pool_pps)) * self._pool_spw
        per_entry = np.stack([filled * run_pool, sessions * run_pool, ((filled > 0) & hand_pool).astype(float)])
        out = np.zeros((len(COST_PARTS), len(self.entries)))
        for j in range(len(COST_PARTS)):
            out[j] = np.bincount(self._pool_entry, weights=per_entry[j], minlength=len(self.entries))
        return out

    def price(self, quantities: np.ndarray) -> float:
        """USD of ``quantities`` (3 x K, as ``cost_quantities``) at the catalogue's unit costs."""
        return float((quantities * self.unit_costs.T).sum())


_STRENGTH_ROWS: dict[tuple[str, int], tuple] = {}


def _strength_row(name: str, activity: Activity) -> tuple[list[str], np.ndarray, list[str | None]]:
    """Per channel, for an entry of this activity (named ``name``): the strength's parameter
    name, the catalogue's value and the grouped multiplier (or None); kept per activity object
    (which the cache holds, so its id is not reused)."""
    hit = _STRENGTH_ROWS.get((name, id(activity)))
    if hit is None or hit[0] is not activity:
        hit = (activity, [strength_name(name, c) for c in CHANNELS], np.array([activity.channel(c) for c in CHANNELS]),
               [channel_group(activity, c) for c in CHANNELS])
        _STRENGTH_ROWS[(name, id(activity))] = hit
    return hit[1], hit[2], hit[3]


COST_PARTS = ("places", "facilitators", "handover")
COST_FIELDS = {"places": "cost_per_place_week", "facilitators": "cost_per_session",
               "handover": "handover_cost_per_week"}
"""The parts of the programme's cost and the catalogue field that prices each (model/activities.yaml):
USD per participant-week of a place filled, per session held, per week a handed-over pool runs."""


def unit_cost(activity: Activity, part: str) -> float:
    """The catalogue's unit cost of one part of an activity's cost (USD)."""
    return float(getattr(activity, COST_FIELDS[part]))


def unit_cost_ranges(cat: dict[str, Activity] | None = None) -> dict[tuple[str, str], tuple[float, float, float]]:
    """Every unit cost of the catalogue with its range, ``(activity, part) -> (low, value, high)``:
    the value times the activity's ``cost_range`` (ASSUMPTIONS; what ``cohesion compare`` draws)."""
    out = {}
    for name, act in (cat or catalogue()).items():
        lo, hi = act.cost_range
        for part in COST_PARTS:
            v = unit_cost(act, part)
            out[(name, part)] = (lo * v, v, hi * v)
    return out

