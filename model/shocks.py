"""Village tension, mediation capacity and context shocks (docs/model.md, section 7.8).

Mediation capacity M_v is built by mediation doses (CAC meetings, mediation, community
engagement, capacity building) and lasts (CACs keep mediating):

    dM_v = mediation_gain * D_v * (1 - M_v) - mediation_decay * M_v

where D_v is the village's summed mediation dose per expected CAC household. Tension relaxes
towards a level set by the village's attitudes and is worn down by mediation:

    tension*_v = tension0_v * (1 - A_v) / (1 - A0_v)
    dtension_v = tension_relax * (tension*_v - tension_v) - mediation_rate * M_v * tension_v

A shock of magnitude mu in village v hits with strength mu * (1 - shock_damping * M_v): it adds
to tension and lowers the attitudes, well-being and resources of the households it targets
(``SHOCKS``: which groups' attitudes towards whom, whose well-being, whose need or barriers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scenarios.schema import Event

from .activities import GROUPS
from .params import Params
from .population import village_means
from .state import State, clip01, wellbeing_score, wellbeing_share

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
"""Relative weights of each kind of shock: ASSUMPTIONS (range 0.5x-2x), shaped by DOMAIN.md."""


def strength(magnitude: float, mediation: np.ndarray, p: Params) -> np.ndarray:
    return magnitude * (1.0 - p.shock_damping * mediation)


def apply_event(state: State, event: Event, villages: list[int], p: Params) -> None:
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


def mediation_change(m, dose, p: Params):
    return p.mediation_gain * dose * (1.0 - m) - p.mediation_decay * m


def tension_change(t, t0, a, a0, m, p: Params):
    target = t0 * (1.0 - a) / np.maximum(1.0 - a0, 1e-9)
    return p.tension_relax * (target - t) - p.mediation_rate * m * t


def step(state: State, mediation_dose: np.ndarray, expected_cac: np.ndarray, p: Params) -> None:
    """Build mediation capacity and move tension, village by village (arrays of 3)."""
    nv = state.tension.shape[0]
    dose_v = np.bincount(state.village, weights=mediation_dose, minlength=nv) / expected_cac
    state.mediation = clip01(state.mediation + mediation_change(state.mediation, dose_v, p))
    a_v = village_means(state.mean_other_attitude(), state.village, nv)
    dt = tension_change(state.tension, state.tension0, a_v, state.village_attitude0, state.mediation, p)
    state.tension = clip01(state.tension + dt)
