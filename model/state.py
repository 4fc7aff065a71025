"""The model's state: one row per household, held in arrays so a week is array arithmetic.

Group and village are small integer codes (the scenario's group and village order). Attitude and
familiarity are N x groups arrays, one column per group; the column of a household's own group is
fixed at 1 and never read as an attitude (``other_mask``). Households that have not arrived yet, or
have left, are in the arrays but not ``present``; mechanisms leave them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from .kernels import min_where, row_any, row_sum

WEMWBS_MIN, WEMWBS_MAX = 14.0, 70.0


def wellbeing_share(score: np.ndarray | float) -> np.ndarray | float:
    """WEMWBS score (14-70) as the share of the scale's range used by the dynamics (0-1)."""
    return (score - WEMWBS_MIN) / (WEMWBS_MAX - WEMWBS_MIN)


def wellbeing_score(share: np.ndarray | float) -> np.ndarray | float:
    return WEMWBS_MIN + share * (WEMWBS_MAX - WEMWBS_MIN)


@dataclass
class State:
    # fixed attributes
    group: np.ndarray          # int8, index into the scenario's groups
    village: np.ndarray        # int8, index into the scenario's villages
    size: np.ndarray           # int16, household members
    cac: np.ndarray            # bool
    deviant: np.ndarray        # bool
    volunteer: np.ndarray      # bool
    threshold: np.ndarray      # personal joining threshold
    stubbornness: np.ndarray   # Friedkin-Johnsen weight of the anchor
    # changing state
    wellbeing: np.ndarray      # WEMWBS score, 14-70
    coping: np.ndarray         # 0-1
    stigma: np.ndarray         # MHPSS stigma, 0-1
    need: np.ndarray           # material need, 0-1
    barriers: np.ndarray       # structural barriers, 0-1
    attitude: np.ndarray       # N x groups, towards each group, 0-1
    anchor: np.ndarray         # N x groups, own position that social influence pulls back to
    familiarity: np.ndarray    # N x groups, 0-1
    weeks_left: np.ndarray     # N x K, weeks left in each programme entry (0: not enrolled)
    ever: np.ndarray           # bool, has taken part in any activity
    contact_pos: np.ndarray    # cumulated positive contact
    contact_neg: np.ndarray    # cumulated negative contact
    # reference values for the equilibrium of well-being and the decay of coping
    wellbeing0: np.ndarray
    coping0: np.ndarray
    stress0: np.ndarray
    # villages
    tension: np.ndarray        # per village, 0-1
    tension0: np.ndarray
    mediation: np.ndarray      # per village mediation capacity, 0-1
    leadership: np.ndarray     # per village, 0-1
    village_attitude0: np.ndarray  # per village mean attitude towards other groups at week 0
    # who is there
    present: np.ndarray        # bool, in the village this week (arrived and not left)
    arrival_week: np.ndarray   # int32, 0 for residents
    departure_week: np.ndarray  # int32, population.NEVER for households that stay
    other_mask: np.ndarray = field(init=False)  # N x 3, True where the column is another group

    def __post_init__(self) -> None:
        self.other_mask = np.ones(self.attitude.shape, dtype=bool)
        self.other_mask[np.arange(self.n), self.group] = False

    @property
    def n(self) -> int:
        return self.group.shape[0]

    @property
    def enrolled(self) -> np.ndarray:
        return self.weeks_left > 0

    @property
    def participating(self) -> np.ndarray:
        return row_any(self.enrolled)

    def stress(self) -> np.ndarray:
        return stress(self.need, self.barriers)

    def mean_other_attitude(self) -> np.ndarray:
        return mean_over_others(self.attitude, self.other_mask)

    def min_other_attitude(self) -> np.ndarray:
        return min_over_others(self.attitude, self.other_mask)

    def copy(self) -> "State":
        """A deep copy, with the arrays that mechanisms added at set-up (``Mechanism.init``)."""
        values = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in vars(self).items()
                  if k != "other_mask"}
        declared = {f.name for f in fields(self) if f.init}
        new = State(**{k: v for k, v in values.items() if k in declared})
        for k, v in values.items():
            if k not in declared:
                setattr(new, k, v)
        return new


def mean_over_others(attitude: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Mean attitude towards the other groups (N x groups in, N out)."""
    return row_sum(attitude * other) / (attitude.shape[1] - 1)


def min_over_others(attitude: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Attitude towards the least-liked other group (N x groups in, N out): the row minimum over
    the other groups' columns, in one compiled pass (kernels.min_where; in numpy
    ``np.where(other, attitude, np.inf).min(axis=1)``, kernels.min_where_plain)."""
    return min_where(attitude, other, np.empty(attitude.shape[0]))


def stress(need, barriers):
    """Unbuffered stress: material need and structural barriers weigh equally (assumption)."""
    return 0.5 * (need + barriers)
