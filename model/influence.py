"""Social influence on attitudes, Friedkin-Johnsen style (docs/model.md, section 7.6).

For household i and another group h, m_ih is the weighted mean attitude towards h of i's
neighbours who are not themselves members of h; out-group neighbours count with weight
``outgroup_credibility`` (in-group neighbours 1). Attitudes drift towards their neighbours' and
are held back by an anchor, the household's own position (its attitude at baseline; moved only
by its own contact, dialogue and shocks):

    dA_ih = influence_rate * ((1 - s_i) * (m_ih - g_ih - A_ih) + s_i * (anchor_ih - A_ih))

with stubbornness s_i higher for victims' families (anchored in personal loss). g_ih = m_ih(0) -
A_ih(0), the gap between a household and its neighbours at baseline, is a standing difference
(set at set-up, constant): influence passes on *changes* of the neighbours' attitudes, and the
baseline is an equilibrium whatever the parameters. The attitudes at baseline are the scenario's
(population.initial, set from the reported baseline figures), so the calibration of the dynamics
(stubbornness, credibility) cannot move the baseline it does not fit (docs/calibration.md).
"""

from __future__ import annotations

import numpy as np

from .kernels import influence_network_week
from .mechanism import Mechanism, Week
from .network import SocialNetwork
from .params import Params
from .state import State


def fj_change(a, m, anchor, s, p: Params):
    return p.influence_rate * ((1.0 - s) * (m - a) + s * (anchor - a))


def holders(group: np.ndarray, n_groups: int) -> np.ndarray:
    """N x groups: 1 where the household holds an attitude towards the group (is not a member)."""
    return (group[:, None] != np.arange(n_groups)[None, :]).astype(float)


def neighbour_sums(state: State, net: SocialNetwork, p: Params) -> tuple[np.ndarray, np.ndarray]:
    """The numerator and denominator of m: the weighted sums of the neighbours' attitudes towards
    each group and of their weights, over the neighbours outside it."""
    num = net.weighted_sum(state.attitude * state.other_mask, p.outgroup_credibility)  # other_mask = holders
    den = net.weighted_ties_to_non_members(p.outgroup_credibility)  # = weighted_sum(holders, ...)
    return num, den


def neighbour_attitudes(state: State, net: SocialNetwork, p: Params) -> np.ndarray:
    num, den = neighbour_sums(state, net, p)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), state.attitude)


def baseline_gaps(state: State, net: SocialNetwork, p: Params) -> np.ndarray:
    """g = m(0) - A(0): each household's standing gap to its neighbours at baseline (0 towards
    its own group and where it has no neighbours holding an attitude)."""
    return np.where(state.other_mask, neighbour_attitudes(state, net, p) - state.attitude, 0.0)


class Influence(Mechanism):
    """Attitudes drift towards neighbours' changes and back to the household's anchor."""

    name = "influence"

    def init(self, state: State, world) -> None:
        state.influence_gap = baseline_gaps(state, world.network, world.params)

    def step(self, state: State, world, week: Week) -> None:
        p = world.params
        if p.influence_rate == 0:
            return
        # neighbour_sums's numerator, m (neighbour_attitudes) less the standing gap, fj_change and
        # the clip: one compiled pass over each household's ties
        net = world.network
        indptr, indices, _, new_rows, new_cols = net.csr()
        state.attitude = influence_network_week(
            indptr, indices, new_rows, new_cols, state.group, state.attitude, p.outgroup_credibility,
            net.weighted_ties_to_non_members(p.outgroup_credibility), state.influence_gap, state.anchor,
            state.stubbornness, p.influence_rate, np.empty_like(state.attitude), np.empty_like(state.attitude))

    def plain(self, state: State, world, week: Week) -> None:
        p = world.params
        if p.influence_rate == 0:
            return
        m = neighbour_attitudes(state, world.network, p) - state.influence_gap
        da = fj_change(state.attitude, m, state.anchor, state.stubbornness[:, None], p) * state.other_mask
        state.attitude = np.clip(state.attitude + da, 0.0, 1.0)

    def reference(self, state: State, world, week: Week) -> None:
        p = world.params
        if p.influence_rate == 0:
            return
        old = state.attitude.copy()
        for i in range(state.n):
            nbrs = world.network.neighbours(i)
            for h in range(old.shape[1]):
                if h == state.group[i]:
                    continue
                m = _neighbour_attitude(i, h, nbrs, old, state.group, p.outgroup_credibility) - state.influence_gap[i, h]
                da = fj_change(old[i, h], m, state.anchor[i, h], state.stubbornness[i], p)
                state.attitude[i, h] = min(max(old[i, h] + da, 0.0), 1.0)


def _neighbour_attitude(i: int, h: int, nbrs, attitude: np.ndarray, group: np.ndarray, credibility: float) -> float:
    """m_ih for one household: the weighted mean attitude towards h of its neighbours outside h."""
    num = den = 0.0
    for j in nbrs:
        if group[j] == h:
            continue
        w = 1.0 if group[j] == group[i] else credibility
        num += w * attitude[j, h]
        den += w
    return num / den if den > 0 else attitude[i, h]
