"""Village tension and mediation capacity (docs/model.md, section 7.8).

Mediation capacity M_v is built by mediation doses (CAC meetings, mediation, community
engagement, capacity building) and lasts (CACs keep mediating):

    dM_v = mediation_gain * D_v * (1 - M_v) - mediation_decay * M_v

where D_v is the village's summed mediation dose per expected CAC household. Tension relaxes
towards a level set by the village's attitudes and is worn down by mediation:

    tension*_v = tension0_v * (1 - A_v) / (1 - A0_v)
    dtension_v = tension_relax * (tension*_v - tension_v) - mediation_rate * M_v * tension_v

A0_v is the village's mean attitude towards other groups once attitudes have settled (week 0).
"""

from __future__ import annotations

import numpy as np

from .kernels import clip01
from .mechanism import Mechanism, Week
from .params import Params
from .population import village_means
from .state import State


def mediation_change(m, dose, p: Params):
    return p.mediation_gain * dose * (1.0 - m) - p.mediation_decay * m


def tension_change(t, t0, a, a0, m, p: Params):
    target = t0 * (1.0 - a) / np.maximum(1.0 - a0, 1e-9)
    return p.tension_relax * (target - t) - p.mediation_rate * m * t


class Tension(Mechanism):
    """Mediation capacity builds up and tension moves, village by village."""

    name = "tension"

    def init(self, state: State, world) -> None:
        nv = len(world.villages)
        state.village_attitude0 = village_means(state.mean_other_attitude(), state.village, nv, state.present)
        n_v = np.bincount(state.village, minlength=nv)
        self.expected_cac = np.maximum(1.0, world.scenario.population.roles.cac * n_v)

    def step(self, state: State, world, week: Week) -> None:
        p, nv = world.params, state.tension.shape[0]
        dose_v = np.bincount(state.village, weights=week.doses["mediation"], minlength=nv) / self.expected_cac
        state.mediation = clip01(state.mediation + mediation_change(state.mediation, dose_v, p))
        a_v = village_means(state.mean_other_attitude(), state.village, nv, state.present)
        dt = tension_change(state.tension, state.tension0, a_v, state.village_attitude0, state.mediation, p)
        state.tension = clip01(state.tension + dt)

    def reference(self, state: State, world, week: Week) -> None:
        p, ng = world.params, state.attitude.shape[1]
        for v in range(state.tension.shape[0]):
            in_v = [i for i in range(state.n) if state.village[i] == v and state.present[i]]
            dose_v = sum(week.doses["mediation"][i] for i in range(state.n) if state.village[i] == v) / self.expected_cac[v]
            state.mediation[v] = _clip(state.mediation[v] + mediation_change(state.mediation[v], dose_v, p))
            att = [sum(state.attitude[i, h] for h in range(ng) if h != state.group[i]) / (ng - 1) for i in in_v]
            a_v = sum(att) / max(len(att), 1)
            dt = tension_change(state.tension[v], state.tension0[v], a_v, state.village_attitude0[v],
                                state.mediation[v], p)
            state.tension[v] = _clip(state.tension[v] + dt)


def _clip(x: float) -> float:
    return min(max(x, 0.0), 1.0)
