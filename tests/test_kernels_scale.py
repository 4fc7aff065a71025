"""The kernels that spare work at large sizes (model/kernels.py): doses kept from week to week,
the network's generation and CSR matrix, the observer's per-household outcomes; each gives what
its numpy form gives on generated inputs. The week's joining draws into a kept array are the
same numbers; the three forms of the week give the same states for doses and observation."""

from __future__ import annotations

import types

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from model import CohesionModel, kernels, network
from model.draws import WeekDraws
from tests.conftest import build, small_raw

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.integers(0, 30), st.integers(1, 6), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_renewed_doses_are_fresh_zeros_and_spread(n, k, weeks, seed):
    rng = np.random.default_rng(seed)
    cm = rng.standard_normal((k, 5))
    d, given = np.zeros((5, n)), np.zeros(n, dtype=bool)
    for _ in range(weeks):
        taking_part = rng.random(n) < rng.random()
        factor = (rng.random((int(taking_part.sum()), k)) < 0.5).astype(float)
        product = factor @ cm
        kernels.renew_doses(d, product, taking_part, given)
        want = np.zeros((5, n))
        kernels.spread_doses(want, product, taking_part)
        np.testing.assert_array_equal(d, want)
        np.testing.assert_array_equal(given, taking_part)


@st.composite
def populations(draw):
    n_villages, n_groups = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    n = draw(st.integers(0, 60))
    village = np.sort(draw(hnp.arrays(np.int8, n, elements=st.integers(0, n_villages - 1))))
    group = draw(hnp.arrays(np.int8, n, elements=st.integers(0, n_groups - 1)))
    spec = types.SimpleNamespace(mean_degree=draw(st.floats(0.0, 12.0)), within_village=draw(st.floats(0.0, 1.0)),
                                 within_group=draw(st.floats(0.0, 1.0)))
    sources = None if draw(st.booleans()) or n == 0 else np.flatnonzero(draw(hnp.arrays(bool, n)))
    return group, village, spec, n_groups, sources


@SETTINGS
@given(populations(), st.integers(0, 2**32 - 1), st.integers(1, 40))
def test_generated_ties_and_their_csr_as_numpy(case, seed, chunk):
    group, village, spec, n_groups, sources = case
    saved, network.TIE_CHUNK = network.TIE_CHUNK, chunk  # several chunks of draws
    try:
        r1, r2 = np.random.default_rng(seed), np.random.default_rng(seed)
        src, dst = network.generate_ties(group, village, spec, r1, n_groups, sources)
        want_src, want_dst = network.generate_ties_plain(group, village, spec, r2, n_groups, sources)
    finally:
        network.TIE_CHUNK = saved
    np.testing.assert_array_equal(src, want_src)
    np.testing.assert_array_equal(dst, want_dst)
    assert src.dtype == want_src.dtype == np.int64
    assert r1.random() == r2.random()  # the same draws taken
    n = group.size
    got, want = network._symmetric(src, dst, n), network._symmetric_plain(src, dst, n)
    for name in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name))
        assert getattr(got, name).dtype == getattr(want, name).dtype
    assert got.has_sorted_indices and want.has_sorted_indices
    if src.size > 1:  # ties in another order: scipy's matrix
        back = network._symmetric(src[::-1].copy(), dst[::-1].copy(), n)
        assert (back != want).nnz == 0


@SETTINGS
@given(hnp.arrays(np.int16, st.tuples(st.integers(0, 30), st.integers(0, 6)), elements=st.integers(-2, 3)))
def test_any_positive_rows_as_numpy(x):
    got = kernels.any_positive_rows(x, np.empty(x.shape[0], dtype=bool))
    np.testing.assert_array_equal(got, kernels.row_any_positive_plain(x))


@SETTINGS
@given(st.integers(0, 30), st.integers(1, 5), st.integers(0, 2**32 - 1), st.booleans())
def test_min_where_as_numpy(n, k, seed, nans):
    rng = np.random.default_rng(seed)
    x = rng.random((n, k))
    if nans:
        x[rng.random((n, k)) < 0.1] = np.nan
    mask = rng.random((n, k)) < 0.7
    got = kernels.min_where(x, mask, np.empty(n))
    np.testing.assert_array_equal(got, kernels.min_where_plain(x, mask, np.empty(n)))


def test_joining_draws_into_a_kept_array_are_the_same_numbers():
    out = np.empty((4, 50))
    for entries in ([0, 2], [], [0, 1, 2, 3]):
        a = WeekDraws.draw(np.random.default_rng(1), 50, entries, out=out)
        b = WeekDraws.draw(np.random.default_rng(1), 50, entries)
        np.testing.assert_array_equal(a.join_all, b.join_all)
        assert a.rng.random() == b.rng.random()
        assert len(entries) == 0 or np.shares_memory(a.join_all, out)
    recorded = WeekDraws.draw(np.random.default_rng(1), 50, [0, 1], record=True, out=out)
    assert not np.shares_memory(recorded.join_all, out)  # recorded weeks keep their own


def test_forms_agree_week_after_week_with_doses_kept():
    """array (doses kept from week to week, observer's kernels), plain and reference forms: the
    same states, doses and observations every week."""
    scenario = build(small_raw(scale=8))
    models = {form: CohesionModel(scenario, rng=5, step_mode=form) for form in ("array", "plain", "reference")}
    array = models["array"]
    for _ in range(scenario.horizon_weeks):
        for m in models.values():
            m.step()
        for form in ("plain", "reference"):
            other = models[form]
            for name, value in vars(array.state).items():
                if isinstance(value, np.ndarray):
                    np.testing.assert_allclose(getattr(other.state, name).astype(float), value.astype(float),
                                               rtol=0, atol=1e-9, err_msg=f"{form}: {name}, week {array.week}")
            np.testing.assert_allclose(other.observer.series[-1], array.observer.series[-1], rtol=0, atol=1e-9)
    assert array.state.ever.any()
