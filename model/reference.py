"""The reference step: the same week as model/week.py, one household (Mesa agent) at a time.

This is the textbook way to write the model, kept as a check on the array step and as the
baseline of the benchmarks. Each mechanism reads the states of the start of its phase and
writes new ones (synchronous update), exactly as the array step does, and uses the same
equation functions (applied to one household's numbers) and the same week's random draws.
The tests require both to give the same states to floating-point tolerance, week after week.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import contact, influence, participation, pss, shocks, stressors
from .activities import CHANNELS, GROUPS
from .draws import WeekDraws
from .state import stress, wellbeing_score, wellbeing_share

if TYPE_CHECKING:
    from .model import CohesionModel

NG = len(GROUPS)


def advance_reference(model: "CohesionModel", draws: WeekDraws) -> None:
    st, world, p, week = model.state, model.world, model.params, model.week
    net, prog = model.network, model.programme
    agents = list(model.agents)
    nbrs = {a.idx: net.neighbours(a.idx) for a in agents}

    # --- shocks ------------------------------------------------------------------------------
    for event, villages in world.events_at(week):
        kind = shocks.SHOCKS[event.type]
        hit_v = [float(shocks.strength(event.magnitude, st.mediation[v], p)) if v in villages else 0.0
                 for v in range(st.tension.shape[0])]
        for v in range(st.tension.shape[0]):
            st.tension[v] = min(max(st.tension[v] + kind.tension * hit_v[v], 0.0), 1.0)
        for a in agents:
            i, g = a.idx, st.group[a.idx]
            hit = hit_v[st.village[i]]
            for h in range(NG):
                if h != g and g in kind.holders and h in kind.towards:
                    st.attitude[i, h] = min(max(st.attitude[i, h] * (1 - kind.attitude * hit), 0.0), 1.0)
                    st.anchor[i, h] = min(max(st.anchor[i, h] * (1 - kind.attitude * hit), 0.0), 1.0)
            x = wellbeing_share(st.wellbeing[i]) - kind.wellbeing * hit * (g in kind.wellbeing_of)
            st.wellbeing[i] = wellbeing_score(min(max(x, 0.0), 1.0))
            st.need[i] = min(max(st.need[i] + kind.need * hit * (1 - st.need[i]), 0.0), 1.0)
            rise = kind.barriers * hit * (g in kind.barriers_of)
            st.barriers[i] = min(max(st.barriers[i] + rise * (1 - st.barriers[i]), 0.0), 1.0)

    # --- participation -----------------------------------------------------------------------
    nb_joined = {a.idx: _mean([float(st.ever[j]) for j in nbrs[a.idx]]) for a in agents}
    running = set(prog.active_indices(week).tolist())
    for e in prog.entries:
        if e.index not in running:
            for a in agents:
                st.weeks_left[a.idx, e.index] = 0
    active = prog.active(week)
    if active:
        pull, mean_att = {}, {}
        for a in agents:
            i = a.idx
            pull[i] = participation.base_pull(nb_joined[i], world.encouraging[i], st.leadership[st.village[i]],
                                              st.coping[i], st.stigma[i], p)
            mean_att[i] = sum(st.attitude[i, h] for h in range(NG) if h != st.group[i]) / (NG - 1)
        terms = participation.entry_terms(prog, world.scenario.population.first_movers, p).tolist()
        # leaving early: one draw per member of each active entry, entries in programme order,
        # members in index order
        members = {e.index: [a.idx for a in agents if st.weeks_left[a.idx, e.index] > 0] for e in active}
        u_drop = iter(draws.take(sum(len(m) for m in members.values())))
        for k, m in members.items():
            for i in m:
                if next(u_drop) < p.dropout_rate:
                    st.weeks_left[i, k] = 0
        for e in active:
            k = e.index
            taken = [0] * e.n_pools
            for a in agents:
                if st.weeks_left[a.idx, k] > 0:
                    taken[e.pool[a.idx]] += 1
            places = prog.places(week)[prog.pool_offset[k]:prog.pool_offset[k] + e.n_pools]
            free = [int(c) - t for c, t in zip(places, taken)]
            if max(free) <= 0:
                continue
            candidates = []
            for a in agents:
                i = a.idx
                if not e.eligible[i] or st.weeks_left[i, k] > 0:
                    continue
                z = participation.willingness(pull[i], st.need[i], mean_att[i], *terms[k])
                prob = participation.join_probability(z, st.threshold[i], p)
                if draws.join[k][i] < prob and (e.activity.max_wellbeing is None
                                                or st.wellbeing[i] <= e.activity.max_wellbeing):
                    candidates.append((e.pool[i], draws.join[k][i] / prob, i))
            candidates.sort()
            given = [0] * e.n_pools
            for pool, _, i in candidates:
                if given[pool] < free[pool]:
                    st.weeks_left[i, k] = e.activity.cycle_weeks
                    given[pool] += 1

    # --- doses -------------------------------------------------------------------------------
    dose = {a.idx: {c: sum(prog.channel_matrix[k, ci] for k in range(len(prog)) if st.weeks_left[a.idx, k] > 0)
                     for ci, c in enumerate(CHANNELS)} for a in agents}

    # --- PSS ---------------------------------------------------------------------------------
    for a in agents:
        i = a.idx
        st.coping[i] = min(max(st.coping[i] + pss.coping_change(st.coping[i], st.coping0[i], dose[i]["coping"], p),
                               0.0), 1.0)
        st.stigma[i] = min(max(st.stigma[i] + pss.stigma_change(st.stigma[i], dose[i]["stigma"], nb_joined[i], p),
                               0.0), 1.0)

    # --- stressors and well-being ------------------------------------------------------------
    for a in agents:
        i = a.idx
        st.need[i] = min(max(st.need[i] + stressors.relief(st.need[i], dose[i]["need"], p.need_relief), 0.0), 1.0)
        st.barriers[i] = min(max(st.barriers[i] + stressors.relief(st.barriers[i], dose[i]["barriers"],
                                                                   p.barrier_relief), 0.0), 1.0)
    x_old = {a.idx: wellbeing_share(st.wellbeing[a.idx]) for a in agents}
    for a in agents:
        i = a.idx
        x_eq = stressors.equilibrium(st.wellbeing0[i], st.coping[i], st.coping0[i],
                                     stress(st.need[i], st.barriers[i]), st.stress0[i], p)
        gap = _mean([max(x_old[j] - x_old[i], 0.0) for j in nbrs[i]])
        x = x_old[i] + stressors.wellbeing_change(x_old[i], x_eq, dose[i]["wellbeing"], gap, p)
        st.wellbeing[i] = wellbeing_score(min(max(x, 0.0), 1.0))

    # --- intergroup contact ------------------------------------------------------------------
    expo = {a.idx: [0.0] * NG for a in agents}
    dlg = {a.idx: [0.0] * NG for a in agents}
    any_contact = False
    for e in prog.mixed_active(week):
        members = [a.idx for a in agents if st.weeks_left[a.idx, e.index] > 0]
        if len(members) < 2:
            continue
        counts = {}
        for i in members:
            key = (e.pool[i], st.group[i])
            counts[key] = counts.get(key, 0) + 1
        act = e.activity
        for i in members:
            total = sum(c for (pool, _), c in counts.items() if pool == e.pool[i])
            for h in range(NG):
                if h == st.group[i]:
                    continue
                share = counts.get((e.pool[i], h), 0) / max(total - 1, 1)
                expo[i][h] += act.sessions_per_week * act.channel("contact") * share
                dlg[i][h] += act.sessions_per_week * act.channel("dialogue") * share
                any_contact = any_contact or expo[i][h] > 0 or dlg[i][h] > 0
    if any_contact:
        for a in agents:
            i = a.idx
            x = wellbeing_share(st.wellbeing[i])
            for h in range(NG):
                if h == st.group[i]:
                    continue
                e_, d_, fam = expo[i][h], dlg[i][h], st.familiarity[i, h]
                q = contact.positivity(contact.readiness(st.coping[i], x, fam, st.tension[st.village[i]], e_, p), p)
                da = contact.attitude_change(st.attitude[i, h], e_, d_, fam, q, p)
                st.attitude[i, h] = min(max(st.attitude[i, h] + da, 0.0), 1.0)
                st.anchor[i, h] = min(max(st.anchor[i, h] + da, 0.0), 1.0)
                st.familiarity[i, h] = min(max(fam + contact.familiarity_change(fam, e_, d_, p), 0.0), 1.0)
                st.contact_pos[i] += e_ * q
                st.contact_neg[i] += e_ * (1 - q)

    # --- new cross-group ties ----------------------------------------------------------------
    # one draw per member of each mixed entry (making a tie), then one per tie maker (its partner)
    src, dst = [], []
    members = {e.index: [a.idx for a in agents if st.weeks_left[a.idx, e.index] > 0] for e in prog.mixed_active(week)}
    u_tie = iter(draws.take(sum(len(m) for m in members.values())))
    makers = [(e, i) for e in prog.mixed_active(week) for i in members[e.index]
              if next(u_tie) < p.tie_rate * e.activity.channel("ties")]
    u_partner = iter(draws.take(len(makers)))
    by_pool: dict[tuple[int, int], list[int]] = {}  # members of each entry's pools, in index order
    for k, m in members.items():
        for i in m:
            by_pool.setdefault((k, int(prog.entries[k].pool[i])), []).append(i)
    for e, i in makers:
        mates = by_pool[e.index, int(e.pool[i])]
        j = mates[min(int(np.floor(next(u_partner) * len(mates))), len(mates) - 1)]
        if st.group[i] != st.group[j]:
            src.append(i)
            dst.append(j)
    if src:
        net.add_ties(np.array(src, dtype=np.int64), np.array(dst, dtype=np.int64))
        nbrs = {a.idx: net.neighbours(a.idx) for a in agents}

    # --- social influence --------------------------------------------------------------------
    if p.influence_rate != 0:
        old = st.attitude.copy()
        for a in agents:
            i, g = a.idx, st.group[a.idx]
            for h in range(NG):
                if h == g:
                    continue
                num = den = 0.0
                for j in nbrs[i]:
                    if st.group[j] == h:
                        continue
                    w = 1.0 if st.group[j] == g else p.outgroup_credibility
                    num += w * old[j, h]
                    den += w
                m = num / den if den > 0 else old[i, h]
                da = influence.fj_change(old[i, h], m, st.anchor[i, h], st.stubbornness[i], p)
                st.attitude[i, h] = min(max(old[i, h] + da, 0.0), 1.0)

    # --- mediation and tension, village by village --------------------------------------------
    for v in range(st.tension.shape[0]):
        in_v = [a.idx for a in agents if st.village[a.idx] == v]
        dose_v = sum(dose[i]["mediation"] for i in in_v) / world.expected_cac[v]
        st.mediation[v] = min(max(st.mediation[v] + shocks.mediation_change(st.mediation[v], dose_v, p), 0.0), 1.0)
        att_v = _mean([sum(st.attitude[i, h] for h in range(NG) if h != st.group[i]) / (NG - 1) for i in in_v])
        dt = shocks.tension_change(st.tension[v], st.tension0[v], att_v, st.village_attitude0[v], st.mediation[v], p)
        st.tension[v] = min(max(st.tension[v] + dt, 0.0), 1.0)

    # --- end of week -------------------------------------------------------------------------
    for a in agents:
        i = a.idx
        if (st.weeks_left[i] > 0).any():
            st.ever[i] = True
            for k in range(len(prog)):
                if st.weeks_left[i, k] > 0:
                    st.weeks_left[i, k] -= 1


def _mean(values: list[float]) -> float:
    return sum(values) / max(len(values), 1)
