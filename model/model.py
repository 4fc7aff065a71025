"""The cohesion model: households on a social network, the programme's activities, the survey.

    m = CohesionModel(load_scenario("scenarios/qayyarah.yaml"), rng=7)
    m.run()                      # or m.step() week by week
    m.survey_results()           # the survey.csv rows of this run
    m.datacollector.get_model_vars_dataframe()

Data flow: scenario -> population and network -> the mechanisms' set-up -> weekly steps (the
mechanisms of model/mechanisms.py, run by model/week.py) -> the observer -> survey.
"""

from __future__ import annotations

from typing import Literal

import mesa
import numpy as np
import pandas as pd

from . import mechanisms
from .agents import Household
from .draws import WeekDraws, streams
from .network import SocialNetwork, generate_ties
from .observer import Observer
from .params import Params
from .population import build_population
from .programme import COST_PARTS, Programme
from .state import State
from .survey import COLUMNS, respondents, tabulate
from .week import advance
from .world import World


def _seed_sequence(rng) -> np.random.SeedSequence:
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence(int(rng.integers(2**63)))
    return np.random.SeedSequence(rng)


def build_network(scenario, state: State, rng: np.random.Generator) -> SocialNetwork:
    """The residents' ties, then (from the same stream, so the residents' ties do not change) the
    ties that households arriving later start, to residents or other arrivals; the arrivals' ties
    count only once they have arrived (``SocialNetwork.set_present``, model/presence.py)."""
    n_groups = len(scenario.group_names())
    residents = np.flatnonzero(state.arrival_week == 0)
    src, dst = generate_ties(state.group[residents], state.village[residents], scenario.network, rng, n_groups)
    arriving = np.flatnonzero(state.arrival_week > 0)
    if arriving.size:  # residents come first in the arrays (population.build_population)
        more_src, more_dst = generate_ties(state.group, state.village, scenario.network, rng, n_groups, arriving)
        keys = np.unique(np.concatenate([src * state.n + dst, more_src * state.n + more_dst]))
        src, dst = keys // state.n, keys % state.n
    return SocialNetwork(state.group, src, dst, n_groups)


class CohesionModel(mesa.Model):
    """Community cohesion after conflict under a layered MHPSS programme.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (``scenarios.load_scenario``).
    params : Params, optional
        Parameters of the dynamics; defaults from ``model.params``.
    rng : int or numpy.random.SeedSequence, optional
        The seed. Population, network, dynamics and survey draw from separate streams of it.
    replicate : int
        Replicate number, carried into the survey rows.
    step_mode : "array", "plain" or "reference"
        "array" runs each mechanism over all households at once (compiled kernels where they
        pay); "plain" the same arrays in plain numpy without the kernels (``Mechanism.plain``);
        "reference" the same mechanisms one household at a time (``Mechanism.reference``). The
        last two are for tests and benchmarks; all three give the same states.
    """

    def __init__(self, scenario, params: Params | None = None, rng=None, replicate: int = 0,
                 step_mode: Literal["array", "plain", "reference"] = "array"):
        if step_mode not in ("array", "plain", "reference"):
            raise ValueError(f"step_mode must be 'array', 'plain' or 'reference', not {step_mode!r}")
        self.seed_sequence = _seed_sequence(rng)
        super().__init__(rng=self.seed_sequence)
        self.spec = scenario
        self.params = params or Params()
        self.replicate = replicate
        self.step_mode = step_mode
        self.villages = scenario.village_names()
        self.groups = scenario.group_names()
        self.streams = streams(self.seed_sequence)
        self._survey_seed = self.streams["survey"].integers(2**63)

        self.state: State = build_population(scenario, self.params, len(scenario.programme),
                                             self.streams["population"])
        self.network = build_network(scenario, self.state, self.streams["network"])
        self.programme = Programme(scenario, self.state)
        self.world = World(scenario=scenario, programme=self.programme, network=self.network,
                           params=self.params, villages=self.villages, mechanisms=mechanisms.build())
        for mechanism in self.world.mechanisms:  # per-run constants, in the week's order
            mechanism.init(self.state, self.world)
        # one Mesa agent per household (model.agents, model.households) is made on first use:
        # a batch run never asks, and 10^6 agents cost seconds of set-up (docs/performance.md)
        self._households: list[Household] | None = None

        self.week = 0
        self._join_draws = np.empty((len(self.programme), self.state.n))  # each week's joining draws (WeekDraws.draw)
        self.cost = 0.0   # USD so far, at the catalogue's unit costs (programme_cost)
        self.cost_quantities = np.zeros((len(COST_PARTS), len(self.programme)))  # Programme.cost_quantities, summed
        self.new_ties = 0
        self.observer = Observer(self)
        self.datacollector = self.observer.datacollector
        self.observer.observe(self)

    # --- running ---------------------------------------------------------------------------
    def step(self) -> None:
        """One week."""
        self.week += 1
        draws = WeekDraws.draw(self.streams["dynamics"], self.state.n, self.programme.active_indices(self.week),
                               out=self._join_draws)
        week = advance(self.state, self.world, self.week, draws, self.step_mode)
        self.new_ties = week.new_ties
        if self.week <= self.spec.survey.endline_week:  # the programme pays up to its endline
            enrolled = self.state.enrolled if week.enrolled is None else week.enrolled
            taking_part = enrolled.any(axis=1) if week.taking_part is None else week.taking_part
            q = (self.programme.cost_quantities if self.step_mode == "array"  # compiled, or in numpy
                 else self.programme.cost_quantities_plain)(self.week, enrolled, taking_part)
            self.cost_quantities += q
            self.cost += self.programme.price(q)
        self.observer.observe(self)

    def run(self, weeks: int | None = None) -> "CohesionModel":
        """Step to the scenario's horizon (or ``weeks`` more weeks)."""
        until = self.spec.horizon_weeks if weeks is None else self.week + weeks
        while self.week < until:
            self.step()
        return self

    # --- Mesa agents, made on first use ------------------------------------------------------
    @property
    def households(self) -> list[Household]:
        """One Mesa agent per household (``model.agents`` holds the same), made and registered
        with the model the first time they are asked for; their attributes read and write the
        state arrays, so agents made late see the same values as agents made at set-up would."""
        if self._households is None:
            # a comprehension rather than Household.create_agents, whose extra AgentSet costs
            # 1.6 s at 10^6 households
            self._households = [Household(self, i) for i in range(self.state.n)]
        return self._households

    @property
    def agents(self):
        """Mesa's set of all agents: every household (made on first use, ``households``)."""
        self.households
        return super().agents

    @property
    def agents_by_type(self):
        self.households
        return super().agents_by_type

    @property
    def agent_types(self):
        self.households
        return super().agent_types

    # --- what was observed -------------------------------------------------------------------
    @property
    def summary(self) -> dict[str, float]:
        """Population means of the weekly outcomes this week (and by group, ``<name>_<group>``)."""
        return self.observer.summary

    @property
    def snapshots(self):
        """The survey's readings at the baseline and endline weeks, once reached."""
        return self.observer.readings

    def timeseries(self) -> pd.DataFrame:
        """One row per week x group x village: households and mean state (timeseries.parquet)."""
        return self.observer.timeseries(self.spec.name, self.replicate)

    def measures(self, wave: str) -> dict[str, float]:
        """The population measures at a survey wave (``model/outcomes.py``), on all households."""
        return self.observer.measures(self, wave)

    def programme_cost(self) -> float:
        """The programme's cost (USD, the catalogue's unit costs) from week 1 to the survey's endline
        week, or to this week if the run has not reached it: places filled, facilitators' sessions
        held and handed-over activities' running cost (``Programme.cost_quantities``)."""
        return self.cost

    def survey_frame(self) -> np.ndarray:
        """Who the survey samples: frozen at the endline week once it has passed."""
        return self.observer.frame(self)

    def survey_results(self) -> pd.DataFrame:
        """The virtual survey of this run, in survey.csv's long form.

        After the endline week: both waves for one panel of respondents drawn from the frame.
        Between baseline and endline: the baseline wave on a sample of the frame so far.
        """
        if "baseline" not in self.snapshots:
            return pd.DataFrame(columns=COLUMNS)
        rng = np.random.default_rng(self._survey_seed)
        who = respondents(self.survey_frame(), self.spec.survey.sample_size, rng)
        return tabulate(who, self.snapshots, self.observer.groups, self.villages, self.spec.name, self.replicate)

    @property
    def graph(self):
        """The social network as a networkx graph (built on first use)."""
        return self.network.to_networkx(self.state.village, self.groups)
