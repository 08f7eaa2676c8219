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


@njit(cache=True)
def input_vars(ltype: int, out: np.ndarray) -> int:
    """Dimensions of the input tensors (input and filter), sorted by name as MAESTRO sorts them."""
    if ltype == LT_GEMM:
        out[0] = DIM_K
        out[1] = DIM_M
        out[2] = DIM_N
        return 3
    n = 0
    out[n] = DIM_C
    n += 1
    if ltype == 0:
        out[n] = DIM_K
        n += 1
    out[n] = DIM_R
    out[n + 1] = DIM_S
    out[n + 2] = DIM_X
    out[n + 3] = DIM_Y
    return n + 4


@njit(cache=True)
def _find(ld: np.ndarray, n: int, var: int) -> int:
    for j in range(n):
        if ld[j, 1] == var:
            return j
    return -1


@njit(cache=True)
def _set_detail(detail: np.ndarray, level: int, dim: int, a: int, b: int, c: int) -> None:
    detail[0] = level
    detail[1] = dim
    detail[2] = a
    detail[3] = b
    detail[4] = c


@njit(cache=True)
def check_parse(layer: np.ndarray, dirs: np.ndarray, clusters: np.ndarray, nlev: int,
                detail: np.ndarray) -> int:
    """Rules MAESTRO's DFSL parser enforces: positive sizes, full R/S TemporalMaps, at most 4 levels."""
    if nlev < 1:
        _set_detail(detail, 0, -1, nlev, 0, 0)
        return R_BAD_NLEVELS
    if nlev > MAX_LEVELS or nlev > dirs.shape[0]:
        _set_detail(detail, 0, -1, nlev, 0, 0)
        return R_LEVELS
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


@njit(cache=True)
def build_levels(layer: np.ndarray, hw: np.ndarray, dirs: np.ndarray, clusters: np.ndarray, nlev: int,
                 ld: np.ndarray, ln: np.ndarray, linfo: np.ndarray, sdim: np.ndarray, spres: np.ndarray,
                 lmap: np.ndarray, lfirst: np.ndarray, llast: np.ndarray, detail: np.ndarray) -> int:
    """Complete every level of one mapping into the tables the analysis reads; returns a status code."""
    status = check_parse(layer, dirs, clusters, nlev, detail)
    if status != R_OK:
        return status
    ltype = layer[LAYER_TYPE]
    conv = ltype != LT_GEMM
    ivars = np.empty(8, dtype=np.int64)
    nivars = input_vars(ltype, ivars)
    # the top level's dimension table is the layer's (incl. Y', X' for convolutions)
    for v in range(NUM_DIMS):
        sdim[0, v] = layer[LAYER_DIMS + v]
        spres[0, v] = 1 if layer[LAYER_DIMS + v] > 0 else 0
    if not conv:
        spres[0, DIM_YP] = 0
        spres[0, DIM_XP] = 0
    units = hw[HW_NUM_UNITS]
    upper = 1
    for lvl in range(1, nlev):
        upper *= clusters[lvl]
        if upper > units:
            break               # already too many; stop before the product can overflow
    top_size = units // upper
    for lvl in range(nlev):
        n = 0
        r_size = -1
        s_size = -1
        has_y = False
        has_x = False
        has_yp = False
        has_xp = False
        for j in range(dirs.shape[1]):
            if dirs[lvl, j, 0] == 0:
                continue
            for k in range(4):
                ld[lvl, n, k] = dirs[lvl, j, k]
            v = dirs[lvl, j, 1]
            if v == DIM_R:
                r_size = dirs[lvl, j, 2]
            elif v == DIM_S:
                s_size = dirs[lvl, j, 2]
            elif v == DIM_Y:
                has_y = True
            elif v == DIM_X:
                has_x = True
            elif v == DIM_YP:
                has_yp = True
            elif v == DIM_XP:
                has_xp = True
            n += 1
        # output-centric X'/Y' -> input-centric X/Y, with this level's filter tile
        if has_xp and not has_x:
            if s_size < 0:
                _set_detail(detail, lvl, DIM_XP, 0, 0, DIM_S)
                return R_OUTPUT_DIM_NO_FILTER
            j = _find(ld[lvl], n, DIM_XP)
            ld[lvl, j, 1] = DIM_X
            ld[lvl, j, 2] = ld[lvl, j, 2] + s_size - 1
        if has_yp and not has_y:
            if r_size < 0:
                _set_detail(detail, lvl, DIM_YP, 0, 0, DIM_R)
                return R_OUTPUT_DIM_NO_FILTER
            j = _find(ld[lvl], n, DIM_YP)
            ld[lvl, j, 1] = DIM_Y
            ld[lvl, j, 2] = ld[lvl, j, 2] + r_size - 1
        # inherit what the level above decided, each inherited directive going to the front
        if lvl > 0:
            for pj in range(ln[lvl - 1]):
                pv = ld[lvl - 1, pj, 1]
                if _find(ld[lvl], n, pv) >= 0:
                    continue
                for j in range(n, 0, -1):
                    for k in range(4):
                        ld[lvl, j, k] = ld[lvl, j - 1, k]
                ld[lvl, 0, 0] = KIND_TEMPORAL
                ld[lvl, 0, 1] = pv
                ld[lvl, 0, 2] = ld[lvl - 1, pj, 2]
                ld[lvl, 0, 3] = ld[lvl - 1, pj, 3]
                n += 1
        # unroll input-tensor dimensions nobody mapped
        for q in range(nivars):
            v = ivars[q]
            if _find(ld[lvl], n, v) < 0 and spres[lvl, v] == 1:
                ld[lvl, n, 0] = KIND_TEMPORAL
                ld[lvl, n, 1] = v
                ld[lvl, n, 2] = sdim[lvl, v]
                ld[lvl, n, 3] = sdim[lvl, v]
                n += 1
        ln[lvl] = n
        # every directive must name a dimension of this level's table
        for j in range(n):
            if spres[lvl, ld[lvl, j, 1]] == 0:
                _set_detail(detail, lvl, ld[lvl, j, 1], 0, 0, 0)
                return R_UNKNOWN_DIM
        # strided convolutions: rescale Y/X tiles so that they step over whole output rows/columns
        if conv:
            for j in range(n):
                v = ld[lvl, j, 1]
                if v != DIM_Y and v != DIM_X:
                    continue
                stride = layer[LAYER_STRIDE_Y] if v == DIM_Y else layer[LAYER_STRIDE_X]
                if stride == 1:
                    continue
                sl = layer[LAYER_DIMS + (DIM_R if v == DIM_Y else DIM_S)]
                size = ld[lvl, j, 2]
                if size >= sl:
                    outs = cdiv(size + stride - sl, stride)
                    adj_size = outs * min(stride, sl) + max(sl - stride, 0)
                    adj_ofs = outs * stride
                    if lvl > 0 and sl < stride:
                        adj_ofs = outs * sl
                    first = _find(ld[lvl], n, v)
                    ld[lvl, first, 2] = adj_size
                    ld[lvl, first, 3] = adj_ofs
        # the cluster unit: at most two spatial maps, at least one
        nsp = 0
        first_sp = -1
        for j in range(n):
            if ld[lvl, j, 0] == KIND_SPATIAL:
                nsp += 1
                if first_sp < 0:
                    first_sp = j
                if nsp > 2:
                    _set_detail(detail, lvl, -1, nsp, 0, 0)
                    return R_MANY_SPATIAL
        if nsp == 0:
            _set_detail(detail, lvl, -1, 0, 0, 0)
            return R_NO_SPATIAL
        nsub = top_size if lvl == 0 else clusters[lvl]
        if nsub == 0:
            _set_detail(detail, lvl, -1, upper, units, 0)
            return R_CLUSTER_GT_UNITS
        # any Y'/X' left (e.g. next to a Y/X directive) is converted with the completed level's R/S
        last_r = 0
        last_s = 0
        for j in range(n):
            if ld[lvl, j, 1] == DIM_R:
                last_r = ld[lvl, j, 2]
            elif ld[lvl, j, 1] == DIM_S:
                last_s = ld[lvl, j, 2]
        for j in range(n):
            if ld[lvl, j, 1] == DIM_XP:
                ld[lvl, j, 1] = DIM_X
                ld[lvl, j, 2] = ld[lvl, j, 2] + last_s - 1
            elif ld[lvl, j, 1] == DIM_YP:
                ld[lvl, j, 1] = DIM_Y
                ld[lvl, j, 2] = ld[lvl, j, 2] + last_r - 1
        linfo[lvl, LI_NSUB] = nsub
        linfo[lvl, LI_FIRST_SP] = first_sp
        linfo[lvl, LI_NEDGE] = edge_clusters(ld[lvl, first_sp], sdim[lvl, ld[lvl, first_sp, 1]], nsub)
        for v in range(NUM_DIMS):
            lfirst[lvl, v] = -1
            llast[lvl, v] = -1
        for j in range(n):
            v = ld[lvl, j, 1]
            if lfirst[lvl, v] < 0:
                lfirst[lvl, v] = j
            llast[lvl, v] = j
        reuse_maps(ld[lvl], n, sdim[lvl], conv, lmap[lvl])
        # the tile sizes of this level are the dimension table of the level below
        if lvl + 1 < nlev:
            for v in range(NUM_DIMS):
                sdim[lvl + 1, v] = 0
                spres[lvl + 1, v] = 0
            for q in range(nivars):
                v = ivars[q]
                j = lfirst[lvl, v]
                sdim[lvl + 1, v] = min(ld[lvl, j, 2], sdim[lvl, v])
                spres[lvl + 1, v] = 1
    return R_OK


@njit(cache=True)
def edge_clusters(d: np.ndarray, dim: int, nsub: int) -> int:
    """Sub-clusters active in the last spatial step of the level's first SpatialMap (static sizes)."""
    size = d[2]
    ofs = d[3]
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


@njit(cache=True)
def reuse_maps(ld: np.ndarray, n: int, sdim: np.ndarray, conv: bool, mp: np.ndarray) -> None:
    """Per dimension: elements mapped, new (unique) per step, and the same at the edge step."""
    for k in range(4):
        for v in range(NUM_DIMS):
            mp[k, v] = 0
    for j in range(n):
        kind = ld[j, 0]
        v = ld[j, 1]
        size = ld[j, 2]
        ofs = ld[j, 3]
        dim = sdim[v]
        steady = cdiv(dim - size, ofs)
        if steady < 0:
            steady = 0
        has_edge = (steady * ofs + size < dim) or (size > dim)
        mp[MP_MAPPED, v] = size
        mp[MP_UNIQUE, v] = min(size, ofs)
        if kind == KIND_TEMPORAL and dim <= size:
            mp[MP_UNIQUE, v] = 0
        edge = dim - (steady + 1) * ofs
        if edge < 0:
            edge = dim
        mp[MP_MAPPED_EDGE, v] = edge if has_edge else size
        mp[MP_UNIQUE_EDGE, v] = max(ofs - (size - edge), 0)
    if conv:
        for j in range(n):
            v = ld[j, 1]
            if v != DIM_Y and v != DIM_X:
                continue
            out = DIM_YP if v == DIM_Y else DIM_XP
            sl = DIM_R if v == DIM_Y else DIM_S
            mp[MP_MAPPED, out] = mp[MP_MAPPED, v] - mp[MP_MAPPED, sl] + 1
            mp[MP_UNIQUE, out] = min(ld[j, 3], ld[j, 2])
            mp[MP_MAPPED_EDGE, out] = mp[MP_MAPPED_EDGE, v] - mp[MP_MAPPED_EDGE, sl] + 1
            mp[MP_UNIQUE_EDGE, out] = min(ld[j, 3], mp[MP_MAPPED_EDGE, out])
