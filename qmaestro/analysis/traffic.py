"""Reuse analysis of one iteration case: how many elements enter (ingress) and leave (egress) the sub-clusters.

Each function reads one level (ld: completed directives, mp: mapped/unique element counts per dimension,
nsub/nedge: sub-clusters in a full and in the edge spatial step) and the current case (vs: per-dimension state).
`first` selects the first sub-cluster of a spatial step (it loads the whole tile; the others load only what
is new), `ee` a last sub-cluster whose tile sticks out of the dimension ("edge of the edge").
The rules, including their asymmetries, are MAESTRO's; tests pin them against MAESTRO's own outputs.
"""
from __future__ import annotations

import numpy as np
from ..jit import njit

from ..arrays import DIM_R, DIM_S, DIM_X, DIM_XP, DIM_Y, DIM_YP, KIND_SPATIAL, KIND_TEMPORAL
from .cases import POS_INIT, POS_STEADY, VS_EDGE, VS_POS, VS_SP_EDGE_EDGE, VS_UNROLL
from .levels import MP_MAPPED, MP_MAPPED_EDGE, MP_UNIQUE, MP_UNIQUE_EDGE
from .metrics import R_NO_UNIQUE

T_INPUT, T_FILTER, T_OUTPUT = 0, 1, 2


@njit(cache=True, _nrt=False)
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


@njit(cache=True, _nrt=False)
def tensor_masks(tv: np.ndarray, tn: np.ndarray, tm: np.ndarray) -> None:
    """tm[t, v] = 1 when dimension v is coupled to tensor t (a lookup instead of a scan in the hot loop)."""
    tm[:, :] = 0
    for t in range(3):
        for q in range(tn[t]):
            tm[t, tv[t, q]] = 1


@njit(cache=True, _nrt=False)
def pe_mapped_volume(ld, n, nedge, mp, vs, tm, t, first, ee) -> int:
    """Elements of tensor t one sub-cluster holds in this case."""
    ret = 1
    for j in range(n):
        v = ld[j, 1]
        if tm[t, v] == 0:
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


@njit(cache=True, _nrt=False)
def innermost_changing(ld, n, vs) -> int:
    """Index of the innermost directive not at its init state (-1: everything at init)."""
    chg = -1
    for j in range(n):
        if vs[ld[j, 1], VS_POS] != POS_INIT:
            chg = j
    return chg


@njit(cache=True, _nrt=False)
def tensor_inited(ld, n, vs, tm, t, chg) -> bool:
    """Does an inner, not fully unrolled directive of tensor t sit at its init state (tensor reloaded whole)?"""
    for j in range(chg + 1, n):
        v = ld[j, 1]
        if vs[v, VS_POS] == POS_INIT and tm[t, v] == 1 and vs[v, VS_UNROLL] == 0:
            return True
    return False


@njit(cache=True, _nrt=False)
def pe_ingress(ld, n, nedge, mp, vs, tm, t, first, ee, chg, inited, err) -> int:
    """New elements of input tensor t entering one sub-cluster in this case (0 if the tensor is unchanged).

    chg: innermost_changing() of the case; inited: tensor_inited() of the tensor (both per case).
    """
    if chg < 0:
        return pe_mapped_volume(ld, n, nedge, mp, vs, tm, t, first, ee)
    changing = False
    ret = 1
    for j in range(n):
        v = ld[j, 1]
        if tm[t, v] == 0:
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


@njit(cache=True, _nrt=False)
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


@njit(cache=True, _nrt=False)
def spatial_ingress(ld, n, nsub, nedge, mp, lfirst, vs, tv, tn, tm, t, chg, err) -> int:
    """Elements of input tensor t read from the upper buffer for all sub-clusters in this case."""
    inited = tensor_inited(ld, n, vs, tm, t, chg) if chg >= 0 else False
    sp, sp_edge, ee = spatial_info(ld, lfirst, vs, tv, tn, t)
    if not sp:
        return pe_ingress(ld, n, nedge, mp, vs, tm, t, True, False, chg, inited, err)
    if not sp_edge:
        return pe_ingress(ld, n, nedge, mp, vs, tm, t, True, False, chg, inited, err) \
            + (nsub - 1) * pe_ingress(ld, n, nedge, mp, vs, tm, t, False, False, chg, inited, err)
    if nedge == 1 and ee:
        ret = pe_ingress(ld, n, nedge, mp, vs, tm, t, True, True, chg, inited, err)
    else:
        ret = pe_ingress(ld, n, nedge, mp, vs, tm, t, True, False, chg, inited, err)
    if nedge > 1:
        nee = 1 if ee else 0
        nfull = max(nedge - nee - 1, 0)
        ret += nfull * pe_ingress(ld, n, nedge, mp, vs, tm, t, False, False, chg, inited, err)
        ret += nee * pe_ingress(ld, n, nedge, mp, vs, tm, t, False, True, chg, inited, err)
    return ret


@njit(cache=True, _nrt=False, inline="always")
def _unique_or_one(u: int) -> int:
    return u if u != 0 else 1


@njit(cache=True, _nrt=False)
def pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, tm, psums, first, ee, reuse_edge) -> int:
    """Output elements one sub-cluster produces (psums: times the reduction dimensions' tiles)."""
    ret = 1
    if psums:
        for j in range(n):
            v = ld[j, 1]
            if tm[T_OUTPUT, v] == 1:
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
        a = output_dim(v)
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


@njit(cache=True, _nrt=False)
def spatial_egress(ld, n, nsub, nedge, mp, lfirst, vs, tv, tn, tm) -> int:
    """Output elements written to the upper buffer by all sub-clusters in this case."""
    sp, sp_edge, ee = spatial_info(ld, lfirst, vs, tv, tn, T_OUTPUT)
    if not sp:
        return pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, tm, False, True, False, True)
    if not sp_edge:
        return pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, tm, False, True, False, True) \
            + (nsub - 1) * pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, tm, False, False, False, True)
    if nedge == 1 and ee:
        ret = pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, tm, False, True, True, True)
    else:
        ret = pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, tm, False, True, False, True)
    if nedge > 1:
        nee = 1 if ee else 0
        nfull = max(nedge - nee - 1, 0)
        ret += nfull * pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, tm, False, False, False, True)
        ret += nee * pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, tm, False, False, True, True)
    return ret


@njit(cache=True, _nrt=False)
def critical_partial_sums(ld, n, nedge, mp, lfirst, vs, tv, tn, tm) -> int:
    """Partial sums the first (critical-path) sub-cluster computes in this case."""
    sp, sp_edge, ee = spatial_info(ld, lfirst, vs, tv, tn, T_OUTPUT)
    if sp and sp_edge and nedge == 1 and ee:
        return pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, tm, True, True, True, True)
    return pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, tm, True, True, False, True)


@njit(cache=True, _nrt=False)
def partial_sums_all(ld, n, nsub, nedge, mp, lfirst, vs, tv, tn, tm) -> int:
    """Partial sums (MACs) of all sub-clusters in this case."""
    sp, sp_edge, ee = spatial_info(ld, lfirst, vs, tv, tn, T_OUTPUT)
    for j in range(n):
        if ld[j, 0] == KIND_SPATIAL:
            v = ld[j, 1]
            ee = vs[v, VS_SP_EDGE_EDGE] == 1
            if vs[v, VS_EDGE] == 1:
                sp_edge = True
    if not sp_edge:
        return nsub * pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, tm, True, True, False, True)
    if nedge == 1 and ee:
        ret = pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, tm, True, True, True, True)
    else:
        ret = pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, tm, True, True, False, True)
    if nedge > 1:
        nee = 1 if ee else 0
        nfull = max(nedge - nee - 1, 0)
        ret += nfull * pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, tm, True, True, False, True)
        ret += nee * pe_egress(ld, n, nedge, mp, lfirst, vs, tv, tn, tm, True, False, True, False)
    return ret


@njit(cache=True, _nrt=False, inline="always")
def output_dim(v: int) -> int:
    """The output-side dimension of v: a convolution's output rows/columns are Y'/X', the rest are v."""
    if v == DIM_Y:
        return DIM_YP
    if v == DIM_X:
        return DIM_XP
    return v


@njit(cache=True, _nrt=False)
def tensor_size(dims, tv, tn, t, conv) -> int:
    """Elements of tensor t over the dimension sizes `dims` (a convolution's output: Y-R+1 rows, X-S+1 columns)."""
    size = 1
    for q in range(tn[t]):
        v = tv[t, q]
        if t == T_OUTPUT and conv and v == DIM_Y:
            size *= dims[DIM_Y] - dims[DIM_R] + 1
        elif t == T_OUTPUT and conv and v == DIM_X:
            size *= dims[DIM_X] - dims[DIM_S] + 1
        else:
            size *= dims[v]
    return size


@njit(cache=True, _nrt=False)
def mapped_volume(mp, tv, tn, t) -> int:
    """Elements of tensor t in one tile (the lower buffer's share, before double buffering)."""
    ret = 1
    for q in range(tn[t]):
        ret *= mp[MP_MAPPED, tv[t, q]]
    return ret


# ---- fused forms: every (first, ee) variant in one pass over the directives (hot path) --------------------
# variant order: (first, not ee), (not first, not ee), (first, ee), (not first, ee)

@njit(cache=True, _nrt=False)
def ingress_variants(ld, n, nedge, mp, vs, tm, t, chg, inited, err):
    """pe_ingress of tensor t for the four (first, ee) variants at once."""
    a0 = a1 = a2 = a3 = 1
    changing = chg < 0
    for j in range(n):
        v = ld[j, 1]
        if tm[t, v] == 0:
            continue
        edge = vs[v, VS_EDGE] == 1
        m = mp[MP_MAPPED, v]
        me = mp[MP_MAPPED_EDGE, v]
        if chg < 0:     # nothing changes: the whole mapped volume
            if ld[j, 0] == KIND_TEMPORAL:
                f = me if edge else m
                a0 *= f
                a1 *= f
                a2 *= f
                a3 *= f
            elif edge:
                if nedge == 1:
                    a0 *= me
                    a2 *= me
                    a3 *= me
                elif nedge > 1:
                    a0 *= m
                    a1 *= m
                    a2 *= me
                    a3 *= me
            else:
                a0 *= m
                a1 *= m
                a2 *= m
                a3 *= m
            continue
        is_chg = j == chg
        if is_chg:
            changing = True
        pos = vs[v, VS_POS]
        if ld[j, 0] == KIND_TEMPORAL:
            if pos == POS_INIT:
                f = me if edge else m
            elif is_chg and not inited:
                if mp[MP_UNIQUE, v] == 0:
                    err[0] = R_NO_UNIQUE
                    err[2] = v
                    err[3] = ld[j, 3]
                    err[4] = ld[j, 2]
                    return 0, 0, 0, 0
                f = max(mp[MP_UNIQUE, v], 1)
            else:
                f = m
            a0 *= f
            a1 *= f
            a2 *= f
            a3 *= f
        else:
            u = mp[MP_UNIQUE, v]
            ue = mp[MP_UNIQUE_EDGE, v]
            a0 *= m
            a2 *= me
            if pos == POS_INIT:
                use_mapped = j <= chg
            else:
                use_mapped = inited or not is_chg
            a1 *= m if use_mapped else u
            a3 *= me if use_mapped else ue
    if not changing:
        return 0, 0, 0, 0
    return a0, a1, a2, a3


@njit(cache=True, _nrt=False)
def spatial_ingress_fused(ld, n, nsub, nedge, mp, lfirst, vs, tv, tn, tm, t, chg, err) -> int:
    """spatial_ingress computed from one pass (ingress_variants)."""
    inited = tensor_inited(ld, n, vs, tm, t, chg) if chg >= 0 else False
    a0, a1, a2, a3 = ingress_variants(ld, n, nedge, mp, vs, tm, t, chg, inited, err)
    sp, sp_edge, ee = spatial_info(ld, lfirst, vs, tv, tn, t)
    return spread(sp, sp_edge, ee, nsub, nedge, a0, a1, a2, a3)


@njit(cache=True, _nrt=False)
def psum_variants(ld, n, nedge, mp, vs, tm):
    """Reduction-dimension factor of pe_egress(psums=True) for the four (first, ee) variants."""
    a0 = a1 = a2 = a3 = 1
    for j in range(n):
        v = ld[j, 1]
        if tm[T_OUTPUT, v] == 1:
            continue
        edge = vs[v, VS_EDGE] == 1
        m = mp[MP_MAPPED, v]
        me = mp[MP_MAPPED_EDGE, v]
        if ld[j, 0] == KIND_TEMPORAL:
            f = me if edge else m
            a0 *= f
            a1 *= f
            a2 *= f
            a3 *= f
            continue
        u1 = _unique_or_one(mp[MP_UNIQUE, v])
        pos = vs[v, VS_POS]
        if pos == POS_INIT:
            a0 *= m
            a1 *= u1
            if edge:
                a2 *= me
                a3 *= me
            else:
                a2 *= m
                a3 *= u1
        elif pos == POS_STEADY:
            a0 *= m
            a1 *= u1
            a2 *= m
            a3 *= u1
        else:
            if nedge == 1:
                a0 *= me
                a2 *= me
                a3 *= me
            elif nedge > 1:
                ue = mp[MP_UNIQUE_EDGE, v]
                a0 *= m
                a1 *= u1
                a2 *= ue
                a3 *= ue
    return a0, a1, a2, a3


@njit(cache=True, _nrt=False)
def output_variants(ld, n, nedge, mp, lfirst, vs, tv, tn):
    """Output-dimension factor of pe_egress for the four (first, ee) variants and (not first, ee, no reuse)."""
    a0 = a1 = a2 = a3 = a4 = 1
    for q in range(tn[T_OUTPUT]):
        v = tv[T_OUTPUT, q]
        j = lfirst[v]
        a = output_dim(v)
        pos = vs[v, VS_POS]
        edge = vs[v, VS_EDGE] == 1
        m = mp[MP_MAPPED, a]
        me = mp[MP_MAPPED_EDGE, a]
        if ld[j, 0] == KIND_TEMPORAL:
            if pos == POS_INIT:
                f = me if edge else m
            elif pos == POS_STEADY:
                f = m
            else:
                f = me
            a0 *= f
            a1 *= f
            a2 *= f
            a3 *= f
            a4 *= f
            continue
        u1 = _unique_or_one(mp[MP_UNIQUE, a])
        ue = mp[MP_UNIQUE_EDGE, a]
        if pos == POS_INIT:
            a0 *= m
            a1 *= u1
            if edge:
                if nedge == 1:
                    a2 *= me
                    a3 *= me
                    a4 *= me
                elif nedge > 1:
                    a2 *= ue
                    a3 *= ue
                    a4 *= me
            else:
                a2 *= m
                a3 *= u1
                a4 *= u1
        elif pos == POS_STEADY:
            a0 *= m
            a1 *= u1
            a2 *= m
            a3 *= u1
            a4 *= u1
        else:
            if nedge == 1:
                f = mp[MP_MAPPED_EDGE, v]      # MAESTRO reads the input-side count here
                a0 *= f
                a2 *= f
                a3 *= f
                a4 *= f
            elif nedge > 1:
                a0 *= m
                a1 *= u1
                a2 *= ue
                a3 *= ue
                a4 *= ue
    return a0, a1, a2, a3, a4


@njit(cache=True, _nrt=False, inline="always")
def variant_weights(sp: bool, sp_edge: bool, ee: bool, nsub: int, nedge: int):
    """How many sub-clusters of a case take each per-sub-cluster variant of a count (first, other, first
    edge-edge, other edge-edge): one when the tensor is not split spatially, the first plus nsub - 1 others
    without an edge step, else the edge step's first (edge-edge when it is alone) and its other sub-clusters."""
    if not sp:
        return 1, 0, 0, 0
    if not sp_edge:
        return 1, nsub - 1, 0, 0
    w0 = 0
    w2 = 0
    if nedge == 1 and ee:
        w2 = 1
    else:
        w0 = 1
    w1 = 0
    w3 = 0
    if nedge > 1:
        nee = 1 if ee else 0
        w1 = max(nedge - nee - 1, 0)
        w3 = nee
    return w0, w1, w2, w3


@njit(cache=True, _nrt=False, inline="always")
def spread(sp: bool, sp_edge: bool, ee: bool, nsub: int, nedge: int, v0: int, v1: int, v2: int, v3: int) -> int:
    """A case's count over all sub-clusters from its four per-sub-cluster variants (variant_weights)."""
    w0, w1, w2, w3 = variant_weights(sp, sp_edge, ee, nsub, nedge)
    return w0 * v0 + w1 * v1 + w2 * v2 + w3 * v3


@njit(cache=True, _nrt=False, inline="always")
def output_egress_psums(sp, sp_edge, ee, nsub, nedge, o0, o1, o2, o3, p0, p2):
    """(egress, critical-path partial sums) of one case from the output variants and spatial flags."""
    egress = spread(sp, sp_edge, ee, nsub, nedge, o0, o1, o2, o3)
    if sp and sp_edge and nedge == 1 and ee:
        psums = p2 * o2
    else:
        psums = p0 * o0
    return egress, psums


@njit(cache=True, _nrt=False)
def case_outputs_fused(ld, n, nsub, nedge, mp, lfirst, vs, tv, tn, tm):
    """(egress, MACs of all sub-clusters, critical-path partial sums) of one case from two passes."""
    o0, o1, o2, o3, o4 = output_variants(ld, n, nedge, mp, lfirst, vs, tv, tn)
    p0, p1, p2, p3 = psum_variants(ld, n, nedge, mp, vs, tm)
    sp, sp_edge, ee = spatial_info(ld, lfirst, vs, tv, tn, T_OUTPUT)
    egress, psums = output_egress_psums(sp, sp_edge, ee, nsub, nedge, o0, o1, o2, o3, p0, p2)
    for j in range(n):
        if ld[j, 0] == KIND_SPATIAL:
            v = ld[j, 1]
            ee = vs[v, VS_SP_EDGE_EDGE] == 1
            if vs[v, VS_EDGE] == 1:
                sp_edge = True
    macs = spread(True, sp_edge, ee, nsub, nedge, p0 * o0, p0 * o0, p2 * o2, p3 * o4)
    return egress, macs, psums
