"""The social network: households tied mostly within their village and their group.

Generation (docs/model.md, section 5.2): each household starts Poisson(mean_degree / 2) ties;
each tie stays in the village with probability ``within_village`` and, in the chosen village,
in the household's group with probability ``within_group``; the partner is uniform in that
(village, group) block. Self-ties and duplicates are dropped. All of it is array arithmetic, so
a million households take seconds. The model keeps the baseline ties as a sparse adjacency matrix
(and, for social influence, a copy with out-group ties weighted) and the ties made by activities
as a list; ``to_networkx`` gives the networkx graph on demand.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import scipy.sparse as sp

from .kernels import add_new_ties, neighbour_share, symmetric_csr, tie_blocks, tie_ends, unique_ties, upward_gap_sums


def generate_ties(group: np.ndarray, village: np.ndarray, spec, rng: np.random.Generator, n_groups: int,
                  sources: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Undirected ties as (src, dst) with src < dst, no duplicates, sorted. Ties are started by
    ``sources`` (default: every household) and end at any household.

    ``generate_ties_plain`` in three compiled passes, with the same draws in the same order: the
    partner's block of each stub (kernels.tie_blocks, four uniforms a stub, drawn in chunks: the
    same numbers as one array), its partner in the block (kernels.tie_ends, a fifth uniform a
    kept stub) and the distinct ties sorted (kernels.unique_ties, a counting sort)."""
    n, sources, n_villages, order, counts, starts, stubs = _blocks_and_stubs(group, village, spec, rng, n_groups,
                                                                             sources)
    src = np.repeat(np.asarray(sources, dtype=np.int64), stubs)
    # the passes write their results over their inputs (src, block): few new large arrays
    block = np.empty(src.size, dtype=np.int64)
    u = np.empty((min(src.size, TIE_CHUNK), 4))
    kept = 0
    for lo in range(0, src.size, TIE_CHUNK):  # the rows of rng.random((stubs, 4)), a chunk at a time
        chunk = src[lo:lo + TIE_CHUNK]
        kept = tie_blocks(chunk, rng.random(out=u[:chunk.size]), village, group, n_villages, n_groups,
                          float(spec.within_village), float(spec.within_group), counts, src, block, kept)
    m, v = 0, u.reshape(-1)
    for lo in range(0, kept, TIE_CHUNK):  # rng.random(kept), a chunk at a time
        m = tie_ends(src, block, rng.random(out=v[:min(kept - lo, TIE_CHUNK)]), lo, counts, starts, order, m)
    k = unique_ties(src[:m], block[:m], n, np.zeros(n + 1, dtype=np.int64), np.empty(m, dtype=np.int64), src, block)
    return src[:k], block[:k]


def _blocks_and_stubs(group, village, spec, rng, n_groups, sources):
    """What both forms of the tie generation start from: the households by (village, group) block
    (order, counts, starts) and each source's number of stubs (the first draw)."""
    n = group.shape[0]
    sources = np.arange(n) if sources is None else sources
    n_villages = int(village.max()) + 1 if n else 0
    block = village.astype(np.int64) * n_groups + group
    order = np.argsort(block, kind="stable")
    counts = np.bincount(block, minlength=n_villages * n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    stubs = rng.poisson(spec.mean_degree / 2.0, sources.size)
    return n, sources, n_villages, order, counts, starts, stubs


TIE_CHUNK = 1 << 16
"""Stubs whose four uniforms ``generate_ties`` draws at a time."""


def generate_ties_plain(group: np.ndarray, village: np.ndarray, spec, rng: np.random.Generator, n_groups: int,
                  sources: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``generate_ties`` in numpy: the specification of its compiled passes."""
    n, sources, n_villages, order, counts, starts, stubs = _blocks_and_stubs(group, village, spec, rng, n_groups,
                                                                             sources)
    src = np.repeat(sources, stubs)
    u = rng.random((src.shape[0], 4))
    own_v = village[src].astype(np.int64)
    other_v = (own_v + 1 + np.floor(u[:, 0] * max(n_villages - 1, 1)).astype(np.int64)) % max(n_villages, 1)
    tv = np.where((u[:, 1] < spec.within_village) | (n_villages == 1), own_v, other_v)
    own_g = group[src].astype(np.int64)
    other_g = (own_g + 1 + np.floor(u[:, 2] * (n_groups - 1)).astype(np.int64)) % n_groups
    tg = np.where(u[:, 3] < spec.within_group, own_g, other_g)
    tb = tv * n_groups + tg
    size = counts[tb]
    keep = size > 0
    src, tb, size = src[keep], tb[keep], size[keep]
    # a fifth uniform per stub picks the partner inside the block
    pick = np.floor(rng.random(src.shape[0]) * size).astype(np.int64)
    dst = order[starts[tb] + pick]
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    keys = sorted_unique(lo[lo != hi] * n + hi[lo != hi])
    return (keys // n).astype(np.int64), (keys % n).astype(np.int64)


def sorted_unique(keys: np.ndarray) -> np.ndarray:
    """``np.unique(keys)`` by sorting: numpy 2's hash-based unique is several times slower on
    millions of integer keys (2.75 s against 0.4 s for the 4.2 million ties of 10^6 households)."""
    keys = np.sort(keys)
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if keys.size else keys


def _contains(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Whether each of ``keys`` is in ``sorted_keys`` (binary search; np.isin sorts both)."""
    if sorted_keys.size == 0:
        return np.zeros(keys.shape, dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.size - 1)
    return sorted_keys[pos] == keys


def _insert_sorted(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Merge sorted ``keys`` into ``sorted_keys`` (a linear merge, not a new sort; ``np.insert``
    does the same with more Python around it)."""
    at = np.searchsorted(sorted_keys, keys) + np.arange(keys.size)  # where the new keys end up
    out = np.empty(sorted_keys.size + keys.size, dtype=sorted_keys.dtype)
    old = np.ones(out.size, dtype=bool)
    old[at] = False
    out[at] = keys
    out[old] = sorted_keys
    return out


def _symmetric(src: np.ndarray, dst: np.ndarray, n: int, compiled: bool = True) -> sp.csr_matrix:
    """The ties' symmetric adjacency matrix (ones), ``_symmetric_plain``'s: built directly in CSR
    form (kernels.symmetric_csr) when the ties are in ``generate_ties``'s order, else by scipy
    (and when not ``compiled``: a rebuild within the week, whose plain form calls no kernel)."""
    if not compiled:
        return _symmetric_plain(src, dst, n)
    index = np.int32 if max(n, 2 * src.size) < np.iinfo(np.int32).max else np.int64  # scipy's choice
    indptr, indices = np.zeros(n + 1, dtype=index), np.empty(2 * src.size, dtype=index)
    if not symmetric_csr(src, dst, indptr, indices):
        return _symmetric_plain(src, dst, n)
    m = sp.csr_matrix((np.ones(indices.size), indices, indptr), shape=(n, n))
    m.has_sorted_indices = True  # each row sorted (symmetric_csr), no duplicates
    return m


def _symmetric_plain(src: np.ndarray, dst: np.ndarray, n: int) -> sp.csr_matrix:
    rows = np.concatenate([src, dst])
    cols = np.concatenate([dst, src])
    return sp.csr_matrix((np.ones(rows.shape[0]), (rows, cols)), shape=(n, n))


class SocialNetwork:
    """Ties of the population: the baseline ties as a sparse adjacency matrix, ties made by
    activities as a list.

    ``base`` holds the baseline ties; ``new_src`` and ``new_dst`` are the cross-group ties that
    mixed activities created (they outlast the activity).
    """

    def __init__(self, group: np.ndarray, src: np.ndarray, dst: np.ndarray, n_groups: int):
        self.n = group.shape[0]
        self.group = group
        self.n_groups = n_groups
        self._onehot = np.zeros((self.n, n_groups))
        self._onehot[np.arange(self.n), self.group] = 1.0
        self._all_src, self._all_dst = src, dst  # every baseline tie, of present households or not
        self._build(src, dst)

    def _build(self, src: np.ndarray, dst: np.ndarray) -> None:
        """The baseline ties ``src``-``dst`` and no activity ties yet."""
        # both ends of every tie, baseline ones first, then those made by activities, with room to
        # grow (``src``, ``dst``, ``new_src``, ``new_dst`` are views of it)
        self._n_base = self._n_ties = src.size
        self._ends = np.empty((2, src.size + max(1024, src.size // 8)), dtype=np.int64)
        self._ends[0, :src.size], self._ends[1, :src.size] = src, dst
        self.base = _symmetric(src, dst, self.n, compiled=not hasattr(self, "base"))  # numpy's in set_present
        # the kernels read a household's baseline ties from its CSR row when the tie list is in that
        # order (src < dst, sorted by (src, dst): generate_ties's), else tie by tie
        keys = src * self.n + dst
        self.csr_order = bool(np.all(src < dst) and np.all(keys[1:] > keys[:-1]) and self.base.has_sorted_indices)
        self._weighted: dict[float, sp.csr_matrix] = {}  # base with out-group ties weighted, per weight
        self._base_keys = np.sort(src * self.n + dst)
        self._new_cells = np.zeros(0, dtype=np.int64)  # sorted, both src * n + dst and dst * n + src
        self._new_rows = np.zeros(0, dtype=np.int64)   # the new ties in both directions, sorted by row
        self._new_cols = np.zeros(0, dtype=np.int64)   # then column (the order of a CSR matrix)
        self._new_cell_index: dict[int, np.ndarray] = {}
        self._graph: nx.Graph | None = None
        # the baseline ties change only with who is present, so their sums are made then; activity
        # ties are added as they come
        self.degree = np.asarray(self.base.sum(axis=1)).ravel()
        # ties of each household to members of each group (own-group column included)
        self.ties_by_group = np.asarray(self.base @ self._onehot)
        # ties within one's own group: all baseline (activities tie across groups only)
        self._in_group_ties = self.ties_by_group[np.arange(self.n), self.group]
        self._non_member_weights: dict[float, np.ndarray] = {}  # made again on first use
        self._no_weights = np.zeros((0, self.n_groups))  # add_ties's stand-in when none are kept

    def set_present(self, present: np.ndarray) -> None:
        """Keep only the ties between households that are present (arrivals' ties wait for them;
        those who left lose theirs, activity-made ones too)."""
        new_src, new_dst = self.new_src.copy(), self.new_dst.copy()
        keep = present[self._all_src] & present[self._all_dst]
        self._build(self._all_src[keep], self._all_dst[keep])
        kept = present[new_src] & present[new_dst]
        self.add_ties_plain(new_src[kept], new_dst[kept])  # rare: numpy's form (no compiled kernel)

    @property
    def src(self) -> np.ndarray:
        return self._ends[0, :self._n_base]

    @property
    def dst(self) -> np.ndarray:
        return self._ends[1, :self._n_base]

    @property
    def new_src(self) -> np.ndarray:
        return self._ends[0, self._n_base:self._n_ties]

    @property
    def new_dst(self) -> np.ndarray:
        return self._ends[1, self._n_base:self._n_ties]

    # --- operations the mechanisms use -----------------------------------------------------
    def neighbour_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum over each household's neighbours (all ties); values may be N or N x k."""
        return self.base @ values + self._new_sum(values) if self._new_rows.size else self.base @ values

    def neighbour_mean(self, values: np.ndarray) -> np.ndarray:
        total = self.neighbour_sum(values)
        deg = np.maximum(self.degree, 1.0)
        return total / (deg if total.ndim == 1 else deg[:, None])

    def neighbour_share(self, flags: np.ndarray) -> np.ndarray:
        """``neighbour_mean(flags.astype(float))`` for a boolean N array: the share of each
        household's neighbours whose flag is set, in one compiled pass (kernels.neighbour_share)."""
        return neighbour_share(*self.csr(), flags, self.degree, np.empty(self.n))

    def csr(self) -> tuple[np.ndarray, ...]:
        """The ties as the compiled kernels read them: the baseline ties' CSR arrays (indptr,
        indices, data) and the activity ties' rows and columns in CSR order (both directions)."""
        return self.base.indptr, self.base.indices, self.base.data, self._new_rows, self._new_cols

    def tie_list(self) -> tuple[np.ndarray, int, int]:
        """The ends of every tie (2 x room; baseline ties in ``[:n_base]``, those made in
        activities up to ``n_ties``), n_base and n_ties."""
        return self._ends, self._n_base, self._n_ties

    def weighted_sum(self, values: np.ndarray, outgroup_weight: float) -> np.ndarray:
        """Sum over neighbours, out-group neighbours weighted by ``outgroup_weight`` (ties made by
        activities are all out-group)."""
        if outgroup_weight not in self._weighted:
            rows = np.repeat(np.arange(self.n), np.diff(self.base.indptr))
            same = self.group[rows] == self.group[self.base.indices]
            self._weighted[outgroup_weight] = sp.csr_matrix(
                (np.where(same, 1.0, outgroup_weight), self.base.indices, self.base.indptr), shape=self.base.shape)
        total = self._weighted[outgroup_weight] @ values
        return total + outgroup_weight * self._new_sum(values) if self._new_rows.size else total

    def _new_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum over each household's ties made by activities: the product with their adjacency
        matrix, as a bincount over the ties in CSR order (the same sums in the same order;
        rebuilding a scipy matrix each week a tie is added cost more than the product)."""
        if values.ndim == 1:
            return np.bincount(self._new_rows, weights=values[self._new_cols], minlength=self.n)
        k = values.shape[1]
        if k not in self._new_cell_index:  # (row, column) of each tie's k values, until ties change
            self._new_cell_index[k] = (self._new_rows[:, None] * k + np.arange(k)).ravel()
        return np.bincount(self._new_cell_index[k], weights=values[self._new_cols].ravel(),
                           minlength=self.n * k).reshape(self.n, k)

    def weighted_ties_to_non_members(self, outgroup_weight: float) -> np.ndarray:
        """N x groups: ties to households outside each group, out-group ties weighted by ``outgroup_weight``.

        Equal to ``weighted_sum(holders, outgroup_weight)`` with holders[j, h] = (group_j != h),
        counted from ``ties_by_group`` instead of three sparse products: a household's in-group
        neighbours are outside every group but its own, its out-group neighbours outside its own
        group and every group but theirs.
        """
        if outgroup_weight not in self._non_member_weights:
            self._non_member_weights[outgroup_weight] = self._non_member_rows(slice(None), outgroup_weight)
        return self._non_member_weights[outgroup_weight]

    def _non_member_rows(self, rows, outgroup_weight: float) -> np.ndarray:
        own = self._onehot[rows].astype(bool)
        by_group = self.ties_by_group[rows]
        in_group = self._in_group_ties[rows]
        out_group = self.degree[rows] - in_group
        in_part = np.where(own, 0.0, in_group[:, None])
        out_part = np.where(own, out_group[:, None], out_group[:, None] - by_group)
        return in_part + outgroup_weight * out_part

    def mean_upward_gap(self, x: np.ndarray) -> np.ndarray:
        """Mean over neighbours of max(x_j - x_i, 0): only better-off neighbours pull.

        Tie by tie (each tie once): the worse-off end gets the difference, the other nothing.
        """
        src, dst = self._ends[0, :self._n_ties], self._ends[1, :self._n_ties]
        return upward_gap_sums(src, dst, np.ascontiguousarray(x, dtype=float), self.n) / np.maximum(self.degree, 1.0)

    def add_ties(self, src: np.ndarray, dst: np.ndarray) -> int:
        """Add cross-group ties not already present; returns how many were new. One compiled
        call (kernels.add_new_ties); ``add_ties_plain`` is the same in numpy."""
        if src.size == 0:
            return 0
        if self._n_ties + src.size > self._ends.shape[1]:  # room for them all, grown by half at least
            grown = np.empty((2, max(self._n_ties + src.size, self._ends.shape[1] * 3 // 2)), dtype=np.int64)
            grown[:, :self._n_ties] = self._ends[:, :self._n_ties]
            self._ends = grown
        weights = list(self._non_member_weights.items())  # influence keeps one
        w, kept = weights[0] if weights else (0.0, self._no_weights)
        made, cells, rows, cols = add_new_ties(
            np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64), self.n, self._base_keys,
            self._new_cells, self._ends, self._n_ties, self.degree, self.ties_by_group, self.group, kept, w,
            self._in_group_ties)
        if made == 0:
            return 0
        self._new_cells, self._new_rows, self._new_cols = cells, rows, cols
        self._n_ties += made
        self._new_cell_index: dict[int, np.ndarray] = {}
        for w, weights in weights[1:]:  # more weights than influence's (none in the model)
            touched = np.unique(np.concatenate([self.new_src[-made:], self.new_dst[-made:]]))
            weights[touched] = self._non_member_rows(touched, w)
        self._graph = None
        return int(made)

    def add_ties_plain(self, src: np.ndarray, dst: np.ndarray) -> int:
        """``add_ties`` in numpy."""
        if src.size == 0:
            return 0
        lo, hi = np.minimum(src, dst), np.maximum(src, dst)
        keys = sorted_unique(lo[lo != hi] * self.n + hi[lo != hi])
        keys = keys[~_contains(self._base_keys, keys) & ~_contains(self._new_cells, keys)]
        if keys.size == 0:
            return 0
        src, dst = keys // self.n, keys % self.n
        if self._n_ties + keys.size > self._ends.shape[1]:  # grow by half at least
            grown = np.empty((2, max(self._n_ties + keys.size, self._ends.shape[1] * 3 // 2)), dtype=np.int64)
            grown[:, :self._n_ties] = self._ends[:, :self._n_ties]
            self._ends = grown
        self._ends[0, self._n_ties:self._n_ties + keys.size] = src
        self._ends[1, self._n_ties:self._n_ties + keys.size] = dst
        self._n_ties += keys.size
        self._new_cells = _insert_sorted(self._new_cells, np.sort(np.concatenate([keys, dst * self.n + src])))
        self._new_rows = self._new_cells // self.n
        self._new_cols = self._new_cells - self._new_rows * self.n
        self._new_cell_index: dict[int, np.ndarray] = {}
        # each new tie adds one to the degree of both ends and to their ties to the other's group
        np.add.at(self.degree, src, 1.0)
        np.add.at(self.degree, dst, 1.0)
        np.add.at(self.ties_by_group, (src, self.group[dst]), 1.0)
        np.add.at(self.ties_by_group, (dst, self.group[src]), 1.0)
        touched = np.unique(np.concatenate([src, dst]))
        for w, weights in self._non_member_weights.items():
            weights[touched] = self._non_member_rows(touched, w)
        self._graph = None
        return int(keys.size)

    def cross_group_ties(self) -> np.ndarray:
        """Ties of each household to households of other groups."""
        return self.degree - self._in_group_ties

    def neighbours(self, i: int) -> np.ndarray:
        """Neighbours of one household (for the reference step and inspection)."""
        base = self.base.indices[self.base.indptr[i]:self.base.indptr[i + 1]]
        src, dst = self.new_src, self.new_dst
        new = np.concatenate([dst[src == i], src[dst == i]])
        return np.concatenate([base, new]).astype(np.int64)

    @property
    def n_ties(self) -> int:
        return int(self._n_ties)

    def to_networkx(self, village: np.ndarray | None = None, groups: list[str] | None = None) -> nx.Graph:
        """The network as a networkx graph; ties made by activities carry ``kind='activity'``; nodes
        carry their group (its name, given ``groups``) and village."""
        if self._graph is None:
            g = nx.Graph()
            g.add_nodes_from(range(self.n))
            names = groups or list(range(self.n_groups))
            nx.set_node_attributes(g, {i: names[k] for i, k in enumerate(self.group.tolist())}, "group")
            if village is not None:
                nx.set_node_attributes(g, dict(enumerate(village.tolist())), "village")
            g.add_edges_from(zip(self.src.tolist(), self.dst.tolist()), kind="baseline")
            g.add_edges_from(zip(self.new_src.tolist(), self.new_dst.tolist()), kind="activity")
            self._graph = g
        return self._graph
