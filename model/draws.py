"""Random numbers: one stream per purpose, and each week's draws made once, as arrays.

Streams are spawned from one ``numpy.random.SeedSequence`` (population, network, dynamics,
survey), so that scenarios run on the same seed share their population and network (common
random numbers) and a change in the programme does not shift the draws of the population.
Each week's draws for the dynamics are made up front (``WeekDraws``) and handed to the step,
so the array step and the per-household reference step see the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STREAMS = ("population", "network", "dynamics", "survey")


def streams(seed: int | np.random.SeedSequence) -> dict[str, np.random.Generator]:
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return {name: np.random.default_rng(child) for name, child in zip(STREAMS, ss.spawn(len(STREAMS)))}


@dataclass
class WeekDraws:
    """Uniform draws of one week, per active programme entry (keyed by entry index)."""

    join: dict[int, np.ndarray]
    drop: dict[int, np.ndarray]
    tie: dict[int, np.ndarray]
    partner: dict[int, np.ndarray]

    @classmethod
    def draw(cls, rng: np.random.Generator, n: int, entries: list[int]) -> "WeekDraws":
        out = cls({}, {}, {}, {})
        for k in entries:
            u = rng.random((4, n))
            out.join[k], out.drop[k], out.tie[k], out.partner[k] = u
        return out
