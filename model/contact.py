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

import numpy as np

from common.vocabulary import CHANNELS
from .kernels import clip01, distinct_rows, row_sum
from .mechanism import Mechanism, Week
from .params import Params
from .programme import Members, Programme
from .state import State, wellbeing_share

CONTACT, DIALOGUE = CHANNELS.index("contact"), CHANNELS.index("dialogue")


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
    ``e`` and ``d`` (len(met) x groups each); every other household has none. For each (entry,
    member) pair of the week's mixed entries (``Members``), the share of group h among the other
    members of its pool, times the entry's sessions and contact (or dialogue) strength, summed
    over the member's entries. Alone in its pool, a member meets no one (its exposure is 0).
    """
    ng = state.attitude.shape[1]
    k, i, pool = members.k, members.i, members.pool
    g = state.group[i]
    counts = np.bincount(pool * ng + g, minlength=prog.n_pools * ng).reshape(prog.n_pools, ng)  # pool x group
    others = counts[pool] - np.eye(ng)[g]                       # the other members of one's pool, by group
    shares = others / np.maximum(row_sum(others), 1)[:, None]
    met, row = distinct_rows(i, state.n)  # the households met, and each pair's row among them
    other = state.other_mask[met]
    e = sum_rows(row, prog.channel_matrix[k, CONTACT][:, None] * shares, met.size) * other
    d = sum_rows(row, prog.channel_matrix[k, DIALOGUE][:, None] * shares, met.size) * other
    return met, e, d


def sum_rows(row: np.ndarray, values: np.ndarray, n_rows: int) -> np.ndarray:
    """Sum of the rows of ``values`` that share a ``row`` number (n_rows x columns), in order."""
    cols = values.shape[1]
    cell = (row[:, None] * cols + np.arange(cols)).ravel()
    return np.bincount(cell, weights=values.ravel(), minlength=n_rows * cols).reshape(n_rows, cols)


class Contact(Mechanism):
    """Members of mixed activities meet: attitudes and familiarity move, contact is counted."""

    name = "contact"

    def step(self, state: State, world, week: Week) -> None:
        met, e, d = exposures(state, world.programme, week.members)
        if met.size == 0:
            return
        p, other = world.params, state.other_mask[met]
        a, fam = state.attitude[met], state.familiarity[met]
        x = wellbeing_share(state.wellbeing[met])[:, None]
        q = positivity(readiness(state.coping[met, None], x, fam, state.tension[state.village[met]][:, None], e, p), p)
        da = attitude_change(a, e, d, fam, q, p) * other
        state.attitude[met] = clip01(a + da)
        state.anchor[met] = clip01(state.anchor[met] + da)
        state.familiarity[met] = clip01(fam + familiarity_change(fam, e, d, p) * other)
        state.contact_pos[met] += row_sum(e * q)
        state.contact_neg[met] += row_sum(e * (1.0 - q))

    def reference(self, state: State, world, week: Week) -> None:
        expo, dlg = exposures_one_by_one(state, world.programme, week.number)
        if not any(v > 0 for row in expo + dlg for v in row):
            return
        p = world.params
        for i in range(state.n):
            x = wellbeing_share(state.wellbeing[i])
            for h in range(state.attitude.shape[1]):
                if h == state.group[i]:
                    continue
                e_, d_, fam = expo[i][h], dlg[i][h], state.familiarity[i, h]
                q = positivity(readiness(state.coping[i], x, fam, state.tension[state.village[i]], e_, p), p)
                da = attitude_change(state.attitude[i, h], e_, d_, fam, q, p)
                state.attitude[i, h] = min(max(state.attitude[i, h] + da, 0.0), 1.0)
                state.anchor[i, h] = min(max(state.anchor[i, h] + da, 0.0), 1.0)
                state.familiarity[i, h] = min(max(fam + familiarity_change(fam, e_, d_, p), 0.0), 1.0)
                state.contact_pos[i] += e_ * q
                state.contact_neg[i] += e_ * (1 - q)


def exposures_one_by_one(state: State, prog: Programme, week: int) -> tuple[list, list]:
    """``exposures`` one entry and one member at a time: per household, per group."""
    ng = state.attitude.shape[1]
    expo = [[0.0] * ng for _ in range(state.n)]
    dlg = [[0.0] * ng for _ in range(state.n)]
    for k in prog.week(week).mixed.tolist():
        members = [i for i in range(state.n) if state.weeks_left[i, k] > 0]
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
    return expo, dlg
