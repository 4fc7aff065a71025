"""The benchmark suite runs (at a tiny size), and the shortcuts taken for speed compute what they replace."""

from __future__ import annotations

import json

import numpy as np

from benchmarks import bench
from model import CohesionModel
from model.influence import holders


def test_bench_quick_writes_table_and_json(tmp_path):
    assert bench.main(["--quick", "--runs", "0", "--sizes", "200", "--out", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "benchmark.json").read_text())
    assert res["qayyarah"]["stepping"] > 0 and res["floor"]["stepping"] > 0
    assert res["scaling"]["rows"][0]["households"] == 200
    assert res["scaling"]["rows"][0]["peak_rss_mb"] > 0
    assert "| target |" in (tmp_path / "benchmark.md").read_text()


def test_scaled_scenario_keeps_households_and_places_in_proportion():
    base = bench.base_scenario()
    big = bench.scaled_scenario(10 * base.n_households(), weeks=52)
    assert big.n_households() == 10 * base.n_households()
    assert big.horizon_weeks == 52
    for small, large in zip(base.programme, big.programme):
        assert large.capacity() == 10 * small.capacity()
    assert big.network == base.network


def test_tie_counts_give_the_same_weights_as_the_sparse_sum():
    m = CohesionModel(bench.scaled_scenario(600, weeks=52), rng=3).run()
    net = m.network
    assert net.new_src.size > 0  # activity ties are part of what is counted
    for w in (0.0, 0.3, 1.0):
        # the same terms summed in another order: equal up to rounding (sums of a few tens of terms)
        np.testing.assert_allclose(net.weighted_ties_to_non_members(w), net.weighted_sum(holders(m.state.group, net.n_groups), w),
                                   rtol=1e-13, atol=0)
