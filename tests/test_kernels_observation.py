"""Observation and survey kernels (model/kernels.py, "observation and survey") give what their
plain numpy forms give, numpy's own sums to the bit; the DataCollector filled from the observer's
weekly records holds what Mesa's ``collect()`` every week would; the three step modes observe the
same."""

import mesa
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import CohesionModel, kernels
from model.observer import Collector
from tests.conftest import build, small_raw

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.integers(0, 3000), st.integers(0, 2**32 - 1))
def test_pairwise_is_numpys_sum_to_the_bit(n, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(n) * 10 ** rng.uniform(-4, 4, n)
    lo = int(rng.integers(0, n + 1))
    work, acc = np.empty((64, 3), dtype=np.int64), np.empty(64)
    assert kernels._pairwise(a, lo, n - lo, work, acc) == np.add.reduce(a[lo:])


def _cells(rng, in_order: bool, all_present: bool):
    ng, nv = int(rng.integers(1, 5)), int(rng.integers(1, 8))
    n, ncols = int(rng.integers(1, 700)), int(rng.integers(1, 8))
    group, village = rng.integers(0, ng, n), rng.integers(0, nv, n)
    if in_order:  # households in (village, group) blocks, as population.build_population makes them
        by_block = np.lexsort((group, village))
        group, village = group[by_block], village[by_block]
    cell, block = group * nv + village, village * ng + group
    order = np.argsort(block, kind="stable")
    starts = np.flatnonzero(np.diff(block[order], prepend=-1))
    present = np.ones(n, dtype=bool) if all_present else rng.random(n) < 0.7
    columns = [rng.random(n) * 10 ** rng.uniform(-2, 2) for _ in range(ncols)]
    own = rng.random((ng * nv, ncols)) < 0.2
    chosen = np.sort(rng.choice(ncols, int(rng.integers(0, ncols + 1)), replace=False)).astype(np.int64)
    return ng, nv, cell, order, starts, cell[order][starts], present, columns, own, chosen


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.booleans(), st.booleans())
def test_cell_means(seed, in_order, all_present):
    ng, nv, cell, order, starts, start_cell, present, columns, own, chosen = _cells(
        np.random.default_rng(seed), in_order, all_present)
    row, summary = kernels.cell_means(np.array(columns), order, starts, start_cell, present, own, chosen, ng, nv)
    plain_row, plain_summary = kernels.cell_means_plain(columns, cell, present, own, chosen, ng, nv)
    np.testing.assert_allclose(row, plain_row, rtol=1e-12)
    np.testing.assert_allclose(summary, plain_summary, rtol=1e-12)
    # to the bit what the observer computed before in numpy: np.add.reduceat over the blocks,
    # then the summary's sums over sums[:, chosen]
    values = [np.where(present, c, 0.0) for c in columns]
    counts = kernels.segment_sums([present], order, starts, start_cell, ng * nv)[:, 0]
    sums = kernels.segment_sums(values, order, starts, start_cell, ng * nv)
    means = sums / np.where(counts > 0, counts, np.nan)[:, None]
    means[own] = np.nan
    np.testing.assert_array_equal(row, np.column_stack([counts, means]))
    picked, size, everyone = sums[:, chosen], counts.reshape(ng, nv).sum(axis=1), counts.sum()
    np.testing.assert_array_equal(summary, np.concatenate([
        picked.sum(axis=0) / (everyone if everyone > 0 else np.nan),
        (picked.reshape(ng, nv, -1).sum(axis=1) / np.where(size > 0, size, np.nan)[:, None]).T.ravel()]))


@SETTINGS
@given(st.integers(0, 2**32 - 1))
def test_item_split_means(seed):
    rng = np.random.default_rng(seed)
    ng, nv, n, items = int(rng.integers(1, 5)), int(rng.integers(1, 8)), int(rng.integers(0, 400)), int(rng.integers(1, 6))
    answers = np.where(rng.random((items, n)) < 0.5, rng.random((items, n)), (rng.random((items, n)) < 0.5) * 1.0)
    answers[rng.random((items, n)) < 0.1] = np.nan
    there = rng.random((items, n)) < 0.9
    group, village = rng.integers(0, ng, n), rng.integers(0, nv, n)
    means, counts = kernels.item_split_means(answers, there, group, village, ng, nv)
    plain_means, plain_counts = kernels.item_split_means_plain(answers, there, group, village, ng, nv)
    np.testing.assert_array_equal(counts, plain_counts)
    np.testing.assert_array_equal(means, plain_means)  # both numpy's pairwise sum / count


def _small(**overrides):
    raw = small_raw(scale=8)
    raw["events"] = [{"type": "returns_wave", "week": 12, "magnitude": 0.3}]
    raw.update(overrides)
    return build(raw)


def test_datacollector_holds_what_collect_every_week_would():
    m = CohesionModel(_small(), rng=5)
    assert isinstance(m.datacollector, mesa.DataCollector)
    reference = mesa.DataCollector(model_reporters=m.observer._reporters(m))  # Mesa's, collected weekly
    reference.collect(m)
    for week in range(30):
        m.step()
        reference.collect(m)
        if week % 7 == 3:  # read part-way: later weeks are appended after the ones read
            assert len(m.datacollector.model_vars["week"]) == m.week + 1
    pd.testing.assert_frame_equal(m.datacollector.get_model_vars_dataframe(),
                                  reference.get_model_vars_dataframe(), check_exact=True)
    assert m.datacollector._collection_steps == reference._collection_steps
    assert list(m.datacollector.model_reporters) == list(reference.model_reporters)
    # Mesa's collect() still works, after the weeks recorded so far
    m.step()
    m.datacollector.collect(m)
    df = m.datacollector.get_model_vars_dataframe()
    assert len(df) == m.week + 2 and df["week"].iloc[-2:].tolist() == [m.week, m.week]
    assert df.iloc[-1].equals(df.iloc[-2])


def test_collector_with_no_week_recorded():
    c = Collector({"week": "week"}, [], lambda record: [record[1]])
    assert c.get_model_vars_dataframe().empty and c._collection_steps == []


def test_step_modes_observe_the_same():
    scenario = _small()
    models = [CohesionModel(scenario, rng=2, step_mode=mode) for mode in ("array", "plain", "reference")]
    for _ in range(scenario.survey.endline_week + 2):
        for m in models:
            m.step()
        for m in models[1:]:
            assert m.summary.keys() == models[0].summary.keys()
            np.testing.assert_allclose(list(m.summary.values()), list(models[0].summary.values()), rtol=1e-9)
    fast = models[0]
    for m in models[1:]:
        pd.testing.assert_frame_equal(m.timeseries(), fast.timeseries(), rtol=1e-9)
        pd.testing.assert_frame_equal(m.datacollector.get_model_vars_dataframe(),
                                      fast.datacollector.get_model_vars_dataframe(), rtol=1e-9)
        pd.testing.assert_frame_equal(m.survey_results(), fast.survey_results(), rtol=1e-9)
