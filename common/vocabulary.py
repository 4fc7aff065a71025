"""The words every package shares, each written once.

Groups of households, the roles a household can hold, the effect channels through which
activities act, and the kinds of context event. ``model`` and ``scenarios`` both read them from
here (neither defines them for the other).
"""

from __future__ import annotations

from typing import Literal

GROUPS = ("FPA", "VF", "HC")
"""Families with perceived affiliation to ISIL, victims' families, the host community (DOMAIN.md)."""
Group = Literal[GROUPS]

ROLES = ("cac", "deviant", "volunteer")
"""A CAC member, a positive deviant, a community volunteer in the household."""
Role = Literal[ROLES]

CHANNELS = ("coping", "wellbeing", "stigma", "need", "barriers", "contact", "dialogue", "ties", "mediation")
"""Effect channels. coping/wellbeing/stigma: direct PSS (model/pss.py); need/barriers: stressors
(model/stressors.py); contact/dialogue: intergroup contact (model/contact.py); ties: new
cross-group ties (model/ties.py); mediation: village mediation capacity (model/tension.py)."""

EVENT_TYPES = ("discriminatory_act", "returns_wave", "security_incident")
"""Kinds of context shock a scenario can schedule (their effects: model/shocks.py, ``SHOCKS``)."""
EventType = Literal[EVENT_TYPES]

WAVES = ("baseline", "endline")
"""The survey's waves."""
Wave = Literal[WAVES]
