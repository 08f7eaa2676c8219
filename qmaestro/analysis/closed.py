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

Speed (random mappings branch unpredictably; about a quarter of the time went to mispredictions): the passes
visit a level's directives by dimension, not in loop order, so every mapping takes its branches in the same
order; sums over a directive's states run over three slots padded with zero occurrences; the bandwidth check
and the L1 tile sizes ride on the top-down pass.
"""
from __future__ import annotations

import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros

from ..arrays import HW_NOC_BW, HW_NOC_LATENCY, HW_OFFCHIP_BW, HW_SIMD_LANES, KIND_TEMPORAL, MAX_LEVELS, NUM_DIMS
from ..jit import njit
from .cases import POS_INIT, ST_EDGE, ST_OCC, ST_POS, ST_SP_EDGE_EDGE, ST_UNROLL, \
    put_states, state_shape
from .cmath import cdiv
from .engine import change_ingress, directive_counts, init_ingress, state_factors, suffix_ingress
from .levels import (LI_NEDGE, LI_NSUB, LP_FAST, LP_NSP, LP_SP0, LP_TMASK, MAX_LEVEL_DIRS, MP_MAPPED, MP_MAPPED_EDGE,
                     MP_UNIQUE, _ix)
from .traffic import T_OUTPUT, output_dim, variant_weights

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
    return st[k, ST_EDGE] == 1


@njit(cache=True, _nrt=False, inline="always")
def psum_choices(kind: int, v: int, mpf: np.ndarray, mb: int, nedge: int, tmo: bool, sp_out: bool):
    """A directive's factor of the partial sums of its cases' critical sub-cluster, per state: (init, init at the
    edge, steady, edge state). Computed once per directive; each state then only picks one.

    The partial sums of a case are the product of F_P x F_O over directives (engine.state_factors); a
    directive contributes through F_O when its dimension indexes the output, through F_P otherwise. A
    SpatialMap's init edge state counts its edge-edge sub-cluster when that one is alone (nedge == 1) and
    the level splits the output. mpf[mb + r * NUM_DIMS + v]: the level's reuse map, flat.
    """
    a = output_dim(v) if tmo else v
    m = mpf[_ix(mb + MP_MAPPED * NUM_DIMS + a)]
    me = mpf[_ix(mb + MP_MAPPED_EDGE * NUM_DIMS + a)]
    if kind == KIND_TEMPORAL:
        return m, me, m, me
    if nedge == 1:      # MAESTRO reads the input-side count in the edge state
        return m, (me if sp_out else m), m, mpf[_ix(mb + MP_MAPPED_EDGE * NUM_DIMS + v)]
    return m, m, m, (m if nedge > 1 else 1)


@njit(cache=True, _nrt=False, inline="always")
def _edge_variant(kind: int, nedge: int, ee: bool) -> int:
    """The variant of a dimension the sub-clusters of an edge state get: 1 the edge tile, 0 the plain one, 2 both
    (edge-edge and plain sub-clusters: the slower one is decided bottom-up), -1 none (no edge sub-cluster)."""
    if kind == KIND_TEMPORAL or nedge == 1:
        return 1
    if nedge < 1:
        return -1
    return 2 if ee else 0


@njit(cache=True, _nrt=False, inline="always")
def _column_max(mpf, mb, cw) -> None:
    """Per dimension v of a level, its largest per-step element count (mapped, new, at the edge) into
    cw[CW_LC + v]: one pass over the level's reuse map (mpf[mb + r * NUM_DIMS + v], flat) that LLVM vectorises."""
    V = NUM_DIMS
    for v in range(V):
        cw[_ix(CW_LC + v)] = max(max(mpf[_ix(mb + v)], mpf[_ix(mb + V + v)]),
                                 max(mpf[_ix(mb + 2 * V + v)], mpf[_ix(mb + 3 * V + v)]))


@njit(cache=True, _nrt=False, inline="always")
def _largest_count(cw, v, conv) -> int:
    """The largest per-step element count of dimension v at a level (output rows and columns of a convolution
    included; _column_max), at least 1: a bound of its factor in any transfer of the level."""
    o = output_dim(v) if conv else v
    return max(1, cw[_ix(CW_LC + v)], cw[_ix(CW_LC + o)])


# closed_form's workspace cw (int64, flat: constant strides keep the index arithmetic in displacements):
# per (level l, variant a, dimension v) the valid states as (occurrences, variant handed down) pairs padded to three
# with zero occurrences (CW_VST + ((l * 2 + a) * V + v) * 6 + 2 q + f) and whether that variant occurs (CW_HAS + ...);
# per (level, dimension) whether the level hands its edge tile down (CW_NEED + (l + 1) * V + v) and the directive
# (CW_J + l * V + v); the runtime terms T[b, k, v, a] of a level (b alternating between a level and the one below)
# at CW_T + ((b * MAX_TERMS + k) * V + v) * 2 + a; per dimension, the current level's largest count (CW_LC + v);
# per level l its SpatialMap's dimension (CW_SPV + l) and edge sub-clusters (CW_NE + l), for the bottom-up pass;
# per (level, variant, dimension) whether the directive's init state is unrolled (CW_UNR + (l * 2 + a) * V + v).
_V = NUM_DIMS
CW_VST = 0
CW_HAS = CW_VST + MAX_LEVELS * 2 * _V * 6
CW_NEED = CW_HAS + MAX_LEVELS * 2 * _V
CW_J = CW_NEED + (MAX_LEVELS + 1) * _V
CW_T = CW_J + MAX_LEVELS * _V
CW_LC = CW_T + 2 * MAX_TERMS * _V * 2
CW_SPV = CW_LC + _V         # per level: the dimension of its SpatialMap
CW_NE = CW_SPV + MAX_LEVELS     # per level: its edge sub-clusters (linfo's LI_NEDGE)
CW_UNR = CW_NE + MAX_LEVELS
NCW = CW_UNR + MAX_LEVELS * 2 * _V


@njit(cache=True, _nrt=False, inline="always")
def _level_dims(nlev, ldf, ln, lp, cw):
    """(0, dims) when every level maps each of the same dimensions once (the tensors' among them: the level
    plan's fast flag) with one SpatialMap, else (2 or 3, 0). Fills cw[CW_J + l * V + v], the directive of
    dimension v at level l."""
    dmask = 0
    for j in range(ln[0]):
        dmask |= 1 << ldf[_ix(j * 4 + 1)]
    for lvl in range(nlev):
        if lp[lvl, LP_FAST] != 1 or lp[lvl, LP_NSP] != 1:
            return 2, 0
        m = 0
        base = lvl * MAX_LEVEL_DIRS * 4
        for j in range(ln[lvl]):
            v = ldf[_ix(base + j * 4 + 1)]
            m |= 1 << v
            cw[_ix(CW_J + lvl * _V + v)] = j
        if m != dmask:
            return 3, 0
    return 0, dmask


@njit(cache=True, _nrt=False)
def tensor_bits(tm, out) -> None:
    """out[t]: for tensor t (input, filter, output), the bit mask of the dimensions that index it (per batch)."""
    b0 = b1 = b2 = 0
    for v in range(NUM_DIMS):
        b0 |= (1 if tm[0, v] != 0 else 0) << v
        b1 |= (1 if tm[1, v] != 0 else 0) << v
        b2 |= (1 if tm[T_OUTPUT, v] != 0 else 0) << v
    out[0] = b0
    out[1] = b1
    out[2] = b2


@njit(cache=True, _nrt=False, inline="always")
def _variant_pass(a, dim, lvl, inner, v, j, kind, size, ofs, mpf, mb, nsub, nedge, no_new, no_input, g_in, g_ie, g_st,
                  g_ed, cst, cnst, gst, cw, tin, big, neg, low, hi):
    """directive_pass's step for one variant a (0: the plain size dim, 1: the edge size the level above hands
    down): the directive's states over dim into cw; (code, and big, neg, low, hi updated). Called with a a
    constant, so each call is compiled for its variant."""
    V = _V
    has = CW_HAS + (lvl * 2 + a) * V + v
    cw[_ix(has)] = 1
    steady, has_edge, unroll, ie, iee, eee = state_shape(kind, size, ofs, dim, nsub)
    ns = 1 + (steady > 0) + has_edge
    if lvl == 0 and a == 0:     # the top level's states: _top_counts sums over them
        cnst[0, 0, _ix(j)] = put_states(cst[0, 0, _ix(j)], steady, has_edge, unroll, ie, iee, eee)
    cw[_ix(CW_UNR + (lvl * 2 + a) * V + v)] = unroll
    # steps that bring no new elements: MAESTRO rejects a case they change innermost unless a later directive
    # holds the tensor whole; decided once the level is done (no_new_rejects)
    stale = ns > 1 and no_new
    if ie and no_input:
        return 5, big, neg, low, hi     # the all-init case must move input data (its ingress delay is the latency)
    big = max(big, steady)
    # the states in order (init, steady, edge): occurrences, partial-sum factor, edge variant
    g = g_ie if ie else g_in
    if g <= 0:
        return 10, big, neg, low, hi    # the all-init case computes nothing: the first valid case moves
    ce = _edge_variant(kind, nedge, iee) if ie else 0
    if ce < 0:
        return 8, big, neg, low, hi     # an edge step with no edge sub-cluster: leave it to the scan
    vb = CW_VST + ((lvl * 2 + a) * V + v) * 6
    cw[_ix(vb)] = 1
    cw[_ix(vb + 1)] = ce
    cw[_ix(vb + 2)] = 0     # padded with zero occurrences: fixed-length sums below
    cw[_ix(vb + 3)] = 0
    cw[_ix(vb + 4)] = 0
    cw[_ix(vb + 5)] = 0
    need = CW_NEED + (lvl + 1) * V + v
    if ce != 0:
        cw[_ix(need)] = 1
    low = min(low, g)
    w = g
    wf = float(g) if lvl == inner else 1.0
    g1 = g2 = 0
    nv = 1
    if steady > 0:
        g = g_st
        if g < 0:
            neg = True
        if g > 0:
            low = min(low, g)
            cw[_ix(vb + 2)] = steady
            nv = 2
            if lvl == inner:
                w += steady * g
                wf += float(steady) * float(g)
            else:
                wf += float(steady)
        g1 = max(g, 0)
    if has_edge:
        g = g_ed
        if g < 0:
            neg = True
        if g > 0:
            ce = _edge_variant(kind, nedge, eee)
            if ce < 0:
                return 8, big, neg, low, hi
            if ce != 0:
                cw[_ix(need)] = 1
            low = min(low, g)
            cw[_ix(vb + 2 * nv)] = 1
            cw[_ix(vb + 2 * nv + 1)] = ce
            if lvl == inner:
                w += g
                wf += float(g)
            else:
                wf += 1.0
        g2 = max(g, 0)
    if lvl == 0 and a == 0:
        gs = gst[0, 0, _ix(j)]
        gs[0] = g_ie if ie else g_in
        if steady > 0:
            gs[1] = g1
            if has_edge:
                gs[2] = g2
        elif has_edge:
            gs[1] = g2
    hi = max(hi, wf)
    if lvl == inner:
        cw[_ix(tin + v * 2 + a)] = w                # term 0: the partial sums
        cw[_ix(tin + (V + v) * 2 + a)] = 1          # term 1: the latency
    return -1 if stale else 0, big, neg, low, hi


@njit(cache=True, _nrt=False, inline="always")
def directive_pass(lvl, inner, v, j, kind, size, ofs, dim0, mpf, mb, nsub, nedge, in0, ino, sp_out, cst, cnst, gst,
                   cw, tin, acc):
    """The top-down step of one directive (row j of level lvl, dimension v, over a dimension of size dim0 and, if
    the level above hands it down, the edge size): its states per variant into cw, the top level's also into
    cst / cnst / gst. acc: the level's (directives with a negative factor, occupancy bound, runtime bound, the
    innermost level's partial-sum lower bound, the dimensions of TemporalMaps that step without new elements) so
    far. Returns (code, acc updated); code 0, or the closed form's code
    of the condition that fails. Shared by closed_form and regular.regular_form."""
    V = _V
    g_in, g_ie, g_st, g_ed = psum_choices(kind, v, mpf, mb, nedge, ino, sp_out)
    no_new = kind == KIND_TEMPORAL and mpf[_ix(mb + MP_UNIQUE * V + v)] == 0
    no_input = in0 and mpf[_ix(mb + MP_MAPPED_EDGE * V + v)] < 1 and (kind == KIND_TEMPORAL or nedge == 1)
    code, big, neg, low, hi = _variant_pass(0, dim0, lvl, inner, v, j, kind, size, ofs, mpf, mb, nsub, nedge, no_new,
                                            no_input, g_in, g_ie, g_st, g_ed, cst, cnst, gst, cw, tin, 1, False,
                                            9223372036854775807, 0.0)
    if code > 0:
        return code, acc
    stale = code < 0
    if lvl == 0 or cw[_ix(CW_NEED + lvl * V + v)] == 0:
        cw[_ix(CW_HAS + (lvl * 2 + 1) * V + v)] = 0     # no edge size handed down
    else:
        code, big, neg, low, hi = _variant_pass(1, mpf[_ix(mb - 4 * V + MP_MAPPED_EDGE * V + v)], lvl, inner, v, j,
                                                kind, size, ofs, mpf, mb, nsub, nedge, no_new, no_input, g_in, g_ie,
                                                g_st, g_ed, cst, cnst, gst, cw, tin, big, neg, low, hi)
        if code > 0:
            return code, acc
        stale = stale or code < 0
    negs, occ_bound, level_bound, lb_psum, pend = acc
    return 0, (negs + neg, occ_bound * big, level_bound * hi, lb_psum * low if lvl == inner else lb_psum,
               pend | (1 << v) if stale else pend)


@njit(cache=True, _nrt=False, inline="always")
def no_new_rejects(lvl: int, pend: int, dmask: int, tb0: int, tb1: int, cw: np.ndarray) -> bool:
    """Whether a case of level lvl may be one MAESTRO rejects: its innermost changing directive a TemporalMap
    that steps without new elements (pend: their dimensions) over an input tensor that no later directive in the
    loop order holds whole (init state not unrolled, in every size it is handed; engine.factor_tables' F_ERR).
    Then the scan decides (code 6); otherwise the steps only move fewer elements, within the closed form's bounds."""
    V = _V
    while pend != 0:
        v = trailing_zeros(pend)
        pend &= pend - 1
        jv = cw[_ix(CW_J + lvl * V + v)]
        for t in range(2):
            tb = tb0 if t == 0 else tb1
            if (tb >> v) & 1 == 0:
                continue
            held = False
            rest = dmask & tb
            while rest != 0:
                w = trailing_zeros(rest)
                rest &= rest - 1
                if cw[_ix(CW_J + lvl * V + w)] > jv and cw[_ix(CW_UNR + lvl * 2 * V + w)] == 0 and (
                        cw[_ix(CW_HAS + (lvl * 2 + 1) * V + w)] == 0 or cw[_ix(CW_UNR + (lvl * 2 + 1) * V + w)] == 0):
                    held = True
            if not held:
                return True
    return False


@njit(cache=True, _nrt=False, inline="always")
def level_code(moved0: float, moved1: float, moved2: float, bw: float, acc, lvl: int, dmask: int, tb0: int,
               tb1: int, cw: np.ndarray) -> int:
    """The closed form's verdict on a level after its directives (acc: what directive_pass accumulated; cw[CW_J +
    lvl * V + v]: the level's loop order): 0, or the code of the bound it breaks."""
    negs, occ_bound, _, _, pend = acc
    if moved0 + moved1 > bw or moved2 > bw:
        return 4        # a transfer may need more than one NoC send: the max in the runtime may differ
    if occ_bound > _I32:
        return 9        # MAESTRO's int occurrence counts would wrap
    if negs > 1:
        return 18       # two negative factors make a positive product, a case MAESTRO counts as valid
    if pend != 0 and no_new_rejects(lvl, pend, dmask, tb0, tb1, cw):
        return 6        # steps without new elements: a case may be one MAESTRO rejects, the scan knows
    return 0


@njit(cache=True, _nrt=False)
def closed_form(nlev, conv, hw, top_dims, tsz, ld, ln, linfo, lmap, lp, tv, tn, tm, tmb, cst, cnst, gst, cw, ws,
                out) -> int:
    """Runtime, counts and buffer sizes of one completed mapping in closed form (0), or why not (> 0).

    cst[0, 0] / cnst[0, 0]: the top level's directives' states, gst[0, 0] their partial-sum factors (0: the
    state's cases produce nothing and MAESTRO skips them), for _top_counts; cw: the flat workspace above (the
    passes visit directives by dimension, so branches come in the same order for every mapping); tsz the
    layer's tensor sizes (kernel._tensor_sizes, once per batch); tmb the dimension masks of input, filter and
    output (tensor_bits, once per batch). ld and lmap are read flat: their layout is kernel._level_tables'.
    """
    V = _V
    lat = hw[HW_NOC_LATENCY]
    bw = float(hw[HW_NOC_BW])
    if hw[HW_SIMD_LANES] != 1 or lat < 0:
        return 1
    if ld.shape[1] != MAX_LEVEL_DIRS or ld.shape[2] != 4 or lmap.shape[1] != 4 or lmap.shape[2] != V:
        return 19           # tables of another layout than kernel._level_tables'
    ldf = ld.reshape(ld.size)
    mpf = lmap.reshape(lmap.size)
    code, dmask = _level_dims(nlev, ldf, ln, lp, cw)
    if code != 0:
        return code
    tb0 = tmb[0]
    tb1 = tmb[1]
    tbo = tmb[2]
    # ---- top-down: every directive's states for the dimension sizes it can be handed, and their factors ----
    for q in range(CW_NEED + V, CW_NEED + (nlev + 1) * V):
        cw[_ix(q)] = 0
    inner = nlev - 1
    lb_psum = 1         # a lower bound of the innermost level's (valid) partial sums
    bound = 1.0         # an upper bound of every runtime factor (all factors are >= 1): no int64 overflow
    vol0 = vol1 = vol2 = 1
    tin = CW_T + (inner & 1) * MAX_TERMS * V * 2     # the innermost level's runtime terms
    for lvl in range(nlev):
        nsub = linfo[lvl, LI_NSUB]
        nedge = linfo[lvl, LI_NEDGE]
        mb = lvl * 4 * V            # this level's reuse map in mpf; the level above's at mb - 4 V
        sp_out = lp[lvl, LP_TMASK + T_OUTPUT] != 0
        cw[_ix(CW_SPV + lvl)] = ldf[_ix((lvl * MAX_LEVEL_DIRS + lp[lvl, LP_SP0]) * 4 + 1)]
        cw[_ix(CW_NE + lvl)] = nedge
        # (directives with negative partial-sum factors (Y/X edge tiles below R/S), occupancy bound, runtime bound,
        # lb_psum, TemporalMaps without new elements): what directive_pass accumulates over the level
        acc = (0, 1.0, 1.0, lb_psum, 0)
        moved0 = moved1 = moved2 = float(max(nsub, nedge, 1))    # largest transfer per tensor (see below)
        _column_max(mpf, mb, cw)
        for v in range(V):
            if (dmask >> v) & 1 == 0:
                continue
            j = cw[_ix(CW_J + lvl * V + v)]
            lj = (lvl * MAX_LEVEL_DIRS + j) * 4
            kind = ldf[_ix(lj)]
            size = ldf[_ix(lj + 2)]
            ofs = ldf[_ix(lj + 3)]
            in0 = (tb0 >> v) & 1 != 0
            ino = (tbo >> v) & 1 != 0
            m = float(_largest_count(cw, v, conv))
            moved0 *= m if in0 else 1.0
            moved1 *= m if (tb1 >> v) & 1 != 0 else 1.0
            moved2 *= m if ino else 1.0
            if lvl == inner:    # the L1 tiles: products of the innermost level's mapped counts
                mv = mpf[_ix(mb + MP_MAPPED * V + v)]
                vol0 *= mv if in0 else 1
                vol1 *= mv if (tb1 >> v) & 1 != 0 else 1
                vol2 *= mv if ino else 1
            dim0 = top_dims[v] if lvl == 0 else mpf[_ix(mb - 4 * V + MP_MAPPED * V + v)]
            code, acc = directive_pass(lvl, inner, v, j, kind, size, ofs, dim0, mpf, mb, nsub, nedge, in0, ino,
                                       sp_out, cst, cnst, gst, cw, tin, acc)
            if code != 0:
                return code
        code = level_code(moved0, moved1, moved2, bw, acc, lvl, dmask, tb0, tb1, cw)
        if code != 0:
            return code
        lb_psum = acc[3]
        bound *= acc[2] * (1.0 + lat)     # R_l <= bound_l x R_(l+1) + lat
    if bound > LIMIT or lb_psum < lat:
        return 11           # overflow risk, or a compute delay below the NoC latency (the max would differ)
    return finish_closed(nlev, dmask, lat, lb_psum, hw, tsz, ld, ln, linfo, lmap, lp, tm, cst, cnst, gst, cw, ws,
                         vol0, vol1, vol2, out)


@njit(cache=True, _nrt=False, inline="always")
def finish_closed(nlev, dmask, lat, lb_psum, hw, tsz, ld, ln, linfo, lmap, lp, tm, cst, cnst, gst, cw, ws, vol0, vol1,
                  vol2, out) -> int:
    """After the top-down pass (closed_form's, or regular.regular_form's): the runtime bottom-up, the top level's
    counts, the off-chip check and the result row; 0, or the code of the failed condition.

    lb_psum: a lower bound of the innermost level's valid partial sums; vol0..2: the innermost tiles per tensor."""
    V = _V
    inner = nlev - 1
    # ---- bottom-up: the runtime of every level as a sum of products over dimensions ----
    # term k's coefficient: 1 for the partial sums (k = 0), the NoC latency for every level's all-init case
    nterm = 2
    lb_comp = lb_psum       # a lower bound of the compute delay of any valid case of the top level
    b = inner & 1
    for lvl in range(inner - 1, -1, -1):
        c = b               # the level below's terms
        b = lvl & 1
        tcb = CW_T + c * MAX_TERMS * V * 2
        tbb = CW_T + b * MAX_TERMS * V * 2
        nedge = cw[_ix(CW_NE + lvl)]
        slower = 0          # which of edge-edge (1) and plain (0) sub-clusters is slower in every case
        if nedge > 1:
            v_sp = cw[_ix(CW_SPV + lvl)]
            both = False
            for a in range(2):
                vb = CW_VST + ((lvl * 2 + a) * V + v_sp) * 6
                if cw[_ix(vb + 1)] == 2 or cw[_ix(vb + 3)] == 2 or cw[_ix(vb + 5)] == 2:
                    both = True
            if both:
                le = True
                ge = True
                for k in range(nterm):
                    t0 = cw[_ix(tcb + (k * V + v_sp) * 2)]
                    t1 = cw[_ix(tcb + (k * V + v_sp) * 2 + 1)]
                    if t1 > t0:
                        le = False
                    if t1 < t0:
                        ge = False
                if not le and not ge:
                    return 13   # which sub-cluster is slower depends on the case: leave it to the scan
                slower = 0 if le else 1
        if lvl == 0:
            # a lower bound of the top level's compute delays: the sub-level's runtime, term by term
            lb_comp = 0
            for k in range(nterm):
                p = 1 if k == 0 else lat
                rest = dmask
                while rest != 0:
                    v = trailing_zeros(rest)
                    rest &= rest - 1
                    lo = cw[_ix(tcb + (k * V + v) * 2)]
                    if cw[_ix(CW_NEED + V + v)] == 1:
                        lo = min(lo, cw[_ix(tcb + (k * V + v) * 2 + 1)])
                    p *= lo
                lb_comp += p
        rest = dmask        # the level's dimensions, by their bits: no pass over absent ones
        while rest != 0:
            v = trailing_zeros(rest)
            rest &= rest - 1
            for a in range(2):
                if cw[_ix(CW_HAS + (lvl * 2 + a) * V + v)] == 0:
                    continue
                vb = CW_VST + ((lvl * 2 + a) * V + v) * 6
                # three states, missing ones with zero occurrences: no loop whose length varies per mapping
                o0 = cw[_ix(vb)]
                o1 = cw[_ix(vb + 2)]
                o2 = cw[_ix(vb + 4)]
                e0 = cw[_ix(vb + 1)]
                e1 = cw[_ix(vb + 3)]
                e2 = cw[_ix(vb + 5)]
                e0 = slower if e0 == 2 else e0
                e1 = slower if e1 == 2 else e1
                e2 = slower if e2 == 2 else e2
                for k in range(nterm):
                    tk = tcb + (k * V + v) * 2
                    cw[_ix(tbb + (k * V + v) * 2 + a)] = o0 * cw[_ix(tk + e0)] + o1 * cw[_ix(tk + e1)] + \
                        o2 * cw[_ix(tk + e2)]
                cw[_ix(tbb + (nterm * V + v) * 2 + a)] = 1
        nterm += 1          # this level's all-init case: compute + ingress delay (the latency), once per shape
    runtime = 0
    for k in range(nterm):
        p = 1 if k == 0 else lat
        rest = dmask
        while rest != 0:
            v = trailing_zeros(rest)
            rest &= rest - 1
            p *= cw[_ix(CW_T + (k * V + v) * 2)]
        runtime += p
    if runtime <= 0:
        return 15
    # ---- the top level's counts ----
    if not _top_counts(tsz, ld, ln, linfo, lmap, lp, tm, cst, cnst, gst, ws, out):
        return 16
    offchip = hw[HW_OFFCHIP_BW]
    in_off = cdiv(cdiv(out[CF_UP_SZ] + out[CF_UP_SZ + 1], offchip), 2)
    out_off = cdiv(cdiv(out[CF_UP_SZ + T_OUTPUT], offchip), 2)
    if in_off > lb_comp or out_off > lb_comp:
        return 17
    out[CF_RUNTIME] = runtime
    out[CF_DN_SZ] = 2 * vol0
    out[CF_DN_SZ + 1] = 2 * vol1
    out[CF_DN_SZ + T_OUTPUT] = 2 * vol2
    return 0


# ws rows 0..D-1, one per active directive (more than one state), over its valid states: occ x ingress factor
# before the changing directive (W_LT + 4 t + x) and the occurrences of the non-init ones (W_CHG); the ingress of
# a case whose innermost changing directive it is (W_EQ + 4 t + x)
W_LT, W_CHG, W_EQ = 0, 8, 9
NW = 24
# rows D + k, per state k of the spatial directive: the weights of the 2 x 4 ingress variants (S_IN); if it is
# active, its occurrences, type factors (x = 0-3 output variants o0..o3, 4 p0 o0, 5 p2 o2, 6 p3 o4) and ingress
# factors before the changing directive
S_IN, S_OCC, S_TF, S_LT = 0, 8, 9, 16
# row D + 3: the all-init case's ingress (C_Z) and output variants (C_INIT); per type x, the product over the
# directives but the spatial one of their occ x type factor sums, over all states (C_ALL + x) and over the valid
# ones (C_VAL + x - 4, MAC types only); the spatial directive's active index (C_ASP, -1 if it has one state)
C_Z, C_INIT, C_ALL, C_VAL, C_ASP = 0, 8, 12, 19, 22


@njit(cache=True, _nrt=False)
def _top_counts(tsz, ld, ln, linfo, lmap, lp, tm, cst, cnst, gst, ws, out) -> bool:
    """The top level's access counts, MACs and L2 buffer sizes as sums over its cases, in closed form.

    Egress and output L1 traffic count every case; ingress and MACs only the cases with partial sums
    (gst != 0), as the scan does. Returns False where a count would need the scan (rejections, negatives).
    tsz: the layer's tensor sizes (the L2 fills and the output drain; the same for every mapping).
    """
    D = ws.shape[0] - 4
    nsub = linfo[0, LI_NSUB]
    nedge = linfo[0, LI_NEDGE]
    spd = lp[0, LP_SP0]
    na = _top_sums(ld[0], ln[0], lmap[0], nedge, tm, cst[0, 0], cnst[0, 0], gst[0, 0], spd, ws)
    if na < 0:
        return False        # MAESTRO rejects a case of this level: the scan reports it
    cr = ws[D + 3]
    asp = cr[C_ASP]
    sps = cst[0, 0, spd]
    gsp = gst[0, 0, spd]
    nsps = cnst[0, 0, spd]
    msk_out = lp[0, LP_TMASK + T_OUTPUT] != 0
    msk0 = lp[0, LP_TMASK] != 0
    msk1 = lp[0, LP_TMASK + 1] != 0
    egress = 0
    eg0 = 0              # egress of the all-init case (the L2 output buffer)
    dn_o = 0             # MACs of every case (output L1 traffic)
    num_comp = 0         # MACs of the cases with partial sums
    for k in range(nsps):
        # per spatial state: how many sub-clusters take each variant of each count
        e = _edge(sps, k)
        ee = sps[k, ST_SP_EDGE_EDGE] == 1
        wk = ws[D + k]
        c0, c1, c2, c3 = variant_weights(msk0, e, ee and msk0, nsub, nedge)
        _put4(wk, S_IN, c0, c1, c2, c3)
        c0, c1, c2, c3 = variant_weights(msk1, e, ee and msk1, nsub, nedge)
        _put4(wk, S_IN + 4, c0, c1, c2, c3)
        c0, c1, c2, c3 = variant_weights(msk_out, e, ee and msk_out, nsub, nedge)
        m0, m1, m2, m3 = variant_weights(True, e, ee, nsub, nedge)     # MACs: first + other, edge-edge, other ee
        m0 += m1
        if k == 0:
            eg0 = c0 * cr[C_INIT] + c1 * cr[C_INIT + 1] + c2 * cr[C_INIT + 2] + c3 * cr[C_INIT + 3]
        if asp >= 0:
            occ = wk[S_OCC]
            c0 *= occ * wk[S_TF]
            c1 *= occ * wk[S_TF + 1]
            c2 *= occ * wk[S_TF + 2]
            c3 *= occ * wk[S_TF + 3]
            m0 *= occ * wk[S_TF + 4]
            m2 *= occ * wk[S_TF + 5]
            m3 *= occ * wk[S_TF + 6]
        egress += c0 * cr[C_ALL] + c1 * cr[C_ALL + 1] + c2 * cr[C_ALL + 2] + c3 * cr[C_ALL + 3]
        dn_o += m0 * cr[C_ALL + 4] + m2 * cr[C_ALL + 5] + m3 * cr[C_ALL + 6]
        if gsp[k] != 0:
            num_comp += m0 * cr[C_VAL] + m2 * cr[C_VAL + 1] + m3 * cr[C_VAL + 2]
    # ingress per input tensor, summed by innermost changing directive (later ones in their init state). Every
    # loop has a fixed trip count and selects instead of branches: the spatial directive's place in the loop
    # order and the number of active directives differ from mapping to mapping, and branching on them
    # mispredicted about as often as it ran
    for t in range(2):
        msk = msk0 if t == 0 else msk1
        wc = S_IN + 4 * t
        first = 0
        for x in range(4):
            first += ws[D, wc + x] * cr[C_Z + 4 * t + x]
        if first < 1:
            return False
        tot = first
        for x in range(4 if msk else 1):    # a tensor the spatial dimension does not index has one variant
            cx = ws[D, wc + x]
            # the spatial directive's sums over its valid states: non-init ones (s), and x LT (s_pre)
            s = 0
            s_pre = 0
            for k in range(3):
                d = ws[D + k, wc + x] * ws[D + k, S_OCC] if (k < nsps and gsp[k] != 0) else 0
                s += d if k > 0 else 0
                s_pre += d * ws[D + k, S_LT + 4 * t + x]
            pre = 1          # over the active directives before l, but the spatial one: sum of occ x LT
            mult = cx        # cx, or the spatial directive's weighted sum once it is before l
            for l in range(na):
                eq = ws[l, W_EQ + 4 * t + x]
                is_sp = l == asp
                tot += eq * pre * (s if is_sp else ws[l, W_CHG] * mult)
                pre *= 1 if is_sp else ws[l, W_LT + 4 * t + x]
                mult = s_pre if is_sp else mult
        out[CF_UP_RD + t] = tot
        out[CF_DN_WR + t] = tot
        out[CF_DN_RD + t] = num_comp
        out[CF_UP_SZ + t] = 2 * first
        out[CF_UP_WR + t] = tsz[t]
    out[CF_UP_RD + T_OUTPUT] = tsz[T_OUTPUT]
    out[CF_UP_WR + T_OUTPUT] = egress
    out[CF_DN_RD + T_OUTPUT] = dn_o
    out[CF_DN_WR + T_OUTPUT] = dn_o
    out[CF_UP_SZ + T_OUTPUT] = 2 * eg0
    out[CF_MACS] = num_comp
    return num_comp > 0 and egress >= 0 and dn_o > 0


@njit(cache=True, _nrt=False, inline="always")
def _top_sums(L, n, mp, nedge, tm, stl, nstl, gl, spd, ws) -> int:
    """The ws rows of the top level (engine.factor_tables' factors, summed per directive as they are made).

    Returns the number of active directives, or -1 where MAESTRO rejects a case (a changing temporal
    directive that brings no new elements).
    """
    D = ws.shape[0] - 4
    # per type, the product over the directives but the spatial one of occ x factor over all / valid states
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = 1
    v4 = v5 = v6 = 1
    i0 = i1 = i2 = i3 = 1                           # the all-init case's output variants
    q0 = q1 = q2 = q3 = q4 = q5 = q6 = q7 = 1       # single-state ingress factors before a changing directive
    z0 = z1 = z2 = z3 = z4 = z5 = z6 = z7 = 1       # the all-init case's ingress
    na = 0
    asp = -1
    for j in range(n):
        v = L[j, 1]
        kind = L[j, 0]
        tmo = tm[T_OUTPUT, v]
        t0 = tm[0, v]
        t1 = tm[1, v]
        stj = stl[j]
        e0 = _edge(stj, 0)
        ns = nstl[j]
        if kind == KIND_TEMPORAL:
            # a TemporalMap's factors are the same in every variant (state_factors): one sum per kind of factor
            fo, fpo, fi, fa, fb, so, spo, wpo, ga, gb, chg = _temporal_sums(v, mp, tmo, t0, t1, stj, ns, gl[j])
            # the all-init case's ingress (init_ingress): the init state's factor
            z0, z1, z2, z3, z4, z5, z6, z7 = _scale_init(z0, z1, z2, z3, z4, z5, z6, z7, t0, t1, fi, fi, fi, fi)
            i0 *= fo
            i1 *= fo
            i2 *= fo
            i3 *= fo
            if ns == 1:
                a0 *= fo
                a1 *= fo
                a2 *= fo
                a3 *= fo
                a4 *= fpo
                a5 *= fpo
                a6 *= fpo
                v4 *= fpo
                v5 *= fpo
                v6 *= fpo
                q0 *= fa
                q1 *= fa
                q2 *= fa
                q3 *= fa
                q4 *= fb
                q5 *= fb
                q6 *= fb
                q7 *= fb
                continue
            a0 *= so
            a1 *= so
            a2 *= so
            a3 *= so
            a4 *= spo
            a5 *= spo
            a6 *= spo
            v4 *= wpo
            v5 *= wpo
            v6 *= wpo
            wl = ws[na]
            _put8(wl, W_LT, ga, ga, ga, ga, gb, gb, gb, gb)
            wl[W_CHG] = chg
            _put8(wl, W_EQ, q0, q1, q2, q3, q4, q5, q6, q7)
            na += 1
            continue
        f0, f1, f2, f3 = init_ingress(kind, e0, nedge, mp[MP_MAPPED, v], mp[MP_MAPPED_EDGE, v])
        z0, z1, z2, z3, z4, z5, z6, z7 = _scale_init(z0, z1, z2, z3, z4, z5, z6, z7, t0, t1, f0, f1, f2, f3)
        if ns == 1:
            o0, o1, o2, o3, o4, p0, p1, p2, p3, x0, x1, x2, x3, y0, y1, y2, y3 = state_factors(
                kind, v, mp, nedge, tmo, t0, t1, POS_INIT, e0)
            r4 = p0 * o0
            r5 = p2 * o2
            r6 = p3 * o4
            a0 *= o0
            a1 *= o1
            a2 *= o2
            a3 *= o3
            a4 *= r4
            a5 *= r5
            a6 *= r6
            v4 *= r4
            v5 *= r5
            v6 *= r6
            i0 *= o0
            i1 *= o1
            i2 *= o2
            i3 *= o3
            q0 *= x0
            q1 *= x1
            q2 *= x2
            q3 *= x3
            q4 *= y0
            q5 *= y1
            q6 *= y2
            q7 *= y3
            continue
        wl = ws[na]
        sp = j == spd
        if sp:
            asp = na
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = 0        # all states
        w4 = w5 = w6 = 0                            # valid states
        g0 = g1 = g2 = g3 = g4 = g5 = g6 = g7 = 0   # valid states' ingress before a changing directive
        chg = 0
        for k in range(ns):
            o0, o1, o2, o3, o4, p0, p1, p2, p3, x0, x1, x2, x3, y0, y1, y2, y3 = state_factors(
                kind, v, mp, nedge, tmo, t0, t1, stj[k, ST_POS], _edge(stj, k))
            occ = stj[k, ST_OCC]
            r4 = p0 * o0
            r5 = p2 * o2
            r6 = p3 * o4
            s0 += occ * o0
            s1 += occ * o1
            s2 += occ * o2
            s3 += occ * o3
            s4 += occ * r4
            s5 += occ * r5
            s6 += occ * r6
            if gl[j, k] != 0:
                w4 += occ * r4
                w5 += occ * r5
                w6 += occ * r6
                g0 += occ * x0
                g1 += occ * x1
                g2 += occ * x2
                g3 += occ * x3
                g4 += occ * y0
                g5 += occ * y1
                g6 += occ * y2
                g7 += occ * y3
                if k > 0:
                    chg += occ
            if k == 0:
                i0 *= o0
                i1 *= o1
                i2 *= o2
                i3 *= o3
            if sp:
                sk = ws[D + k]
                sk[S_OCC] = occ
                _put7(sk, S_TF, o0, o1, o2, o3, r4, r5, r6)
                _put8(sk, S_LT, x0, x1, x2, x3, y0, y1, y2, y3)
        if not sp:
            a0 *= s0
            a1 *= s1
            a2 *= s2
            a3 *= s3
            a4 *= s4
            a5 *= s5
            a6 *= s6
            v4 *= w4
            v5 *= w5
            v6 *= w6
        _put8(wl, W_LT, g0, g1, g2, g3, g4, g5, g6, g7)
        wl[W_CHG] = chg
        _put8(wl, W_EQ, q0, q1, q2, q3, q4, q5, q6, q7)    # the single-state prefix, completed below
        na += 1
    cr = ws[D + 3]
    _put8(cr, C_Z, z0, z1, z2, z3, z4, z5, z6, z7)
    _put4(cr, C_INIT, i0, i1, i2, i3)
    _put7(cr, C_ALL, a0, a1, a2, a3, a4, a5, a6)
    cr[C_VAL] = v4
    cr[C_VAL + 1] = v5
    cr[C_VAL + 2] = v6
    cr[C_ASP] = asp
    # suffix pass: ingress when an active directive is the innermost changing one (later ones in their init state)
    q0 = q1 = q2 = q3 = q4 = q5 = q6 = q7 = 1
    ini0 = False
    ini1 = False
    l = na - 1
    for j in range(n - 1, -1, -1):
        v, kind, m, me, u, ue = directive_counts(L, j, mp)
        t0 = tm[0, v] != 0
        t1 = tm[1, v] != 0
        if l >= 0 and nstl[j] > 1:
            wl = ws[l]
            if kind == KIND_TEMPORAL and u == 0 and ((t0 and not ini0) or (t1 and not ini1)):
                return -1
            f0, f1, f2, f3 = change_ingress(kind, ini0, m, me, u, ue)
            if t0:
                _mul4(wl, W_EQ, f0 * q0, f1 * q1, f2 * q2, f3 * q3)
            else:
                _put4(wl, W_EQ, 0, 0, 0, 0)
            f0, f1, f2, f3 = change_ingress(kind, ini1, m, me, u, ue)
            if t1:
                _mul4(wl, W_EQ + 4, f0 * q4, f1 * q5, f2 * q6, f3 * q7)
            else:
                _put4(wl, W_EQ + 4, 0, 0, 0, 0)
            l -= 1
        f0, f1, f2, f3 = suffix_ingress(kind, _edge(stl[j], 0), m, me, u, ue)
        ini = stl[j, 0, ST_UNROLL] == 0
        if t0:
            q0 *= f0
            q1 *= f1
            q2 *= f2
            q3 *= f3
            ini0 = ini0 or ini
        if t1:
            q4 *= f0
            q5 *= f1
            q6 *= f2
            q7 *= f3
            ini1 = ini1 or ini
    return na


@njit(cache=True, _nrt=False, inline="always")
def _scale_init(z0, z1, z2, z3, z4, z5, z6, z7, t0, t1, f0, f1, f2, f3):
    """The all-init case's ingress of input (z0..z3) and filter (z4..z7) times a directive's factors (f0..f3),
    for the tensors its dimension indexes (t0, t1)."""
    if t0 != 0:
        z0 *= f0
        z1 *= f1
        z2 *= f2
        z3 *= f3
    if t1 != 0:
        z4 *= f0
        z5 *= f1
        z6 *= f2
        z7 *= f3
    return z0, z1, z2, z3, z4, z5, z6, z7


@njit(cache=True, _nrt=False, inline="always")
def _temporal_sums(v, mp, tmo, t0, t1, stj, ns, gj):
    """A TemporalMap's factors for _top_sums, where state_factors gives one value per kind of factor in every
    variant. Its init state's output, partial-sum x output and ingress factors (fo, fpo, fi; per input tensor
    fa, fb: 1 where the tensor is not indexed by v); over its states the sums of occ x output factor (so) and
    occ x partial-sum x output factor (spo); over its valid states (gj != 0) those of occ x partial-sum x
    output factor (wpo), occ x ingress factor (ga, gb), and the occurrences of the non-init ones (chg)."""
    m = mp[MP_MAPPED, v]
    me = mp[MP_MAPPED_EDGE, v]
    a = output_dim(v)
    mo = mp[MP_MAPPED, a] if tmo != 0 else 1        # output factor, plain / edge tile
    meo = mp[MP_MAPPED_EDGE, a] if tmo != 0 else 1
    pm = 1 if tmo != 0 else m                       # partial-sum factor, plain / edge tile
    pme = 1 if tmo != 0 else me
    e = _edge(stj, 0)
    fo = meo if e else mo
    fpo = (pme if e else pm) * fo
    fi = me if e else m                             # the init state's ingress factor
    fa = fi if t0 != 0 else 1
    fb = fi if t1 != 0 else 1
    occ = stj[0, ST_OCC]
    so = occ * fo
    spo = occ * fpo
    valid = gj[0] != 0
    wpo = occ * fpo if valid else 0
    ga = occ * fa if valid else 0
    gb = occ * fb if valid else 0
    sa = m if t0 != 0 else 1                        # a steady or edge state's ingress factor: the plain tile's
    sb = m if t1 != 0 else 1
    chg = 0
    for k in range(1, ns):
        occ = stj[k, ST_OCC]
        e = _edge(stj, k)
        o = meo if e else mo
        po = (pme if e else pm) * o
        so += occ * o
        spo += occ * po
        if gj[k] != 0:
            wpo += occ * po
            ga += occ * sa
            gb += occ * sb
            chg += occ
    return fo, fpo, fi, fa, fb, so, spo, wpo, ga, gb, chg


@njit(cache=True, _nrt=False, inline="always")
def _put4(row, b, x0, x1, x2, x3) -> None:
    """Store four values from b on (the sums are kept in registers and stored once)."""
    row[b] = x0
    row[b + 1] = x1
    row[b + 2] = x2
    row[b + 3] = x3


@njit(cache=True, _nrt=False, inline="always")
def _mul4(row, b, x0, x1, x2, x3) -> None:
    row[b] *= x0
    row[b + 1] *= x1
    row[b + 2] *= x2
    row[b + 3] *= x3


@njit(cache=True, _nrt=False, inline="always")
def _put7(row, b, x0, x1, x2, x3, x4, x5, x6) -> None:
    _put4(row, b, x0, x1, x2, x3)
    row[b + 4] = x4
    row[b + 5] = x5
    row[b + 6] = x6


@njit(cache=True, _nrt=False, inline="always")
def _put8(row, b, x0, x1, x2, x3, x4, x5, x6, x7) -> None:
    _put4(row, b, x0, x1, x2, x3)
    _put4(row, b + 4, x4, x5, x6, x7)

