"""The model's state: one row per household, held in arrays so a week is array arithmetic.

Group and village are small integer codes (``GROUPS``, scenario village order). Attitude and
familiarity are N x 3 arrays, one column per group; the column of a household's own group is
fixed at 1 and never read as an attitude (``other_mask``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from .activities import GROUPS

WEMWBS_MIN, WEMWBS_MAX = 14.0, 70.0


def wellbeing_share(score: np.ndarray | float) -> np.ndarray | float:
    """WEMWBS score (14-70) as the share of the scale's range used by the dynamics (0-1)."""
    return (score - WEMWBS_MIN) / (WEMWBS_MAX - WEMWBS_MIN)


def wellbeing_score(share: np.ndarray | float) -> np.ndarray | float:
    return WEMWBS_MIN + share * (WEMWBS_MAX - WEMWBS_MIN)


@dataclass
class State:
    # fixed attributes
    group: np.ndarray          # int8, index into GROUPS
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
    attitude: np.ndarray       # N x 3, towards each group, 0-1
    anchor: np.ndarray         # N x 3, own position that social influence pulls back to
    familiarity: np.ndarray    # N x 3, 0-1
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
    other_mask: np.ndarray = field(init=False)  # N x 3, True where the column is another group

    def __post_init__(self) -> None:
        self.other_mask = np.ones((self.n, len(GROUPS)), dtype=bool)
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
        return State(**{k: (v.copy() if isinstance(v, np.ndarray) else v)
                        for k, v in self.__dict__.items() if k != "other_mask"})


def mean_over_others(attitude: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Mean attitude towards the other groups (N x 3 in, N out)."""
    # column by column (the same sums, in the same order, as .sum(axis=1), several times faster)
    return functools.reduce(np.add, (attitude * other).T) / (len(GROUPS) - 1)


def min_over_others(attitude: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Attitude towards the least-liked other group (N x 3 in, N out)."""
    # column by column: numpy's reductions along a short row axis are several times slower
    return functools.reduce(np.minimum, np.where(other, attitude, np.inf).T)


def row_any(mask: np.ndarray) -> np.ndarray:
    """``mask.any(axis=1)`` for an N x k boolean array: the count of Trues in each row, as a
    product with ones (numpy's reductions along a short row axis are several times slower)."""
    if mask.shape[1] < 256 and mask.flags.c_contiguous:  # the count fits a byte
        return (mask.view(np.uint8) @ np.ones(mask.shape[1], dtype=np.uint8)) > 0
    return functools.reduce(np.logical_or, mask.T, np.zeros(mask.shape[0], dtype=bool))


def pairs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of every True of a 2-D mask (``np.nonzero``, faster through the flat index)."""
    flat = np.flatnonzero(mask)
    rows = flat // mask.shape[1]
    return rows, flat - rows * mask.shape[1]


def clip01(x):
    """``np.clip(x, 0, 1)`` as two ufuncs: the same values, without np.clip's Python wrapper, which
    costs more than the clipping itself at the Qayyarah size."""
    return np.minimum(np.maximum(x, 0.0), 1.0)


def stress(need, barriers):
    """Unbuffered stress: material need and structural barriers weigh equally (assumption)."""
    return 0.5 * (need + barriers)
