"""The respondent model: how a survey respondent answers questions about perceived change
(docs/survey.md; docs/model.md, section 7.9).

The items about change are self-reports by people who took part in a programme, asked once, at
the endline, about then and now. Each is answered per respondent in two parts:

- **the reading of the state** (``reading_<item>``): the respondent's lived change since the
  baseline, read off the model's state, and the answer an instrument would give (all bias
  parameters at 0);
- **the answer** (``<item>``): the same lived change as a participant reports it (DOMAIN.md,
  "Evidence": reported change = lived change + shift of the recalled baseline + desirability,
  answered "yes" above a personal cut-off):

      reported_ij = L_ij(recall) + took_i * (s_j * recall_shift + d_j * desirability)
      yes_ij      = reported_ij - cutoff_sd * z_i  >=  tau_j

  ``L_ij`` is item j's lived change (a share of its 0-1 scale), with encounters weighted to recent
  weeks (``recall_decay``, model/recall.py); ``took_i`` whether the respondent took part in a
  surveyed activity (the biases are about a programme one took part in); ``s_j`` and ``d_j`` are
  +1 for items that report improvement (the recalled start is worse, Howard et al. 1979, Conway
  and Ross 1984; the improvement is the desirable answer, Hill and Betz 2005) and -1 for the item
  that reports harm (tension created); the rating of encounters compares with no recalled start
  (``s_j = 0``); ``z_i`` is the respondent's personal cut-off, a standard
  normal drawn from the survey's stream (``cutoff_z`` of the endline reading); ``tau_j`` the
  item's threshold. With every bias parameter at 0 the answer is the reading, exactly. Items
  about the programme itself (tension reduced or created by it, its initiatives' effectiveness)
  are asked only of those who took part (NaN for the others).

Lived changes, per respondent i (b: baseline, e: endline reading; ``v`` the respondent's village):

- perceptions ``dA_i``: mean attitude towards the other groups, ``e - b``;
- interactions ``dI_i``: ``I(P) = P / (P + frequent_ties)`` of the positive cross-group ties P
  (ties to members of groups viewed at or above ``acceptance_threshold``), ``e - b``;
- encounters since the baseline, positive and negative (``contact_pos``, ``contact_neg``, as the
  contact mechanism counts them), and their shares;
- felt tension ``T_v * (1 - mean attitude)``: the village's tension, felt more by those who view
  the other groups less well, and its change ``dT_i``; well-being ``dW_i`` (share of the WEMWBS range).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .state import wellbeing_share

if TYPE_CHECKING:  # type names only
    from .outcomes import Reading

HAD_CONTACT = 1e-9  # encounters since the baseline above this: the respondent met other groups


# --- what the respondent lived (all bias parameters at 0) ----------------------------------------
def took_part(r: "Reading") -> np.ndarray:
    """Took part in an activity the survey asks about (weeks attended, model/recall.py)."""
    attendance = getattr(r, "attendance", None)
    return (attendance > 0) if attendance is not None else r.ever.astype(bool)


def personal_cutoff(r: "Reading") -> np.ndarray:
    """Each respondent's standard-normal cut-off deviation (0 where the reading has none)."""
    z = getattr(r, "cutoff_z", None)
    return np.zeros(r.n) if z is None else z


def perception_change(r: "Reading") -> np.ndarray:
    return r.mean_other - r.base.mean_other


def interaction_level(positive_ties: np.ndarray, frequent_ties: float) -> np.ndarray:
    """Interactions with people of other groups viewed positively, on a 0-1 scale (half at the
    number of ties counted as frequent)."""
    return positive_ties / (positive_ties + frequent_ties)


def interaction_change(r: "Reading") -> np.ndarray:
    f = r.params.frequent_ties
    return interaction_level(r.positive_ties, f) - interaction_level(r.base.positive_ties, f)


def felt_tension(r: "Reading") -> np.ndarray:
    """Tension as the respondent feels it: the village's tension, felt more by those who view the
    other groups less well (0-1)."""
    return r.tension[r.village] * (1.0 - r.mean_other)


def tension_change(r: "Reading") -> np.ndarray:
    """The change of the tension the respondent feels since the baseline (negative: it fell)."""
    return felt_tension(r) - felt_tension(r.base)


def wellbeing_change(r: "Reading") -> np.ndarray:
    return wellbeing_share(r.wellbeing) - wellbeing_share(r.base.wellbeing)


def encounters(r: "Reading", recalled: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Positive and negative encounters since the baseline: as counted, or as ``recalled``, each
    week's weighted by ``(1 - recall_decay)`` per week before the endline. The recalled sum kept
    by model/recall.py is ``R = contact - forgotten``; since the baseline it is
    ``R(e) - (1 - recall_decay)^(e - b) * R(b)`` (the counted one at ``recall_decay = 0``)."""
    if not recalled:
        return r.contact_pos - r.base.contact_pos, r.contact_neg - r.base.contact_neg
    keep = (1.0 - r.params.recall_decay) ** (r.week - r.base.week)
    out = []
    for c in ("pos", "neg"):
        now = getattr(r, f"contact_{c}") - _forgotten(r, c)
        then = getattr(r.base, f"contact_{c}") - _forgotten(r.base, c)
        out.append(now - keep * then)
    return out[0], out[1]


def _forgotten(r: "Reading", c: str) -> np.ndarray | float:
    value = getattr(r, f"forgotten_{c}", None)
    return 0.0 if value is None else value


def had_encounters(r: "Reading") -> np.ndarray:
    pos, neg = encounters(r)
    return (pos + neg) > HAD_CONTACT


def positive_share(r: "Reading", recalled: bool = False) -> np.ndarray:
    """Share of the encounters since the baseline that were positive (NaN without encounters)."""
    pos, neg = encounters(r, recalled)
    total = pos + neg
    return np.where(had_encounters(r), pos / np.where(total > 0, total, 1.0), np.nan)


def negative_share(r: "Reading", recalled: bool = False) -> np.ndarray:
    """Share of the encounters since the baseline that were negative (0 without encounters)."""
    pos, neg = encounters(r, recalled)
    total = pos + neg
    return np.where(had_encounters(r), neg / np.where(total > 0, total, 1.0), 0.0)


def tension_reduction(r: "Reading") -> np.ndarray:
    """Lived reduction of tension: the fall of the tension the respondent feels."""
    return -tension_change(r)


def tension_rise(r: "Reading", recalled: bool = False) -> np.ndarray:
    """Lived creation of tension by the programme: the rise of the tension one feels, plus the
    share of one's encounters that went badly times the smallest change noticed
    (``perception_delta``). A rise of felt tension is put down to the programme more readily the
    worse one's encounters in it went: with every encounter bad, any rise counts; with none, a rise
    of ``perception_delta``."""
    return tension_change(r) + r.params.perception_delta * negative_share(r, recalled)


def own_gain(r: "Reading") -> np.ndarray:
    """What the respondent gained: well-being (share of the range) plus attitude to the others."""
    return wellbeing_change(r) + perception_change(r)


def participants_only(r: "Reading", yes: np.ndarray) -> np.ndarray:
    """An item about the programme itself: asked only of those who took part (NaN for the others)."""
    return np.where(took_part(r), yes, np.nan)


# --- the readings of the state ---------------------------------------------------------------------
def reading_improved_perceptions(r: "Reading") -> np.ndarray:
    return perception_change(r) >= r.params.perception_delta


def reading_improved_interactions(r: "Reading") -> np.ndarray:
    return interaction_change(r) >= r.params.perception_delta


def reading_positive_view_shift(r: "Reading") -> np.ndarray:
    theta = r.params.acceptance_threshold
    return ((r.base.attitude < theta) & (r.attitude >= theta) & r.other).any(axis=1)


def reading_rated_interactions_positive(r: "Reading") -> np.ndarray:
    return positive_share(r)


def reading_tension_reduced(r: "Reading") -> np.ndarray:
    return participants_only(r, tension_reduction(r) >= r.params.perception_delta)


def reading_tension_created(r: "Reading") -> np.ndarray:
    return participants_only(r, tension_rise(r) >= r.params.perception_delta)


def reading_initiatives_very_effective(r: "Reading") -> np.ndarray:
    return participants_only(r, own_gain(r) >= r.params.very_effective_gain)


# --- the answers ---------------------------------------------------------------------------------
def bias(r: "Reading", sign: float = 1.0) -> np.ndarray:
    """Recalled-baseline shift plus desirability, for participants; ``sign`` -1 for an item that
    reports harm (the recalled start was worse, and harm is the undesirable answer)."""
    p = r.params
    return took_part(r) * (sign * (p.recall_shift + p.desirability))


def leniency(r: "Reading") -> np.ndarray:
    """How far a respondent's personal cut-off lies below the item's threshold."""
    return -r.params.cutoff_sd * personal_cutoff(r)


def improved_perceptions(r: "Reading") -> np.ndarray:
    return perception_change(r) + bias(r) + leniency(r) >= r.params.perception_delta


def improved_interactions(r: "Reading") -> np.ndarray:
    return interaction_change(r) + bias(r) + leniency(r) >= r.params.perception_delta


def positive_view_shift(r: "Reading") -> np.ndarray:
    """Some other group, viewed below the (personal) threshold as recalled at the baseline, is
    viewed at or above it now: the recalled baseline is lowered by the shift, the present view
    lifted by desirability."""
    p, took = r.params, took_part(r)[:, None]
    cut = p.acceptance_threshold - leniency(r)[:, None]
    then = r.base.attitude - took * p.recall_shift
    now = r.attitude + took * p.desirability
    return ((then < cut) & (now >= cut) & r.other).any(axis=1)


def rated_interactions_positive(r: "Reading") -> np.ndarray:
    """Share of one's encounters since the baseline rated positive, as recalled (recent weeks
    weigh more), lifted by desirability (a share: clipped to [0, 1]; NaN without encounters)."""
    p = r.params
    share = positive_share(r, recalled=True) + took_part(r) * p.desirability + leniency(r)
    return np.clip(share, 0.0, 1.0)


def tension_reduced(r: "Reading") -> np.ndarray:
    return participants_only(r, tension_reduction(r) + bias(r) + leniency(r) >= r.params.perception_delta)


def tension_created(r: "Reading") -> np.ndarray:
    yes = tension_rise(r, recalled=True) + bias(r, -1.0) + leniency(r) >= r.params.perception_delta
    return participants_only(r, yes)


def initiatives_very_effective(r: "Reading") -> np.ndarray:
    return participants_only(r, own_gain(r) + bias(r) + leniency(r) >= r.params.very_effective_gain)


ITEMS = {
    "improved_perceptions": (improved_perceptions, reading_improved_perceptions),
    "improved_interactions": (improved_interactions, reading_improved_interactions),
    "positive_view_shift": (positive_view_shift, reading_positive_view_shift),
    "rated_interactions_positive": (rated_interactions_positive, reading_rated_interactions_positive),
    "tension_reduced": (tension_reduced, reading_tension_reduced),
    "tension_created": (tension_created, reading_tension_created),
    "initiatives_very_effective": (initiatives_very_effective, reading_initiatives_very_effective),
}
"""Each item about change: (its answer, its reading of the state)."""
