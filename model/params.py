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


def _p(default: float, low: float, high: float, source: str, doc: str) -> Any:
    return field(default=default, metadata={"range": (low, high), "source": source, "doc": doc})


ASSUMPTION = "assumption"

ALIASES = {"stubbornness_vf": "stubbornness_victims"}
"""Former names of parameters, still read from files written before a rename (posterior tables)."""


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
    alpha_contact_neg: float = _p(0.1, 0.02, 0.25, "Graf, Paolini and Rubin 2014: negative contact weighs more; value assumption",
                                  "attitude loss per unit of negative contact")
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

    # --- survey (model/survey.py) ---------------------------------------------------------
    acceptance_threshold: float = _p(0.5, 0.4, 0.6, ASSUMPTION,
                                     "attitude at which a household accepts cohabitation with a group")
    good_wellbeing_cutoff: float = _p(45.0, 41.0, 59.0, "WEMWBS average band starts at 45; choice assumption",
                                      "WEMWBS score counted as good well-being")
    perception_delta: float = _p(0.05, 0.02, 0.15, ASSUMPTION,
                                 "rise in mean attitude counted as an improved perception")
    frequent_ties: float = _p(2.0, 1.0, 4.0, ASSUMPTION,
                              "positive cross-group ties counted as frequent positive interactions")

    def with_values(self, **values: float) -> "Params":
        """A copy with some values replaced; unknown names are refused with the allowed ones."""
        unknown = sorted(set(values) - set(names()))
        if unknown:
            raise KeyError(f"unknown parameter(s) {unknown}; allowed: {', '.join(names())}")
        return replace(self, **{k: float(v) for k, v in values.items()})

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def names() -> list[str]:
    return [f.name for f in fields(Params)]


def ranges() -> dict[str, tuple[float, float]]:
    """Plausible range of every parameter, for sweeps and priors."""
    return {f.name: f.metadata["range"] for f in fields(Params)}


def table() -> list[dict[str, Any]]:
    """One row per parameter: name, default, low, high, source, meaning (for docs and reports)."""
    rows = []
    for f in fields(Params):
        low, high = f.metadata["range"]
        rows.append({"name": f.name, "default": f.default, "low": low, "high": high,
                     "source": f.metadata["source"], "meaning": f.metadata["doc"]})
    return rows
