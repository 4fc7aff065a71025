"""The one shape every weekly mechanism has, and what a week hands from one mechanism to the next.

A mechanism is one module holding one class with up to four methods::

    class Contact(Mechanism):
        name = "contact"
        def init(self, state, world): ...         # once per run, after the population and network
        def step(self, state, world, week): ...   # the week over all households at once (arrays;
                                                  # compiled kernels where they pay)
        def plain(self, state, world, week): ...  # the same week in plain numpy: the readable form
        def reference(self, state, world, week): ...  # the same week, one household at a time

``step``, ``plain`` and ``reference`` must give the same states (the reference form is the
oracle the tests compare with; it uses the same equation functions, applied to one household's
numbers). ``plain`` exists where ``step`` calls a compiled kernel of ``model/kernels.py`` for a
whole part of the week: it is the array form as equations, the kernel the speed trick beside it
(by default ``plain`` is ``step``). The week (``model/week.py``) is the list of mechanisms in the
ODD order (``model/mechanisms.py``), run in one of the three forms; none names a mechanism.

What one mechanism leaves for the next (who takes part, their doses, who meets whom) is put on
the ``Week``. Per-run constants a mechanism needs (a fixed point found at set-up, a share of
encouraging neighbours) are made in ``init`` and kept on the mechanism object, which belongs to
one model; a mechanism that needs a state array of its own adds it to the state in ``init``
(``state.<name> = ...``), and the state's copy keeps it.

A population that changes over time (households that arrive or leave) fits the same shape: the
first mechanism of the week (``model/presence.py``) changes who is present (``state.present``),
and the network and the programme then see only them (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .draws import WeekDraws

if TYPE_CHECKING:  # type names only; nothing is imported at run time
    from .programme import Members
    from .state import State
    from .world import World


@dataclass
class Week:
    """One week as it goes: its number, its random draws and what mechanisms leave for later ones.

    ``shared`` holds the values one mechanism computes for others of the same week; the names
    the library's mechanisms use are attributes (a new mechanism may add its own to ``shared``).
    """

    number: int
    draws: WeekDraws
    nb_joined: np.ndarray | None = None     # per household, share of neighbours who have taken part
    enrolled: np.ndarray | None = None      # households x entries, enrolled this week
    taking_part: np.ndarray | None = None   # per household, enrolled in anything this week
    doses: dict[str, np.ndarray] | None = None  # per channel, each household's dose this week
    members: "Members | None" = None        # (entry, household, pool) of the week's mixed entries
    new_ties: int = 0                       # cross-group ties made this week
    shared: dict[str, Any] = field(default_factory=dict)


class Mechanism:
    """Base class: a mechanism that does nothing (override what yours does)."""

    name: str = "mechanism"

    def init(self, state: "State", world: "World") -> None:
        """Per-run constants, made once after the population and the network exist."""

    def step(self, state: "State", world: "World", week: Week) -> None:
        """The week over all households at once."""

    def plain(self, state: "State", world: "World", week: Week) -> None:
        """The same week over all households in plain numpy (no compiled kernel); by default the
        array form (for mechanisms whose array form calls no kernel)."""
        self.step(state, world, week)

    def reference(self, state: "State", world: "World", week: Week) -> None:
        """The same week one household at a time; by default the array form (for mechanisms
        whose array form is already a loop over villages or events)."""
        self.step(state, world, week)

    def __repr__(self) -> str:
        return f"<mechanism {self.name}>"
