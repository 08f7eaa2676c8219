"""The genome: GAMMA/qGamma's mapping encoding, held as numpy int arrays.

A population is ``pop[n, levels, 7, 2]`` (int64). Per level, gene 0 is ``(parallel role, units)`` and genes
1..6 are ``(role, tile)`` for the six roles K, C, Y, X, R, S in loop order (outermost first).

- Roles are the conv loops in genome order ``ROLE_NAMES``; `GenomeSpace.dim_index` says which MAESTRO
  dimension each role is written as. CONV: the obvious ones. DSCONV: no K (the K role is kept as tile 1 and
  never written). GEMM (input M x K, weight K x N, output M x N) is an FC layer: N (output features) takes
  K's role (so it is never split across the FUs of a PE), the reduction K takes C's role, the rows M take
  Y's role; X, R and S do not exist (tile 1, never written).
- ``units`` of gene 0: level 0 = number of clusters (num_pes // PEs per cluster, derived), level 1 = PEs per
  cluster (the Cluster directive opening level 1, the searched value), level 2 = P FUs per PE (fixed).
- Tiles are input-centric: Y tiles >= R and X tiles >= S, R/S tiles are the whole filter, and a tile never
  exceeds the same role's tile of the level above (level 0: the dimension).

Layers whose operands are all 32-bit use 2 levels; narrower layers 3 (the innermost over the FUs of a PE,
parallel dim C, Y or X, never K: FUs of one PE must not split output channels).
Everything here is pure; random draws come from a numpy Generator passed in, as uniform [0, 1) arrays fed to
jitted kernels, so a seed reproduces a run bit for bit.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from numba import njit

from qmaestro.accelerator import Accelerator
from qmaestro.errors import InputError
from qmaestro.layer import Layer

from .settings import Heuristics

ROLE_NAMES = ("K", "C", "Y", "X", "R", "S")
ROLE_K, ROLE_C, ROLE_Y, ROLE_X, ROLE_R, ROLE_S = range(6)
NUM_ROLES = 6
GENES = 7
#: MAESTRO dimension indexes (qmaestro.arrays.DIM_NAMES order: K C R S Y X Y' X' M N)
_DIM = {"K": 0, "C": 1, "R": 2, "S": 3, "Y": 4, "X": 5, "M": 8, "N": 9}
#: uniform draws one individual needs at creation (14 per level, 3 levels at most)
CREATE_DRAWS = 48


@dataclass(frozen=True, eq=False)
class GenomeSpace:
    """Everything the jitted kernels need to know about one (layer, accelerator, heuristics) search space."""

    layer_name: str
    levels: int
    sizes: np.ndarray          # [6] dimension size per role
    lo: np.ndarray             # [6] smallest legal tile per role (Y: R, X: S, R/S: full, else 1)
    exists: np.ndarray         # [6] 1 if the role is a dimension of this layer type
    par_allowed: np.ndarray    # [levels, 6] 1 if the role may be the parallel dim of that level
    top_n: np.ndarray          # [levels] draw the parallel dim among the n largest (0 = any allowed)
    cluster_options: np.ndarray  # sorted PEs-per-cluster values (level 1)
    num_pes: int
    lanes: int
    pow2_kc: int
    dim_index: np.ndarray      # [6] MAESTRO dim index per role, -1 = not written
    window: np.ndarray         # [6] filter size a Y/X tile slides over (0 = no sliding window)
    step: np.ndarray           # [6] stride of that window (1 otherwise)
    loop_order: np.ndarray | None = None  # [6] roles: fixes every level's loop order (None = searched)

    def kernel_args(self) -> tuple:
        """The arrays the creation / repair / mutation kernels take, in their order."""
        return (self.sizes, self.lo, self.exists, self.par_allowed, self.top_n, self.cluster_options,
                self.num_pes, self.lanes, self.pow2_kc, self.window, self.step)

    def role_size(self, role: str) -> int:
        return int(self.sizes[ROLE_NAMES.index(role)])


def levels_for(layer: Layer) -> int:
    """2 cluster levels at 32 bits, 3 (clusters, PEs, FUs) when narrower operands split a PE into FUs."""
    return 2 if layer.precision.is_32bit else 3


def role_sizes(layer: Layer) -> dict[str, int]:
    """Size of each genome role for this layer (GEMM: K role = N, C role = K, Y role = M)."""
    if layer.type == "GEMM":
        return {"K": layer.N, "C": layer.K, "Y": layer.M, "X": 1, "R": 1, "S": 1}
    return {"K": layer.K if layer.type == "CONV" else 1, "C": layer.C, "Y": layer.Y, "X": layer.X,
            "R": layer.R, "S": layer.S}


def _dim_names(layer: Layer) -> tuple[str | None, ...]:
    if layer.type == "GEMM":
        return ("N", "K", "M", None, None, None)
    if layer.type == "DSCONV":
        return (None, "C", "Y", "X", "R", "S")
    return ROLE_NAMES


def cluster_options(num_pes: int, pow2: bool, fixed: int | None = None) -> np.ndarray:
    """Allowed PEs per cluster: powers of two up to num_pes (heuristic) or every value 1..num_pes."""
    if fixed is not None:
        if isinstance(fixed, bool) or not isinstance(fixed, (int, np.integer)) or not 1 <= fixed <= num_pes:
            raise InputError(f"PEs per cluster must be a whole number in 1..{num_pes}, got {fixed!r}", "cluster",
                             f"pick a value that divides the {num_pes} PEs, e.g. 4")
        return np.array([int(fixed)], dtype=np.int64)
    if pow2:
        return np.array([1 << k for k in range(num_pes.bit_length()) if (1 << k) <= num_pes], dtype=np.int64)
    return np.arange(1, num_pes + 1, dtype=np.int64)


def genome_space(layer: Layer, accelerator: Accelerator, heuristics: Heuristics = Heuristics(),
                 cluster: int | None = None, loop_order: Sequence[str] | None = None) -> GenomeSpace:
    """The search space of one layer on one accelerator; `cluster` fixes the PEs per cluster and
    `loop_order` (e.g. "KCYXRS") every level's loop order (then run with reorder_rate 0), which gives a space
    small enough to enumerate."""
    levels = levels_for(layer)
    sz = role_sizes(layer)
    sizes = np.array([sz[r] for r in ROLE_NAMES], dtype=np.int64)
    names = _dim_names(layer)
    exists = np.array([n is not None for n in names], dtype=np.int64)
    dim_index = np.array([_DIM[n] if n else -1 for n in names], dtype=np.int64)
    conv = layer.type != "GEMM"
    lo = np.ones(NUM_ROLES, dtype=np.int64)
    window = np.zeros(NUM_ROLES, dtype=np.int64)
    step = np.ones(NUM_ROLES, dtype=np.int64)
    if conv:
        lo[ROLE_Y], lo[ROLE_X], lo[ROLE_R], lo[ROLE_S] = layer.R, layer.S, layer.R, layer.S
        window[ROLE_Y], window[ROLE_X] = layer.R, layer.S
        step[ROLE_Y], step[ROLE_X] = layer.stride_y, layer.stride_x
    par = np.zeros((levels, NUM_ROLES), dtype=np.int64)
    for lvl in range(levels):
        for r in (ROLE_K, ROLE_C, ROLE_Y, ROLE_X):
            par[lvl, r] = exists[r]
    if levels == 3:
        par[2, ROLE_K] = 0
    tops = [heuristics.top_dims_level0, heuristics.top_dims_level1, 0][:levels]
    return GenomeSpace(layer.name, levels, sizes, lo, exists, par, np.array(tops, dtype=np.int64),
                       cluster_options(accelerator.num_pes, heuristics.pow2_cluster, cluster),
                       accelerator.num_pes, layer.precision.lanes, int(heuristics.pow2_kc_tiles), dim_index,
                       window, step, _order(loop_order))


def _order(loop_order: Sequence[str] | None) -> np.ndarray | None:
    if loop_order is None:
        return None
    names = [str(d).upper() for d in loop_order]
    if sorted(names) != sorted(ROLE_NAMES):
        raise InputError(f"loop order {''.join(names)} must name K, C, Y, X, R, S once each", "loop_order",
                         "write e.g. KCYXRS")
    return np.array([ROLE_NAMES.index(d) for d in names], dtype=np.int64)


# ---- jitted helpers --------------------------------------------------------------------------------------------
@njit(cache=True)
def draw_int(u: float, lo: int, hi: int) -> int:
    """Uniform integer in [lo, hi] from one uniform draw (hi < lo gives lo)."""
    if hi <= lo:
        return lo
    k = int(u * (hi - lo + 1))
    return lo + min(k, hi - lo)


@njit(cache=True)
def _draw_pow2(u: float, hi: int) -> int:
    """Uniform power of two in [1, hi]."""
    count = 0
    v = 1
    while v <= hi:
        count += 1
        v *= 2
    if count <= 1:
        return 1
    return 1 << min(int(u * count), count - 1)


@njit(cache=True)
def tiles_of(genome_level: np.ndarray) -> np.ndarray:
    """Tile per role of one level (genes 1..6)."""
    out = np.ones(6, dtype=np.int64)
    for j in range(1, 7):
        out[genome_level[j, 0]] = genome_level[j, 1]
    return out


@njit(cache=True)
def draw_parallel(u: float, allowed: np.ndarray, key: np.ndarray, top_n: int) -> int:
    """A parallel role among the allowed ones; with top_n > 0 only among the top_n largest by `key`."""
    cand = np.empty(6, dtype=np.int64)
    m = 0
    for r in range(6):
        if allowed[r]:
            cand[m] = r
            m += 1
    if m == 0:
        return 1
    if top_n > 0 and top_n < m:
        # stable selection of the top_n largest keys (ties: genome order)
        chosen = np.empty(top_n, dtype=np.int64)
        used = np.zeros(m, dtype=np.int64)
        for t in range(top_n):
            best = -1
            for c in range(m):
                if used[c] == 0 and (best < 0 or key[cand[c]] > key[cand[best]]):
                    best = c
            used[best] = 1
            chosen[t] = cand[best]
        return chosen[min(int(u * top_n), top_n - 1)]
    return cand[min(int(u * m), m - 1)]


@njit(cache=True)
def draw_tile(u: float, role: int, upper: int, lo: np.ndarray, sizes: np.ndarray, exists: np.ndarray,
              pow2: bool) -> int:
    """A tile for `role` within [lo, upper]; R/S are always the whole filter; powers of two if asked."""
    if exists[role] == 0:
        return 1
    if role == 4 or role == 5:
        return sizes[role]
    if pow2:
        return max(lo[role], _draw_pow2(u, upper))
    return draw_int(u, lo[role], upper)


@njit(cache=True)
def create_kernel(u: np.ndarray, levels: int, sizes: np.ndarray, lo: np.ndarray, exists: np.ndarray,
                  par_allowed: np.ndarray, top_n: np.ndarray, cluster_opts: np.ndarray, num_pes: int, lanes: int,
                  pow2_kc: int, window: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Random individuals (one per row of u[n, CREATE_DRAWS]) that satisfy every genome invariant."""
    n = u.shape[0]
    pop = np.zeros((n, levels, 7, 2), dtype=np.int64)
    for i in range(n):
        parent = sizes.copy()
        k = 0
        for lvl in range(levels):
            tiles = np.ones(6, dtype=np.int64)
            for r in range(6):
                tiles[r] = draw_tile(u[i, k], r, parent[r], lo, sizes, exists, pow2_kc == 1 and r <= 1)
                k += 1
            # loop order: a random permutation (Fisher-Yates on 5 draws)
            order = np.arange(6)
            for a in range(5, 0, -1):
                b = min(int(u[i, k] * (a + 1)), a)
                k += 1
                order[a], order[b] = order[b], order[a]
            k += 1  # keep the draw layout fixed per level
            pop[i, lvl, 0, 0] = draw_parallel(u[i, k], par_allowed[lvl], parent, top_n[lvl])
            k += 1
            pop[i, lvl, 0, 1] = cluster_opts[min(int(u[i, k] * cluster_opts.shape[0]), cluster_opts.shape[0] - 1)]
            k += 1
            for j in range(6):
                pop[i, lvl, j + 1, 0] = order[j]
                pop[i, lvl, j + 1, 1] = tiles[order[j]]
            parent = tiles
    repair_kernel(pop, sizes, lo, exists, par_allowed, top_n, cluster_opts, num_pes, lanes, pow2_kc, window, step)
    return pop


@njit(cache=True)
def repair_kernel(pop: np.ndarray, sizes: np.ndarray, lo: np.ndarray, exists: np.ndarray, par_allowed: np.ndarray,
                  top_n: np.ndarray, cluster_opts: np.ndarray, num_pes: int, lanes: int, pow2_kc: int,
                  window: np.ndarray, step: np.ndarray) -> None:
    """Make every individual legal in place: tiles within [lo, tile above], R/S full, legal parallel dims,
    PEs per cluster one of the options, derived units at levels 0 and 2.

    When the stride exceeds the filter (e.g. 1x1 stride 2), a sliding window cannot step over the rows between
    outputs (MAESTRO needs offset <= size), so such Y/X tiles are whole multiples of the stride (or the whole
    tile above) and step by their own size; an inner level keeps the whole tile above only when that tile is a
    stride multiple that splits its own parent evenly (MAESTRO rejects the other cases)."""
    n, levels = pop.shape[0], pop.shape[1]
    chain = np.empty((levels + 1, 6), dtype=np.int64)   # chain[0] = dims, chain[l + 1] = level l's tiles
    chain[0] = sizes
    for i in range(n):
        for lvl in range(levels):
            parent = chain[lvl]
            for j in range(1, 7):
                r = pop[i, lvl, j, 0]
                t = pop[i, lvl, j, 1]
                if exists[r] == 0:
                    t = 1
                elif r == 4 or r == 5:
                    t = sizes[r]
                else:
                    t = min(max(t, lo[r]), parent[r])
                    if window[r] > 0 and step[r] > window[r]:
                        if t < parent[r]:
                            t = min(max(step[r], t - t % step[r]), parent[r])
                        elif lvl > 0 and parent[r] > step[r] and (chain[lvl - 1, r] % parent[r] != 0
                                                                    or parent[r] % step[r] != 0):
                            # a whole-tile inner map under an uneven outer split (or an outer tile that is no
                            # stride multiple) makes MAESTRO see no new rows at some step and exit; step inside
                            t = max(step[r], ((parent[r] - 1) // step[r]) * step[r])
                pop[i, lvl, j, 1] = t
                chain[lvl + 1, r] = t
            d = pop[i, lvl, 0, 0]
            if d < 0 or d > 5 or par_allowed[lvl, d] == 0:
                best = -1
                for r in range(6):
                    if par_allowed[lvl, r] and (best < 0 or parent[r] > parent[best]):
                        best = r
                pop[i, lvl, 0, 0] = best if best >= 0 else 1
        # units: level 1 is searched, level 0 derived, level 2 fixed to the FUs per PE
        c = pop[i, 1, 0, 1] if levels > 1 else 1
        snapped = cluster_opts[0]
        for o in cluster_opts:
            if o <= c:
                snapped = o
        pop[i, 1, 0, 1] = snapped
        pop[i, 0, 0, 1] = max(1, num_pes // snapped)
        if levels > 2:
            pop[i, 2, 0, 1] = lanes


@njit(cache=True)
def _row_hashes(flat: np.ndarray) -> np.ndarray:
    n, m = flat.shape
    h = np.empty(n, dtype=np.uint64)
    for i in range(n):
        x = np.uint64(1469598103934665603)
        for j in range(m):
            x = (x ^ np.uint64(flat[i, j] & 0xFFFFFFFF)) * np.uint64(1099511628211)
        h[i] = x
    return h


@njit(cache=True)
def duplicate_kernel(flat: np.ndarray, n_fixed: int) -> np.ndarray:
    """dup[i] for rows i >= n_fixed: equal hash to an earlier row (rows < n_fixed are never marked)."""
    h = _row_hashes(flat)
    order = np.argsort(h, kind="mergesort")     # stable: the earliest row of a run of equal hashes comes first
    dup = np.zeros(flat.shape[0], dtype=np.bool_)
    for a in range(1, order.shape[0]):
        if h[order[a]] == h[order[a - 1]]:
            dup[order[a]] = True
    return dup[n_fixed:]


# ---- public API ------------------------------------------------------------------------------------------------
def random_population(space: GenomeSpace, n: int, rng: np.random.Generator) -> np.ndarray:
    """n fresh legal individuals drawn with rng (the only source of randomness)."""
    u = rng.random((n, CREATE_DRAWS))
    pop = create_kernel(u, space.levels, *space.kernel_args())
    if space.loop_order is not None:
        pop = with_loop_order(pop, space.loop_order)
    return pop


def with_loop_order(pop: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The population with genes 1..6 of every level re-arranged into `order` (roles), tiles kept."""
    out = pop.copy()
    rank = np.empty(NUM_ROLES, dtype=np.int64)
    rank[order] = np.arange(NUM_ROLES)
    genes = pop[:, :, 1:, :]
    pos = np.argsort(rank[genes[..., 0]], axis=2, kind="stable")
    out[:, :, 1:, :] = np.take_along_axis(genes, pos[..., None], axis=2)
    return out


def repair(pop: np.ndarray, space: GenomeSpace) -> np.ndarray:
    """Repaired copy of a population (see repair_kernel)."""
    out = np.array(pop, dtype=np.int64, copy=True)
    repair_kernel(out, *space.kernel_args())
    return out


def genome_hashes(pop: np.ndarray) -> np.ndarray:
    """64-bit FNV-1a hash per individual (equal genomes, equal hashes)."""
    return _row_hashes(np.ascontiguousarray(pop, dtype=np.int64).reshape(pop.shape[0], -1))


def duplicate_mask(pop: np.ndarray, against: np.ndarray | None = None) -> np.ndarray:
    """True for every individual equal to an earlier one or to one in `against` (which is never marked).

    Individuals are compared by a 64-bit FNV-1a hash of their genes (a collision only costs one needless
    replacement)."""
    full = pop if against is None or against.shape[0] == 0 else np.concatenate([against, pop])
    flat = np.ascontiguousarray(full, dtype=np.int64).reshape(full.shape[0], -1)
    return duplicate_kernel(flat, full.shape[0] - pop.shape[0])


def check_genome(genome: np.ndarray, space: GenomeSpace, where: str = "genome") -> np.ndarray:
    """A single genome [levels, 7, 2] as int64 after checking its shape and that each level is a permutation."""
    g = np.asarray(genome, dtype=np.int64)
    if g.shape != (space.levels, GENES, 2):
        raise InputError(f"genome has shape {g.shape}, this layer needs ({space.levels}, 7, 2)", where,
                         f"give {space.levels} levels of 7 genes (parallel gene + K, C, Y, X, R, S)")
    for lvl in range(space.levels):
        if sorted(int(r) for r in g[lvl, 1:, 0]) != list(range(NUM_ROLES)):
            raise InputError(f"level {lvl} does not name each of K, C, Y, X, R, S once", where,
                             "list the six dims in loop order, each once")
    return g


def genome_to_lists(genome: np.ndarray) -> list[list[list[Any]]]:
    """Plain form for JSON/YAML: per level [[parallel, units], [dim, tile] x 6] (role names as letters)."""
    return [[[ROLE_NAMES[int(d)], int(t)] for d, t in level] for level in np.asarray(genome)]


def genome_from_lists(levels: Sequence[Sequence[Sequence[Any]]], where: str = "genome") -> np.ndarray:
    """Inverse of genome_to_lists (no space check; see check_genome)."""
    try:
        g = np.array([[[ROLE_NAMES.index(str(d).upper()), int(t)] for d, t in lvl] for lvl in levels],
                     dtype=np.int64)
    except (ValueError, TypeError):
        raise InputError("cannot read genome: each gene must be [dim, number] with dim one of K, C, Y, X, R, S",
                         where, "write e.g. [[K, 4], [C, 16], [K, 2], [Y, 3], [X, 3], [R, 3], [S, 3]]") from None
    if g.ndim != 3 or g.shape[1:] != (GENES, 2):
        raise InputError(f"genome levels must have 7 genes each, got shape {g.shape}", where,
                         "one parallel gene then six (dim, tile) genes per level")
    return g
