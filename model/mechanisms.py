"""The week's mechanisms, in the order of docs/model.md, section 3 (ODD process overview).

``MECHANISMS`` is the one list: ``CohesionModel`` makes one object of each class for its run,
``model/week.py`` runs them in this order (array or reference form), and the reference step is
the same list run one household at a time. A new mechanism is one module with one
``Mechanism`` subclass, added here (or, without editing the model, with ``register``: see
``tests/test_architecture.py``'s toy mechanism).
"""

from __future__ import annotations

from .acknowledgement import Acknowledgement
from .contact import Contact
from .doses import Doses
from .influence import Influence
from .legitimisation import Legitimisation
from .mechanism import Mechanism
from .participation import Cycles, Participation
from .presence import Presence
from .pss import Pss
from .recall import Recall
from .shocks import Events
from .stressors import Stressors
from .ties import Ties
from .tension import Tension

MECHANISMS: list[type[Mechanism]] = [
    Presence,       # arrivals and departures of the week (7.10)
    Events,         # context shocks of the week (7.8)
    Participation,  # leaving, cycles ending, joining by complex contagion (7.2)
    Doses,          # who takes part and each household's dose per channel (7.1)
    Recall,         # attendance in surveyed activities, encounters weighted to recent weeks (7.9)
    Pss,            # coping and MHPSS stigma (7.3)
    Stressors,      # need, barriers and well-being (7.4)
    Acknowledgement,  # victims' acknowledgement: readiness towards the perceived-affiliation group (7.12)
    Contact,        # intergroup contact and dialogue in mixed activities (7.5)
    Ties,           # new cross-group ties (7.7)
    Legitimisation,  # leaders and CAC members seen cooperating across groups move attitudes (7.13)
    Influence,      # social influence on attitudes (7.6)
    Tension,        # mediation capacity and village tension (7.8)
    Cycles,         # end of week: who has taken part, cycles count down (7.2)
]


def register(mechanism: type[Mechanism], *, after: str | None = None) -> None:
    """Add a mechanism to the week, after the one named ``after`` (default: at the end of the
    week's mechanisms, before the end-of-week count-down)."""
    names = [m.name for m in MECHANISMS]
    if mechanism.name in names:
        raise ValueError(f"a mechanism named {mechanism.name!r} is already in the week")
    if after is not None and after not in names:
        raise ValueError(f"no mechanism named {after!r}; the week has: {', '.join(names)}")
    at = names.index(after) + 1 if after is not None else len(MECHANISMS) - 1
    MECHANISMS.insert(at, mechanism)


def unregister(name: str) -> None:
    """Remove the mechanism named ``name`` from the week."""
    MECHANISMS[:] = [m for m in MECHANISMS if m.name != name]


def build() -> list[Mechanism]:
    """One object of each mechanism of the week, for one run."""
    return [cls() for cls in MECHANISMS]
