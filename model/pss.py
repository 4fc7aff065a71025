"""Psychosocial support: coping and MHPSS stigma (docs/model.md, section 7.3).

    dc = alpha_coping * D_coping * (1 - c) - coping_decay * (1 - capacity_sustain * K_v) * (c - c0)
    ds = -(alpha_stigma * D_stigma + stigma_peer * S) * s

D are the household's weekly doses of the channels (programme.Programme.doses) and S the share
of its neighbours who have taken part: stigma falls with continuous awareness and as people see
others take part. Coping gains last, relaxing slowly to the initial value, more slowly where the
village's local capacity K_v (trained focal points and staff, model/tension.py) is higher.
"""

from __future__ import annotations

import numpy as np

from .kernels import clip01, pss_week
from .mechanism import Mechanism, Week
from .params import Params
from .state import State


def coping_change(c, c0, dose, k, p: Params):
    return p.alpha_coping * dose * (1.0 - c) - p.coping_decay * (1.0 - p.capacity_sustain * k) * (c - c0)


def local_capacity(state: State) -> np.ndarray:
    """Each village's local capacity K_v (0 before the tension mechanism has set it up)."""
    return getattr(state, "capacity", np.zeros(state.tension.shape[0]))


def stigma_change(s, dose, nb_joined, p: Params):
    return -(p.alpha_stigma * dose + p.stigma_peer * nb_joined) * s


class Pss(Mechanism):
    """Coping and MHPSS stigma move with the week's doses and the neighbours who took part."""

    name = "pss"

    def step(self, state: State, world, week: Week) -> None:
        # both changes and the clips in one compiled pass (kernels.pss_week)
        p = world.params
        coping, stigma = np.empty(state.n), np.empty(state.n)
        pss_week(state.coping, state.coping0, state.stigma, week.doses["coping"], week.doses["stigma"], week.nb_joined,
                 local_capacity(state), state.village, p.alpha_coping, p.coping_decay, p.capacity_sustain,
                 p.alpha_stigma, p.stigma_peer, coping, stigma)
        state.coping, state.stigma = coping, stigma

    def plain(self, state: State, world, week: Week) -> None:
        p = world.params
        k = local_capacity(state)[state.village]
        dc = coping_change(state.coping, state.coping0, week.doses["coping"], k, p)
        ds = stigma_change(state.stigma, week.doses["stigma"], week.nb_joined, p)
        state.coping = clip01(state.coping + dc)
        state.stigma = clip01(state.stigma + ds)

    def reference(self, state: State, world, week: Week) -> None:
        p, dose, k = world.params, week.doses, local_capacity(state)
        for i in range(state.n):
            dc = coping_change(state.coping[i], state.coping0[i], dose["coping"][i], k[state.village[i]], p)
            ds = stigma_change(state.stigma[i], dose["stigma"][i], week.nb_joined[i], p)
            state.coping[i] = min(max(state.coping[i] + dc, 0.0), 1.0)
            state.stigma[i] = min(max(state.stigma[i] + ds, 0.0), 1.0)
