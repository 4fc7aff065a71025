"""The parameters of the weekly dynamics, declared once.

Every parameter has a default, a plausible range and a source. The sensitivity sweeps and the
calibration read the ranges from here (``ranges()``). A few structural constants live with their
mechanism and are not swept (the joining sigmoid's steepness, the initial lift and spreads in
population.py, the stress weights, the shock kinds' weights): docs/model.md lists them. Rates are
per week. "assumption" means the programme documents give no figure: the range is what the
sensitivity analysis varies. See docs/model.md, section 7 (submodels), for the equations.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from .activities import STRENGTH_PREFIX, strength_problem, strength_ranges


def _p(default: float, low: float, high: float, source: str, doc: str) -> Any:
    return field(default=default, metadata={"range": (low, high), "source": source, "doc": doc})


ASSUMPTION = "assumption"

ALIASES = {"stubbornness_vf": "stubbornness_victims"}
"""Former names of parameters, still read from files written before a rename (posterior tables)."""

REMOVED = {"alpha_contact_neg": "replaced by contact_neg_ratio (the negative weight is contact_neg_ratio x "
                                "alpha_contact_pos, a different quantity): recalibrate"}
"""Parameters of earlier versions that no longer exist, with what replaced them (for the messages that
refuse files naming them)."""


@dataclass(frozen=True)
class Params:
    # --- participation (model/participation.py) -------------------------------------------
    outreach: float = _p(0.6, 0.2, 1.0, ASSUMPTION,
                         "pull of the programme's own mobilisation (volunteers, announcements)")
    join_rate: float = _p(0.25, 0.05, 0.6, ASSUMPTION,
                          "weekly probability that a willing, eligible household takes a free place")
    join_threshold: float = _p(0.35, 0.1, 0.7, "Centola and Macy 2007 (form); value assumption",
                               "mean personal threshold of the complex-contagion joining rule")
    w_neighbours: float = _p(1.0, 0.3, 2.0, ASSUMPTION,
                             "weight of the share of neighbours who have joined (snowball effect, DOMAIN.md)")
    w_encouragement: float = _p(0.5, 0.0, 1.5, ASSUMPTION,
                                "weight of CAC members, positive deviants and volunteers among neighbours")
    w_leadership: float = _p(0.3, 0.0, 1.0, ASSUMPTION,
                             "weight of the village's proactive leadership (Imam Gharbi, DOMAIN.md)")
    w_coping_confidence: float = _p(0.3, 0.0, 1.0, ASSUMPTION,
                                    "better coping and family dynamics give confidence to join (DOMAIN.md)")
    w_stigma: float = _p(0.6, 0.1, 1.5, ASSUMPTION, "MHPSS stigma holds households back")
    w_need: float = _p(0.4, 0.0, 1.0, ASSUMPTION,
                       "material need puts PSS below income work (DOMAIN.md); pulls towards income activities")
    w_reluctance: float = _p(0.5, 0.0, 1.5, ASSUMPTION,
                             "low attitude towards other groups holds back from mixed activities")
    first_mover_boost: float = _p(0.3, 0.0, 1.0, ASSUMPTION,
                                  "women and children move first in non-structured activities (DOMAIN.md)")
    dropout_rate: float = _p(0.02, 0.0, 0.1, ASSUMPTION, "weekly probability of leaving an activity early")

    # --- psychosocial support (model/pss.py) ----------------------------------------------
    alpha_coping: float = _p(0.06, 0.01, 0.15, ASSUMPTION, "coping gained per unit PSS dose")
    alpha_wellbeing: float = _p(0.02, 0.0, 0.08, ASSUMPTION, "direct well-being gain per unit PSS dose")
    alpha_stigma: float = _p(0.06, 0.01, 0.15, ASSUMPTION, "stigma lost per unit awareness/PSS dose")
    stigma_peer: float = _p(0.03, 0.0, 0.15, ASSUMPTION,
                            "stigma lost as neighbours take part (continuous trust-building, DOMAIN.md)")
    coping_decay: float = _p(0.002, 0.0, 0.02, "DOMAIN.md: coping gains likely to last; value assumption",
                             "weekly relaxation of coping back to its initial value")

    # --- stressors and well-being (model/stressors.py) ------------------------------------
    wellbeing_rate: float = _p(0.1, 0.02, 0.3, ASSUMPTION,
                               "weekly relaxation of well-being towards its equilibrium")
    theta_coping: float = _p(0.35, 0.1, 0.7, ASSUMPTION,
                             "equilibrium well-being (share of scale) gained per unit coping")
    theta_stress: float = _p(0.3, 0.1, 0.6, ASSUMPTION,
                             "equilibrium well-being lost per unit unbuffered stress")
    mood_contagion: float = _p(0.03, 0.0, 0.15, "Hill, Griffiths and House 2015 (form); value assumption",
                               "upward pull of better-off neighbours' well-being (healthy mood spreads)")
    need_relief: float = _p(0.04, 0.0, 0.15, ASSUMPTION, "material need relieved per unit income dose")
    barrier_relief: float = _p(0.02, 0.0, 0.1, ASSUMPTION,
                               "structural barriers relieved per unit referral/case-management dose")

    # --- intergroup contact (model/contact.py) --------------------------------------------
    alpha_contact_pos: float = _p(0.05, 0.01, 0.15, "Allport; Psaltis (form); value assumption",
                                  "attitude gain per unit of positive contact")
    contact_neg_ratio: float = _p(2.0, 1.5, 3.0, "Barlow et al. 2012; Graf, Paolini and Rubin 2014 (DOMAIN.md, "
                                  "Evidence: negative/positive weight 1.5-3)",
                                  "attitude loss per unit of negative contact, as a multiple of alpha_contact_pos")
    readiness_threshold: float = _p(0.1, 0.0, 0.4, ASSUMPTION,
                                    "readiness at which contact is as likely positive as negative")
    readiness_steepness: float = _p(10.0, 4.0, 20.0, ASSUMPTION, "steepness of the readiness sigmoid")
    w_ready_coping: float = _p(0.4, 0.1, 0.8, ASSUMPTION, "readiness from coping")
    w_ready_wellbeing: float = _p(0.3, 0.1, 0.6, ASSUMPTION, "readiness from well-being (share of scale)")
    w_ready_familiarity: float = _p(0.4, 0.1, 0.8, ASSUMPTION, "readiness from familiarity with the group")
    w_ready_tension: float = _p(0.42, 0.1, 1.0, ASSUMPTION, "readiness lost to village tension")
    w_ready_intensity: float = _p(0.2, 0.0, 0.6, ASSUMPTION,
                                  "readiness lost to contact beyond a comfortable weekly dose")
    familiarity_rate: float = _p(0.08, 0.02, 0.2, ASSUMPTION, "familiarity gained per unit contact")
    alpha_dialogue: float = _p(0.08, 0.01, 0.2, ASSUMPTION,
                               "attitude gain per unit dialogue, scaled by familiarity")
    tie_rate: float = _p(0.08, 0.0, 0.25, ASSUMPTION,
                         "weekly probability that a mixed-activity participant forms a cross-group tie")

    # --- social influence (model/influence.py) --------------------------------------------
    influence_rate: float = _p(0.05, 0.0, 0.2, "Friedkin and Johnsen (form); value assumption",
                               "weekly weight of the network and anchor terms")
    outgroup_credibility: float = _p(0.5, 0.1, 1.0, "Lorenz, Neumann and Schröder (form); value assumption",
                                     "weight of an out-group neighbour relative to an in-group one")
    stubbornness_victims: float = _p(0.6, 0.3, 0.9,
                                     "DOMAIN.md: stubbornness anchored in personal loss; value assumption",
                                     "weight of the initial attitude for groups in the victims' role")
    stubbornness_other: float = _p(0.3, 0.1, 0.6, ASSUMPTION, "weight of the initial attitude for every other group")

    # --- tension and shocks (model/tension.py, model/shocks.py) ---------------------------------------------
    tension_relax: float = _p(0.05, 0.0, 0.2, ASSUMPTION,
                              "weekly relaxation of village tension towards its attitude-driven level")
    mediation_rate: float = _p(0.05, 0.0, 0.2, ASSUMPTION, "tension removed per unit mediation capacity")
    mediation_gain: float = _p(0.05, 0.0, 0.2, ASSUMPTION,
                               "mediation capacity built per unit of CAC/mediation/capacity-building dose")
    mediation_decay: float = _p(0.01, 0.0, 0.05, "DOMAIN.md: CACs likely to keep mediating; value assumption",
                                "weekly loss of mediation capacity")
    shock_damping: float = _p(0.5, 0.0, 0.9, "DOMAIN.md: mediation and CACs dampen shocks; value assumption",
                              "share of a shock absorbed at full mediation capacity")

    # --- support jealousy, well-being from ties and tension, the IOM service lines -----------------------
    # (model/tension.py, model/stressors.py, model/pss.py; docs/model.md 7.4 and 7.8)
    support_jealousy: float = _p(0.2, 0.0, 1.0,
                                 "ODI 2022; Lehmann and Masterson 2020 (DOMAIN.md, Evidence): unfairness of "
                                 "targeting, not aid volume, raises tension (form); value assumption",
                                 "weekly tension added per unit of unequal service between a village's groups")
    theta_ties: float = _p(0.05, 0.0, 0.11,
                           "DOMAIN.md Evidence, WEMWBS: ~3 points meaningful, interventions 0-10 points "
                           "(range 0-6 points at full support); form assumption",
                           "equilibrium well-being (share of scale) gained at full social support from activity-made ties")
    theta_tension: float = _p(0.08, 0.0, 0.16,
                              "DOMAIN.md Evidence, WEMWBS: population SD 8-9 points bounds one unit of tension "
                              "at about 1 SD (0.16 of the scale); DOMAIN.md IOM logic; value assumption",
                              "equilibrium well-being lost per unit rise of village tension above its initial level")
    mediation_trigger: float = _p(0.4, 0.2, 0.6, "DOMAIN.md: IOM mediation on demand (form); level assumption",
                                  "village tension above which on-demand mediation is called")
    capacity_gain: float = _p(0.05, 0.0, 0.2, ASSUMPTION,
                              "local capacity (trained focal points, staff) built per unit capacity-building dose")
    capacity_sustain: float = _p(0.5, 0.0, 0.9,
                                 "DOMAIN.md: IOM capacity building for sustainability (form); value assumption",
                                 "share of the weekly loss of coping and mediation gains prevented at full local capacity")

    # --- survey (model/survey.py) ---------------------------------------------------------
    acceptance_threshold: float = _p(0.5, 0.4, 0.6, ASSUMPTION,
                                     "attitude at which a household accepts cohabitation with a group")
    good_wellbeing_cutoff: float = _p(45.0, 41.0, 59.0, "WEMWBS average band starts at 45; choice assumption",
                                      "WEMWBS score counted as good well-being")
    perception_delta: float = _p(0.05, 0.02, 0.15, ASSUMPTION,
                                 "rise in mean attitude counted as an improved perception")
    frequent_ties: float = _p(2.0, 1.0, 4.0, ASSUMPTION,
                              "positive cross-group ties counted as frequent positive interactions")

    # --- the respondent model: how participants answer questions about change ----------------------
    # (model/respondent.py, model/recall.py; docs/survey.md). Units: share of the item's scale (0-1).
    # Ranges set from the literature before any calibration; sizes are assumptions where no figure exists.
    recall_shift: float = _p(0.05, 0.0, 0.15,
                             "Howard et al. 1979 (then-test response shift); Conway and Ross 1984 (participants "
                             "recall their start as worse): direction and form. Size ASSUMPTION: 0 to 0.15 of the "
                             "scale, up to about half a point of a 5-point item",
                             "recalled baseline lowered by participants (share of the item's scale)")
    desirability: float = _p(0.03, 0.0, 0.1,
                             "Hill and Betz 2005 (larger retrospective gaps for socially desirable items): form. "
                             "Size ASSUMPTION: 0 to 0.1 of the scale, below the recall shift's upper end",
                             "participants' lift of socially desirable answers (share of the item's scale)")
    recall_decay: float = _p(0.03, 0.0, 0.1,
                             "DOMAIN.md, Evidence (reported change answered from memory); recency weighting "
                             "ASSUMPTION: 0.03 a week puts half the weight on the last ~23 weeks, 0.1 on ~7",
                             "weekly loss of weight of remembered encounters (recall weighted to recent weeks)")
    cutoff_sd: float = _p(0.05, 0.0, 0.15, ASSUMPTION,
                          "sd of respondents' personal cut-offs for answering 'yes' (share of the item's scale)")
    very_effective_gain: float = _p(0.2, 0.1, 0.4, ASSUMPTION,
                                    "own gain in well-being (share of range) plus attitude counted as 'very "
                                    "effective' initiatives")

    # --- mechanisms the programme relied on: encounters, acknowledgement, legitimisation ---------
    # (model/contact.py, model/acknowledgement.py, model/legitimisation.py; docs/model.md 7.5, 7.12, 7.13)
    encounters_per_exposure: float = _p(3.0, 1.0, 8.0, ASSUMPTION,
                                        "encounters with members of a group per unit of contact exposure (one "
                                        "session's worth at strength 1 with that group: a few people met)")
    acknowledgement_rate: float = _p(0.1, 0.0, 0.3,
                                     "Staub et al. 2005 (healing groups, effect at two months; form); value assumption",
                                     "victims' felt acknowledgement gained per unit acknowledgement dose")
    w_ready_acknowledgement: float = _p(0.3, 0.0, 0.6,
                                        "Shnabel and Nadler 2008 (needs-based model; form); value assumption",
                                        "readiness of victims towards the perceived-affiliation group per unit "
                                        "felt acknowledgement (0 switches acknowledgement off)")
    legitimisation_rate: float = _p(0.002, 0.0, 0.01,
                                    "Allport (backed by authorities); Paluck 2009 (norms; form); value assumption",
                                    "weekly attitude drift towards acceptance per unit of seen cross-group "
                                    "cooperation by leaders and CAC members (0 switches it off)")
    w_cac_seen: float = _p(1.0, 0.0, 2.0, "DOMAIN.md: CACs legitimised contact across groups; value assumption",
                           "weight of the share of neighbours who are CAC members in mixed activities, "
                           "against the village's leadership")

    # --- channel strengths of the activity catalogue (model/activities.py, docs/model.md 7.1) -----
    # Grouped multipliers of the catalogue's strengths, for the calibration; each catalogue cell
    # belongs to at most one group (model.activities.channel_group). Applied once per run
    # (Programme.set_strengths). Individual strengths: ``channel_strengths`` below.
    m_pss_channels: float = _p(1.0, 0.5, 1.5, "theory of change (model/activities.yaml); range assumption",
                               "multiplier of coping, wellbeing and stigma strengths of individual, family and "
                               "group activities")
    m_contact_channels: float = _p(1.0, 0.5, 1.5, "theory of change (model/activities.yaml); range assumption",
                                   "multiplier of contact and ties strengths of mixed activities below community "
                                   "level without a dialogue channel (recreation, vocational training, income)")
    m_dialogue_channels: float = _p(1.0, 0.5, 1.5, "theory of change (model/activities.yaml); range assumption",
                                    "multiplier of contact, dialogue and ties strengths of activities below "
                                    "community level with a dialogue channel (dialogue, experience sharing between "
                                    "communities, guided discussions)")
    m_community_channels: float = _p(1.0, 0.5, 1.5, "theory of change (model/activities.yaml); range assumption",
                                     "multiplier of every channel strength of community-level activities")
    channel_strengths: tuple[tuple[str, float], ...] = field(default=(), metadata={
        "doc": "catalogue strengths set by name, ((channel.<activity>.<channel>, value), ...); the others "
               "keep their catalogue value (ranges: model.activities.strength_ranges)"})

    def with_values(self, **values: float) -> "Params":
        """A copy with some values replaced: parameters by name, and catalogue strengths as
        ``channel.<activity>.<channel>``. Unknown names are refused with the allowed ones."""
        strengths = {k: float(v) for k, v in values.items() if k.startswith(STRENGTH_PREFIX + ".")}
        problems = [m for m in map(strength_problem, strengths) if m]
        unknown = sorted(set(values) - set(strengths) - set(names()))
        if unknown:
            why = "".join(f" ({k}: {REMOVED[k]})" for k in unknown if k in REMOVED)
            problems.append(f"unknown parameter(s) {unknown}{why}; allowed: {', '.join(names())}, "
                            f"or a channel strength {STRENGTH_PREFIX}.<activity>.<channel>")
        if problems:
            raise KeyError("; ".join(problems))
        merged = {**dict(self.channel_strengths), **strengths}
        return replace(self, **{k: float(v) for k, v in values.items() if k not in strengths},
                       channel_strengths=tuple(sorted(merged.items())))

    def as_dict(self) -> dict[str, float]:
        """Every parameter by name, then the catalogue strengths set by name (``with_values`` reads it back)."""
        return {**{n: getattr(self, n) for n in names()}, **dict(self.channel_strengths)}


def _scalar_fields() -> list:
    return [f for f in fields(Params) if "range" in f.metadata]


def names() -> list[str]:
    """The parameters (not the catalogue strengths, which ``addressable_ranges`` adds)."""
    return [f.name for f in _scalar_fields()]


def ranges() -> dict[str, tuple[float, float]]:
    """Plausible range of every parameter, for sweeps and priors."""
    return {f.name: f.metadata["range"] for f in _scalar_fields()}


def addressable_ranges() -> dict[str, tuple[float, float]]:
    """Every name ``Params.with_values`` takes, with its range: the parameters, then the catalogue's
    strengths (``channel.<activity>.<channel>``, model.activities.strength_ranges)."""
    return {**ranges(), **strength_ranges()}


def table() -> list[dict[str, Any]]:
    """One row per parameter: name, default, low, high, source, meaning (for docs and reports)."""
    rows = []
    for f in _scalar_fields():
        low, high = f.metadata["range"]
        rows.append({"name": f.name, "default": f.default, "low": low, "high": high,
                     "source": f.metadata["source"], "meaning": f.metadata["doc"]})
    return rows
