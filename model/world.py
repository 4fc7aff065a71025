"""What a week needs besides the state: scenario, programme, network, parameters, mechanisms."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .network import SocialNetwork
from .params import Params
from .programme import Programme

if TYPE_CHECKING:  # type names only
    from .mechanism import Mechanism


@dataclass
class World:
    scenario: Any                 # the validated scenario (scenarios.schema.Scenario)
    programme: Programme
    network: SocialNetwork
    params: Params
    villages: list[str]
    mechanisms: list["Mechanism"] = field(default_factory=list)

    def __post_init__(self) -> None:
        # the programme's channel strengths under these parameters (strengths set by name, grouped
        # multipliers), once per run and before the mechanisms' init (docs/model.md, section 7.1)
        self.programme.set_strengths(self.params)

    def events_at(self, week: int) -> list[tuple[Any, list[int]]]:
        """The scenario's events of this week, each with the indices of the villages it hits."""
        return [(e, [self.villages.index(v) for v in self.scenario.entry_villages(e)])
                for e in self.scenario.events if e.week == week]
