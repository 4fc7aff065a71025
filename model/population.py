"""Households and their initial state, drawn from the scenario (docs/model.md, section 5).

Groups are the scenario's (``population.groups``): a household's group code indexes
``scenario.group_names()``, and what differs by group is keyed by the group's role
(``params.stubbornness_victims`` for groups in the victims' role).

Residents are drawn first, in (village, group) blocks; households that arrive during the run
(``population.movements``) are drawn after them from the same stream, so adding arrivals does not
change the residents' draws. Who leaves, and when, is drawn last. Arriving households are absent
(``present`` False) until their arrival week; leaving households from their departure week on.
"""

from __future__ import annotations

import numpy as np

from .params import Params
from .state import State, stress, wellbeing_share

NEVER = np.iinfo(np.int32).max  # the departure week of households that stay


def _clip01(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0.0, 1.0)


def _draw(scenario, params: Params, village: np.ndarray, group: np.ndarray, rng: np.random.Generator) -> dict:
    """Attributes and initial state of the households with these (village, group) codes."""
    pop, villages, groups = scenario.population, scenario.village_names(), scenario.group_names()
    n, ng = group.shape[0], len(groups)

    def per_group(attr: str) -> np.ndarray:
        return np.array([getattr(pop.initial[g], attr) for g in groups])[group]

    spread = pop.state_spread
    coping = _clip01(per_group("coping") + spread * rng.standard_normal(n))
    stigma = _clip01(per_group("stigma") + spread * rng.standard_normal(n))
    need = _clip01(per_group("need") + spread * rng.standard_normal(n))
    barriers = _clip01(per_group("barriers") + spread * rng.standard_normal(n))
    wellbeing = np.clip(per_group("wellbeing") + pop.wellbeing_sd * rng.standard_normal(n), 14.0, 70.0)

    mean_att = np.array([[pop.initial[g].attitude.get(h, 1.0) for h in groups] for g in groups])
    shift = np.array([pop.villages[v].attitude_shift for v in villages])[village]
    attitude = _clip01(mean_att[group] + shift[:, None] + pop.attitude_spread * rng.standard_normal((n, ng)))
    attitude[np.arange(n), group] = 1.0

    roles = pop.roles
    u_roles = rng.random((n, 3))
    cac, deviant, volunteer = (u_roles[:, 0] < roles.cac, u_roles[:, 1] < roles.deviant,
                               u_roles[:, 2] < roles.volunteer)
    # CAC members and positive deviants are the ones who already move across group lines
    lift = 0.15 * (cac | deviant)
    attitude = np.where(np.arange(ng)[None, :] == group[:, None], 1.0, _clip01(attitude + lift[:, None]))

    threshold = params.join_threshold + 0.15 * rng.standard_normal(n) - 0.2 * deviant
    victims = np.array([r == "victims" for r in scenario.group_roles()])[group]
    stubbornness = np.where(victims, params.stubbornness_victims, params.stubbornness_other)
    size = np.maximum(1, rng.poisson(pop.household_size - 1, n) + 1).astype(np.int16)

    familiarity = np.where(attitude >= 1.0, 1.0, 0.1 + 0.2 * attitude)
    familiarity[np.arange(n), group] = 1.0
    return dict(group=group, village=village, size=size, cac=cac, deviant=deviant, volunteer=volunteer,
                threshold=threshold, stubbornness=stubbornness.astype(float), wellbeing=wellbeing, coping=coping,
                stigma=stigma, need=need, barriers=barriers, attitude=attitude, familiarity=familiarity)


def _residents(scenario) -> tuple[np.ndarray, np.ndarray]:
    """(village, group) codes of the residents: village-major, group-minor blocks."""
    pop, villages, groups = scenario.population, scenario.village_names(), scenario.group_names()
    counts = np.array([[pop.villages[v].households.get(g, 0) for g in groups] for v in villages])
    block_village = np.repeat(np.arange(len(villages)), len(groups))
    block_group = np.tile(np.arange(len(groups)), len(villages))
    return (np.repeat(block_village, counts.ravel()).astype(np.int8),
            np.repeat(block_group, counts.ravel()).astype(np.int8))


def _arrivals(scenario) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(village, group, arrival week) of the arriving households, spread evenly over each
    movement's weeks."""
    villages, groups = scenario.village_names(), scenario.group_names()
    v, g, w = [], [], []
    for m in scenario.population.movements:
        if m.kind != "arrive":
            continue
        span = m.end_week - m.start_week + 1
        v += [villages.index(m.village)] * m.households
        g += [groups.index(m.group)] * m.households
        w += [m.start_week + (k * span) // m.households for k in range(m.households)]
    return np.array(v, dtype=np.int8), np.array(g, dtype=np.int8), np.array(w, dtype=np.int32)


def _departures(scenario, village: np.ndarray, group: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Departure week of every household (NEVER for those that stay): for each leave movement, that
    many households of its group and village, drawn at random, spread evenly over its weeks."""
    villages, groups = scenario.village_names(), scenario.group_names()
    week = np.full(group.shape[0], NEVER, dtype=np.int32)
    for m in scenario.population.movements:
        if m.kind != "leave":
            continue
        pool = np.flatnonzero((village == villages.index(m.village)) & (group == groups.index(m.group))
                              & (week == NEVER))
        who = rng.choice(pool, size=m.households, replace=False)
        span = m.end_week - m.start_week + 1
        week[np.sort(who)] = m.start_week + (np.arange(m.households) * span) // m.households
    return week


def build_population(scenario, params: Params, n_entries: int, rng: np.random.Generator) -> State:
    """Draw every household's attributes and initial state, with array operations only."""
    pop, villages = scenario.population, scenario.village_names()
    res_v, res_g = _residents(scenario)
    arr_v, arr_g, arrival = _arrivals(scenario)
    drawn = _draw(scenario, params, res_v, res_g, rng)
    if arrival.size:
        more = _draw(scenario, params, arr_v, arr_g, rng)
        drawn = {k: np.concatenate([drawn[k], more[k]]) for k in drawn}
    n = drawn["group"].shape[0]
    arrival_week = np.concatenate([np.zeros(n - arrival.size, dtype=np.int32), arrival])
    departure_week = _departures(scenario, drawn["village"], drawn["group"], rng)
    coping, need, barriers, wellbeing = drawn["coping"], drawn["need"], drawn["barriers"], drawn["wellbeing"]
    state = State(
        **drawn, anchor=drawn["attitude"].copy(),
        weeks_left=np.zeros((n, n_entries), dtype=np.int16), ever=np.zeros(n, dtype=bool),
        contact_pos=np.zeros(n), contact_neg=np.zeros(n),
        wellbeing0=wellbeing_share(wellbeing), coping0=coping.copy(), stress0=stress(need, barriers),
        tension=np.array([pop.villages[v].tension for v in villages], dtype=float),
        tension0=np.array([pop.villages[v].tension for v in villages], dtype=float),
        mediation=np.zeros(len(villages)),
        leadership=np.array([pop.villages[v].leadership for v in villages], dtype=float),
        village_attitude0=np.zeros(len(villages)),
        present=arrival_week == 0, arrival_week=arrival_week, departure_week=departure_week,
    )
    state.village_attitude0 = village_means(state.mean_other_attitude(), state.village, len(villages), state.present)
    return state


def village_means(values: np.ndarray, village: np.ndarray, n_villages: int,
                  present: np.ndarray | None = None) -> np.ndarray:
    """Mean of ``values`` per village over its (present) households."""
    if present is None or present.all():
        counts = np.bincount(village, minlength=n_villages)
        return np.bincount(village, weights=values, minlength=n_villages) / np.maximum(counts, 1)
    counts = np.bincount(village, weights=present.astype(float), minlength=n_villages)
    return np.bincount(village, weights=values * present, minlength=n_villages) / np.maximum(counts, 1)
