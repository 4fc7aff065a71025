"""Random numbers: one stream per purpose, and each week's draws in a fixed order.

Streams are spawned from one ``numpy.random.SeedSequence`` (population, network, dynamics,
survey), so that scenarios run on the same seed share their population and network (common
random numbers) and a change in the programme does not shift the draws of the population.
A week's draws for the dynamics (``WeekDraws``) come from the dynamics stream in a fixed order,
and only as many as the week uses; the array step and the per-household reference step take
them in the same order, so they see the same numbers.
"""

from __future__ import annotations

import functools

import numpy as np

from .kernels import poisson_inverse

STREAMS = ("population", "network", "dynamics", "survey")


def streams(seed: int | np.random.SeedSequence) -> dict[str, np.random.Generator]:
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return {name: np.random.default_rng(child) for name, child in zip(STREAMS, ss.spawn(len(STREAMS)))}


class WeekDraws:
    """The uniform draws of one week, in this order:

    1. ``join_all``: one per household for each active programme entry (active entries x
       households; ``join[k]`` is entry k's row), drawn when the week starts;
    2. ``take(n)`` as the week goes: one per member of each active entry, entries in programme
       order and members in index order (leaving early); then two per (household, group) cell
       of the households in a mixed entry this week, households in index order (``encounters``:
       the counts of positive and of negative encounters with each group, docs/model.md 7.5);
       then one per member of each active entry that mixes groups, after joining (making a
       tie); then one per tie maker, in the same order (its partner).

    ``record=True`` keeps what ``take`` gave, and ``replay`` gives the same numbers again
    without the generator (the benchmark's floor).
    """

    def __init__(self, rng: np.random.Generator | None, entries, join_all: np.ndarray,
                 taken: list[np.ndarray] | None = None, record: bool = False):
        self.rng = rng
        self.entries = np.asarray(entries, dtype=np.int64)
        self.join_all = join_all
        self._replay = list(taken) if taken is not None else None
        self.taken: list[np.ndarray] | None = [] if record else None

    @functools.cached_property
    def row_of(self) -> dict[int, int]:
        """Row of ``join_all`` of each active entry (made on first use: the array form reads
        ``join_all`` whole)."""
        return {int(k): a for a, k in enumerate(self.entries)}

    @functools.cached_property
    def join(self) -> "_ByEntry":
        return _ByEntry(self.row_of, self.join_all)

    @classmethod
    def draw(cls, rng: np.random.Generator, n: int, entries, record: bool = False,
             out: np.ndarray | None = None) -> "WeekDraws":
        """The week's draws; ``join_all`` into the first rows of ``out`` (entries x n, C order) if
        given and the draws are not recorded: the same numbers, without a new array each week
        (the model's, whose week's draws are read within the week only)."""
        if out is None or record or len(entries) > out.shape[0] or out.shape[1] != n:
            return cls(rng, entries, rng.random((len(entries), n)), record=record)
        return cls(rng, entries, rng.random(out=out[:len(entries)]), record=record)

    def replay(self) -> "WeekDraws":
        """The same week's draws again (of a ``record=True`` week whose draws were all taken)."""
        return WeekDraws(None, self.entries, self.join_all, taken=self.taken)

    def take(self, n: int) -> np.ndarray:
        if self._replay is not None:
            u = self._replay.pop(0)
            if u.size != n:
                raise ValueError(f"replayed draws do not match the week: {u.size} recorded, {n} asked for")
            return u
        u = self.rng.random(n)
        if self.taken is not None:
            self.taken.append(u)
        return u


def poisson_from_uniform(u, mean) -> np.ndarray:
    """Poisson counts with the given means from uniforms on [0, 1) by inversion of the cumulative
    distribution: the smallest k with P(K <= k) > u. Element-wise, for arrays or single numbers,
    so the array and reference forms turn the same draws into the same counts. The loop runs over
    counts (k = 0, 1, ...), never over households; it stops at ``MAX_COUNT``."""
    if not (isinstance(u, np.ndarray) and isinstance(mean, np.ndarray) and u.shape == mean.shape):
        u, mean = np.broadcast_arrays(np.asarray(u, dtype=float), np.asarray(mean, dtype=float))
    # term = P(K = k), cdf = P(K <= k); k goes up while u >= cdf (kernels.poisson_inverse_plain)
    return poisson_inverse(u.ravel(), mean.ravel(), MAX_COUNT).reshape(u.shape)


MAX_COUNT = 100
"""Largest count ``poisson_from_uniform`` gives (weekly encounters are a few at most)."""


class _ByEntry:
    """``draws.join[k]``: the draws of programme entry k (a row of the active entries' array)."""

    def __init__(self, row_of: dict[int, int], rows: np.ndarray):
        self.row_of, self.rows = row_of, rows

    def __getitem__(self, k: int) -> np.ndarray:
        return self.rows[self.row_of[k]]
