"""The words every package shares, each written once.

The roles of groups of households, the roles a household can hold, the effect channels through which
activities act, and the kinds of context event. ``model`` and ``scenarios`` both read them from
here (neither defines them for the other).
"""

from __future__ import annotations

from typing import Literal

GROUP_ROLES = ("victims", "perceived_affiliation", "displaced", "returning", "host")
"""What a group of households is to the conflict, whatever a scenario calls it: victims of the
conflict (victims' families), families with a perceived affiliation to an armed group, people
displaced who stayed where they fled, people returning to their area of origin, the host
community (DOMAIN.md; IOM's displaced, returning and host populations). A scenario declares its
groups (2 to 8), each with one role; rates that differ by group are keyed by role
(model/params.py), as are the catalogue's eligibility and the shock kinds."""
GroupRole = Literal[GROUP_ROLES]
MIN_GROUPS, MAX_GROUPS = 2, 8

ROLES = ("cac", "deviant", "volunteer")
"""A CAC member, a positive deviant, a community volunteer in the household."""
Role = Literal[ROLES]

CHANNELS = ("coping", "wellbeing", "stigma", "need", "barriers", "contact", "dialogue", "ties", "mediation",
            "capacity", "acknowledgement")
"""Effect channels. coping/wellbeing/stigma: direct PSS (model/pss.py); need/barriers: stressors
(model/stressors.py); contact/dialogue: intergroup contact (model/contact.py); ties: new
cross-group ties (model/ties.py); mediation: village mediation capacity (model/tension.py);
capacity: the village's trained focal points and staff, who make gains last (model/tension.py);
acknowledgement: support in which victims' experience is recognised (model/acknowledgement.py,
acting on the victims' role only)."""

EVENT_TYPES = ("discriminatory_act", "returns_wave", "security_incident")
"""Kinds of context shock a scenario can schedule (their effects: model/shocks.py, ``SHOCKS``)."""
EventType = Literal[EVENT_TYPES]

WAVES = ("baseline", "endline")
"""The survey's waves."""
Wave = Literal[WAVES]
