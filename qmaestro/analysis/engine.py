"""The cost analysis: per cluster level, per iteration case, traffic and delays; recursion into sub-clusters.

`analyze_level` walks the cases of one level for one shape of its dimensions; for every valid case of a
non-innermost level it analyses the sub-cluster level on the tile shape that case hands down (memoised:
the same shape gives the same result). Results live in two tables (int64 counters, float64 averages) indexed
by a memo slot, so the kernel allocates nothing per case.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..arrays import (DIM_R, DIM_S, DIM_X, DIM_XP, DIM_Y, DIM_YP, HW_NOC_BW, HW_NOC_LATENCY, HW_OFFCHIP_BW,
                      HW_SIMD_LANES, KIND_SPATIAL, NUM_DIMS)
from .cases import VS_EDGE, VS_SP_EDGE_EDGE, case_view, level_states, next_case
from .cmath import cdiv, cmod
from .levels import LI_FIRST_SP, LI_NEDGE, LI_NSUB, MP_MAPPED, MP_MAPPED_EDGE
from .metrics import R_MEMO_FULL, R_OK, R_ZERO_COMPUTE
from .traffic import (T_OUTPUT, case_outputs_fused, critical_partial_sums, innermost_changing, mapped_volume,
                      spatial_egress, spatial_ingress_fused)

# int64 result fields
RI_RUNTIME = 0
RI_UP_RD = 1        # + tensor
RI_UP_WR = 4
RI_DN_RD = 7
RI_DN_WR = 10
RI_UP_SZ = 13
RI_DN_SZ = 16
RI_PEAK_BW = 19
RI_OFFCHIP = 20
RI_NUM_COMP = 21
RI_DELAY = 22       # 9 values: (ingress, egress, compute) x (min, max, avg)
RI_VALID = 31       # valid cases seen
NRI = 32
# float64 result fields
RF_AVG_ACTIVE, RF_AVG_BW, RF_AI = 0, 1, 2
NRF = 3
MEMO_CAP = 512


@njit(cache=True, inline="always")
def noc_delay(hw: np.ndarray, amount: int) -> int:
    """Cycles to move `amount` elements: zero-load latency plus one cycle per extra bandwidth-sized send."""
    bw = hw[HW_NOC_BW]
    sends = cdiv(amount, bw)
    if cmod(amount, bw) != 0:
        sends += 1
    return hw[HW_NOC_LATENCY] + sends - 1


@njit(cache=True)
def _long_of(x: float) -> int:
    """C++ long(x) for the delay statistics (NaN/overflow: the x86 'integer indefinite' value)."""
    if math.isnan(x) or x >= 9.2e18 or x <= -9.2e18:
        return -9223372036854775807 - 1
    return int(x)


@njit(cache=True)
def sub_dims(ld, n, conv, nedge, mp, lfirst, vs, ee, out) -> None:
    """Dimension sizes a sub-cluster sees in the current case (MAESTRO's ConstructSubClusterDimension)."""
    for v in range(NUM_DIMS):
        out[v] = 0
    for j in range(n):
        v = ld[j, 1]
        if lfirst[v] != j:
            continue            # the first directive of a dimension defines it
        edge = vs[v, VS_EDGE] == 1
        if ld[j, 0] != KIND_SPATIAL:
            out[v] = mp[MP_MAPPED_EDGE, v] if edge else mp[MP_MAPPED, v]
        elif edge and (nedge == 1 or ee):
            out[v] = mp[MP_MAPPED_EDGE, v]
        else:
            out[v] = mp[MP_MAPPED, v]
    if conv:
        out[DIM_YP] = out[DIM_Y] - out[DIM_R] + 1
        out[DIM_XP] = out[DIM_X] - out[DIM_S] + 1


@njit(cache=True)
def _slot_of(lvl, dims, mkey, mcount) -> int:
    """Memo slot of (level, dimension sizes), or -1."""
    for s in range(mcount[0]):
        if mkey[s, 0] != lvl:
            continue
        same = True
        for v in range(NUM_DIMS):
            if mkey[s, 1 + v] != dims[v]:
                same = False
                break
        if same:
            return s
    return -1


@njit(cache=True)
def _insert(lvl, dims, mkey, mcount) -> int:
    """Slot for (level, dims), adding it if new; -1 when the table is full."""
    s = _slot_of(lvl, dims, mkey, mcount)
    if s >= 0:
        return s
    s = mcount[0]
    if s >= mkey.shape[0]:
        return -1
    mcount[0] = s + 1
    mkey[s, 0] = lvl
    for v in range(NUM_DIMS):
        mkey[s, 1 + v] = dims[v]
    return s


@njit(cache=True)
def collect_children(lvl, slot, conv, ld, ln, linfo, lmap, lfirst, llast, tv, tn, tm, st, nst, freq, cur, pick, vs,
                     subd, mkey, mcount, first_child, err) -> bool:
    """Register the sub-cluster shapes the valid cases of (lvl, slot) hand down; False if the memo is full."""
    n = ln[lvl]
    nsub = linfo[lvl, LI_NSUB]
    nedge = linfo[lvl, LI_NEDGE]
    sp_var = ld[lvl, linfo[lvl, LI_FIRST_SP], 1]
    L = ld[lvl]
    mp = lmap[lvl]
    lf = lfirst[lvl]
    stl = st[lvl]
    vsl = vs[lvl]
    dyn = mkey[slot, 1:]
    total = level_states(L, n, dyn, nsub, stl, nst[lvl], freq[lvl])
    for j in range(n):
        cur[lvl, j] = 0
    sd = subd[lvl]
    first_child[slot] = -1
    for case_id in range(total):
        next_case(case_id, n, stl, nst[lvl], freq[lvl], cur[lvl], pick[lvl])
        case_view(L, n, llast[lvl], stl, pick[lvl], vsl)
        if critical_partial_sums(L, n, nedge, mp, lf, vsl, tv, tn, tm) <= 0:
            continue
        if vsl[sp_var, VS_EDGE] == 1 and vsl[sp_var, VS_SP_EDGE_EDGE] == 1:
            sub_dims(L, n, conv, nedge, mp, lf, vsl, True, sd[0])
            c = _insert(lvl + 1, sd[0], mkey, mcount)
            if c < 0:
                break
            if first_child[slot] < 0:
                first_child[slot] = c
            if nedge - 1 <= 0:
                continue
        sub_dims(L, n, conv, nedge, mp, lf, vsl, False, sd[1])
        c = _insert(lvl + 1, sd[1], mkey, mcount)
        if c < 0:
            break
        if first_child[slot] < 0:
            first_child[slot] = c
    if mcount[0] >= mkey.shape[0]:
        err[0] = R_MEMO_FULL
        err[1] = lvl + 1
        return False
    return True


@njit(cache=True)
def analyze_mapping(nlev, conv, hw, top_dims, ld, ln, linfo, lmap, lfirst, llast, tv, tn, tm, st, nst, freq, cur,
                    pick, vs, subd, mkey, mcount, first_child, ri, rf, first_done, err) -> int:
    """All levels of one completed mapping; returns the top level's result slot or -1 (err[0] set).

    MAESTRO recurses into a sub-cluster level for every valid case; we first collect the distinct shapes
    each level hands down (level by level), then evaluate them from the innermost level up, so every
    shape is analysed once and no recursion is needed.
    """
    mcount[0] = 0
    _insert(0, top_dims, mkey, mcount)
    begin = 0
    for lvl in range(nlev - 1):
        end = mcount[0]
        for slot in range(begin, end):
            if not collect_children(lvl, slot, conv, ld, ln, linfo, lmap, lfirst, llast, tv, tn, tm, st, nst, freq,
                                    cur, pick, vs, subd, mkey, mcount, first_child, err):
                return -1
        begin = end
    for lvl in range(nlev - 1, -1, -1):
        for slot in range(mcount[0]):
            if mkey[slot, 0] != lvl:
                continue
            if not evaluate_level(lvl, slot, nlev, conv, hw, ld, ln, linfo, lmap, lfirst, llast, tv, tn, tm, st,
                                  nst, freq, cur, pick, vs, subd, mkey, mcount, ri, rf, err):
                return -1
    # MAESTRO's first finished result (its L1 size source): follow the first valid case down
    s = 0
    lvl = 0
    while lvl < nlev - 1 and ri[s, RI_VALID] > 0:
        s = first_child[s]
        lvl += 1
    first_done[0] = s
    return 0


@njit(cache=True)
def evaluate_level(lvl, slot, nlev, conv, hw, ld, ln, linfo, lmap, lfirst, llast, tv, tn, tm,
                   st, nst, freq, cur, pick, vs, subd, mkey, mcount, ri, rf, err) -> bool:
    """Analyse level `lvl` for the dimension sizes of memo slot `slot` (its sub-levels are done); False on error."""
    dyn = mkey[slot, 1:]
    for k in range(NRI):
        ri[slot, k] = 0
    for k in range(NRF):
        rf[slot, k] = 0.0

    n = ln[lvl]
    nsub = linfo[lvl, LI_NSUB]
    nedge = linfo[lvl, LI_NEDGE]
    sp_var = ld[lvl, linfo[lvl, LI_FIRST_SP], 1]
    L = ld[lvl]
    mp = lmap[lvl]
    lf = lfirst[lvl]
    stl = st[lvl]
    vsl = vs[lvl]
    total = level_states(L, n, dyn, nsub, stl, nst[lvl], freq[lvl])
    for j in range(n):
        cur[lvl, j] = 0
    lanes = hw[HW_SIMD_LANES]
    offchip = hw[HW_OFFCHIP_BW]
    innermost = lvl == nlev - 1

    valid = 0
    peak = 0
    offbw = 0
    avg_bw = 0.0
    avg_act = 0.0
    total_occ = 0
    dmin = np.empty(3)
    dmax = np.empty(3)
    davg = np.zeros(3)
    for k in range(3):
        dmin[k] = 1.0e308
        dmax[k] = 0.0
    for case_id in range(total):
        occ = next_case(case_id, n, stl, nst[lvl], freq[lvl], cur[lvl], pick[lvl])
        all_init = case_view(L, n, llast[lvl], stl, pick[lvl], vsl)
        chg = innermost_changing(L, n, vsl)
        if valid == 0:
            # buffer sizes come from the first valid case (and, accumulating, any invalid ones before it)
            for t in range(2):
                size = 1
                for q in range(tn[t]):
                    size *= dyn[tv[t, q]]
                ing = spatial_ingress_fused(L, n, nsub, nedge, mp, lf, vsl, tv, tn, tm, t, chg, err)
                if err[0] != R_OK:
                    err[1] = lvl
                    return False
                ri[slot, RI_UP_SZ + t] += 2 * ing
                ri[slot, RI_UP_WR + t] = size
                ri[slot, RI_DN_SZ + t] += 2 * mapped_volume(mp, tv, tn, t)
            size = 1
            for q in range(tn[T_OUTPUT]):
                v = tv[T_OUTPUT, q]
                if conv and v == DIM_Y:
                    size *= dyn[DIM_Y] - dyn[DIM_R] + 1
                elif conv and v == DIM_X:
                    size *= dyn[DIM_X] - dyn[DIM_S] + 1
                else:
                    size *= dyn[v]
            ri[slot, RI_UP_SZ + T_OUTPUT] = 2 * spatial_egress(L, n, nsub, nedge, mp, lf, vsl, tv, tn, tm)
            ri[slot, RI_UP_RD + T_OUTPUT] = size
            ri[slot, RI_DN_SZ + T_OUTPUT] = 2 * mapped_volume(mp, tv, tn, T_OUTPUT)

        egress, macs, psums = case_outputs_fused(L, n, nsub, nedge, mp, lf, vsl, tv, tn, tm)
        ri[slot, RI_UP_WR + T_OUTPUT] += occ * egress
        ri[slot, RI_DN_WR + T_OUTPUT] += occ * macs
        ri[slot, RI_DN_RD + T_OUTPUT] += occ * macs
        if psums <= 0:
            continue
        ingress = 0
        for t in range(2):
            ing = spatial_ingress_fused(L, n, nsub, nedge, mp, lf, vsl, tv, tn, tm, t, chg, err)
            if err[0] != R_OK:
                err[1] = lvl
                return False
            ri[slot, RI_UP_RD + t] += occ * ing
            ri[slot, RI_DN_WR + t] = ri[slot, RI_UP_RD + t]     # MAESTRO sets L1 writes to L2 reads
            ri[slot, RI_DN_RD + t] += occ * macs
            ingress += ing
        if ingress != 0:
            rf[slot, RF_AI] = macs / ingress
        elif macs == 0:
            rf[slot, RF_AI] = np.nan
        else:
            rf[slot, RF_AI] = np.inf if macs > 0 else -np.inf

        sp_edge = vsl[sp_var, VS_EDGE] == 1
        nactive = nedge if sp_edge else nsub
        comp = 0
        act = 0.0
        if not innermost:
            sd = subd[lvl]
            if sp_edge and vsl[sp_var, VS_SP_EDGE_EDGE] == 1:
                sub_dims(L, n, conv, nedge, mp, lf, vsl, True, sd[0])
                s1 = _slot_of(lvl + 1, sd[0], mkey, mcount)
                if s1 < 0:
                    err[0] = R_MEMO_FULL
                    return False
                comp = max(comp, ri[s1, RI_RUNTIME])
                act += rf[s1, RF_AVG_ACTIVE]
                if nedge - 1 > 0:
                    sub_dims(L, n, conv, nedge, mp, lf, vsl, False, sd[1])
                    s2 = _slot_of(lvl + 1, sd[1], mkey, mcount)
                    if s2 < 0:
                        err[0] = R_MEMO_FULL
                        return False
                    comp = max(comp, ri[s2, RI_RUNTIME])
                    act += rf[s2, RF_AVG_ACTIVE] * (nedge - 1)
            else:
                sub_dims(L, n, conv, nedge, mp, lf, vsl, False, sd[1])
                s2 = _slot_of(lvl + 1, sd[1], mkey, mcount)
                if s2 < 0:
                    err[0] = R_MEMO_FULL
                    return False
                comp = max(comp, ri[s2, RI_RUNTIME])
                act += rf[s2, RF_AVG_ACTIVE] * (nedge if sp_edge else nsub)
        else:
            comp = int(math.ceil(psums / lanes))
        ing_d = noc_delay(hw, ingress)
        eg_d = noc_delay(hw, egress)
        if all_init:
            out = comp + ing_d
        else:
            out = max(eg_d, max(comp, ing_d))
        if lvl == 0:
            out_buf = cdiv(ri[slot, RI_UP_SZ + T_OUTPUT], offchip)
            in_buf = cdiv(ri[slot, RI_UP_SZ] + ri[slot, RI_UP_SZ + 1], offchip)
            out = max(cdiv(in_buf, 2), max(out, cdiv(out_buf, 2)))
            if comp == 0:
                err[0] = R_ZERO_COMPUTE
                err[1] = 1
                return False
            offbw = max(offbw, cdiv(ri[slot, RI_UP_SZ + T_OUTPUT], comp))
            offbw = max(offbw, cdiv(ri[slot, RI_UP_SZ] + ri[slot, RI_UP_SZ + 1], comp))
            offbw = cdiv(offbw, 2)
        ri[slot, RI_RUNTIME] += occ * out
        ri[slot, RI_NUM_COMP] += occ * macs
        if act == 0.0:
            act = nactive
        avg_act += act * occ
        if comp == 0:
            comp = 1
        traffic = max(ingress, egress)
        peak = max(peak, cdiv(traffic, comp))
        avg_bw += cdiv(occ * traffic, comp)
        davg[0] += occ * ing_d
        davg[1] += occ * eg_d
        davg[2] += occ * comp
        dmin[0] = min(dmin[0], ing_d)
        dmin[1] = min(dmin[1], eg_d)
        dmin[2] = min(dmin[2], comp)
        dmax[0] = max(dmax[0], ing_d)
        dmax[1] = max(dmax[1], eg_d)
        dmax[2] = max(dmax[2], comp)
        total_occ += occ
        valid += 1

    ri[slot, RI_PEAK_BW] = peak
    ri[slot, RI_OFFCHIP] = offbw
    ri[slot, RI_VALID] = valid
    rf[slot, RF_AVG_BW] = avg_bw / total_occ if total_occ != 0 else np.nan
    rf[slot, RF_AVG_ACTIVE] = avg_act / total_occ if total_occ != 0 else avg_act
    for k in range(3):
        avg = davg[k] / total_occ if total_occ != 0 else np.nan
        ri[slot, RI_DELAY + 3 * k] = _long_of(dmin[k]) if valid > 0 else -9223372036854775807 - 1
        ri[slot, RI_DELAY + 3 * k + 1] = _long_of(dmax[k])
        ri[slot, RI_DELAY + 3 * k + 2] = _long_of(avg)
    return True
