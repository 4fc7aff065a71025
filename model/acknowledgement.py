"""Acknowledgement of victims (docs/model.md, section 7.12).

Support in which victims' experience is recognised (counselling, experience-sharing, testimonies
heard in dialogue: the catalogue's ``acknowledgement`` channel) restores their agency and raises
their readiness to reconcile with the group they hold responsible (needs-based model, Shnabel and
Nadler 2008; healing groups in Rwanda, Staub et al. 2005; DOMAIN.md, "Reconciliation"). Households
of groups in the victims' role hold a felt acknowledgement K_i (0-1, starting at 0):

    dK_i = acknowledgement_rate * D_i * (1 - K_i)          (D_i: the week's acknowledgement dose)

and their readiness in contact towards groups in the perceived-affiliation role gains

    B_ih = w_ready_acknowledgement * K_i * [role(g_i) = victims] * [role(h) = perceived_affiliation]

handed to contact (model/contact.py) on ``week.shared["readiness_bonus"]``. Nothing else moves:
households of other roles, and victims' readiness towards other groups, are untouched;
``w_ready_acknowledgement = 0`` (or ``acknowledgement_rate = 0``) switches the mechanism off.
Felt acknowledgement does not decay within the horizon (an assumption, like coping's slow decay).
"""

from __future__ import annotations

import numpy as np

from .contact import READINESS_BONUS
from .kernels import acknowledge
from .mechanism import Mechanism, Week
from .params import Params
from .state import State

ACTS_ON, TOWARDS = "victims", "perceived_affiliation"


def acknowledgement_change(k, dose, p: Params):
    return p.acknowledgement_rate * dose * (1.0 - k)


def role_pairs(roles: list[str]) -> np.ndarray:
    """groups x groups: True where a group in the victims' role looks at one in the
    perceived-affiliation role."""
    acts = np.array([r == ACTS_ON for r in roles])
    towards = np.array([r == TOWARDS for r in roles])
    return acts[:, None] & towards[None, :]


class Acknowledgement(Mechanism):
    """Victims' felt acknowledgement grows with the acknowledgement dose and raises their
    readiness towards the perceived-affiliation group."""

    name = "acknowledgement"

    def init(self, state: State, world) -> None:
        self.pairs = role_pairs(world.scenario.group_roles())
        self.victims = self.pairs.any(axis=1)[state.group]  # households whose group has such a pair
        state.acknowledged = np.zeros(state.n)
        self.active = bool(self.pairs.any())

    def step(self, state: State, world, week: Week) -> None:
        # the change and the bonus in one compiled pass (kernels.acknowledge)
        if not self.active:
            return
        p = world.params
        bonus = np.empty((state.n, self.pairs.shape[1]))
        acknowledge(state.acknowledged, week.doses["acknowledgement"], self.victims, self.pairs, state.group,
                    p.acknowledgement_rate, p.w_ready_acknowledgement, bonus)
        week.shared[READINESS_BONUS] = bonus

    def plain(self, state: State, world, week: Week) -> None:
        if not self.pairs.any():
            return
        dose = week.doses["acknowledgement"] * self.victims
        state.acknowledged += acknowledgement_change(state.acknowledged, dose, world.params)
        week.shared[READINESS_BONUS] = (world.params.w_ready_acknowledgement
                                        * state.acknowledged[:, None] * self.pairs[state.group])

    def reference(self, state: State, world, week: Week) -> None:
        if not self.pairs.any():
            return
        ng, p = self.pairs.shape[0], world.params
        bonus = np.zeros((state.n, ng))
        for i in range(state.n):
            g = state.group[i]
            if self.victims[i]:
                dose = week.doses["acknowledgement"][i]
                state.acknowledged[i] += acknowledgement_change(state.acknowledged[i], dose, p)
            for h in range(ng):
                if self.pairs[g, h]:
                    bonus[i, h] = p.w_ready_acknowledgement * state.acknowledged[i]
        week.shared[READINESS_BONUS] = bonus
