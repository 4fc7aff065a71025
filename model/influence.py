"""Social influence on attitudes, Friedkin-Johnsen style (docs/model.md, section 7.6).

For household i and another group h, m_ih is the weighted mean attitude towards h of i's
neighbours who are not themselves members of h; out-group neighbours count with weight
``outgroup_credibility`` (in-group neighbours 1). Attitudes drift towards m and are held back
by an anchor, the household's own position (its attitude as drawn, before settling; moved only by its own
contact, dialogue and shocks):

    dA_ih = influence_rate * ((1 - s_i) * (m_ih - A_ih) + s_i * (anchor_ih - A_ih))

with stubbornness s_i higher for victims' families (anchored in personal loss).
"""

from __future__ import annotations

import numpy as np

from .kernels import clip01
from .mechanism import Mechanism, Week
from .network import SocialNetwork
from .params import Params
from .state import State


def fj_change(a, m, anchor, s, p: Params):
    return p.influence_rate * ((1.0 - s) * (m - a) + s * (anchor - a))


def holders(group: np.ndarray, n_groups: int) -> np.ndarray:
    """N x groups: 1 where the household holds an attitude towards the group (is not a member)."""
    return (group[:, None] != np.arange(n_groups)[None, :]).astype(float)


def neighbour_attitudes(state: State, net: SocialNetwork, p: Params) -> np.ndarray:
    num = net.weighted_sum(state.attitude * state.other_mask, p.outgroup_credibility)  # other_mask = holders
    den = net.weighted_ties_to_non_members(p.outgroup_credibility)  # = weighted_sum(holders, ...)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), state.attitude)


def settle(state: State, net: SocialNetwork, p: Params, tol: float = 1e-6, max_iter: int = 500) -> int:
    """Start attitudes at the Friedkin-Johnsen equilibrium of their anchors.

    Iterates A = (1 - s) * m(A) + s * anchor (the fixed point of ``fj_change``, whatever the
    rate), so that with no programme and no shocks attitudes do not drift from their week-0
    values. Returns the number of iterations. With ``influence_rate == 0`` attitudes stay at the
    anchors (there is no influence to settle).
    """
    if p.influence_rate == 0:
        return 0
    s = state.stubbornness[:, None]
    for it in range(1, max_iter + 1):
        new = np.where(state.other_mask, (1.0 - s) * neighbour_attitudes(state, net, p) + s * state.anchor, 1.0)
        change = np.abs(new - state.attitude).max()
        state.attitude = new
        if change < tol:
            return it
    return max_iter


class Influence(Mechanism):
    """Attitudes drift towards neighbours' and back to the household's anchor."""

    name = "influence"

    def init(self, state: State, world) -> None:
        settle(state, world.network, world.params)

    def step(self, state: State, world, week: Week) -> None:
        p = world.params
        if p.influence_rate == 0:
            return
        m = neighbour_attitudes(state, world.network, p)
        da = fj_change(state.attitude, m, state.anchor, state.stubbornness[:, None], p) * state.other_mask
        state.attitude = clip01(state.attitude + da)

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
                m = _neighbour_attitude(i, h, nbrs, old, state.group, p.outgroup_credibility)
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
