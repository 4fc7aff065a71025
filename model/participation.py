"""Participation as complex contagion (docs/model.md, section 7.2).

For household i and programme entry k, the willingness to join is

    z_ik = outreach + w_nb * S_i + w_enc * E_i + w_lead * L_v(i) + w_cop * c_i - w_stig * s_i
           + w_need * m_i * (+1 if k earns income else -1)
           + w_fm * [k targets women and children and the scenario has them move first]
           - w_rel * (1 - mean attitude to other groups) * [k mixes groups]

with S_i the share of i's neighbours who have taken part, E_i the share who are CAC members,
positive deviants or volunteers, L the village's leadership, c coping, s stigma, m material need.
An eligible household not enrolled wants a place with probability

    p_ik = join_rate * sigmoid(8 * (z_ik - threshold_i))

and the places free in its pool go to those who want one, in random order. Where the scenario
sets shares of places for groups (``targeting``, inclusive targeting: docs/model.md 7.2), a pool
of an activity that mixes groups first holds for each group g

    Q_g = floor(s * max(share_g * places - members of g, 0)),   s = min(1, free / sum_g deficit_g)

places, filled in random order by those of g who want one; the places left (a share a group
did not fill, or rounding) then go to anyone who wants one, in random order. Participants leave
early with probability ``dropout_rate`` a week, and otherwise after the activity's cycle.
"""

from __future__ import annotations

import numpy as np

from .kernels import (end_and_count, first_in_pool_plain, pairs, participation_week, put2d, row_sum,
                      targeted_first_in_pool_plain)
from .mechanism import Mechanism, Week
from .network import SocialNetwork
from .params import Params
from .programme import Programme, entry_reach
from .state import State

STEEPNESS = 8.0  # of the joining sigmoid: the threshold rule, smoothed (assumption)


def base_pull(nb_joined, encouragers, leadership, coping, stigma, p: Params):
    """The part of the willingness shared by every activity."""
    return (p.outreach + p.w_neighbours * nb_joined + p.w_encouragement * encouragers
            + p.w_leadership * leadership + p.w_coping_confidence * coping - p.w_stigma * stigma)


def entry_terms(prog: Programme, first_movers: bool, p: Params) -> np.ndarray:
    """The terms of the willingness that depend on the activity, per programme entry (K x 3):
    the weight of material need (+ for income activities, - otherwise), the first movers'
    boost (activities for women and children, when the scenario has them move first) and the
    weight of the reluctance to mix (activities that mix groups)."""
    key = ("entry_terms", first_movers, p.w_need, p.first_mover_boost, p.w_reluctance)
    if key not in prog.memo:  # the same every week of a run
        prog.memo[key] = np.column_stack([np.where(prog.income, p.w_need, -p.w_need),
                                          np.where(prog.women_children & first_movers, p.first_mover_boost, 0.0),
                                          np.where(prog.mixes_groups, p.w_reluctance, 0.0)])
    return prog.memo[key]


def willingness(pull, need, mean_attitude, need_weight, boost, reluctance):
    return pull + need_weight * need + boost - reluctance * (1.0 - mean_attitude)


def join_probability(z, threshold, p: Params):
    return p.join_rate / (1.0 + np.exp(-STEEPNESS * (z - threshold)))


def pool_shares(scenario, prog: Programme) -> np.ndarray | None:
    """Each group's share of the places of every pool (pools x groups), or None without targeting.

    Entries that mix groups take the scenario's shares (``Scenario.targeting_shares``) over the
    groups they admit, renormalised; other entries' rows are 0 (no shares: places in random order)."""
    shares = scenario.targeting_shares()
    if shares is None:
        return None
    groups = scenario.group_names()
    entry = np.zeros((len(prog), len(groups)))
    for k, spec in enumerate(scenario.programme):
        admitted = {g for _, g in entry_reach(scenario, spec)[0]}
        row = np.array([s if g in admitted else 0.0 for g, s in zip(groups, shares)])
        if prog.mixes_groups[k] and row.sum() > 0:
            entry[k] = row / row.sum()
    return np.repeat(entry, [e.n_pools for e in prog.entries], axis=0)


def place_quotas(places, taken, free, shares) -> np.ndarray:
    """Places held for each group in each pool (pools x groups): its share of the pool's places
    less its members there, scaled down so that they fit the free places, rounded down."""
    deficit = np.maximum(shares * places[:, None] - taken, 0.0)
    total = row_sum(deficit)
    room = np.maximum(free, 0)
    scale = np.where(total > room, room / np.maximum(total, 1e-300), 1.0)
    return np.floor(deficit * scale[:, None]).astype(np.int64)


def targeted_places(pool, group, keys, free, quota) -> np.ndarray:
    """Mask of the candidates given a place: in each pool the places held for each group go to
    that group's candidates with the smallest keys, then the places left to the other candidates
    with the smallest keys (ties in candidate order)."""
    return targeted_first_in_pool_plain(pool, group, keys, free, quota)


def encouragers(state: State, net: SocialNetwork) -> np.ndarray:
    """Share of each household's neighbours who encourage joining (CAC, deviant, volunteer)."""
    return net.neighbour_mean((state.cac | state.deviant | state.volunteer).astype(float))


class Participation(Mechanism):
    """Members leave (early or when an entry ends) and households join, for all active entries."""

    name = "participation"

    def init(self, state: State, world) -> None:
        self.encouraging = encouragers(state, world.network)
        self.first_movers = world.scenario.population.first_movers
        self.shares = pool_shares(world.scenario, world.programme)
        p = world.params  # base_pull's constant and weights, for the compiled week
        self.pull_weights = np.array([p.outreach, p.w_neighbours, p.w_encouragement, p.w_leadership,
                                      p.w_coping_confidence, p.w_stigma])
        self.held = np.zeros((0, 0)) if self.shares is None else self.shares  # no columns: no targeting

    def step(self, state: State, world, week: Week) -> None:
        """``plain``'s week in two compiled calls (kernels.end_and_count, kernels.participation_week)."""
        week.nb_joined = world.network.neighbour_share(state.ever)  # compiled neighbour_mean of the flags
        prog, draws, p = world.programme, week.draws, world.params
        ks = draws.entries
        members = end_and_count(state.weeks_left, prog.ending(week.number), ks)
        if ks.size == 0:
            return
        participation_week(state.weeks_left, ks, draws.take(members), draws.join_all, p.dropout_rate,
                           prog.places(week.number), prog.pool_offset, prog.by_village, state.village, state.group,
                           self.held, prog.eligible, state.wellbeing, prog.max_wellbeing, week.nb_joined,
                           self.encouraging, state.leadership, state.coping, state.stigma, state.need, state.attitude,
                           state.other_mask, state.threshold, entry_terms(prog, self.first_movers, p),
                           self.pull_weights, p.join_rate, STEEPNESS, prog.cycle_weeks)

    def plain(self, state: State, world, week: Week) -> None:
        week.nb_joined = world.network.neighbour_mean(state.ever.astype(float))
        leave_and_join(state, world.programme, week, world.params, self.first_movers, self.encouraging, self.shares)

    def reference(self, state: State, world, week: Week) -> None:
        week.nb_joined = np.array([_mean(state.ever[world.network.neighbours(i)].astype(float))
                                   for i in range(state.n)])
        leave_and_join_one_by_one(state, world.programme, week, world.params, self.first_movers, self.encouraging,
                                  self.shares)


class Cycles(Mechanism):
    """At the end of the week: whoever was enrolled has taken part, and cycles count down."""

    name = "cycles"

    def step(self, state: State, world, week: Week) -> None:
        state.ever |= week.taking_part
        state.weeks_left -= week.enrolled  # one week less where enrolled (True counts 1)

    def reference(self, state: State, world, week: Week) -> None:
        for i in range(state.n):
            for k in range(state.weeks_left.shape[1]):
                if state.weeks_left[i, k] > 0:
                    state.ever[i] = True
                    state.weeks_left[i, k] -= 1


def _mean(values: np.ndarray) -> float:
    return float(values.sum()) / max(values.size, 1)


def leave_and_join(state: State, prog: Programme, week: Week, p: Params, first_movers: bool,
                   encouraging: np.ndarray, shares: np.ndarray | None = None) -> None:
    """Leave, finish and join, for all active entries of the programme at once.

    An entry's leaving and joining read only its own column of ``weeks_left``, so the entries of
    a week are independent: the arrays below run over (entry, household) pairs, ``a`` the
    entry's row in the week's draws, ``k`` its index in the programme, ``i`` the household.
    """
    draws = week.draws
    state.weeks_left[:, prog.ending(week.number)] = 0  # entries over (and not handed over) end for all
    ks = draws.entries
    if ks.size == 0:
        return
    enrolled = state.weeks_left[:, ks] > 0  # households x active entries
    a, i = pairs(enrolled.T)
    leaves = draws.take(a.size) < p.dropout_rate  # members leave early with probability dropout_rate
    state.weeks_left[i[leaves], ks[a[leaves]]] = 0
    enrolled[i[leaves], a[leaves]] = False
    pool, stay = prog.pool_of(ks[a[~leaves]], i[~leaves]), i[~leaves]
    taken = np.bincount(pool, minlength=prog.n_pools)
    free = prog.places(week.number) - taken
    open_ = np.flatnonzero(np.logical_or.reduceat(free > 0, prog.pool_offset)[ks])  # entries with room
    if open_.size == 0:
        return
    quota = None
    if shares is not None:  # inclusive targeting: places held for each group (place_quotas)
        ng = shares.shape[1]
        taken_g = np.bincount(pool * ng + state.group[stay], minlength=prog.n_pools * ng).reshape(-1, ng)
        quota = place_quotas(prog.places(week.number), taken_g, free, shares)
    pull = base_pull(week.nb_joined, encouraging, state.leadership[state.village], state.coping, state.stigma, p)
    household = (pull, state.need, state.mean_other_attitude(), state.threshold)
    terms = entry_terms(prog, first_movers, p)
    join(state, prog, ks[open_], draws.join_all[open_], ~enrolled[:, open_].T, free, household, terms, p, quota)


def join(state: State, prog: Programme, ks: np.ndarray, u_all: np.ndarray, not_enrolled: np.ndarray,
         free: np.ndarray, household: tuple, terms: np.ndarray, p: Params, quota: np.ndarray | None = None) -> None:
    """Joining for the entries ``ks`` (rows of ``u_all``, their draws, and of ``not_enrolled``).

    Candidates are eligible, not enrolled, in a pool with a free place (and under the entry's
    well-being ceiling, if any); those whose draw u is under p_ik want a place (p_ik <= join_rate,
    so only draws under join_rate are looked at). The free places go to those who want one in
    the order of u / p_ik, ties in (entry, household) order (first the places held for each
    group, ``quota``, if any).
    """
    a, i = pairs((u_all < p.join_rate) & prog.eligible[ks] & not_enrolled)
    k = ks.take(a)
    pool = prog.pool_of(k, i)
    ok = (free.take(pool) > 0) & (state.wellbeing.take(i) <= prog.max_wellbeing.take(k))
    a, i, k, pool = a[ok], i[ok], k[ok], pool[ok]
    pull, need, mean_attitude, threshold = (x.take(i) for x in household)
    z = willingness(pull, need, mean_attitude, *(terms[:, j].take(k) for j in range(3)))
    prob = join_probability(z, threshold, p)
    u = u_all.ravel().take(a * u_all.shape[1] + i)  # u_all[a, i]
    want = u < prob
    if quota is None:
        chosen = first_in_pool_plain(pool[want], u[want] / prob[want], free)
    else:
        chosen = targeted_places(pool[want], state.group.take(i[want]), u[want] / prob[want], free, quota)
    put2d(state.weeks_left, i[want][chosen], k[want][chosen], prog.cycle_weeks[k[want][chosen]])


# --- the reference form: one household at a time -----------------------------------------------
def leave_and_join_one_by_one(state: State, prog: Programme, week: Week, p: Params, first_movers: bool,
                              encouraging: np.ndarray, shares: np.ndarray | None = None) -> None:
    """``leave_and_join`` one household at a time, with the same draws in the same order."""
    active = prog.week(week.number).active.tolist()
    for k in range(len(prog)):
        if k not in active:
            state.weeks_left[:, k] = 0
    if not active:
        return
    ng = state.attitude.shape[1]
    pull = [base_pull(week.nb_joined[i], encouraging[i], state.leadership[state.village[i]], state.coping[i],
                      state.stigma[i], p) for i in range(state.n)]
    mean_att = [sum(state.attitude[i, h] for h in range(ng) if h != state.group[i]) / (ng - 1)
                for i in range(state.n)]
    # leaving early: one draw per member of each active entry, entries in programme order,
    # members in index order
    members = {k: [i for i in range(state.n) if state.weeks_left[i, k] > 0] for k in active}
    u_drop = iter(week.draws.take(sum(len(m) for m in members.values())))
    for k, ms in members.items():
        for i in ms:
            if next(u_drop) < p.dropout_rate:
                state.weeks_left[i, k] = 0
    terms = entry_terms(prog, first_movers, p).tolist()
    for k in active:
        join_one_by_one(state, prog, k, week, pull, mean_att, terms[k], p, shares)


def join_one_by_one(state: State, prog: Programme, k: int, week: Week, pull: list, mean_att: list,
                    terms: list, p: Params, shares: np.ndarray | None = None) -> None:
    """Joining entry k, household by household: who wants a place, then places in key order
    (first the places held for each group, if the scenario sets shares)."""
    taken: dict[int, int] = {}
    taken_g: dict[tuple[int, int], int] = {}
    for i in range(state.n):
        if state.weeks_left[i, k] > 0:
            pool = int(prog.pool_of(k, i))
            taken[pool] = taken.get(pool, 0) + 1
            taken_g[pool, int(state.group[i])] = taken_g.get((pool, int(state.group[i])), 0) + 1
    places = prog.places(week.number)
    pools = range(prog.pool_offset[k], prog.pool_offset[k] + prog.entries[k].n_pools)
    free = {pool: int(places[pool]) - taken.get(pool, 0) for pool in pools}
    if max(free.values()) <= 0:
        return
    u = week.draws.join[k]
    candidates = []
    for i in range(state.n):
        if not prog.eligible[k, i] or state.weeks_left[i, k] > 0:
            continue
        prob = join_probability(willingness(pull[i], state.need[i], mean_att[i], *terms), state.threshold[i], p)
        if u[i] < prob and state.wellbeing[i] <= prog.max_wellbeing[k]:
            candidates.append((int(prog.pool_of(k, i)), u[i] / prob, i))
    given: dict[int, int] = {}
    held = {} if shares is None else quotas_one_by_one(places, taken_g, free, shares)
    given_g: dict[tuple[int, int], int] = {}
    for pool, _, i in sorted(candidates):  # the places held for each group, in key order
        g = int(state.group[i])
        if given_g.get((pool, g), 0) < held.get((pool, g), 0):
            state.weeks_left[i, k] = prog.cycle_weeks[k]
            given[pool] = given.get(pool, 0) + 1
            given_g[pool, g] = given_g.get((pool, g), 0) + 1
    for pool, _, i in sorted(candidates):  # then the places left, in key order
        if state.weeks_left[i, k] == 0 and given.get(pool, 0) < free[pool]:
            state.weeks_left[i, k] = prog.cycle_weeks[k]
            given[pool] = given.get(pool, 0) + 1


def quotas_one_by_one(places: np.ndarray, taken_g: dict, free: dict, shares: np.ndarray) -> dict:
    """``place_quotas`` for the pools in ``free``, one pool at a time: (pool, group) -> places held."""
    ng = shares.shape[1]
    held = {}
    for pool, room in free.items():
        taken = np.array([[taken_g.get((pool, g), 0) for g in range(ng)]], dtype=np.int64)
        quota = place_quotas(places[pool:pool + 1], taken, np.array([room], dtype=np.int64), shares[pool:pool + 1])
        held.update({(pool, g): int(quota[0, g]) for g in range(ng)})
    return held
