"""Households and their initial state, drawn from the scenario (docs/model.md, section 5)."""

from __future__ import annotations

import numpy as np

from common.vocabulary import GROUPS
from .params import Params
from .state import State, stress, wellbeing_share


def _clip01(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0.0, 1.0)


def build_population(scenario, params: Params, n_entries: int, rng: np.random.Generator) -> State:
    """Draw every household's attributes and initial state, with array operations only."""
    pop = scenario.population
    villages = scenario.village_names()
    # households in (village, group) blocks: village-major, group-minor order
    counts = np.array([[pop.villages[v].households.get(g, 0) for g in GROUPS] for v in villages])
    block_village = np.repeat(np.arange(len(villages)), len(GROUPS))
    block_group = np.tile(np.arange(len(GROUPS)), len(villages))
    village = np.repeat(block_village, counts.ravel()).astype(np.int8)
    group = np.repeat(block_group, counts.ravel()).astype(np.int8)
    n = group.shape[0]

    def per_group(attr: str) -> np.ndarray:
        return np.array([getattr(pop.initial[g], attr) for g in GROUPS])[group]

    spread = pop.state_spread
    coping = _clip01(per_group("coping") + spread * rng.standard_normal(n))
    stigma = _clip01(per_group("stigma") + spread * rng.standard_normal(n))
    need = _clip01(per_group("need") + spread * rng.standard_normal(n))
    barriers = _clip01(per_group("barriers") + spread * rng.standard_normal(n))
    wellbeing = np.clip(per_group("wellbeing") + pop.wellbeing_sd * rng.standard_normal(n), 14.0, 70.0)

    mean_att = np.array([[pop.initial[g].attitude.get(h, 1.0) for h in GROUPS] for g in GROUPS])
    shift = np.array([pop.villages[v].attitude_shift for v in villages])[village]
    attitude = _clip01(mean_att[group] + shift[:, None]
                       + pop.attitude_spread * rng.standard_normal((n, len(GROUPS))))
    attitude[np.arange(n), group] = 1.0

    roles = pop.roles
    u_roles = rng.random((n, 3))
    cac, deviant, volunteer = (u_roles[:, 0] < roles.cac, u_roles[:, 1] < roles.deviant,
                               u_roles[:, 2] < roles.volunteer)
    # CAC members and positive deviants are the ones who already move across group lines
    lift = 0.15 * (cac | deviant)
    attitude = np.where(np.arange(len(GROUPS))[None, :] == group[:, None], 1.0, _clip01(attitude + lift[:, None]))

    threshold = params.join_threshold + 0.15 * rng.standard_normal(n) - 0.2 * deviant
    stubbornness = np.where(group == GROUPS.index("VF"), params.stubbornness_vf, params.stubbornness_other)
    size = np.maximum(1, rng.poisson(pop.household_size - 1, n) + 1).astype(np.int16)

    familiarity = np.where(attitude >= 1.0, 1.0, 0.1 + 0.2 * attitude)
    familiarity[np.arange(n), group] = 1.0

    state = State(
        group=group, village=village, size=size, cac=cac, deviant=deviant, volunteer=volunteer,
        threshold=threshold, stubbornness=stubbornness.astype(float),
        wellbeing=wellbeing, coping=coping, stigma=stigma, need=need, barriers=barriers,
        attitude=attitude, anchor=attitude.copy(), familiarity=familiarity,
        weeks_left=np.zeros((n, n_entries), dtype=np.int16), ever=np.zeros(n, dtype=bool),
        contact_pos=np.zeros(n), contact_neg=np.zeros(n),
        wellbeing0=wellbeing_share(wellbeing), coping0=coping.copy(), stress0=stress(need, barriers),
        tension=np.array([pop.villages[v].tension for v in villages], dtype=float),
        tension0=np.array([pop.villages[v].tension for v in villages], dtype=float),
        mediation=np.zeros(len(villages)),
        leadership=np.array([pop.villages[v].leadership for v in villages], dtype=float),
        village_attitude0=np.zeros(len(villages)),
    )
    state.village_attitude0 = village_means(state.mean_other_attitude(), state.village, len(villages))
    return state


def village_means(values: np.ndarray, village: np.ndarray, n_villages: int) -> np.ndarray:
    counts = np.bincount(village, minlength=n_villages)
    return np.bincount(village, weights=values, minlength=n_villages) / np.maximum(counts, 1)
