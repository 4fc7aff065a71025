"""The activity catalogue (model/activities.yaml): what each activity is and how it acts.

Activities are data. Each names its level, who is eligible, whether groups (and villages) mix,
its sessions, places, cycle and cost, and the relative strength of each effect channel. The
mechanisms in code (pss, stressors, contact, influence, ties, shocks) serve all of them through
these channels. See docs/model.md, section 7.1.

Every non-zero strength is also a parameter, ``channel.<activity>.<channel>`` (``strength_ranges``),
and four grouped multipliers in model/params.py scale the cells ``channel_group`` assigns them; both
reach the run through ``Params`` (``Programme.set_strengths``), so sweeps and the calibration can vary
the theory of change.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from common.vocabulary import CHANNELS, GroupRole, Role
from common.errors import InputError, from_validation_error, read_yaml
from common.strict import Strict

CATALOGUE_PATH = Path(__file__).with_name("activities.yaml")



class Activity(Strict):
    description: str
    level: Literal["individual", "family", "group", "community"]
    programme: Literal["qayyarah", "iom", "both"]
    eligible_group_roles: tuple[GroupRole, ...] | None = None  # None: every group
    eligible_roles: tuple[Role, ...] | None = None
    max_wellbeing: float | None = Field(default=None, ge=14, le=70)
    mixes_groups: bool = False
    mixes_villages: bool = False
    sessions_per_week: float = Field(gt=0, le=14)
    places_per_session: int = Field(ge=1)
    cycle_weeks: int = Field(ge=1)
    cost_per_session: float = Field(ge=0)   # facilitators: USD per session held (model/programme.py, cost)
    cost_per_place_week: float = Field(default=0.0, ge=0)   # USD per participant-week of a place filled
    handover_cost_per_week: float = Field(default=0.0, ge=0)  # USD a week per handed-over pool in use
    cost_range: tuple[float, float] = (0.5, 2.0)  # every unit cost's range, as multiples of its value
    audience: Literal["all", "women_children"] = "all"
    income: bool = False
    can_hand_over: bool = False
    on_demand: bool = False  # delivered to villages when tension or an incident calls for it (model/tension.py)
    channels: dict[str, float]

    @field_validator("channels")
    @classmethod
    def _known_channels(cls, v: dict[str, float]) -> dict[str, float]:
        for name, strength in v.items():
            if name not in CHANNELS:
                raise ValueError(f"unknown channel '{name}'; allowed: {', '.join(CHANNELS)}")
            if not 0 <= strength <= 1.5:
                raise ValueError(f"channel '{name}' strength {strength} outside [0, 1.5]")
        return v

    @model_validator(mode="after")
    def _contact_needs_mixing(self) -> "Activity":
        mixed_only = [c for c in ("contact", "dialogue", "ties") if self.channel(c) > 0]
        if mixed_only and not self.mixes_groups:
            raise ValueError(f"channels {mixed_only} act only where groups meet; set mixes_groups: true")
        household_channels = [c for c, v in self.channels.items() if v > 0 and c != "mediation"]
        if self.on_demand and household_channels:
            raise ValueError(f"on_demand: such an activity enrols no households, so only its 'mediation' channel "
                             f"acts; remove {household_channels}")
        return self

    @field_validator("cost_range")
    @classmethod
    def _cost_range(cls, v: tuple[float, float]) -> tuple[float, float]:
        lo, hi = v
        if not (0 <= lo <= 1 <= hi < float("inf")):
            raise ValueError(f"cost_range {list(v)}: multiples of the unit costs, low in [0, 1] and high "
                             "at least 1 (finite), e.g. [0.5, 2]")
        return v

    def channel(self, name: str) -> float:
        return self.channels.get(name, 0.0)


def load_catalogue(path: str | Path = CATALOGUE_PATH) -> dict[str, Activity]:
    """Read and validate an activity catalogue."""
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise InputError(path, ["(top level): expected a mapping of activity name to its entry"])
    out: dict[str, Activity] = {}
    problems: list[str] = []
    for name, entry in raw.items():
        try:
            out[str(name)] = Activity.model_validate(entry)
        except ValidationError as err:
            problems += [f"{name}.{p}" for p in from_validation_error(path, err).problems]
    if problems:
        raise InputError(path, problems)
    return out


@lru_cache(maxsize=1)
def catalogue() -> dict[str, Activity]:
    """The project's catalogue, read once per process."""
    return load_catalogue(CATALOGUE_PATH)


# --- channel strengths as parameters (docs/model.md, section 7.1) -----------------------------------
STRENGTH_PREFIX = "channel"
STRENGTH_RANGE = (0.5, 1.5)
"""Range of every catalogue strength, as multiples of its catalogue value (ASSUMPTION). The strengths
are judgements of the theory of change, not measurements: the documents rank activities (recreation
and vocational training bring groups together more than dialogue does; DOMAIN.md) but give no size.
0.5x-1.5x lets neighbouring activities swap order (recreation's contact 0.8 against dialogue's 0.5)
while a channel the documents do not describe for an activity stays absent (zero stays zero)."""

MULTIPLIERS = {
    "m_community_channels": "every channel of community-level activities",
    "m_pss_channels": "coping, wellbeing and stigma of individual, family and group activities",
    "m_dialogue_channels": "contact, dialogue and ties of activities below community level with a dialogue channel",
    "m_contact_channels": "contact and ties of other mixed activities below community level (non-structured, "
                          "vocational, income)",
}
"""The grouped multipliers (model/params.py) and the catalogue cells each scales (``channel_group``)."""

PSS_CHANNELS = ("coping", "wellbeing", "stigma")
INTERGROUP_CHANNELS = ("contact", "dialogue", "ties")


def channel_group(activity: Activity, channel: str) -> str | None:
    """The grouped multiplier that scales this activity's channel, or None. Decided by the activity's
    level and channels (data), never by its name; each cell belongs to at most one group."""
    if activity.level == "community":
        return "m_community_channels"
    if channel in PSS_CHANNELS:
        return "m_pss_channels"
    if channel in INTERGROUP_CHANNELS:
        return "m_dialogue_channels" if activity.channel("dialogue") > 0 else "m_contact_channels"
    return None


def strength_name(activity: str, channel: str) -> str:
    """The parameter name of one catalogue strength: ``channel.<activity>.<channel>``."""
    return f"{STRENGTH_PREFIX}.{activity}.{channel}"


def strength_ranges(cat: dict[str, Activity] | None = None) -> dict[str, tuple[float, float]]:
    """Every non-zero strength of the catalogue by name, with its range (``STRENGTH_RANGE`` times its value)."""
    lo, hi = STRENGTH_RANGE
    return {strength_name(a, c): (round(lo * v, 9), round(hi * v, 9))  # 1.5 x 0.7 is 1.05, not 1.0499...
            for a, act in (cat or catalogue()).items() for c, v in act.channels.items() if v > 0}


def strength_problem(name: str) -> str | None:
    """Why ``name`` is not a strength of the catalogue (naming what is allowed), or None if it is."""
    cat = catalogue()
    parts = name.split(".")
    if len(parts) != 3 or parts[0] != STRENGTH_PREFIX:
        return f"'{name}' is not a channel strength; allowed: {STRENGTH_PREFIX}.<activity>.<channel>"
    _, activity, channel = parts
    if activity not in cat:
        return f"'{name}': unknown activity '{activity}'; allowed: {', '.join(cat)}"
    here = [c for c, v in cat[activity].channels.items() if v > 0]
    if channel not in here:
        return (f"'{name}': '{activity}' has no channel '{channel}' in the catalogue (model/activities.yaml); "
                f"allowed: {', '.join(here)}")
    return None
