"""The cost analysis: per cluster level, per iteration case, traffic and delays, and the sub-cluster levels.

MAESTRO analyses, for every valid case of a level, the sub-cluster level on the tile shape that case hands
down, recursively. Here `scan_level` walks the cases of one (level, shape) once, top-down, registering the
shapes it hands down (memoised: the same shape gives the same result) and recording per valid case what
depends on the sub-clusters' runtimes; `finish_level` then completes the shapes bottom-up. Results live in
two tables (int64 counters, float64 averages) indexed by memo slot; nothing is allocated per case.

Two scans give the same numbers: `scan_level` evaluates each case with the general per-case code
(per-dimension views, loops over all directives); `scan_level_fast`, used for every level whose dimensions
each have one directive (all levels the genome decoder writes; levels.build_levels decides in lp), builds per slot a
factor table per (directive with more than one state, state) and evaluates a case as a few products over
those directives: outputs and partial sums are products of independent per-directive factors; ingress
depends on the innermost changing directive `c` as (factors before c) x (c's own) x (init factors after c),
the last two folded per c when the table is built. Integer products are exact in any order (int64 wraps
as a ring, so even overflow agrees). Cases keep MAESTRO's order, so first/last-case quantities, memo slot
order and the float sums of `finish_level` are unchanged; a case MAESTRO rejects (no new elements) is
handed to the general per-case code, which reports it exactly. tests/test_analysis_fastpath.py checks
fast == general on random mappings of every kind (`analyze_batch_detailed(..., fast=False)`).

The hot functions here and in traffic/cases/cmath are compiled with `_nrt=False`: they never allocate,
and without numba's reference counting every call no longer pays atomic increments on its array
arguments (measured: about 25% of the kernel's time).
"""
from __future__ import annotations

import math

import numpy as np
from ..jit import njit

from ..arrays import (DIM_R, DIM_S, DIM_X, DIM_XP, DIM_Y, DIM_YP, HW_NOC_BW, HW_NOC_LATENCY, HW_OFFCHIP_BW,
                      HW_SIMD_LANES, KIND_SPATIAL, KIND_TEMPORAL, NUM_DIMS)
from .cases import (POS_INIT, POS_STEADY, ST_EDGE, ST_OCC, ST_POS, ST_SP_EDGE_EDGE, ST_UNROLL,
                    VS_EDGE, VS_SP_EDGE_EDGE, case_view, level_states, next_case)
from .cmath import cdiv, cmod, wrap_int32
from .levels import (LI_FIRST_SP, LI_NEDGE, LI_NSUB, LP_FAST, LP_NSP, LP_SP0, LP_SP1, LP_TJS, LP_TMASK, MP_MAPPED,
                     MP_MAPPED_EDGE, MP_UNIQUE, MP_UNIQUE_EDGE)
from .metrics import R_MEMO_FULL, R_OK, R_ZERO_COMPUTE
from .traffic import (T_OUTPUT, case_outputs_fused, innermost_changing, mapped_volume, output_dim,
                      output_egress_psums, spatial_egress, spatial_ingress_fused, spread, tensor_size)

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
def _case_slow(lvl, slot, occ, valid, all_init, nlev, conv, hw, L, n, nsub, nedge, sp_var, mp, lf, vsl, dyn, tv, tn,
               tm, sd0, sd1, mkey, mcount, htab, hgen, first_child, ri, rf, crec, ccount, err) -> int:
    """One iteration case (its view vsl already set): 1 = a valid case recorded, 0 = no partial sums, -1 = error."""
    innermost = lvl == nlev - 1
    chg = innermost_changing(L, n, vsl)
    if valid == 0:
        # buffer sizes come from the first valid case (and, accumulating, any invalid ones before it)
        for t in range(2):
            size = tensor_size(dyn, tv, tn, t, conv)
            ing = spatial_ingress_fused(L, n, nsub, nedge, mp, lf, vsl, tv, tn, tm, t, chg, err)
            if err[0] != R_OK:
                err[1] = lvl
                return -1
            ri[slot, RI_UP_SZ + t] += 2 * ing
            ri[slot, RI_UP_WR + t] = size
            ri[slot, RI_DN_SZ + t] += 2 * mapped_volume(mp, tv, tn, t)
        size = tensor_size(dyn, tv, tn, T_OUTPUT, conv)
        ri[slot, RI_UP_SZ + T_OUTPUT] = 2 * spatial_egress(L, n, nsub, nedge, mp, lf, vsl, tv, tn, tm)
        ri[slot, RI_UP_RD + T_OUTPUT] = size
        ri[slot, RI_DN_SZ + T_OUTPUT] = 2 * mapped_volume(mp, tv, tn, T_OUTPUT)

    egress, macs, psums = case_outputs_fused(L, n, nsub, nedge, mp, lf, vsl, tv, tn, tm)
    ri[slot, RI_UP_WR + T_OUTPUT] += occ * egress
    ri[slot, RI_DN_WR + T_OUTPUT] += occ * macs
    ri[slot, RI_DN_RD + T_OUTPUT] += occ * macs
    if psums <= 0:
        return 0
    ingress = 0
    for t in range(2):
        ing = spatial_ingress_fused(L, n, nsub, nedge, mp, lf, vsl, tv, tn, tm, t, chg, err)
        if err[0] != R_OK:
            err[1] = lvl
            return -1
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
        return -1
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
        crec[r, CR_COMP] = int(math.ceil(psums / hw[HW_SIMD_LANES]))
    else:
        # the sub-cluster shapes this case hands down (MAESTRO analyses them recursively here)
        if sp_edge and vsl[sp_var, VS_SP_EDGE_EDGE] == 1:
            sub_dims(L, n, conv, nedge, mp, lf, vsl, True, sd0)
            c = _insert(lvl + 1, sd0, mkey, mcount, htab, hgen)
            if c < 0:
                err[0] = R_MEMO_FULL
                err[1] = lvl + 1
                return -1
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
                return -1
            crec[r, CR_SUB] = c
            crec[r, CR_SUB_W] = w
            if first_child[slot] < 0:
                first_child[slot] = c
    return 1


@njit(cache=True, _nrt=False)
def scan_level(lvl, slot, nlev, conv, hw, ld, ln, linfo, lmap, lfirst, llast, tv, tn, tm, st, nst, freq, cur,
               pick, phase, vs, subd, mkey, mcount, htab, hgen, first_child, ri, rf, crec, cstart, ccount, err) -> bool:
    """Walk the iteration cases of (lvl, slot) once: traffic, counters, sub-cluster shapes; False on error.

    Everything that does not depend on the sub-clusters' runtimes is accumulated here; each valid case
    leaves a record in crec for finish_level. (The general path: scan_level_fast handles the usual levels.)
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
    first_child[slot] = -1
    cstart[slot] = ccount[0]
    valid = 0
    for case_id in range(total):
        occ = next_case(case_id, n, stl, nstl, freql, curl, pickl, phasel)
        all_init = case_view(L, n, llastl, stl, pickl, vsl)
        res = _case_slow(lvl, slot, occ, valid, all_init, nlev, conv, hw, L, n, nsub, nedge, sp_var, mp, lf, vsl,
                         dyn, tv, tn, tm, sd0, sd1, mkey, mcount, htab, hgen, first_child, ri, rf, crec, ccount, err)
        if res < 0:
            return False
        valid += res
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


# ---- fast path ---------------------------------------------------------------------------------------------------
# A level whose dimensions each appear in one directive (every level the genome decoder writes) is scanned from
# per-directive, per-state factor tables: a case's traffic is a product of one factor per directive (ingress also
# depends on the innermost changing directive, handled by prefix/suffix products), so a case costs a few
# multiplications per directive with more than one state. Same cases, same order, same integers as scan_level;
# a case that would raise an error is handed to the general per-case code, which reports it exactly.

# factor-table fields per (active directive, state)
F_OCC, F_O, F_P, F_LT, F_EQ, F_ERR, F_BN, F_BE, F_Z = 0, 1, 6, 10, 18, 26, 28, 29, 30
NF = 38
PC_SIZE = 64      #: per-slot cache of sub-cluster shapes by edge pattern (power of two)
PC_FILL = 48


@njit(cache=True, _nrt=False, inline="always")
def _u1(u: int) -> int:
    return u if u != 0 else 1


@njit(cache=True, _nrt=False, inline="always")
def state_factors(kind, v, mp, nedge, tmo, tm0, tm1, pos, edge):
    """Output (5) / partial-sum (4) / (non-changing) ingress (2 x 4) factors of one directive in one state.

    Returned as one tuple (fields F_O..F_EQ in order) so callers keep them in registers; 1 where the
    directive does not scale a variant.
    """
    o0 = o1 = o2 = o3 = o4 = 1
    p0 = p1 = p2 = p3 = 1
    if tmo:
        a = output_dim(v)
        m = mp[MP_MAPPED, a]
        me = mp[MP_MAPPED_EDGE, a]
        if kind == KIND_TEMPORAL:
            if pos == POS_INIT:
                f = me if edge else m
            elif pos == POS_STEADY:
                f = m
            else:
                f = me
            o0 = o1 = o2 = o3 = o4 = f
        else:
            u1 = _u1(mp[MP_UNIQUE, a])
            ue = mp[MP_UNIQUE_EDGE, a]
            if pos == POS_INIT:
                o0 = m
                o1 = u1
                if edge:
                    if nedge == 1:
                        o2 = o3 = o4 = me
                    elif nedge > 1:
                        o2 = o3 = ue
                        o4 = me
                else:
                    o2 = m
                    o3 = o4 = u1
            elif pos == POS_STEADY:
                o0 = o2 = m
                o1 = o3 = o4 = u1
            elif nedge == 1:
                o0 = o2 = o3 = o4 = mp[MP_MAPPED_EDGE, v]      # MAESTRO reads the input-side count here
            elif nedge > 1:
                o0 = m
                o1 = u1
                o2 = o3 = o4 = ue
    else:
        m = mp[MP_MAPPED, v]
        me = mp[MP_MAPPED_EDGE, v]
        if kind == KIND_TEMPORAL:
            p0 = p1 = p2 = p3 = me if edge else m
        else:
            u1 = _u1(mp[MP_UNIQUE, v])
            if pos == POS_INIT:
                p0 = m
                p1 = u1
                if edge:
                    p2 = p3 = me
                else:
                    p2 = m
                    p3 = u1
            elif pos == POS_STEADY:
                p0 = p2 = m
                p1 = p3 = u1
            elif nedge == 1:
                p0 = p2 = p3 = me
            elif nedge > 1:
                p0 = m
                p1 = u1
                p2 = p3 = mp[MP_UNIQUE_EDGE, v]
    # ingress factor of a directive before the innermost changing one
    m = mp[MP_MAPPED, v]
    me = mp[MP_MAPPED_EDGE, v]
    if kind == KIND_TEMPORAL:
        f = (me if edge else m) if pos == POS_INIT else m
        l0 = l1 = l2 = l3 = f
    else:
        l0 = l1 = m
        l2 = l3 = me
    a0, a1, a2, a3 = (l0, l1, l2, l3) if tm0 != 0 else (1, 1, 1, 1)
    b0, b1, b2, b3 = (l0, l1, l2, l3) if tm1 != 0 else (1, 1, 1, 1)
    return o0, o1, o2, o3, o4, p0, p1, p2, p3, a0, a1, a2, a3, b0, b1, b2, b3


@njit(cache=True, _nrt=False, inline="always")
def init_ingress(kind, e0, nedge, m, me):
    """A directive's factor of the all-init case's ingress (4 variants) for a tensor its dimension indexes."""
    if kind == KIND_TEMPORAL:
        f = me if e0 else m
        return f, f, f, f
    if not e0:
        return m, m, m, m
    if nedge == 1:
        return me, 1, me, me
    if nedge > 1:
        return m, m, me, me
    return 1, 1, 1, 1


@njit(cache=True, _nrt=False, inline="always")
def change_ingress(kind, inited, m, me, u, ue):
    """The innermost changing directive's own ingress factor (4 variants); inited: a directive after it
    already holds the tensor (MAESTRO then moves whole tiles)."""
    if kind == KIND_TEMPORAL:
        f = m if inited else max(u, 1)
        return f, f, f, f
    return m, (m if inited else u), me, (me if inited else ue)


@njit(cache=True, _nrt=False, inline="always")
def suffix_ingress(kind, e0, m, me, u, ue):
    """A directive's init-state ingress factor (4 variants) for a changing directive before it."""
    if kind == KIND_TEMPORAL:
        f = me if e0 else m
        return f, f, f, f
    return m, u, me, ue


@njit(cache=True, _nrt=False, inline="always")
def _put_factors(row, f) -> None:
    """Store a state_factors tuple in fields F_O..F_EQ of a factor row."""
    for q in range(F_EQ - F_O):
        row[F_O + q] = f[q]


@njit(cache=True, _nrt=False, inline="always")
def _st_edge(stl, j, k) -> bool:
    return stl[j, k, ST_EDGE] == 1


@njit(cache=True, _nrt=False)
def _sub_dims_fast(L, n, conv, nedge, mp, stl, kst, ee, out) -> None:
    """sub_dims for a level without repeated dimensions, from the directives' current states."""
    for v in range(NUM_DIMS):
        out[v] = 0
    for j in range(n):
        v = L[j, 1]
        edge = _st_edge(stl, j, kst[j])
        if L[j, 0] != KIND_SPATIAL:
            out[v] = mp[MP_MAPPED_EDGE, v] if edge else mp[MP_MAPPED, v]
        elif edge and (nedge == 1 or ee):
            out[v] = mp[MP_MAPPED_EDGE, v]
        else:
            out[v] = mp[MP_MAPPED, v]
    if conv:
        out[DIM_YP] = out[DIM_Y] - out[DIM_R] + 1
        out[DIM_XP] = out[DIM_X] - out[DIM_S] + 1


@njit(cache=True, _nrt=False)
def _child(key, lvl, L, n, conv, nedge, mp, stl, kst, ee, sd, mkey, mcount, htab, hgen, pc, pcg) -> int:
    """Memo slot of the sub-cluster shape with edge pattern `key` (cached per scanned slot); -1 when full.

    pc rows 0-2: (key, slot, generation) of a small hash table. The caller first probes rows 3-6, a direct
    table for patterns of at most 6 changing directives (rows 3/4: slot for ee 0/1, rows 5/6: generation),
    which this function fills.
    """
    gen = pcg[0]
    if key < 2 * PC_SIZE:
        _sub_dims_fast(L, n, conv, nedge, mp, stl, kst, ee, sd)
        c = _insert(lvl + 1, sd, mkey, mcount, htab, hgen)
        e = key & 1
        k = key >> 1
        pc[3 + e, k] = c
        pc[5 + e, k] = gen
        return c
    h = ((key * 0x9E3779B97F4A7C15) >> 24) & (PC_SIZE - 1)
    while pc[2, h] == gen:
        if pc[0, h] == key:
            return pc[1, h]
        h = (h + 1) & (PC_SIZE - 1)
    _sub_dims_fast(L, n, conv, nedge, mp, stl, kst, ee, sd)
    c = _insert(lvl + 1, sd, mkey, mcount, htab, hgen)
    if c >= 0 and pcg[1] < PC_FILL:
        pcg[1] += 1
        pc[0, h] = key
        pc[1, h] = c
        pc[2, h] = gen
    return c


@njit(cache=True, _nrt=False, inline="always")
def directive_counts(L, j, mp):
    """(dimension, kind, mapped, mapped at the edge, unique, unique at the edge) of directive j of a level."""
    v = L[j, 1]
    return v, L[j, 0], mp[MP_MAPPED, v], mp[MP_MAPPED_EDGE, v], mp[MP_UNIQUE, v], mp[MP_UNIQUE_EDGE, v]


@njit(cache=True, _nrt=False)
def factor_tables(L, n, mp, nedge, tm, stl, nstl, fi, act, kst) -> int:
    """Per-directive, per-state factor rows of one (level, shape) for the fast scan.

    fi[l, k] holds the factors of active directive act[l] (more than one state) in state k; fi[D, 0] the
    products over the single-state directives (F_Z: the all-init case's ingress); fi[l, 0, F_EQ..] the
    ingress of a case whose innermost changing directive is act[l]. Returns the number of active directives.
    """
    D = fi.shape[0] - 2
    crow = fi[D, 0]      # products over the single-state directives; F_Z: the all-init case's ingress
    trow = fi[D, 1]
    for q in range(NF):
        crow[q] = 1
    na = 0
    for j in range(n):
        kst[j] = 0
        v = L[j, 1]
        kind = L[j, 0]
        tmo = tm[T_OUTPUT, v]
        t0 = tm[0, v]
        t1 = tm[1, v]
        e0 = _st_edge(stl, j, 0)
        # the all-init case (no directive changing): whole mapped volumes
        z = init_ingress(kind, e0, nedge, mp[MP_MAPPED, v], mp[MP_MAPPED_EDGE, v])
        for x in range(4):
            if t0 != 0:
                crow[F_Z + x] *= z[x]
            if t1 != 0:
                crow[F_Z + 4 + x] *= z[x]
        if nstl[j] == 1:
            _put_factors(trow, state_factors(kind, v, mp, nedge, tmo, t0, t1, POS_INIT, e0))
            for q in range(F_O, F_EQ):    # F_LT..: prefix of the not-changing ingress factors, for the active ones after
                crow[q] *= trow[q]
            continue
        act[na] = j
        for k in range(nstl[j]):
            row = fi[na, k]
            edge = _st_edge(stl, j, k)
            _put_factors(row, state_factors(kind, v, mp, nedge, tmo, t0, t1, stl[j, k, ST_POS], edge))
            row[F_OCC] = stl[j, k, ST_OCC]
            row[F_BE] = 1 if edge else 0
            row[F_BN] = 1 if (edge and (kind != KIND_SPATIAL or nedge == 1)) else 0
        r0 = fi[na, 0]
        for q in range(8):
            r0[F_EQ + q] = crow[F_LT + q]   # single-state prefix before this directive
        na += 1
    # suffix pass: ingress when directive act[l] is the innermost changing one
    for q in range(8):
        trow[q] = 1          # products of the init-state factors after the directive
    ini0 = False
    ini1 = False
    l = na - 1
    for j in range(n - 1, -1, -1):
        v, kind, m, me, u, ue = directive_counts(L, j, mp)
        if l >= 0 and act[l] == j:
            r0 = fi[l, 0]
            for t in range(2):
                b = F_EQ + 4 * t
                inited = ini0 if t == 0 else ini1
                r0[F_ERR + t] = 1 if tm[t, v] != 0 and kind == KIND_TEMPORAL and not inited and u == 0 else 0
                if tm[t, v] == 0:         # the changing directive does not touch this tensor: nothing new
                    for x in range(4):
                        r0[b + x] = 0
                    continue
                f = change_ingress(kind, inited, m, me, u, ue)
                for x in range(4):
                    r0[b + x] *= f[x] * trow[4 * t + x]
            l -= 1
        # fold this directive's init state into the suffix
        f = suffix_ingress(kind, _st_edge(stl, j, 0), m, me, u, ue)
        for t in range(2):
            if tm[t, v] == 0:
                continue
            for x in range(4):
                trow[4 * t + x] *= f[x]
            if stl[j, 0, ST_UNROLL] == 0:
                if t == 0:
                    ini0 = True
                else:
                    ini1 = True
    return na


@njit(cache=True, _nrt=False)
def scan_level_fast(lvl, slot, nlev, conv, hw, ld, ln, linfo, lmap, lfirst, llast, tv, tn, tm, st, nst, freq, cur,
                    pick, phase, vs, subd, mkey, mcount, htab, hgen, first_child, ri, rf, crec, cstart, ccount, err,
                    lp, fi, sc, pc, pcg) -> bool:
    """scan_level for a level the plan marks fast (levels.plan_level): same results, from factor tables."""
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
    pickl = pick[lvl]
    llastl = llast[lvl]
    sd0 = subd[lvl, 0]
    sd1 = subd[lvl, 1]
    total = level_states(L, n, dyn, nsub, stl, nstl, freql)
    innermost = lvl == nlev - 1
    lanes = hw[HW_SIMD_LANES]
    first_child[slot] = -1
    cstart[slot] = ccount[0]
    act = sc[0]
    kcur = sc[1]
    idx = sc[2]
    kst = sc[3]
    na = factor_tables(L, n, mp, nedge, tm, stl, nstl, fi, act, kst)
    crow = fi[fi.shape[0] - 2, 0]
    # ---- spatial directives ----
    nsp = lp[lvl, LP_NSP]
    spd0 = lp[lvl, LP_SP0]
    spd1 = lp[lvl, LP_SP1]
    msk0 = lp[lvl, LP_TMASK]
    msk1 = lp[lvl, LP_TMASK + 1]
    msk2 = lp[lvl, LP_TMASK + 2]
    js0 = lp[lvl, LP_TJS]
    js1 = lp[lvl, LP_TJS + 1]
    js2 = lp[lvl, LP_TJS + 2]
    pcg[0] += 1
    pcg[1] = 0
    gen = pcg[0]
    direct = na <= 6      # edge patterns of at most 6 changing directives: the direct table (pc rows 3-6)
    # ---- the cases, in MAESTRO's order ----
    for l in range(na):
        idx[l] = 0
        kcur[l] = 0
    valid = 0
    fast_last = False
    last_macs = 0
    last_ing = 0
    up_wr_o = 0
    dn_o = 0
    up_rd0 = 0
    up_rd1 = 0
    num_comp = 0
    for case_id in range(total):
        if case_id == 1:
            # state order per directive is 1, 2, .., last, 0 (case 0, all init, comes first)
            for l in range(na):
                idx[l] = 0
                kcur[l] = 1
                kst[act[l]] = 1
        elif case_id > 1:
            l = na - 1
            while l >= 0:
                ns = nstl[act[l]]
                x = idx[l] + 1
                if x == ns:
                    x = 0
                idx[l] = x
                k = x + 1
                if k == ns:
                    k = 0
                kcur[l] = k
                kst[act[l]] = k
                if x != 0:
                    break
                l -= 1
        ichg = -1
        for l in range(na):
            if kcur[l] != 0:
                ichg = l
        occ = 1
        o0 = crow[F_O]
        o1 = crow[F_O + 1]
        o2 = crow[F_O + 2]
        o3 = crow[F_O + 3]
        o4 = crow[F_O + 4]
        p0 = crow[F_P]
        p1 = crow[F_P + 1]
        p2 = crow[F_P + 2]
        p3 = crow[F_P + 3]
        if ichg < 0:
            g = crow
            gb = F_Z
        else:
            g = fi[ichg, 0]
            gb = F_EQ
        g0 = g[gb]
        g1 = g[gb + 1]
        g2 = g[gb + 2]
        g3 = g[gb + 3]
        g4 = g[gb + 4]
        g5 = g[gb + 5]
        g6 = g[gb + 6]
        g7 = g[gb + 7]
        for l in range(na):
            row = fi[l, kcur[l]]
            occ *= row[F_OCC]
            o0 *= row[F_O]
            o1 *= row[F_O + 1]
            o2 *= row[F_O + 2]
            o3 *= row[F_O + 3]
            o4 *= row[F_O + 4]
            p0 *= row[F_P]
            p1 *= row[F_P + 1]
            p2 *= row[F_P + 2]
            p3 *= row[F_P + 3]
            if l < ichg:
                g0 *= row[F_LT]
                g1 *= row[F_LT + 1]
                g2 *= row[F_LT + 2]
                g3 *= row[F_LT + 3]
                g4 *= row[F_LT + 4]
                g5 *= row[F_LT + 5]
                g6 *= row[F_LT + 6]
                g7 *= row[F_LT + 7]
        occ = wrap_int32(occ)
        errflag = ichg >= 0 and (fi[ichg, 0, F_ERR] != 0 or fi[ichg, 0, F_ERR + 1] != 0)
        # spatial directives' states
        e_0 = False
        ee_0 = False
        e_1 = False
        ee_1 = False
        if nsp >= 1:
            k = kst[spd0]
            e_0 = _st_edge(stl, spd0, k)
            ee_0 = stl[spd0, k, ST_SP_EDGE_EDGE] == 1
        if nsp >= 2:
            k = kst[spd1]
            e_1 = _st_edge(stl, spd1, k)
            ee_1 = stl[spd1, k, ST_SP_EDGE_EDGE] == 1
        # output tensor
        sp = msk2 != 0
        spe = ((msk2 & 1) != 0 and e_0) or ((msk2 & 2) != 0 and e_1)
        ee = (js2 == 0 and ee_0) or (js2 == 1 and ee_1)
        egress, psums = output_egress_psums(sp, spe, ee, nsub, nedge, o0, o1, o2, o3, p0, p2)
        ee = ee_1 if nsp >= 2 else ee_0
        spe = spe or e_0 or e_1
        macs = spread(True, spe, ee, nsub, nedge, p0 * o0, p0 * o0, p2 * o2, p3 * o4)
        if errflag and (valid == 0 or psums > 0):
            # a case MAESTRO rejects: let the general code report it (flush the sums first)
            ri[slot, RI_UP_WR + T_OUTPUT] += up_wr_o
            ri[slot, RI_DN_WR + T_OUTPUT] += dn_o
            ri[slot, RI_DN_RD + T_OUTPUT] += dn_o
            ri[slot, RI_UP_RD] += up_rd0
            ri[slot, RI_UP_RD + 1] += up_rd1
            ri[slot, RI_DN_RD] += num_comp
            ri[slot, RI_DN_RD + 1] += num_comp
            ri[slot, RI_NUM_COMP] += num_comp
            up_wr_o = dn_o = up_rd0 = up_rd1 = num_comp = 0
            if valid > 0:
                ri[slot, RI_DN_WR] = ri[slot, RI_UP_RD]
                ri[slot, RI_DN_WR + 1] = ri[slot, RI_UP_RD + 1]
            if fast_last:
                _set_ai(rf, slot, last_macs, last_ing)
                fast_last = False
            for j in range(n):
                pickl[j] = kst[j]
            all_init = case_view(L, n, llastl, stl, pickl, vsl)
            res = _case_slow(lvl, slot, occ, valid, all_init, nlev, conv, hw, L, n, nsub, nedge, sp_var, mp, lf,
                             vsl, dyn, tv, tn, tm, sd0, sd1, mkey, mcount, htab, hgen, first_child, ri, rf, crec,
                             ccount, err)
            if res < 0:
                return False
            valid += res
            continue
        # ingress of the two input tensors
        sp = msk0 != 0
        spe = ((msk0 & 1) != 0 and e_0) or ((msk0 & 2) != 0 and e_1)
        ee = (js0 == 0 and ee_0) or (js0 == 1 and ee_1)
        ing0 = spread(sp, spe, ee, nsub, nedge, g0, g1, g2, g3)
        sp = msk1 != 0
        spe = ((msk1 & 1) != 0 and e_0) or ((msk1 & 2) != 0 and e_1)
        ee = (js1 == 0 and ee_0) or (js1 == 1 and ee_1)
        ing1 = spread(sp, spe, ee, nsub, nedge, g4, g5, g6, g7)
        if valid == 0:
            # buffer sizes come from the first valid case (and, accumulating, any invalid ones before it)
            for t in range(3):
                size = tensor_size(dyn, tv, tn, t, conv)
                if t < 2:
                    ri[slot, RI_UP_SZ + t] += 2 * (ing0 if t == 0 else ing1)
                    ri[slot, RI_UP_WR + t] = size
                    ri[slot, RI_DN_SZ + t] += 2 * mapped_volume(mp, tv, tn, t)
                else:
                    ri[slot, RI_UP_SZ + T_OUTPUT] = 2 * egress
                    ri[slot, RI_UP_RD + T_OUTPUT] = size
                    ri[slot, RI_DN_SZ + T_OUTPUT] = 2 * mapped_volume(mp, tv, tn, T_OUTPUT)
        up_wr_o += occ * egress
        dn_o += occ * macs
        if psums <= 0:
            continue
        up_rd0 += occ * ing0
        up_rd1 += occ * ing1
        num_comp += occ * macs
        ingress = ing0 + ing1
        fast_last = True
        last_macs = macs
        last_ing = ingress

        r = ccount[0]
        if r >= crec.shape[0]:
            err[0] = R_MEMO_FULL
            err[1] = lvl
            return False
        ccount[0] = r + 1
        crec[r, CR_OCC] = occ
        crec[r, CR_ING_D] = noc_delay(hw, ingress)
        crec[r, CR_EG_D] = noc_delay(hw, egress)
        crec[r, CR_TRAFFIC] = max(ingress, egress)
        crec[r, CR_ALL_INIT] = 1 if ichg < 0 else 0
        crec[r, CR_NACTIVE] = nedge if e_0 else nsub
        crec[r, CR_SUB_EE] = -1
        crec[r, CR_SUB] = -1
        crec[r, CR_SUB_W] = 0
        if innermost:
            crec[r, CR_COMP] = int(math.ceil(psums / lanes))
        else:
            if e_0 and ee_0:
                c = -1
                if direct:
                    key = 0
                    for l in range(na):
                        key |= fi[l, kcur[l], F_BE] << l
                    if pc[6, key] == gen:
                        c = pc[4, key]
                    else:
                        c = _child(key * 2 + 1, lvl, L, n, conv, nedge, mp, stl, kst, True, sd0, mkey, mcount,
                                   htab, hgen, pc, pcg)
                else:
                    key = 1
                    for l in range(na):
                        key = key * 2 + fi[l, kcur[l], F_BE]
                    c = _child(key * 2 + 1, lvl, L, n, conv, nedge, mp, stl, kst, True, sd0, mkey, mcount, htab,
                               hgen, pc, pcg)
                if c < 0:
                    err[0] = R_MEMO_FULL
                    err[1] = lvl + 1
                    return False
                crec[r, CR_SUB_EE] = c
                if first_child[slot] < 0:
                    first_child[slot] = c
                w = nedge - 1
            else:
                w = nedge if e_0 else nsub
            if w > 0:
                c = -1
                if direct:
                    key = 0
                    for l in range(na):
                        key |= fi[l, kcur[l], F_BN] << l
                    if pc[5, key] == gen:
                        c = pc[3, key]
                    else:
                        c = _child(key * 2, lvl, L, n, conv, nedge, mp, stl, kst, False, sd1, mkey, mcount,
                                   htab, hgen, pc, pcg)
                else:
                    key = 1
                    for l in range(na):
                        key = key * 2 + fi[l, kcur[l], F_BN]
                    c = _child(key * 2, lvl, L, n, conv, nedge, mp, stl, kst, False, sd1, mkey, mcount, htab,
                               hgen, pc, pcg)
                if c < 0:
                    err[0] = R_MEMO_FULL
                    err[1] = lvl + 1
                    return False
                crec[r, CR_SUB] = c
                crec[r, CR_SUB_W] = w
                if first_child[slot] < 0:
                    first_child[slot] = c
        valid += 1
    ri[slot, RI_UP_WR + T_OUTPUT] += up_wr_o
    ri[slot, RI_DN_WR + T_OUTPUT] += dn_o
    ri[slot, RI_DN_RD + T_OUTPUT] += dn_o
    ri[slot, RI_UP_RD] += up_rd0
    ri[slot, RI_UP_RD + 1] += up_rd1
    ri[slot, RI_DN_RD] += num_comp
    ri[slot, RI_DN_RD + 1] += num_comp
    ri[slot, RI_NUM_COMP] += num_comp
    if valid > 0:
        ri[slot, RI_DN_WR] = ri[slot, RI_UP_RD]
        ri[slot, RI_DN_WR + 1] = ri[slot, RI_UP_RD + 1]
    if fast_last:
        _set_ai(rf, slot, last_macs, last_ing)
    ri[slot, RI_VALID] = valid
    return True


@njit(cache=True, _nrt=False)
def _set_ai(rf, slot, macs, ingress) -> None:
    if ingress != 0:
        rf[slot, RF_AI] = macs / ingress
    elif macs == 0:
        rf[slot, RF_AI] = np.nan
    else:
        rf[slot, RF_AI] = np.inf if macs > 0 else -np.inf


@njit(cache=True, _nrt=False)
def analyze_mapping(nlev, conv, hw, top_dims, ld, ln, linfo, lmap, lfirst, llast, tv, tn, tm, st, nst, freq, cur,
                    pick, phase, vs, subd, mkey, mcount, htab, hgen, first_child, ri, rf, crec, cstart, ccount,
                    first_done, err, lp, fi, sc, pc, pcg, fast) -> int:
    """All levels of one completed mapping; returns the top level's result slot (0) or -1 (err[0] set).

    MAESTRO recurses into a sub-cluster level for every valid case. We scan the levels top-down (each
    distinct sub-cluster shape once, memoised), keeping per valid case what depends on the sub-clusters'
    runtimes, then finish the shapes bottom-up: same numbers, no recursion, no repeated work.
    lp is the plan build_levels filled (which levels the fast scan takes); fast=False clears its flags.
    """
    mcount[0] = 0
    mcount[1] += 1          # a new hash-table generation: earlier mappings' buckets read as empty
    ccount[0] = 0
    _insert(0, top_dims, mkey, mcount, htab, hgen)
    if not fast:            # tests: the general per-case path everywhere
        for lvl in range(nlev):
            lp[lvl, LP_FAST] = 0
    begin = 0
    for lvl in range(nlev):
        end = mcount[0]
        for slot in range(begin, end):
            if lp[lvl, LP_FAST] == 1:
                if not scan_level_fast(lvl, slot, nlev, conv, hw, ld, ln, linfo, lmap, lfirst, llast, tv, tn, tm, st,
                                       nst, freq, cur, pick, phase, vs, subd, mkey, mcount, htab, hgen, first_child,
                                       ri, rf, crec, cstart, ccount, err, lp, fi, sc, pc, pcg):
                    return -1
                continue
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
