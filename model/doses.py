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
from .kernels import enrolment_week, renew_doses, row_any
from .mechanism import Mechanism, Week
from .programme import Members
from .state import State


class Doses(Mechanism):
    """Enrolment of the week, each household's dose per channel, and the mixed entries' members."""

    name = "doses"

    def step(self, state: State, world, week: Week) -> None:
        # enrolment and the mixed entries' members in one compiled pass (kernels.enrolment_week), the
        # doses by the same BLAS product as Programme.doses, into arrays kept from week to week
        # (``_arrays``: a week's enrolment and doses are read within the week only), so that only
        # the households who took part last week or this week are touched (kernels.renew_doses)
        prog = world.programme
        n, n_entries = state.weeks_left.shape
        enrolled, taking_part, factor, d, given = self._arrays(n, n_entries, prog.channel_matrix.shape[1])
        n_rows, members = enrolment_week(state.weeks_left, prog.week(week.number).mixed, prog.pool_offset,
                                         state.village, prog.by_village, enrolled, taking_part, factor)
        renew_doses(d, factor[:n_rows] @ prog.channel_matrix, taking_part, given)
        week.enrolled, week.taking_part = enrolled, taking_part
        week.doses = dict(self._doses)
        week.members = Members(members[0], members[1], members[2])

    def _arrays(self, n: int, n_entries: int, n_channels: int) -> tuple[np.ndarray, ...]:
        """The week's arrays of ``step`` (enrolled, taking part, the product's left factor, the
        doses, who was last given a dose), made in the first week (or when the sizes change)."""
        kept = getattr(self, "_kept", None)
        if kept is None or kept[0].shape != (n, n_entries) or kept[3].shape[0] != n_channels:
            kept = (np.empty((n, n_entries), dtype=bool), np.empty(n, dtype=bool), np.empty((n, n_entries)),
                    np.zeros((n_channels, n)), np.zeros(n, dtype=bool))
            self._kept = kept
            self._doses = dict(zip(CHANNELS, kept[3]))
        return kept

    def plain(self, state: State, world, week: Week) -> None:
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
