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

and the places free in its pool go to those who want one, in random order. Participants leave
early with probability ``dropout_rate`` a week, and otherwise after the activity's cycle.
"""

from __future__ import annotations

import numpy as np

from .kernels import CHUNK, first_in_pool, pairs, put2d
from .mechanism import Mechanism, Week
from .network import SocialNetwork
from .params import Params
from .programme import Programme
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


def encouragers(state: State, net: SocialNetwork) -> np.ndarray:
    """Share of each household's neighbours who encourage joining (CAC, deviant, volunteer)."""
    return net.neighbour_mean((state.cac | state.deviant | state.volunteer).astype(float))


class Participation(Mechanism):
    """Members leave (early or when an entry ends) and households join, for all active entries."""

    name = "participation"

    def init(self, state: State, world) -> None:
        self.encouraging = encouragers(state, world.network)
        self.first_movers = world.scenario.population.first_movers

    def step(self, state: State, world, week: Week) -> None:
        week.nb_joined = world.network.neighbour_mean(state.ever.astype(float))
        leave_and_join(state, world.programme, week, world.params, self.first_movers, self.encouraging)

    def reference(self, state: State, world, week: Week) -> None:
        week.nb_joined = np.array([_mean(state.ever[world.network.neighbours(i)].astype(float))
                                   for i in range(state.n)])
        leave_and_join_one_by_one(state, world.programme, week, world.params, self.first_movers, self.encouraging)


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
                   encouraging: np.ndarray) -> None:
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
    taken = np.bincount(prog.pool_of(ks[a[~leaves]], i[~leaves]), minlength=prog.n_pools)
    free = prog.places(week.number) - taken
    open_ = np.flatnonzero(np.logical_or.reduceat(free > 0, prog.pool_offset)[ks])  # entries with room
    if open_.size == 0:
        return
    pull = base_pull(week.nb_joined, encouraging, state.leadership[state.village], state.coping, state.stigma, p)
    household = (pull, state.need, state.mean_other_attitude(), state.threshold)
    terms = entry_terms(prog, first_movers, p)
    per_chunk = max(1, CHUNK // max(state.n, 1))  # entries handled together (kernels.CHUNK)
    for start in range(0, open_.size, per_chunk):
        rows = open_[start:start + per_chunk]
        join(state, prog, ks[rows], draws.join_all[rows], ~enrolled[:, rows].T, free, household, terms, p)


def join(state: State, prog: Programme, ks: np.ndarray, u_all: np.ndarray, not_enrolled: np.ndarray,
         free: np.ndarray, household: tuple, terms: np.ndarray, p: Params) -> None:
    """Joining for the entries ``ks`` (rows of ``u_all``, their draws, and of ``not_enrolled``).

    Candidates are eligible, not enrolled, in a pool with a free place (and under the entry's
    well-being ceiling, if any); those whose draw u is under p_ik want a place (p_ik <= join_rate,
    so only draws under join_rate are looked at). The free places go to those who want one in
    the order of u / p_ik.
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
    chosen = first_in_pool(pool[want], u[want] / prob[want], free)
    put2d(state.weeks_left, i[want][chosen], k[want][chosen], prog.cycle_weeks[k[want][chosen]])


# --- the reference form: one household at a time -----------------------------------------------
def leave_and_join_one_by_one(state: State, prog: Programme, week: Week, p: Params, first_movers: bool,
                              encouraging: np.ndarray) -> None:
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
        join_one_by_one(state, prog, k, week, pull, mean_att, terms[k], p)


def join_one_by_one(state: State, prog: Programme, k: int, week: Week, pull: list, mean_att: list,
                    terms: list, p: Params) -> None:
    """Joining entry k, household by household: who wants a place, then places in key order."""
    taken: dict[int, int] = {}
    for i in range(state.n):
        if state.weeks_left[i, k] > 0:
            pool = int(prog.pool_of(k, i))
            taken[pool] = taken.get(pool, 0) + 1
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
    for pool, _, i in sorted(candidates):
        if given.get(pool, 0) < free[pool]:
            state.weeks_left[i, k] = prog.cycle_weeks[k]
            given[pool] = given.get(pool, 0) + 1
