"""Split one mapping (array form) into MAESTRO's cluster levels, the way MAESTRO completes them.

Per level, in MAESTRO's order: output-centric Y'/X' become input rows/columns (Y = Y' + R - 1), directives
missing from an inner level are inherited from the level above (as TemporalMaps, in front), input-tensor
dimensions still missing are unrolled (full size, at the end), strided Y/X tiles are rescaled, and the level's
tile sizes become the dimension table of the level below. Also computes the per-level constants the
analysis reads (sub-cluster counts, edge cluster counts, mapped/unique element counts per dimension).
Parse-level and structural rejections are reported here as (status, detail).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..arrays import (DIM_C, DIM_K, DIM_M, DIM_N, DIM_R, DIM_S, DIM_X, DIM_XP, DIM_Y, DIM_YP, HW_NUM_UNITS,
                      KIND_SPATIAL, KIND_TEMPORAL, LAYER_DIMS, LAYER_STRIDE_X, LAYER_STRIDE_Y, LAYER_TYPE,
                      LT_GEMM, MAX_LEVELS, NUM_DIMS)
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


# The input-tensor dimensions of a layer type, sorted by name as MAESTRO sorts them, packed 4 bits per
# dimension (first one lowest): a constant instead of a small array allocated per call.
_IV_GEMM = DIM_K | (DIM_M << 4) | (DIM_N << 8)
_IV_CONV = DIM_C | (DIM_K << 4) | (DIM_R << 8) | (DIM_S << 12) | (DIM_X << 16) | (DIM_Y << 20)
_IV_DSCONV = DIM_C | (DIM_R << 4) | (DIM_S << 8) | (DIM_X << 12) | (DIM_Y << 16)
_MASK_GEMM = (1 << DIM_K) | (1 << DIM_M) | (1 << DIM_N)
_MASK_CONV = (1 << DIM_C) | (1 << DIM_K) | (1 << DIM_R) | (1 << DIM_S) | (1 << DIM_X) | (1 << DIM_Y)
_MASK_DSCONV = (1 << DIM_C) | (1 << DIM_R) | (1 << DIM_S) | (1 << DIM_X) | (1 << DIM_Y)
_B_X, _B_Y, _B_XP, _B_YP = 1 << DIM_X, 1 << DIM_Y, 1 << DIM_XP, 1 << DIM_YP


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
def check_parse(layer: np.ndarray, dirs: np.ndarray, clusters: np.ndarray, nlev: int,
                detail: np.ndarray) -> int:
    """Rules MAESTRO's DFSL parser enforces: positive sizes, full R/S TemporalMaps, at most 4 levels.

    Each directive is tested with one branch-free expression (random mappings would mispredict a chain
    of branches); only a failing one goes through the rules in order, for the first rule it breaks.
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
            bad = (kind < 0) | (kind > KIND_SPATIAL) | (dim < 0) | (dim >= NUM_DIMS) | (size < 1) | (ofs < 1)
            full = full_r if dim == DIM_R else full_s
            partial = (size != ofs) | ((full > 0) & (size != full))
            bad |= (kind == KIND_TEMPORAL) & ((dim == DIM_R) | (dim == DIM_S)) & partial
            if bad:
                return _directive_error(layer, lvl, kind, dim, size, ofs, detail)
    return R_OK


@njit(cache=True, _nrt=False)
def build_levels(layer: np.ndarray, hw: np.ndarray, dirs: np.ndarray, clusters: np.ndarray, nlev: int,
                 ld: np.ndarray, ln: np.ndarray, linfo: np.ndarray, sdim: np.ndarray, spres: np.ndarray,
                 lmap: np.ndarray, lfirst: np.ndarray, llast: np.ndarray, detail: np.ndarray) -> int:
    """Complete every level of one mapping into the tables the analysis reads; returns a status code.

    Sets of dimensions (present in a level, in its dimension table) are kept as bit masks, so that no step
    searches the directive list; nothing is allocated (compiled without reference counting).
    """
    status = check_parse(layer, dirs, clusters, nlev, detail)
    if status != R_OK:
        return status
    ltype = layer[LAYER_TYPE]
    conv = ltype != LT_GEMM
    ivpacked, nivars, ivmask = input_vars_packed(ltype)
    # the top level's dimension table is the layer's (incl. Y', X' for convolutions)
    table = 0           # bit v: dimension v is in this level's table (spres[lvl, v] == 1)
    for v in range(NUM_DIMS):
        size = layer[LAYER_DIMS + v]
        sdim[0, v] = size
        if size > 0:
            spres[0, v] = 1
            table |= 1 << v
        else:
            spres[0, v] = 0
    if not conv:
        spres[0, DIM_YP] = 0
        spres[0, DIM_XP] = 0
        table &= ~(_B_YP | _B_XP)
    units = hw[HW_NUM_UNITS]
    upper = 1
    for lvl in range(1, nlev):
        upper *= clusters[lvl]
        if upper > units:
            break               # already too many; stop before the product can overflow
    top_size = units // upper
    stride_y = layer[LAYER_STRIDE_Y]
    stride_x = layer[LAYER_STRIDE_X]
    full_r = layer[LAYER_DIMS + DIM_R]
    full_s = layer[LAYER_DIMS + DIM_S]
    for lvl in range(nlev):
        L = ld[lvl]
        dl = dirs[lvl]
        sd = sdim[lvl]
        # the level's own directives, in order
        n = 0
        r_size = -1
        s_size = -1
        present = 0     # bit v: some directive of the list names dimension v
        n_yp = 0
        n_xp = 0
        j_yp = -1
        j_xp = -1
        nsp = 0
        first_sp = -1
        for j in range(dl.shape[0]):
            kind = dl[j, 0]
            if kind == 0:
                continue
            v = dl[j, 1]
            size = dl[j, 2]
            L[n, 0] = kind
            L[n, 1] = v
            L[n, 2] = size
            L[n, 3] = dl[j, 3]
            present |= 1 << v
            # selects, not branches: the order of dimensions in a level is random
            r_size = size if v == DIM_R else r_size
            s_size = size if v == DIM_S else s_size
            is_yp = v == DIM_YP
            is_xp = v == DIM_XP
            is_sp = kind == KIND_SPATIAL
            j_yp = n if (is_yp & (j_yp < 0)) else j_yp
            j_xp = n if (is_xp & (j_xp < 0)) else j_xp
            first_sp = n if (is_sp & (first_sp < 0)) else first_sp
            n_yp += is_yp
            n_xp += is_xp
            nsp += is_sp
            n += 1
        # output-centric X'/Y' -> input-centric X/Y, with this level's filter tile
        if n_xp > 0 and (present & _B_X) == 0:
            if s_size < 0:
                _set_detail(detail, lvl, DIM_XP, 0, 0, DIM_S)
                return R_OUTPUT_DIM_NO_FILTER
            L[j_xp, 1] = DIM_X
            L[j_xp, 2] = L[j_xp, 2] + s_size - 1
            present |= _B_X
            n_xp -= 1
            if n_xp == 0:
                present &= ~_B_XP
        if n_yp > 0 and (present & _B_Y) == 0:
            if r_size < 0:
                _set_detail(detail, lvl, DIM_YP, 0, 0, DIM_R)
                return R_OUTPUT_DIM_NO_FILTER
            L[j_yp, 1] = DIM_Y
            L[j_yp, 2] = L[j_yp, 2] + r_size - 1
            present |= _B_Y
            n_yp -= 1
            if n_yp == 0:
                present &= ~_B_YP
        # inherit what the level above decided: the first directive of each missing dimension, as a
        # TemporalMap, each in front of the previous ones (so in reverse order, before the own directives)
        if lvl > 0:
            P = ld[lvl - 1]
            picked = 0      # parent rows to inherit, 5 bits each (a level has < 32 rows; at most NUM_DIMS picks)
            m = 0
            for pj in range(ln[lvl - 1]):
                bit = 1 << P[pj, 1]
                missing = (present & bit) == 0
                present |= bit
                picked |= (pj << (5 * m)) if missing else 0
                m += missing
            if m > 0:
                _insert_inherited(L, n, P, picked, m)
                n += m
                if first_sp >= 0:
                    first_sp += m
        # unroll input-tensor dimensions nobody mapped
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
            return _unknown_dim(L, n, table, lvl, detail)
        # strided convolutions: rescale Y/X tiles so that they step over whole output rows/columns
        # (each Y/X directive in turn rescales the first directive of its dimension, as MAESTRO does)
        if conv and (stride_y != 1 or stride_x != 1) and (present & (_B_X | _B_Y)) != 0:
            _rescale_strided(L, n, stride_y, stride_x, full_r, full_s, lvl > 0)
        # the cluster unit: at most two spatial maps, at least one (only own directives can be spatial)
        if nsp > 2:
            _set_detail(detail, lvl, -1, 3, 0, 0)
            return R_MANY_SPATIAL
        if nsp == 0:
            _set_detail(detail, lvl, -1, 0, 0, 0)
            return R_NO_SPATIAL
        nsub = top_size if lvl == 0 else clusters[lvl]
        if nsub == 0:
            _set_detail(detail, lvl, -1, upper, units, 0)
            return R_CLUSTER_GT_UNITS
        # any Y'/X' left (e.g. next to a Y/X directive) is converted with the completed level's R/S
        if (present & (_B_XP | _B_YP)) != 0:
            _convert_outputs(L, n)
        linfo[lvl, LI_NSUB] = nsub
        linfo[lvl, LI_FIRST_SP] = first_sp
        linfo[lvl, LI_NEDGE] = edge_clusters(L[first_sp], sd[L[first_sp, 1]], nsub)
        lf = lfirst[lvl]
        ll = llast[lvl]
        for v in range(NUM_DIMS):
            lf[v] = -1
            ll[v] = -1
        for j in range(n):
            ll[L[j, 1]] = j
        for j in range(n - 1, -1, -1):
            lf[L[j, 1]] = j
        reuse_maps(L, n, sd, conv, lmap[lvl], ll)
        # the tile sizes of this level are the dimension table of the level below
        if lvl + 1 < nlev:
            for v in range(NUM_DIMS):
                sdim[lvl + 1, v] = 0
                spres[lvl + 1, v] = 0
            iv = ivpacked
            for q in range(nivars):
                v = iv & 15
                iv >>= 4
                j = lf[v]       # -1 only for a dimension absent from the top table (reads row -1, as before)
                sdim[lvl + 1, v] = min(L[j, 2], sd[v])
                spres[lvl + 1, v] = 1
            table = ivmask
    return R_OK


# Steps most levels skip, compiled apart so that their code stays out of the hot loop's way.

@njit(cache=True, _nrt=False)
def _insert_inherited(L: np.ndarray, n: int, P: np.ndarray, picked: int, m: int) -> None:
    """Move the n directives of L down by m rows; rows m-1 .. 0 get the picked parent rows as TemporalMaps."""
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


@njit(cache=True, _nrt=False)
def _unknown_dim(L: np.ndarray, n: int, table: int, lvl: int, detail: np.ndarray) -> int:
    """The rejection for the first directive naming a dimension outside the level's table."""
    for j in range(n):
        v = L[j, 1]
        if ((table >> v) & 1) == 0:
            _set_detail(detail, lvl, v, 0, 0, 0)
            return R_UNKNOWN_DIM
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
    """Sub-clusters active in the last spatial step of the level's first SpatialMap (static sizes).

    With a positive tile, offset and cluster count every division has positive operands (C++ and
    Python division agree); anything else takes the general code.
    """
    size = d[2]
    ofs = d[3]
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
def reuse_maps(ld: np.ndarray, n: int, sdim: np.ndarray, conv: bool, mp: np.ndarray, llast: np.ndarray) -> None:
    """Per dimension: elements mapped, new (unique) per step, and the same at the edge step.

    A dimension with several directives keeps the last one's numbers; Y'/X' follow the last Y/X directive.
    """
    for k in range(4):
        for v in range(NUM_DIMS):
            mp[k, v] = 0
    for j in range(n):
        kind = ld[j, 0]
        v = ld[j, 1]
        size = ld[j, 2]
        ofs = ld[j, 3]
        dim = sdim[v]
        ahead = dim - size
        if ofs > 0:
            steady = max(ahead, 0) // ofs     # = max(cdiv(ahead, ofs), 0); no branch on the sign of ahead
        else:
            steady = _steady_general(ahead, ofs)
        has_edge = (steady * ofs + size < dim) or (size > dim)
        mp[MP_MAPPED, v] = size
        mp[MP_UNIQUE, v] = 0 if (kind == KIND_TEMPORAL and dim <= size) else min(size, ofs)
        edge = dim - (steady + 1) * ofs
        if edge < 0:
            edge = dim
        mp[MP_MAPPED_EDGE, v] = edge if has_edge else size
        mp[MP_UNIQUE_EDGE, v] = max(ofs - (size - edge), 0)
    if conv:
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
