"""The compiled kernels of the ties, doses, acknowledgement, pss and recall mechanisms and of the
programme's weekly cost (model/kernels.py) give what their numpy forms give, on generated inputs;
and the three forms of the week (array, plain, reference) give the same states for them."""

from __future__ import annotations

import functools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from model import CohesionModel, kernels
from model.acknowledgement import acknowledgement_change
from model.network import SocialNetwork
from model.params import Params
from model.pss import coping_change, stigma_change
from model.recall import forgetting
from model.ties import partners
from tests.conftest import build, random_ties, small_raw

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
"""No deadline and no check of generation speed: both measure the machine's load, not the kernels."""

unit = st.floats(0.0, 1.0, allow_nan=False)


@st.composite
def enrolments(draw):
    n, k = draw(st.integers(0, 40)), draw(st.integers(1, 8))
    weeks_left = draw(hnp.arrays(np.int16, (n, k), elements=st.integers(-1, 3)))
    mixed = np.flatnonzero(draw(hnp.arrays(bool, k)))
    village = draw(hnp.arrays(np.int8, n, elements=st.integers(0, 3)))
    by_village = draw(hnp.arrays(bool, k))
    pool_offset = np.cumsum([0] + [4 if b else 1 for b in by_village])[:-1].astype(np.int64)
    return weeks_left, mixed, village, by_village, pool_offset


@SETTINGS
@given(enrolments(), st.data())
def test_enrolment_and_doses_as_numpy(case, data):
    weeks_left, mixed, village, by_village, pool_offset = case
    n, k = weeks_left.shape
    cm = data.draw(hnp.arrays(float, (k, 5), elements=st.floats(-3, 3, allow_nan=False)))
    enrolled, taking_part, factor = np.empty((n, k), dtype=bool), np.empty(n, dtype=bool), np.empty((n, k))
    n_rows, members = kernels.enrolment_week(weeks_left, mixed, pool_offset, village, by_village, enrolled,
                                             taking_part, factor)
    d = np.zeros((cm.shape[1], n))
    kernels.spread_doses(d, factor[:n_rows] @ cm, taking_part)
    # Programme.doses and Programme.mixed_members in numpy
    want_enrolled = weeks_left > 0
    want_part = want_enrolled.any(axis=1)
    rows = np.flatnonzero(want_part)
    want_d = np.zeros((cm.shape[1], n))
    want_d[:, rows] = (want_enrolled[rows].astype(float) @ cm).T
    a, i = kernels.pairs_plain(want_enrolled[:, mixed].T)
    mk = mixed[a]
    np.testing.assert_array_equal(enrolled, want_enrolled)
    np.testing.assert_array_equal(taking_part, want_part)
    np.testing.assert_array_equal(d, want_d)  # the same BLAS product: bit for bit
    np.testing.assert_array_equal(members[0], mk)
    np.testing.assert_array_equal(members[1], i)
    np.testing.assert_array_equal(members[2], pool_offset[mk] + village[i] * by_village[mk])


@SETTINGS
@given(st.data())
def test_tie_makers_and_partners_as_numpy(data):
    n_pools = data.draw(st.integers(1, 5))
    m = data.draw(st.integers(0, 30))
    pool = np.array(data.draw(st.lists(st.integers(0, n_pools - 1), min_size=m, max_size=m)), dtype=np.int64)
    # members in index order within each pool, as the week's members are
    members = np.empty(m, dtype=np.int64)
    for p in range(n_pools):
        members[pool == p] = np.sort(np.random.default_rng(p).choice(100, (pool == p).sum(), replace=False))
    k = np.array(data.draw(st.lists(st.integers(0, 3), min_size=m, max_size=m)), dtype=np.int64)
    strength = data.draw(hnp.arrays(float, 4, elements=unit))
    group = data.draw(hnp.arrays(np.int8, 100, elements=st.integers(0, 2)))
    u = data.draw(hnp.arrays(float, m, elements=st.floats(0, 1, exclude_max=True)))
    rate = data.draw(unit)
    makes = kernels.tie_makers(u, k, rate, strength)
    np.testing.assert_array_equal(makes, np.flatnonzero(u < rate * strength[k]))
    u2 = data.draw(hnp.arrays(float, makes.size, elements=st.floats(0, 1, exclude_max=True)))
    src, dst = kernels.tie_partners(members, pool, makes, u2, group, n_pools)
    other = partners(members, pool, makes, u2)
    keep = group[members[makes]] != group[other]
    np.testing.assert_array_equal(src, members[makes][keep])
    np.testing.assert_array_equal(dst, other[keep])


def _network(seed: int, n: int = 60, groups: int = 3) -> SocialNetwork:
    group, _, src, dst = random_ties(np.random.default_rng(seed), n, groups, within_group=0.7)
    return SocialNetwork(group, src, dst, groups)


@SETTINGS
@given(st.integers(0, 1000), st.lists(st.lists(st.tuples(st.integers(0, 59), st.integers(0, 59)), max_size=40),
                                      max_size=5), st.booleans())
def test_add_ties_as_numpy(seed, batches, weighted):
    fast, plain = _network(seed), _network(seed)
    if weighted:  # the influence's weights (and a second set), kept up to date as ties come
        for net in (fast, plain):
            net.weighted_ties_to_non_members(0.4)
            net.weighted_ties_to_non_members(0.7)
    for batch in batches:
        pairs_ = np.array(batch, dtype=np.int64).reshape(-1, 2)
        cross = fast.group[pairs_[:, 0]] != fast.group[pairs_[:, 1]]
        src, dst = pairs_[cross, 0], pairs_[cross, 1]
        assert fast.add_ties(src, dst) == plain.add_ties_plain(src, dst)
        for name in ("_new_cells", "_new_rows", "_new_cols", "degree", "ties_by_group", "new_src", "new_dst"):
            np.testing.assert_array_equal(getattr(fast, name), getattr(plain, name), err_msg=name)
        for w, weights in plain._non_member_weights.items():
            np.testing.assert_array_equal(fast._non_member_weights[w], weights)
            np.testing.assert_array_equal(weights, plain._non_member_rows(slice(None), w))
        assert fast.n_ties == plain.n_ties
        x = np.random.default_rng(seed).random(fast.n)
        np.testing.assert_array_equal(fast.neighbour_sum(x), plain.neighbour_sum(x))


@SETTINGS
@given(st.integers(0, 30), st.data())
def test_recall_as_numpy(n, data):
    arrays = lambda: data.draw(hnp.arrays(float, n, elements=st.floats(0, 50, allow_nan=False)))
    contact_pos, forgotten_pos, contact_neg, forgotten_neg = arrays(), arrays(), arrays(), arrays()
    enrolled = data.draw(hnp.arrays(bool, (n, 5)))
    surveyed = np.flatnonzero(data.draw(hnp.arrays(bool, 5)))
    present = data.draw(hnp.arrays(bool, n))
    decay = data.draw(st.sampled_from([0.0, 0.1, data.draw(unit)]))
    attendance = data.draw(hnp.arrays(np.int32, n, elements=st.integers(0, 50)))
    want = attendance + enrolled[:, surveyed].any(axis=1)
    want_pos = forgotten_pos + (np.where(present, forgetting(contact_pos, forgotten_pos, decay), 0.0) if decay else 0.0)
    want_neg = forgotten_neg + (np.where(present, forgetting(contact_neg, forgotten_neg, decay), 0.0) if decay else 0.0)
    kernels.recall_week(attendance, enrolled, surveyed, present, decay, contact_pos, forgotten_pos, contact_neg,
                        forgotten_neg)
    np.testing.assert_array_equal(attendance, want)
    np.testing.assert_array_equal(forgotten_pos, want_pos)
    np.testing.assert_array_equal(forgotten_neg, want_neg)


@SETTINGS
@given(st.integers(0, 30), st.data())
def test_pss_as_numpy(n, data):
    arrays = lambda size=n: data.draw(hnp.arrays(float, size, elements=unit))
    coping, coping0, stigma, nb = arrays(), arrays(), arrays(), arrays()
    dose_c, dose_s = 3 * arrays(), 3 * arrays()
    capacity = arrays(3)
    village = data.draw(hnp.arrays(np.int8, n, elements=st.integers(0, 2)))
    p = Params(alpha_coping=data.draw(unit), coping_decay=data.draw(unit), capacity_sustain=data.draw(unit),
               alpha_stigma=data.draw(unit), stigma_peer=data.draw(unit))
    c, s = np.empty(n), np.empty(n)
    kernels.pss_week(coping, coping0, stigma, dose_c, dose_s, nb, capacity, village, p.alpha_coping, p.coping_decay,
                     p.capacity_sustain, p.alpha_stigma, p.stigma_peer, c, s)
    np.testing.assert_array_equal(c, np.clip(coping + coping_change(coping, coping0, dose_c, capacity[village], p), 0, 1))
    np.testing.assert_array_equal(s, np.clip(stigma + stigma_change(stigma, dose_s, nb, p), 0, 1))


@SETTINGS
@given(st.integers(0, 30), st.integers(1, 5), st.data())
def test_acknowledge_as_numpy(n, ng, data):
    ack = data.draw(hnp.arrays(float, n, elements=unit))
    dose = data.draw(hnp.arrays(float, n, elements=st.floats(0, 5)))
    pairs_ = data.draw(hnp.arrays(bool, (ng, ng)))
    group = data.draw(hnp.arrays(np.int8, n, elements=st.integers(0, ng - 1)))
    victims = pairs_.any(axis=1)[group]
    p = Params(acknowledgement_rate=data.draw(unit), w_ready_acknowledgement=data.draw(st.floats(-1, 1)))
    want = ack + acknowledgement_change(ack, dose * victims, p)
    want_bonus = p.w_ready_acknowledgement * want[:, None] * pairs_[group]
    bonus = np.empty((n, ng))
    kernels.acknowledge(ack, dose, victims, pairs_, group, p.acknowledgement_rate, p.w_ready_acknowledgement, bonus)
    np.testing.assert_array_equal(ack, want)
    np.testing.assert_array_equal(bonus, want_bonus)


@functools.cache
def _model() -> CohesionModel:
    return CohesionModel(build(small_raw(scale=8)), rng=1)


@SETTINGS
@given(st.integers(0, 80), st.data())
def test_cost_as_numpy(week, data):
    prog = _model().programme
    n, k = _model().state.n, len(prog)
    enrolled = data.draw(hnp.arrays(bool, (n, k), elements=st.booleans() if data.draw(st.booleans())
                                    else st.sampled_from([False] * 9 + [True])))
    taking_part = enrolled.any(axis=1)
    np.testing.assert_array_equal(prog.cost_quantities(week, enrolled, taking_part),
                                  prog.cost_quantities_plain(week, enrolled, taking_part))


STATES = ["coping", "stigma", "acknowledged", "attendance", "forgotten_pos", "forgotten_neg", "weeks_left", "ever",
          "wellbeing", "need", "barriers", "attitude", "contact_pos", "contact_neg", "tension"]


def test_array_plain_and_reference_forms_agree_week_after_week():
    raw = small_raw(scale=8)
    raw["events"] = [{"type": "security_incident", "week": 12, "magnitude": 0.2}]
    scenario = build(raw)
    params = Params(recall_decay=0.1, w_ready_acknowledgement=0.3, acknowledgement_rate=0.2)
    runs = {form: CohesionModel(scenario, params=params, rng=5, step_mode=form)
            for form in ("array", "plain", "reference")}
    fast = runs["array"]
    for _ in range(40):
        for m in runs.values():
            m.step()
        for form in ("plain", "reference"):
            other = runs[form]
            for name in STATES:
                a, b = getattr(fast.state, name), getattr(other.state, name)
                if form == "plain":
                    np.testing.assert_array_equal(a, b, err_msg=f"{name}, {form}, week {fast.week}")
                else:
                    np.testing.assert_allclose(b.astype(float), a.astype(float), rtol=0, atol=1e-9,
                                               err_msg=f"{name}, {form}, week {fast.week}")
            np.testing.assert_array_equal(fast.network.new_src, other.network.new_src)
            np.testing.assert_array_equal(fast.network.new_dst, other.network.new_dst)
            np.testing.assert_array_equal(fast.network.degree, other.network.degree)
            np.testing.assert_array_equal(fast.cost_quantities, other.cost_quantities)
            assert fast.cost == other.cost
    assert fast.network.new_src.size > 0 and fast.state.acknowledged.max() > 0 and fast.state.attendance.max() > 0
    assert fast.state.forgotten_pos.max() > 0
