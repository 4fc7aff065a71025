"""The network's compiled passes (model/kernels.py, "the network's sums") give what the scipy
products and numpy forms they replace give, bit for bit, on generated networks with and without
ties made by activities, with the baseline tie list in generate_ties's order (read from the CSR
rows) or not (tie by tie); and the three forms of the week agree for the mechanisms that use them."""

from types import SimpleNamespace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import CohesionModel, kernels
from model.influence import fj_change, neighbour_attitudes, neighbour_sums
from model.legitimisation import legitimisation_change, signal
from model.network import SocialNetwork
from model.params import Params
from tests.conftest import build, random_ties, small_raw

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _network(seed: int, n: int, ng: int, shuffled: bool, n_new: int) -> SocialNetwork:
    """A generated network of n households; ``shuffled``: the baseline tie list out of order and
    some ties reversed (not CSR order); ``n_new`` candidate activity ties in two batches."""
    rng = np.random.default_rng(seed)
    group, _, src, dst = random_ties(rng, n, ng, within_group=0.6)
    if shuffled and src.size:
        order = rng.permutation(src.size)
        flip = rng.random(src.size) < 0.5
        src, dst = np.where(flip, dst, src)[order], np.where(flip, src, dst)[order]
    net = SocialNetwork(group, src, dst, ng)
    net.weighted_ties_to_non_members(0.4)
    for batch in (n_new // 2, n_new - n_new // 2):
        a, b = rng.integers(0, n, batch), rng.integers(0, n, batch)
        cross = group[a] != group[b]
        net.add_ties(a[cross], b[cross])
    return net


networks = st.builds(_network, st.integers(0, 2**32 - 1), st.integers(1, 60), st.integers(2, 4), st.booleans(),
                     st.sampled_from([0, 0, 10, 40]))


@SETTINGS
@given(networks, st.integers(0, 2**32 - 1))
def test_neighbour_share_is_neighbour_mean(net, seed):
    flags = np.random.default_rng(seed).random(net.n) < 0.4
    want = net.neighbour_mean(flags.astype(float))
    np.testing.assert_array_equal(net.neighbour_share(flags), want)
    np.testing.assert_array_equal(kernels.neighbour_share_plain(*net.csr(), flags, net.degree, np.empty(net.n)), want)


@SETTINGS
@given(networks, st.integers(0, 2**32 - 1))
def test_upward_gap_csr_is_tie_by_tie(net, seed):
    x = np.random.default_rng(seed).random(net.n)
    ends, n_base, n_ties = net.tie_list()
    by_src, by_dst, made = np.empty(net.n), np.empty(net.n), np.zeros(net.n)
    for csr_order in {net.csr_order, False}:
        kernels.upward_gap_csr(net.base.indptr, net.base.indices, ends, n_base, n_ties, csr_order, x, by_src,
                               by_dst, made)
        src, dst = ends[0, :n_ties], ends[1, :n_ties]
        np.testing.assert_array_equal(by_src + by_dst, kernels.upward_gap_sums_plain(src, dst, x, net.n))
        np.testing.assert_array_equal(made, np.bincount(net.new_src, minlength=net.n)
                                      + np.bincount(net.new_dst, minlength=net.n))
        made[:] = 0.0


def _households(net: SocialNetwork, seed: int) -> SimpleNamespace:
    rng = np.random.default_rng(seed)
    ng = net.n_groups
    other = net.group[:, None] != np.arange(ng)
    return SimpleNamespace(group=net.group, other_mask=other, attitude=np.where(other, rng.random((net.n, ng)), 1.0),
                           anchor=rng.random((net.n, ng)), gap=0.2 * rng.random((net.n, ng)) - 0.1,
                           stubbornness=rng.random(net.n), village=(np.arange(net.n) % 3).astype(np.int8),
                           leadership=rng.random(3), cac=rng.random(net.n) < 0.3, present=rng.random(net.n) < 0.9)


@SETTINGS
@given(networks, st.integers(0, 2**32 - 1))
def test_influence_network_week(net, seed):
    hh = _households(net, seed)
    p = Params().with_values(influence_rate=0.3, outgroup_credibility=0.4)
    indptr, indices, _, new_rows, new_cols = net.csr()
    got = kernels.influence_network_week(indptr, indices, new_rows, new_cols, hh.group, hh.attitude, 0.4,
                                         net.weighted_ties_to_non_members(0.4), hh.gap, hh.anchor, hh.stubbornness,
                                         0.3, np.empty_like(hh.attitude), np.empty_like(hh.attitude))
    num, den = neighbour_sums(hh, net, p)  # the scipy products and the previous kernel: bit for bit
    np.testing.assert_array_equal(got, kernels.influence_week(hh.attitude, num, den, hh.gap, hh.anchor,
                                                              hh.stubbornness, hh.group, 0.3))
    m = neighbour_attitudes(hh, net, p) - hh.gap  # Influence.plain
    want = np.clip(hh.attitude + fj_change(hh.attitude, m, hh.anchor, hh.stubbornness[:, None], p) * hh.other_mask, 0, 1)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


@SETTINGS
@given(networks, st.integers(0, 2**32 - 1))
def test_legitimise_network_week(net, seed):
    hh = _households(net, seed)
    p = Params().with_values(legitimisation_rate=0.05, w_cac_seen=0.7)
    members = np.random.default_rng(seed + 1).integers(0, net.n, max(net.n // 3, 1))
    att, anchor = hh.attitude.copy(), hh.anchor.copy()
    kernels.legitimise_network_week(members, hh.cac, hh.village, hh.leadership, *net.csr(), net.degree, att, anchor,
                                    hh.group, hh.present, 0.05, 0.7, np.zeros(net.n, dtype=bool), np.zeros(3))
    mixing = np.zeros(net.n, dtype=bool)  # Legitimisation.plain
    mixing[members] = True
    here = np.bincount(hh.village[mixing], minlength=3) > 0
    seen = net.neighbour_mean((hh.cac & mixing).astype(float))
    s = signal(hh.leadership[hh.village], here[hh.village], seen, p) * hh.present
    da = legitimisation_change(hh.attitude, s[:, None], p) * hh.other_mask
    np.testing.assert_allclose(att, np.clip(hh.attitude + da, 0, 1), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(anchor, np.clip(hh.anchor + da, 0, 1), rtol=1e-12, atol=1e-15)
    old_att, old_anchor = hh.attitude.copy(), hh.anchor.copy()  # the previous kernel: bit for bit
    kernels.legitimise(old_att, old_anchor, hh.group, hh.village, hh.leadership, here.astype(float), seen, hh.present,
                       0.05, 0.7)
    np.testing.assert_array_equal(att, old_att)
    np.testing.assert_array_equal(anchor, old_anchor)


STATES = ["attitude", "anchor", "wellbeing", "need", "barriers", "stigma", "coping", "ever", "weeks_left"]


def test_three_forms_agree_week_after_week():
    """array (the compiled passes), plain (scipy and numpy) and reference (one household at a
    time): the same states every week, with ties made by activities on the way."""
    raw = small_raw(scale=8)
    raw["events"] = [{"type": "security_incident", "week": 8, "magnitude": 0.2}]
    scenario = build(raw)
    models = {form: CohesionModel(scenario, rng=5, step_mode=form) for form in ("array", "plain", "reference")}
    for _ in range(24):
        for model in models.values():
            model.step()
        array = models["array"]
        for form, atol in (("plain", 1e-12), ("reference", 1e-9)):
            for name in STATES:
                np.testing.assert_allclose(getattr(models[form].state, name).astype(float),
                                           getattr(array.state, name).astype(float), rtol=0, atol=atol,
                                           err_msg=f"{form}: {name} differs at week {array.week}")
    assert array.network.new_src.size > 0 and array.state.ever.any()
