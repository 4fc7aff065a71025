"""One week of the model: the mechanisms of ``world.mechanisms`` in their order, in one form.

The list (``model/mechanisms.py``) follows docs/model.md, section 3 (process overview). In the
array form every mechanism is array arithmetic over all households and ties (compiled kernels
where they pay); in the plain form the same arrays in plain numpy (``Mechanism.plain``, the
readable specification of the kernels); in the reference form the same mechanisms run one
household at a time (``Mechanism.reference``). The loop is
over mechanisms, never over households, and names none of them.
"""

from __future__ import annotations

from typing import Literal

from .draws import WeekDraws
from .mechanism import Week
from .state import State
from .world import World

Form = Literal["array", "plain", "reference"]


def advance(state: State, world: World, week: int, draws: WeekDraws, form: Form = "array") -> Week:
    """Move the state through week ``week``; returns the finished ``Week`` (new ties and the
    values the mechanisms shared)."""
    w = Week(number=week, draws=draws)
    for mechanism in world.mechanisms:
        if form == "array":
            mechanism.step(state, world, w)
        elif form == "plain":
            mechanism.plain(state, world, w)
        else:
            mechanism.reference(state, world, w)
    return w
