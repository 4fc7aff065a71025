"""The activity catalogue (model/activities.yaml): what each activity is and how it acts.

Activities are data. Each names its level, who is eligible, whether groups (and villages) mix,
its sessions, places, cycle and cost, and the relative strength of each effect channel. The
mechanisms in code (pss, stressors, contact, influence, ties, shocks) serve all of them through
these channels. See docs/model.md, section 7.1.
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
    cost_per_session: float = Field(ge=0)
    audience: Literal["all", "women_children"] = "all"
    income: bool = False
    can_hand_over: bool = False
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
        return self

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
