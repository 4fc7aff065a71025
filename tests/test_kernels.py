"""Every speed kernel (model/kernels.py) gives what its plain numpy form gives, on generated inputs."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from model import kernels

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
"""No deadline and no check of generation speed: both measure the machine's load, not the kernels."""
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
    got = kernels.any_positive_rows(weeks_left, np.empty(weeks_left.shape[0], dtype=bool))
    np.testing.assert_array_equal(got, kernels.row_any_positive_plain(weeks_left))


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


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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


# --- compiled kernels ----------------------------------------------------------------------------
@SETTINGS
@given(st.integers(0, 80), st.floats(0.0, 12.0), st.integers(0, 2**32 - 1))
def test_poisson_inverse(n, scale, seed):
    rng = np.random.default_rng(seed)
    u, mean = rng.random(n), scale * rng.random(n)
    u[: n // 4] = 0.0  # the edge of the first step
    np.testing.assert_array_equal(kernels.poisson_inverse(u, mean, 100), kernels.poisson_inverse_plain(u, mean, 100))
    np.testing.assert_array_equal(kernels.poisson_inverse(u, mean, 2), kernels.poisson_inverse_plain(u, mean, 2))


@SETTINGS
@given(st.integers(1, 30), st.integers(0, 90), st.integers(0, 2**32 - 1))
def test_upward_gap_sums(n, ties, seed):
    rng = np.random.default_rng(seed)
    src, dst, x = rng.integers(0, n, ties), rng.integers(0, n, ties), rng.random(n)
    np.testing.assert_allclose(kernels.upward_gap_sums(src, dst, x, n), kernels.upward_gap_sums_plain(src, dst, x, n),
                               rtol=1e-12, atol=1e-15)


@SETTINGS
@given(st.integers(1, 4), st.integers(2, 5), st.integers(1, 60), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_village_tallies(nv, ng, n, k, seed):
    rng = np.random.default_rng(seed)
    village, group = rng.integers(0, nv, n).astype(np.int8), rng.integers(0, ng, n).astype(np.int8)
    present, enrolled = rng.random(n) < 0.8, rng.random((n, k)) < 0.3
    visibility = rng.choice([0.0, 0.5, 1.0], k)
    args = (village, group, present, enrolled, visibility, rng.random(n), rng.random(n), rng.random((n, ng)), nv)
    for a, b in zip(kernels.village_tallies(*args), kernels.village_tallies_plain(*args)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@SETTINGS
@given(st.integers(1, 40), st.integers(2, 5), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_pool_exposures(n, ng, n_entries, seed):
    rng = np.random.default_rng(seed)
    group = rng.integers(0, ng, n).astype(np.int8)
    n_pools = 2 * n_entries
    k = np.repeat(np.arange(n_entries), n)                    # entries in order, households in index order
    i = np.tile(np.arange(n), n_entries)
    keep = rng.random(k.size) < 0.5
    k, i = k[keep], i[keep]
    pool = 2 * k + rng.integers(0, 2, k.size)
    contact, dialogue = rng.random(n_entries), rng.random(n_entries)
    fast = kernels.pool_exposures(k, i, pool, group, n_pools, contact, dialogue, n, ng)
    plain = kernels.pool_exposures_plain(k, i, pool, group, n_pools, contact, dialogue, n, ng)
    np.testing.assert_array_equal(fast[0], plain[0])
    for a, b in zip(fast[1:], plain[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 5), st.integers(2, 4), st.integers(0, 200), st.integers(0, 2**32 - 1))
def test_targeted_first_in_pool(n_pools, ng, n, seed):
    rng = np.random.default_rng(seed)
    pool, group, keys = rng.integers(0, n_pools, n), rng.integers(0, ng, n), rng.random(n)
    free = rng.integers(-1, max(n // n_pools, 1) + 3, n_pools)
    quota = rng.integers(0, max(n // (n_pools * ng), 1) + 2, (n_pools, ng))
    np.testing.assert_array_equal(kernels.targeted_first_in_pool(pool, group, keys, free, quota),
                                  kernels.targeted_first_in_pool_plain(pool, group, keys, free, quota))


# --- whole-mechanism kernels against the mechanisms' own equation functions (their plain form) ---
def _params(rng):
    """Parameters of the kernels' mechanisms drawn across their ranges (model/params.py)."""
    from model.params import Params, ranges
    return Params().with_values(**{name: lo + (hi - lo) * rng.random() for name, (lo, hi) in sorted(ranges().items())
                                   if name in _CONTACT_STRESS_NAMES})


_CONTACT_STRESS_NAMES = {
    "w_ready_coping", "w_ready_wellbeing", "w_ready_familiarity", "w_ready_tension", "w_ready_intensity",
    "readiness_steepness", "readiness_threshold", "encounters_per_exposure", "contact_neg_ratio", "alpha_contact_pos",
    "alpha_dialogue", "familiarity_rate", "need_relief", "barrier_relief", "theta_coping", "theta_stress",
    "theta_ties", "theta_tension", "wellbeing_rate", "alpha_wellbeing", "mood_contagion", "legitimisation_rate",
    "w_cac_seen"}


def _households(rng, n, ng, nv):
    return dict(group=rng.integers(0, ng, n).astype(np.int8), village=rng.integers(0, nv, n).astype(np.int8),
                attitude=rng.random((n, ng)), anchor=rng.random((n, ng)), familiarity=rng.random((n, ng)),
                coping=rng.random(n), wellbeing=14 + 56 * rng.random(n), tension=rng.random(nv),
                present=rng.random(n) < 0.9)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 30), st.integers(2, 4), st.booleans(), st.integers(0, 2**32 - 1))
def test_contact_week(n, ng, with_bonus, seed):
    from model import contact as C
    from model.draws import MAX_COUNT
    from model.state import wellbeing_share
    rng = np.random.default_rng(seed)
    p, hh = _params(rng), _households(rng, n, ng, 3)
    met = np.flatnonzero(rng.random(n) < 0.6)
    other = hh["group"][met][:, None] != np.arange(ng)
    e, d = 3 * rng.random((met.size, ng)) * other, rng.random((met.size, ng)) * other
    u, bonus = rng.random((2, met.size, ng)), (0.3 * rng.random((n, ng)) if with_bonus else None)
    # the plain form: the mechanism's equations over arrays
    a, fam = hh["attitude"][met], hh["familiarity"][met]
    r = C.readiness(hh["coping"][met, None], wellbeing_share(hh["wellbeing"][met])[:, None], fam,
                    hh["tension"][hh["village"][met]][:, None], e, p, 0.0 if bonus is None else bonus[met])
    q = C.positivity(r, p)
    pos, neg = C.encounters(u[0], u[1], e, q, p)
    da = C.attitude_change(a, pos, neg, d, fam, q, p) * other
    want_att, want_anchor = np.clip(a + da, 0, 1), np.clip(hh["anchor"][met] + da, 0, 1)
    want_fam = np.clip(fam + C.familiarity_change(fam, pos, neg, d, p) * other, 0, 1)
    # the kernel, in place
    att, anchor, fam2, cpos, cneg = (hh["attitude"].copy(), hh["anchor"].copy(), hh["familiarity"].copy(),
                                     np.zeros(n), np.zeros(n))
    kernels.contact_week(met, e, d, u, C.NO_BONUS if bonus is None else bonus, bonus is not None, att, anchor, fam2,
                         cpos, cneg, hh["group"], hh["coping"], hh["wellbeing"], hh["tension"], hh["village"],
                         p.w_ready_coping, p.w_ready_wellbeing, p.w_ready_familiarity, p.w_ready_tension,
                         p.w_ready_intensity, p.readiness_steepness, p.readiness_threshold, p.encounters_per_exposure,
                         p.contact_neg_ratio, p.alpha_contact_pos, p.alpha_dialogue, p.familiarity_rate, MAX_COUNT)
    for got, want in [(att[met], want_att), (anchor[met], want_anchor), (fam2[met], want_fam),
                      (cpos[met], pos.sum(axis=1)), (cneg[met], neg.sum(axis=1))]:
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 30), st.integers(0, 20), st.integers(0, 2**32 - 1))
def test_stressors_week(n, ties, seed):
    from model import stressors as S
    from model.state import stress, wellbeing_score, wellbeing_share
    rng = np.random.default_rng(seed)
    p, hh = _params(rng), _households(rng, n, 3, 2)
    need, barriers, x0, c0, s0, t0 = (rng.random(n) for _ in range(6))
    src, dst, gap = rng.integers(0, n, ties), rng.integers(0, n, ties), rng.random(n) * 0.2
    dose = {c: rng.random(n) * (rng.random(n) < 0.5) for c in ("need", "barriers", "wellbeing")}
    tension0 = rng.random(2)
    # the plain form: the mechanism's equations over arrays
    m = np.clip(need + S.relief(need, dose["need"], p.need_relief), 0, 1)
    b = np.clip(barriers + S.relief(barriers, dose["barriers"], p.barrier_relief), 0, 1)
    x = wellbeing_share(hh["wellbeing"])
    made = (np.bincount(src, minlength=n) + np.bincount(dst, minlength=n)).astype(float)
    dt = np.where(hh["present"], (hh["tension"] - tension0)[hh["village"]], 0.0)
    x_eq = S.equilibrium(x0, hh["coping"], c0, stress(m, b), s0, S.support(made), dt, p)
    want = wellbeing_score(np.clip(x + S.wellbeing_change(x, x_eq, dose["wellbeing"], gap, p), 0, 1))
    got = kernels.stressors_week(need, barriers, hh["wellbeing"], x0, hh["coping"], c0, s0, hh["tension"], tension0,
                                 hh["village"], hh["present"], src, dst, gap, dose["need"], dose["barriers"],
                                 dose["wellbeing"], p.need_relief, p.barrier_relief, p.theta_coping, p.theta_stress,
                                 p.theta_ties, p.theta_tension, S.TIES_HALF, p.wellbeing_rate, p.alpha_wellbeing,
                                 p.mood_contagion)
    for g, w in zip(got, (m, b, want)):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 30), st.integers(2, 4), st.integers(0, 2**32 - 1))
def test_legitimise(n, ng, seed):
    from model import legitimisation as L
    rng = np.random.default_rng(seed)
    p, hh = _params(rng), _households(rng, n, ng, 3)
    leadership, here, seen = rng.random(3), (rng.random(3) < 0.5).astype(float), rng.random(n)
    other = hh["group"][:, None] != np.arange(ng)
    s = L.signal(leadership[hh["village"]], here[hh["village"]], seen, p) * hh["present"]
    da = L.legitimisation_change(hh["attitude"], s[:, None], p) * other
    want_att, want_anchor = np.clip(hh["attitude"] + da, 0, 1), np.clip(hh["anchor"] + da, 0, 1)
    att, anchor = hh["attitude"].copy(), hh["anchor"].copy()
    kernels.legitimise(att, anchor, hh["group"], hh["village"], leadership, here, seen, hh["present"],
                       p.legitimisation_rate, p.w_cac_seen)
    np.testing.assert_allclose(att, want_att, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(anchor, want_anchor, rtol=1e-12, atol=1e-14)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 40), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_join_candidates(n, n_entries, seed):
    from model import participation as P
    from model.params import Params
    rng = np.random.default_rng(seed)
    p = Params().with_values(join_rate=0.2 + 0.6 * rng.random())
    village = rng.integers(0, 3, n).astype(np.int8)
    by_village = rng.random(n_entries) < 0.5
    pool_offset = np.cumsum([0] + [3 if b else 1 for b in by_village])[:-1].astype(np.int64)
    free = rng.integers(-1, 3, pool_offset[-1] + 3)
    eligible, max_wb = rng.random((n_entries, n)) < 0.7, np.where(rng.random(n_entries) < 0.3, 40.0, np.inf)
    ks = np.flatnonzero(rng.random(n_entries) < 0.7)            # the week's active entries
    rows = np.flatnonzero(rng.random(ks.size) < 0.7)             # those with room
    u_all, enrolled = rng.random((ks.size, n)), rng.random((n, ks.size)) < 0.2
    pull, need, mean_att, thr, wb = (rng.random(n) for _ in range(5))
    wb = 14 + 56 * wb
    terms = rng.random((n_entries, 3))
    got = kernels.join_candidates(ks, rows, u_all, eligible, enrolled, free, pool_offset, by_village, village, wb,
                                  max_wb, pull, need, mean_att, thr, terms, p.join_rate, P.STEEPNESS)
    # the plain form: the mechanism's equations over (entry, household) pairs
    r, i = np.nonzero((u_all[rows] < p.join_rate) & eligible[ks[rows]] & ~enrolled[:, rows].T)
    a = rows[r]
    k = ks[a]
    pool = pool_offset[k] + village[i] * by_village[k]
    ok = (free[pool] > 0) & (wb[i] <= max_wb[k])
    a, i, k, pool = a[ok], i[ok], k[ok], pool[ok]
    z = P.willingness(pull[i], need[i], mean_att[i], terms[k, 0], terms[k, 1], terms[k, 2])
    prob = P.join_probability(z, thr[i], p)
    want = u_all[a, i] < prob
    for g, w in zip(got, (i[want], k[want], pool[want], u_all[a, i][want] / prob[want])):
        np.testing.assert_allclose(g, w, rtol=1e-12)


@SETTINGS
@given(st.integers(1, 30), st.integers(2, 4), st.integers(0, 2**32 - 1))
def test_influence_week(n, ng, seed):
    from model import influence as I
    from model.params import Params
    rng = np.random.default_rng(seed)
    p = Params().with_values(influence_rate=rng.random())
    group = rng.integers(0, ng, n).astype(np.int8)
    other = group[:, None] != np.arange(ng)
    attitude = np.where(other, rng.random((n, ng)), 1.0)
    num, den = rng.random((n, ng)) * 3, rng.integers(0, 4, (n, ng)).astype(float)  # den 0: no neighbours
    gap, anchor, s = 0.2 * rng.random((n, ng)) - 0.1, rng.random((n, ng)), rng.random(n)
    # the plain form: neighbour_attitudes less the gap, fj_change, the clip
    m = np.where(den > 0, num / np.where(den > 0, den, 1.0), attitude) - gap
    want = np.clip(attitude + I.fj_change(attitude, m, anchor, s[:, None], p) * other, 0, 1)
    got = kernels.influence_week(attitude, num, den, gap, anchor, s, group, p.influence_rate)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
