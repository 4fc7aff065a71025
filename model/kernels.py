"""Speed kernels: every trick that makes a week faster without changing what it computes.

The mechanism modules are written as their equations; where a plain numpy call is slow at the
model's sizes, they call a kernel from here instead. Each kernel sits beside its plain form
(``<name>_plain``), which is the specification: ``tests/test_kernels.py`` checks that the two
agree on generated inputs. Nothing here is a modelling choice.

Compiled kernels (numba, ``@compiled``) replace a chain of numpy calls over households by one
loop; at the Qayyarah size a week's cost is the fixed cost of its numpy calls, not the
arithmetic (docs/performance.md). They are compiled on first call and cached on disk
(``cache=True``: ``__pycache__`` beside this file, or ``NUMBA_CACHE_DIR``), so a process that
finds the cache pays no compilation. Each does the same float operations in the same order as
its plain form; only ``exp`` may differ in the last bit (libm against numpy's vectorised exp).
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit

compiled = functools.partial(njit, cache=True, nogil=True)
"""Decorator of the compiled kernels: nopython, cached on disk."""

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
    all candidates (``first_in_pool_plain``), for a sort of a few times the free places. The
    passes over the candidates are compiled; the sort is numpy's (faster than numba's at 10^5
    candidates and more).
    """
    pool, keys = np.ascontiguousarray(pool, dtype=np.int64), np.ascontiguousarray(keys, dtype=np.float64)
    free = np.ascontiguousarray(free, dtype=np.int64)
    chosen, queue = _pool_queue(pool, keys, free)
    _give_in_order(queue[np.argsort(keys[queue])], pool, free, chosen)
    return chosen


@compiled
def _pool_queue(pool, keys, free):
    """The candidates of pools with room for all (``chosen``) and the queue of the others under
    each pool's cut-off (``first_in_pool``)."""
    n_pools = free.size
    n = np.zeros(n_pools, dtype=np.int64)
    for c in range(pool.size):
        n[pool[c]] += 1
    cut = np.zeros(n_pools)
    for q in range(n_pools):
        if n[q] > free[q]:                           # no place for every candidate
            cut[q] = 2.0 * max(free[q], 0) / max(n[q], 1)
    under = np.zeros(n_pools, dtype=np.int64)
    for c in range(pool.size):
        if keys[c] < cut[pool[c]]:
            under[pool[c]] += 1
    for q in range(n_pools):
        if n[q] > free[q] and under[q] < free[q]:
            cut[q] = np.inf
    chosen = np.empty(pool.size, dtype=np.bool_)
    size = 0
    for c in range(pool.size):
        chosen[c] = n[pool[c]] <= free[pool[c]]
        if keys[c] < cut[pool[c]]:
            size += 1
    queue = np.empty(size, dtype=np.int64)
    size = 0
    for c in range(pool.size):
        if keys[c] < cut[pool[c]]:
            queue[size] = c
            size += 1
    return chosen, queue


@compiled
def _give_in_order(order, pool, free, chosen):
    """The queue by key: the first free[q] candidates of pool q get a place (in ``chosen``)."""
    given = np.zeros(free.size, dtype=np.int64)
    for c in order:
        chosen[c] = given[pool[c]] < free[pool[c]]
        given[pool[c]] += 1


def targeted_first_in_pool(pool: np.ndarray, group: np.ndarray, keys: np.ndarray, free: np.ndarray,
                           quota: np.ndarray) -> np.ndarray:
    """Mask of the candidates given a place where places are held for groups: in each pool the
    ``quota[pool, g]`` places held for group g go to g's candidates with the smallest keys, then
    the places left (``free`` less those given) to the other candidates with the smallest keys."""
    return _targeted(np.ascontiguousarray(pool, dtype=np.int64), np.ascontiguousarray(group, dtype=np.int64),
                     np.ascontiguousarray(keys, dtype=np.float64), np.ascontiguousarray(free, dtype=np.int64),
                     np.ascontiguousarray(quota, dtype=np.int64))


def _targeted(pool, group, keys, free, quota):
    first = first_in_pool(pool * quota.shape[1] + group, keys, quota.ravel())
    left = _less_given(free, pool, first)
    rest = np.flatnonzero(~first)
    first[rest[first_in_pool(pool[rest], keys[rest], left)]] = True
    return first


@compiled
def _less_given(free, pool, given):
    """``free`` less the places given in each pool (``free - bincount(pool[given])``)."""
    left = free.copy()
    for c in range(pool.size):
        if given[c]:
            left[pool[c]] -= 1
    return left


def targeted_first_in_pool_plain(pool, group, keys, free, quota) -> np.ndarray:
    ng = quota.shape[1]
    first = first_in_pool_plain(pool * ng + group, keys, quota.ravel())
    left = free - np.bincount(pool[first], minlength=free.size)
    rest = np.flatnonzero(~first)
    chosen = first.copy()
    chosen[rest[first_in_pool_plain(pool[rest], keys[rest], left)]] = True
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


# --- compiled kernels --------------------------------------------------------------------------
def poisson_inverse(u: np.ndarray, mean: np.ndarray, max_count: int) -> np.ndarray:
    """Poisson counts with means ``mean`` from uniforms ``u`` (1-D, same length) by inversion of
    the cumulative distribution: the smallest k with P(K <= k) > u, at most ``max_count``."""
    return _poisson_inverse(np.ascontiguousarray(u, dtype=np.float64),
                            np.ascontiguousarray(mean, dtype=np.float64), max_count)


@compiled
def _poisson_inverse(u, mean, max_count):
    k = np.zeros(u.size)
    for n in range(u.size):
        k[n] = _poisson_one(u[n], mean[n], max_count)
    return k


@compiled
def _poisson_one(u, mean, max_count):
    term = np.exp(-mean)   # P(K = j)
    cdf = term             # P(K <= j)
    j = 0
    while j < max_count and u >= cdf:
        j += 1
        term = term * mean / j
        cdf = cdf + term
    return float(j)


def poisson_inverse_plain(u: np.ndarray, mean: np.ndarray, max_count: int) -> np.ndarray:
    term = np.exp(-mean)        # P(K = k)
    cdf = term.copy()           # P(K <= k)
    k = np.zeros(u.shape)
    for j in range(1, max_count + 1):
        above = u >= cdf
        if not above.any():
            break
        k += above
        term = term * mean / j
        cdf = cdf + term
    return k


@compiled
def upward_gap_sums(src, dst, x, n):
    """Per household, the sum over its ties of max(x_j - x_i, 0), each tie once (the worse-off
    end gets the difference): the sums over tie sources, then over tie destinations, added."""
    by_src = np.zeros(n)
    by_dst = np.zeros(n)
    for t in range(src.size):
        d = x[dst[t]] - x[src[t]]
        up = max(d, 0.0)
        by_src[src[t]] += up
        by_dst[dst[t]] += up - d
    return by_src + by_dst


def upward_gap_sums_plain(src, dst, x, n):
    d = x[dst] - x[src]
    up = np.maximum(d, 0.0)
    return np.bincount(src, weights=up, minlength=n) + np.bincount(dst, weights=up - d, minlength=n)


@compiled
def village_tallies(village, group, present, enrolled, visibility, mediation_dose, capacity_dose,
                    attitude, n_villages):
    """One pass over the households for the village equations of tension (model/tension.py):
    per village the summed mediation and capacity doses (all households), per village and group
    the visibility-weighted households served and the households present (``served``,
    ``households``), and per village the mean attitude towards other groups of the present."""
    ng = attitude.shape[1]
    dose = np.zeros(n_villages)
    cap = np.zeros(n_villages)
    served = np.zeros((n_villages, ng))
    households = np.zeros((n_villages, ng))
    att = np.zeros(n_villages)
    count = np.zeros(n_villages)
    for i in range(village.size):
        v = village[i]
        dose[v] += mediation_dose[i]
        cap[v] += capacity_dose[i]
        if not present[i]:
            continue
        seen = 0.0
        for k in range(enrolled.shape[1]):
            if enrolled[i, k] and visibility[k] > seen:
                seen = visibility[k]
        served[v, group[i]] += seen
        households[v, group[i]] += 1.0
        s = 0.0
        for h in range(ng):
            if h != group[i]:
                s += attitude[i, h]
        att[v] += s / (ng - 1)
        count[v] += 1.0
    return dose, cap, served, households, att / np.maximum(count, 1.0)


def village_tallies_plain(village, group, present, enrolled, visibility, mediation_dose, capacity_dose,
                          attitude, n_villages):
    ng = attitude.shape[1]
    served_by = np.zeros(village.size)
    for level in np.unique(visibility[visibility > 0]):  # ascending: the most visible wins
        served_by = np.where(enrolled[:, visibility == level].any(axis=1), level, served_by)
    cell = village.astype(np.int64) * ng + group
    other = group[:, None] != np.arange(ng)
    mean_att = (attitude * other).sum(axis=1) / (ng - 1)
    return (np.bincount(village, weights=mediation_dose, minlength=n_villages),
            np.bincount(village, weights=capacity_dose, minlength=n_villages),
            np.bincount(cell, weights=served_by * present, minlength=n_villages * ng).reshape(n_villages, ng),
            np.bincount(cell, weights=present.astype(float), minlength=n_villages * ng).reshape(n_villages, ng),
            np.bincount(village, weights=mean_att * present, minlength=n_villages)
            / np.maximum(np.bincount(village, weights=present.astype(float), minlength=n_villages), 1))


# --- contact: exposure of the week's members of mixed entries ----------------------------------
@compiled
def pool_exposures(k, i, pool, group, n_pools, contact, dialogue, n, ng):
    """For (entry k, household i, pool) triples (households in index order within each entry):
    the households met (sorted) and, per met household and group h, the sum over its entries of
    the entry's ``contact`` (and ``dialogue``) strength times the share of h among the other
    members of its pool; 0 towards the household's own group (model/contact.py, ``exposures``)."""
    counts = np.zeros((n_pools, ng))
    for t in range(i.size):
        counts[pool[t], group[i[t]]] += 1.0
    row = np.full(n, -1)
    for t in range(i.size):
        row[i[t]] = 0
    met = np.flatnonzero(row == 0)
    for r in range(met.size):
        row[met[r]] = r
    e = np.zeros((met.size, ng))
    d = np.zeros((met.size, ng))
    others = np.zeros(ng)
    for t in range(i.size):
        g = group[i[t]]
        total = 0.0
        for h in range(ng):
            others[h] = counts[pool[t], h] - (1.0 if h == g else 0.0)
            total += others[h]
        total = max(total, 1.0)
        r = row[i[t]]
        for h in range(ng):
            share = others[h] / total
            e[r, h] += contact[k[t]] * share
            d[r, h] += dialogue[k[t]] * share
    for r in range(met.size):
        e[r, group[met[r]]] = 0.0
        d[r, group[met[r]]] = 0.0
    return met, e, d


def pool_exposures_plain(k, i, pool, group, n_pools, contact, dialogue, n, n_groups):
    g = group[i]
    counts = np.bincount(pool * n_groups + g, minlength=n_pools * n_groups).reshape(n_pools, n_groups)
    others = counts[pool] - np.eye(n_groups)[g]
    shares = others / np.maximum(others.sum(axis=1), 1)[:, None]
    met, row = np.unique(i, return_inverse=True)
    other = group[met][:, None] != np.arange(n_groups)
    e = np.zeros((met.size, n_groups))
    d = np.zeros((met.size, n_groups))
    np.add.at(e, row, contact[k][:, None] * shares)
    np.add.at(d, row, dialogue[k][:, None] * shares)
    return met, e * other, d * other


# --- whole mechanisms over households ----------------------------------------------------------
@compiled
def stressors_week(need, barriers, wellbeing, wellbeing0, coping, coping0, stress0, tension, tension0, village,
                   present, new_src, new_dst, gap, dose_need, dose_barriers, dose_wellbeing, need_relief,
                   barrier_relief, theta_coping, theta_stress, theta_ties, theta_tension, ties_half, wellbeing_rate,
                   alpha_wellbeing, mood_contagion):
    """The week of model/stressors.py over all households, in one pass (new need, barriers and
    WEMWBS score; ``gap`` is the mean upward gap of well-being shares, ``new_src``/``new_dst``
    the ties made in activities). The equations are model/stressors.py's, in the same order:

        m' = clip(m - need_relief * D_need * m),   b' likewise,   stress = (m' + b') / 2
        x* = clip(x0 + theta_coping (c - c0) - theta_stress (stress (1 - c) - stress0 (1 - c0))
                  + theta_ties sigma - theta_tension dT_v)
        x' = clip(x + wellbeing_rate (x* - x) + alpha_wellbeing D_wellbeing (1 - x) + mood_contagion G)
    """
    n = need.size
    made = np.zeros(n)
    for t in range(new_src.size):
        made[new_src[t]] += 1.0
    for t in range(new_dst.size):
        made[new_dst[t]] += 1.0
    need2, barriers2, score = np.empty(n), np.empty(n), np.empty(n)
    for i in range(n):
        m = _clip01(need[i] + -need_relief * dose_need[i] * need[i])
        b = _clip01(barriers[i] + -barrier_relief * dose_barriers[i] * barriers[i])
        x = (wellbeing[i] - 14.0) / (70.0 - 14.0)
        sigma = made[i] / (made[i] + ties_half)
        dt = tension[village[i]] - tension0[village[i]] if present[i] else 0.0
        s, c = 0.5 * (m + b), coping[i]
        x_eq = _clip01(wellbeing0[i] + theta_coping * (c - coping0[i])
                       - theta_stress * (s * (1.0 - c) - stress0[i] * (1.0 - coping0[i]))
                       + theta_ties * sigma - theta_tension * dt)
        change = (wellbeing_rate * (x_eq - x) + alpha_wellbeing * dose_wellbeing[i] * (1.0 - x)
                  + mood_contagion * gap[i])
        need2[i], barriers2[i], score[i] = m, b, 14.0 + _clip01(x + change) * (70.0 - 14.0)
    return need2, barriers2, score


@compiled
def _clip01(x):
    return min(max(x, 0.0), 1.0)


@compiled
def legitimise(attitude, anchor, group, village, leadership, here, cac_seen, present, rate, w_cac_seen):
    """model/legitimisation.py's update over all households, in place:
    S_i = L_v * M_v + w_cac_seen * C_i (0 if absent), dA_ih = rate * S_i * (1 - A_ih) for every other
    group h, added to attitude and anchor, each clipped to [0, 1]."""
    for i in range(attitude.shape[0]):
        if not present[i]:
            continue
        s = leadership[village[i]] * here[village[i]] + w_cac_seen * cac_seen[i]
        for h in range(attitude.shape[1]):
            if h != group[i]:
                da = rate * s * (1.0 - attitude[i, h])
                attitude[i, h] = _clip01(attitude[i, h] + da)
                anchor[i, h] = _clip01(anchor[i, h] + da)


@compiled
def contact_week(met, e, d, u, bonus, has_bonus, attitude, anchor, familiarity, contact_pos, contact_neg, group,
                 coping, wellbeing, tension, village, w_ready_coping, w_ready_wellbeing, w_ready_familiarity,
                 w_ready_tension, w_ready_intensity, readiness_steepness, readiness_threshold, encounters_per_exposure,
                 contact_neg_ratio, alpha_contact_pos, alpha_dialogue, familiarity_rate, max_count):
    """model/contact.py's week for the households ``met`` (rows of ``e``, ``d``), in place: readiness,
    positivity q, the positive and negative encounters (Poisson counts by inversion of ``u[0]``
    and ``u[1]``), the changes of attitude (and anchor) and familiarity towards every other
    group, and the counts of encounters. The equations are model/contact.py's (``readiness``,
    ``positivity``, ``encounters``, ``attitude_change``, ``familiarity_change``), in the same order."""
    m = encounters_per_exposure
    alpha_neg = contact_neg_ratio * alpha_contact_pos
    for r in range(met.size):
        i = met[r]
        x = (wellbeing[i] - 14.0) / (70.0 - 14.0)
        t = tension[village[i]]
        n_pos = 0.0
        n_neg = 0.0
        for h in range(e.shape[1]):
            if h == group[i]:
                continue
            a, fam = attitude[i, h], familiarity[i, h]
            ready = (w_ready_coping * coping[i] + w_ready_wellbeing * x + w_ready_familiarity * fam
                     - w_ready_tension * t - w_ready_intensity * e[r, h] * (1.0 - fam))
            if has_bonus:
                ready = ready + bonus[i, h]
            q = 1.0 / (1.0 + np.exp(-readiness_steepness * (ready - readiness_threshold)))
            pos = _poisson_one(u[0, r, h], m * e[r, h] * q, max_count)
            neg = _poisson_one(u[1, r, h], m * e[r, h] * (1.0 - q), max_count)
            da = ((alpha_contact_pos * pos * (1.0 - a) - alpha_neg * neg * a) / m
                  + alpha_dialogue * d[r, h] * fam * q * (1.0 - a))
            attitude[i, h] = _clip01(a + da)
            anchor[i, h] = _clip01(anchor[i, h] + da)
            familiarity[i, h] = _clip01(fam + familiarity_rate * ((pos + neg) / m + d[r, h]) * (1.0 - fam))
            n_pos += pos
            n_neg += neg
        contact_pos[i] += n_pos
        contact_neg[i] += n_neg


# --- participation: who wants a place -----------------------------------------------------------
@compiled
def join_candidates(ks, rows, u_all, eligible, enrolled, free, pool_offset, by_village, village, wellbeing,
                    max_wellbeing, pull, need, mean_attitude, threshold, terms, join_rate, steepness):
    """The households that want a place in the active entries ``rows`` (row a of ``u_all``, the
    week's join draws, and column a of ``enrolled`` are entry ks[a]), in the order (entry,
    household): eligible, not enrolled,
    in a pool with a free place, under the entry's well-being ceiling, and whose draw u is
    under p_ik (model/participation.py: ``willingness``, ``join_probability``; p_ik <= join_rate,
    so only draws under join_rate are looked at). Returns their household, entry, pool and key
    u / p_ik, by which the places are given."""
    count = 0
    for a in rows:
        for i in range(u_all.shape[1]):
            if u_all[a, i] < join_rate and eligible[ks[a], i] and not enrolled[i, a]:
                count += 1
    hh = np.empty(count, dtype=np.int64)
    entry = np.empty(count, dtype=np.int64)
    pool = np.empty(count, dtype=np.int64)
    key = np.empty(count)
    n = 0
    for a in rows:
        k = ks[a]
        for i in range(u_all.shape[1]):
            u = u_all[a, i]
            if not (u < join_rate and eligible[k, i] and not enrolled[i, a]):
                continue
            q = pool_offset[k] + village[i] * by_village[k]
            if free[q] <= 0 or wellbeing[i] > max_wellbeing[k]:
                continue
            z = pull[i] + terms[k, 0] * need[i] + terms[k, 1] - terms[k, 2] * (1.0 - mean_attitude[i])
            prob = join_rate / (1.0 + np.exp(-steepness * (z - threshold[i])))
            if u < prob:
                hh[n], entry[n], pool[n], key[n] = i, k, q, u / prob
                n += 1
    return hh[:n], entry[:n], pool[:n], key[:n]


@compiled
def influence_week(attitude, num, den, gap, anchor, stubbornness, group, rate):
    """model/influence.py's week, the new attitudes: m_ih = num_ih / den_ih (the weighted mean
    attitude of the neighbours outside h; the own attitude where there are none) less the
    standing gap g_ih, then dA_ih = rate * ((1 - s_i) (m_ih - A_ih) + s_i (anchor_ih - A_ih)) for
    every other group h (``fj_change``), clipped to [0, 1]."""
    new = np.empty_like(attitude)
    for i in range(attitude.shape[0]):
        s = stubbornness[i]
        for h in range(attitude.shape[1]):
            a = attitude[i, h]
            if h == group[i]:
                new[i, h] = _clip01(a)
                continue
            m = (num[i, h] / den[i, h] if den[i, h] > 0 else a) - gap[i, h]
            new[i, h] = _clip01(a + rate * ((1.0 - s) * (m - a) + s * (anchor[i, h] - a)))
    return new


# --- participation's week (leaving, enrolled pairs, free places, quotas) ------------------------


# --- ties, doses, tension, acknowledgement, pss, recall -----------------------------------------


# --- observation and survey ------------------------------------------------------------------------


def load() -> None:
    """Start numba and load one cached kernel: about 0.2 s once per process, paid by whichever
    kernel is called first. The runner's fork server calls it (runner/preload.py), so that the
    workers forked from it start with it done."""
    poisson_inverse(np.zeros(1), np.zeros(1), 1)
