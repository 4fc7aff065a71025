"""Design changes: transformations of a scenario's programme, defined once.

Used by the sensitivity sweeps (a sweep file's ``design`` factors), the dashboard's design
sliders and the runner's tasks (``runner.Task.changes``); ``shift_context`` moves the villages'
tension and leadership (the dashboard's context sliders). Each ``DesignFactor`` changes the
programme entries of the named activities (``change``):

  ``start_week``      the entries start at this week and keep their length (timing);
  ``shift_weeks``     start and end move by this many weeks;
  ``duration_scale``  their length is multiplied by this;
  ``places_scale``    their places are multiplied by this (intensity);
  ``places_share``    the share of places held by these entries, out of these entries plus
                      ``versus``, with the total kept (a budget-neutral reallocation);
  ``handover_share``  share of places handed over to the community at the end;
  ``targeting_equal`` (no activities) the scenario's ``targeting`` (docs/model.md 7.2): each
                      group's share of the places in activities that mix groups is this weight
                      times an equal share plus (1 - it) times the group's share of the scenario's
                      households (0: places held in proportion to the groups' sizes; 1: equal).

Weeks and places are rounded to whole numbers (places at least 1).
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from model.activities import catalogue
from common.strict import Strict

from .schema import Scenario

CHANGES = ("start_week", "shift_weeks", "duration_scale", "places_scale", "places_share", "handover_share",
           "targeting_equal")


def finite_bounds(bounds: tuple[float, float]) -> tuple[float, float]:
    for which, b in zip(("lower", "upper"), bounds):
        if not math.isfinite(b):
            raise ValueError(f"{which} bound {b} must be a finite number")
    return bounds


def ordered(bounds: tuple[float, float]) -> str | None:
    lo, hi = bounds
    return None if lo < hi else f"lower bound {lo:g} must be below upper bound {hi:g}"


class DesignFactor(Strict):
    change: Literal["start_week", "shift_weeks", "duration_scale", "places_scale", "places_share",
                    "handover_share", "targeting_equal"]
    activities: list[str] = Field(default_factory=list, description="programme entries of these activities change "
                                  "(at least one; none for targeting_equal, which changes the whole programme)")
    versus: list[str] = Field(default_factory=list, description="places_share only: the other side")
    bounds: tuple[float, float] = Field(description="lower below upper in a sweep file (load_sweep checks)")
    doc: str = ""

    @field_validator("bounds")
    @classmethod
    def _finite(cls, v: tuple[float, float]) -> tuple[float, float]:
        return finite_bounds(v)

    @model_validator(mode="after")
    def _consistent(self) -> "DesignFactor":
        lo, hi = self.bounds
        if self.change == "places_share" and not self.versus:
            raise ValueError("places_share needs 'versus': the activities that hold the other places")
        if self.change != "places_share" and self.versus:
            raise ValueError(f"'versus' is for places_share only, not {self.change}")
        if (self.change == "targeting_equal") == bool(self.activities):
            raise ValueError("targeting_equal takes no 'activities' (it sets the shares of all mixed activities)"
                             if self.activities else f"{self.change} needs 'activities': at least one")
        limits = {"start_week": (0, math.inf), "duration_scale": (0, math.inf), "places_scale": (0, math.inf),
                  "places_share": (0, 1), "handover_share": (0, 1), "shift_weeks": (-math.inf, math.inf),
                  "targeting_equal": (0, 1)}
        low, high = limits[self.change]
        if not (low <= lo and hi <= high) or (self.change in ("duration_scale", "places_scale") and lo <= 0):
            raise ValueError(f"bounds {list(self.bounds)} outside what {self.change} allows "
                             f"({'> 0' if high == math.inf and low == 0 else f'[{low}, {high}]'})")
        unknown = [a for a in self.activities + self.versus if a not in catalogue()]
        if unknown:
            raise ValueError(f"unknown activities {unknown}; allowed: {', '.join(catalogue())}")
        return self


def _places(entry: dict) -> int:
    return entry["places"] if entry.get("places") is not None else catalogue()[entry["activity"]].places_per_session


def apply_design(scenario: Scenario, design: dict[str, DesignFactor], values: dict[str, float]) -> Scenario:
    """The scenario with its programme transformed by each design factor at its value.

    Raises ValueError (with the scenario's own message) if the result is not a valid scenario.
    """
    if not design:
        return scenario
    entries = [e.model_dump() for e in scenario.programme]
    for name, d in design.items():
        v = float(values[name])
        chosen = [e for e in entries if e["activity"] in d.activities]
        if d.change == "start_week":
            for e in chosen:
                length = e["end_week"] - e["start_week"]
                e["start_week"] = int(round(v))
                e["end_week"] = e["start_week"] + length
        elif d.change == "shift_weeks":
            for e in chosen:
                shift = int(round(v))
                shift = max(shift, -e["start_week"])
                e["start_week"] += shift
                e["end_week"] += shift
        elif d.change == "duration_scale":
            for e in chosen:
                e["end_week"] = e["start_week"] + int(round((e["end_week"] - e["start_week"]) * v))
        elif d.change == "places_scale":
            for e in chosen:
                e["places"] = max(1, int(round(_places(e) * v)))
        elif d.change == "places_share":
            other = [e for e in entries if e["activity"] in d.versus]
            a, b = sum(map(_places, chosen)), sum(map(_places, other))
            total = a + b
            for group, target, current in ((chosen, v * total, a), (other, (1 - v) * total, b)):
                for e in group:
                    e["places"] = max(1, int(round(_places(e) * target / current)))
        elif d.change == "handover_share":
            for e in chosen:
                e["handover_share"] = v
    raw = scenario.model_dump()
    raw["programme"] = entries
    for name, d in design.items():
        if d.change == "targeting_equal":
            raw["targeting"] = blended_targeting(scenario, float(values[name]))
    try:
        return Scenario.model_validate(raw)
    except ValidationError as err:
        raise ValueError("; ".join(e["msg"].removeprefix("Value error, ") for e in err.errors())) from None


def blended_targeting(scenario: Scenario, weight: float) -> dict[str, float]:
    """Shares of places: ``weight`` x equal shares + (1 - weight) x the groups' shares of households."""
    sizes = {g: sum(v.households.get(g, 0) for v in scenario.population.villages.values())
             + sum(m.households for m in scenario.population.movements if m.kind == "arrive" and m.group == g)
             for g in scenario.group_names()}
    total = sum(sizes.values())
    return {g: weight / len(sizes) + (1.0 - weight) * n / total for g, n in sizes.items()}


def shift_context(scenario: Scenario, tension_shift: float = 0.0, leadership_shift: float = 0.0) -> Scenario:
    """The scenario with every village's tension and leadership shifted (clipped to [0, 1]): the
    context a programme meets, not its design."""
    if tension_shift == 0.0 and leadership_shift == 0.0:
        return scenario
    raw = scenario.model_dump(mode="json")
    for village in raw["population"]["villages"].values():
        village["tension"] = min(max(village["tension"] + tension_shift, 0.0), 1.0)
        village["leadership"] = min(max(village["leadership"] + leadership_shift, 0.0), 1.0)
    return Scenario.model_validate(raw)
