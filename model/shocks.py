"""Context shocks: the scenario's events (docs/model.md, section 7.8).

A shock of magnitude mu in village v hits with strength mu * (1 - shock_damping * M_v): it adds
to tension and lowers the attitudes, well-being and resources of the households it targets
(``SHOCKS``: which groups' attitudes towards whom, whose well-being, whose need or barriers).
Each village keeps the week of its last incident (``state.last_incident``): an incident calls for
on-demand mediation (model/tension.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common.vocabulary import EVENT_TYPES, GROUP_ROLES

from .params import Params
from .kernels import clip01
from .mechanism import Mechanism, Week
from .state import State, wellbeing_score, wellbeing_share

ALL = GROUP_ROLES
AFFILIATED = ("perceived_affiliation",)


@dataclass(frozen=True)
class ShockKind:
    """What one kind of event does per unit strength; who it touches is given by group roles
    (``GROUP_ROLES``), so it serves any scenario's groups (``for_groups``)."""

    tension: float                 # added to village tension per unit strength
    holders: tuple                 # whose attitudes fall (roles; for_groups: group codes) ...
    towards: tuple                 # ... towards which groups (their own excepted)
    attitude: float                # proportional fall of those attitudes per unit strength
    wellbeing_of: tuple
    wellbeing: float               # fall of well-being (share of scale) per unit strength
    need: float                    # rise of material need (of everyone) per unit strength
    barriers_of: tuple
    barriers: float

    def for_groups(self, roles: list[str]) -> "ShockKind":
        """The same kind with roles replaced by the codes of the scenario's groups in those roles."""
        def codes(which: tuple) -> tuple[int, ...]:
            return tuple(k for k, r in enumerate(roles) if r in which)
        return ShockKind(self.tension, codes(self.holders), codes(self.towards), self.attitude,
                         codes(self.wellbeing_of), self.wellbeing, self.need, codes(self.barriers_of), self.barriers)


SHOCKS = {
    # DOMAIN.md: discriminatory acts by institutions could re-escalate tension; families with a
    # perceived affiliation bear them (their attitudes towards every other group, their well-being
    # and barriers)
    "discriminatory_act": ShockKind(1.0, AFFILIATED, ALL, 0.5, AFFILIATED, 0.3, 0.0, AFFILIATED, 0.5),
    # DOMAIN.md: accelerated returns from Al-Hol camp: victims, hosts and the displaced who stayed
    # trust those perceived as affiliated, and the returning, less
    "returns_wave": ShockKind(1.0, ("victims", "host", "displaced"), ("perceived_affiliation", "returning"), 0.5,
                              ALL, 0.1, 0.3, (), 0.0),
    # DOMAIN.md: worse security
    "security_incident": ShockKind(1.5, ALL, ALL, 0.3, ALL, 0.4, 0.1, (), 0.0),
}
"""Relative weights of each kind of shock: ASSUMPTIONS (range 0.5x-2x), shaped by DOMAIN.md.
One entry per event type of the vocabulary (common.vocabulary.EVENT_TYPES). Who is touched is
given by role; the displaced and returning roles' parts are ASSUMPTIONS (DOMAIN.md names returns
as a risk to cohesion, not how each group reacts)."""
assert tuple(SHOCKS) == EVENT_TYPES, "every event type needs its shock kind, and no other"


def no_incident_yet(n_villages: int) -> np.ndarray:
    """The week of each village's last incident before any has happened (long ago)."""
    return np.full(n_villages, -10**6, dtype=np.int64)


def strength(magnitude: float, mediation: np.ndarray, p: Params) -> np.ndarray:
    return magnitude * (1.0 - p.shock_damping * mediation)


def apply_event(state: State, event, villages: list[int], p: Params, kind: ShockKind) -> None:
    """One event (``scenarios.schema.Event``) of ``kind`` (for the scenario's groups) hitting
    ``villages``, over all households there."""
    mu = strength(event.magnitude, state.mediation, p)          # per village
    hit_v = np.zeros_like(mu)
    hit_v[villages] = mu[villages]
    state.tension = clip01(state.tension + kind.tension * hit_v)
    hit = hit_v[state.village] * state.present                   # per household there
    rows = np.isin(state.group, kind.holders)
    cols = np.zeros(state.attitude.shape[1], dtype=bool)
    cols[list(kind.towards)] = True
    fall = (kind.attitude * hit * rows)[:, None] * cols[None, :] * state.other_mask
    state.attitude = clip01(state.attitude * (1.0 - fall))
    state.anchor = clip01(state.anchor * (1.0 - fall))
    x = wellbeing_share(state.wellbeing) - kind.wellbeing * hit * np.isin(state.group, kind.wellbeing_of)
    state.wellbeing = wellbeing_score(clip01(x))
    state.need = clip01(state.need + kind.need * hit * (1.0 - state.need))
    b_rise = kind.barriers * hit * np.isin(state.group, kind.barriers_of)
    state.barriers = clip01(state.barriers + b_rise * (1.0 - state.barriers))


def apply_event_one_by_one(state: State, event, villages: list[int], p: Params, kind: ShockKind) -> None:
    """``apply_event``, one village and then one household at a time (the reference form)."""
    nv = state.tension.shape[0]
    hit_v = [float(strength(event.magnitude, state.mediation[v], p)) if v in villages else 0.0 for v in range(nv)]
    for v in range(nv):
        state.tension[v] = _clip(state.tension[v] + kind.tension * hit_v[v])
    for i in range(state.n):
        g, hit = state.group[i], hit_v[state.village[i]] * state.present[i]
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

    def init(self, state: State, world) -> None:
        roles = world.scenario.group_roles()
        self.kinds = {name: kind.for_groups(roles) for name, kind in SHOCKS.items()}
        state.last_incident = no_incident_yet(len(world.villages))

    def step(self, state: State, world, week: Week) -> None:
        for event, villages in world.events_at(week.number):
            apply_event(state, event, villages, world.params, self.kinds[event.type])
            state.last_incident[villages] = week.number

    def reference(self, state: State, world, week: Week) -> None:
        for event, villages in world.events_at(week.number):
            apply_event_one_by_one(state, event, villages, world.params, self.kinds[event.type])
            for v in villages:
                state.last_incident[v] = week.number
