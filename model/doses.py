"""The week's doses: who takes part, and how much of each effect channel they receive
(docs/model.md, section 7.1).

A household enrolled in programme entry k this week receives, on each channel c, the entry's
sessions per week times the activity's strength on c (the catalogue, model/activities.yaml),
summed over its entries: ``D = enrolled @ channel_matrix``. The members of the week's entries
that mix groups, with their pools, are who meets whom in contact and new ties.
"""

from __future__ import annotations

import numpy as np

from common.vocabulary import CHANNELS
from .kernels import row_any
from .mechanism import Mechanism, Week
from .state import State


class Doses(Mechanism):
    """Enrolment of the week, each household's dose per channel, and the mixed entries' members."""

    name = "doses"

    def step(self, state: State, world, week: Week) -> None:
        prog = world.programme
        week.enrolled = state.enrolled
        week.taking_part = row_any(week.enrolled)
        week.doses = prog.doses(week.enrolled, week.taking_part)
        week.members = prog.mixed_members(week.number, week.enrolled)

    def reference(self, state: State, world, week: Week) -> None:
        cm = world.programme.channel_matrix
        week.enrolled = state.weeks_left > 0
        week.taking_part = np.zeros(state.n, dtype=bool)
        week.doses = {c: np.zeros(state.n) for c in CHANNELS}
        for i in range(state.n):
            ks = [k for k in range(cm.shape[0]) if state.weeks_left[i, k] > 0]
            week.taking_part[i] = bool(ks)
            for ci, c in enumerate(CHANNELS):
                week.doses[c][i] = sum(cm[k, ci] for k in ks)
