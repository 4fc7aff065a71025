"""What households will recall when the survey asks them (docs/model.md, section 7.9; docs/survey.md).

Two records, kept each week after the week's enrolment is known (model/doses.py) and before the
week's contact (model/contact.py):

- **attendance** ``a_i``: weeks household i has been enrolled in at least one activity the survey
  asks about (the scenario's ``survey.surveyed_activities``). The survey's frame of participants is
  the households with ``a_i >= survey.min_attendance_weeks`` at the endline week
  (``Observer.frame``).
- **recall weighted to recent weeks**: encounters with other groups as a respondent remembers them,
  each week's encounters weighted by ``(1 - recall_decay)`` per week since. With ``C_i(t)`` the
  encounters cumulated to the end of week t (``contact_pos`` or ``contact_neg``) and ``F_i`` the
  part forgotten,

      F_i(t) = F_i(t-1) + recall_decay * (C_i(t-1) - F_i(t-1)),      recalled R_i(t) = C_i(t) - F_i(t)

  so that ``R_i(t) = sum_s (1 - recall_decay)^(t-s) * (C_i(s) - C_i(s-1))`` (the exponentially
  weighted sum of each week's encounters). With ``recall_decay = 0`` nothing is forgotten and the
  recalled encounters are the cumulated ones. Only households present change (model/presence.py).

The records read the encounters as the contact mechanism counts them (``contact_pos`` and
``contact_neg``, whatever their unit); model/respondent.py turns them into answers.
"""

from __future__ import annotations

import numpy as np

from .kernels import recall_week, row_any
from .mechanism import Mechanism, Week
from .state import State

COUNTS = ("pos", "neg")


def forgetting(contact, forgotten, decay: float):
    """Encounters forgotten this week: a share ``decay`` of those still remembered."""
    return decay * (contact - forgotten)


def surveyed_entries(world) -> np.ndarray:
    """Indices of the programme's entries whose activity the survey asks about."""
    asked = set(world.scenario.survey.surveyed_activities)
    return np.array([e.index for e in world.programme.entries if e.name in asked], dtype=np.int64)


class Recall(Mechanism):
    """Attendance in the surveyed activities, and encounters weighted to recent weeks."""

    name = "recall"

    def init(self, state: State, world) -> None:
        self.surveyed = surveyed_entries(world)
        state.attendance = np.zeros(state.n, dtype=np.int32)
        for c in COUNTS:
            setattr(state, f"forgotten_{c}", np.zeros(state.n))

    def step(self, state: State, world, week: Week) -> None:
        # attendance and both records in one compiled pass (kernels.recall_week)
        recall_week(state.attendance, week.enrolled, self.surveyed, state.present, world.params.recall_decay,
                    state.contact_pos, state.forgotten_pos, state.contact_neg, state.forgotten_neg)

    def plain(self, state: State, world, week: Week) -> None:
        if self.surveyed.size:
            state.attendance += row_any(week.enrolled[:, self.surveyed])
        decay, there = world.params.recall_decay, state.present
        if decay == 0:  # nothing is forgotten (forgotten stays 0)
            return
        everyone = bool(there.all())
        for c in COUNTS:
            contact, forgotten = getattr(state, f"contact_{c}"), getattr(state, f"forgotten_{c}")
            lost = forgetting(contact, forgotten, decay)
            forgotten += lost if everyone else np.where(there, lost, 0.0)

    def reference(self, state: State, world, week: Week) -> None:
        decay, surveyed = world.params.recall_decay, self.surveyed.tolist()
        for i in range(state.n):
            if any(week.enrolled[i, k] for k in surveyed):
                state.attendance[i] += 1
            if not state.present[i]:
                continue
            for c in COUNTS:
                contact, forgotten = getattr(state, f"contact_{c}"), getattr(state, f"forgotten_{c}")
                forgotten[i] += forgetting(contact[i], forgotten[i], decay)
