"""A mechanism's array form (``step``, whole-mechanism compiled kernels) and its plain form
(``plain``, numpy) give the same state on generated states.

``tests/test_kernels.py`` compares each kernel with the equation functions put together in the
test; here the mechanisms' own two methods run, so the wiring is checked too (which arrays go
into the kernel in which order, what is changed in place and what is replaced). The weeks come
from small runs (3 and 8 groups, the most a scenario declares); the state each method starts
from is the run's state with its households' numbers redrawn (attitudes, familiarity,
well-being, coping, need, barriers, presence, tension, mediation, capacity, incidents, doses,
enrolment), so the methods see states and weeks the runs never reach.
"""

from __future__ import annotations

import functools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from common.vocabulary import CHANNELS
from model import CohesionModel, kernels
from model.draws import WeekDraws
from model.mechanism import Week
from tests.conftest import build, regrouped_raw, small_raw

MINE = ("stressors", "contact", "legitimisation", "influence", "tension")
"""The mechanisms whose ``step`` calls a whole-mechanism kernel (model/kernels.py)."""

EIGHT = {f"g{j}": role for j, role in enumerate(["victims", "perceived_affiliation", "displaced", "returning",
                                                   "host", "host", "displaced", "returning"])}
WEEKS = 40


@functools.cache
def runs() -> list[tuple[CohesionModel, list[tuple[str, int, object, Week]]]]:
    """Two small runs (3 and 8 groups) and, for every week and mechanism of ``MINE``, the state
    it started from and the week as it was handed to it."""
    out = []
    for raw in (small_raw(scale=8), regrouped_raw(EIGHT, scale=8, name="eight_groups")):
        model = CohesionModel(build(raw), rng=4)
        seen: list = []
        for mechanism in model.world.mechanisms:
            if mechanism.name in MINE:
                def step(state, world, week, _step=mechanism.step, _name=mechanism.name):
                    seen.append((_name, week.number, state.copy(), _copy_week(week)))
                    _step(state, world, week)
                mechanism.step = step
        model.run(WEEKS)
        for mechanism in model.world.mechanisms:
            vars(mechanism).pop("step", None)
        out.append((model, seen))
    return out


def _copy_week(week: Week) -> Week:
    return Week(number=week.number, draws=week.draws, enrolled=None if week.enrolled is None else week.enrolled.copy(),
                doses=None if week.doses is None else {c: d.copy() for c, d in week.doses.items()},
                members=week.members, shared={k: (v.copy() if isinstance(v, np.ndarray) else v)
                                              for k, v in week.shared.items()})


def _redrawn(state, week: Week, rng: np.random.Generator, n_entries: int):
    """The state and week with the households' and villages' numbers drawn anew."""
    state = state.copy()
    n, ng = state.attitude.shape
    other = state.other_mask
    for name in ("attitude", "anchor", "familiarity"):
        setattr(state, name, np.where(other, rng.random((n, ng)), getattr(state, name)))
    state.wellbeing = 14.0 + 56.0 * rng.random(n)
    state.coping, state.need, state.barriers = rng.random(n), rng.random(n), rng.random(n)
    state.present = rng.random(n) < rng.choice([1.0, 0.8, 0.3])
    nv = state.tension.shape[0]
    state.tension, state.mediation, state.capacity = rng.random(nv), rng.random(nv), rng.random(nv)
    state.last_incident = np.where(rng.random(nv) < 0.5, week.number - rng.integers(0, 8, nv), -10**6)
    doses = {c: rng.random(n) * (rng.random(n) < 0.4) for c in CHANNELS}
    enrolled = rng.random((n, n_entries)) < 0.2
    shared = dict(week.shared)
    if "readiness_bonus" in shared:
        shared["readiness_bonus"] = 0.3 * rng.random((n, ng))
    return state, dict(doses=doses, enrolled=enrolled, shared=shared)


def _week(week: Week, n: int, seed: int, parts: dict) -> Week:
    """The week with its own draws (the same numbers for each form: one generator per form)."""
    draws = WeekDraws.draw(np.random.default_rng(seed), n, week.draws.entries)
    return Week(number=week.number, draws=draws, members=week.members, **{k: _copy(v) for k, v in parts.items()})


def _copy(v):
    if isinstance(v, dict):
        return {k: (x.copy() if isinstance(x, np.ndarray) else x) for k, x in v.items()}
    return v.copy()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 1), st.sampled_from(MINE), st.integers(1, WEEKS), st.booleans(), st.integers(0, 2**32 - 1))
def test_step_and_plain_give_the_same_state(run, name, week_number, redraw, seed):
    model, seen = runs()[run]
    state0, week0 = next((s, w) for m, k, s, w in seen if m == name and k == week_number)
    mechanism = next(m for m in model.world.mechanisms if m.name == name)
    rng = np.random.default_rng(seed)
    parts = dict(doses=week0.doses, enrolled=week0.enrolled, shared=week0.shared)
    if redraw:
        state0, parts = _redrawn(state0, week0, rng, len(model.programme.entries))
    array, plain = state0.copy(), state0.copy()
    week_a, week_p = _week(week0, state0.n, seed, parts), _week(week0, state0.n, seed, parts)
    mechanism.step(array, model.world, week_a)
    mechanism.plain(plain, model.world, week_p)
    for key, want in vars(plain).items():
        if isinstance(want, np.ndarray):
            np.testing.assert_allclose(getattr(array, key).astype(float), want.astype(float), rtol=1e-12,
                                       atol=1e-14, err_msg=f"{name}: {key}")
    # the same number of draws taken
    assert week_a.draws.rng.random() == week_p.draws.rng.random()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hnp.arrays(float, st.integers(0, 128), elements=st.floats(-1e3, 1e3, allow_nan=False)))
def test_numpy_sum_is_numpys_sum(x):
    """tension_week's sums over a village's groups are numpy's, bit for bit (its pairwise order)."""
    assert kernels._numpy_sum(x) == x.sum()
    if x.size:
        two = np.stack([x, x[::-1]])
        assert kernels._numpy_sum(two[1]) == two.sum(axis=-1)[1]
