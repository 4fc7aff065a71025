"""Social influence on attitudes, Friedkin-Johnsen style (docs/model.md, section 7.6).

For household i and another group h, m_ih is the weighted mean attitude towards h of i's
neighbours who are not themselves members of h; out-group neighbours count with weight
``outgroup_credibility`` (in-group neighbours 1). Attitudes drift towards m and are held back
by an anchor, the household's own position (its initial attitude, moved only by its own
contact, dialogue and shocks):

    dA_ih = influence_rate * ((1 - s_i) * (m_ih - A_ih) + s_i * (anchor_ih - A_ih))

with stubbornness s_i higher for victims' families (anchored in personal loss).
"""

from __future__ import annotations

import numpy as np

from .activities import GROUPS
from .network import SocialNetwork
from .params import Params
from .state import State


def fj_change(a, m, anchor, s, p: Params):
    return p.influence_rate * ((1.0 - s) * (m - a) + s * (anchor - a))


def holders(group: np.ndarray) -> np.ndarray:
    """N x 3: 1 where the household holds an attitude towards the group (is not a member)."""
    return (group[:, None] != np.arange(len(GROUPS))[None, :]).astype(float)


def neighbour_attitudes(state: State, net: SocialNetwork, p: Params) -> np.ndarray:
    hold = holders(state.group)
    num = net.weighted_sum(state.attitude * hold, p.outgroup_credibility)
    den = net.weighted_sum(hold, p.outgroup_credibility)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), state.attitude)


def step(state: State, net: SocialNetwork, p: Params) -> None:
    if p.influence_rate == 0:
        return
    m = neighbour_attitudes(state, net, p)
    da = fj_change(state.attitude, m, state.anchor, state.stubbornness[:, None], p) * state.other_mask
    state.attitude = np.clip(state.attitude + da, 0.0, 1.0)
