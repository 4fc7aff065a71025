"""One week of the model, in the order of docs/model.md, section 3 (process overview).

Every mechanism is array arithmetic over all households and ties; the loop below is over the
mechanisms, not over households. ``model/reference.py`` does the same week one household at a
time, for the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scenarios.schema import Scenario

from . import contact, influence, participation, pss, shocks, stressors, ties
from .draws import WeekDraws
from .network import SocialNetwork
from .params import Params
from .programme import Programme
from .state import State, row_any


@dataclass
class World:
    """What a week needs besides the state: programme, network, events, fixed per-run inputs."""

    scenario: Scenario
    programme: Programme
    network: SocialNetwork
    params: Params
    event_villages: list[list[int]]
    expected_cac: np.ndarray     # per village, for the mediation dose
    encouraging: np.ndarray      # per household, share of encouraging neighbours

    def events_at(self, week: int):
        return [(e, vs) for e, vs in zip(self.scenario.events, self.event_villages) if e.week == week]


def advance(state: State, world: World, week: int, draws: WeekDraws) -> int:
    """Move the state through week ``week``; returns the number of new cross-group ties."""
    p = world.params
    for event, villages in world.events_at(week):
        shocks.apply_event(state, event, villages, p)
    nb_joined = world.network.neighbour_mean(state.ever.astype(float))
    participation.step(state, world.programme, week, draws, p, world.scenario.population.first_movers,
                       nb_joined, world.encouraging)
    enrolled = state.enrolled  # who takes part this week (N x entries) ...
    taking_part = row_any(enrolled)  # ... in anything
    doses = world.programme.doses(enrolled, taking_part)
    pss.step(state, doses, nb_joined, p)
    stressors.step(state, doses, world.network, p)
    members = world.programme.mixed_members(week, enrolled)  # of the entries that mix groups
    contact.step(state, world.programme, members, p)
    new_ties = ties.step(state, world.programme, world.network, members, draws, p)
    influence.step(state, world.network, p)
    shocks.step(state, doses["mediation"], world.expected_cac, p)
    participation.end_of_week(state, enrolled, taking_part)
    return new_ties
