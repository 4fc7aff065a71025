"""Leaders and CAC members seen cooperating across groups move attitudes (docs/model.md, 7.13).

Contact is better "backed by authorities" (Allport); CACs legitimised contact across groups and
proactive leadership carried the programme (DOMAIN.md); a programme that shows respected figures
cooperating moves perceived norms (Paluck 2009). Participation already has leaders and CAC
members pull households into activities (``w_leadership``, ``w_encouragement``); here the same
signal moves attitudes. A household sees cooperation across groups where its village's mixed
activities run this week (its leaders stand behind them) and where its neighbours who are CAC
members take part in them:

    S_i   = L_v(i) * M_v(i) + w_cac_seen * C_i
    dA_ih = legitimisation_rate * S_i * (1 - A_ih)       for every other group h

with ``L_v`` the village's leadership, ``M_v`` 1 if some household of village v takes part in a
mixed activity this week (else 0) and ``C_i`` the share of i's neighbours who are CAC members
taking part in a mixed activity this week. The shift is the household's own (a norm it now
holds), so it moves the anchor of social influence as contact does. Households not present are
left as they are; ``legitimisation_rate = 0`` switches the mechanism off.
"""

from __future__ import annotations

import numpy as np

from .kernels import legitimise_network_week
from .mechanism import Mechanism, Week
from .params import Params
from .state import State


def signal(leadership, mixing_here, cac_seen, p: Params):
    return leadership * mixing_here + p.w_cac_seen * cac_seen


def legitimisation_change(a, s, p: Params):
    return p.legitimisation_rate * s * (1.0 - a)


class Legitimisation(Mechanism):
    """Attitudes drift towards acceptance with the cross-group cooperation of leaders and CACs."""

    name = "legitimisation"

    def step(self, state: State, world, week: Week) -> None:
        p = world.params
        if p.legitimisation_rate == 0.0 or week.members.i.size == 0:
            return
        # who mixes, where, the CAC members each household sees among its neighbours, signal and
        # legitimisation_change for every present household: one compiled pass, in place
        net = world.network
        legitimise_network_week(week.members.i, state.cac, state.village, state.leadership, *net.csr(), net.degree,
                                state.attitude, state.anchor, state.group, state.present, p.legitimisation_rate,
                                p.w_cac_seen, np.zeros(state.n, dtype=bool), np.zeros(state.leadership.size))

    def plain(self, state: State, world, week: Week) -> None:
        p = world.params
        if p.legitimisation_rate == 0.0 or week.members.i.size == 0:
            return
        mixing = np.zeros(state.n, dtype=bool)
        mixing[week.members.i] = True
        here = np.bincount(state.village[mixing], minlength=state.leadership.size) > 0  # per village
        cac_seen = world.network.neighbour_mean((state.cac & mixing).astype(float))
        s = signal(state.leadership[state.village], here[state.village], cac_seen, p) * state.present
        da = legitimisation_change(state.attitude, s[:, None], p) * state.other_mask
        state.attitude[:] = np.clip(state.attitude + da, 0.0, 1.0)
        state.anchor[:] = np.clip(state.anchor + da, 0.0, 1.0)

    def reference(self, state: State, world, week: Week) -> None:
        p = world.params
        mixed = world.programme.week(week.number).mixed.tolist()
        mixing = [any(state.weeks_left[i, k] > 0 for k in mixed) for i in range(state.n)]
        if p.legitimisation_rate == 0.0 or not any(mixing):
            return
        here = {int(state.village[i]) for i in range(state.n) if mixing[i]}
        seen = []
        for i in range(state.n):
            nb = world.network.neighbours(i)
            seen.append(sum(1.0 for j in nb if state.cac[j] and mixing[j]) / max(nb.size, 1))
        for i in range(state.n):
            if not state.present[i]:
                continue
            v = int(state.village[i])
            s = signal(state.leadership[v], float(v in here), seen[i], p)
            for h in range(state.attitude.shape[1]):
                if h != state.group[i]:
                    da = legitimisation_change(state.attitude[i, h], s, p)
                    state.attitude[i, h] = min(max(state.attitude[i, h] + da, 0.0), 1.0)
                    state.anchor[i, h] = min(max(state.anchor[i, h] + da, 0.0), 1.0)
