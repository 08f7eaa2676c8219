"""Closed-form scoring: MAESTRO's case-by-case sums as products of per-directive sums.

Why: the case scan (engine.py) visits every iteration case of every sub-cluster shape (about 150 cases and
20 shapes for a random 3-level mapping), which caps it near 25,000 mappings per second. Scoring a mapping
needs only the runtime, the per-tensor access counts and the buffer sizes, and those are sums over cases
of products of one factor per directive, so they factor:

- A level whose dimensions each have one directive and which has one SpatialMap: the cases are the
  Cartesian product of the directives' states, a case's occurrences and partial sums are products of
  per-state factors, so the sum over cases is the product over directives of per-directive sums. Counts
  that depend on the spatial directive's state (egress, MACs, ingress coefficients) are summed per spatial
  state; ingress also depends on the innermost changing directive and is summed per changing directive
  with prefix products (the structure `engine.factor_tables` already builds).
- Runtime: MAESTRO adds per case occ x max(egress delay, compute, ingress delay) (compute + ingress delay
  for the all-init case). When every transfer fits the NoC bandwidth in one send and every compute delay
  is at least the NoC latency, the max is the compute delay, so a level's runtime is
  sum(occ x sub-cluster runtime) + latency. A sub-cluster shape differs from its siblings only in which
  dimensions get the edge tile, so the runtime of level l over all its shapes is a short sum of products
  over dimensions of a per-(dimension, normal/edge) factor; the level above sums those factors over its
  directives' states. One pass per level, no shape is visited.

Cases whose partial sums are not positive (an edge tile of Y/X below R/S, a stride beyond the filter)
produce nothing and MAESTRO skips them for runtime, ingress and MACs while still counting their egress;
a state's partial-sum factor being <= 0 marks them, so the same sums run over the remaining states.

`closed_form` checks, per mapping, the conditions under which these identities hold exactly (one
directive per dimension and one SpatialMap per level, one SIMD lane, traffic within the NoC bandwidth,
the all-init case valid at every level, at most one directive per level with negative factors, no int32
wrap of occurrence counts, no int64 overflow, a monotone max over edge sub-clusters, off-chip delays
below the compute delays) and returns a non-zero code naming the failed condition otherwise; the caller
then runs the case scan. tests/test_analysis_closed.py checks that the two agree exactly on every scored
metric and status.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..arrays import (HW_NOC_BW, HW_NOC_LATENCY, HW_OFFCHIP_BW,
                      HW_SIMD_LANES, KIND_SPATIAL, KIND_TEMPORAL, NUM_DIMS)
from .cases import POS_EDGE, POS_INIT, POS_STEADY, ST_INIT_EDGE, ST_OCC, ST_POS, ST_SP_EDGE_EDGE, \
    directive_states
from .cmath import cdiv
from .engine import F_EQ, F_ERR, F_LT, F_O, F_OCC, F_P, F_Z, LP_FAST, LP_NSP, LP_SP0, LP_TMASK, factor_tables
from .levels import LI_NEDGE, LI_NSUB, MP_MAPPED, MP_MAPPED_EDGE, MP_UNIQUE, MP_UNIQUE_EDGE
from .traffic import T_OUTPUT, mapped_volume, output_dim, tensor_size, variant_weights

# result fields (int64)
CF_RUNTIME = 0
CF_UP_RD = 1        # + tensor (input, filter, output): the top level's L2 reads / writes, L1 reads / writes
CF_UP_WR = 4
CF_DN_RD = 7
CF_DN_WR = 10
CF_UP_SZ = 13       # L2 buffer per tensor (double-buffered elements)
CF_DN_SZ = 16       # L1 buffer per tensor (innermost level)
CF_MACS = 19
NCF = 20
MAX_TERMS = 8       #: runtime terms: one product plus one constant per level
LIMIT = 4.0e18      #: float shadow bound: below it every int64 sum and product is exact

_I32 = 2147483647.0


@njit(cache=True, _nrt=False, inline="always")
def _edge(st, k) -> bool:
    return st[k, ST_POS] == POS_EDGE or st[k, ST_INIT_EDGE] == 1


@njit(cache=True, _nrt=False)
def psum_factors(kind: int, v: int, mp: np.ndarray, nedge: int, tmo: int, pos: int, edge: bool):
    """(f0, f2): the directive's factor of a case's partial sums, plain and at the edge-edge sub-cluster.

    The partial sums of a case are the product of F_P x F_O over directives (engine._state_factors);
    a directive contributes through F_O when its dimension indexes the output, through F_P otherwise.
    """
    a = output_dim(v) if tmo else v
    m = mp[MP_MAPPED, a]
    me = mp[MP_MAPPED_EDGE, a]
    if kind == KIND_TEMPORAL:
        if tmo and pos == POS_STEADY:
            f = m
        elif tmo and pos == POS_EDGE:
            f = me
        else:
            f = me if edge else m
        return f, f
    if pos == POS_INIT:
        if not edge:
            return m, m
        if nedge == 1:
            return m, me
        if nedge > 1:
            return m, mp[MP_UNIQUE_EDGE, a]
        return m, 1
    if pos == POS_STEADY:
        return m, m
    if nedge == 1:
        f = mp[MP_MAPPED_EDGE, v] if tmo else me      # MAESTRO reads the input-side count here
        return f, f
    if nedge > 1:
        return m, mp[MP_UNIQUE_EDGE, a]
    return 1, 1


@njit(cache=True, _nrt=False)
def _traffic_fits(lvl, conv, lmap, linfo, tv, tn, bw) -> bool:
    """Every ingress and egress amount of the level is at most the NoC bandwidth (one send each)."""
    mp = lmap[lvl]
    width = max(linfo[lvl, LI_NSUB], linfo[lvl, LI_NEDGE], 1)
    total_in = 0.0
    for t in range(3):
        b = float(width)
        for q in range(tn[t]):
            v = tv[t, q]
            o = output_dim(v) if conv else v     # output factors read Y'/X' counts
            m = 1
            for r in range(4):
                m = max(m, mp[r, v], mp[r, o])
            b *= m
        if t < 2:
            total_in += b
        elif b > bw:
            return False
    return total_in <= bw


@njit(cache=True, _nrt=False)
def closed_form(nlev, conv, hw, top_dims, ld, ln, linfo, lmap, lp, tv, tn, tm, cst, cnst, gst, vst, need_e, T, coef,
                fi, act, kst, ws, out) -> int:
    """Runtime, counts and buffer sizes of one completed mapping in closed form (0), or why not (> 0).

    cst[l, a] / cnst[l, a]: states of level l's directives for dimension variant a (0: the tile the level
    above hands down, 1: its edge tile); gst their partial-sum factors (0: the state's cases produce nothing
    and MAESTRO skips them); vst[l, a, j] the valid states as (occurrences, variant handed down) pairs,
    vst[l, a, j, 3, 0] their count; T[b, k, v, a] the factor of dimension v, variant a in runtime term k,
    b alternating between a level and the one below it.
    """
    lat = hw[HW_NOC_LATENCY]
    bw = float(hw[HW_NOC_BW])
    if hw[HW_SIMD_LANES] != 1 or lat < 0:
        return 1
    dmask = 0
    for j in range(ln[0]):
        dmask |= 1 << ld[0, j, 1]
    for lvl in range(nlev):
        if lp[lvl, LP_FAST] != 1 or lp[lvl, LP_NSP] != 1:
            return 2
        m = 0
        for j in range(ln[lvl]):
            m |= 1 << ld[lvl, j, 1]
        if m != dmask:
            return 3
        if not _traffic_fits(lvl, conv, lmap, linfo, tv, tn, bw):
            return 4
    # ---- top-down: every directive's states for the dimension sizes it can be handed, and their factors ----
    for lvl in range(nlev):
        for v in range(NUM_DIMS):
            need_e[lvl + 1, v] = 0
    inner = nlev - 1
    lb_psum = 1         # a lower bound of the innermost level's (valid) partial sums
    bound = 1.0         # an upper bound of every runtime factor (all factors are >= 1): no int64 overflow
    for lvl in range(nlev):
        nsub = linfo[lvl, LI_NSUB]
        nedge = linfo[lvl, LI_NEDGE]
        mp = lmap[lvl]
        sp_out = lp[lvl, LP_TMASK + T_OUTPUT] != 0
        occ_bound = 1.0
        level_bound = 1.0
        negs = 0            # directives with negative partial-sum factors (Y/X edge tiles below R/S)
        for j in range(ln[lvl]):
            kind = ld[lvl, j, 0]
            v = ld[lvl, j, 1]
            tmo = tm[T_OUTPUT, v]
            big = 1
            neg = False
            low = 9223372036854775807
            hi = 0.0
            for a in range(2):
                if a == 0:
                    dim = top_dims[v] if lvl == 0 else lmap[lvl - 1, MP_MAPPED, v]
                else:
                    if lvl == 0 or need_e[lvl, v] == 0:
                        cnst[lvl, 1, j] = 0
                        continue
                    dim = lmap[lvl - 1, MP_MAPPED_EDGE, v]
                stj = cst[lvl, a, j]
                ns = directive_states(kind, ld[lvl, j, 2], ld[lvl, j, 3], dim, nsub, stj)
                cnst[lvl, a, j] = ns
                if ns > 1 and kind == KIND_TEMPORAL and mp[MP_UNIQUE, v] == 0:
                    return 6        # steps that bring no new elements: MAESTRO may reject, the scan knows
                if _edge(stj, 0) and tm[0, v] != 0 and mp[MP_MAPPED_EDGE, v] < 1 and (kind == KIND_TEMPORAL
                                                                                    or nedge == 1):
                    return 5        # the all-init case must move input data (its ingress delay is the latency)
                vs = vst[lvl, a, j]
                nv = 0
                w = 0
                wf = 0.0
                for k in range(ns):
                    occ = stj[k, ST_OCC]
                    big = max(big, occ)
                    if occ < 1:
                        return 7
                    e = _edge(stj, k)
                    f0, f2 = psum_factors(kind, v, mp, nedge, tmo, stj[k, ST_POS], e)
                    g = f0
                    if kind == KIND_SPATIAL and sp_out and e and nedge == 1 and stj[k, ST_SP_EDGE_EDGE] == 1:
                        g = f2
                    if g <= 0:
                        if k == 0:
                            return 10   # the all-init case computes nothing: the first valid case moves
                        if g < 0:
                            neg = True
                        g = 0           # MAESTRO skips these cases (no partial sums): no sub-cluster, no runtime
                    gst[lvl, a, j, k] = g
                    if g == 0:
                        continue
                    low = min(low, g)
                    ce = 0              # the variant of this dimension the sub-clusters get
                    if e:
                        if kind == KIND_TEMPORAL:
                            ce = 1
                        elif nedge < 1:
                            return 8        # an edge step with no edge sub-cluster: leave it to the scan
                        elif nedge == 1:
                            ce = 1
                        elif stj[k, ST_SP_EDGE_EDGE] == 1:
                            ce = 2          # edge-edge and plain sub-clusters: the slower one (decided below)
                        if ce != 0:
                            need_e[lvl + 1, v] = 1
                    vs[nv, 0] = occ
                    vs[nv, 1] = ce
                    nv += 1
                    if lvl == inner:
                        w += occ * g
                        wf += float(occ) * float(g)
                    else:
                        wf += float(occ)
                vs[3, 0] = nv
                hi = max(hi, wf)
                if lvl == inner:
                    T[inner & 1, 0, v, a] = w
                    T[inner & 1, 1, v, a] = 1
            if neg:
                negs += 1
            occ_bound *= big
            level_bound *= hi
            if lvl == inner:
                lb_psum *= low
        if occ_bound > _I32:
            return 9        # MAESTRO's int occurrence counts would wrap
        if negs > 1:
            return 18       # two negative factors make a positive product, a case MAESTRO counts as valid
        bound *= level_bound * (1.0 + lat)     # R_l <= bound_l x R_(l+1) + lat
    if bound > LIMIT or lb_psum < lat:
        return 11           # overflow risk, or a compute delay below the NoC latency (the max would differ)
    # ---- bottom-up: the runtime of every level as a sum of products over dimensions ----
    coef[0] = 1
    coef[1] = lat
    nterm = 2
    lb_comp = lb_psum       # a lower bound of the compute delay of any valid case of the top level
    b = inner & 1
    for lvl in range(inner - 1, -1, -1):
        c = b               # the level below's terms
        b = lvl & 1
        nedge = linfo[lvl, LI_NEDGE]
        spd = lp[lvl, LP_SP0]
        slower = 0          # which of edge-edge (1) and plain (0) sub-clusters is slower in every case
        if nedge > 1:
            v_sp = ld[lvl, spd, 1]
            both = False
            for a in range(2):
                vs = vst[lvl, a, spd]
                for q in range(vs[3, 0]):
                    if vs[q, 1] == 2:
                        both = True
            if both:
                le = True
                ge = True
                for k in range(nterm):
                    if T[c, k, v_sp, 1] > T[c, k, v_sp, 0]:
                        le = False
                    if T[c, k, v_sp, 1] < T[c, k, v_sp, 0]:
                        ge = False
                if not le and not ge:
                    return 13   # which sub-cluster is slower depends on the case: leave it to the scan
                slower = 0 if le else 1
        if lvl == 0:
            # a lower bound of the top level's compute delays: the sub-level's runtime, term by term
            lb_comp = 0
            for k in range(nterm):
                p = coef[k]
                for j in range(ln[0]):
                    v = ld[0, j, 1]
                    lo = T[c, k, v, 0]
                    if need_e[1, v] == 1:
                        lo = min(lo, T[c, k, v, 1])
                    p *= lo
                lb_comp += p
        for j in range(ln[lvl]):
            v = ld[lvl, j, 1]
            for a in range(2):
                if cnst[lvl, a, j] == 0:
                    continue
                vs = vst[lvl, a, j]
                nv = vs[3, 0]
                for k in range(nterm):
                    s = 0
                    for q in range(nv):
                        ce = vs[q, 1]
                        s += vs[q, 0] * T[c, k, v, slower if ce == 2 else ce]
                    T[b, k, v, a] = s
                T[b, nterm, v, a] = 1
        coef[nterm] = lat   # this level's all-init case: compute + ingress delay, once per shape
        nterm += 1
    runtime = 0
    for k in range(nterm):
        p = coef[k]
        for j in range(ln[0]):
            p *= T[0, k, ld[0, j, 1], 0]
        runtime += p
    if runtime <= 0:
        return 15
    # ---- the top level's counts ----
    if not _top_counts(conv, top_dims, ld, ln, linfo, lmap, lp, tv, tn, tm, cst, cnst, gst, fi, act, kst, ws, out):
        return 16
    offchip = hw[HW_OFFCHIP_BW]
    in_off = cdiv(cdiv(out[CF_UP_SZ] + out[CF_UP_SZ + 1], offchip), 2)
    out_off = cdiv(cdiv(out[CF_UP_SZ + T_OUTPUT], offchip), 2)
    if in_off > lb_comp or out_off > lb_comp:
        return 17
    out[CF_RUNTIME] = runtime
    mpi = lmap[inner]
    for t in range(3):
        out[CF_DN_SZ + t] = 2 * mapped_volume(mpi, tv, tn, t)
    return 0


# per active directive sums (ws columns): occ x type factor over all states (W_ALL + x) and over the valid
# states (W_VAL + x), x = 0-3 output variants o0..o3, 4 p0 o0, 5 p2 o2, 6 p3 o4; occ x ingress factor before
# the changing directive over the valid states (W_LT + 4 t + x); occurrences of the valid non-init states
W_ALL, W_VAL, W_LT, W_CHG = 0, 7, 14, 22
NW = 23


@njit(cache=True, _nrt=False)
def _top_counts(conv, top_dims, ld, ln, linfo, lmap, lp, tv, tn, tm, cst, cnst, gst, fi, act, kst, ws, out) -> bool:
    """The top level's access counts, MACs and L2 buffer sizes as sums over its cases, in closed form.

    Egress and output L1 traffic count every case; ingress and MACs only the cases with partial sums
    (gst != 0), as the scan does. Returns False where a count would need the scan (rejections, negatives).
    """
    nsub = linfo[0, LI_NSUB]
    nedge = linfo[0, LI_NEDGE]
    stl = cst[0, 0]
    nstl = cnst[0, 0]
    na = factor_tables(ld[0], ln[0], lmap[0], nedge, tm, stl, nstl, fi, act, kst)
    crow = fi[fi.shape[0] - 2, 0]
    spd = lp[0, LP_SP0]
    sps = stl[spd]
    gsp = gst[0, 0, spd]
    fr = ws[ws.shape[0] - 4]        # one state's occ x factor per count type
    asp = -1
    for l in range(na):
        j = act[l]
        if j == spd:
            asp = l
        r0 = fi[l, 0]
        if r0[F_ERR] != 0 or r0[F_ERR + 1] != 0:
            return False        # MAESTRO rejects a case of this level: the scan reports it
        wl = ws[l]
        for q in range(NW):
            wl[q] = 0
        for k in range(nstl[j]):
            row = fi[l, k]
            occ = row[F_OCC]
            fr[0] = occ * row[F_O]
            fr[1] = occ * row[F_O + 1]
            fr[2] = occ * row[F_O + 2]
            fr[3] = occ * row[F_O + 3]
            fr[4] = fr[0] * row[F_P]
            fr[5] = fr[2] * row[F_P + 2]
            fr[6] = occ * row[F_O + 4] * row[F_P + 3]
            valid = gst[0, 0, j, k] != 0
            for x in range(7):
                wl[W_ALL + x] += fr[x]
                if valid:
                    wl[W_VAL + x] += fr[x]
            if valid:
                for q in range(8):
                    wl[W_LT + q] += occ * row[F_LT + q]
                if k > 0:
                    wl[W_CHG] += occ
    msk_out = lp[0, LP_TMASK + T_OUTPUT] != 0
    msk0 = lp[0, LP_TMASK] != 0
    msk1 = lp[0, LP_TMASK + 1] != 0
    nsps = nstl[spd]
    wt = ws[ws.shape[0] - 3:]      # per spatial state: weights of the 7 count types, then the 2 x 4 ingress ones
    used = 0
    for k in range(nsps):
        e = _edge(sps, k)
        ee = sps[k, ST_SP_EDGE_EDGE] == 1
        wk = wt[k]
        for x in range(7):
            wk[x] = _weight(x, msk_out, e, ee, nsub, nedge)
            if wk[x] != 0:
                used |= 1 << x
        c0, c1, c2, c3 = variant_weights(msk0, e, ee and msk0, nsub, nedge)
        wk[7] = c0
        wk[8] = c1
        wk[9] = c2
        wk[10] = c3
        c0, c1, c2, c3 = variant_weights(msk1, e, ee and msk1, nsub, nedge)
        wk[11] = c0
        wk[12] = c1
        wk[13] = c2
        wk[14] = c3
    egress = 0
    eg0 = 0              # egress of the all-init case (the L2 output buffer)
    dn_o = 0             # MACs of every case (output L1 traffic)
    num_comp = 0         # MACs of the cases with partial sums
    for x in range(7):
        if (used >> x) & 1 == 0:
            continue        # no spatial state weighs this count type
        prod_all = _type_factor(crow, x)
        prod_val = prod_all
        init_prod = prod_all
        for l in range(na):
            init_prod *= _type_factor(fi[l, 0], x)
            if l != asp:
                prod_all *= ws[l, W_ALL + x]
                prod_val *= ws[l, W_VAL + x]
        for k in range(nsps):
            c = wt[k, x]
            if c == 0:
                continue
            w = 1
            if asp >= 0:
                row = fi[asp, k]
                w = row[F_OCC] * _type_factor(row, x)
            if x < 4:
                egress += c * w * prod_all
                if k == 0:
                    eg0 += c * init_prod
            else:
                dn_o += c * w * prod_all
                if gsp[k] != 0:
                    num_comp += c * w * prod_val
    # ingress per input tensor, summed by innermost changing directive (later ones in their init state)
    for t in range(2):
        msk = msk0 if t == 0 else msk1
        wc = 7 + 4 * t
        first = 0
        for x in range(4):
            first += wt[0, wc + x] * crow[F_Z + 4 * t + x]
        if first < 1:
            return False
        tot = first
        for x in range(4):
            cx = wt[0, wc + x]
            if not msk and x > 0:
                break           # a tensor the spatial dimension does not index has one variant
            pre = 1          # over the active directives before l, but the spatial one: sum of occ x LT
            sp_pre = 0       # the spatial directive's weighted sum, once it is before l
            for l in range(na):
                eq = fi[l, 0, F_EQ + 4 * t + x]
                if l == asp:
                    s = 0
                    s_pre = 0
                    for k in range(nsps):
                        if gsp[k] == 0:
                            continue
                        d = wt[k, wc + x]
                        if k > 0:
                            s += d * fi[l, k, F_OCC]
                        s_pre += d * fi[l, k, F_OCC] * fi[l, k, F_LT + 4 * t + x]
                    tot += eq * s * pre
                    sp_pre = s_pre
                else:
                    if eq != 0:
                        if 0 <= asp < l:
                            tot += eq * ws[l, W_CHG] * pre * sp_pre
                        else:
                            tot += eq * ws[l, W_CHG] * pre * cx
                    pre *= ws[l, W_LT + 4 * t + x]
        out[CF_UP_RD + t] = tot
        out[CF_DN_WR + t] = tot
        out[CF_DN_RD + t] = num_comp
        out[CF_UP_SZ + t] = 2 * first
        out[CF_UP_WR + t] = tensor_size(top_dims, tv, tn, t, conv)
    out[CF_UP_RD + T_OUTPUT] = tensor_size(top_dims, tv, tn, T_OUTPUT, conv)
    out[CF_UP_WR + T_OUTPUT] = egress
    out[CF_DN_RD + T_OUTPUT] = dn_o
    out[CF_DN_WR + T_OUTPUT] = dn_o
    out[CF_UP_SZ + T_OUTPUT] = 2 * eg0
    out[CF_MACS] = num_comp
    return num_comp > 0 and egress >= 0 and dn_o > 0


@njit(cache=True, _nrt=False, inline="always")
def _weight(x, msk_out, e, ee, nsub, nedge) -> int:
    """Weight of count type x (0-3 egress variants, 4-6 MAC variants) in a case whose spatial state is (e, ee)."""
    if x < 4:
        return _pick(variant_weights(msk_out, e, ee and msk_out, nsub, nedge), x)
    c0, c1, c2, c3 = variant_weights(True, e, ee, nsub, nedge)
    return c0 + c1 if x == 4 else (c2 if x == 5 else c3)


@njit(cache=True, _nrt=False, inline="always")
def _pick(c, x):
    return c[0] if x == 0 else (c[1] if x == 1 else (c[2] if x == 2 else c[3]))


@njit(cache=True, _nrt=False, inline="always")
def _type_factor(row, x) -> int:
    if x < 4:
        return row[F_O + x]
    if x == 4:
        return row[F_P] * row[F_O]
    if x == 5:
        return row[F_P + 2] * row[F_O + 2]
    return row[F_P + 3] * row[F_O + 4]
