"""Stressors and well-being (docs/model.md, section 7.4).

Material need m and structural barriers b are relieved by income and referral doses:

    dm = -need_relief * D_need * m          db = -barrier_relief * D_barriers * b

Stress is (m + b) / 2, buffered by coping. Well-being x (WEMWBS as a share of its range) relaxes
towards an equilibrium that rises with coping and falls with unbuffered stress,

    x* = x0 + theta_coping * (c - c0) - theta_stress * (stress * (1 - c) - stress0 * (1 - c0))
            + theta_ties * sigma - theta_tension * (T_v - T0_v)
    dx = wellbeing_rate * (x* - x) + alpha_wellbeing * D_wellbeing * (1 - x) + mood_contagion * G

sigma = n / (n + TIES_HALF) is the social support of the n ties the household has made in
activities (model/ties.py), and T_v - T0_v the rise of its village's tension since week 0: a
tenser village lowers well-being, a calmer one raises it.

where G is the mean over neighbours of max(x_j - x_i, 0): healthy mood spreads through ties,
low mood does not (Hill, Griffiths and House 2015). x0 is set so that week 0 is a fixed point
(``settle``: x0 = x(0) - mood_contagion / wellbeing_rate * G(0)), so without support and without
shocks well-being stays where it started.
"""

from __future__ import annotations

import numpy as np

from .kernels import clip01, stressors_network_week, upward_gap_sums_plain
from .mechanism import Mechanism, Week
from .network import SocialNetwork
from .params import Params
from .state import State, stress, wellbeing_score, wellbeing_share


def relief(level, dose, rate):
    return -rate * dose * level


TIES_HALF = 2.0
"""Activity-made ties at which social support is half its full value: support saturates (the
first confidants matter most). ASSUMPTION (range 1-4)."""


def support(n_ties):
    return n_ties / (n_ties + TIES_HALF)


def equilibrium(x0, c, c0, s, s0, sigma, dt, p: Params):
    return clip01(x0 + p.theta_coping * (c - c0) - p.theta_stress * (s * (1.0 - c) - s0 * (1.0 - c0))
                  + p.theta_ties * sigma - p.theta_tension * dt)


def activity_ties(net: SocialNetwork) -> np.ndarray:
    """Ties each household has made in activities."""
    return (np.bincount(net.new_src, minlength=net.n) + np.bincount(net.new_dst, minlength=net.n)).astype(float)


def wellbeing_change(x, x_eq, dose, gap, p: Params):
    return p.wellbeing_rate * (x_eq - x) + p.alpha_wellbeing * dose * (1.0 - x) + p.mood_contagion * gap


def mean_upward_gap_plain(net: SocialNetwork, x: np.ndarray) -> np.ndarray:
    """G, ``net.mean_upward_gap(x)`` in plain numpy: tie by tie (baseline ties, then those made
    in activities, each once), the worse-off end gets max(x_j - x_i, 0), summed per household
    (``kernels.upward_gap_sums_plain``) and divided by its degree."""
    src, dst = np.concatenate([net.src, net.new_src]), np.concatenate([net.dst, net.new_dst])
    return upward_gap_sums_plain(src, dst, x, net.n) / np.maximum(net.degree, 1.0)


def settle(state: State, net: SocialNetwork, p: Params) -> None:
    """Set each household's x0 so that its week-0 well-being is a fixed point of the dynamics."""
    if p.wellbeing_rate > 0:
        state.wellbeing0 = wellbeing_share(state.wellbeing) - p.mood_contagion / p.wellbeing_rate * \
            net.mean_upward_gap(wellbeing_share(state.wellbeing))


class Stressors(Mechanism):
    """Need and barriers are relieved; well-being moves towards its equilibrium and with mood."""

    name = "stressors"

    def init(self, state: State, world) -> None:
        settle(state, world.network, world.params)

    def step(self, state: State, world, week: Week) -> None:
        # G (mean_upward_gap_plain) over each household's ties, relief, equilibrium and
        # well-being_change of every household in one compiled call (kernels.stressors_network_week;
        # the rise of tension is not felt while away)
        p, doses, net, n = world.params, week.doses, world.network, state.n
        indptr, indices = net.base.indptr, net.base.indices
        need, barriers, score = np.empty(n), np.empty(n), np.empty(n)
        stressors_network_week(
            indptr, indices, *net.tie_list(), net.csr_order, net.degree, state.need, state.barriers, state.wellbeing,
            state.wellbeing0, state.coping, state.coping0, state.stress0, state.tension, state.tension0,
            state.village, state.present, doses["need"], doses["barriers"], doses["wellbeing"], p.need_relief,
            p.barrier_relief, p.theta_coping, p.theta_stress, p.theta_ties, p.theta_tension, TIES_HALF,
            p.wellbeing_rate, p.alpha_wellbeing, p.mood_contagion, np.empty((4, n)), need, barriers, score)
        state.need, state.barriers, state.wellbeing = need, barriers, score

    def plain(self, state: State, world, week: Week) -> None:
        p, doses = world.params, week.doses
        state.need = np.clip(state.need + relief(state.need, doses["need"], p.need_relief), 0.0, 1.0)
        state.barriers = np.clip(state.barriers + relief(state.barriers, doses["barriers"], p.barrier_relief), 0.0, 1.0)
        x = wellbeing_share(state.wellbeing)
        sigma = support(activity_ties(world.network))
        dt = np.where(state.present, (state.tension - state.tension0)[state.village], 0.0)  # not felt while away
        x_eq = equilibrium(state.wellbeing0, state.coping, state.coping0, stress(state.need, state.barriers),
                           state.stress0, sigma, dt, p)
        gap = mean_upward_gap_plain(world.network, x)
        x = np.clip(x + wellbeing_change(x, x_eq, doses["wellbeing"], gap, p), 0.0, 1.0)
        state.wellbeing = wellbeing_score(x)

    def reference(self, state: State, world, week: Week) -> None:
        p, dose, net = world.params, week.doses, world.network
        for i in range(state.n):
            state.need[i] = _clip(state.need[i] + relief(state.need[i], dose["need"][i], p.need_relief))
            state.barriers[i] = _clip(state.barriers[i] + relief(state.barriers[i], dose["barriers"][i],
                                                                 p.barrier_relief))
        x_old = [wellbeing_share(state.wellbeing[i]) for i in range(state.n)]
        for i in range(state.n):
            made = float(np.sum(net.new_src == i) + np.sum(net.new_dst == i))
            v = state.village[i]
            x_eq = equilibrium(state.wellbeing0[i], state.coping[i], state.coping0[i],
                               stress(state.need[i], state.barriers[i]), state.stress0[i], support(made),
                               (state.tension[v] - state.tension0[v]) if state.present[i] else 0.0, p)
            ups = [max(x_old[j] - x_old[i], 0.0) for j in net.neighbours(i)]
            gap = sum(ups) / max(len(ups), 1)
            x = x_old[i] + wellbeing_change(x_old[i], x_eq, dose["wellbeing"][i], gap, p)
            state.wellbeing[i] = wellbeing_score(_clip(x))


def _clip(x: float) -> float:
    return min(max(x, 0.0), 1.0)
