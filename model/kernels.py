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
    smallest keys (``keys`` uniform on (0, 1)), ties broken by candidate order.

    Where a pool has room for all its candidates, all get one; elsewhere only the candidates
    under a cut-off are looked at, the cut-off chosen so that about twice the free places fall
    under it and lifted to 1 in a pool where fewer than its free places do, and among them the
    key of rank free[q] is selected (no sort): the same places as a stable sort of all candidates
    (``first_in_pool_plain``). Compiled whole (``_first_in_pool``).
    """
    return _first_in_pool(np.ascontiguousarray(pool, dtype=np.int64), np.ascontiguousarray(keys, dtype=np.float64),
                          np.ascontiguousarray(free, dtype=np.int64))


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
        under[pool[c]] += keys[c] < cut[pool[c]]
    for q in range(n_pools):
        if n[q] > free[q] and under[q] < free[q]:
            cut[q] = np.inf
    chosen = np.empty(pool.size, dtype=np.bool_)
    queue = np.empty(pool.size, dtype=np.int64)
    size = 0
    for c in range(pool.size):  # without branches: c is written, the size moves if it is under the cut
        chosen[c] = n[pool[c]] <= free[pool[c]]
        queue[size] = c
        size += keys[c] < cut[pool[c]]
    return chosen, queue[:size]


def targeted_first_in_pool(pool: np.ndarray, group: np.ndarray, keys: np.ndarray, free: np.ndarray,
                           quota: np.ndarray) -> np.ndarray:
    """Mask of the candidates given a place where places are held for groups: in each pool the
    ``quota[pool, g]`` places held for group g go to g's candidates with the smallest keys, then
    the places left (``free`` less those given) to the other candidates with the smallest keys.
    Compiled whole (``_targeted_first_in_pool``)."""
    return _targeted_first_in_pool(np.ascontiguousarray(pool, dtype=np.int64),
                                   np.ascontiguousarray(group, dtype=np.int64),
                                   np.ascontiguousarray(keys, dtype=np.float64),
                                   np.ascontiguousarray(free, dtype=np.int64),
                                   np.ascontiguousarray(quota, dtype=np.int64))


@compiled
def _less_given(free, pool, given):
    """``free`` less the places given in each pool (``free - bincount(pool[given])``)."""
    left = free.copy()
    for c in range(pool.size):
        left[pool[c]] -= given[c]
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
    n_hh = u_all.shape[1]
    m = 0
    for a in rows:  # how many are looked at (without branches: the passes are random)
        k = ks[a]
        for i in range(n_hh):
            m += (u_all[a, i] < join_rate) & eligible[k, i] & ~enrolled[i, a]
    hh = np.empty(m, dtype=np.int64)
    entry = np.empty(m, dtype=np.int64)
    pool = np.empty(m, dtype=np.int64)
    key = np.empty(m)
    looked = np.empty(n_hh, dtype=np.int64)  # an entry's households looked at
    n = 0
    for a in rows:
        k = ks[a]
        m = 0
        for i in range(n_hh):  # without branches: i is written, the count moves if it is looked at
            looked[m] = i
            m += (u_all[a, i] < join_rate) & eligible[k, i] & ~enrolled[i, a]
        for i in looked[:m]:
            q = pool_offset[k] + village[i] * by_village[k]
            if free[q] <= 0 or wellbeing[i] > max_wellbeing[k]:
                continue
            u = u_all[a, i]
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


# --- tension: the village equations ------------------------------------------------------------
@compiled
def _numpy_sum(x):
    """``x.sum()`` of a short contiguous row in numpy's order (its pairwise sum: in order below 8
    values, else eight partial sums added in pairs, then the rest in order; numpy's for up to 128
    values, the groups of a village are at most 8)."""
    n = x.size
    if n < 8:
        res = -0.0
        for j in range(n):
            res += x[j]
        return res
    r = x[:8].copy()
    j = 8
    while j < n - n % 8:
        for b in range(8):
            r[b] += x[j + b]
        j += 8
    res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    while j < n:
        res += x[j]
        j += 1
    return res


@compiled
def tension_week(tension, tension0, mediation, capacity, mediation_sessions, last_incident, week, offer, active,
                 village, group, present, enrolled, visibility, mediation_dose, capacity_dose, attitude,
                 expected_cac, expected_trainees, village_attitude0, mediation_trigger, response_weeks,
                 mediation_gain, mediation_decay, capacity_sustain, capacity_gain, tension_relax, mediation_rate,
                 support_jealousy):
    """model/tension.py's week (``Tension.plain``): the village tallies (``village_tallies``), then
    village by village the on-demand sessions O_v = demand_v * offered_v (``demand``; added to
    ``mediation_sessions`` in place), dM_v and dK_v (``mediation_change``, ``capacity_change``,
    each clipped), U_v (``unfairness``) and dtension_v (``tension_change``, clipped), in the same
    order. Returns the new tension, mediation, capacity and unfairness."""
    dose, cap, served, households, a_v = village_tallies(village, group, present, enrolled, visibility,
                                                        mediation_dose, capacity_dose, attitude, tension.size)
    ng = served.shape[1]
    t_new, m_new, k_new, u_new = (np.empty(tension.size), np.empty(tension.size), np.empty(tension.size),
                                  np.empty(tension.size))
    pi, s, term = np.empty(ng), np.empty(ng), np.empty(ng)
    for v in range(tension.size):
        offered = 0.0
        for a in active:
            offered += offer[a, v]
        t = tension[v]
        excess = _clip01((t - mediation_trigger) / max(1.0 - mediation_trigger, 1e-9))
        on_demand = max(excess, 1.0 if week - last_incident[v] < response_weeks else 0.0) * offered
        mediation_sessions[v] += on_demand
        dose_v, cap_v = dose[v] / expected_cac[v], cap[v] / expected_trainees[v]
        m, k = mediation[v], capacity[v]
        m = _clip01(m + (mediation_gain * (dose_v + on_demand) * (1.0 - m)
                         - mediation_decay * (1.0 - capacity_sustain * k) * m))
        k = _clip01(k + (capacity_gain * cap_v * (1.0 - k) - mediation_decay * k))
        n_v = _numpy_sum(households[v])
        for g in range(ng):
            pi[g] = households[v, g] / max(n_v, 1.0)
            s[g] = served[v, g] / max(households[v, g], 1.0)
            term[g] = pi[g] * s[g]
        s_bar = _numpy_sum(term)
        for g in range(ng):
            term[g] = pi[g] * max(s_bar - s[g], 0.0)
        u = _numpy_sum(term)
        target = tension0[v] * (1.0 - a_v[v]) / max(1.0 - village_attitude0[v], 1e-9)
        dt = tension_relax * (target - t) - mediation_rate * m * t + support_jealousy * u * (1.0 - t)
        t_new[v], m_new[v], k_new[v], u_new[v] = _clip01(t + dt), m, k, u
    return t_new, m_new, k_new, u_new


# --- the network's sums: influence, legitimisation, stressors, neighbours who joined --------------
# The baseline ties are SocialNetwork.base (CSR: indptr, indices, data), the ties made by activities
# its new_rows / new_cols (both directions, sorted by row then column: the CSR order). scipy's
# product sums each row's entries in CSR order into 0.0 (data * value) and np.bincount the
# activity ties' values in their order into 0.0; the kernels add them the same way, row by row.
@compiled
def neighbour_share(indptr, indices, data, new_rows, new_cols, flags, degree, out):
    """Into ``out``: the share of each household's neighbours (all ties) whose flag is set,
    ``SocialNetwork.neighbour_mean(flags.astype(float))``: the baseline product plus, if there are
    activity ties, their sum, over max(degree, 1)."""
    one = np.array([0.0, 1.0])  # a flag's value (no branch)
    has_new = new_rows.size > 0
    t = 0
    for i in range(indptr.size - 1):
        s = 0.0
        for jj in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
            s += data[jj] * one[np.uint64(flags[np.uint64(indices[jj])])]
        if has_new:
            e = 0.0
            while t < new_rows.size and new_rows[t] == i:
                e += one[np.uint64(flags[np.uint64(new_cols[t])])]
                t += 1
            s = s + e
        out[i] = s / max(degree[i], 1.0)
    return out


def neighbour_share_plain(indptr, indices, data, new_rows, new_cols, flags, degree, out):
    import scipy.sparse as sp
    values = flags.astype(float)
    base = sp.csr_matrix((data, indices, indptr), shape=(indptr.size - 1, flags.size))
    total = base @ values
    if new_rows.size:
        total = total + np.bincount(new_rows, weights=values[new_cols], minlength=flags.size)
    out[:] = total / np.maximum(degree, 1.0)
    return out


@compiled
def influence_network_week(indptr, indices, new_rows, new_cols, group, attitude, w, den, gap, anchor, stubbornness,
                           rate, values, new):
    """model/influence.py's week into ``new``: the neighbours' attitudes towards each group held
    by non-members (``attitude * other_mask``, other_mask = holders, into ``values``, N x groups
    from numpy), then one household at a time num_ih, their weighted sum over its ties
    (``weighted_sum(values, w)``: in-group ties weigh 1, out-group ones ``w``, activity ties
    ``w``), three groups at a time, and ``influence_week``'s update with den
    (``weighted_ties_to_non_members``)."""
    n, ng = attitude.shape
    for j in range(n):
        for h in range(ng):
            values[j, h] = attitude[j, h] * (1.0 if group[j] != h else 0.0)
    weight = np.array([w, 1.0])  # by whether the neighbour is of one's group (no branch)
    has_new = new_rows.size > 0
    t = 0
    for i in range(n):
        gi = group[i]
        t1 = t
        while t1 < new_rows.size and new_rows[t1] == i:
            t1 += 1
        for h0 in range(0, ng, 3):
            # three groups at a time (the last repeated past the last group, unused); unsigned
            # indices spare numba's check for negative ones, which halves the speed of these loops
            u0, h1, h2 = np.uint64(h0), np.uint64(min(h0 + 1, ng - 1)), np.uint64(min(h0 + 2, ng - 1))
            a0 = a1 = a2 = 0.0
            for jj in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                j = np.uint64(indices[jj])
                wt = weight[np.uint64(group[j] == gi)]
                a0 += wt * values[j, u0]
                a1 += wt * values[j, h1]
                a2 += wt * values[j, h2]
            if has_new:
                e0 = e1 = e2 = 0.0
                for u in range(t, t1):
                    j = np.uint64(new_cols[u])
                    e0 += values[j, u0]
                    e1 += values[j, h1]
                    e2 += values[j, h2]
                a0, a1, a2 = a0 + w * e0, a1 + w * e1, a2 + w * e2
            new[i, h0] = a0  # num_ih, until the update below
            if h0 + 1 < ng:
                new[i, h0 + 1] = a1
            if h0 + 2 < ng:
                new[i, h0 + 2] = a2
        s = stubbornness[i]
        for h in range(ng):  # influence_week's update
            a = attitude[i, h]
            if h == gi:
                new[i, h] = _clip01(a)
                continue
            m = (new[i, h] / den[i, h] if den[i, h] > 0 else a) - gap[i, h]
            new[i, h] = _clip01(a + rate * ((1.0 - s) * (m - a) + s * (anchor[i, h] - a)))
        t = t1
    return new


@compiled
def legitimise_network_week(members, cac, village, leadership, indptr, indices, data, new_rows, new_cols, degree,
                            attitude, anchor, group, present, rate, w_cac_seen, mixing, here):
    """model/legitimisation.py's week, in place: the households of mixed entries (``members``,
    into ``mixing``, zeros from numpy), the villages where some take part (``here``, zeros), the
    share C_i of each present household's neighbours who are CAC members taking part (as
    ``neighbour_share``), then ``legitimise``'s update of attitude and anchor."""
    for r in range(members.size):
        mixing[members[r]] = True
    for i in range(village.size):
        if mixing[i]:
            here[village[i]] = 1.0
    one = np.array([0.0, 1.0])  # a flag's value (no branch)
    has_new = new_rows.size > 0
    t = 0
    for i in range(village.size):
        if not present[i]:
            while t < new_rows.size and new_rows[t] == i:
                t += 1
            continue
        s = 0.0
        for jj in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
            j = np.uint64(indices[jj])
            s += data[jj] * one[np.uint64(cac[j] & mixing[j])]
        if has_new:
            e = 0.0
            while t < new_rows.size and new_rows[t] == i:
                j = np.uint64(new_cols[t])
                e += one[np.uint64(cac[j] & mixing[j])]
                t += 1
            s = s + e
        seen = s / max(degree[i], 1.0)
        v = village[i]
        sig = leadership[v] * here[v] + w_cac_seen * seen
        for h in range(attitude.shape[1]):
            if h != group[i]:
                da = rate * sig * (1.0 - attitude[i, h])
                attitude[i, h] = _clip01(attitude[i, h] + da)
                anchor[i, h] = _clip01(anchor[i, h] + da)


@compiled
def upward_gap_csr(indptr, indices, ends, n_base, n_ties, csr_order, x, by_src, by_dst, made):
    """``upward_gap_sums`` of the ties ``ends[:, :n_ties]`` (baseline ties first, then those made in
    activities) into ``by_src`` and ``by_dst`` (their sum is G's numerator), and the activity ties
    of each household into ``made`` (zeros). With ``csr_order`` (baseline ties src < dst sorted
    by (src, dst), rows' indices sorted) a household's baseline ties as source are its CSR row's
    columns above it, in order, and as destination those below it: summed row by row, each in
    the order of the tie list; otherwise tie by tie."""
    if csr_order:
        for i in range(indptr.size - 1):
            xi = x[i]
            below = 0.0
            above = 0.0
            for jj in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                j = indices[jj]
                xj = x[np.uint64(j)]
                if j < i:  # tie (j, i): i its destination
                    d = xi - xj
                    below += max(d, 0.0) - d
                else:      # tie (i, j): i its source
                    above += max(xj - xi, 0.0)
            by_src[i], by_dst[i] = above, below
        first = n_base
    else:
        by_src[:] = 0.0
        by_dst[:] = 0.0
        first = 0
    for t in range(first, n_ties):
        s, d_ = np.uint64(ends[0, t]), np.uint64(ends[1, t])
        d = x[d_] - x[s]
        up = max(d, 0.0)
        by_src[s] += up
        by_dst[d_] += up - d
        if t >= n_base:
            made[s] += 1.0
            made[d_] += 1.0


@compiled
def stressors_network_week(indptr, indices, ends, n_base, n_ties, csr_order, degree, need, barriers, wellbeing,
                           wellbeing0, coping, coping0, stress0, tension, tension0, village, present, dose_need,
                           dose_barriers, dose_wellbeing, need_relief, barrier_relief, theta_coping, theta_stress,
                           theta_ties, theta_tension, ties_half, wellbeing_rate, alpha_wellbeing, mood_contagion, work,
                           need2, barriers2, score):
    """model/stressors.py's week with G computed here: the well-being shares x into ``work[0]``,
    ``upward_gap_csr`` into ``work[1]``, ``work[2]`` and the activity ties into ``work[3]``
    (``work`` 4 x N from numpy), G = (by_src + by_dst) / max(degree, 1), then the equations of
    ``stressors_week`` into ``need2``, ``barriers2``, ``score``."""
    x, by_src, by_dst, made = work[0], work[1], work[2], work[3]
    for i in range(x.size):
        x[i] = (wellbeing[i] - 14.0) / (70.0 - 14.0)
        made[i] = 0.0
    upward_gap_csr(indptr, indices, ends, n_base, n_ties, csr_order, x, by_src, by_dst, made)
    for i in range(x.size):
        gap = (by_src[i] + by_dst[i]) / max(degree[i], 1.0)
        m = _clip01(need[i] + -need_relief * dose_need[i] * need[i])
        b = _clip01(barriers[i] + -barrier_relief * dose_barriers[i] * barriers[i])
        xi = x[i]
        sigma = made[i] / (made[i] + ties_half)
        dt = tension[village[i]] - tension0[village[i]] if present[i] else 0.0
        s, c = 0.5 * (m + b), coping[i]
        x_eq = _clip01(wellbeing0[i] + theta_coping * (c - coping0[i])
                       - theta_stress * (s * (1.0 - c) - stress0[i] * (1.0 - coping0[i]))
                       + theta_ties * sigma - theta_tension * dt)
        change = (wellbeing_rate * (x_eq - xi) + alpha_wellbeing * dose_wellbeing[i] * (1.0 - xi)
                  + mood_contagion * gap)
        need2[i], barriers2[i], score[i] = m, b, 14.0 + _clip01(xi + change) * (70.0 - 14.0)


# --- participation's week (leaving, enrolled pairs, free places, quotas) ------------------------
@compiled
def end_and_count(weeks_left, ending, ks):
    """Entries over (``ending``, not handed over) end for all their members (``weeks_left`` set to
    0); returns the number of members of the active entries ``ks``, who draw one number each for
    leaving early (``Participation.plain``: model/participation.py, ``leave_and_join``)."""
    n = weeks_left.shape[0]
    for k in ending:
        for i in range(n):
            weeks_left[i, k] = 0
    count = 0
    for k in ks:
        for i in range(n):
            count += weeks_left[i, k] > 0
    return count


@compiled
def participation_week(weeks_left, ks, u_leave, u_all, dropout_rate, places, pool_offset, by_village, village,
                       group, shares, eligible, wellbeing, max_wellbeing, nb_joined, encouraging, leadership, coping,
                       stigma, need, attitude, other, threshold, terms, weights, join_rate, steepness, cycle_weeks):
    """Leaving and joining of the active entries ``ks`` (row a of ``u_all``, the week's join draws,
    is entry ks[a]; ``u_leave`` one draw per member, entries in programme order, members in index
    order), writing ``weeks_left`` (``Participation.plain``: model/participation.py,
    ``leave_and_join``): members leave early with probability ``dropout_rate`` (``_leave``); the
    places free in each pool are its places less the members who stay; where ``shares`` has
    columns (targeting) each group holds ``place_quotas`` of them; the candidates are those of
    ``join_candidates``, with the shared willingness ``base_pull`` and the mean attitude to the
    other groups (``_household_pull``); the places go to the smallest keys of each pool
    (``targeted_first_in_pool``, or ``first_in_pool`` without targeting)."""
    ng = shares.shape[1]  # 0: no places held for groups
    enrolled, taken, taken_g = _leave(weeks_left, ks, u_leave, dropout_rate, places.size, pool_offset, by_village,
                                      village, group, ng)
    free = places - taken
    rows = _with_room(ks, free, pool_offset)
    if rows.size == 0:
        return
    pull, mean_attitude = _household_pull(weights, nb_joined, encouraging, leadership, village, coping, stigma,
                                          attitude, other)
    hh, entry, pool, key = join_candidates(ks, rows, u_all, eligible, enrolled, free, pool_offset, by_village, village,
                                           wellbeing, max_wellbeing, pull, need, mean_attitude, threshold, terms,
                                           join_rate, steepness)
    if ng == 0:
        chosen = _first_in_pool(pool, key, free)
    else:
        cand_group = np.empty(hh.size, dtype=np.int64)
        for c in range(hh.size):
            cand_group[c] = group[hh[c]]
        chosen = _targeted_first_in_pool(pool, cand_group, key, free, _place_quotas(places, taken_g, free, shares))
    for c in range(hh.size):
        if chosen[c]:
            weeks_left[hh[c], entry[c]] = cycle_weeks[entry[c]]


@compiled
def _leave(weeks_left, ks, u_leave, dropout_rate, n_pools, pool_offset, by_village, village, group, ng):
    """Members of the active entries leave early where their draw is under ``dropout_rate``
    (``weeks_left`` set to 0); returns who stays enrolled (households x active entries) and the
    places they take in each pool, and in each pool and group if ``ng`` > 0."""
    n = weeks_left.shape[0]
    taken = np.zeros(n_pools, dtype=np.int64)
    taken_g = np.zeros((n_pools, max(ng, 1)), dtype=np.int64)
    enrolled = np.zeros((n, ks.size), dtype=np.bool_)
    c = 0
    for a in range(ks.size):
        k = ks[a]
        for i in range(n):
            if weeks_left[i, k] > 0:
                if u_leave[c] < dropout_rate:
                    weeks_left[i, k] = 0
                else:
                    enrolled[i, a] = True
                    q = pool_offset[k] + village[i] * by_village[k]
                    taken[q] += 1
                    if ng > 0:
                        taken_g[q, group[i]] += 1
                c += 1
    return enrolled, taken, taken_g


@compiled
def _with_room(ks, free, pool_offset):
    """The rows of the active entries ``ks`` that have a pool with a free place."""
    rows = np.empty(ks.size, dtype=np.int64)
    n_open = 0
    for a in range(ks.size):
        k = ks[a]
        last = pool_offset[k + 1] if k + 1 < pool_offset.size else free.size
        for q in range(pool_offset[k], last):
            if free[q] > 0:
                rows[n_open] = a
                n_open += 1
                break
    return rows[:n_open]


@compiled
def _household_pull(weights, nb_joined, encouraging, leadership, village, coping, stigma, attitude, other):
    """Per household, ``participation.base_pull`` (``weights``: outreach and the weights of
    neighbours, encouragement, leadership, coping and stigma) and the mean attitude to the other
    groups (``state.mean_over_others``), with numpy's operations in numpy's order."""
    n, n_groups = attitude.shape
    pull = np.empty(n)
    mean_attitude = np.empty(n)
    for i in range(n):
        pull[i] = (weights[0] + weights[1] * nb_joined[i] + weights[2] * encouraging[i]
                   + weights[3] * leadership[village[i]] + weights[4] * coping[i] - weights[5] * stigma[i])
        s = attitude[i, 0] * other[i, 0]
        for h in range(1, n_groups):
            s += attitude[i, h] * other[i, h]
        mean_attitude[i] = s / (n_groups - 1)
    return pull, mean_attitude


@compiled
def _place_quotas(places, taken, free, shares):
    """``participation.place_quotas``: per pool and group, its share of the pool's places less its
    members there, scaled down to fit the free places, rounded down."""
    n_pools, ng = shares.shape
    quota = np.zeros((n_pools, ng), dtype=np.int64)
    deficit = np.empty(ng)
    for q in range(n_pools):
        total = 0.0
        for g in range(ng):
            d = shares[q, g] * places[q] - taken[q, g]
            deficit[g] = d if d > 0.0 else 0.0
            total = deficit[g] if g == 0 else total + deficit[g]
        room = max(free[q], 0)
        scale = room / max(total, 1e-300) if total > room else 1.0
        for g in range(ng):
            quota[q, g] = np.int64(np.floor(deficit[g] * scale))
    return quota


@compiled
def _first_in_pool(pool, keys, free):
    """``first_in_pool`` compiled whole: in each pool the ``free`` candidates with the smallest keys,
    ties broken by candidate order (as ``first_in_pool_plain``'s stable sort). Instead of sorting the
    queue under each pool's cut-off (``_pool_queue``), the free[q]-th smallest key t of pool q's queue
    is selected (``_kth_smallest``, linear time): the candidates with keys under t get a place, and
    those with key t in candidate order while places are left."""
    n_pools = free.size
    chosen, queue = _pool_queue(pool, keys, free)
    start = np.zeros(n_pools + 1, dtype=np.int64)
    for c in queue:
        start[pool[c] + 1] += 1
    for q in range(n_pools):
        start[q + 1] += start[q]
    at = start[:-1].copy()
    grouped = np.empty(queue.size, dtype=np.int64)  # the queue by pool, candidate order kept
    for c in queue:
        grouped[at[pool[c]]] = c
        at[pool[c]] += 1
    scratch = np.empty(queue.size)
    for q in range(n_pools):
        m, r = start[q + 1] - start[q], free[q]
        if m == 0 or r <= 0:
            continue
        seg = grouped[start[q]:start[q + 1]]
        if r >= m:
            for c in seg:
                chosen[c] = True
            continue
        for j in range(m):
            scratch[j] = keys[seg[j]]
        t = _kth_smallest(scratch[:m], r - 1)
        ties = r  # places for keys equal to t: r less the keys under t
        for c in seg:
            ties -= keys[c] < t
        for c in seg:  # without branches
            tie = (keys[c] == t) & (ties > 0)
            chosen[c] = (keys[c] < t) | tie
            ties -= tie
    return chosen


@compiled
def _kth_smallest(x, r):
    """The value of rank r (0: the smallest) of ``x``, which is reordered (Hoare's selection)."""
    lo, hi = 0, x.size - 1
    while lo < hi:
        mid = (lo + hi) // 2
        a, b, c = x[lo], x[mid], x[hi]  # pivot: the median of three
        if a < b:
            pivot = b if b < c else (c if a < c else a)
        else:
            pivot = a if a < c else (c if b < c else b)
        i, j = lo, hi
        while i <= j:
            while x[i] < pivot:
                i += 1
            while x[j] > pivot:
                j -= 1
            if i <= j:
                x[i], x[j] = x[j], x[i]
                i += 1
                j -= 1
        if r <= j:
            hi = j
        elif r >= i:
            lo = i
        else:
            return x[r]
    return x[r]


@compiled
def _targeted_first_in_pool(pool, group, keys, free, quota):
    """``targeted_first_in_pool`` compiled whole: the places held for each group (``quota``) to
    that group's smallest keys, then the places left to the other candidates' smallest keys."""
    ng = quota.shape[1]
    cell = np.empty(pool.size, dtype=np.int64)
    for c in range(pool.size):
        cell[c] = pool[c] * ng + group[c]
    first = _first_in_pool(cell, keys, quota.ravel())
    left = _less_given(free, pool, first)
    rest = np.flatnonzero(~first)
    more = _first_in_pool(pool[rest], keys[rest], left)
    for j in range(rest.size):
        if more[j]:
            first[rest[j]] = True
    return first



# --- ties, doses, tension, acknowledgement, pss, recall -----------------------------------------
@compiled
def enrolment_week(weeks_left, mixed, pool_offset, village, by_village, enrolled, taking_part, factor):
    """model/doses.py's week but the product, in one pass over households, into arrays made by
    numpy (numba's own allocation of large arrays is several times slower): who is ``enrolled``
    (``weeks_left > 0``), who is ``taking_part`` in anything, and in the first rows of ``factor``
    (households x entries) the rows of those who take part, as floats (the left factor of
    ``D = enrolled @ channel_matrix``, which stays BLAS's: a kernel's sums would not be added in
    BLAS's order). Returns how many take part and the members of the ``mixed`` entries as rows
    entry, household, pool (3 x members), entries in their order and households in index order
    within each (``Programme.mixed_members``, ``Programme.pool_of``)."""
    n, n_entries = weeks_left.shape
    n_mixed = mixed.size
    count = np.zeros(n_mixed + 1, dtype=np.int64)
    n_rows = 0
    for i in range(n):
        anything = False
        for k in range(n_entries):
            e = weeks_left[i, k] > 0
            enrolled[i, k] = e
            anything |= e
        taking_part[i] = anything
        if anything:
            for kk in range(n_entries):
                factor[n_rows, kk] = 1.0 if enrolled[i, kk] else 0.0
            n_rows += 1
            for a in range(n_mixed):
                if enrolled[i, mixed[a]]:
                    count[a + 1] += 1
    start = np.cumsum(count)
    members = np.empty((3, start[n_mixed]), dtype=np.int64)
    if start[n_mixed] == 0:
        return n_rows, members
    at = start[:n_mixed].copy()
    for i in range(n):
        if not taking_part[i]:
            continue
        for a in range(n_mixed):
            k = mixed[a]
            if enrolled[i, k]:
                members[0, at[a]], members[1, at[a]] = k, i
                members[2, at[a]] = pool_offset[k] + (np.int64(village[i]) if by_village[k] else 0)
                at[a] += 1
    return n_rows, members


@compiled
def spread_doses(d, product, taking_part):
    """Into ``d`` (channels x households, zeros): the rows of ``product`` (one per household
    taking part, in index order) in those households' columns (``d[:, rows] = product.T``).
    ``d`` is made by numpy: numba's own ``np.zeros`` of a large array is several times slower."""
    r = 0
    for i in range(taking_part.size):
        if taking_part[i]:
            for c in range(product.shape[1]):
                d[c, i] = product[r, c]
            r += 1


@compiled
def renew_doses(d, product, taking_part, given):
    """``spread_doses`` into last week's ``d`` (channels x households, kept from week to week),
    whose nonzero columns are those of the households ``given`` a dose last week: in one pass over
    households, the rows of ``product`` in the columns of this week's takers (in index order), the
    columns of last week's takers who take no part now back to zero; ``given`` becomes
    ``taking_part``. The same ``d`` as zeros and ``spread_doses``, without touching the columns of
    the households who took part in neither week."""
    r = 0
    for i in range(taking_part.size):
        if taking_part[i]:
            for c in range(product.shape[1]):
                d[c, i] = product[r, c]
            r += 1
            given[i] = True
        elif given[i]:
            for c in range(d.shape[0]):
                d[c, i] = 0.0
            given[i] = False


@compiled
def tie_blocks(src, u, village, group, n_villages, n_groups, within_village, within_group, counts,
               out_src, out_block, at):
    """``network.generate_ties_plain``'s first pass for the stubs ``src`` (one row of ``u``, four
    uniforms, each): the partner's village (the own one if ``u1 < within_village``, else another,
    ``(own + 1 + floor(u0 * max(V - 1, 1))) mod V``) and group (likewise with ``u3``,
    ``within_group`` and ``u2``), as the block ``village * G + group``; stubs whose block has
    households (``counts``) go to ``out_src``, ``out_block`` from position ``at`` (``out_src`` may
    hold ``src``: a stub is read before its position is written). Returns the next position."""
    m_v, n_v = max(n_villages - 1, 1), max(n_villages, 1)
    for s in range(src.size):
        i = src[s]
        tv = np.int64(village[i])
        if not ((u[s, 1] < within_village) or n_villages == 1):
            tv += 1 + np.int64(np.floor(u[s, 0] * m_v))
            while tv >= n_v:  # mod V (non-negative)
                tv -= n_v
        tg = np.int64(group[i])
        if not u[s, 3] < within_group:
            tg += 1 + np.int64(np.floor(u[s, 2] * (n_groups - 1)))
            while tg >= n_groups:
                tg -= n_groups
        tb = tv * n_groups + tg
        if counts[tb] > 0:
            out_src[at], out_block[at] = i, tb
            at += 1
    return at


@compiled
def tie_ends(src, block, u, first, counts, starts, order, m):
    """``generate_ties_plain``'s second pass for the stubs ``first`` to ``first + u.size`` (one
    uniform each): the partner ``order[starts[b] + floor(u * counts[b])]`` in the stub's block b;
    the tie's ends as (lower, higher) into ``src``, ``block`` at position ``m`` on (in place: never
    past the stub read), self-ties left out. Returns the next position."""
    for s in range(u.size):
        t = first + s
        b = block[t]
        j = order[starts[b] + np.int64(np.floor(u[s] * counts[b]))]
        a = src[t]
        if a != j:
            src[m], block[m] = min(a, j), max(a, j)
            m += 1
    return m


@compiled
def unique_ties(lo, hi, n, start, slot, src, dst):
    """The distinct ties among (``lo``, ``hi``) sorted by (lo, hi), into ``src``, ``dst``:
    ``sorted_unique(lo * n + hi)`` split into ``// n`` and ``% n``, by a counting sort on ``lo``
    (``start``: n + 1 zeros, ``slot``: as long as ``lo``) and a small sort of each household's
    partners (``src``, ``dst`` may be ``lo``, ``hi``: they are read before any is written).
    Returns how many."""
    for s in range(lo.size):
        start[lo[s] + 1] += 1
    for i in range(n):
        start[i + 1] += start[i]
    for s in range(lo.size):  # start[i] moves to the end of i's partners (start[i + 1] before)
        slot[start[lo[s]]] = hi[s]
        start[lo[s]] += 1
    k = 0
    a = 0
    for i in range(n):
        b = start[i]
        if b - a > 32:
            slot[a:b] = np.sort(slot[a:b])
        else:
            for x in range(a + 1, b):  # insertion sort
                v = slot[x]
                y = x - 1
                while y >= a and slot[y] > v:
                    slot[y + 1] = slot[y]
                    y -= 1
                slot[y + 1] = v
        for x in range(a, b):
            if x == a or slot[x] != slot[x - 1]:
                src[k], dst[k] = i, slot[x]
                k += 1
        a = b
    return k


@compiled
def symmetric_csr(src, dst, indptr, indices):
    """The CSR arrays of the symmetric adjacency matrix of the ties ``src``-``dst`` (all ones;
    ``network._symmetric_plain``) when the ties are in (src, dst) order with src < dst (as
    ``generate_ties`` gives them): a household's lower partners (ties ending at it, in the order
    of their src) then its higher ones, which is each row sorted. ``indptr`` (n + 1 zeros) and
    ``indices`` (2 x ties) are filled; returns False, with them unfinished, if the ties are not in
    that order."""
    for t in range(src.size):
        if src[t] >= dst[t] or (t > 0 and (src[t] < src[t - 1] or (src[t] == src[t - 1] and dst[t] <= dst[t - 1]))):
            return False
        indptr[src[t] + 1] += 1
        indptr[dst[t] + 1] += 1
    n = indptr.size - 1
    for i in range(n):
        indptr[i + 1] += indptr[i]
    fill = indptr[:n].copy()
    for t in range(src.size):
        indices[fill[dst[t]]] = src[t]
        fill[dst[t]] += 1
    for t in range(src.size):
        indices[fill[src[t]]] = dst[t]
        fill[src[t]] += 1
    return True


@compiled
def tie_makers(u, k, tie_rate, tie_strength):
    """Positions of the members who make a tie this week: ``u < tie_rate * ties_k`` (model/ties.py)."""
    out = np.empty(u.size, dtype=np.int64)
    m = 0
    for t in range(u.size):
        if u[t] < tie_rate * tie_strength[k[t]]:
            out[m] = t
            m += 1
    return out[:m]


@compiled
def tie_partners(members, pool, makers, u, group, n_pools):
    """``ties.partners`` and the cross-group filter: for each tie maker (a position in ``members``)
    the member of its pool at ``min(floor(u * size), size - 1)`` among the pool's members in
    index order; returns the (maker, partner) pairs whose groups differ."""
    size = np.zeros(n_pools + 1, dtype=np.int64)
    for t in range(pool.size):
        size[pool[t] + 1] += 1
    start = np.cumsum(size)
    at = start[:n_pools].copy()
    by_pool = np.empty(members.size, dtype=np.int64)
    for t in range(pool.size):  # stable: members of each pool in their order
        by_pool[at[pool[t]]] = members[t]
        at[pool[t]] += 1
    src, dst = np.empty(makers.size, np.int64), np.empty(makers.size, np.int64)
    m = 0
    for t in range(makers.size):
        p = pool[makers[t]]
        s = start[p + 1] - start[p]
        j = by_pool[start[p] + min(np.int64(np.floor(u[t] * s)), s - 1)]
        i = members[makers[t]]
        if group[i] != group[j]:
            src[m], dst[m] = i, j
            m += 1
    return src[:m], dst[:m]


@compiled
def new_tie_keys(src, dst, n, base_keys, new_cells):
    """The ties ``src``-``dst`` not yet in the network, as sorted unique keys ``lo * n + hi``
    (``SocialNetwork.add_ties``): self-ties dropped, then those among the baseline ties
    (``base_keys``) or the activity ties (``new_cells``, both directions)."""
    keys = np.empty(src.size, dtype=np.int64)
    m = 0
    for t in range(src.size):
        lo, hi = min(src[t], dst[t]), max(src[t], dst[t])
        if lo != hi:
            keys[m] = lo * n + hi
            m += 1
    keys = np.sort(keys[:m])
    out = np.empty(m, dtype=np.int64)
    q = 0
    for t in range(m):
        key = keys[t]
        if t > 0 and key == keys[t - 1]:
            continue
        if base_keys.size and base_keys[min(np.searchsorted(base_keys, key), base_keys.size - 1)] == key:
            continue
        if new_cells.size and new_cells[min(np.searchsorted(new_cells, key), new_cells.size - 1)] == key:
            continue
        out[q] = key
        q += 1
    return out[:q]


@compiled
def record_ties(keys, n, ends, n_ties, new_cells, degree, ties_by_group, group):
    """Record the new ties ``keys`` (sorted, from ``new_tie_keys``) in ``SocialNetwork.add_ties``'s
    bookkeeping: their ends appended to ``ends`` after ``n_ties``; one more tie on the degree of
    both ends and on their ties to the other's group (in place); returns the activity ties' cells
    (both directions) merged into ``new_cells`` and their rows and columns."""
    both = np.empty(2 * keys.size, dtype=np.int64)
    for t in range(keys.size):
        s, d = keys[t] // n, keys[t] % n
        ends[0, n_ties + t], ends[1, n_ties + t] = s, d
        both[2 * t], both[2 * t + 1] = keys[t], d * n + s
        degree[s] += 1.0
        degree[d] += 1.0
        ties_by_group[s, group[d]] += 1.0
        ties_by_group[d, group[s]] += 1.0
    both = np.sort(both)
    cells = np.empty(new_cells.size + both.size, dtype=np.int64)
    a = b = 0
    for t in range(cells.size):
        if b == both.size or (a < new_cells.size and new_cells[a] < both[b]):
            cells[t] = new_cells[a]
            a += 1
        else:
            cells[t] = both[b]
            b += 1
    rows, cols = cells // n, np.empty(cells.size, dtype=np.int64)
    for t in range(cells.size):
        cols[t] = cells[t] - rows[t] * n
    return cells, rows, cols


@compiled
def non_member_rows_update(weights, keys, n, w, group, ties_by_group, in_group_ties, degree):
    """``SocialNetwork._non_member_rows`` again for both ends of each tie ``keys``, in place:
    ties to non-members of each group h, in-group ties counted where h is not one's group,
    out-group ties weighted by ``w`` (less those to h where h is not one's group)."""
    for t in range(2 * keys.size):
        r = keys[t // 2] // n if t % 2 == 0 else keys[t // 2] % n
        in_group = in_group_ties[r]
        out_group = degree[r] - in_group
        for h in range(weights.shape[1]):
            if group[r] == h:
                weights[r, h] = 0.0 + w * out_group
            else:
                weights[r, h] = in_group + w * (out_group - ties_by_group[r, h])


@compiled
def add_new_ties(src, dst, n, base_keys, new_cells, ends, n_ties, degree, ties_by_group, group, weights, w,
                 in_group_ties):
    """``SocialNetwork.add_ties`` in one call: ``new_tie_keys``, then (if any) ``record_ties`` and
    ``non_member_rows_update`` of ``weights`` (0 rows: none kept). Returns the number of new ties
    and the activity ties' cells, rows and columns (``new_cells`` and two empty arrays if none)."""
    keys = new_tie_keys(src, dst, n, base_keys, new_cells)
    if keys.size == 0:
        return 0, new_cells, new_cells[:0], new_cells[:0]
    cells, rows, cols = record_ties(keys, n, ends, n_ties, new_cells, degree, ties_by_group, group)
    if weights.shape[0] > 0:
        non_member_rows_update(weights, keys, n, w, group, ties_by_group, in_group_ties, degree)
    return keys.size, cells, rows, cols


@compiled
def recall_week(attendance, enrolled, surveyed, present, decay, contact_pos, forgotten_pos, contact_neg,
                forgotten_neg):
    """model/recall.py's week, in place: attendance ``a_i`` plus one where enrolled in a surveyed
    entry; ``F_i += decay * (C_i - F_i)`` for both counts where present (nothing if decay is 0)."""
    for i in range(attendance.size):
        for a in range(surveyed.size):
            if enrolled[i, surveyed[a]]:
                attendance[i] += 1
                break
        if decay == 0:
            continue
        if present[i]:
            forgotten_pos[i] += decay * (contact_pos[i] - forgotten_pos[i])
            forgotten_neg[i] += decay * (contact_neg[i] - forgotten_neg[i])
        else:
            forgotten_pos[i] += 0.0
            forgotten_neg[i] += 0.0


@compiled
def pss_week(coping, coping0, stigma, dose_coping, dose_stigma, nb_joined, capacity, village, alpha_coping,
             coping_decay, capacity_sustain, alpha_stigma, stigma_peer, c2, s2):
    """model/pss.py's week: new coping and stigma of every household, into ``c2`` and ``s2``
    (made by numpy, whose allocation of large arrays is faster than numba's),
    c' = clip(c + alpha_coping D_c (1 - c) - coping_decay (1 - capacity_sustain K_v) (c - c0)),
    s' = clip(s - (alpha_stigma D_s + stigma_peer S) s)."""
    for i in range(coping.size):
        c, s = coping[i], stigma[i]
        k = capacity[village[i]]
        dc = alpha_coping * dose_coping[i] * (1.0 - c) - coping_decay * (1.0 - capacity_sustain * k) * (c - coping0[i])
        ds = -(alpha_stigma * dose_stigma[i] + stigma_peer * nb_joined[i]) * s
        c2[i], s2[i] = _clip01(c + dc), _clip01(s + ds)


@compiled
def acknowledge(acknowledged, dose, victims, pairs, group, rate, w, bonus):
    """model/acknowledgement.py's week: ``K_i += rate * D_i * (1 - K_i)`` for victims' households
    (in place; D is 0 for the others), and into ``bonus`` (households x groups, made by numpy) the
    readiness bonus ``B_ih = w * K_i * pairs[g_i, h]``."""
    ng = pairs.shape[1]
    for i in range(acknowledged.size):
        d = dose[i] * (1.0 if victims[i] else 0.0)
        acknowledged[i] += rate * d * (1.0 - acknowledged[i])
        wk = w * acknowledged[i]
        for h in range(ng):
            bonus[i, h] = wk * (1.0 if pairs[group[i], h] else 0.0)


@compiled
def cost_week(week, enrolled, taking_part, pool_offset, village, by_village, n_pools, start, end, hands_over,
              pool_entry, capacity, places_per_session, sessions_per_week, on_demand):
    """``Programme.cost_quantities``: places filled per pool, then per entry (3 x K) the places
    filled and sessions held while it runs (``ceil(places / places_per_session)`` cohorts,
    the offered places where on demand, times sessions per week) and its pools in use after its
    end week if handed over; each entry's pools summed in order from 0.0."""
    filled = np.zeros(n_pools)
    for i in range(enrolled.shape[0]):
        if not taking_part[i]:
            continue
        for k in range(enrolled.shape[1]):
            if enrolled[i, k]:
                filled[pool_offset[k] + (np.int64(village[i]) if by_village[k] else 0)] += 1.0
    out = np.zeros((3, start.size))
    for p in range(n_pools):
        e = pool_entry[p]
        running = 1.0 if start[e] <= week and week <= end[e] else 0.0
        handed = (week > end[e]) and hands_over[e]
        if on_demand[p]:
            sessions = np.ceil(capacity[p] / places_per_session[p]) * sessions_per_week[p]
        else:
            sessions = np.ceil(filled[p] / places_per_session[p]) * sessions_per_week[p]
        out[0, e] += filled[p] * running
        out[1, e] += sessions * running
        out[2, e] += 1.0 if (filled[p] > 0 and handed) else 0.0
    return out




# --- observation and survey ------------------------------------------------------------------------
@compiled
def _pairwise_block(a, lo, n):
    """numpy's pairwise sum of ``a[lo:lo + n]`` for n <= 128 (one block): sequential below 8
    terms, else 8 interleaved partial sums, combined as a tree, then the rest in order."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - n % 8:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@compiled
def _pairwise(a, lo, n, work, acc):
    """``np.add.reduce(a[lo:lo + n])`` for float64 in numpy's own order, to the bit: blocks of at
    most 128 (``_pairwise_block``), above that the sum of the two halves' sums (the first half
    rounded down to a multiple of 8). The halving is numpy's recursion, run on an explicit stack
    (``work``: 64 x 3 int64, ``acc``: 64 floats, given by the caller), since numba's disk cache
    does not keep recursive functions reliably."""
    if n <= 128:
        return _pairwise_block(a, lo, n)
    top = 0
    work[0, 0], work[0, 1], work[0, 2] = lo, n, 0  # start, length, stage (0 new, 1 left, 2 right)
    while True:
        start, length = work[top, 0], work[top, 1]
        if length > 128:  # a new node: its left half first
            half = length // 2
            half -= half % 8
            work[top, 2] = 1
            top += 1
            work[top, 0], work[top, 1], work[top, 2] = start, half, 0
            continue
        v = _pairwise_block(a, start, length)
        while True:  # hand the value up
            top -= 1
            if top < 0:
                return v
            if work[top, 2] == 1:  # the left half's sum: now the right half
                acc[top] = v
                work[top, 2] = 2
                half = work[top, 1] // 2
                half -= half % 8
                top += 1
                work[top, 0], work[top, 1], work[top, 2] = work[top - 1, 0] + half, work[top - 1, 1] - half, 0
                break
            v = acc[top] + v  # both halves: this node's sum


@compiled
def cell_means(values, order, starts, start_cell, present, own, chosen, ng, nv):
    """The week's time-series row and summary (``cell_means_plain``) in one pass.

    ``values`` is columns x households (each weekly outcome's per-household value, a column per
    group for values towards each group); households come in blocks of one (group, village) cell
    (rows ``order[starts[b]:starts[b + 1]]``, cell ``start_cell[b]``). For each cell c (group-major,
    c = g * nv + v) and column j, over the households present:

        count_c = sum present_i,   sum_cj = sum present_i * x_ij,   mean_cj = sum_cj / count_c

    (NaN where count_c = 0 or column j is the attitude towards c's own group, ``own``); the row is
    ``[count_c, mean_c...]``. The summary, for the columns ``chosen``: the population means
    ``sum_c sum_cj / sum_c count_c``, then by group ``sum_v sum_(gv)j / sum_v count_(gv)``, ordered
    column-major (j, g). Each sum is numpy's: a cell's as ``np.add.reduceat`` (first term, then
    pairwise), the summary's as the sum along the cells of the plain form's ``sums[:, chosen]``
    (whose cells are contiguous: pairwise); counts are exact integers.
    """
    ncols, n = values.shape
    ncells = ng * nv
    counts = np.zeros(ncells)
    sums = np.zeros((ncells, ncols))
    buf = np.empty(n)
    work, acc = np.empty((64, 3), dtype=np.int64), np.empty(64)
    direct = True  # households in block order and all present: the values' rows summed in place
    for r in range(n):
        if order[r] != r or not present[r]:
            direct = False
            break
    nb = starts.size
    for b in range(nb):
        lo = starts[b]
        hi = starts[b + 1] if b + 1 < nb else n
        c = start_cell[b]
        m = 0
        for r in range(lo, hi):
            if present[order[r]]:
                m += 1
        counts[c] = m
        for j in range(ncols):
            if direct:
                sums[c, j] = values[j, lo] + _pairwise(values[j], lo + 1, hi - lo - 1, work, acc)
                continue
            for r in range(lo, hi):
                i = order[r]
                buf[r - lo] = values[j, i] if present[i] else 0.0
            sums[c, j] = buf[0] + _pairwise(buf, 1, hi - lo - 1, work, acc)
    row = np.empty((ncells, 1 + ncols))
    for c in range(ncells):
        row[c, 0] = counts[c]
        for j in range(ncols):
            row[c, 1 + j] = np.nan if own[c, j] or counts[c] == 0 else sums[c, j] / counts[c]
    return row, _summary(sums, counts, chosen, ng, nv, work, acc)


@compiled
def _summary(sums, counts, chosen, ng, nv, work, acc):
    """``cell_means``' summary: the population and group means of the columns ``chosen``."""
    ncells, k = ng * nv, chosen.size
    summary = np.empty(k * (1 + ng))
    everyone = 0.0
    for c in range(ncells):
        everyone += counts[c]
    column = np.empty(ncells)
    for j in range(k):
        for c in range(ncells):
            column[c] = sums[c, chosen[j]]
        summary[j] = _pairwise(column, 0, ncells, work, acc) / everyone if everyone > 0 else np.nan
        for g in range(ng):
            size = 0.0
            for v in range(nv):
                size += counts[g * nv + v]
            part = _pairwise(column, g * nv, nv, work, acc)
            summary[k + j * ng + g] = part / size if size > 0 else np.nan
    return summary


def cell_means_plain(columns, cell, present, own, chosen, ng, nv):
    """``cell_means`` in numpy, from each household's cell (``cell``): the row and the summary."""
    values = [np.where(present, c, 0.0) for c in columns]
    counts = np.bincount(cell, weights=present.astype(float), minlength=ng * nv)
    sums = segment_sums_plain(values, cell, ng * nv)
    means = sums / np.where(counts > 0, counts, np.nan)[:, None]  # NaN where a cell is empty
    means[own] = np.nan
    picked = sums[:, chosen]
    group_size = counts.reshape(ng, nv).sum(axis=1)
    everyone = counts.sum()
    summary = np.concatenate([picked.sum(axis=0) / (everyone if everyone > 0 else np.nan),
                              (picked.reshape(ng, nv, -1).sum(axis=1)
                               / np.where(group_size > 0, group_size, np.nan)[:, None]).T.ravel()])
    return np.column_stack([counts, means]), summary


@compiled
def item_split_means(answers, there, group, village, ng, nv):
    """The survey's table of one wave (``item_split_means_plain``): for each item j (a row of
    ``answers``, NaN where unanswered) the mean answer and number of respondents i who answered
    (``there[j, i]``, answer not NaN), overall, in each group, in each village (columns 0,
    1..ng, ng+1..ng+nv); the mean is ``answers[mask].mean()``'s (numpy's pairwise sum / count),
    NaN where nobody answered."""
    n_items, n = answers.shape
    ns = 1 + ng + nv
    means = np.full((n_items, ns), np.nan)
    counts = np.zeros((n_items, ns), dtype=np.int64)
    buf = np.empty(n)
    work, acc = np.empty((64, 3), dtype=np.int64), np.empty(64)
    for j in range(n_items):
        for s in range(ns):
            m = 0
            for i in range(n):
                a = answers[j, i]
                if there[j, i] and not np.isnan(a) and (s == 0 or (s <= ng and group[i] == s - 1)
                                                        or (s > ng and village[i] == s - 1 - ng)):
                    buf[m] = a
                    m += 1
            counts[j, s] = m
            if m:
                means[j, s] = _pairwise(buf, 0, m, work, acc) / m
    return means, counts


def item_split_means_plain(answers, there, group, village, ng, nv):
    n_items = answers.shape[0]
    means = np.full((n_items, 1 + ng + nv), np.nan)
    counts = np.zeros((n_items, 1 + ng + nv), dtype=np.int64)
    for j in range(n_items):
        valid = ~np.isnan(answers[j]) & there[j]
        masks = [valid] + [valid & (group == k) for k in range(ng)] + [valid & (village == k) for k in range(nv)]
        for s, mask in enumerate(masks):
            counts[j, s] = mask.sum()
            if counts[j, s]:
                means[j, s] = answers[j][mask].mean()
    return means, counts


@compiled
def any_positive_rows(x, out):
    """``row_any_positive_plain``: whether each row of ``x`` has a value above zero, into ``out``
    (the outcome ``participating``: weeks left in some entry)."""
    for i in range(x.shape[0]):
        out[i] = False
        for k in range(x.shape[1]):
            if x[i, k] > 0:
                out[i] = True
                break
    return out


@compiled
def min_where(x, mask, out):
    """``min_where_plain``: the minimum of each row of ``x`` over the columns where ``mask`` is
    True (inf where none; NaN if one is NaN), into ``out`` (``state.min_over_others``)."""
    for i in range(x.shape[0]):
        m = np.inf
        for k in range(x.shape[1]):
            if mask[i, k]:
                v = x[i, k]
                if np.isnan(v) or v < m:
                    m = v
                if np.isnan(m):
                    break
        out[i] = m
    return out


def min_where_plain(x, mask, out):
    out[:] = np.where(mask, x, np.inf).min(axis=1)
    return out


def load() -> None:
    """Start numba and load one cached kernel: about 0.2 s once per process, paid by whichever
    kernel is called first. The runner's fork server calls it (runner/preload.py), so that the
    workers forked from it start with it done."""
    poisson_inverse(np.zeros(1), np.zeros(1), 1)
