"""Score mode for regular mappings: level completion and the closed form in one pass over the directives.

Why: a mapping whose every level maps each dimension of the layer exactly once, with one SpatialMap (what the
genome decoder and random search write), needs none of build_levels' general completion (inherited and
unrolled directives, Y'/X' conversion, repeated dimensions, level plans), and the closed form needs none of the
tables in between. Here one pass per level completes it (strided tiles rescaled, reuse counts, edge clusters)
and runs closed.py's top-down pass on registers and a small flat workspace; the bottom-up runtime and the top
level's counts are closed.py's own. Per mapping this is about half the work of build_levels + closed_form.

The numbers are closed_form's, bit for bit: the same identities under the same conditions, checked in the
same order (codes as in closed.py). Anything else returns a non-zero code (20 and up: not a regular mapping)
and kernel.analyze_batch_core takes the general path, which also produces every rejection status.
tests/test_analysis_regular.py compares the two on fuzzed, GA-like and benchmark populations.
"""
from __future__ import annotations

from ..jit import njit

from ..arrays import (DIM_R, DIM_S, DIM_X, DIM_XP, DIM_Y, DIM_YP, HW_NOC_BW, HW_NOC_LATENCY, HW_NUM_UNITS,
                      HW_SIMD_LANES, KIND_SPATIAL, KIND_TEMPORAL, LAYER_DIMS, LAYER_STRIDE_X, LAYER_STRIDE_Y,
                      MAX_LEVELS, NUM_DIMS)
from .closed import (CW_J, CW_NE, CW_NEED, CW_SPV, CW_T, LIMIT, MAX_TERMS, _column_max, _largest_count,
                     directive_pass, finish_closed, level_code)
from .cmath import cdiv
from .levels import (LI_NEDGE, LI_NSUB, LP_SP0, LP_TMASK, MP_MAPPED, MP_MAPPED_EDGE, MP_UNIQUE, MP_UNIQUE_EDGE,
                     _ix, breaks_parse, edge_count, reuse_counts)
from .traffic import T_OUTPUT

_V = NUM_DIMS
# rw (int64, flat), per (level l, dimension v) at l * V + v: the directive's kind, tile size and offset (strided
# tiles rescaled) and the level's dimension table (build_levels' sdim); its row in the level's loop order goes to
# closed_form's cw[CW_J + l * V + v], where the closed form's passes read it
RW_KIND = 0
RW_SIZE = RW_KIND + MAX_LEVELS * _V
RW_OFS = RW_SIZE + MAX_LEVELS * _V
RW_SD = RW_OFS + MAX_LEVELS * _V
RW_JSP = RW_SD + MAX_LEVELS * _V     # per level: the row of its SpatialMap
NRW = RW_JSP + MAX_LEVELS


@njit(cache=True, _nrt=False, inline="always")
def _parse_level(layer, dl, lvl, dmask, rw, cw) -> tuple[int, int]:
    """The level's directives into rw (their rows into cw); (row of its SpatialMap, its dimension), or (-1, code) when the level is
    not regular or breaks a parser rule (the general path then reports it)."""
    full_r = layer[LAYER_DIMS + DIM_R]
    full_s = layer[LAYER_DIMS + DIM_S]
    base = lvl * _V
    seen = 0
    nsp = 0
    jsp = 0
    vsp = 0
    n = 0
    for s in range(dl.shape[1]):
        kind = dl[lvl, s, 0]
        if kind == 0:
            continue
        v = dl[lvl, s, 1]
        size = dl[lvl, s, 2]
        ofs = dl[lvl, s, 3]
        if breaks_parse(kind, v, size, ofs, full_r, full_s):
            return -1, 21
        bit = 1 << v
        if (seen & bit) != 0:
            return -1, 22
        seen |= bit
        sp = kind == KIND_SPATIAL
        nsp += sp
        jsp = n if sp else jsp
        vsp = v if sp else vsp
        p = _ix(base + v)
        rw[RW_KIND + p] = kind
        rw[RW_SIZE + p] = size
        rw[RW_OFS + p] = ofs
        cw[CW_J + p] = n
        n += 1
    if seen != dmask or nsp != 1:
        return -1, 22
    return jsp, vsp


@njit(cache=True, _nrt=False, inline="always")
def _rescale(rw, p, stride, window, inner) -> None:
    """Strided convolutions: a Y (X) tile steps over whole output rows (columns), as levels._rescale_strided."""
    size = rw[RW_SIZE + p]
    if size >= window:
        outs = cdiv(size + stride - window, stride)
        rw[RW_SIZE + p] = outs * min(stride, window) + max(window - stride, 0)
        rw[RW_OFS + p] = outs * (window if inner and window < stride else stride)


@njit(cache=True, _nrt=False, inline="always")
def _outputs_counts(mpf, mb, v, out, window, ofs, size) -> None:
    """Y' (X') reuse counts follow the Y (X) directive and the level's R (S) numbers (levels.reuse_outputs)."""
    V = _V
    m = mpf[_ix(mb + MP_MAPPED * V + v)] - mpf[_ix(mb + MP_MAPPED * V + window)] + 1
    me = mpf[_ix(mb + MP_MAPPED_EDGE * V + v)] - mpf[_ix(mb + MP_MAPPED_EDGE * V + window)] + 1
    mpf[_ix(mb + MP_MAPPED * V + out)] = m
    mpf[_ix(mb + MP_UNIQUE * V + out)] = min(ofs, size)
    mpf[_ix(mb + MP_MAPPED_EDGE * V + out)] = me
    mpf[_ix(mb + MP_UNIQUE_EDGE * V + out)] = min(ofs, me)


@njit(cache=True, _nrt=False)
def regular_form(layer, hw, dl, cl, nlev, conv, dims, nd, dmask, tmb, tsz, tm, ld, ln, linfo, lmap, mpf, lp, cst,
                 cnst, gst, cw, ws, rw, out) -> int:
    """closed_form's result for mapping (dl, cl, nlev) straight from its directives (0), or why not (> 0).

    dims[0..nd): the layer's dimensions in ascending order (dmask as bits), every one of which each level must
    map once; tmb, tsz, tm: kernel._tensor_tables / _tensor_sizes. Fills the top level's rows of ld, ln, linfo,
    lmap, lp (what closed._top_counts reads) and cw as closed_form does. mpf: lmap flat (a view made once per
    batch: numba's reshape calls a helper, about 200 instructions a mapping).
    """
    V = _V
    lat = hw[HW_NOC_LATENCY]
    bw = float(hw[HW_NOC_BW])
    units = hw[HW_NUM_UNITS]
    if hw[HW_SIMD_LANES] != 1 or lat < 0:
        return 1
    if nlev < 1 or nlev > MAX_LEVELS or nlev > dl.shape[0] or dmask == 0:
        return 20
    upper = 1
    for lvl in range(1, nlev):
        c = cl[lvl]
        if c < 1:
            return 20
        upper *= c
        if upper > units:
            return 20
    top = units // upper
    stride_y = layer[LAYER_STRIDE_Y]
    stride_x = layer[LAYER_STRIDE_X]
    sy = conv and stride_y != 1
    sx = conv and stride_x != 1
    full_r = layer[LAYER_DIMS + DIM_R]
    full_s = layer[LAYER_DIMS + DIM_S]
    tb0 = tmb[0]
    tb1 = tmb[1]
    tbo = tmb[2]
    for q in range(CW_NEED + V, CW_NEED + (nlev + 1) * V):
        cw[_ix(q)] = 0
    inner = nlev - 1
    lb_psum = 1
    bound = 1.0
    vol0 = vol1 = vol2 = 1
    tin = CW_T + (inner & 1) * MAX_TERMS * V * 2
    # every level parsed first: a parser rule broken by a later level takes precedence over the closed form's
    # verdict on an earlier one (as in build_levels)
    for lvl in range(nlev):
        jsp, vsp = _parse_level(layer, dl, lvl, dmask, rw, cw)
        if jsp < 0:
            return vsp
        rw[_ix(RW_JSP + lvl)] = jsp
        cw[_ix(CW_SPV + lvl)] = vsp
    for lvl in range(nlev):
        # ---- complete the level ----
        jsp = rw[_ix(RW_JSP + lvl)]
        vsp = cw[_ix(CW_SPV + lvl)]
        base = lvl * V
        if sy:
            _rescale(rw, _ix(base + DIM_Y), stride_y, full_r, lvl > 0)
        if sx:
            _rescale(rw, _ix(base + DIM_X), stride_x, full_s, lvl > 0)
        nsub = top if lvl == 0 else cl[lvl]
        mb = lvl * 4 * V
        for q in range(nd):
            v = dims[q]
            p = _ix(base + v)
            if lvl == 0:
                sd = layer[LAYER_DIMS + v]
            else:
                pp = _ix(p - V)
                sd = min(rw[RW_SIZE + pp], rw[RW_SD + pp])
            rw[RW_SD + p] = sd
            m, u, me, ue = reuse_counts(rw[RW_KIND + p], rw[RW_SIZE + p], rw[RW_OFS + p], sd)
            mpf[_ix(mb + MP_MAPPED * V + v)] = m
            mpf[_ix(mb + MP_UNIQUE * V + v)] = u
            mpf[_ix(mb + MP_MAPPED_EDGE * V + v)] = me
            mpf[_ix(mb + MP_UNIQUE_EDGE * V + v)] = ue
        if conv:
            py = _ix(base + DIM_Y)
            px = _ix(base + DIM_X)
            _outputs_counts(mpf, mb, DIM_Y, DIM_YP, DIM_R, rw[RW_OFS + py], rw[RW_SIZE + py])
            _outputs_counts(mpf, mb, DIM_X, DIM_XP, DIM_S, rw[RW_OFS + px], rw[RW_SIZE + px])
        psp = _ix(base + vsp)
        nedge = edge_count(rw[RW_SIZE + psp], rw[RW_OFS + psp], rw[RW_SD + psp], nsub)
        cw[_ix(CW_NE + lvl)] = nedge
        sp_out = (tbo >> vsp) & 1 != 0
        if lvl == 0:        # what closed._top_counts reads of the top level
            ln[0] = nd
            linfo[0, LI_NSUB] = nsub
            linfo[0, LI_NEDGE] = nedge
            lp[0, LP_SP0] = jsp
            lp[0, LP_TMASK] = (tb0 >> vsp) & 1
            lp[0, LP_TMASK + 1] = (tb1 >> vsp) & 1
            lp[0, LP_TMASK + T_OUTPUT] = (tbo >> vsp) & 1
            for q in range(nd):
                v = dims[q]
                p = _ix(v)
                j = _ix(cw[CW_J + p])
                ld[0, j, 0] = rw[RW_KIND + p]
                ld[0, j, 1] = v
                ld[0, j, 2] = rw[RW_SIZE + p]
                ld[0, j, 3] = rw[RW_OFS + p]
        # ---- closed_form's top-down pass over the level ----
        acc = (0, 1.0, 1.0, lb_psum, 0)
        moved0 = moved1 = moved2 = float(max(nsub, nedge, 1))
        _column_max(mpf, mb, cw)
        for q in range(nd):
            v = dims[q]
            p = _ix(base + v)
            kind = rw[RW_KIND + p]
            size = rw[RW_SIZE + p]
            ofs = rw[RW_OFS + p]
            in0 = (tb0 >> v) & 1 != 0
            in1 = (tb1 >> v) & 1 != 0
            ino = (tbo >> v) & 1 != 0
            mv = mpf[_ix(mb + MP_MAPPED * V + v)]
            m = float(_largest_count(cw, v, conv))
            moved0 *= m if in0 else 1.0
            moved1 *= m if in1 else 1.0
            moved2 *= m if ino else 1.0
            if lvl == inner:
                vol0 *= mv if in0 else 1
                vol1 *= mv if in1 else 1
                vol2 *= mv if ino else 1
            dim0 = layer[LAYER_DIMS + v] if lvl == 0 else mpf[_ix(mb - 4 * V + MP_MAPPED * V + v)]
            # the same step with the kind (and the top or innermost level) a constant: LLVM drops the code of the rest
            if kind == KIND_TEMPORAL and lvl == 0:
                code, acc = directive_pass(0, inner, v, cw[CW_J + p], KIND_TEMPORAL, size, ofs, dim0, mpf, mb,
                                           nsub, nedge, in0, ino, sp_out, cst, cnst, gst, cw, tin, acc)
            elif kind == KIND_TEMPORAL and lvl == inner:
                code, acc = directive_pass(lvl, lvl, v, cw[CW_J + p], KIND_TEMPORAL, size, ofs, dim0, mpf, mb,
                                           nsub, nedge, in0, ino, sp_out, cst, cnst, gst, cw, tin, acc)
            elif kind == KIND_TEMPORAL:
                code, acc = directive_pass(lvl, inner, v, cw[CW_J + p], KIND_TEMPORAL, size, ofs, dim0, mpf, mb,
                                           nsub, nedge, in0, ino, sp_out, cst, cnst, gst, cw, tin, acc)
            else:
                code, acc = directive_pass(lvl, inner, v, cw[CW_J + p], kind, size, ofs, dim0, mpf, mb, nsub, nedge,
                                           in0, ino, sp_out, cst, cnst, gst, cw, tin, acc)
            if code != 0:
                return code
        code = level_code(moved0, moved1, moved2, bw, acc, lvl, dmask, tb0, tb1, cw)
        if code != 0:
            return code
        lb_psum = acc[3]
        bound *= acc[2] * (1.0 + lat)
    if bound > LIMIT or lb_psum < lat:
        return 11
    return finish_closed(nlev, dmask, lat, lb_psum, hw, tsz, ld, ln, linfo, lmap, lp, tm, cst, cnst, gst, cw, ws,
                         vol0, vol1, vol2, out)
