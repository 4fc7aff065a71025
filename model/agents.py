"""The household agent: one Mesa agent per household, whose state lives in the model's arrays.

Attributes read and write the household's row of ``model.state``, so Mesa's AgentSet
(``select``, ``groupby``, ``agg``), agent reporters and the visualisation see real values while
the week itself is computed over all households at once (model/week.py). The agents are made on
first use of ``model.agents`` or ``model.households`` (a batch run never asks; docs/performance.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa


if TYPE_CHECKING:
    from .model import CohesionModel


def _row(name: str, doc: str) -> property:
    def get(self: "Household"):
        return self.model.state.__dict__[name][self.idx].item()

    def set_(self: "Household", value) -> None:
        self.model.state.__dict__[name][self.idx] = value

    return property(get, set_, doc=doc)


def _per_group(name: str, doc: str) -> property:
    def get(self: "Household") -> dict[str, float]:
        row = self.model.state.__dict__[name][self.idx]
        return {g: float(row[k]) for k, g in enumerate(self.model.groups) if g != self.group}

    def set_(self: "Household", value: dict[str, float]) -> None:
        arr = self.model.state.__dict__[name]
        for g, a in value.items():
            if g == self.group:
                raise ValueError(f"{name} towards the household's own group is not a state")
            arr[self.idx, self.model.groups.index(g)] = a

    return property(get, set_, doc=doc)


class Household(mesa.Agent):
    """A household of one of the scenario's groups in one village."""

    def __init__(self, model: "CohesionModel", idx: int):
        super().__init__(model)
        self.idx = idx

    group = property(lambda self: self.model.groups[self.model.state.group[self.idx]],
                     doc="the household's group (a name the scenario declares)")
    village = property(lambda self: self.model.villages[self.model.state.village[self.idx]])
    size = property(lambda self: int(self.model.state.size[self.idx]), doc="household members")
    cac = property(lambda self: bool(self.model.state.cac[self.idx]), doc="has a CAC member")
    deviant = property(lambda self: bool(self.model.state.deviant[self.idx]), doc="positive deviant")
    volunteer = property(lambda self: bool(self.model.state.volunteer[self.idx]), doc="community volunteer")

    wellbeing = _row("wellbeing", "WEMWBS score, 14-70")
    coping = _row("coping", "coping, 0-1")
    stigma = _row("stigma", "MHPSS stigma, 0-1")
    need = _row("need", "material need, 0-1")
    barriers = _row("barriers", "structural barriers, 0-1")
    attitude = _per_group("attitude", "attitude towards each other group, 0-1")
    familiarity = _per_group("familiarity", "familiarity with each other group, 0-1")

    @property
    def participating(self) -> bool:
        return bool((self.model.state.weeks_left[self.idx] > 0).any())

    @property
    def activities(self) -> list[str]:
        """The programme entries the household is enrolled in this week."""
        ks = (self.model.state.weeks_left[self.idx] > 0).nonzero()[0]
        return [self.model.programme.entries[k].name for k in ks]

    @property
    def accepts_cohabitation(self) -> bool:
        return min(self.attitude.values()) >= self.model.params.acceptance_threshold

    @property
    def neighbours(self) -> list["Household"]:
        return [self.model.households[j] for j in self.model.network.neighbours(self.idx)]

    def __repr__(self) -> str:
        return f"Household({self.idx}, {self.group}, {self.village})"
