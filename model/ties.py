"""New cross-group ties from mixed activities (docs/model.md, section 7.7).

Each week, each participant of a mixed entry k forms a tie with probability
``tie_rate * ties_k`` (the entry's ties strength) with a member drawn uniformly from its
pool (possibly itself, which makes no tie, so the realised rate is a little lower); the tie
is kept if the two belong to different groups and are not tied yet. Ties outlast the activity.
"""

from __future__ import annotations

import numpy as np

from .draws import WeekDraws
from .network import SocialNetwork
from .params import Params
from .programme import Programme
from .state import State


def step(state: State, prog: Programme, net: SocialNetwork, week: int, draws: WeekDraws, p: Params) -> int:
    src, dst = [], []
    for entry in prog.mixed_active(week):
        k = entry.index
        rate = p.tie_rate * entry.activity.channel("ties")
        members = np.flatnonzero(state.weeks_left[:, k] > 0)
        if members.size < 2 or rate == 0:
            continue
        makers = members[draws.tie[k][members] < rate]
        if makers.size == 0:
            continue
        other = partners(makers, members, entry.pool, draws.partner[k][makers])
        keep = state.group[makers] != state.group[other]
        src.append(makers[keep])
        dst.append(other[keep])
    if not src:
        return 0
    return net.add_ties(np.concatenate(src), np.concatenate(dst))


def partners(makers: np.ndarray, members: np.ndarray, pool: np.ndarray, u: np.ndarray) -> np.ndarray:
    """For each tie maker, a member of its pool (members in index order within each pool)."""
    order = np.lexsort((members, pool[members]))
    sorted_members = members[order]
    sorted_pools = pool[sorted_members]
    start = np.searchsorted(sorted_pools, pool[makers], side="left")
    size = np.searchsorted(sorted_pools, pool[makers], side="right") - start
    return sorted_members[start + np.minimum(np.floor(u * size).astype(np.int64), size - 1)]
