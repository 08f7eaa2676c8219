"""Split one mapping (array form) into MAESTRO's cluster levels, the way MAESTRO completes them.

Per level, in MAESTRO's order: output-centric Y'/X' become input rows/columns (Y = Y' + R - 1), directives
missing from an inner level are inherited from the level above (as TemporalMaps, in front), input-tensor
dimensions still missing are unrolled (full size, at the end), strided Y/X tiles are rescaled, and the level's
tile sizes become the dimension table of the level below. Also computes the per-level constants the
analysis reads (sub-cluster counts, edge cluster counts, mapped/unique element counts per dimension) and
each level's plan for the fast scan and the closed form (lp: one directive per dimension? where are the
spatial directives, which tensors do they touch). Parse-level and structural rejections are reported here
as (status, detail).
"""
from __future__ import annotations

import numpy as np
from numba import types
from numba.core.extending import intrinsic
from numba.cpython.unsafe.numbers import trailing_zeros

from ..arrays import (DIM_C, DIM_K, DIM_M, DIM_N, DIM_R, DIM_S, DIM_X, DIM_XP, DIM_Y, DIM_YP, HW_NUM_UNITS,
                      KIND_SPATIAL, KIND_TEMPORAL, LAYER_DIMS, LAYER_STRIDE_X, LAYER_STRIDE_Y, LAYER_TYPE,
                      LT_GEMM, MAX_LEVELS, NUM_DIMS)
from ..jit import njit
from .cmath import cdiv
from .metrics import (R_CLUSTER_GT_UNITS, R_CLUSTER_LT1, R_LEVELS, R_MANY_SPATIAL, R_NO_SPATIAL, R_OK,
                      R_OUTPUT_DIM_NO_FILTER, R_PARTIAL_RS, R_UNKNOWN_DIM, R_ZERO_SIZE, R_BAD_NLEVELS,
                      R_BAD_KIND, R_BAD_DIM)

#: directive slots per completed level: user directives plus inherited and unrolled ones
MAX_LEVEL_DIRS = 24
# level info columns
LI_NSUB, LI_NEDGE, LI_FIRST_SP = 0, 1, 2
# reuse map rows
MP_MAPPED, MP_UNIQUE, MP_MAPPED_EDGE, MP_UNIQUE_EDGE = 0, 1, 2, 3
# level plan columns (lp[lvl]): fast-path flag, spatial directive count and rows, per tensor (LP_TMASK + t,
# LP_TJS + t) which of the two spatial directives are the first of a coupled dimension, and the last of them
LP_FAST, LP_NSP, LP_SP0, LP_SP1, LP_TMASK, LP_TJS = 0, 1, 2, 3, 4, 7
NLP = 10


# The input-tensor dimensions of a layer type, sorted by name as MAESTRO sorts them, packed 4 bits per
# dimension (first one lowest): a constant instead of a small array allocated per call.
_IV_GEMM = DIM_K | (DIM_M << 4) | (DIM_N << 8)
_IV_CONV = DIM_C | (DIM_K << 4) | (DIM_R << 8) | (DIM_S << 12) | (DIM_X << 16) | (DIM_Y << 20)
_IV_DSCONV = DIM_C | (DIM_R << 4) | (DIM_S << 8) | (DIM_X << 12) | (DIM_Y << 16)
_MASK_GEMM = (1 << DIM_K) | (1 << DIM_M) | (1 << DIM_N)
_MASK_CONV = (1 << DIM_C) | (1 << DIM_K) | (1 << DIM_R) | (1 << DIM_S) | (1 << DIM_X) | (1 << DIM_Y)
_MASK_DSCONV = (1 << DIM_C) | (1 << DIM_R) | (1 << DIM_S) | (1 << DIM_X) | (1 << DIM_Y)
_B_X, _B_Y, _B_XP, _B_YP = 1 << DIM_X, 1 << DIM_Y, 1 << DIM_XP, 1 << DIM_YP


# Each tensor's coupled dimensions (input, filter, output) per layer type, in traffic.tensor_vars' order and
# numbering (CONV 0, DSCONV 1, GEMM 2; tests/test_analysis.py checks that the two agree).
TENSOR_DIMS = (((DIM_C, DIM_Y, DIM_X), (DIM_K, DIM_C, DIM_R, DIM_S), (DIM_K, DIM_Y, DIM_X)),
               ((DIM_C, DIM_Y, DIM_X), (DIM_C, DIM_R, DIM_S), (DIM_C, DIM_Y, DIM_X)),
               ((DIM_M, DIM_K), (DIM_K, DIM_N), (DIM_M, DIM_N)))
_NO_SP = 15     #: plan-table key for "no SpatialMap is the first directive of a dimension here"


def _plan_table() -> np.ndarray:
    """The per-tensor plan columns of a level as a lookup: per layer type and key d0 * 16 + d1 (the dimensions
    whose first directive is the first / second SpatialMap, or _NO_SP), 4 bits per tensor: the mask of those
    two spatial directives among the tensor's dimensions (bits 0, 1), and 1 + which one comes last in the
    tensor's list (bits 2, 3; 0 for none)."""
    table = np.zeros((3, 256), dtype=np.int64)
    for ti, tensors in enumerate(TENSOR_DIMS):
        for d0 in range(16):
            for d1 in range(16):
                packed = 0
                for t, dims in enumerate(tensors):
                    mask = 0
                    last = -1
                    for v in dims:
                        w = 0 if v == d0 else (1 if v == d1 else -1)
                        if w >= 0:
                            mask |= 1 << w
                            last = w
                    packed |= (mask | ((last + 1) << 2)) << (4 * t)
                table[ti, d0 * 16 + d1] = packed
    return table


_PLAN = _plan_table()
_TALL = np.array([sum(1 << v for v in {v for dims in tensors for v in dims}) for tensors in TENSOR_DIMS],
                 dtype=np.int64)     #: per layer type, the mask of all coupled dimensions


@intrinsic
def popcount(typingctx, x):
    """Number of set bits of an integer (one instruction)."""
    if not isinstance(x, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])
    return x(x), codegen


@njit(cache=True, _nrt=False, inline="always")
def _ix(i: int) -> int:
    """i (>= 0) as an unsigned index: numba then skips its negative-index wraparound arithmetic."""
    return np.uint64(i)


@njit(cache=True, _nrt=False, inline="always")
def input_vars_packed(ltype: int) -> tuple[int, int, int]:
    """Input-tensor dimensions (input and filter) of a layer type: (packed list, count, bit mask)."""
    if ltype == LT_GEMM:
        return _IV_GEMM, 3, _MASK_GEMM
    if ltype == 0:
        return _IV_CONV, 6, _MASK_CONV
    return _IV_DSCONV, 5, _MASK_DSCONV


@njit(cache=True, _nrt=False)
def input_vars(ltype: int, out: np.ndarray) -> int:
    """Dimensions of the input tensors (input and filter), sorted by name as MAESTRO sorts them."""
    packed, count, _ = input_vars_packed(ltype)
    for q in range(count):
        out[q] = (packed >> (4 * q)) & 15
    return count


@njit(cache=True, _nrt=False, inline="always")
def _set_detail(detail: np.ndarray, level: int, dim: int, a: int, b: int, c: int) -> None:
    detail[0] = level
    detail[1] = dim
    detail[2] = a
    detail[3] = b
    detail[4] = c


@njit(cache=True, _nrt=False)
def _directive_error(layer: np.ndarray, lvl: int, kind: int, dim: int, size: int, ofs: int,
                     detail: np.ndarray) -> int:
    """The parser's verdict on one directive, its rules in the parser's order (R_OK if it passes)."""
    if kind < 0 or kind > KIND_SPATIAL:
        _set_detail(detail, lvl, -1, kind, 0, 0)
        return R_BAD_KIND
    if dim < 0 or dim >= NUM_DIMS:
        _set_detail(detail, lvl, -1, dim, 0, 0)
        return R_BAD_DIM
    if size < 1 or ofs < 1:
        _set_detail(detail, lvl, dim, size, ofs, 0)
        return R_ZERO_SIZE
    if kind == KIND_TEMPORAL and (dim == DIM_R or dim == DIM_S):
        full = layer[LAYER_DIMS + dim]
        if size != ofs or (full > 0 and size != full):
            _set_detail(detail, lvl, dim, size, ofs, full)
            return R_PARTIAL_RS
    return R_OK


@njit(cache=True, _nrt=False, inline="always")
def breaks_parse(kind: int, dim: int, size: int, ofs: int, full_r: int, full_s: int) -> bool:
    """Whether a directive breaks a parser rule, in one branch-free expression (random mappings would mispredict
    a chain of branches); _directive_error names the rule."""
    bad = (kind < 0) | (kind > KIND_SPATIAL) | (dim < 0) | (dim >= NUM_DIMS) | (size < 1) | (ofs < 1)
    full = full_r if dim == DIM_R else full_s
    partial = (size != ofs) | ((full > 0) & (size != full))
    return bad | ((kind == KIND_TEMPORAL) & ((dim == DIM_R) | (dim == DIM_S)) & partial)


@njit(cache=True, _nrt=False, inline="always")
def check_parse(layer: np.ndarray, dirs: np.ndarray, clusters: np.ndarray, nlev: int,
                detail: np.ndarray) -> int:
    """Rules MAESTRO's DFSL parser enforces: positive sizes, full R/S TemporalMaps, at most 4 levels.

    Only a directive that breaks_parse goes through the rules in order, for the first rule it breaks.
    """
    if nlev < 1:
        _set_detail(detail, 0, -1, nlev, 0, 0)
        return R_BAD_NLEVELS
    if nlev > MAX_LEVELS or nlev > dirs.shape[0]:
        _set_detail(detail, 0, -1, nlev, 0, 0)
        return R_LEVELS
    full_r = layer[LAYER_DIMS + DIM_R]
    full_s = layer[LAYER_DIMS + DIM_S]
    for lvl in range(nlev):
        if lvl > 0 and clusters[lvl] < 1:
            _set_detail(detail, lvl, -1, clusters[lvl], 0, 0)
            return R_CLUSTER_LT1
        for j in range(dirs.shape[1]):
            kind = dirs[lvl, j, 0]
            if kind == 0:
                continue
            dim = dirs[lvl, j, 1]
            size = dirs[lvl, j, 2]
            ofs = dirs[lvl, j, 3]
            if breaks_parse(kind, dim, size, ofs, full_r, full_s):
                return _directive_error(layer, lvl, kind, dim, size, ofs, detail)
    return R_OK


@njit(cache=True, _nrt=False)
def build_levels(layer: np.ndarray, hw: np.ndarray, dirs: np.ndarray, clusters: np.ndarray, nlev: int,
                 ld: np.ndarray, ln: np.ndarray, linfo: np.ndarray, sdim: np.ndarray, lmap: np.ndarray,
                 lfirst: np.ndarray, llast: np.ndarray, lp: np.ndarray, detail: np.ndarray) -> int:
    """Complete every level of one mapping into the tables the analysis reads (incl. the plan lp); returns a status.

    Sets of dimensions (present in a level, in its dimension table) are kept as bit masks, so that no step
    searches the directive list; nothing is allocated (compiled without reference counting). The parser's
    checks run level by level as the directives are copied; a level that fails a structural rule first
    re-runs them all (`_reject`), since a parse error of any level takes precedence.
    """
    if nlev < 1 or nlev > MAX_LEVELS or nlev > dirs.shape[0]:
        return check_parse(layer, dirs, clusters, nlev, detail)
    ltype = layer[LAYER_TYPE]
    conv = ltype != LT_GEMM
    ivpacked, nivars, ivmask = input_vars_packed(ltype)
    # the top level's dimension table is the layer's (incl. Y', X' for convolutions)
    table = 0           # bit v: dimension v is in this level's table
    for v in range(NUM_DIMS):
        size = layer[LAYER_DIMS + v]
        sdim[0, v] = size
        table |= (1 << v) if size > 0 else 0
    if not conv:
        table &= ~(_B_YP | _B_XP)
    units = hw[HW_NUM_UNITS]
    upper = 1
    for lvl in range(1, nlev):
        if clusters[lvl] < 1:
            return check_parse(layer, dirs, clusters, nlev, detail)
        upper *= clusters[lvl]
        if upper > units:
            break               # already too many; stop before the product can overflow
    top_size = units // upper
    stride_y = layer[LAYER_STRIDE_Y]
    stride_x = layer[LAYER_STRIDE_X]
    full_r = layer[LAYER_DIMS + DIM_R]
    full_s = layer[LAYER_DIMS + DIM_S]
    strided = conv and (stride_y != 1 or stride_x != 1)
    rows_above = 0      # bit v: a row of the level above names dimension v
    for lvl in range(nlev):
        L = ld[lvl]
        dl = dirs[lvl]
        sd = sdim[lvl]
        # the level's own directives, in order, each checked as the parser does (one branch-free test)
        n = 0
        bad = False
        present = 0     # bit v: some directive of the list names dimension v
        spm = 0         # bit j: row j is a SpatialMap
        for j in range(dl.shape[0]):
            kind = dl[j, 0]
            if kind == 0:
                continue
            v = dl[j, 1]
            size = dl[j, 2]
            ofs = dl[j, 3]
            bad |= breaks_parse(kind, v, size, ofs, full_r, full_s)
            row = _ix(n)
            L[row, 0] = kind
            L[row, 1] = v
            L[row, 2] = size
            L[row, 3] = ofs
            present |= 1 << (v & 15)
            spm |= (kind >> 1) << n      # kinds are 1, 2 here (or the level is rejected)
            n += 1
        if bad or (lvl > 0 and clusters[lvl] < 1):
            return check_parse(layer, dirs, clusters, nlev, detail)
        dup = popcount(present) != n    # some dimension named twice (completing the level adds no repeats)
        # output-centric X'/Y' -> input-centric X/Y, with this level's filter tile
        if (present & (_B_XP | _B_YP)) != 0:
            present = _own_outputs(L, n, present)
            if present < 0:
                dim, filt = (DIM_XP, DIM_S) if present == -1 else (DIM_YP, DIM_R)
                return _reject(R_OUTPUT_DIM_NO_FILTER, lvl, dim, 0, 0, filt, layer, dirs, clusters, nlev, detail)
        # inherit what the level above decided: the first directive of each missing dimension, as a
        # TemporalMap, each in front of the previous ones (so in reverse order, before the own directives)
        if (rows_above & ~present) != 0:
            m = _insert_inherited(L, n, ld[lvl - 1], ln[lvl - 1], present)
            present |= rows_above
            n += m
            spm <<= m
        # unroll input-tensor dimensions nobody mapped
        if (ivmask & table & ~present) != 0:
            iv = ivpacked
            for q in range(nivars):
                v = iv & 15
                iv >>= 4
                bit = 1 << v
                if (present & bit) == 0 and (table & bit) != 0:
                    L[n, 0] = KIND_TEMPORAL
                    L[n, 1] = v
                    L[n, 2] = sd[v]
                    L[n, 3] = sd[v]
                    present |= bit
                    n += 1
        ln[lvl] = n
        # every directive must name a dimension of this level's table
        if (present & ~table) != 0:
            return _unknown_dim(L, n, table, lvl, layer, dirs, clusters, nlev, detail)
        # strided convolutions: rescale Y/X tiles so that they step over whole output rows/columns
        # (each Y/X directive in turn rescales the first directive of its dimension, as MAESTRO does)
        if strided and (present & (_B_X | _B_Y)) != 0:
            _rescale_strided(L, n, stride_y, stride_x, full_r, full_s, lvl > 0)
        # the cluster unit: at most two spatial maps, at least one (only own directives can be spatial)
        nsp = popcount(spm)
        sp0 = trailing_zeros(spm)
        rest = spm & (spm - 1)
        sp1 = trailing_zeros(rest) if rest != 0 else -1
        if nsp > 2:
            return _reject(R_MANY_SPATIAL, lvl, -1, 3, 0, 0, layer, dirs, clusters, nlev, detail)
        if nsp == 0:
            return _reject(R_NO_SPATIAL, lvl, -1, 0, 0, 0, layer, dirs, clusters, nlev, detail)
        nsub = top_size if lvl == 0 else clusters[lvl]
        if nsub == 0:
            return _reject(R_CLUSTER_GT_UNITS, lvl, -1, upper, units, 0, layer, dirs, clusters, nlev, detail)
        # any Y'/X' left (e.g. next to a Y/X directive) is converted with the completed level's R/S
        if (present & (_B_XP | _B_YP)) != 0:
            _convert_outputs(L, n)
            dup = True      # may repeat X or Y: the general pass below finds out
        linfo[lvl, LI_NSUB] = nsub
        linfo[lvl, LI_FIRST_SP] = sp0
        linfo[lvl, LI_NEDGE] = edge_clusters(L[sp0], sd[L[sp0, 1]], nsub)
        lf = lfirst[lvl]
        ll = llast[lvl]
        mp = lmap[lvl]
        _clear_level(lf, ll, mp)
        nxt = lvl + 1 < nlev
        if not dup and (ivmask & ~present) == 0:
            # each dimension has one row (all the genome decoder writes): one pass does it all
            rows = present
            if nxt:
                for v in range(NUM_DIMS):
                    sdim[lvl + 1, v] = 0
            for j in range(n):
                v = L[j, 1]
                size = L[j, 2]
                u = _ix(v)
                lf[u] = j
                ll[u] = j
                reuse_row(L[j, 0], u, size, L[j, 3], sd[u], mp)
                if nxt:
                    sdim[lvl + 1, u] = min(size, sd[u]) if ((ivmask >> v) & 1) != 0 else 0
        else:
            rows, dupmask = _index_rows(L, n, lf, ll)
            dup = dupmask != 0
            for j in range(n):
                reuse_row(L[j, 0], L[j, 1], L[j, 2], L[j, 3], sd[L[j, 1]], mp)
            if nxt:
                _next_table(L, sd, lf, ivpacked, nivars, sdim[lvl + 1])
        if conv:
            reuse_outputs(L, mp, ll)
        plan_level(L, lf, ltype, rows, dup, nsp, sp0, sp1, lp[lvl])
        rows_above = rows
        table = ivmask      # the level below: the tile sizes of this level, for the input-tensor dimensions
    return R_OK


@njit(cache=True, _nrt=False)
def _reject(status: int, lvl: int, dim: int, a: int, b: int, c: int, layer: np.ndarray, dirs: np.ndarray,
            clusters: np.ndarray, nlev: int, detail: np.ndarray) -> int:
    """A structural rejection, unless the parser rejects the mapping first (a later level may break its rules)."""
    parse = check_parse(layer, dirs, clusters, nlev, detail)
    if parse != R_OK:
        return parse
    _set_detail(detail, lvl, dim, a, b, c)
    return status


@njit(cache=True, _nrt=False, inline="always")
def plan_level(L: np.ndarray, lf: np.ndarray, ltype: int, rows: int, dup: bool, nsp: int, sp0: int, sp1: int,
               lpl: np.ndarray) -> None:
    """The level's plan: the fast path scans it when each dimension has one directive and every coupled
    dimension is present; where its (one or two) spatial directives are and whom they touch (_PLAN)."""
    ti = 2 if ltype == LT_GEMM else (1 if ltype == 1 else 0)      # traffic.tensor_vars' layer types
    lpl[LP_FAST] = 1 if (not dup) & ((_TALL[ti] & ~rows) == 0) else 0
    lpl[LP_NSP] = nsp
    lpl[LP_SP0] = sp0
    lpl[LP_SP1] = sp1
    d0 = L[sp0, 1]
    d1 = L[max(sp1, 0), 1]
    if not dup:         # every row is the first of its dimension
        k0 = d0
        k1 = d1 if sp1 >= 0 else _NO_SP
    else:
        k0 = d0 if lf[d0] == sp0 else _NO_SP
        k1 = d1 if (sp1 >= 0) & (lf[d1] == sp1) else _NO_SP
    packed = _PLAN[ti, k0 * 16 + k1]
    for t in range(3):
        lpl[LP_TMASK + t] = (packed >> (4 * t)) & 3
        lpl[LP_TJS + t] = ((packed >> (4 * t + 2)) & 3) - 1


@njit(cache=True, _nrt=False, inline="always")
def _clear_level(lf: np.ndarray, ll: np.ndarray, mp: np.ndarray) -> None:
    """No directive yet for any dimension, nothing mapped."""
    for v in range(NUM_DIMS):
        lf[v] = -1
        ll[v] = -1
    for k in range(4):
        for v in range(NUM_DIMS):
            mp[k, v] = 0


@njit(cache=True, _nrt=False)
def _index_rows(L: np.ndarray, n: int, lf: np.ndarray, ll: np.ndarray) -> tuple[int, int]:
    """First and last row of each dimension; returns (dimensions with a row, dimensions with several)."""
    rows = 0
    dup = 0
    for j in range(n):
        bit = 1 << L[j, 1]
        dup |= rows & bit
        rows |= bit
        ll[L[j, 1]] = j
    for j in range(n - 1, -1, -1):
        lf[L[j, 1]] = j
    return rows, dup


@njit(cache=True, _nrt=False)
def _next_table(L: np.ndarray, sd: np.ndarray, lf: np.ndarray, ivpacked: int, nivars: int,
                out: np.ndarray) -> None:
    """The level below's dimension table: the first tile of each input-tensor dimension (within the dimension)."""
    for v in range(NUM_DIMS):
        out[v] = 0
    iv = ivpacked
    for q in range(nivars):
        v = iv & 15
        iv >>= 4
        j = lf[v]       # -1 only for a dimension absent from the top table (reads row -1, as before)
        out[v] = min(L[j, 2], sd[v])


# Steps most levels skip, compiled apart so that their code stays out of the hot loop's way.

@njit(cache=True, _nrt=False)
def _insert_inherited(L: np.ndarray, n: int, P: np.ndarray, np_: int, present: int) -> int:
    """Move the n directives of L down; in front, the first parent row of each missing dimension, as a
    TemporalMap, in reverse order (the first one picked ends up just before the own directives).

    Returns the number of rows inserted."""
    picked = 0      # parent rows to inherit, 5 bits each (a level has < 32 rows; at most NUM_DIMS picks)
    m = 0
    for pj in range(np_):
        bit = 1 << P[pj, 1]
        missing = (present & bit) == 0
        present |= bit
        picked |= (pj << (5 * m)) if missing else 0
        m += missing
    for j in range(n - 1, -1, -1):
        L[j + m, 0] = L[j, 0]
        L[j + m, 1] = L[j, 1]
        L[j + m, 2] = L[j, 2]
        L[j + m, 3] = L[j, 3]
    for q in range(m):
        pj = (picked >> (5 * q)) & 31
        row = m - 1 - q
        L[row, 0] = KIND_TEMPORAL
        L[row, 1] = P[pj, 1]
        L[row, 2] = P[pj, 2]
        L[row, 3] = P[pj, 3]
    return m


@njit(cache=True, _nrt=False)
def _own_outputs(L: np.ndarray, n: int, present: int) -> int:
    """Output-centric X'/Y' among a level's own directives become input-centric X/Y with the level's (last)
    filter tile, the first one of each unless an X (Y) directive is there too. Returns the new presence mask,
    or -1 (-2) when an X' (Y') has no S (R) directive to convert with."""
    r_size = -1
    s_size = -1
    n_yp = 0
    n_xp = 0
    j_yp = -1
    j_xp = -1
    for j in range(n):
        v = L[j, 1]
        if v == DIM_R:
            r_size = L[j, 2]
        elif v == DIM_S:
            s_size = L[j, 2]
        elif v == DIM_YP:
            j_yp = j if j_yp < 0 else j_yp
            n_yp += 1
        elif v == DIM_XP:
            j_xp = j if j_xp < 0 else j_xp
            n_xp += 1
    if n_xp > 0 and (present & _B_X) == 0:
        if s_size < 0:
            return -1
        present = _to_input_side(L, j_xp, DIM_X, s_size, n_xp, present, _B_X, _B_XP)
    if n_yp > 0 and (present & _B_Y) == 0:
        if r_size < 0:
            return -2
        present = _to_input_side(L, j_yp, DIM_Y, r_size, n_yp, present, _B_Y, _B_YP)
    return present


@njit(cache=True, _nrt=False, inline="always")
def _to_input_side(L: np.ndarray, j: int, dim: int, filt: int, count: int, present: int, bit: int,
                   out_bit: int) -> int:
    """Directive j (X' or Y') becomes `dim` (X or Y) spanning its outputs plus the filter tile; the presence mask
    keeps the output bit only while other X' (Y') directives remain."""
    L[j, 1] = dim
    L[j, 2] = L[j, 2] + filt - 1
    present |= bit
    if count == 1:
        present &= ~out_bit
    return present


@njit(cache=True, _nrt=False)
def _unknown_dim(L: np.ndarray, n: int, table: int, lvl: int, layer: np.ndarray, dirs: np.ndarray,
                 clusters: np.ndarray, nlev: int, detail: np.ndarray) -> int:
    """The rejection for the first directive naming a dimension outside the level's table."""
    for j in range(n):
        v = L[j, 1]
        if ((table >> v) & 1) == 0:
            return _reject(R_UNKNOWN_DIM, lvl, v, 0, 0, 0, layer, dirs, clusters, nlev, detail)
    return R_OK


@njit(cache=True, _nrt=False)
def _rescale_strided(L: np.ndarray, n: int, stride_y: int, stride_x: int, full_r: int, full_s: int,
                     inner: bool) -> None:
    """Strided convolutions: each Y (X) directive in turn rescales the first Y (X) directive's size/offset."""
    first_y = -1
    first_x = -1
    for j in range(n):
        v = L[j, 1]
        if v == DIM_Y:
            if first_y < 0:
                first_y = j
            first = first_y
            stride = stride_y
            sl = full_r
        elif v == DIM_X:
            if first_x < 0:
                first_x = j
            first = first_x
            stride = stride_x
            sl = full_s
        else:
            continue
        if stride == 1:
            continue
        size = L[j, 2]
        if size >= sl:
            outs = cdiv(size + stride - sl, stride)
            adj_size = outs * min(stride, sl) + max(sl - stride, 0)
            adj_ofs = outs * stride
            if inner and sl < stride:
                adj_ofs = outs * sl
            L[first, 2] = adj_size
            L[first, 3] = adj_ofs


@njit(cache=True, _nrt=False)
def _convert_outputs(L: np.ndarray, n: int) -> None:
    """Y'/X' directives left after completion become Y/X with the level's last R/S tile."""
    last_r = 0
    last_s = 0
    for j in range(n):
        if L[j, 1] == DIM_R:
            last_r = L[j, 2]
        elif L[j, 1] == DIM_S:
            last_s = L[j, 2]
    for j in range(n):
        if L[j, 1] == DIM_XP:
            L[j, 1] = DIM_X
            L[j, 2] = L[j, 2] + last_s - 1
        elif L[j, 1] == DIM_YP:
            L[j, 1] = DIM_Y
            L[j, 2] = L[j, 2] + last_r - 1


@njit(cache=True, _nrt=False)
def _edge_clusters_general(size: int, ofs: int, dim: int, nsub: int) -> int:
    """edge_clusters for any signs (C++ division); only odd inputs get here."""
    full = ofs * (nsub - 1) + size
    nedge = 1
    if dim > full:
        steady = cdiv(cdiv(dim - size, ofs) + 1, nsub) - 1
        remaining = dim - (steady + 1) * ofs * nsub
        if remaining < size:
            nedge = 1
        else:
            nedge = cdiv(remaining - size, ofs) + 1
    else:
        if dim > size:
            nedge = cdiv(dim - size, ofs) + 1
            if ofs * (nedge - 1) + size < dim:
                nedge += 1
        else:
            nedge = 1
    if dim <= size:
        nedge = 1
    return nedge


@njit(cache=True, _nrt=False, inline="always")
def edge_clusters(d: np.ndarray, dim: int, nsub: int) -> int:
    """Sub-clusters active in the last spatial step of the level's first SpatialMap d (static sizes)."""
    return edge_count(d[2], d[3], dim, nsub)


@njit(cache=True, _nrt=False, inline="always")
def edge_count(size: int, ofs: int, dim: int, nsub: int) -> int:
    """Sub-clusters active in the last spatial step of a SpatialMap(size, ofs) over `dim` with nsub sub-clusters.

    With a positive tile, offset and cluster count every division has positive operands (C++ and
    Python division agree); anything else takes the general code.
    """
    if dim <= size:
        return 1
    if size < 1 or ofs < 1 or nsub < 1:
        return _edge_clusters_general(size, ofs, dim, nsub)
    full = ofs * (nsub - 1) + size
    if dim > full:
        steady = ((dim - size) // ofs + 1) // nsub - 1
        remaining = dim - (steady + 1) * ofs * nsub
        if remaining < size:
            return 1
        return (remaining - size) // ofs + 1
    nedge = (dim - size) // ofs + 1
    if ofs * (nedge - 1) + size < dim:
        nedge += 1
    return nedge


@njit(cache=True, _nrt=False)
def _steady_general(ahead: int, ofs: int) -> int:
    """Whole steps of a non-positive offset (C++ division); only odd inputs get here."""
    return max(cdiv(ahead, ofs), 0)


@njit(cache=True, _nrt=False, inline="always")
def reuse_row(kind: int, v: int, size: int, ofs: int, dim: int, mp: np.ndarray) -> None:
    """One directive's elements mapped, new (unique) per step, and the same at the edge step, into mp[:, v].

    A dimension with several directives keeps the last one's numbers (rows are visited in order)."""
    m, u, me, ue = reuse_counts(kind, size, ofs, dim)
    mp[MP_MAPPED, v] = m
    mp[MP_UNIQUE, v] = u
    mp[MP_MAPPED_EDGE, v] = me
    mp[MP_UNIQUE_EDGE, v] = ue


@njit(cache=True, _nrt=False, inline="always")
def reuse_counts(kind: int, size: int, ofs: int, dim: int) -> tuple[int, int, int, int]:
    """(mapped, unique, mapped at the edge, unique at the edge) of a directive over a dimension of size `dim`."""
    ahead = dim - size
    if ofs > 0:
        steady = max(ahead, 0) // ofs     # = max(cdiv(ahead, ofs), 0); no branch on the sign of ahead
    else:
        steady = _steady_general(ahead, ofs)
    has_edge = (steady * ofs + size < dim) or (size > dim)
    unique = 0 if (kind == KIND_TEMPORAL and dim <= size) else min(size, ofs)
    edge = dim - (steady + 1) * ofs
    if edge < 0:
        edge = dim
    return size, unique, (edge if has_edge else size), max(ofs - (size - edge), 0)


@njit(cache=True, _nrt=False, inline="always")
def reuse_outputs(ld: np.ndarray, mp: np.ndarray, llast: np.ndarray) -> None:
    """Convolutions: Y'/X' follow the last Y/X directive (and the level's R/S numbers)."""
    for v in (DIM_Y, DIM_X):
        j = llast[v]
        if j < 0:
            continue
        out = DIM_YP if v == DIM_Y else DIM_XP
        sl = DIM_R if v == DIM_Y else DIM_S
        mp[MP_MAPPED, out] = mp[MP_MAPPED, v] - mp[MP_MAPPED, sl] + 1
        mp[MP_UNIQUE, out] = min(ld[j, 3], ld[j, 2])
        mp[MP_MAPPED_EDGE, out] = mp[MP_MAPPED_EDGE, v] - mp[MP_MAPPED_EDGE, sl] + 1
        mp[MP_UNIQUE_EDGE, out] = min(ld[j, 3], mp[MP_MAPPED_EDGE, out])
