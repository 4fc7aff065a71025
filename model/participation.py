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
from .programme import Entry, Programme
from .state import State, row_any

STEEPNESS = 8.0  # of the joining sigmoid: the threshold rule, smoothed (assumption)


def base_pull(nb_joined, encouragers, leadership, coping, stigma, p: Params):
    """The part of the willingness shared by every activity."""
    return (p.outreach + p.w_neighbours * nb_joined + p.w_encouragement * encouragers
            + p.w_leadership * leadership + p.w_coping_confidence * coping - p.w_stigma * stigma)


def willingness(pull, need, mean_attitude, entry: Entry, first_movers: bool, p: Params):
    act = entry.activity
    z = pull + (p.w_need if act.income else -p.w_need) * need
    if first_movers and act.audience == "women_children":
        z = z + p.first_mover_boost
    if act.mixes_groups:
        z = z - p.w_reluctance * (1.0 - mean_attitude)
    return z


def join_probability(z, threshold, p: Params):
    return p.join_rate / (1.0 + np.exp(-STEEPNESS * (z - threshold)))


def allocate(candidates: np.ndarray, keys: np.ndarray, pool: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Give the free places of each pool to candidates in order of their key.

    ``candidates`` are household indices, ``keys`` their random order, ``pool`` their pool.
    Returns the indices that get a place.
    """
    chosen = [candidates[:0]]
    for k in np.flatnonzero(free > 0):
        in_pool = np.flatnonzero(pool == k)
        if in_pool.size > free[k]:
            # the free[k] smallest keys (a partial sort: which ones, not their order, matters)
            in_pool = in_pool[np.argpartition(keys[in_pool], free[k] - 1)[:free[k]]]
        chosen.append(candidates[in_pool])
    return np.concatenate(chosen)


def encouragers(state: State, net: SocialNetwork) -> np.ndarray:
    """Share of each household's neighbours who encourage joining (CAC, deviant, volunteer)."""
    return net.neighbour_mean((state.cac | state.deviant | state.volunteer).astype(float))


def step(state: State, prog: Programme, week: int, draws: WeekDraws, p: Params, first_movers: bool,
         nb_joined: np.ndarray, encouraging: np.ndarray) -> None:
    """Leave, finish and join for every entry of the programme this week."""
    for e in prog.entries:
        if not e.is_active(week):
            state.weeks_left[:, e.index] = 0
    active = prog.active(week)
    if not active:
        return
    pull = base_pull(nb_joined, encouraging, state.leadership[state.village], state.coping, state.stigma, p)
    mean_att = state.mean_other_attitude()
    for e in active:
        k = e.index
        members = np.flatnonzero(state.weeks_left[:, k] > 0)
        leaves = draws.drop[k][members] < p.dropout_rate
        state.weeks_left[members[leaves], k] = 0
        free = e.places(week) - np.bincount(e.pool[members[~leaves]], minlength=e.n_pools)
        if free.max() <= 0:
            continue
        # p_ik <= join_rate, so only those whose draw is under join_rate can want a place
        rows = np.flatnonzero(draws.join[k] < p.join_rate)
        rows = rows[e.eligible[rows] & (state.weeks_left[rows, k] == 0)]
        if e.activity.max_wellbeing is not None:
            rows = rows[state.wellbeing[rows] <= e.activity.max_wellbeing]
        prob = join_probability(willingness(pull[rows], state.need[rows], mean_att[rows], e, first_movers, p),
                                state.threshold[rows], p)
        u = draws.join[k][rows]
        want = u < prob
        cand = rows[want]
        chosen = allocate(cand, u[want] / prob[want], e.pool[cand], free)
        state.weeks_left[chosen, k] = e.activity.cycle_weeks


def end_of_week(state: State) -> None:
    """Count down the cycles; whoever was enrolled this week has now taken part."""
    enrolled = state.weeks_left > 0
    state.ever |= row_any(enrolled)
    state.weeks_left -= enrolled  # one week less where enrolled (True counts 1)
