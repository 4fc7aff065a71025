"""Who is there: households that arrive in a village during the run, and households that leave
(docs/model.md, section 7.10).

A scenario's ``population.movements`` say how many households of a group arrive in (returns into
a community) or leave a village, over which weeks. Arriving households are drawn at set-up
(model/population.py) and are absent until their arrival week: no ties, no place in any activity,
not in the village's tension, not in the time series or the survey. At their arrival week they
become present, with the ties drawn for them at set-up to residents and other arrivals. A
household that leaves is absent from its departure week on: it leaves its activities and loses
its ties. Absent households are not moved by any mechanism (with no ties, no doses and no events,
each stays at the fixed point it was set up at).
"""

from __future__ import annotations

import numpy as np

from .mechanism import Mechanism, Week
from .population import NEVER
from .state import State


class Presence(Mechanism):
    """Arrivals and departures of the week, before anything else happens."""

    name = "presence"

    def init(self, state: State, world) -> None:
        arrive = np.unique(state.arrival_week[state.arrival_week > 0])
        leave = np.unique(state.departure_week[state.departure_week < NEVER])
        self.weeks = set(arrive.tolist()) | set(leave.tolist())
        if not state.present.all():
            self._apply(state, world)

    def step(self, state: State, world, week: Week) -> None:
        if week.number not in self.weeks:
            return
        state.present |= state.arrival_week == week.number
        leaving = state.departure_week == week.number
        state.present &= ~leaving
        state.weeks_left[leaving] = 0  # they leave their activities
        self._apply(state, world)

    def reference(self, state: State, world, week: Week) -> None:
        if week.number not in self.weeks:
            return
        for i in range(state.n):
            if state.arrival_week[i] == week.number:
                state.present[i] = True
            if state.departure_week[i] == week.number:
                state.present[i] = False
                state.weeks_left[i, :] = 0
        self._apply(state, world)

    @staticmethod
    def _apply(state: State, world) -> None:
        """The network and the programme see who is present."""
        world.network.set_present(state.present)
        world.programme.set_present(state.present)
