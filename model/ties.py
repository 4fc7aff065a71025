"""New cross-group ties from mixed activities (docs/model.md, section 7.7).

Each week, each participant of a mixed entry k forms a tie with probability
``tie_rate * ties_k`` (the entry's ties strength) with a member drawn uniformly from its
pool (possibly itself, which makes no tie, so the realised rate is a little lower; alone in its
pool, it meets no one); the tie
is kept if the two belong to different groups and are not tied yet. Ties outlast the activity.
"""

from __future__ import annotations

import numpy as np

from .kernels import tie_makers, tie_partners
from .mechanism import Mechanism, Week
from .state import State


class Ties(Mechanism):
    """Members of mixed activities make ties across group lines."""

    name = "ties"

    def step(self, state: State, world, week: Week) -> None:
        # who makes a tie, then partners and the cross-group filter, compiled (kernels.tie_makers,
        # kernels.tie_partners); the draws taken in the same order as below
        prog, members, draws = world.programme, week.members, week.draws
        makes = tie_makers(draws.take(members.i.size), members.k, world.params.tie_rate, prog.tie_strength)
        src, dst = tie_partners(members.i, members.pool, makes, draws.take(makes.size), state.group, prog.n_pools)
        week.new_ties = world.network.add_ties(src, dst)

    def plain(self, state: State, world, week: Week) -> None:
        prog, members, draws = world.programme, week.members, week.draws
        k, i = members.k, members.i
        makes = np.flatnonzero(draws.take(i.size) < world.params.tie_rate * prog.tie_strength[k])
        other = partners(i, members.pool, makes, draws.take(makes.size))
        src = i[makes]
        keep = state.group[src] != state.group[other]
        week.new_ties = world.network.add_ties_plain(src[keep], other[keep])

    def reference(self, state: State, world, week: Week) -> None:
        prog, draws, p = world.programme, week.draws, world.params
        mixed = prog.week(week.number).mixed.tolist()
        members = {k: [i for i in range(state.n) if state.weeks_left[i, k] > 0] for k in mixed}
        # one draw per member of each mixed entry (making a tie), then one per tie maker (its partner)
        u_tie = iter(draws.take(sum(len(m) for m in members.values())))
        makers = [(k, i) for k in mixed for i in members[k] if next(u_tie) < p.tie_rate * prog.tie_strength[k]]
        u_partner = iter(draws.take(len(makers)))
        by_pool: dict[int, list[int]] = {}  # members of each pool, in index order
        for k in mixed:
            for i in members[k]:
                by_pool.setdefault(int(prog.pool_of(k, i)), []).append(i)
        src, dst = [], []
        for k, i in makers:
            mates = by_pool[int(prog.pool_of(k, i))]
            j = mates[min(int(np.floor(next(u_partner) * len(mates))), len(mates) - 1)]
            if state.group[i] != state.group[j]:
                src.append(i)
                dst.append(j)
        week.new_ties = world.network.add_ties_plain(np.array(src, dtype=np.int64), np.array(dst, dtype=np.int64))


def partners(members: np.ndarray, pool: np.ndarray, makers: np.ndarray, u: np.ndarray) -> np.ndarray:
    """For each tie maker (a position in ``members``), a member of its pool drawn by ``u``, the
    pool's members taken in index order (``members`` must be in index order within each pool)."""
    order = np.argsort(pool, kind="stable")
    sorted_members, sorted_pools = members[order], pool[order]
    start = np.searchsorted(sorted_pools, pool[makers], side="left")
    size = np.searchsorted(sorted_pools, pool[makers], side="right") - start
    return sorted_members[start + np.minimum(np.floor(u * size).astype(np.int64), size - 1)]
