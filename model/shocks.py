"""Context shocks: the scenario's events (docs/model.md, section 7.8).

A shock of magnitude mu in village v hits with strength mu * (1 - shock_damping * M_v): it adds
to tension and lowers the attitudes, well-being and resources of the households it targets
(``SHOCKS``: which groups' attitudes towards whom, whose well-being, whose need or barriers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common.vocabulary import EVENT_TYPES, GROUPS

from .params import Params
from .kernels import clip01
from .mechanism import Mechanism, Week
from .state import State, wellbeing_score, wellbeing_share

ALL = tuple(range(len(GROUPS)))
FPA, VF, HC = (GROUPS.index(g) for g in ("FPA", "VF", "HC"))


@dataclass(frozen=True)
class ShockKind:
    tension: float                 # added to village tension per unit strength
    holders: tuple[int, ...]       # whose attitudes fall ...
    towards: tuple[int, ...]       # ... towards which groups
    attitude: float                # proportional fall of those attitudes per unit strength
    wellbeing_of: tuple[int, ...]
    wellbeing: float               # fall of well-being (share of scale) per unit strength
    need: float                    # rise of material need (of everyone) per unit strength
    barriers_of: tuple[int, ...]
    barriers: float


SHOCKS = {
    # DOMAIN.md: discriminatory acts by institutions could re-escalate tension; FPAs bear them
    "discriminatory_act": ShockKind(1.0, (FPA,), (VF, HC), 0.5, (FPA,), 0.3, 0.0, (FPA,), 0.5),
    # DOMAIN.md: accelerated returns from Al-Hol camp
    "returns_wave": ShockKind(1.0, (VF, HC), (FPA,), 0.5, ALL, 0.1, 0.3, (), 0.0),
    # DOMAIN.md: worse security
    "security_incident": ShockKind(1.5, ALL, ALL, 0.3, ALL, 0.4, 0.1, (), 0.0),
}
"""Relative weights of each kind of shock: ASSUMPTIONS (range 0.5x-2x), shaped by DOMAIN.md.
One entry per event type of the vocabulary (common.vocabulary.EVENT_TYPES)."""
assert tuple(SHOCKS) == EVENT_TYPES, "every event type needs its shock kind, and no other"


def strength(magnitude: float, mediation: np.ndarray, p: Params) -> np.ndarray:
    return magnitude * (1.0 - p.shock_damping * mediation)


def apply_event(state: State, event, villages: list[int], p: Params) -> None:
    """One event (``scenarios.schema.Event``) hitting ``villages``, over all households."""
    kind = SHOCKS[event.type]
    mu = strength(event.magnitude, state.mediation, p)          # per village
    hit_v = np.zeros_like(mu)
    hit_v[villages] = mu[villages]
    state.tension = clip01(state.tension + kind.tension * hit_v)
    hit = hit_v[state.village]                                   # per household
    rows = np.isin(state.group, kind.holders)
    cols = np.zeros(len(GROUPS), dtype=bool)
    cols[list(kind.towards)] = True
    fall = (kind.attitude * hit * rows)[:, None] * cols[None, :] * state.other_mask
    state.attitude = clip01(state.attitude * (1.0 - fall))
    state.anchor = clip01(state.anchor * (1.0 - fall))
    x = wellbeing_share(state.wellbeing) - kind.wellbeing * hit * np.isin(state.group, kind.wellbeing_of)
    state.wellbeing = wellbeing_score(clip01(x))
    state.need = clip01(state.need + kind.need * hit * (1.0 - state.need))
    b_rise = kind.barriers * hit * np.isin(state.group, kind.barriers_of)
    state.barriers = clip01(state.barriers + b_rise * (1.0 - state.barriers))


def apply_event_one_by_one(state: State, event, villages: list[int], p: Params) -> None:
    """``apply_event``, one village and then one household at a time (the reference form)."""
    kind = SHOCKS[event.type]
    nv = state.tension.shape[0]
    hit_v = [float(strength(event.magnitude, state.mediation[v], p)) if v in villages else 0.0 for v in range(nv)]
    for v in range(nv):
        state.tension[v] = _clip(state.tension[v] + kind.tension * hit_v[v])
    for i in range(state.n):
        g, hit = state.group[i], hit_v[state.village[i]]
        for h in range(state.attitude.shape[1]):
            if h != g and g in kind.holders and h in kind.towards:
                state.attitude[i, h] = _clip(state.attitude[i, h] * (1 - kind.attitude * hit))
                state.anchor[i, h] = _clip(state.anchor[i, h] * (1 - kind.attitude * hit))
        x = wellbeing_share(state.wellbeing[i]) - kind.wellbeing * hit * (g in kind.wellbeing_of)
        state.wellbeing[i] = wellbeing_score(_clip(x))
        state.need[i] = _clip(state.need[i] + kind.need * hit * (1 - state.need[i]))
        rise = kind.barriers * hit * (g in kind.barriers_of)
        state.barriers[i] = _clip(state.barriers[i] + rise * (1 - state.barriers[i]))


def _clip(x: float) -> float:
    return min(max(x, 0.0), 1.0)


class Events(Mechanism):
    """The scenario's events of the week hit, before anything else happens."""

    name = "events"

    def step(self, state: State, world, week: Week) -> None:
        for event, villages in world.events_at(week.number):
            apply_event(state, event, villages, world.params)

    def reference(self, state: State, world, week: Week) -> None:
        for event, villages in world.events_at(week.number):
            apply_event_one_by_one(state, event, villages, world.params)
