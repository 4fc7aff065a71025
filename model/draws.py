"""Random numbers: one stream per purpose, and each week's draws made once, as arrays.

Streams are spawned from one ``numpy.random.SeedSequence`` (population, network, dynamics,
survey), so that scenarios run on the same seed share their population and network (common
random numbers) and a change in the programme does not shift the draws of the population.
Each week's draws for the dynamics are made up front (``WeekDraws``) and handed to the step,
so the array step and the per-household reference step see the same numbers.
"""

from __future__ import annotations

import numpy as np

STREAMS = ("population", "network", "dynamics", "survey")


def streams(seed: int | np.random.SeedSequence) -> dict[str, np.random.Generator]:
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return {name: np.random.default_rng(child) for name, child in zip(STREAMS, ss.spawn(len(STREAMS)))}


class WeekDraws:
    """Uniform draws of one week: four per household for each active programme entry.

    ``u[a]`` holds the draws of the a-th active entry (``entries[a]``), rows join, drop, tie and
    partner; ``join[k]`` etc. are the rows of entry k, ``join_all`` etc. all active entries at once
    (active entries x households).
    """

    def __init__(self, entries: np.ndarray, u: np.ndarray):
        self.entries = np.asarray(entries, dtype=np.int64)
        self.u = u
        self.join_all, self.drop_all, self.tie_all, self.partner_all = (u[:, r] for r in range(4))
        self.row_of = {int(k): a for a, k in enumerate(self.entries)}
        self.join, self.drop, self.tie, self.partner = (_ByEntry(self.row_of, x) for x in (
            self.join_all, self.drop_all, self.tie_all, self.partner_all))

    def rows(self, entries: np.ndarray) -> np.ndarray:
        """The rows of the given active entries in the week's arrays."""
        return np.searchsorted(self.entries, entries)  # entries are in programme order

    @classmethod
    def draw(cls, rng: np.random.Generator, n: int, entries) -> "WeekDraws":
        # one call, entry after entry: the same numbers as four rows of n for each entry in turn
        return cls(entries, rng.random((len(entries), 4, n)))


class _ByEntry:
    """``draws.join[k]``: the draws of programme entry k (a row of the active entries' array)."""

    def __init__(self, row_of: dict[int, int], rows: np.ndarray):
        self.row_of, self.rows = row_of, rows

    def __getitem__(self, k: int) -> np.ndarray:
        return self.rows[self.row_of[k]]
