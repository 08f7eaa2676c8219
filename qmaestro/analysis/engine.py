"""The cost analysis: per cluster level, per iteration case, traffic and delays, and the sub-cluster levels.

MAESTRO analyses, for every valid case of a level, the sub-cluster level on the tile shape that case hands
down, recursively. Here `scan_level` walks the cases of one (level, shape) once, top-down, registering the
shapes it hands down (memoised: the same shape gives the same result) and recording per valid case what
depends on the sub-clusters' runtimes; `finish_level` then completes the shapes bottom-up. Results live in
two tables (int64 counters, float64 averages) indexed by memo slot; nothing is allocated per case.

The hot functions here and in traffic/cases/cmath are compiled with `_nrt=False`: they never allocate,
and without numba's reference counting every call no longer pays atomic increments on its array
arguments (measured: about 25% of the kernel's time).
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
from .traffic import (T_OUTPUT, case_outputs_fused, innermost_changing, mapped_volume, spatial_egress,
                      spatial_ingress_fused)

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
MEMO_CAP = 4096
HASH_CAP = 4 * MEMO_CAP     #: power of two


@njit(cache=True, _nrt=False, inline="always")
def noc_delay(hw: np.ndarray, amount: int) -> int:
    """Cycles to move `amount` elements: zero-load latency plus one cycle per extra bandwidth-sized send."""
    bw = hw[HW_NOC_BW]
    if 0 <= amount <= bw:          # the common case (wide NoCs): no division
        sends = 1 if amount > 0 else 0
    else:
        sends = cdiv(amount, bw)
        if cmod(amount, bw) != 0:
            sends += 1
    return hw[HW_NOC_LATENCY] + sends - 1


@njit(cache=True, _nrt=False)
def _long_of(x: float) -> int:
    """C++ long(x) for the delay statistics (NaN/overflow: the x86 'integer indefinite' value)."""
    if math.isnan(x) or x >= 9.2e18 or x <= -9.2e18:
        return -9223372036854775807 - 1
    return int(x)


@njit(cache=True, _nrt=False)
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


@njit(cache=True, _nrt=False, inline="always")
def _hash(lvl, dims, mask) -> int:
    h = lvl + 1469598103934665603
    for v in range(NUM_DIMS):
        h = (h ^ dims[v]) * 1099511628211
    h ^= h >> 29
    return h & mask


@njit(cache=True, _nrt=False)
def _insert(lvl, dims, mkey, mcount, htab, hgen) -> int:
    """Memo slot of (level, dims), adding it if new; -1 when the table is full.

    An open-addressing hash table maps shapes to slots; hgen holds the generation (mcount[1], one per
    mapping) that wrote each bucket, so nothing needs clearing between mappings.
    """
    mask = htab.shape[0] - 1
    gen = mcount[1]
    h = _hash(lvl, dims, mask)
    while hgen[h] == gen:
        s = htab[h]
        if mkey[s, 0] == lvl:
            same = True
            for v in range(NUM_DIMS):
                if mkey[s, 1 + v] != dims[v]:
                    same = False
                    break
            if same:
                return s
        h = (h + 1) & mask
    s = mcount[0]
    if s >= mkey.shape[0]:
        return -1
    mcount[0] = s + 1
    mkey[s, 0] = lvl
    for v in range(NUM_DIMS):
        mkey[s, 1 + v] = dims[v]
    hgen[h] = gen
    htab[h] = s
    return s


# per valid case, what the bottom-up pass needs (the sub-cluster runtimes are not known while scanning)
CR_OCC, CR_ING_D, CR_EG_D, CR_TRAFFIC, CR_ALL_INIT, CR_COMP, CR_SUB_EE, CR_SUB, CR_SUB_W, CR_NACTIVE = range(10)
NCR = 10
MAX_CASE_RECORDS = 1 << 19     #: allocated with np.empty: only the pages a batch touches cost memory


@njit(cache=True, _nrt=False)
def scan_level(lvl, slot, nlev, conv, hw, ld, ln, linfo, lmap, lfirst, llast, tv, tn, tm, st, nst, freq, cur,
               pick, phase, vs, subd, mkey, mcount, htab, hgen, first_child, ri, rf, crec, cstart, ccount, err) -> bool:
    """Walk the iteration cases of (lvl, slot) once: traffic, counters, sub-cluster shapes; False on error.

    Everything that does not depend on the sub-clusters' runtimes is accumulated here; each valid case
    leaves a record in crec for finish_level.
    """
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
    nstl = nst[lvl]
    freql = freq[lvl]
    curl = cur[lvl]
    pickl = pick[lvl]
    phasel = phase[lvl]
    llastl = llast[lvl]
    sd0 = subd[lvl, 0]
    sd1 = subd[lvl, 1]
    total = level_states(L, n, dyn, nsub, stl, nstl, freql)
    for j in range(n):
        curl[j] = 0
        phasel[j] = 0
    lanes = hw[HW_SIMD_LANES]
    innermost = lvl == nlev - 1
    first_child[slot] = -1
    cstart[slot] = ccount[0]
    valid = 0
    for case_id in range(total):
        occ = next_case(case_id, n, stl, nstl, freql, curl, pickl, phasel)
        all_init = case_view(L, n, llastl, stl, pickl, vsl)
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
        ri[slot, RI_NUM_COMP] += occ * macs

        r = ccount[0]
        if r >= crec.shape[0]:
            err[0] = R_MEMO_FULL
            err[1] = lvl
            return False
        ccount[0] = r + 1
        sp_edge = vsl[sp_var, VS_EDGE] == 1
        crec[r, CR_OCC] = occ
        crec[r, CR_ING_D] = noc_delay(hw, ingress)
        crec[r, CR_EG_D] = noc_delay(hw, egress)
        crec[r, CR_TRAFFIC] = max(ingress, egress)
        crec[r, CR_ALL_INIT] = 1 if all_init else 0
        crec[r, CR_NACTIVE] = nedge if sp_edge else nsub
        crec[r, CR_SUB_EE] = -1
        crec[r, CR_SUB] = -1
        crec[r, CR_SUB_W] = 0
        if innermost:
            crec[r, CR_COMP] = int(math.ceil(psums / lanes))
        else:
            # the sub-cluster shapes this case hands down (MAESTRO analyses them recursively here)
            if sp_edge and vsl[sp_var, VS_SP_EDGE_EDGE] == 1:
                sub_dims(L, n, conv, nedge, mp, lf, vsl, True, sd0)
                c = _insert(lvl + 1, sd0, mkey, mcount, htab, hgen)
                if c < 0:
                    err[0] = R_MEMO_FULL
                    err[1] = lvl + 1
                    return False
                crec[r, CR_SUB_EE] = c
                if first_child[slot] < 0:
                    first_child[slot] = c
                w = nedge - 1
            else:
                w = nedge if sp_edge else nsub
            if w > 0:
                sub_dims(L, n, conv, nedge, mp, lf, vsl, False, sd1)
                c = _insert(lvl + 1, sd1, mkey, mcount, htab, hgen)
                if c < 0:
                    err[0] = R_MEMO_FULL
                    err[1] = lvl + 1
                    return False
                crec[r, CR_SUB] = c
                crec[r, CR_SUB_W] = w
                if first_child[slot] < 0:
                    first_child[slot] = c
        valid += 1
    ri[slot, RI_VALID] = valid     # one record per valid case, from cstart[slot] on
    return True


@njit(cache=True, _nrt=False)
def finish_level(lvl, slot, hw, ri, rf, crec, cstart, err) -> bool:
    """Runtime, delays, bandwidths and utilisation of (lvl, slot) from its case records and sub-cluster results."""
    offchip = hw[HW_OFFCHIP_BW]
    nrec = ri[slot, RI_VALID]
    peak = 0
    offbw = 0
    runtime = 0
    avg_bw = 0.0
    avg_act = 0.0
    total_occ = 0
    dmin0 = dmin1 = dmin2 = 1.0e308
    dmax0 = dmax1 = dmax2 = 0.0
    davg0 = davg1 = davg2 = 0.0
    up_out = ri[slot, RI_UP_SZ + T_OUTPUT]
    up_in = ri[slot, RI_UP_SZ] + ri[slot, RI_UP_SZ + 1]
    in_off = cdiv(cdiv(up_in, offchip), 2)      # double-buffered off-chip transfer cycles per step
    out_off = cdiv(cdiv(up_out, offchip), 2)
    for r in range(cstart[slot], cstart[slot] + nrec):
        occ = crec[r, CR_OCC]
        ing_d = crec[r, CR_ING_D]
        eg_d = crec[r, CR_EG_D]
        act = 0.0
        s_ee = crec[r, CR_SUB_EE]
        s_n = crec[r, CR_SUB]
        if s_ee < 0 and s_n < 0:
            comp = crec[r, CR_COMP]
        else:
            comp = 0
            if s_ee >= 0:
                comp = max(comp, ri[s_ee, RI_RUNTIME])
                act += rf[s_ee, RF_AVG_ACTIVE]
            if s_n >= 0:
                comp = max(comp, ri[s_n, RI_RUNTIME])
                act += rf[s_n, RF_AVG_ACTIVE] * crec[r, CR_SUB_W]
        if crec[r, CR_ALL_INIT] == 1:
            out = comp + ing_d
        else:
            out = max(eg_d, max(comp, ing_d))
        if lvl == 0:
            out = max(in_off, max(out, out_off))
            if comp == 0:
                err[0] = R_ZERO_COMPUTE
                err[1] = 1
                return False
            offbw = max(offbw, cdiv(up_out, comp))
            offbw = max(offbw, cdiv(up_in, comp))
            offbw = cdiv(offbw, 2)
        runtime += occ * out
        if act == 0.0:
            act = crec[r, CR_NACTIVE]
        avg_act += act * occ
        if comp == 0:
            comp = 1
        traffic = crec[r, CR_TRAFFIC]
        peak = max(peak, cdiv(traffic, comp))
        avg_bw += cdiv(occ * traffic, comp)
        davg0 += occ * ing_d
        davg1 += occ * eg_d
        davg2 += occ * comp
        dmin0 = min(dmin0, ing_d)
        dmin1 = min(dmin1, eg_d)
        dmin2 = min(dmin2, comp)
        dmax0 = max(dmax0, ing_d)
        dmax1 = max(dmax1, eg_d)
        dmax2 = max(dmax2, comp)
        total_occ += occ
    ri[slot, RI_RUNTIME] = runtime
    ri[slot, RI_PEAK_BW] = peak
    ri[slot, RI_OFFCHIP] = offbw
    rf[slot, RF_AVG_BW] = avg_bw / total_occ if total_occ != 0 else np.nan
    rf[slot, RF_AVG_ACTIVE] = avg_act / total_occ if total_occ != 0 else avg_act
    none = -9223372036854775807 - 1
    d = RI_DELAY
    ri[slot, d + 0] = _long_of(dmin0) if nrec > 0 else none
    ri[slot, d + 1] = _long_of(dmax0)
    ri[slot, d + 2] = _long_of(davg0 / total_occ) if total_occ != 0 else none
    ri[slot, d + 3] = _long_of(dmin1) if nrec > 0 else none
    ri[slot, d + 4] = _long_of(dmax1)
    ri[slot, d + 5] = _long_of(davg1 / total_occ) if total_occ != 0 else none
    ri[slot, d + 6] = _long_of(dmin2) if nrec > 0 else none
    ri[slot, d + 7] = _long_of(dmax2)
    ri[slot, d + 8] = _long_of(davg2 / total_occ) if total_occ != 0 else none
    return True


@njit(cache=True, _nrt=False)
def analyze_mapping(nlev, conv, hw, top_dims, ld, ln, linfo, lmap, lfirst, llast, tv, tn, tm, st, nst, freq, cur,
                    pick, phase, vs, subd, mkey, mcount, htab, hgen, first_child, ri, rf, crec, cstart, ccount,
                    first_done, err) -> int:
    """All levels of one completed mapping; returns the top level's result slot (0) or -1 (err[0] set).

    MAESTRO recurses into a sub-cluster level for every valid case. We scan the levels top-down (each
    distinct sub-cluster shape once, memoised), keeping per valid case what depends on the sub-clusters'
    runtimes, then finish the shapes bottom-up: same numbers, no recursion, no repeated work.
    """
    mcount[0] = 0
    mcount[1] += 1          # a new hash-table generation: earlier mappings' buckets read as empty
    ccount[0] = 0
    _insert(0, top_dims, mkey, mcount, htab, hgen)
    begin = 0
    for lvl in range(nlev):
        end = mcount[0]
        for slot in range(begin, end):
            if not scan_level(lvl, slot, nlev, conv, hw, ld, ln, linfo, lmap, lfirst, llast, tv, tn, tm, st, nst,
                              freq, cur, pick, phase, vs, subd, mkey, mcount, htab, hgen, first_child, ri, rf,
                              crec, cstart, ccount, err):
                return -1
        begin = end
    for slot in range(mcount[0] - 1, -1, -1):      # inner levels were added after outer ones
        if not finish_level(mkey[slot, 0], slot, hw, ri, rf, crec, cstart, err):
            return -1
    # MAESTRO's first finished result (its L1 size source): follow the first valid case down
    s = 0
    lvl = 0
    while lvl < nlev - 1 and ri[s, RI_VALID] > 0:
        s = first_child[s]
        lvl += 1
    first_done[0] = s
    return 0
