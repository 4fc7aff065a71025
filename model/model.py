"""The cohesion model: households on a social network, the programme's activities, the survey.

    m = CohesionModel(load_scenario("scenarios/qayyarah.yaml"), rng=7)
    m.run()                      # or m.step() week by week
    m.survey_results()           # the survey.csv rows of this run
    m.datacollector.get_model_vars_dataframe()

Data flow: scenario -> population and network -> weekly steps (model/week.py) -> survey.
"""

from __future__ import annotations

from typing import Literal

import mesa
import numpy as np
import pandas as pd

from scenarios.schema import Scenario

from . import influence, participation, stressors
from .activities import GROUPS
from .agents import Household
from .draws import WeekDraws, streams
from .network import SocialNetwork, generate_ties
from .params import Params
from .population import build_population, village_means
from .programme import Programme
from .state import State
from .survey import COLUMNS, Snapshot, respondents, tabulate
from .week import World, advance

TIMESERIES_METRICS = ("wellbeing", "coping", "stigma", "attitude_FPA", "attitude_VF", "attitude_HC",
                      "acceptance", "participating", "cross_group_ties")
METRIC_COLUMN = {name: j for j, name in enumerate(TIMESERIES_METRICS)}


def _seed_sequence(rng) -> np.random.SeedSequence:
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence(int(rng.integers(2**63)))
    return np.random.SeedSequence(rng)


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
    step_mode : "array" or "reference"
        "array" computes a week over all households at once; "reference" one household at a
        time (model/reference.py), for tests and benchmarks. Both give the same states.
    """

    def __init__(self, scenario: Scenario, params: Params | None = None, rng=None, replicate: int = 0,
                 step_mode: Literal["array", "reference"] = "array"):
        self.seed_sequence = _seed_sequence(rng)
        super().__init__(rng=self.seed_sequence)
        self.spec = scenario
        self.params = params or Params()
        self.replicate = replicate
        self.step_mode = step_mode
        self.villages = scenario.village_names()
        self.streams = streams(self.seed_sequence)
        self._survey_seed = self.streams["survey"].integers(2**63)

        self.state: State = build_population(scenario, self.params, len(scenario.programme),
                                             self.streams["population"])
        src, dst = generate_ties(self.state.group, self.state.village, scenario.network, self.streams["network"])
        self.network = SocialNetwork(self.state.group, src, dst)
        influence.settle(self.state, self.network, self.params)
        stressors.settle(self.state, self.network, self.params)
        self.state.village_attitude0 = village_means(self.state.mean_other_attitude(), self.state.village,
                                                     len(self.villages))
        self.programme = Programme(scenario, self.state)
        n_v = np.bincount(self.state.village, minlength=len(self.villages))
        self.world = World(
            scenario=scenario, programme=self.programme, network=self.network, params=self.params,
            event_villages=[[self.villages.index(v) for v in scenario.entry_villages(e)] for e in scenario.events],
            expected_cac=np.maximum(1.0, scenario.population.roles.cac * n_v),
            encouraging=participation.encouragers(self.state, self.network),
        )
        # one Mesa agent per household, registered with the model (model.agents); a comprehension
        # rather than Household.create_agents, whose extra AgentSet costs 1.6 s at 10^6 households
        self.households: list[Household] = self._create_households()

        # (group, village) cells of the time series, fixed for the run
        ng, nv = len(GROUPS), len(self.villages)
        cell = self.state.group.astype(np.int64) * nv + self.state.village  # group-major: the series' order
        self._group_size = np.bincount(self.state.group, minlength=ng)
        self._cell_count = np.bincount(cell, minlength=ng * nv).astype(float)
        self._cell_count_or_nan = np.where(self._cell_count > 0, self._cell_count, np.nan)
        # households come in (village, group) blocks (population.build_population), so a cell's
        # households are consecutive: its sums are segment sums (np.add.reduceat)
        block = self.state.village.astype(np.int64) * ng + self.state.group
        by_block = np.argsort(block, kind="stable")
        self._cell_order = None if np.array_equal(by_block, np.arange(block.size)) else by_block
        self._cell_starts = np.flatnonzero(np.diff(block[by_block], prepend=-1))  # first household of each cell
        self._cell_of_start = cell[by_block][self._cell_starts]
        self._own_attitude = np.zeros((ng * nv, len(TIMESERIES_METRICS)), dtype=bool)
        for k in range(ng):
            self._own_attitude[np.arange(ng * nv) // nv == k, TIMESERIES_METRICS.index(f"attitude_{GROUPS[k]}")] = True

        self.week = 0
        self.cost = 0.0
        self._series: list[np.ndarray] = []
        self.snapshots: dict[str, Snapshot] = {}
        self._endline_frame: np.ndarray | None = None
        self.datacollector = mesa.DataCollector(model_reporters={
            "week": "week",
            "acceptance": lambda m: m.summary["acceptance"],
            **{f"acceptance_{g}": (lambda m, g=g: m.summary[f"acceptance_{g}"]) for g in GROUPS},
            "wellbeing": lambda m: m.summary["wellbeing"],
            "coping": lambda m: m.summary["coping"],
            "stigma": lambda m: m.summary["stigma"],
            "participating": lambda m: m.summary["participating"],
            "cross_group_ties": lambda m: m.summary["cross_group_ties"],
            "cost": "cost",
            **{f"tension_{v}": (lambda m, i=i: float(m.state.tension[i])) for i, v in enumerate(self.villages)},
        })
        self._observe()

    def _create_households(self) -> list[Household]:
        return [Household(self, i) for i in range(self.state.n)]

    # --- running ---------------------------------------------------------------------------
    def step(self) -> None:
        """One week."""
        self.week += 1
        draws = WeekDraws.draw(self.streams["dynamics"], self.state.n, self.programme.active_indices(self.week))
        if self.step_mode == "reference":
            from .reference import advance_reference
            advance_reference(self, draws)
        else:
            advance(self.state, self.world, self.week, draws)
        self.cost += self.programme.weekly_cost(self.week)
        self._observe()

    def run(self, weeks: int | None = None) -> "CohesionModel":
        """Step to the scenario's horizon (or ``weeks`` more weeks)."""
        until = self.spec.horizon_weeks if weeks is None else self.week + weeks
        while self.week < until:
            self.step()
        return self

    # --- observing -------------------------------------------------------------------------
    def _observe(self) -> None:
        s = self.state
        survey = self.spec.survey
        if self.week == survey.baseline_week:
            self.snapshots["baseline"] = Snapshot.take(self.week, s, self.network, self.params)
        if self.week == survey.endline_week:
            self.snapshots["endline"] = Snapshot.take(self.week, s, self.network, self.params)
            # the survey's frame is who had taken part by the endline, not who joins later
            self._endline_frame = self.survey_frame()
        accept = s.min_other_attitude() >= self.params.acceptance_threshold
        sums = self._cell_sums(accept, s.participating, self.network.cross_group_ties())
        means = sums / self._cell_count_or_nan[:, None]
        means[self._own_attitude] = np.nan  # attitude towards one's own group is not a state
        self._series.append(np.column_stack([self._cell_count, means]))
        # population and group means from the cell sums (acceptance, participation and ties are
        # counts: exact sums)
        m = METRIC_COLUMN
        total = sums.sum(axis=0) / s.n
        accepting = sums[:, m["acceptance"]].reshape(len(GROUPS), len(self.villages)).sum(axis=1)
        self.summary = {
            "acceptance": float(total[m["acceptance"]]),
            **{f"acceptance_{g}": float(accepting[k] / self._group_size[k]) if self._group_size[k] else np.nan
               for k, g in enumerate(GROUPS)},
            **{name: float(total[m[name]]) for name in ("wellbeing", "coping", "stigma", "participating",
                                                        "cross_group_ties")},
        }
        self.datacollector.collect(self)

    def _cell_sums(self, accept: np.ndarray, participating: np.ndarray, cross: np.ndarray) -> np.ndarray:
        """Sum of each time-series metric per (group, village) cell (cells x metrics)."""
        s = self.state
        columns = [s.wellbeing, s.coping, s.stigma, s.attitude[:, 0], s.attitude[:, 1], s.attitude[:, 2],
                   accept, participating, cross]
        sums = np.zeros((self._cell_count.size, len(columns)))
        if self._cell_starts.size:
            for j, c in enumerate(columns):
                c = c if self._cell_order is None else c[self._cell_order]
                sums[self._cell_of_start, j] = np.add.reduceat(c, self._cell_starts)
        return sums

    def timeseries(self) -> pd.DataFrame:
        """One row per week x group x village: households and mean state (timeseries.parquet)."""
        ng, nv = len(GROUPS), len(self.villages)
        data = np.stack(self._series)  # weeks x cells x (1 + metrics)
        weeks = np.repeat(np.arange(data.shape[0]), ng * nv)
        cells = np.tile(np.arange(ng * nv), data.shape[0])
        df = pd.DataFrame(data.reshape(-1, data.shape[2]), columns=["households", *TIMESERIES_METRICS])
        df.insert(0, "village", [self.villages[c % nv] for c in cells])
        df.insert(0, "group", [GROUPS[c // nv] for c in cells])
        df.insert(0, "week", weeks)
        df.insert(0, "replicate", self.replicate)
        df.insert(0, "scenario", self.spec.name)
        df = df[df.households > 0].reset_index(drop=True)
        df["households"] = df["households"].astype(int)
        return df

    def survey_frame(self) -> np.ndarray:
        """Who the survey samples: frozen at the endline week once it has passed."""
        if self._endline_frame is not None:
            return self._endline_frame.copy()
        if self.spec.survey.frame == "households":
            return np.ones(self.state.n, dtype=bool)
        if self.state.ever.any():
            return self.state.ever.copy()
        return self.programme.ever_eligible.copy()

    def survey_results(self) -> pd.DataFrame:
        """The virtual survey of this run, in survey.csv's long form.

        After the endline week: both waves for one panel of respondents drawn from the frame.
        Between baseline and endline: the baseline wave on a sample of the frame so far.
        """
        if "baseline" not in self.snapshots:
            return pd.DataFrame(columns=COLUMNS)
        rng = np.random.default_rng(self._survey_seed)
        who = respondents(self.survey_frame(), self.spec.survey.sample_size, rng)
        df = tabulate(who, self.state.group, self.state.village, self.villages, self.snapshots["baseline"],
                      self.snapshots.get("endline"), self.state.other_mask, self.params)
        df.insert(0, "replicate", self.replicate)
        df.insert(0, "scenario", self.spec.name)
        return df[COLUMNS]

    @property
    def graph(self):
        """The social network as a networkx graph (built on first use)."""
        return self.network.to_networkx(self.state.village)
