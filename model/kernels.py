"""Speed kernels: every trick that makes a week faster without changing what it computes.

The mechanism modules are written as their equations; where a plain numpy call is slow at the
model's sizes, they call a kernel from here instead. Each kernel sits beside its plain form
(``<name>_plain``), which is the specification: ``tests/test_kernels.py`` checks that the two
agree on generated inputs. Nothing here is a modelling choice.
"""

from __future__ import annotations

import functools

import numpy as np

CHUNK = 2**18
"""(entry, household) pairs the joining rule handles at once: small enough for the cache.
Qayyarah's entries are all handled at once, a million households' one at a time (tuning)."""


# --- reductions along a short row axis ---------------------------------------------------------
def row_any(mask: np.ndarray) -> np.ndarray:
    """``mask.any(axis=1)`` for an N x k boolean array, as a product with ones (numpy's
    reductions along a short row axis are several times slower)."""
    if mask.shape[1] < 256 and mask.flags.c_contiguous:  # the count fits a byte
        return (mask.view(np.uint8) @ np.ones(mask.shape[1], dtype=np.uint8)) > 0
    return functools.reduce(np.logical_or, mask.T, np.zeros(mask.shape[0], dtype=bool))


def row_any_plain(mask: np.ndarray) -> np.ndarray:
    return mask.any(axis=1)


def row_any_positive(x: np.ndarray) -> np.ndarray:
    """``(x > 0).any(axis=1)`` for a non-negative N x k array of small integers (< 2^24, exact
    in float32): a float32 product with ones, which is BLAS's, instead of comparing every cell."""
    return (x.astype(np.float32) @ np.ones(x.shape[1], dtype=np.float32)) > 0


def row_any_positive_plain(x: np.ndarray) -> np.ndarray:
    return (x > 0).any(axis=1)


def row_sum(x: np.ndarray) -> np.ndarray:
    """``x.sum(axis=1)`` for a float N x k array with small k, column by column (the same sums
    in the same order, several times faster)."""
    return functools.reduce(np.add, x.T)


def row_sum_plain(x: np.ndarray) -> np.ndarray:
    return x.sum(axis=1)


def row_min(x: np.ndarray) -> np.ndarray:
    """``x.min(axis=1)`` column by column."""
    return functools.reduce(np.minimum, x.T)


def row_min_plain(x: np.ndarray) -> np.ndarray:
    return x.min(axis=1)


# --- element-wise ------------------------------------------------------------------------------
def clip01(x):
    """``np.clip(x, 0, 1)`` as two ufuncs: the same values, without np.clip's Python wrapper,
    which costs more than the clipping itself at the Qayyarah size."""
    return np.minimum(np.maximum(x, 0.0), 1.0)


def clip01_plain(x):
    return np.clip(x, 0.0, 1.0)


def pairs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of every True of a 2-D mask (``np.nonzero``, faster through the flat index)."""
    flat = np.flatnonzero(mask)
    rows = flat // mask.shape[1]
    return rows, flat - rows * mask.shape[1]


def pairs_plain(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.nonzero(mask)


def distinct_rows(i: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``i`` (indices below ``n``), sorted, and the position of each element
    of ``i`` among them: ``np.unique(i, return_inverse=True)`` by scattering into an n-array
    instead of sorting (several times faster when n is small)."""
    present = np.zeros(n, dtype=bool)
    present[i] = True
    distinct = np.flatnonzero(present)
    position = np.zeros(n, dtype=np.int64)
    position[distinct] = np.arange(distinct.size)
    return distinct, position[i]


def distinct_rows_plain(i: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    distinct, position = np.unique(i, return_inverse=True)
    return distinct, position.reshape(-1)


def put2d(a: np.ndarray, rows: np.ndarray, cols: np.ndarray, values) -> None:
    """``a[rows, cols] = values`` through the flat index (faster for a C-contiguous array)."""
    np.put(a, rows * a.shape[1] + cols, values)


def put2d_plain(a: np.ndarray, rows: np.ndarray, cols: np.ndarray, values) -> None:
    a[rows, cols] = values


# --- allocation of places ----------------------------------------------------------------------
def first_in_pool(pool: np.ndarray, keys: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Mask of the candidates that get a place: in each pool, the ``free`` candidates with the
    smallest keys (``keys`` uniform on (0, 1)).

    Where a pool has room for all its candidates, all get one; elsewhere only the candidates
    under a cut-off are sorted, the cut-off chosen so that about twice the free places fall under
    it and lifted to 1 in a pool where fewer than its free places do: the same places as a sort of
    all candidates (``first_in_pool_plain``), for a sort of a few times the free places.
    """
    n = np.bincount(pool, minlength=free.size)
    room = n <= free                                  # pools with a place for every candidate
    cut = np.where(room, 0.0, 2.0 * np.maximum(free, 0) / np.maximum(n, 1))
    under = keys < cut[pool]
    short = ~room & (np.bincount(pool[under], minlength=free.size) < free)
    if short.any():
        cut[short] = np.inf
        under = keys < cut[pool]
    queue = np.flatnonzero(under)
    # the queue by key, then (stably) by pool: np.lexsort does the same several times slower
    by_key = queue[np.argsort(keys[queue])]
    small = pool.astype(np.int16) if free.size < 2**15 else pool  # a stable sort of int16 is a radix sort
    order = by_key[np.argsort(small[by_key], kind="stable")]
    chosen = room[pool]
    chosen[order] = _rank_in_pool(pool[order], free.size) < free[pool[order]]
    return chosen


def first_in_pool_plain(pool: np.ndarray, keys: np.ndarray, free: np.ndarray) -> np.ndarray:
    order = np.lexsort((keys, pool))
    chosen = np.zeros(pool.size, dtype=bool)
    chosen[order] = _rank_in_pool(pool[order], free.size) < free[pool[order]]
    return chosen


def _rank_in_pool(pool_sorted: np.ndarray, n_pools: int) -> np.ndarray:
    """Place of each candidate in its pool's queue (candidates sorted by pool)."""
    first = np.searchsorted(pool_sorted, np.arange(n_pools))
    return np.arange(pool_sorted.size) - first[pool_sorted]


# --- sums over blocks of consecutive rows ------------------------------------------------------
def segment_sums(columns: list[np.ndarray], order: np.ndarray | None, starts: np.ndarray,
                 cells: np.ndarray, n_cells: int) -> np.ndarray:
    """Sum of each column over each cell (n_cells x columns), for rows that come in blocks of
    one cell each (``order`` puts them so, or None if they already are; ``starts`` the first row
    of each block, ``cells`` its cell): the columns written into one rows x columns matrix and
    one ``np.add.reduceat`` over it, instead of a bincount per column."""
    sums = np.zeros((n_cells, len(columns)))
    if starts.size and columns:
        matrix = np.empty((columns[0].shape[0], len(columns)), order="F")  # columns written whole
        for j, c in enumerate(columns):
            matrix[:, j] = c
        sums[cells] = np.add.reduceat(matrix if order is None else matrix[order], starts, axis=0)
    return sums


def segment_sums_plain(columns: list[np.ndarray], cell_of_row: np.ndarray, n_cells: int) -> np.ndarray:
    return np.column_stack([np.bincount(cell_of_row, weights=np.asarray(c, dtype=float), minlength=n_cells)
                            for c in columns]) if columns else np.zeros((n_cells, 0))
