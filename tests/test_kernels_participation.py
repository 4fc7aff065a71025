"""Participation's compiled week (kernels.end_and_count, kernels.participation_week and the
allocation of places) gives what its plain numpy form (``Participation.plain``) gives."""

import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from model import CohesionModel, kernels
from model.draws import WeekDraws
from model.mechanism import Week
from model.participation import Participation, place_quotas
from tests.conftest import build, small_raw

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
"""No deadline and no check of generation speed: both measure the machine's load, not the kernels."""


# --- the allocation of places, with ties in the keys ------------------------------------------
@SETTINGS
@given(hnp.arrays(float, st.integers(1, 60), elements=st.sampled_from([0.1, 0.2, 0.2, 0.3, 0.5, 0.7])), st.data())
def test_kth_smallest(x, data):
    r = data.draw(st.integers(0, x.size - 1))
    assert kernels._kth_smallest(x.copy(), r) == np.sort(x)[r]


@SETTINGS
@given(st.integers(1, 5), st.integers(0, 80), st.integers(0, 2**31), st.booleans())
def test_first_in_pool_with_ties(n_pools, n, seed, ties):
    """Keys drawn from a few values (ties at the cut) or uniform: the same places as the stable
    sort of the plain form, whose ties go in candidate order."""
    rng = np.random.default_rng(seed)
    pool = rng.integers(0, n_pools, n)
    keys = rng.choice([0.05, 0.1, 0.1, 0.3, 0.6], n) if ties else rng.random(n)
    free = rng.integers(-2, 12, n_pools)
    np.testing.assert_array_equal(kernels.first_in_pool(pool, keys, free),
                                  kernels.first_in_pool_plain(pool, keys, free))


@SETTINGS
@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 80), st.integers(0, 2**31), st.booleans())
def test_targeted_first_in_pool_with_ties(n_pools, ng, n, seed, ties):
    rng = np.random.default_rng(seed)
    pool, group = rng.integers(0, n_pools, n), rng.integers(0, ng, n)
    keys = rng.choice([0.05, 0.1, 0.1, 0.3, 0.6], n) if ties else rng.random(n)
    free = rng.integers(-2, 12, n_pools)
    quota = rng.integers(0, 4, (n_pools, ng))
    np.testing.assert_array_equal(kernels.targeted_first_in_pool(pool, group, keys, free, quota),
                                  kernels.targeted_first_in_pool_plain(pool, group, keys, free, quota))


@SETTINGS
@given(st.integers(1, 6), st.integers(1, 5), st.integers(0, 2**31))
def test_place_quotas(n_pools, ng, seed):
    rng = np.random.default_rng(seed)
    places = rng.integers(0, 30, n_pools)
    taken = rng.integers(0, 10, (n_pools, ng))
    free = places - taken.sum(axis=1) + rng.integers(-3, 4, n_pools)
    shares = rng.random((n_pools, ng)) * (rng.random((n_pools, 1)) < 0.8)
    shares /= np.maximum(shares.sum(axis=1, keepdims=True), 1e-300)
    np.testing.assert_array_equal(kernels._place_quotas(places, taken, free, shares),
                                  place_quotas(places, taken, free, shares))


# --- the whole week: Participation.step (compiled) against Participation.plain ----------------
@functools.cache
def small_model(targeted: bool) -> CohesionModel:
    """A small Qayyarah (inclusive targeting, ``targeted``) or the same without places held."""
    raw = small_raw(scale=8)
    if not targeted:
        raw.pop("targeting", None)
    return CohesionModel(build(raw), rng=1)


def generated_state(model: CohesionModel, rng: np.random.Generator):
    """The model's state at set-up with enrolments, participation so far, well-being and
    attitudes drawn at random (members in every entry, some pools over their places)."""
    state = model.state.copy()
    n, n_entries = state.weeks_left.shape
    cycles = model.programme.cycle_weeks
    member = rng.random((n, n_entries)) < rng.uniform(0.0, 0.4)
    state.weeks_left[:] = np.where(member, rng.integers(1, 1 + np.maximum(cycles, 1), (n, n_entries)), 0)
    state.ever[:] = rng.random(n) < rng.uniform(0.0, 0.8)
    state.wellbeing[:] = rng.random(n)
    state.attitude[:] = np.where(state.other_mask, rng.random(state.attitude.shape), state.attitude)
    return state


@pytest.mark.parametrize("targeted", [True, False])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), week=st.integers(1, 80))
def test_participation_week_matches_plain(targeted, seed, week):
    model = small_model(targeted)
    world = model.world
    mechanism = next(m for m in world.mechanisms if isinstance(m, Participation))
    rng = np.random.default_rng(seed)
    state = generated_state(model, rng)
    states, draws = [state, state.copy()], []
    for form, s in zip(("step", "plain"), states):
        d = WeekDraws.draw(np.random.default_rng(seed), s.n, model.programme.active_indices(week))
        w = Week(number=week, draws=d)
        getattr(mechanism, form)(s, world, w)
        draws.append((d, w))
    np.testing.assert_array_equal(states[0].weeks_left, states[1].weeks_left)
    np.testing.assert_array_equal(draws[0][1].nb_joined, draws[1][1].nb_joined)
    # the same number of draws taken (the generators are at the same point)
    assert draws[0][0].rng.random() == draws[1][0].rng.random()


def test_the_three_forms_agree_week_after_week():
    """Array, plain and reference runs of a small Qayyarah: the same enrolments every week."""
    scenario = build(small_raw(scale=8))
    runs = [CohesionModel(scenario, rng=5, step_mode=form) for form in ("array", "plain", "reference")]
    joined = 0
    for _ in range(30):
        for m in runs:
            m.step()
        for m in runs[1:]:
            np.testing.assert_array_equal(m.state.weeks_left, runs[0].state.weeks_left, err_msg=f"week {m.week}")
            np.testing.assert_array_equal(m.state.ever, runs[0].state.ever)
        joined += int((runs[0].state.weeks_left > 0).sum())
    assert joined > 0
