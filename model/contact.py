"""Intergroup contact in mixed activities (docs/model.md, section 7.5).

A participant of mixed entry k meets the other participants of its pool. Its exposure to group h
is the share of h among them, times the sessions and the entry's contact (or dialogue) strength,
summed over entries: e_ih (contact) and d_ih (dialogue). Whether an encounter goes well depends
on readiness,

    R_ih = w_c * c_i + w_w * x_i + w_f * F_ih - w_t * tension_v - w_int * e_ih * (1 - F_ih)
           + B_ih                                      (acknowledgement of victims, 7.12)
    q_ih = sigmoid(readiness_steepness * (R_ih - readiness_threshold))

so contact before coping and familiarity exist, in a tense village or at high intensity with
strangers, is more often negative. Encounters happen one by one: the week's encounters of i with
members of h number Poisson(m * e_ih), each positive with probability q_ih, so the positive and
the negative ones are independent Poisson counts (thinning),

    P_ih ~ Poisson(m * e_ih * q_ih),   N_ih ~ Poisson(m * e_ih * (1 - q_ih)),   m = encounters_per_exposure

drawn from the week's draws by inversion (draws.poisson_from_uniform). Negative encounters weigh
more (Graf, Paolini and Rubin 2014):

    dA_ih = (alpha_pos * P_ih * (1 - A) - ratio * alpha_pos * N_ih * A) / m   (ratio = contact_neg_ratio)
            + alpha_dialogue * d_ih * F_ih * q * (1 - A)        (dialogue pays off once familiar)
    dF_ih = familiarity_rate * ((P_ih + N_ih) / m + d_ih) * (1 - F_ih)

so the expected change per unit exposure is the one of the former deterministic form. Contact
changes the household's own position, so it moves the influence anchor too. ``contact_pos`` and
``contact_neg`` count the positive and negative encounters (the survey's questions on
interactions read them as encounters since baseline).
"""

from __future__ import annotations

import numpy as np

from common.vocabulary import CHANNELS
from .draws import MAX_COUNT, poisson_from_uniform
from .kernels import contact_week, poisson_inverse_plain, pool_exposures, pool_exposures_plain
from .mechanism import Mechanism, Week
from .params import Params
from .programme import Members, Programme
from .state import State, wellbeing_share

CONTACT, DIALOGUE = CHANNELS.index("contact"), CHANNELS.index("dialogue")
READINESS_BONUS = "readiness_bonus"
"""``week.shared`` key: an N x groups array added to readiness (model/acknowledgement.py)."""
NO_BONUS = np.zeros((1, 1))


def readiness(c, x, fam, tension, exposure, p: Params, bonus=0.0):
    return (p.w_ready_coping * c + p.w_ready_wellbeing * x + p.w_ready_familiarity * fam
            - p.w_ready_tension * tension - p.w_ready_intensity * exposure * (1.0 - fam) + bonus)


def positivity(r, p: Params):
    return 1.0 / (1.0 + np.exp(-p.readiness_steepness * (r - p.readiness_threshold)))


def encounters(u_pos, u_neg, e, q, p: Params, poisson=poisson_from_uniform):
    """The week's positive and negative encounters: Poisson counts with means m*e*q and
    m*e*(1-q), from two uniform draws each (``poisson``: draws.poisson_from_uniform, or
    ``poisson_plain`` in the plain form)."""
    m = p.encounters_per_exposure
    return poisson(u_pos, m * e * q), poisson(u_neg, m * e * (1.0 - q))


def poisson_plain(u: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """``draws.poisson_from_uniform`` for arrays of one shape, in plain numpy (the loop over
    counts of ``kernels.poisson_inverse_plain``)."""
    return poisson_inverse_plain(u, mean, MAX_COUNT)


def attitude_change(a, pos, neg, d, fam, q, p: Params):
    alpha_neg = p.contact_neg_ratio * p.alpha_contact_pos  # negative weighs more (model/params.py)
    return ((p.alpha_contact_pos * pos * (1.0 - a) - alpha_neg * neg * a) / p.encounters_per_exposure
            + p.alpha_dialogue * d * fam * q * (1.0 - a))


def familiarity_change(fam, pos, neg, d, p: Params):
    return p.familiarity_rate * ((pos + neg) / p.encounters_per_exposure + d) * (1.0 - fam)


def exposures(state: State, prog: Programme, members: Members) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contact and dialogue exposure to every group this week.

    Returns ``met``, the households in a mixed activity this week (sorted), and their exposures
    ``e`` and ``d`` (len(met) x groups each); every other household has none. For each (entry,
    member) pair of the week's mixed entries (``Members``), the share of group h among the other
    members of its pool, times the entry's sessions and contact (or dialogue) strength, summed
    over the member's entries. Alone in its pool, a member meets no one (its exposure is 0).
    """
    cm = prog.channel_matrix
    return pool_exposures(members.k, members.i, members.pool, state.group, prog.n_pools, cm[:, CONTACT].copy(),
                          cm[:, DIALOGUE].copy(), state.n, state.attitude.shape[1])


def exposures_plain(state: State, prog: Programme, members: Members) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``exposures`` in plain numpy: the members counted by pool and group, each member's share
    of every group among the other members of its pool, summed over its entries
    (``kernels.pool_exposures_plain``)."""
    cm = prog.channel_matrix
    return pool_exposures_plain(members.k, members.i, members.pool, state.group, prog.n_pools, cm[:, CONTACT],
                                cm[:, DIALOGUE], state.n, state.attitude.shape[1])


class Contact(Mechanism):
    """Members of mixed activities meet: attitudes and familiarity move, contact is counted."""

    name = "contact"

    def step(self, state: State, world, week: Week) -> None:
        met, e, d = exposures(state, world.programme, week.members)
        if met.size == 0:
            return
        p = world.params
        u = week.draws.take(2 * e.size).reshape(2, *e.shape)  # per met household and group
        bonus = week.shared.get(READINESS_BONUS)
        # readiness, positivity, encounters, attitude_change and familiarity_change of every met
        # household and other group, in place (one compiled pass: kernels.contact_week)
        contact_week(met, e, d, u, NO_BONUS if bonus is None else bonus, bonus is not None, state.attitude,
                     state.anchor, state.familiarity, state.contact_pos, state.contact_neg, state.group, state.coping,
                     state.wellbeing, state.tension, state.village, p.w_ready_coping, p.w_ready_wellbeing,
                     p.w_ready_familiarity, p.w_ready_tension, p.w_ready_intensity, p.readiness_steepness,
                     p.readiness_threshold, p.encounters_per_exposure, p.contact_neg_ratio, p.alpha_contact_pos,
                     p.alpha_dialogue, p.familiarity_rate, MAX_COUNT)

    def plain(self, state: State, world, week: Week) -> None:
        met, e, d = exposures_plain(state, world.programme, week.members)
        if met.size == 0:
            return
        p, other = world.params, state.other_mask[met]
        u = week.draws.take(2 * e.size).reshape(2, *e.shape)  # per met household and group
        bonus = week.shared.get(READINESS_BONUS)
        a, fam = state.attitude[met], state.familiarity[met]
        x = wellbeing_share(state.wellbeing[met])[:, None]
        r = readiness(state.coping[met, None], x, fam, state.tension[state.village[met]][:, None], e, p,
                      0.0 if bonus is None else bonus[met])
        q = positivity(r, p)
        pos, neg = encounters(u[0], u[1], e, q, p, poisson_plain)  # e is 0 towards one's own group: none
        da = attitude_change(a, pos, neg, d, fam, q, p) * other
        state.attitude[met] = np.clip(a + da, 0.0, 1.0)
        state.anchor[met] = np.clip(state.anchor[met] + da, 0.0, 1.0)
        state.familiarity[met] = np.clip(fam + familiarity_change(fam, pos, neg, d, p) * other, 0.0, 1.0)
        state.contact_pos[met] += pos.sum(axis=1)
        state.contact_neg[met] += neg.sum(axis=1)

    def reference(self, state: State, world, week: Week) -> None:
        members, expo, dlg = exposures_one_by_one(state, world.programme, week.number)
        if not members:
            return
        p, ng = world.params, state.attitude.shape[1]
        u = week.draws.take(2 * len(members) * ng)
        bonus = week.shared.get(READINESS_BONUS)
        for row, i in enumerate(members):
            x = wellbeing_share(state.wellbeing[i])
            for h in range(ng):
                if h == state.group[i]:
                    continue
                e_, d_, fam = expo[i][h], dlg[i][h], state.familiarity[i, h]
                r = readiness(state.coping[i], x, fam, state.tension[state.village[i]], e_, p,
                              0.0 if bonus is None else bonus[i, h])
                q = positivity(r, p)
                pos, neg = (float(c) for c in encounters(u[row * ng + h], u[(len(members) + row) * ng + h], e_, q, p))
                da = attitude_change(state.attitude[i, h], pos, neg, d_, fam, q, p)
                state.attitude[i, h] = min(max(state.attitude[i, h] + da, 0.0), 1.0)
                state.anchor[i, h] = min(max(state.anchor[i, h] + da, 0.0), 1.0)
                state.familiarity[i, h] = min(max(fam + familiarity_change(fam, pos, neg, d_, p), 0.0), 1.0)
                state.contact_pos[i] += pos
                state.contact_neg[i] += neg


def exposures_one_by_one(state: State, prog: Programme, week: int) -> tuple[list, list, list]:
    """``exposures`` one entry and one member at a time: the households in a mixed entry this
    week (in index order), and per household, per group, the contact and dialogue exposure."""
    ng = state.attitude.shape[1]
    expo = [[0.0] * ng for _ in range(state.n)]
    dlg = [[0.0] * ng for _ in range(state.n)]
    met: set[int] = set()
    for k in prog.week(week).mixed.tolist():
        members = [i for i in range(state.n) if state.weeks_left[i, k] > 0]
        met.update(members)
        counts: dict[tuple[int, int], int] = {}
        for i in members:
            key = (int(prog.pool_of(k, i)), int(state.group[i]))
            counts[key] = counts.get(key, 0) + 1
        for i in members:
            pool = int(prog.pool_of(k, i))
            total = sum(c for (pl, _), c in counts.items() if pl == pool)
            for h in range(ng):
                if h != state.group[i]:
                    share = counts.get((pool, h), 0) / max(total - 1, 1)
                    expo[i][h] += prog.channel_matrix[k, CONTACT] * share
                    dlg[i][h] += prog.channel_matrix[k, DIALOGUE] * share
    return sorted(met), expo, dlg
