"""Cost-effectiveness analysis as health economics does it: frontier, ICERs, CEAC.

Three tools that the comparison (``experiments/compare.py``) can call on its per-replicate
``measures`` table (``endline.cost`` in USD, an effect such as ``endline.acceptance`` minus the
no-intervention scenario's, paired by replicate):

``frontier``
    The incremental analysis of mean cost and mean effect: options sorted by cost, strongly
    dominated options removed, then extendedly dominated ones, and the incremental
    cost-effectiveness ratio (ICER) of each remaining option against the previous one.
    The options left form the lower-right convex hull of the cost-effect points (cost on
    the vertical axis, effect on the horizontal one), the efficiency frontier.
``per_10k``
    Effect gained over no intervention per 10,000 USD spent: the plain ratio, not an ICER.
``acceptability`` and ``acceptability_frontier``
    The cost-effectiveness acceptability curve: for each willingness to pay per unit of
    effect, the probability that each option has the highest net monetary benefit
    ``wtp * effect - cost``, over draws that pair costs and effects (replicates x posterior
    draws x cost-assumption draws); and the acceptability frontier: at each willingness to pay,
    the option of highest expected net benefit and its probability of being the best buy.

Numbers are compared exactly (no tolerance): means from a simulation seldom tie by chance, and
ties that matter (options with the same assumed cost, an option compared with itself) are exact.
Round the inputs first if near-equal costs or effects should count as equal. Three options count
as lying on one line only when the cross products of their differences are exactly equal (as with
integers); with decimal fractions, binary rounding may put a middle option just on either side.

References: Drummond MF, Sculpher MJ, Claxton K, Stoddart GL, Torrance GW. Methods for the
Economic Evaluation of Health Care Programmes, 4th ed., Oxford University Press, 2015 (dominance,
extended dominance, ICERs); Cantor SB. Cost-effectiveness analysis, extended dominance, and
ethics: a quantitative assessment. Med Decis Making 1994;14:259-65; Fenwick E, Claxton K,
Sculpher M. Representing uncertainty: the role of cost-effectiveness acceptability curves.
Health Econ 2001;10:779-87.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REFERENCE = "reference"
FRONTIER = "frontier"
DOMINATED = "dominated"
EXTENDEDLY_DOMINATED = "extendedly dominated"
STATUSES = (REFERENCE, FRONTIER, DOMINATED, EXTENDEDLY_DOMINATED)
PER = 10_000.0
"""The money unit of ``per_10k`` (USD)."""


def _checked_options(table: pd.DataFrame) -> pd.DataFrame:
    """The table with float ``cost`` and ``effect``; ValueError on missing, repeated, bad values."""
    missing = {"option", "cost", "effect"} - set(table.columns)
    if missing:
        raise ValueError(f"the options table lacks column(s) {sorted(missing)}")
    if table["option"].duplicated().any():
        repeated = sorted(map(str, table.loc[table["option"].duplicated(), "option"].unique()))
        raise ValueError(f"options named more than once: {repeated}")
    out = table.copy()
    for col in ("cost", "effect"):
        values = pd.to_numeric(out[col], errors="coerce").astype(float)
        if not np.isfinite(values.to_numpy()).all():
            raise ValueError(f"every option needs a finite {col}; got {out[col].tolist()}")
        out[col] = values
    return out


def _strong_dominance(cost: np.ndarray, effect: np.ndarray) -> np.ndarray:
    """For options sorted by cost (up) then effect (down): the position of an option that
    dominates each one, or -1 for the undominated.

    An option is dominated when an option placed before it gives at least as much effect: that
    one costs no more (it is placed before), and it is strictly better in cost or effect, or it
    is an identical option listed earlier. The dominator named is the first option reaching
    the greatest effect so far (the cheapest of the most effective cheaper options).
    """
    by = np.full(len(cost), -1)
    best = -1
    for i in range(len(cost)):
        if best >= 0 and effect[best] >= effect[i]:
            by[i] = best
        else:
            best = i
    return by


def _convex_frontier(cost: np.ndarray, effect: np.ndarray, candidates: list[int]) -> list[int]:
    """The lower-right convex hull of the candidates (strictly increasing in cost and effect).

    A candidate whose ICER against the one before it is higher than or equal to the ICER of the
    next one against it is dropped (extended dominance), again and again until ICERs strictly
    increase; the comparison is made on cross products, so no division rounds it.
    """
    hull: list[int] = []
    for k in candidates:
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            # ICER(a->b) >= ICER(b->k), both effect differences positive
            left = (cost[b] - cost[a]) * (effect[k] - effect[b])
            if left >= (cost[k] - cost[b]) * (effect[b] - effect[a]):
                hull.pop()
            else:
                break
        hull.append(k)
    return hull


def frontier(table: pd.DataFrame) -> pd.DataFrame:
    """The efficiency frontier of options with a mean cost and a mean effect, with their ICERs.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per option: ``option`` (a unique name), ``cost`` and ``effect`` (finite
        numbers, more effect is better). Other columns are kept.

    Returns
    -------
    pandas.DataFrame
        The rows sorted by cost (then by effect, most first, then as listed), index reset, with
        three more columns:

        ``status``
            ``"reference"`` for the cheapest undominated option; ``"frontier"`` for the other
            options on the frontier; ``"dominated"`` (strongly dominated: another option costs
            no more and gives at least as much effect, one of them strictly); ``"extendedly
            dominated"`` (a mix of the two frontier options around it would give more effect
            for the same cost, or the same for less).
        ``compared_with``
            For a frontier option the previous frontier option (its comparator); for a dominated
            option an option that dominates it; for an extendedly dominated option the frontier
            option just cheaper than it; None for the reference.
        ``icer``
            Incremental cost per unit of incremental effect of a frontier option against the
            previous frontier option; NaN for the reference, dominated and extendedly dominated
            options. Along the frontier ICERs strictly increase.

    Notes
    -----
    Ties and equal costs, the rules chosen:

    - Options with the same cost: the most effective is kept, the others are dominated by it
      (it costs no more and gives strictly more). The cheapest option is therefore dominated
      when another option of the same cost gives more; the reference is the most effective of
      the cheapest options.
    - Options with the same effect: the cheapest is kept, the others are dominated by it.
    - Identical options (same cost and same effect): the one listed first in ``table`` is kept
      and the others are marked dominated by it, ``compared_with`` naming it. They add nothing,
      and keeping both would give an ICER of 0/0.
    - Three frontier candidates on a line (equal ICERs): the middle one is marked extendedly
      dominated (a mix of its neighbours gives the same effect at the same cost), so that ICERs
      strictly increase and the frontier is the set of corners of the convex hull.

    Strong dominance is found first, then extended dominance among the options left, removing
    iteratively (Drummond et al. 2015; Cantor 1994); the result does not depend on the order in
    which extendedly dominated options are removed.
    """
    t = _checked_options(table)
    t["_listed"] = np.arange(len(t))
    t = t.sort_values(["cost", "effect", "_listed"], ascending=[True, False, True], kind="stable")
    t = t.drop(columns="_listed").reset_index(drop=True)
    cost, effect, names = t["cost"].to_numpy(), t["effect"].to_numpy(), t["option"].tolist()
    status, compared, icer = _classify(cost, effect, names)
    t["status"], t["compared_with"], t["icer"] = status, pd.Series(compared, dtype=object), icer
    return t


def _classify(cost: np.ndarray, effect: np.ndarray, names: list) -> tuple[list, list, list]:
    """Status, comparator and ICER of options sorted as ``frontier`` sorts them."""
    by = _strong_dominance(cost, effect)
    hull = _convex_frontier(cost, effect, [i for i in range(len(cost)) if by[i] < 0])
    n = len(cost)
    status, compared, icer = [EXTENDEDLY_DOMINATED] * n, [None] * n, [np.nan] * n
    for i in np.flatnonzero(by >= 0):
        status[i], compared[i] = DOMINATED, names[by[i]]
    for pos, k in enumerate(hull):
        status[k] = REFERENCE if pos == 0 else FRONTIER
        if pos:
            prev = hull[pos - 1]
            compared[k] = names[prev]
            icer[k] = (cost[k] - cost[prev]) / (effect[k] - effect[prev])
    for i in range(n):
        if status[i] == EXTENDEDLY_DOMINATED:   # the last frontier option cheaper than it
            compared[i] = names[max(k for k in hull if cost[k] < cost[i])]
    return status, compared, icer


def per_10k(effect_gain, cost):
    """Effect gained over the no-intervention option per 10,000 USD spent.

    Parameters
    ----------
    effect_gain : float or array-like or pandas.Series
        The option's effect minus the no-intervention option's (e.g. endline acceptance,
        paired by replicate).
    cost : float or array-like or pandas.Series
        What the option costs in USD beyond the no-intervention option, zero or more
        (broadcast against ``effect_gain``).

    Returns
    -------
    float or numpy.ndarray or pandas.Series
        ``effect_gain / cost * 10_000``: a float for scalars, a Series (index of
        ``effect_gain``, or of ``cost``) when either is a Series, an array otherwise; two
        Series are aligned by label first. Where the cost is 0 the result is NaN, without a
        warning: an option that spends nothing has no gain per money spent. For the
        no-intervention option itself it is 0/0; a positive gain at no cost is better
        described as dominating (which ``frontier`` reports) than as an infinite rate that
        would rank above every real one. NaN inputs give NaN.

    Raises
    ------
    ValueError
        When a cost is negative: a saving turns the ratio's sign around (more gain per
        saving would read as worse), so it has no meaning as a rate.
    """
    if isinstance(effect_gain, pd.Series) and isinstance(cost, pd.Series):
        effect_gain, cost = effect_gain.align(cost)   # by label; a label in one only gives NaN
    index = next((x.index for x in (effect_gain, cost) if isinstance(x, pd.Series)), None)
    gain = np.asarray(effect_gain, dtype=float)
    spent = np.asarray(cost, dtype=float)
    if (spent < 0).any():
        raise ValueError(f"costs must be zero or more (USD spent); got {spent[spent < 0].min()}")
    gain, spent = np.broadcast_arrays(gain, spent)
    out = np.full(gain.shape, np.nan)
    np.divide(gain * PER, spent, out=out, where=spent > 0)
    if index is not None:
        return pd.Series(out, index=index)
    return float(out) if out.ndim == 0 else out


def _draws(values, name: str) -> np.ndarray:
    """A finite 2-D float array (draws, options) or ValueError."""
    a = np.asarray(values, dtype=float)
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"{name} must be a (draws, options) array with at least one of each; "
                         f"got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    return a


def _share_of_best(nmb: np.ndarray) -> np.ndarray:
    """Per option, the share of draws (rows) in which it has the highest value, ties split."""
    best = nmb == nmb.max(axis=1, keepdims=True)
    return (best / best.sum(axis=1, keepdims=True)).mean(axis=0)


def acceptability(cost_draws, effect_draws, wtp, options=None) -> pd.DataFrame:
    """The cost-effectiveness acceptability curve (CEAC) of mutually exclusive options.

    Parameters
    ----------
    cost_draws, effect_draws : array-like or pandas.DataFrame, shape (draws, options)
        Cost and effect of every option in every draw, paired by draw: row ``d`` of both comes
        from the same replicate, posterior draw and cost-assumption draw, so that the
        correlation between options and between cost and effect is kept.
    wtp : float or array-like
        Willingnesses to pay per unit of effect (USD), finite.
    options : list of str, optional
        The options' names; by default the columns of ``cost_draws`` when it is a DataFrame,
        else ``0, 1, ...``.

    Returns
    -------
    pandas.DataFrame
        Index ``wtp`` (as given), one column per option: the probability, over draws, that the
        option has the highest net monetary benefit ``wtp * effect - cost``. When several options
        share the highest net benefit in a draw (exact equality), each gets an equal share of
        that draw, so every row sums to 1.

    Notes
    -----
    This is the curve of Fenwick et al. (2001) for several options: each option's probability of
    being the one a decision maker with that willingness to pay would choose, were the draw the
    truth. It is not the probability that an option's ICER is below ``wtp``.
    """
    cost, effect = _draws(cost_draws, "cost_draws"), _draws(effect_draws, "effect_draws")
    if cost.shape != effect.shape:
        raise ValueError(f"cost_draws {cost.shape} and effect_draws {effect.shape} must be paired "
                         "by draw and option (the same shape)")
    lambdas = np.atleast_1d(np.asarray(wtp, dtype=float))
    if lambdas.ndim != 1 or not np.isfinite(lambdas).all():
        raise ValueError(f"wtp must be finite numbers; got {wtp!r}")
    if options is None:
        named = isinstance(cost_draws, pd.DataFrame)
        options = list(cost_draws.columns) if named else list(range(cost.shape[1]))
    if len(options) != cost.shape[1]:
        raise ValueError(f"{len(options)} option names for {cost.shape[1]} options")
    rows = [_share_of_best(lam * effect - cost) for lam in lambdas]
    return pd.DataFrame(rows, index=pd.Index(lambdas, name="wtp"),
                        columns=pd.Index(options, name="option"))


def acceptability_frontier(cost_draws, effect_draws, wtp, options=None) -> pd.DataFrame:
    """The cost-effectiveness acceptability frontier (CEAF) of Fenwick et al. (2001).

    Parameters are those of ``acceptability``. At each willingness to pay, the option a decision
    maker would choose is the one of highest *expected* net monetary benefit (mean over draws of
    ``wtp * effect - cost``), which need not be the one most often best in the draws (the CEAC's
    highest curve) when the net benefit's distribution is skewed. The frontier is that option's
    probability of being the best buy.

    Returns
    -------
    pandas.DataFrame
        One row per ``wtp``: ``wtp``, ``option`` (highest expected net benefit; the first listed on
        an exact tie), ``expected_nmb`` and ``probability`` (its value on the CEAC).
    """
    curve = acceptability(cost_draws, effect_draws, wtp, options)
    cost, effect = _draws(cost_draws, "cost_draws"), _draws(effect_draws, "effect_draws")
    rows = []
    for lam, probs in zip(curve.index, curve.to_numpy()):
        nmb = (lam * effect - cost).mean(axis=0)
        best = int(np.argmax(nmb))
        rows.append({"wtp": float(lam), "option": curve.columns[best], "expected_nmb": float(nmb[best]),
                     "probability": float(probs[best])})
    return pd.DataFrame(rows, columns=["wtp", "option", "expected_nmb", "probability"])
