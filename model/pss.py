"""Psychosocial support: coping and MHPSS stigma (docs/model.md, section 7.3).

    dc = alpha_coping * D_coping * (1 - c) - coping_decay * (c - c0)
    ds = -(alpha_stigma * D_stigma + stigma_peer * S) * s

D are the household's weekly doses of the channels (programme.Programme.doses) and S the share
of its neighbours who have taken part: stigma falls with continuous awareness and as people see
others take part. Coping gains last, relaxing slowly to the initial value.
"""

from __future__ import annotations

import numpy as np

from .params import Params
from .state import State, clip01


def coping_change(c, c0, dose, p: Params):
    return p.alpha_coping * dose * (1.0 - c) - p.coping_decay * (c - c0)


def stigma_change(s, dose, nb_joined, p: Params):
    return -(p.alpha_stigma * dose + p.stigma_peer * nb_joined) * s


def step(state: State, doses: dict[str, np.ndarray], nb_joined: np.ndarray, p: Params) -> None:
    dc = coping_change(state.coping, state.coping0, doses["coping"], p)
    ds = stigma_change(state.stigma, doses["stigma"], nb_joined, p)
    state.coping = clip01(state.coping + dc)
    state.stigma = clip01(state.stigma + ds)
