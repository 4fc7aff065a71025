"""The virtual survey: what the programme measured, measured the same way (docs/model.md, 7.9).

At the endline week a sample of ``sample_size`` respondents is drawn from the frame (households
that took part in the programme, or all households), without replacement. The baseline wave
reports the same respondents' states recorded at the baseline week; items about change are
asked at endline of the same respondents. Every item is a share in [0, 1] with the number of
respondents behind it, overall, by group and by village.

Items (A: attitude towards another group, theta: acceptance_threshold):
- acceptance: A >= theta towards every other group (accepts cohabitation with them)
- openness: the mean A over the other groups >= theta (open to coexistence)
- wellbeing_mean: mean WEMWBS score as a share of the scale's maximum (70) (assumption)
- wellbeing_good: WEMWBS >= good_wellbeing_cutoff
- frequent_positive_interactions: at least ``frequent_ties`` ties to members of groups it views
  positively (A >= theta)
- improved_interactions (endline): more such ties than at baseline
- improved_perceptions (endline): mean A rose by at least ``perception_delta``
- positive_view_shift (endline): the view of some other group went from negative to positive
- rated_interactions_positive (endline, of respondents with intergroup contact): positive
  contact outweighed negative
- tension_reduced (endline): had contact, positive outweighed negative, and mean A rose
- tension_created (endline): negative contact outweighed positive
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .activities import GROUPS
from .network import SocialNetwork
from .params import Params
from .state import WEMWBS_MAX, State, mean_over_others, min_over_others

BOTH_WAVES = ("acceptance", "openness", "wellbeing_mean", "wellbeing_good", "frequent_positive_interactions")
ENDLINE_ONLY = ("improved_interactions", "improved_perceptions", "positive_view_shift",
                "rated_interactions_positive", "tension_reduced", "tension_created")
ITEMS = BOTH_WAVES + ENDLINE_ONLY
COLUMNS = ["scenario", "replicate", "wave", "item", "group", "village", "value", "n"]


@dataclass(frozen=True)
class Snapshot:
    """What a survey wave needs of every household at one week."""

    week: int
    attitude: np.ndarray
    wellbeing: np.ndarray
    positive_ties: np.ndarray
    contact_pos: np.ndarray
    contact_neg: np.ndarray

    @classmethod
    def take(cls, week: int, state: State, net: SocialNetwork, p: Params) -> "Snapshot":
        return cls(week, state.attitude.copy(), state.wellbeing.copy(), positive_ties(state, net, p),
                   state.contact_pos.copy(), state.contact_neg.copy())

    def mean_other(self, other: np.ndarray) -> np.ndarray:
        return mean_over_others(self.attitude, other)

    def min_other(self, other: np.ndarray) -> np.ndarray:
        return min_over_others(self.attitude, other)


def positive_ties(state: State, net: SocialNetwork, p: Params) -> np.ndarray:
    """Ties to members of other groups that the household views positively."""
    positive = (state.attitude >= p.acceptance_threshold) & state.other_mask
    return (net.ties_by_group * positive).sum(axis=1)


def respondents(frame: np.ndarray, sample_size: int, rng: np.random.Generator) -> np.ndarray:
    pool = np.flatnonzero(frame)
    n = min(sample_size, pool.size)
    return np.sort(rng.choice(pool, size=n, replace=False))


def answers(base: Snapshot, end: Snapshot | None, other: np.ndarray, p: Params) -> dict[str, tuple]:
    """Item -> (wave, answer per respondent, who answered) for the respondents' rows."""
    out: dict[str, tuple] = {}
    for wave, snap in (("baseline", base), ("endline", end)):
        if snap is None:
            continue
        out[(wave, "acceptance")] = snap.min_other(other) >= p.acceptance_threshold
        out[(wave, "openness")] = snap.mean_other(other) >= p.acceptance_threshold
        out[(wave, "wellbeing_mean")] = snap.wellbeing / WEMWBS_MAX
        out[(wave, "wellbeing_good")] = snap.wellbeing >= p.good_wellbeing_cutoff
        out[(wave, "frequent_positive_interactions")] = snap.positive_ties >= p.frequent_ties
    if end is not None:
        rise = end.mean_other(other) - base.mean_other(other)
        pos = end.contact_pos - base.contact_pos
        neg = end.contact_neg - base.contact_neg
        had_contact = (pos + neg) > 1e-9
        out[("endline", "improved_interactions")] = end.positive_ties > base.positive_ties
        out[("endline", "improved_perceptions")] = rise >= p.perception_delta
        crossed = (base.attitude < p.acceptance_threshold) & (end.attitude >= p.acceptance_threshold) & other
        out[("endline", "positive_view_shift")] = crossed.any(axis=1)
        out[("endline", "rated_interactions_positive")] = np.where(had_contact, pos > neg, np.nan)
        out[("endline", "tension_reduced")] = had_contact & (pos > neg) & (rise > 0)
        out[("endline", "tension_created")] = neg > pos
    return out


def tabulate(rows_of: np.ndarray, group: np.ndarray, village: np.ndarray, villages: list[str],
             base: Snapshot, end: Snapshot | None, other: np.ndarray, p: Params) -> pd.DataFrame:
    """Survey rows for respondents ``rows_of``: overall, by group and by village."""
    take = lambda s: None if s is None else Snapshot(s.week, s.attitude[rows_of], s.wellbeing[rows_of],  # noqa: E731
                                                     s.positive_ties[rows_of], s.contact_pos[rows_of],
                                                     s.contact_neg[rows_of])
    res = answers(take(base), take(end), other[rows_of], p)
    g, v = group[rows_of], village[rows_of]
    records = []
    for (wave, item), ans in res.items():
        ans = np.asarray(ans, dtype=float)
        valid = ~np.isnan(ans)
        splits = [("all", "all", valid)]
        splits += [(GROUPS[k], "all", valid & (g == k)) for k in range(len(GROUPS))]
        splits += [("all", name, valid & (v == k)) for k, name in enumerate(villages)]
        for gname, vname, mask in splits:
            n = int(mask.sum())
            if n:
                records.append((wave, item, gname, vname, float(ans[mask].mean()), n))
    return pd.DataFrame(records, columns=["wave", "item", "group", "village", "value", "n"])
