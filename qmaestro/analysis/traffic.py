"""Reuse analysis of one iteration case: how many elements enter (ingress) and leave (egress) the sub-clusters.

Each function reads one level (ld: completed directives, mp: mapped/unique element counts per dimension,
nsub/nedge: sub-clusters in a full and in the edge spatial step) and the current case (vs: per-dimension state).
`first` selects the first sub-cluster of a spatial step (it loads the whole tile; the others load only what
is new), `ee` a last sub-cluster whose tile sticks out of the dimension ("edge of the edge").
The rules, including their asymmetries, are MAESTRO's; tests pin them against MAESTRO's own outputs.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..arrays import DIM_R, DIM_S, DIM_X, DIM_XP, DIM_Y, DIM_YP, KIND_SPATIAL, KIND_TEMPORAL
from .cases import POS_INIT, POS_STEADY, VS_EDGE, VS_POS, VS_SP_EDGE_EDGE, VS_UNROLL
from .levels import MP_MAPPED, MP_MAPPED_EDGE, MP_UNIQUE, MP_UNIQUE_EDGE
from .metrics import R_NO_UNIQUE

T_INPUT, T_FILTER, T_OUTPUT = 0, 1, 2


@njit(cache=True)
def tensor_vars(ltype: int, tv: np.ndarray, tn: np.ndarray) -> None:
    """Coupled dimensions of input, filter and output, in MAESTRO's order (CONV, DSCONV, GEMM)."""
    if ltype == 2:   # GEMM: input M x K, weight K x N, output M x N
        tv[0, 0], tv[0, 1] = 8, 0
        tv[1, 0], tv[1, 1] = 0, 9
        tv[2, 0], tv[2, 1] = 8, 9
        tn[0] = tn[1] = tn[2] = 2
        return
    tv[0, 0], tv[0, 1], tv[0, 2] = 1, 4, 5          # C Y X
    tn[0] = 3
    if ltype == 1:   # depthwise: weight C R S, output C Y X
        tv[1, 0], tv[1, 1], tv[1, 2] = 1, 2, 3
        tn[1] = 3
        tv[2, 0], tv[2, 1], tv[2, 2] = 1, 4, 5
        tn[2] = 3
    else:            # weight K C R S, output K Y X
        tv[1, 0], tv[1, 1], tv[1, 2], tv[1, 3] = 0, 1, 2, 3
        tn[1] = 4
        tv[2, 0], tv[2, 1], tv[2, 2] = 0, 4, 5
        tn[2] = 3


@njit(cache=True, inline="always")
def coupled(tv: np.ndarray, tn: np.ndarray, t: int, v: int) -> bool:
    for q in range(tn[t]):
        if tv[t, q] == v:
            return True
    return False


@njit(cache=True)
def pe_mapped_volume(ld, n, nedge, mp, vs, tv, tn, t, first, ee) -> int:
    """Elements of tensor t one sub-cluster holds in this case."""
    ret = 1
    for j in range(n):
        v = ld[j, 1]
        if not coupled(tv, tn, t, v):
            continue
        edge = vs[v, VS_EDGE] == 1
        if ld[j, 0] == KIND_TEMPORAL:
            ret *= mp[MP_MAPPED_EDGE, v] if edge else mp[MP_MAPPED, v]
        elif edge:
            if nedge == 1 and (first or ee):
                ret *= mp[MP_MAPPED_EDGE, v]
            elif nedge > 1:
                ret *= mp[MP_MAPPED_EDGE, v] if ee else mp[MP_MAPPED, v]
        else:
            ret *= mp[MP_MAPPED, v]
    return ret


@njit(cache=True)
def innermost_changing(ld, n, vs) -> int:
    """Index of the innermost directive not at its init state (-1: everything at init)."""
    chg = -1
    for j in range(n):
        if vs[ld[j, 1], VS_POS] != POS_INIT:
            chg = j
    return chg


@njit(cache=True)
def pe_ingress(ld, n, nedge, mp, vs, tv, tn, t, first, ee, err) -> int:
    """New elements of input tensor t entering one sub-cluster in this case (0 if the tensor is unchanged)."""
    chg = innermost_changing(ld, n, vs)
    if chg < 0:
        return pe_mapped_volume(ld, n, nedge, mp, vs, tv, tn, t, first, ee)
    inited = False
    for j in range(chg + 1, n):
        v = ld[j, 1]
        if vs[v, VS_POS] == POS_INIT and coupled(tv, tn, t, v) and vs[v, VS_UNROLL] == 0:
            inited = True
            break
    changing = False
    ret = 1
    for j in range(n):
        v = ld[j, 1]
        if not coupled(tv, tn, t, v):
            continue
        is_chg = j == chg
        if is_chg:
            changing = True
        pos = vs[v, VS_POS]
        if ld[j, 0] == KIND_TEMPORAL:
            if pos == POS_INIT:
                ret *= mp[MP_MAPPED_EDGE, v] if vs[v, VS_EDGE] == 1 else mp[MP_MAPPED, v]
            elif is_chg and not inited:
                if mp[MP_UNIQUE, v] == 0:
                    err[0] = R_NO_UNIQUE
                    err[2] = v
                    err[3] = ld[j, 3]
                    err[4] = ld[j, 2]
                    return 0
                ret *= max(mp[MP_UNIQUE, v], 1)
            else:
                ret *= mp[MP_MAPPED, v]
        else:
            mapped = mp[MP_MAPPED_EDGE, v] if ee else mp[MP_MAPPED, v]
            unique = mp[MP_UNIQUE_EDGE, v] if ee else mp[MP_UNIQUE, v]
            if first:
                ret *= mapped
            elif pos == POS_INIT:
                ret *= mapped if j <= chg else unique
            elif (not inited) and is_chg:
                ret *= unique
            else:
                ret *= mapped
    return ret if changing else 0


@njit(cache=True)
def spatial_info(ld, lfirst, vs, tv, tn, t):
    """Is tensor t spread spatially, is that spatial step an edge step, and does its last PE stick out."""
    sp = False
    sp_edge = False
    sp_var = -1
    for q in range(tn[t]):
        v = tv[t, q]
        j = lfirst[v]
        if j >= 0 and ld[j, 0] == KIND_SPATIAL:
            sp = True
            sp_var = v
            if vs[v, VS_EDGE] == 1:
                sp_edge = True
    ee = sp_var >= 0 and vs[sp_var, VS_SP_EDGE_EDGE] == 1
    return sp, sp_edge, ee


@njit(cache=True)
def spatial_ingress(ld, n, nsub, nedge, mp, lfirst, vs, tv, tn, t, err) -> int:
    """Elements of input tensor t read from the upper buffer for all sub-clusters in this case."""
    sp, sp_edge, ee = spatial_info(ld, lfirst, vs, tv, tn, t)
    if not sp:
        return pe_ingress(ld, n, nedge, mp, vs, tv, tn, t, True, False, err)
    if not sp_edge:
        return pe_ingress(ld, n, nedge, mp, vs, tv, tn, t, True, False, err) \
            + (nsub - 1) * pe_ingress(ld, n, nedge, mp, vs, tv, tn, t, False, False, err)
    if nedge == 1 and ee:
        ret = pe_ingress(ld, n, nedge, mp, vs, tv, tn, t, True, True, err)
    else:
        ret = pe_ingress(ld, n, nedge, mp, vs, tv, tn, t, True, False, err)
    if nedge > 1:
        nee = 1 if ee else 0
        nfull = max(nedge - nee - 1, 0)
        ret += nfull * pe_ingress(ld, n, nedge, mp, vs, tv, tn, t, False, False, err)
        ret += nee * pe_ingress(ld, n, nedge, mp, vs, tv, tn, t, False, True, err)
    return ret


@njit(cache=True, inline="always")
def _unique_or_one(u: int) -> int:
    return u if u != 0 else 1


@njit(cache=True)
def pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, psums, first, ee, reuse_edge) -> int:
    """Output elements one sub-cluster produces (psums: times the reduction dimensions' tiles)."""
    ret = 1
    if psums:
        for j in range(n):
            v = ld[j, 1]
            if coupled(tv, tn, T_OUTPUT, v):
                continue
            edge = vs[v, VS_EDGE] == 1
            if ld[j, 0] == KIND_TEMPORAL:
                ret *= mp[MP_MAPPED_EDGE, v] if edge else mp[MP_MAPPED, v]
                continue
            pos = vs[v, VS_POS]
            if pos == POS_INIT:
                if edge and ee:
                    if nedge >= 1:
                        ret *= mp[MP_MAPPED_EDGE, v]
                else:
                    ret *= mp[MP_MAPPED, v] if first else _unique_or_one(mp[MP_UNIQUE, v])
            elif pos == POS_STEADY:
                ret *= mp[MP_MAPPED, v] if first else _unique_or_one(mp[MP_UNIQUE, v])
            else:
                if nedge == 1 and (first or ee):
                    ret *= mp[MP_MAPPED_EDGE, v]
                elif nedge > 1:
                    if ee:
                        ret *= mp[MP_UNIQUE_EDGE, v]
                    elif first:
                        ret *= mp[MP_MAPPED, v]
                    else:
                        ret *= _unique_or_one(mp[MP_UNIQUE, v])
    for q in range(tn[T_OUTPUT]):
        v = tv[T_OUTPUT, q]
        j = lfirst[v]
        a = v
        if v == DIM_Y:
            a = DIM_YP
        elif v == DIM_X:
            a = DIM_XP
        pos = vs[v, VS_POS]
        edge = vs[v, VS_EDGE] == 1
        if ld[j, 0] == KIND_TEMPORAL:
            if pos == POS_INIT:
                ret *= mp[MP_MAPPED_EDGE, a] if edge else mp[MP_MAPPED, a]
            elif pos == POS_STEADY:
                ret *= mp[MP_MAPPED, a]
            else:
                ret *= mp[MP_MAPPED_EDGE, a]
            continue
        if pos == POS_INIT:
            if edge and ee:
                if nedge == 1:
                    ret *= mp[MP_MAPPED_EDGE, a]
                elif nedge > 1:
                    ret *= mp[MP_UNIQUE_EDGE, a] if reuse_edge else mp[MP_MAPPED_EDGE, a]
            else:
                ret *= mp[MP_MAPPED, a] if first else _unique_or_one(mp[MP_UNIQUE, a])
        elif pos == POS_STEADY:
            ret *= mp[MP_MAPPED, a] if first else _unique_or_one(mp[MP_UNIQUE, a])
        else:
            if nedge == 1 and (first or ee):
                ret *= mp[MP_MAPPED_EDGE, v]      # MAESTRO reads the input-side count here
            elif nedge > 1:
                if ee:
                    ret *= mp[MP_UNIQUE_EDGE, a]
                elif first:
                    ret *= mp[MP_MAPPED, a]
                else:
                    ret *= _unique_or_one(mp[MP_UNIQUE, a])
    return ret


@njit(cache=True)
def spatial_egress(ld, n, nsub, nedge, mp, lfirst, vs, tv, tn) -> int:
    """Output elements written to the upper buffer by all sub-clusters in this case."""
    sp, sp_edge, ee = spatial_info(ld, lfirst, vs, tv, tn, T_OUTPUT)
    if not sp:
        return pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, False, True, False, True)
    if not sp_edge:
        return pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, False, True, False, True) \
            + (nsub - 1) * pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, False, False, False, True)
    if nedge == 1 and ee:
        ret = pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, False, True, True, True)
    else:
        ret = pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, False, True, False, True)
    if nedge > 1:
        nee = 1 if ee else 0
        nfull = max(nedge - nee - 1, 0)
        ret += nfull * pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, False, False, False, True)
        ret += nee * pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, False, False, True, True)
    return ret


@njit(cache=True)
def critical_partial_sums(ld, n, nedge, mp, lfirst, vs, tv, tn) -> int:
    """Partial sums the first (critical-path) sub-cluster computes in this case."""
    sp, sp_edge, ee = spatial_info(ld, lfirst, vs, tv, tn, T_OUTPUT)
    if sp and sp_edge and nedge == 1 and ee:
        return pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, True, True, True, True)
    return pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, True, True, False, True)


@njit(cache=True)
def partial_sums_all(ld, n, nsub, nedge, mp, lfirst, vs, tv, tn) -> int:
    """Partial sums (MACs) of all sub-clusters in this case."""
    sp, sp_edge, ee = spatial_info(ld, lfirst, vs, tv, tn, T_OUTPUT)
    for j in range(n):
        if ld[j, 0] == KIND_SPATIAL:
            v = ld[j, 1]
            ee = vs[v, VS_SP_EDGE_EDGE] == 1
            if vs[v, VS_EDGE] == 1:
                sp_edge = True
    if not sp_edge:
        return nsub * pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, True, True, False, True)
    if nedge == 1 and ee:
        ret = pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, True, True, True, True)
    else:
        ret = pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, True, True, False, True)
    if nedge > 1:
        nee = 1 if ee else 0
        nfull = max(nedge - nee - 1, 0)
        ret += nfull * pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, True, True, False, True)
        ret += nee * pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, True, False, True, False)
    return ret


@njit(cache=True)
def mapped_volume(mp, tv, tn, t) -> int:
    """Elements of tensor t in one tile (the lower buffer's share, before double buffering)."""
    ret = 1
    for q in range(tn[t]):
        ret *= mp[MP_MAPPED, tv[t, q]]
    return ret
