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

from .draws import WeekDraws
from .network import SocialNetwork
from .params import Params
from .programme import Programme
from .state import State, pairs

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


def allocate(pool: np.ndarray, keys: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Give the free places of each pool to its candidates with the smallest keys.

    ``pool`` and ``keys`` are the candidates' pools and random order, ``free`` the free places of
    every pool. Returns a mask of the candidates that get a place. Where a pool has room for all
    its candidates, all get one; elsewhere only the candidates under a cut-off are sorted, the
    cut-off chosen so that about twice the free places fall under it (keys are uniform on
    (0, 1)) and lifted to 1 in a pool where fewer than its free places do: the same places as a
    sort of all candidates, for a sort of a few times the free places.
    """
    n = np.bincount(pool, minlength=free.size)
    room = n <= free                                  # pools with a place for every candidate
    cut = np.where(room, 0.0, 2.0 * np.maximum(free, 0) / np.maximum(n, 1))
    under = keys < cut[pool]
    short = ~room & (np.bincount(pool[under], minlength=free.size) < free)
    if short.any():
        cut[short] = np.inf
        under = keys < cut[pool]
    queue = np.flatnonzero(under)
    # the queue by key, then (stably) by pool: np.lexsort does the same several times slower
    by_key = queue[np.argsort(keys[queue])]
    small = pool.astype(np.int16) if free.size < 2**15 else pool  # a stable sort of int16 is a radix sort
    order = by_key[np.argsort(small[by_key], kind="stable")]
    pool_sorted = pool[order]
    first = np.searchsorted(pool_sorted, np.arange(free.size))  # where each pool's queue starts
    rank = np.arange(order.size) - first[pool_sorted]            # place in one's pool's queue
    chosen = room[pool]
    chosen[order] = rank < free[pool_sorted]
    return chosen


def encouragers(state: State, net: SocialNetwork) -> np.ndarray:
    """Share of each household's neighbours who encourage joining (CAC, deviant, volunteer)."""
    return net.neighbour_mean((state.cac | state.deviant | state.volunteer).astype(float))


CHUNK = 2**18  # (entry, household) pairs handled at once: small enough for the cache (tuning, not model)


def step(state: State, prog: Programme, week: int, draws: WeekDraws, p: Params, first_movers: bool,
         nb_joined: np.ndarray, encouraging: np.ndarray) -> None:
    """Leave, finish and join, for all active entries of the programme at once.

    An entry's leaving and joining read only its own column of ``weeks_left``, so the entries of
    a week are independent: the arrays below run over (entry, household) pairs, ``a`` the
    entry's row in the week's draws, ``k`` its index in the programme, ``i`` the household.
    Joining takes the entries in groups of about ``CHUNK`` pairs (all of them at once in
    Qayyarah, one at a time for a million households): the same result, faster at scale.
    """
    state.weeks_left[:, prog.ending(week)] = 0  # entries over (and not handed over) end for all
    ks = draws.entries
    if ks.size == 0:
        return
    # members leave early with probability dropout_rate
    enrolled = state.weeks_left[:, ks] > 0  # households x active entries
    a, i = pairs(enrolled.T)
    leaves = draws.take(a.size) < p.dropout_rate
    state.weeks_left[i[leaves], ks[a[leaves]]] = 0
    enrolled[i[leaves], a[leaves]] = False
    taken = np.bincount(prog.pool_of(ks[a[~leaves]], i[~leaves]), minlength=prog.n_pools)
    free = prog.places(week) - taken
    # entries with a free place somewhere take candidates
    open_ = np.flatnonzero(np.logical_or.reduceat(free > 0, prog.pool_offset)[ks])
    if open_.size == 0:
        return
    pull = base_pull(nb_joined, encouraging, state.leadership[state.village], state.coping, state.stigma, p)
    household = (pull, state.need, state.mean_other_attitude(), state.threshold)
    terms = entry_terms(prog, first_movers, p)
    per_chunk = max(1, CHUNK // max(state.n, 1))
    for start in range(0, open_.size, per_chunk):
        rows = open_[start:start + per_chunk]
        join(state, prog, ks[rows], draws.join_all[rows], ~enrolled[:, rows].T, free, household, terms, p)


def join(state: State, prog: Programme, ks: np.ndarray, u_all: np.ndarray, not_enrolled: np.ndarray,
         free: np.ndarray, household: tuple, terms: np.ndarray, p: Params) -> None:
    """Joining for the entries ``ks`` (rows of ``u_all``, their draws, and of ``not_enrolled``).

    Candidates are eligible, not enrolled, in a pool with a free place, and (p_ik <= join_rate)
    have a draw under join_rate; those whose draw is under p_ik want a place.
    """
    a, i = pairs((u_all < p.join_rate) & prog.eligible[ks] & not_enrolled)
    k = ks.take(a)
    pool = prog.pool_of(k, i)
    ok = free.take(pool) > 0
    if np.isfinite(prog.max_wellbeing[ks]).any():
        ok &= state.wellbeing.take(i) <= prog.max_wellbeing.take(k)
    a, i, k, pool = a[ok], i[ok], k[ok], pool[ok]
    pull, need, mean_attitude, threshold = (x.take(i) for x in household)
    z = willingness(pull, need, mean_attitude, terms[:, 0].take(k), terms[:, 1].take(k), terms[:, 2].take(k))
    prob = join_probability(z, threshold, p)
    u = u_all.ravel().take(a * u_all.shape[1] + i)
    want = u < prob
    i, k = i[want], k[want]
    chosen = allocate(pool[want], u[want] / prob[want], free)
    i, k = i[chosen], k[chosen]
    np.put(state.weeks_left, i * state.weeks_left.shape[1] + k, prog.cycle_weeks.take(k))  # [i, k] = ..., faster


def end_of_week(state: State, enrolled: np.ndarray, taking_part: np.ndarray) -> None:
    """Count down the cycles; whoever was enrolled this week (``state.enrolled``; ``taking_part``:
    in anything) has now taken part."""
    state.ever |= taking_part
    state.weeks_left -= enrolled  # one week less where enrolled (True counts 1)
