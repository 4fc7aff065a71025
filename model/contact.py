"""Intergroup contact in mixed activities (docs/model.md, section 7.5).

A participant of mixed entry k meets the other participants of its pool. Its exposure to group h
is the share of h among them, times the sessions and the entry's contact (or dialogue) strength,
summed over entries: e_ih (contact) and d_ih (dialogue). Whether contact goes well depends on
readiness,

    R_ih = w_c * c_i + w_w * x_i + w_f * F_ih - w_t * tension_v - w_int * e_ih * (1 - F_ih)
    q_ih = sigmoid(readiness_steepness * (R_ih - readiness_threshold))

so contact before coping and familiarity exist, in a tense village or at high intensity with
strangers, is more often negative; negative contact weighs more (Graf, Paolini and Rubin 2014):

    dA_ih = e_ih * (alpha_pos * q * (1 - A) - alpha_neg * (1 - q) * A)
            + alpha_dialogue * d_ih * F_ih * q * (1 - A)        (dialogue pays off once familiar)
    dF_ih = familiarity_rate * (e_ih + d_ih) * (1 - F_ih)

Contact changes the household's own position, so it moves the influence anchor too. Positive and
negative contact are cumulated (e*q and e*(1-q)) for the survey's questions on interactions.
"""

from __future__ import annotations

import functools

import numpy as np

from .activities import CHANNELS, GROUPS
from .params import Params
from .programme import Members, Programme
from .state import State, clip01, wellbeing_share


def readiness(c, x, fam, tension, exposure, p: Params):
    return (p.w_ready_coping * c + p.w_ready_wellbeing * x + p.w_ready_familiarity * fam
            - p.w_ready_tension * tension - p.w_ready_intensity * exposure * (1.0 - fam))


def positivity(r, p: Params):
    return 1.0 / (1.0 + np.exp(-p.readiness_steepness * (r - p.readiness_threshold)))


def attitude_change(a, e, d, fam, q, p: Params):
    return (e * (p.alpha_contact_pos * q * (1.0 - a) - p.alpha_contact_neg * (1.0 - q) * a)
            + p.alpha_dialogue * d * fam * q * (1.0 - a))


def familiarity_change(fam, e, d, p: Params):
    return p.familiarity_rate * (e + d) * (1.0 - fam)


def exposures(state: State, prog: Programme, members: Members) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contact and dialogue exposure to every group this week.

    Returns ``met``, the households in a mixed activity this week (sorted), and their exposures
    ``e`` and ``d`` (len(met) x 3 each); every other household has none. The work runs over
    the (entry, member) pairs of all mixed entries at once (``programme.mixed_members``); alone in
    its pool, a member meets no one (its exposure is 0).
    """
    ng = len(GROUPS)
    k, i, pool = members.k, members.i, members.pool
    # share of each group among the other members of one's pool (pools numbered across entries)
    g = state.group[i]
    counts = np.bincount(pool * ng + g, minlength=prog.n_pools * ng).reshape(prog.n_pools, ng)
    total = functools.reduce(np.add, counts.T)
    own = np.zeros((i.size, ng))
    own[np.arange(i.size), g] = 1.0
    shares = (counts[pool] - own) / np.maximum(total[pool] - 1, 1)[:, None]
    # summed over one's entries, in programme order: sessions a week x the entry's strength x shares
    in_mixed = np.zeros(state.n, dtype=bool)
    in_mixed[i] = True
    met = np.flatnonzero(in_mixed)
    row_of = np.zeros(state.n, dtype=np.int64)
    row_of[met] = np.arange(met.size)
    cell = (row_of[i][:, None] * ng + np.arange(ng)).ravel()
    other = state.other_mask[met]
    e, d = (np.bincount(cell, weights=(prog.channel_matrix[k, CHANNELS.index(c)][:, None] * shares).ravel(),
                        minlength=met.size * ng).reshape(met.size, ng) * other for c in ("contact", "dialogue"))
    return met, e, d


def step(state: State, prog: Programme, members: Members, p: Params) -> None:
    met, e, d = exposures(state, prog, members)
    if met.size == 0:
        return
    other = state.other_mask[met]
    a, fam = state.attitude[met], state.familiarity[met]
    x = wellbeing_share(state.wellbeing[met])[:, None]
    r = readiness(state.coping[met, None], x, fam, state.tension[state.village[met]][:, None], e, p)
    q = positivity(r, p)
    da = attitude_change(a, e, d, fam, q, p) * other
    state.attitude[met] = clip01(a + da)
    state.anchor[met] = clip01(state.anchor[met] + da)
    state.familiarity[met] = clip01(fam + familiarity_change(fam, e, d, p) * other)
    state.contact_pos[met] += functools.reduce(np.add, (e * q).T)  # summed over groups (column by
    state.contact_neg[met] += functools.reduce(np.add, (e * (1.0 - q)).T)  # column: faster than .sum(axis=1))
