"""A toy mechanism and a toy outcome, added to the model without editing model/ or experiments/.

``Gossip`` counts, for each household, the weeks it spent in a mixed activity (a state array it
adds at set-up); ``gossip_weeks`` reports it. ``install()`` registers both, ``uninstall()``
removes them (tests/test_architecture.py).
"""

from __future__ import annotations

import numpy as np

from model import mechanisms, outcomes
from model.mechanism import Mechanism, Week


class Gossip(Mechanism):
    name = "toy_gossip"

    def init(self, state, world) -> None:
        state.gossip = np.zeros(state.n)

    def step(self, state, world, week: Week) -> None:
        mixed = np.zeros(state.n, dtype=bool)
        mixed[week.members.i] = True
        state.gossip += mixed

    def reference(self, state, world, week: Week) -> None:
        mixed_entries = world.programme.week(week.number).mixed.tolist()
        for i in range(state.n):
            if any(state.weeks_left[i, k] > 0 for k in mixed_entries):
                state.gossip[i] += 1.0


GOSSIP = outcomes.Outcome("gossip_weeks", "weeks", "weeks spent in a mixed activity (toy)",
                          of=lambda r: r.gossip, weekly=True, waves=outcomes.WAVES, on="households",
                          proportion=False)


def install() -> None:
    mechanisms.register(Gossip, after="ties")
    outcomes.register(GOSSIP)


def uninstall() -> None:
    mechanisms.unregister(Gossip.name)
    outcomes.OUTCOMES.pop(GOSSIP.name, None)
