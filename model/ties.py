"""New cross-group ties from mixed activities (docs/model.md, section 7.7).

Each week, each participant of a mixed entry k forms a tie with probability
``tie_rate * ties_k`` (the entry's ties strength) with a member drawn uniformly from its
pool (possibly itself, which makes no tie, so the realised rate is a little lower; alone in its
pool, it meets no one); the tie
is kept if the two belong to different groups and are not tied yet. Ties outlast the activity.
"""

from __future__ import annotations

import numpy as np

from .draws import WeekDraws
from .network import SocialNetwork
from .params import Params
from .programme import Members, Programme
from .state import State


def step(state: State, prog: Programme, net: SocialNetwork, members: Members, draws: WeekDraws, p: Params) -> int:
    """New ties of this week, over the (entry, member) pairs of all mixed entries at once
    (``programme.mixed_members``)."""
    k, i = members.k, members.i
    makes = np.flatnonzero(draws.take(i.size) < p.tie_rate * prog.tie_strength[k])
    other = partners(i, members.pool, makes, draws.take(makes.size))
    src = i[makes]
    keep = state.group[src] != state.group[other]
    return net.add_ties(src[keep], other[keep])


def partners(members: np.ndarray, pool: np.ndarray, makers: np.ndarray, u: np.ndarray) -> np.ndarray:
    """For each tie maker (a position in ``members``), a member of its pool drawn by ``u``, the
    pool's members taken in index order (``members`` must be in index order within each pool)."""
    order = np.argsort(pool, kind="stable")
    sorted_members, sorted_pools = members[order], pool[order]
    start = np.searchsorted(sorted_pools, pool[makers], side="left")
    size = np.searchsorted(sorted_pools, pool[makers], side="right") - start
    return sorted_members[start + np.minimum(np.floor(u * size).astype(np.int64), size - 1)]
