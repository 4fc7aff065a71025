"""Village tension, mediation (scheduled and on demand), local capacity and support jealousy
(docs/model.md, section 7.8).

Mediation capacity M_v is built by mediation doses (CAC meetings, community engagement, capacity
building) and by on-demand mediation, and lasts (CACs keep mediating); local capacity K_v (trained
focal points and staff) slows its loss:

    dM_v = mediation_gain * D_v * (1 - M_v) - mediation_decay * (1 - capacity_sustain * K_v) * M_v
    dK_v = capacity_gain * C_v * (1 - K_v) - mediation_decay * K_v

D_v is the village's summed mediation dose per expected CAC household plus the on-demand sessions
O_v = demand_v * offered_v, with demand_v = max((T_v - mediation_trigger) / (1 - mediation_trigger),
[an incident hit v in the last RESPONSE_WEEKS weeks]) clipped to [0, 1]: mediation on demand happens
only when tension or an incident calls for it, and more where tension is higher. C_v is the
village's capacity-building dose per expected trainee. Tension relaxes towards a level set by the
village's attitudes, is worn down by mediation and raised by unfair targeting (support jealousy):

    tension*_v = tension0_v * (1 - A_v) / (1 - A0_v)
    dtension_v = tension_relax * (tension*_v - T_v) - mediation_rate * M_v * T_v
                 + support_jealousy * U_v * (1 - T_v)
    U_v = sum_g pi_vg * max(sbar_v - s_vg, 0),   sbar_v = sum_g pi_vg * s_vg

s_vg is the share of group g's households in v served this week (weighted by how visible the
service is, ``VISIBILITY``), pi_vg the group's share of the village: equal service gives U_v = 0
whatever the volume of aid. A0_v is the village's mean attitude once attitudes have settled.
"""

from __future__ import annotations

import numpy as np

from common.vocabulary import CHANNELS

from .kernels import tension_week, village_tallies_plain
from .mechanism import Mechanism, Week
from .params import Params
from .population import village_means
from .shocks import no_incident_yet
from .state import State

MEDIATION = CHANNELS.index("mediation")

VISIBILITY = {"individual": 0.5, "family": 0.5, "group": 1.0, "community": 1.0}
"""How visible being served by an activity of each level is to the neighbours (support jealousy):
group and community activities are seen by all; individual and family services half as much.
ASSUMPTION (range 0.25-1 for individual and family; ODI 2022: *visible* exclusion drives it)."""

RESPONSE_WEEKS = 4
"""Weeks after an incident during which it calls for on-demand mediation. ASSUMPTION (range 1-8)."""


def mediation_change(m, dose, k, p: Params):
    return p.mediation_gain * dose * (1.0 - m) - p.mediation_decay * (1.0 - p.capacity_sustain * k) * m


def capacity_change(k, dose, p: Params):
    return p.capacity_gain * dose * (1.0 - k) - p.mediation_decay * k


def demand(t, weeks_since_incident, p: Params):
    """How much on-demand mediation a village calls for (0-1): tension above the trigger, or a
    recent incident."""
    excess = np.clip((t - p.mediation_trigger) / max(1.0 - p.mediation_trigger, 1e-9), 0.0, 1.0)
    return np.maximum(excess, 1.0 * (weeks_since_incident < RESPONSE_WEEKS))


def unfairness(served, households):
    """U_v from the served households (visibility-weighted) and the households of each group in
    the village(s): the last axis is the groups (one village's row, or villages x groups)."""
    n_v = households.sum(axis=-1, keepdims=True)
    pi = households / np.maximum(n_v, 1.0)
    s = served / np.maximum(households, 1.0)
    s_bar = (pi * s).sum(axis=-1, keepdims=True)
    return (pi * np.maximum(s_bar - s, 0.0)).sum(axis=-1)


def tension_change(t, t0, a, a0, m, u, p: Params):
    target = t0 * (1.0 - a) / np.maximum(1.0 - a0, 1e-9)
    return p.tension_relax * (target - t) - p.mediation_rate * m * t + p.support_jealousy * u * (1.0 - t)


class Tension(Mechanism):
    """Mediation (scheduled and on demand) and local capacity build up, and tension moves,
    village by village."""

    name = "tension"

    def init(self, state: State, world) -> None:
        nv, roles, prog = len(world.villages), world.scenario.population.roles, world.programme
        state.village_attitude0 = village_means(state.mean_other_attitude(), state.village, nv, state.present)
        n_v = np.bincount(state.village, minlength=nv)
        self.expected_cac = np.maximum(1.0, roles.cac * n_v)
        self.expected_trainees = np.maximum(1.0, (roles.cac + roles.deviant + roles.volunteer) * n_v)
        self.visibility = np.array([VISIBILITY[e.activity.level] for e in prog.entries], dtype=float)
        self.offer = np.zeros((len(prog.entries), nv))  # on-demand mediation sessions per entry and village
        for e in prog.entries:
            if e.activity.on_demand:
                self.offer[e.index, list(e.villages)] = prog.channel_matrix[e.index, MEDIATION]  # sessions x strength
        self.n_groups = state.attitude.shape[1]
        state.capacity = np.zeros(nv)            # local capacity K_v
        state.mediation_sessions = np.zeros(nv)  # on-demand mediation sessions held, cumulated
        state.unfairness = np.zeros(nv)          # U_v of the week
        if not hasattr(state, "last_incident"):
            state.last_incident = no_incident_yet(nv)

    def offered(self, world, week: int) -> np.ndarray:
        """On-demand mediation sessions the running entries offer each village this week."""
        return self.offer[world.programme.week(week).active].sum(axis=0)

    def step(self, state: State, world, week: Week) -> None:
        # the village tallies and every village's equations in one compiled pass (kernels.tension_week)
        p = world.params
        state.tension, state.mediation, state.capacity, state.unfairness = tension_week(
            state.tension, state.tension0, state.mediation, state.capacity, state.mediation_sessions,
            state.last_incident, week.number, self.offer, world.programme.week(week.number).active, state.village,
            state.group, state.present, week.enrolled, self.visibility, week.doses["mediation"],
            week.doses["capacity"], state.attitude, self.expected_cac, self.expected_trainees,
            state.village_attitude0, p.mediation_trigger, RESPONSE_WEEKS, p.mediation_gain, p.mediation_decay,
            p.capacity_sustain, p.capacity_gain, p.tension_relax, p.mediation_rate, p.support_jealousy)

    def plain(self, state: State, world, week: Week) -> None:
        p, nv = world.params, state.tension.shape[0]
        on_demand = demand(state.tension, week.number - state.last_incident, p) * self.offered(world, week.number)
        state.mediation_sessions += on_demand
        # per village: summed doses, households served (visibility-weighted) and present per
        # group, mean attitude towards other groups
        dose, cap, served, households, a_v = village_tallies_plain(
            state.village, state.group, state.present, week.enrolled, self.visibility, week.doses["mediation"],
            week.doses["capacity"], state.attitude, nv)
        dose_v, cap_v = dose / self.expected_cac, cap / self.expected_trainees
        state.mediation = np.clip(state.mediation + mediation_change(state.mediation, dose_v + on_demand,
                                                                     state.capacity, p), 0.0, 1.0)
        state.capacity = np.clip(state.capacity + capacity_change(state.capacity, cap_v, p), 0.0, 1.0)
        state.unfairness = unfairness(served, households)
        dt = tension_change(state.tension, state.tension0, a_v, state.village_attitude0, state.mediation,
                            state.unfairness, p)
        state.tension = np.clip(state.tension + dt, 0.0, 1.0)

    def reference(self, state: State, world, week: Week) -> None:
        p, ng, doses = world.params, self.n_groups, week.doses
        offered = self.offered(world, week.number)
        for v in range(state.tension.shape[0]):
            in_v = [i for i in range(state.n) if state.village[i] == v and state.present[i]]
            on_demand = demand(state.tension[v], week.number - state.last_incident[v], p) * offered[v]
            state.mediation_sessions[v] += on_demand
            dose_v = sum(doses["mediation"][i] for i in range(state.n) if state.village[i] == v) / self.expected_cac[v]
            cap_v = sum(doses["capacity"][i] for i in range(state.n) if state.village[i] == v) / self.expected_trainees[v]
            state.mediation[v] = _clip(state.mediation[v] + mediation_change(state.mediation[v], dose_v + on_demand,
                                                                              state.capacity[v], p))
            state.capacity[v] = _clip(state.capacity[v] + capacity_change(state.capacity[v], cap_v, p))
            served, households = np.zeros(ng), np.zeros(ng)
            for i in in_v:
                ks = [k for k in range(week.enrolled.shape[1]) if week.enrolled[i, k]]
                served[state.group[i]] += max([self.visibility[k] for k in ks], default=0.0)
                households[state.group[i]] += 1.0
            state.unfairness[v] = unfairness(served, households)
            att = [sum(state.attitude[i, h] for h in range(ng) if h != state.group[i]) / (ng - 1) for i in in_v]
            a_v = sum(att) / max(len(att), 1)
            dt = tension_change(state.tension[v], state.tension0[v], a_v, state.village_attitude0[v],
                                state.mediation[v], state.unfairness[v], p)
            state.tension[v] = _clip(state.tension[v] + dt)


def _clip(x: float) -> float:
    return min(max(x, 0.0), 1.0)
