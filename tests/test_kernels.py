"""Every speed kernel (model/kernels.py) gives what its plain numpy form gives, on generated inputs."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from model import kernels

SETTINGS = settings(max_examples=60, deadline=None)
shapes = st.tuples(st.integers(0, 40), st.integers(1, 12))


@SETTINGS
@given(hnp.arrays(bool, shapes))
def test_row_any(mask):
    np.testing.assert_array_equal(kernels.row_any(mask), kernels.row_any_plain(mask))
    if mask.shape[1] > 1:  # a view that is not C-contiguous takes the other branch
        np.testing.assert_array_equal(kernels.row_any(mask[:, ::2]), kernels.row_any_plain(mask[:, ::2]))


@SETTINGS
@given(hnp.arrays(np.int16, shapes, elements=st.integers(0, 2**15 - 1)))
def test_row_any_positive(weeks_left):
    np.testing.assert_array_equal(kernels.row_any_positive(weeks_left), kernels.row_any_positive_plain(weeks_left))


@SETTINGS
@given(hnp.arrays(float, shapes, elements=st.floats(-1e6, 1e6)))
def test_row_sum_and_min(x):
    np.testing.assert_allclose(kernels.row_sum(x), kernels.row_sum_plain(x), rtol=1e-12, atol=1e-6)
    np.testing.assert_array_equal(kernels.row_min(x), kernels.row_min_plain(x))


@SETTINGS
@given(hnp.arrays(float, st.integers(0, 50), elements=st.floats(-5, 5, allow_nan=False)))
def test_clip01(x):
    np.testing.assert_array_equal(kernels.clip01(x), kernels.clip01_plain(x))


@SETTINGS
@given(hnp.arrays(bool, shapes))
def test_pairs(mask):
    for a, b in zip(kernels.pairs(mask), kernels.pairs_plain(mask)):
        np.testing.assert_array_equal(a, b)


@SETTINGS
@given(hnp.arrays(np.int16, shapes, elements=st.integers(0, 9)), st.data())
def test_put2d(a, data):
    n = data.draw(st.integers(0, a.size))
    flat = data.draw(st.lists(st.integers(0, max(a.size - 1, 0)), min_size=n, max_size=n, unique=True)) if a.size else []
    rows, cols = np.array(flat, dtype=np.int64) // a.shape[1], np.array(flat, dtype=np.int64) % a.shape[1]
    fast, plain = a.copy(), a.copy()
    kernels.put2d(fast, rows, cols, 7)
    kernels.put2d_plain(plain, rows, cols, 7)
    np.testing.assert_array_equal(fast, plain)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 6), st.integers(0, 200), st.integers(0, 2**32 - 1))
def test_first_in_pool(n_pools, n, seed):
    rng = np.random.default_rng(seed)
    pool = rng.integers(0, n_pools, n)
    keys = rng.random(n)
    free = rng.integers(-1, max(n // n_pools, 1) + 3, n_pools)
    np.testing.assert_array_equal(kernels.first_in_pool(pool, keys, free), kernels.first_in_pool_plain(pool, keys, free))


@SETTINGS
@given(st.integers(1, 5), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_segment_sums(n_cells, n_cols, seed):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(0, 6, n_cells)
    cell_of_row = np.repeat(np.arange(n_cells), sizes)
    shuffle = rng.permutation(cell_of_row.size)
    cell_of_row = cell_of_row[shuffle]                 # rows in any order ...
    order = np.argsort(cell_of_row, kind="stable")     # ... put in blocks by ``order``
    starts = np.flatnonzero(np.diff(cell_of_row[order], prepend=-1))
    columns = [rng.random(cell_of_row.size) for _ in range(n_cols)]
    fast = kernels.segment_sums(columns, order, starts, cell_of_row[order][starts], n_cells)
    np.testing.assert_allclose(fast, kernels.segment_sums_plain(columns, cell_of_row, n_cells), rtol=1e-12)


@SETTINGS
@given(st.integers(1, 30), st.integers(0, 2**32 - 1), st.integers(0, 60))
def test_distinct_rows(n, seed, size):
    i = np.random.default_rng(seed).integers(0, n, size)
    for a, b in zip(kernels.distinct_rows(i, n), kernels.distinct_rows_plain(i, n)):
        np.testing.assert_array_equal(a, b)
