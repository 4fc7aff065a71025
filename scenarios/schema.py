"""What a scenario file may say, validated on load.

A scenario is what a programme designer writes: the population (villages, households per group,
initial conditions, tension), the network, the programme (which activities, where, when, for
whom), context events, the survey design and the horizon. Every error names the field and what
is allowed; see ``load_scenario``.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from common.vocabulary import GROUP_ROLES, MAX_GROUPS, MIN_GROUPS, EventType, GroupRole
from model.activities import catalogue
from common.errors import InputError, from_validation_error, is_file, read_yaml
from model.programme import expected_frame
from common.strict import Strict
from scenarios.limits import check_limits

SAFE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}")
SAFE_NAME_ALLOWED = ("letters, digits, '_', '-' and '.', not starting with '.', at most 100 characters "
                     "(it names the output folder; without a name, the file's name is used)")


def check_safe_name(v: str) -> str:
    """A name that is also a safe file name: it picks output folders such as results/<name>."""
    if not SAFE_NAME.fullmatch(v):
        raise ValueError(f"{v!r} is not a safe file name; allowed: {SAFE_NAME_ALLOWED}")
    return v


GROUP_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")


class Village(Strict):
    households: dict[str, int] = Field(
        description="households of each group in the village (groups declared in population.groups)")
    tension: float = Field(ge=0, le=1, description="intergroup tension at week 0 (0 none, 1 open conflict)")
    leadership: float = Field(default=0.5, ge=0, le=1, description="proactive community leadership")
    attitude_shift: float = Field(default=0.0, ge=-0.5, le=0.5,
                                  description="added to every household's initial attitudes here")

    @field_validator("households")
    @classmethod
    def _counts(cls, v: dict[str, int]) -> dict[str, int]:
        for g, n in v.items():
            if n < 0:
                raise ValueError(f"households of {g} must be >= 0, got {n}")
        if sum(v.values()) == 0:
            raise ValueError("a village needs at least one household")
        return v


class GroupStart(Strict):
    wellbeing: float = Field(ge=14, le=70, description="mean WEMWBS score (14-70)")
    coping: float = Field(ge=0, le=1)
    stigma: float = Field(ge=0, le=1, description="mean MHPSS stigma")
    need: float = Field(ge=0, le=1, description="mean material need")
    barriers: float = Field(ge=0, le=1, description="mean structural barriers (documents, property, work)")
    attitude: dict[str, float] = Field(
        description="mean attitude towards each other group, in [0, 1]")

    @field_validator("attitude")
    @classmethod
    def _shares(cls, v: dict[str, float]) -> dict[str, float]:
        for g, a in v.items():
            if not 0 <= a <= 1:
                raise ValueError(f"attitude towards {g} is {a}; allowed: a share in [0, 1]")
        return v


class Roles(Strict):
    cac: float = Field(default=0.02, ge=0, le=1, description="share of households with a CAC member")
    deviant: float = Field(default=0.03, ge=0, le=1, description="share of positive deviants")
    volunteer: float = Field(default=0.02, ge=0, le=1, description="share with a community volunteer")


class Movement(Strict):
    """Households of a group that arrive in a village (returns into a community) or leave it,
    spread evenly over the weeks from ``start_week`` to ``end_week``."""

    kind: Literal["arrive", "leave"]
    group: str
    village: str
    households: int = Field(ge=1, description="how many arrive or leave in all")
    start_week: int = Field(ge=1, description="first week of the movement (week 0 is the initial state)")
    end_week: int = Field(ge=1, description="last week of the movement")

    @model_validator(mode="after")
    def _weeks(self) -> "Movement":
        if self.end_week < self.start_week:
            raise ValueError(f"end_week {self.end_week} is before start_week {self.start_week}")
        return self


class Population(Strict):
    groups: dict[str, GroupRole] = Field(
        description="the scenario's groups, in order, each with its role: " + ", ".join(GROUP_ROLES))
    villages: dict[str, Village]
    initial: dict[str, GroupStart]
    movements: list[Movement] = Field(default_factory=list,
                                      description="households that arrive in or leave a village during the run")
    roles: Roles = Roles()
    household_size: float = Field(default=6.0, ge=1, le=20, description="mean household size")
    attitude_spread: float = Field(default=0.15, ge=0, le=0.5,
                                   description="sd of household attitudes at baseline around the group mean")
    state_spread: float = Field(default=0.1, ge=0, le=0.5,
                                description="sd of coping, stigma, need and barriers around the mean")
    wellbeing_sd: float = Field(default=8.0, ge=0, le=20, description="sd of WEMWBS scores")
    first_movers: bool = Field(default=True, description="women and children move first")

    @field_validator("groups")
    @classmethod
    def _group_names(cls, v: dict[str, str]) -> dict[str, str]:
        if not MIN_GROUPS <= len(v) <= MAX_GROUPS:
            raise ValueError(f"{len(v)} group(s) declared; allowed: {MIN_GROUPS} to {MAX_GROUPS}")
        bad = [g for g in v if not GROUP_NAME.fullmatch(str(g))]
        if bad:
            raise ValueError(f"group names {bad}: allowed: a letter, then letters, digits or '_' (at most 32)")
        return v

    @model_validator(mode="after")
    def _declared_groups(self) -> "Population":
        groups = list(self.groups)
        problems = [f"villages.{v}.households: unknown group '{g}'; declared groups: {groups}"
                    for v, village in self.villages.items() for g in village.households if g not in groups]
        problems += [f"initial: unknown group '{g}'; declared groups: {groups}" for g in self.initial if g not in groups]
        missing = [g for g in groups if g not in self.initial]
        if missing:
            problems.append(f"initial: missing group(s) {missing}; every declared group is needed: {groups}")
        for g, start in self.initial.items():
            others = [h for h in groups if h != g]
            problems += [f"initial.{g}.attitude: unknown group '{h}'; allowed: {others}"
                         for h in start.attitude if h not in groups]
            absent = [h for h in others if h not in start.attitude]
            if absent:
                problems.append(f"initial.{g}.attitude: missing {absent}; give the attitude towards {others}")
            if g in start.attitude:
                problems.append(f"initial.{g}.attitude: towards its own group; allowed: {others}")
        problems += self._movement_problems(groups)
        if problems:
            raise ValueError(" | ".join(problems))
        return self

    def _movement_problems(self, groups: list[str]) -> list[str]:
        problems = []
        for i, m in enumerate(self.movements):
            if m.group not in groups:
                problems.append(f"movements[{i}].group: unknown group '{m.group}'; declared groups: {groups}")
            if m.village not in self.villages:
                problems.append(f"movements[{i}].village: unknown village '{m.village}'; allowed: {list(self.villages)}")
            elif m.kind == "leave" and m.group in groups:
                resident = self.villages[m.village].households.get(m.group, 0)
                arriving = sum(a.households for a in self.movements
                               if a.kind == "arrive" and (a.group, a.village) == (m.group, m.village))
                leaving = sum(a.households for a in self.movements
                              if a.kind == "leave" and (a.group, a.village) == (m.group, m.village))
                if leaving > resident + arriving:
                    problems.append(f"movements[{i}]: {leaving} {m.group} households leave {m.village}, which "
                                    f"has {resident} (and {arriving} arriving); allowed: at most {resident + arriving}")
        return problems

    def arrivals(self, group: str, village: str) -> int:
        """Households of ``group`` that arrive in ``village`` during the run."""
        return sum(m.households for m in self.movements
                   if m.kind == "arrive" and (m.group, m.village) == (group, village))


class Network(Strict):
    mean_degree: float = Field(default=8.0, gt=0, le=100, description="mean ties per household")
    within_village: float = Field(default=0.95, ge=0, le=1, description="share of ties inside the village")
    within_group: float = Field(default=0.85, ge=0, le=1, description="share of village ties inside the group")


class ProgrammeEntry(Strict):
    activity: str
    villages: list[str] | Literal["all"] = "all"
    start_week: int = Field(ge=0)
    end_week: int = Field(ge=0)
    places: int | None = Field(default=None, ge=1, description="places per village at a time")
    target_groups: list[str] | Literal["all"] = Field(
        default="all", description="groups the entry is offered to (declared groups), or all")
    handover_share: float = Field(default=0.0, ge=0, le=1,
                                  description="share of places that continue after end_week, community-run")

    @field_validator("activity")
    @classmethod
    def _known_activity(cls, v: str) -> str:
        if v not in catalogue():
            raise ValueError(f"unknown activity '{v}'; allowed: {', '.join(catalogue())}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> "ProgrammeEntry":
        if self.end_week < self.start_week:
            raise ValueError(f"end_week {self.end_week} is before start_week {self.start_week}")
        act = catalogue()[self.activity]
        if self.handover_share > 0 and not act.can_hand_over:
            handable = [k for k, a in catalogue().items() if a.can_hand_over]
            raise ValueError(f"handover_share: '{self.activity}' cannot be handed over; allowed for: "
                             f"{', '.join(handable)}")
        return self

    def capacity(self) -> int:
        """Places per village at a time (one cohort by default)."""
        return self.places if self.places is not None else catalogue()[self.activity].places_per_session


class Event(Strict):
    type: EventType
    villages: list[str] | Literal["all"] = "all"
    week: int = Field(ge=1, description="the week it happens; week 0 is the initial state, the first step is week 1")
    magnitude: float = Field(default=0.2, ge=0, le=1)


def structured_activities() -> list[str]:
    """The catalogue's activities whose participants the programme surveyed, by default: those with
    enrolment over several weeks (``cycle_weeks`` above 1) open to households at large, the
    structured activities that make the programme's layers; not awareness sessions or one-off
    community events (one-week cycles), not the committees and trainings of role holders (CAC
    members, volunteers, positive deviants: ``eligible_roles``), nor activities delivered on demand
    without enrolment. An interpretation of DOMAIN.md ("baseline and endline surveys of
    participants"), which does not say whom the surveys counted as participants."""
    return [name for name, a in catalogue().items()
            if a.cycle_weeks > 1 and not a.eligible_roles and not getattr(a, "on_demand", False)]


class Survey(Strict):
    baseline_week: int = Field(default=0, ge=0)
    endline_week: int = Field(ge=1)
    sample_size: int = Field(ge=1, description="respondents per wave")
    frame: Literal["participants", "households"] = Field(
        default="participants", description="who is sampled: programme participants or all households")
    surveyed_activities: list[str] = Field(
        default_factory=structured_activities,
        description="activities (catalogue names) whose participants make the frame 'participants'; default: "
                    "the structured activities (enrolment over several weeks, open to all households), not "
                    "awareness sessions, one-off community events or role holders' committees and trainings "
                    "(an interpretation of DOMAIN.md)")
    min_attendance_weeks: int = Field(
        default=4, ge=1, le=520,
        description="weeks enrolled in the surveyed activities by the endline week to count as a participant "
                    "(ASSUMPTION: 4, about a month of sessions; range 1-8)")

    @field_validator("surveyed_activities")
    @classmethod
    def _known_activities(cls, v: list[str]) -> list[str]:
        unknown = [a for a in v if a not in catalogue()]
        if unknown:
            raise ValueError(f"unknown activit{'y' if len(unknown) == 1 else 'ies'} {unknown}; allowed: "
                             f"{', '.join(catalogue())}")
        return v


class Scenario(Strict):
    name: str
    description: str = ""
    horizon_weeks: int = Field(ge=1, le=1040)
    population: Population
    network: Network = Network()
    programme: list[ProgrammeEntry] = []
    events: list[Event] = []
    survey: Survey
    targeting: Literal["proportional", "equal"] | dict[str, float] = Field(
        default="proportional",
        description="shares of the places in activities that mix groups held for each group (docs/model.md 7.2): "
                    "'proportional' (no shares: places go to the willing in random order), 'equal' (the same "
                    "share for every group) or group -> share (declared groups, shares >= 0 summing to 1); "
                    "places a group does not fill go to anyone willing")
    assumptions: dict[str, str] = Field(default_factory=dict,
                                        description="where each assumed figure comes from, for readers")

    @field_validator("name")
    @classmethod
    def _safe_name(cls, v: str) -> str:
        return check_safe_name(v)

    @model_validator(mode="after")
    def _cross_checks(self) -> "Scenario":
        villages = list(self.population.villages)
        problems = []
        for i, entry in enumerate(self.programme):
            if entry.villages != "all":
                for v in entry.villages:
                    if v not in villages:
                        problems.append(f"programme[{i}].villages: unknown village '{v}'; allowed: {villages}")
            if entry.start_week > self.horizon_weeks:
                problems.append(f"programme[{i}].start_week {entry.start_week} is after horizon_weeks "
                                f"{self.horizon_weeks}")
            if entry.target_groups != "all":
                groups = self.group_names()
                problems += [f"programme[{i}].target_groups: unknown group '{g}'; declared groups: {groups}"
                             for g in entry.target_groups if g not in groups]
        for i, m in enumerate(self.population.movements):
            if m.end_week > self.horizon_weeks:
                problems.append(f"population.movements[{i}].end_week {m.end_week} is after horizon_weeks "
                                f"{self.horizon_weeks}")
        for i, event in enumerate(self.events):
            if event.villages != "all":
                for v in event.villages:
                    if v not in villages:
                        problems.append(f"events[{i}].villages: unknown village '{v}'; allowed: {villages}")
        problems += self._targeting_problems()
        s = self.survey
        if s.endline_week <= s.baseline_week:
            problems.append(f"survey.endline_week {s.endline_week} is not after baseline_week {s.baseline_week}")
        if s.endline_week > self.horizon_weeks:
            problems.append(f"survey.endline_week {s.endline_week} is after horizon_weeks {self.horizon_weeks}")
        frame_size = 0 if problems else self.frame_size()
        if not problems and s.sample_size > frame_size:
            who = ("households expected to be eligible for the programme's surveyed activities (their villages, "
                   "groups and roles)" if s.frame == "participants" else "households")
            problems.append(f"survey.sample_size {s.sample_size} is larger than the {frame_size} {who}; "
                            f"allowed: at most {frame_size}")
        if problems:
            raise ValueError(" | ".join(problems))
        return self

    def village_names(self) -> list[str]:
        return list(self.population.villages)

    def group_names(self) -> list[str]:
        """The declared groups, in the scenario's order (a household's group code indexes this)."""
        return list(self.population.groups)

    def _targeting_problems(self) -> list[str]:
        if not isinstance(self.targeting, dict):
            return []
        groups = self.group_names()
        problems = [f"targeting: unknown group '{g}'; declared groups: {groups}" for g in self.targeting
                    if g not in groups]
        problems += [f"targeting.{g}: share {v} is negative or not a number; allowed: a share in [0, 1]"
                     for g, v in self.targeting.items() if not 0 <= v <= 1]
        total = sum(self.targeting.values())
        if not problems and abs(total - 1.0) > 1e-6:
            problems.append(f"targeting: shares sum to {total:g}; allowed: shares summing to 1 (or 'proportional', "
                            f"'equal')")
        return problems

    def targeting_shares(self) -> list[float] | None:
        """Each group's share of the places in mixed activities, in group order (missing groups 0),
        or None where places go without shares ('proportional')."""
        if self.targeting == "proportional":
            return None
        if self.targeting == "equal":
            return [1.0 / len(self.population.groups)] * len(self.population.groups)
        return [float(self.targeting.get(g, 0.0)) for g in self.group_names()]

    def group_roles(self) -> list[str]:
        """The role of each declared group, in the same order."""
        return list(self.population.groups.values())

    def entry_groups(self, entry: ProgrammeEntry) -> list[str]:
        return self.group_names() if entry.target_groups == "all" else list(entry.target_groups)

    def entry_villages(self, entry: ProgrammeEntry | Event) -> list[str]:
        return self.village_names() if entry.villages == "all" else list(entry.villages)

    def frame_size(self) -> int:
        """Households the survey can sample from: all, or those eligible for some entry of the
        programme whose activity is surveyed (``model.programme.entry_reach``: villages, groups and
        roles), in expectation (roles are drawn at random), rounded down."""
        if self.survey.frame == "households":
            return self.n_households()
        return int(math.floor(expected_frame(self, set(self.survey.surveyed_activities)) + 1e-9))

    def n_households(self) -> int:
        return sum(sum(v.households.values()) for v in self.population.villages.values())


def _merge(base: dict, over: dict) -> dict:
    """Deep merge: mappings merge key by key; lists and values in ``over`` replace."""
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def read_raw(path: str | Path, _seen: tuple = ()) -> dict:
    """The scenario's mapping, with ``extends: other.yaml`` resolved relative to the file."""
    path = Path(path)
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise InputError(path, ["(top level): expected a mapping with name, horizon_weeks, population, "
                                "programme, survey"])
    base = raw.pop("extends", None)
    if base is None:
        return raw
    if not isinstance(base, str):
        raise InputError(path, ["extends: expected the path of another scenario file"])
    try:
        base_path = (path.parent / base).resolve()
    except (OSError, ValueError):  # a name too long, or with a NUL character
        raise InputError(path, [f"extends: file {base!r} not found (not a name the system can look up)"]) from None
    if base_path in _seen:
        raise InputError(path, [f"extends: '{base}' extends this file again (a cycle)"])
    if not is_file(base_path):
        raise InputError(path, [f"extends: file '{base}' not found (relative to {path.parent})"])
    parent = read_raw(base_path, _seen + (path.resolve(),))
    parent.pop("name", None)
    parent.pop("description", None)
    return _merge(parent, raw)


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario YAML file (safe loader) and validate it.

    A scenario may start from another with ``extends: <path>``: mappings are merged key by key,
    lists (the programme, events) replaced as a whole.

    Raises
    ------
    InputError
        naming the file, each field at fault and what is allowed.
    """
    raw = read_raw(path)
    raw.setdefault("name", Path(path).stem)
    check_limits(path, raw)  # scenarios/limits.py: sizes and weeks, before validation
    try:
        return Scenario.model_validate(raw)
    except ValidationError as err:
        problems = []
        for p in from_validation_error(path, err).problems:
            # cross-checks arrive as one message joined by " | ": give each its own line
            head, _, rest = p.partition(": ")
            if " | " in rest and head == "(top level)":
                problems += rest.split(" | ")
            else:
                problems.append(p)
        raise InputError(path, problems) from None
