"""The cost-effectiveness analysis module (experiments/cea.py): frontier and ICERs on worked
examples and on generated tables, the acceptability curve, gain per 10,000 USD."""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments import cea

SETTINGS = settings(max_examples=100, deadline=None)


def _table(rows: list[tuple[str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["option", "cost", "effect"])


def _by_option(result: pd.DataFrame) -> dict[str, tuple[str, object, float]]:
    return {r.option: (r.status, r.compared_with, r.icer) for r in result.itertuples()}


def _assert_result(result: pd.DataFrame, expected: dict[str, tuple[str, object, float]]) -> None:
    got = _by_option(result)
    assert set(got) == set(expected)
    for option, (status, compared, icer) in expected.items():
        assert got[option][:2] == (status, compared), option
        np.testing.assert_allclose(got[option][2], icer, rtol=1e-12, err_msg=option)


# --- worked examples ---------------------------------------------------------------------------

def test_frontier_on_the_johns_hopkins_teaching_example():
    """Five mutually exclusive options, costs in dollars and effects in QALYs, as tabulated in
    Kevin Frick's lecture "Decision Rules" (Lecture 11, Johns Hopkins Bloomberg School of Public
    Health OpenCourseWare, 2007, CC BY-NC-SA), tables "Incremental Cost-Effectiveness Table - 1"
    (the five options) and "- 2" (options 2, 1, 4, 3 sorted by cost, option 5 removed).

    Honest note: the brief asked for the classic example of Drummond et al. (Methods for the
    Economic Evaluation of Health Care Programmes) or the York/Briggs teaching example; their
    exact numbers could not be checked here, so they are not used. The numbers below are the
    lecture's as read; the lecture's own incremental columns were not available, so the
    expected statuses and ICERs are derived by hand in the comments.

    Sorted by cost:      option 2   200,000   20
                         option 1   300,000   25
                         option 4   375,000   40
                         option 5   400,000   15
                         option 3   450,000   50
    Strong dominance: option 5 costs more than options 2, 1 and 4 and gives fewer QALYs than
    any of them (15 < 20): dominated. compared_with names the dominator chosen by the rule (the
    cheapest of the most effective cheaper options): option 4 (40 QALYs, 375,000).
    Extended dominance, round 1 (options 2, 1, 4, 3):
        1 vs 2: (300,000 - 200,000) / (25 - 20) = 100,000 / 5  = 20,000 per QALY
        4 vs 1: (375,000 - 300,000) / (40 - 25) =  75,000 / 15 =  5,000
        3 vs 4: (450,000 - 375,000) / (50 - 40) =  75,000 / 10 =  7,500
        20,000 > 5,000: option 1 is extendedly dominated.
    Round 2 (options 2, 4, 3):
        4 vs 2: (375,000 - 200,000) / (40 - 20) = 175,000 / 20 =  8,750
        3 vs 4:                                                    7,500
        8,750 > 7,500: option 4 is extendedly dominated as well (it only showed once 1 was gone).
    Round 3 (options 2, 3):
        3 vs 2: (450,000 - 200,000) / (50 - 20) = 250,000 / 30 =  8,333.33...
    Check by mixing 2 and 3: 2/3 of option 3 and 1/3 of option 2 give 40 QALYs for
    200,000 + 2/3 * 250,000 = 366,667 < 375,000 (option 4); 1/6 of option 3 gives 25 QALYs for
    241,667 < 300,000 (option 1).
    """
    table = _table([("1", 300_000, 25), ("2", 200_000, 20), ("3", 450_000, 50),
                    ("4", 375_000, 40), ("5", 400_000, 15)])
    result = cea.frontier(table)
    assert result["option"].tolist() == ["2", "1", "4", "5", "3"]          # sorted by cost
    _assert_result(result, {
        "2": ("reference", None, np.nan),
        "1": ("extendedly dominated", "2", np.nan),      # frontier option just cheaper: 2
        "4": ("extendedly dominated", "2", np.nan),
        "5": ("dominated", "4", np.nan),
        "3": ("frontier", "2", 250_000 / 30),             # 8,333.33 per QALY
    })


def test_frontier_on_a_constructed_case_with_every_kind_of_dominance():
    """A constructed case (no published source), derived by hand: strong dominance, extended
    dominance, two options of equal cost, and the cheapest option dominated.

    Costs in USD, effects in percentage points of acceptance. Sorted by cost, then effect
    (most first):
        B   1,000   5
        A   1,000   2    same cost as B, less effect: dominated by B (A is the cheapest option
                         listed first and still dominated; the reference is B)
        C   4,000   8
        D   5,000  15
        E   5,000  12    same cost as D, less effect: dominated by D
        F   7,000  11    costs more than D and gives less: dominated by D
        G  12,000  20
    Extended dominance among B, C, D, G:
        C vs B: (4,000 - 1,000) / (8 - 5)   = 3,000 / 3  = 1,000 per point
        D vs C: (5,000 - 4,000) / (15 - 8)  = 1,000 / 7  =   142.86
        1,000 > 142.86: C extendedly dominated.
        D vs B: (5,000 - 1,000) / (15 - 5)  = 4,000 / 10 =   400
        G vs D: (12,000 - 5,000) / (20 - 15) = 7,000 / 5 = 1,400
        400 < 1,400: the frontier is B, D, G.
    """
    table = _table([("A", 1_000, 2), ("B", 1_000, 5), ("C", 4_000, 8), ("D", 5_000, 15),
                    ("E", 5_000, 12), ("F", 7_000, 11), ("G", 12_000, 20)])
    result = cea.frontier(table)
    assert result["option"].tolist() == ["B", "A", "C", "D", "E", "F", "G"]
    _assert_result(result, {
        "B": ("reference", None, np.nan),
        "A": ("dominated", "B", np.nan),
        "C": ("extendedly dominated", "B", np.nan),
        "D": ("frontier", "B", 400.0),
        "E": ("dominated", "D", np.nan),
        "F": ("dominated", "D", np.nan),
        "G": ("frontier", "D", 1_400.0),
    })


def test_identical_options_keep_the_one_listed_first():
    # Y and X are the same point: Y (listed first) stays, X is dominated by it
    result = cea.frontier(_table([("Y", 100, 1), ("X", 100, 1), ("Z", 200, 3)]))
    _assert_result(result, {
        "Y": ("reference", None, np.nan),
        "X": ("dominated", "Y", np.nan),
        "Z": ("frontier", "Y", 50.0),                     # (200 - 100) / (3 - 1)
    })


def test_options_on_one_line_keep_the_corners_only():
    # Q lies on the segment P-R: ICER 10 both sides, so Q is extendedly dominated (a tie)
    result = cea.frontier(_table([("P", 0, 0), ("Q", 10, 1), ("R", 20, 2)]))
    _assert_result(result, {
        "P": ("reference", None, np.nan),
        "Q": ("extendedly dominated", "P", np.nan),
        "R": ("frontier", "P", 10.0),
    })


def test_equal_effect_keeps_the_cheapest_and_one_option_is_its_own_reference():
    result = cea.frontier(_table([("dear", 300, 4), ("cheap", 100, 4)]))
    _assert_result(result, {"cheap": ("reference", None, np.nan),
                            "dear": ("dominated", "cheap", np.nan)})
    alone = cea.frontier(_table([("only", 5, 1)]))
    _assert_result(alone, {"only": ("reference", None, np.nan)})


def test_frontier_keeps_other_columns_and_leaves_its_input_alone():
    table = _table([("a", 2, 1), ("b", 1, 0)]).assign(note=["x", "y"])
    before = table.copy()
    result = cea.frontier(table)
    assert result["note"].tolist() == ["y", "x"]
    assert list(result.columns) == ["option", "cost", "effect", "note",
                                    "status", "compared_with", "icer"]
    pd.testing.assert_frame_equal(table, before)
    assert cea.frontier(_table([])).empty


@pytest.mark.parametrize("table, message", [
    (pd.DataFrame({"option": ["a"], "cost": [1.0]}), "effect"),
    (_table([("a", 1, 1), ("a", 2, 2)]), "more than once"),
    (_table([("a", np.nan, 1)]), "finite cost"),
    (_table([("a", 1, np.inf)]), "finite effect"),
])
def test_frontier_refuses_bad_tables(table, message):
    with pytest.raises(ValueError, match=message):
        cea.frontier(table)


# --- properties on generated tables ------------------------------------------------------------

points = st.lists(st.tuples(st.integers(0, 30), st.integers(-10, 10)), min_size=1, max_size=9)
"""Small integer ranges, so that equal costs, equal effects, identical options and options on
one line are frequent; integers keep the hull oracle exact."""


def _named(pts: list[tuple[int, int]]) -> pd.DataFrame:
    return _table([(f"o{i}", c * 1_000, e) for i, (c, e) in enumerate(pts)])


def _strictly_dominates(j, i) -> bool:
    return j.cost <= i.cost and j.effect >= i.effect and (j.cost < i.cost or j.effect > i.effect)


def _hull_oracle(table: pd.DataFrame) -> set[str]:
    """The corners of the lower-right convex hull, found without the module's method: an option
    is a corner when, for some willingness to pay w > 0, it alone (identical copies counted
    once, the first listed) has the highest w * effect - cost, i.e. a supporting line of slope w
    touches the point set there only. The best option changes only at the pairwise ICERs, so
    testing one w inside each interval between them (and beyond both ends) is enough. Exact
    arithmetic (fractions)."""
    pts = list(dict.fromkeys(zip(table["cost"], table["effect"])))          # first listed kept
    same = {p: (table["cost"] == p[0]) & (table["effect"] == p[1]) for p in pts}
    first = {p: table["option"][mask].iloc[0] for p, mask in same.items()}
    breaks = sorted({Fraction(int(c2 - c1), int(e2 - e1)) for c1, e1 in pts for c2, e2 in pts
                     if e2 != e1 and Fraction(int(c2 - c1), int(e2 - e1)) > 0})
    edges = [Fraction(0), *breaks]
    tests = [(a + b) / 2 for a, b in zip(edges, edges[1:])] + [edges[-1] + 1]
    corners = set()
    for w in tests:
        nmb = [w * int(e) - int(c) for c, e in pts]
        best = [p for p, v in zip(pts, nmb) if v == max(nmb)]
        if len(best) == 1:
            corners.add(first[best[0]])
    return corners


@SETTINGS
@given(points)
def test_frontier_properties(pts):
    table = _named(pts)
    result = cea.frontier(table)
    assert set(result["status"]) <= set(cea.STATUSES)
    assert (result["status"] == "reference").sum() == 1
    assert result["cost"].is_monotonic_increasing
    front = result[result["status"].isin(["reference", "frontier"])]
    # ICERs positive and strictly increasing along the frontier, each against the previous one
    icers = front["icer"].to_numpy()[1:]
    assert (icers > 0).all() and (np.diff(icers) > 0).all()
    assert front["compared_with"].tolist()[1:] == front["option"].tolist()[:-1]
    np.testing.assert_allclose(icers, np.diff(front["cost"]) / np.diff(front["effect"]), rtol=1e-12)
    assert result.loc[~result.index.isin(front.index), "icer"].isna().all()
    # no frontier option is strongly dominated; every dominated option is, by the one named
    # (or is an identical copy of an option listed before it)
    rows = {r.option: r for r in result.itertuples()}
    listed = {o: k for k, o in enumerate(table["option"])}
    for r in front.itertuples():
        assert not any(_strictly_dominates(j, r) for j in rows.values())
    for r in result[result["status"] == "dominated"].itertuples():
        j = rows[r.compared_with]
        identical = (j.cost, j.effect) == (r.cost, r.effect)
        identical_earlier = identical and listed[j.option] < listed[r.option]
        assert _strictly_dominates(j, r) or identical_earlier
    # the frontier is the set of corners of the lower-right convex hull
    assert set(front["option"]) == _hull_oracle(table)


@SETTINGS
@given(points)
def test_undominated_options_lie_on_or_above_the_frontier(pts):
    """Every option costs at least what the frontier (its piecewise-linear curve) costs for the
    same effect, and none gives more effect than the frontier's last option."""
    result = cea.frontier(_named(pts))
    front = result[result["status"].isin(["reference", "frontier"])]
    fc, fe = front["cost"].to_numpy(), front["effect"].to_numpy()
    assert result["effect"].max() == fe[-1] and result["cost"].min() == fc[0]
    for r in result.itertuples():
        if r.effect >= fe[0]:
            assert r.cost >= np.interp(r.effect, fe, fc) - 1e-9 * max(1.0, abs(r.cost))


@SETTINGS
@given(points, st.randoms(use_true_random=False))
def test_frontier_does_not_depend_on_the_order_of_the_rows(pts, rnd):
    pts = list(dict.fromkeys(pts))               # identical options depend on order, by design
    table = _named(pts)
    shuffled = table.sample(frac=1, random_state=rnd.randint(0, 2**31)).reset_index(drop=True)
    a, b = _by_option(cea.frontier(table)), _by_option(cea.frontier(shuffled))
    assert {o: v[0] for o, v in a.items()} == {o: v[0] for o, v in b.items()}


# --- acceptability curve -----------------------------------------------------------------------

def test_acceptability_hand_checked_with_ties():
    """Three options, four paired draws; net benefit w * effect - cost by hand.

    draw  costs A B C   effects A B C   w = 0 (-cost)   w = 10         w = 20
    0     0  10  20     0  1    2       A               0, 0, 0: tie   0, 10, 20: C
    1     0  10  20     0  2    1       A               0, 10, -10: B  0, 30, 0: B
    2     0  10  20     0  0.5  3       A               0, -5, 10: C   0, 0, 40: C
    3     0  10  10     0  1    1       A               0, 0, 0: tie   0, 10, 10: B/C tie
    w = 10: A (1/3 + 1/3) / 4 = 1/6, B (1/3 + 1 + 1/3) / 4 = 5/12, C (1/3 + 1 + 1/3) / 4 = 5/12
    w = 20: A 0, B (1 + 1/2) / 4 = 3/8, C (1 + 1 + 1/2) / 4 = 5/8
    """
    costs = pd.DataFrame([[0, 10, 20], [0, 10, 20], [0, 10, 20], [0, 10, 10]],
                         columns=list("ABC"))
    effects = np.array([[0, 1, 2], [0, 2, 1], [0, 0.5, 3], [0, 1, 1]])
    curve = cea.acceptability(costs, effects, [0, 10, 20])
    expected = pd.DataFrame([[1, 0, 0], [1 / 6, 5 / 12, 5 / 12], [0, 3 / 8, 5 / 8]],
                            index=pd.Index([0.0, 10.0, 20.0], name="wtp"),
                            columns=pd.Index(list("ABC"), name="option"))
    pd.testing.assert_frame_equal(curve, expected, rtol=1e-12)


draws = st.integers(1, 40).flatmap(lambda n: st.integers(1, 5).flatmap(lambda k: st.tuples(
    st.lists(st.integers(0, 5), min_size=k, max_size=k, unique=True),            # fixed costs
    st.lists(st.lists(st.integers(-3, 3), min_size=k, max_size=k), min_size=n, max_size=n))))


@SETTINGS
@given(draws, st.lists(st.integers(0, 50), min_size=1, max_size=6))
def test_acceptability_properties(data, wtps):
    fixed, eff = data
    effects = np.array(eff, dtype=float)
    costs = np.tile(np.array(fixed, dtype=float) * 100, (len(effects), 1))
    curve = cea.acceptability(costs, effects, [0, *wtps, 1e9])
    np.testing.assert_allclose(curve.sum(axis=1), 1.0, rtol=1e-12)
    assert ((curve >= 0) & (curve <= 1)).all().all()
    # at wtp 0 with fixed costs the cheapest option wins every draw
    np.testing.assert_array_equal(curve.iloc[0], np.eye(len(fixed))[np.argmin(fixed)])
    # at a very large wtp the most effective option of each draw wins it (ties in effect are
    # broken by cost, which here never ties: costs are fixed and distinct)
    top = effects == effects.max(axis=1, keepdims=True)
    nmb = np.where(top, -costs, -np.inf)
    winner = np.argmax(nmb, axis=1)
    share = np.bincount(winner, minlength=len(fixed)) / len(effects)
    np.testing.assert_allclose(curve.iloc[-1], share)


def test_acceptability_agrees_with_the_frontier_without_uncertainty():
    # one draw equal to the means of the teaching example: option 2 up to the ICER of 3 vs 2
    # (8,333.33 per QALY), option 3 above it; 1, 4 and 5 never
    options = ["1", "2", "3", "4", "5"]
    cost = np.array([[300_000, 200_000, 450_000, 375_000, 400_000]])
    effect = np.array([[25, 20, 50, 40, 15]])
    curve = cea.acceptability(cost, effect, [0, 5_000, 8_000, 8_500, 50_000], options=options)
    assert curve.idxmax(axis=1).tolist() == ["2", "2", "2", "3", "3"]
    assert (curve.max(axis=1) == 1).all()


@pytest.mark.parametrize("cost, effect, wtp, message", [
    (np.zeros((3, 2)), np.zeros((3, 3)), [1], "paired"),
    (np.zeros(3), np.zeros(3), [1], "shape"),
    (np.full((2, 2), np.nan), np.zeros((2, 2)), [1], "NaN"),
    (np.zeros((2, 2)), np.zeros((2, 2)), [np.inf], "wtp"),
])
def test_acceptability_refuses_bad_draws(cost, effect, wtp, message):
    with pytest.raises(ValueError, match=message):
        cea.acceptability(cost, effect, wtp)


# --- gain per 10,000 USD -----------------------------------------------------------------------

def test_per_10k_on_simple_numbers():
    assert cea.per_10k(12.0, 30_000) == pytest.approx(4.0)          # 12 points for 30k: 4 per 10k
    assert cea.per_10k(0.05, 2_500) == pytest.approx(0.2)
    assert cea.per_10k(-3, 10_000) == pytest.approx(-3.0)           # a loss stays a loss
    with warnings.catch_warnings():
        warnings.simplefilter("error")                               # no divide-by-zero warning
        out = cea.per_10k(np.array([0.1, 0.2, 0.0, np.nan]), np.array([5_000, 0, 0, 1_000]))
    np.testing.assert_allclose(out, [0.2, np.nan, np.nan, np.nan])
    assert np.isnan(cea.per_10k(0.0, 0.0))                           # the no-intervention option


def test_per_10k_keeps_labels_and_refuses_savings():
    gain = pd.Series([0.3, 0.1], index=["layered", "pss_only"])
    cost = pd.Series([50_000.0, 20_000.0], index=["pss_only", "layered"])
    out = cea.per_10k(gain, cost)                                    # aligned by label
    pd.testing.assert_series_equal(out, pd.Series([0.15, 0.02], index=["layered", "pss_only"]))
    with pytest.raises(ValueError, match="zero or more"):
        cea.per_10k(1.0, -5.0)
