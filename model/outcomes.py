"""The one vocabulary of outcomes: every quantity a run reports, defined once.

An ``Outcome`` says what it is (name, unit, a line of explanation), when it is measured (every
week, at the survey's waves, or once for the whole run), on whom (the survey's respondents; all
households or the programme's participants, for comparisons) and which way is better. Everything
that reports outcomes reads this registry: the model's time series, DataCollector and summary
(``model/observer.py``), the virtual survey (``model/survey.py``), ``cohesion run``, ``compare``
and ``sweep`` (``runner.outcomes``), the calibration targets (survey items by name) and the
dashboard's charts. Deleting an entry removes the outcome from all of them; adding one (one
``register`` call, see ``tests/test_architecture.py``) adds it everywhere.

An outcome's value is computed per household from a ``Reading`` (the state at one week, and the
baseline reading for items about change) and averaged over whom it is measured on: overall, by
group and by village. A ``total`` outcome is one number for the run (the programme's cost).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Literal

import numpy as np

from common.vocabulary import WAVES, Wave

from . import respondent
from .kernels import any_positive_rows
from .contact import readiness
from .state import WEMWBS_MAX, mean_over_others, min_over_others, wellbeing_share

if TYPE_CHECKING:
    from .model import CohesionModel

On = Literal["households", "participants"]


class Reading:
    """What outcomes read of the households at one week.

    Every state array by name (``r.attitude``, ``r.wellbeing``, and arrays a mechanism added to
    the state): views of the live state for the weekly outcomes, copies for a survey wave (the
    fixed attributes, which never change, are not copied). Besides: who takes part this week
    (``taking_part``), ties across group lines (``cross_ties``), the mean and minimum attitude
    towards the other groups, ties to members of groups viewed positively, and the baseline
    reading for items about change (``base``); the endline reading of the survey also holds each
    household's personal cut-off for the respondent model (``cutoff_z``, model/observer.py).
    """

    FIXED = frozenset({"group", "village", "size", "cac", "deviant", "volunteer", "threshold", "stubbornness",
                       "wellbeing0", "coping0", "stress0", "tension0", "leadership", "village_attitude0", "other_mask",
                       "arrival_week", "departure_week", "influence_gap"})
    NOT_KEPT = frozenset({"weeks_left"})  # read through taking_part
    PER_VILLAGE = frozenset({"tension", "tension0", "mediation", "leadership", "village_attitude0"})

    def __init__(self, week: int, state, network, params, *, copy: bool = False, base: "Reading | None" = None):
        self.week, self.params, self.base, self.n = week, params, base, state.n
        self._state, self._network = (None, None) if copy else (state, network)  # a live reading reads on demand
        self.arrays: dict[str, np.ndarray] = {}
        if copy:
            self.arrays = {k: (v if k in self.FIXED else v.copy()) for k, v in vars(state).items()
                           if isinstance(v, np.ndarray) and k not in self.NOT_KEPT}
            self.arrays["taking_part"] = taking_part(state.weeks_left)
            self.arrays["cross_ties"] = network.cross_group_ties().copy()
            self.arrays["ties_by_group"] = network.ties_by_group.copy()

    def __getattr__(self, name: str) -> np.ndarray:
        arrays = self.__dict__.get("arrays", {})
        if name not in arrays and self.__dict__.get("_state") is not None:
            arrays[name] = self._live(name)  # read once, the first time an outcome asks
        if name in arrays:
            return arrays[name]
        raise AttributeError(f"a reading has no {name!r}; it has: {', '.join(sorted(arrays))}")

    def _live(self, name: str) -> np.ndarray:
        if name == "taking_part":
            return taking_part(self._state.weeks_left)
        if name == "cross_ties":
            return self._network.cross_group_ties()
        if name == "ties_by_group":
            return self._network.ties_by_group
        value = getattr(self._state, name, None)
        if not isinstance(value, np.ndarray) or name in self.NOT_KEPT:
            raise AttributeError(f"the state has no array {name!r}")
        return value

    @property
    def other(self) -> np.ndarray:
        return self.other_mask

    @cached_property
    def mean_other(self) -> np.ndarray:
        return mean_over_others(self.attitude, self.other)

    @cached_property
    def min_other(self) -> np.ndarray:
        return min_over_others(self.attitude, self.other)

    @cached_property
    def positive_ties(self) -> np.ndarray:
        """Ties to members of other groups that the household views positively."""
        positive = (self.attitude >= self.params.acceptance_threshold) & self.other
        return (self.ties_by_group * positive).sum(axis=1)

    def rows(self, index: np.ndarray) -> "Reading":
        """The same reading for some households only (the survey's respondents)."""
        sub = object.__new__(Reading)
        sub.week, sub.params, sub.n, sub._state, sub._network = self.week, self.params, index.size, None, None
        sub.base = None if self.base is None else self.base.rows(index)
        sub.arrays = {k: (v if k in self.PER_VILLAGE or not v.ndim or v.shape[0] != self.n else v[index])
                      for k, v in self.arrays.items()}
        return sub


def taking_part(weeks_left: np.ndarray) -> np.ndarray:
    """Who has weeks left in some programme entry (``(weeks_left > 0).any(axis=1)``, in one
    compiled pass: kernels.any_positive_rows)."""
    return any_positive_rows(weeks_left, np.empty(weeks_left.shape[0], dtype=bool))


@dataclass(frozen=True)
class Outcome:
    """One named quantity a run reports."""

    name: str
    unit: str                          # "share", "WEMWBS score (14-70)", "ties per household", "USD"
    doc: str                           # one line, in words, for tables and the dashboard
    of: Callable[[Reading], np.ndarray] | None = None  # per household (N, or N x groups: by group)
    total: Callable[["CohesionModel"], float] | None = None  # one number for the run
    weekly: bool = False               # in the weekly time series, the DataCollector, the summary
    waves: tuple[Wave, ...] = ()       # survey waves at which it is measured
    survey: bool = False               # asked of the survey's respondents (survey.csv)
    on: On | None = None               # measured on all households or participants (compare, sweep)
    better: Literal["higher", "lower"] = "higher"
    harm_if_below_baseline: bool = False  # a group or village ending below baseline is harm
    harm_above_share: bool = False     # a share of participants above the user's threshold is harm
    headline: bool = False             # shown first: in figures and the short tables
    towards_groups: bool = False       # a value towards each group (N x groups): a column per group
    proportion: bool = True            # a share of yes/no answers (else a mean score or an amount)


OUTCOMES: dict[str, Outcome] = {}


def register(outcome: Outcome) -> Outcome:
    """Add an outcome to the registry (its name must be new)."""
    if outcome.name in OUTCOMES:
        raise ValueError(f"an outcome named {outcome.name!r} is already registered")
    OUTCOMES[outcome.name] = outcome
    return outcome


def unregister(name: str) -> Outcome:
    return OUTCOMES.pop(name)


def weekly() -> list[Outcome]:
    return [o for o in OUTCOMES.values() if o.weekly]


def survey_items(wave: Wave | None = None) -> list[Outcome]:
    return [o for o in OUTCOMES.values() if o.survey and (wave is None or wave in o.waves)]


def item_names(wave: Wave | None = None) -> list[str]:
    """Names of the survey items (asked at ``wave``, or at all)."""
    return [o.name for o in survey_items(wave)]


def population_measures() -> list[Outcome]:
    """Outcomes measured on all households (or participants) for comparisons and sweeps."""
    return [o for o in OUTCOMES.values() if o.on is not None or o.total is not None]


def measure_names(groups: list[str], villages: list[str], wave: Wave = "endline") -> list[str]:
    """The names ``CohesionModel.measures(wave)`` gives: each population measure overall, by group
    and by village (``<outcome>.<group>``, ``<outcome>.<village>``); run totals at the endline."""
    out: list[str] = []
    for o in population_measures():
        if o.total is not None:
            out += [o.name] if wave == "endline" else []
        elif wave in o.waves:
            out += [o.name, *(f"{o.name}.{g}" for g in groups), *(f"{o.name}.{v}" for v in villages)]
    return out


def primary() -> str:
    """The outcome comparisons rank by unless told otherwise: the first that signals harm."""
    return next(o.name for o in OUTCOMES.values() if o.harm_if_below_baseline)


def get(name: str) -> Outcome:
    if name not in OUTCOMES:
        raise KeyError(f"unknown outcome {name!r}; known: {', '.join(OUTCOMES)}")
    return OUTCOMES[name]


def is_better_lower(name: str) -> bool:
    """Whether lower values of a measure are better (its base outcome's ``better``)."""
    base = name.split(".", 1)[1] if name.split(".", 1)[0] in WAVES else name
    base = base.split(".", 1)[0]
    return base in OUTCOMES and OUTCOMES[base].better == "lower"


# --- the library's outcomes -------------------------------------------------------------------
def _accepts(r: Reading) -> np.ndarray:
    return r.min_other >= r.params.acceptance_threshold


BOTH: tuple[Wave, ...] = WAVES
END: tuple[Wave, ...] = ("endline",)

# weekly state (time series, DataCollector, summary)
register(Outcome("wellbeing", "WEMWBS score (14-70)", "mean mental well-being (WEMWBS)",
                 of=lambda r: r.wellbeing, weekly=True, waves=BOTH, on="households", proportion=False,
                 headline=True))
register(Outcome("coping", "level (0-1)", "coping capacity", of=lambda r: r.coping, weekly=True, proportion=False))
register(Outcome("stigma", "level (0-1)", "MHPSS stigma", of=lambda r: r.stigma, weekly=True, better="lower",
                 proportion=False))
register(Outcome("attitude", "level (0-1)", "attitude towards each other group",
                 of=lambda r: r.attitude, weekly=True, towards_groups=True, proportion=False))
register(Outcome("acceptance", "share of households", "accept cohabitation with every other group",
                 of=_accepts, weekly=True, waves=BOTH, survey=True, on="households",
                 harm_if_below_baseline=True, headline=True))
register(Outcome("participating", "share of households", "taking part in an activity this week",
                 of=lambda r: r.taking_part, weekly=True, headline=True))
register(Outcome("cross_group_ties", "ties per household", "ties to households of other groups",
                 of=lambda r: r.cross_ties, weekly=True, waves=BOTH, on="households", proportion=False,
                 headline=True))
def _open_to_contact(r: Reading) -> np.ndarray:
    """Readiness for contact (docs/model.md 7.5: coping, well-being, familiarity, the village's
    tension; no activity under way) averaged over the other groups, at or above the readiness at
    which contact is as likely positive as negative. Not an attitude: well-being and coping open
    people to contact before their views change (DOMAIN.md, mechanisms)."""
    ready = readiness(r.coping[:, None], wellbeing_share(r.wellbeing)[:, None], r.familiarity,
                      r.tension[r.village][:, None], 0.0, r.params)
    return mean_over_others(ready, r.other) >= r.params.readiness_threshold


# survey items (docs/model.md, 7.9)
register(Outcome("openness", "share of respondents",
                 "ready for contact with the other groups: contact now would more likely go well than badly",
                 of=_open_to_contact, waves=BOTH, survey=True))
register(Outcome("wellbeing_mean", "share of the scale's maximum", "mean WEMWBS score / 70",
                 of=lambda r: r.wellbeing / WEMWBS_MAX, waves=BOTH, survey=True, proportion=False,
                 headline=True))
register(Outcome("wellbeing_good", "share of respondents", "WEMWBS at or above the 'good' cut-off",
                 of=lambda r: r.wellbeing >= r.params.good_wellbeing_cutoff, waves=BOTH, survey=True))
register(Outcome("frequent_positive_interactions", "share of respondents",
                 "enough ties to members of groups viewed positively",
                 of=lambda r: r.positive_ties >= r.params.frequent_ties, waves=BOTH, survey=True))
# items about perceived change: answered by the respondent model (model/respondent.py, docs/survey.md)
register(Outcome("improved_interactions", "share of respondents",
                 "report better interactions with other groups (more ties to people viewed positively)",
                 of=respondent.improved_interactions, waves=END, survey=True))
register(Outcome("improved_perceptions", "share of respondents", "report improved perceptions of the other groups",
                 of=respondent.improved_perceptions, waves=END, survey=True))
register(Outcome("positive_view_shift", "share of respondents",
                 "report that their view of some other group turned from negative to positive",
                 of=respondent.positive_view_shift, waves=END, survey=True))
register(Outcome("rated_interactions_positive", "share of encounters (respondents with contact)",
                 "share of their encounters with other groups respondents rate positive",
                 of=respondent.rated_interactions_positive, waves=END, survey=True))
register(Outcome("tension_reduced", "share of respondents", "report that the programme helped reduce tension",
                 of=respondent.tension_reduced, waves=END, survey=True))
register(Outcome("tension_created", "share", "report that the programme created or worsened tension",
                 of=respondent.tension_created, waves=END, survey=True, on="participants", better="lower",
                 harm_above_share=True))
register(Outcome("initiatives_very_effective", "share of participants", "rate the initiatives very effective",
                 of=respondent.initiatives_very_effective, waves=END, survey=True))
# the run as a whole
register(Outcome("cost", "USD", "the programme's cost over the whole horizon (assumed unit costs)",
                 total=lambda m: m.programme_cost(), better="lower", proportion=False))
