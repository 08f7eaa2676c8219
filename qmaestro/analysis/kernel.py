"""One jitted call that scores a population of mappings of one layer (MAESTRO's metrics, or a rejection)."""
from __future__ import annotations

import math

import numpy as np
from ..jit import njit

from ..arrays import (DIM_R, DIM_S, DIM_X, DIM_Y, HW_NOC_BW, HW_NUM_UNITS, HW_SIMD_LANES, LAYER_DIMS,
                      LAYER_TYPE, LT_GEMM, MAX_LEVELS, NUM_DIMS)
from .engine import (HASH_CAP, MEMO_CAP, NRF, NRI, RF_AI, RF_AVG_ACTIVE, RF_AVG_BW, RI_DELAY, RI_DN_RD, RI_DN_SZ,
                     RI_DN_WR, RI_NUM_COMP, RI_OFFCHIP, RI_PEAK_BW, RI_RUNTIME, RI_UP_RD, RI_UP_SZ, RI_UP_WR,
                     MAX_CASE_RECORDS, NCR, NF, PC_SIZE, analyze_mapping)
from .closed import (CF_DN_RD, CF_DN_SZ, CF_DN_WR, CF_MACS, CF_RUNTIME, CF_UP_RD, CF_UP_SZ, CF_UP_WR, NCF, NCW, NW,
                     closed_form, tensor_bits)
from .levels import _TALL, MAX_LEVEL_DIRS, MP_MAPPED, NLP, build_levels
from .regular import NRW, regular_form
from .metrics import (M_AI, M_AREA, M_AVG_BW, M_AVG_PES, M_BUF0, M_DELAY0, M_ENERGY, M_INPUT_PIXELS,
                      M_L1_POWER, M_L1_SIZE, M_L2_POWER, M_L2_SIZE, M_MC_INPUT, M_MC_WEIGHT, M_NOC_BW,
                      M_NOC_POWER, M_NUM_MACS, M_NUM_PES, M_OFFCHIP_BW, M_OPS_PER_J, M_PE_POWER, M_PEAK_BW,
                      M_POWER, M_RUNTIME, M_TENSOR0, M_THROUGHPUT, M_TPE, M_VECTOR_WIDTH, M_WEIGHT_PIXELS,
                      NUM_METRICS, R_NAN, R_NEGATIVE, R_OK, R_THROUGHPUT, R_TILE_LT_FILTER, R_ZERO_COMPUTE,
                      R_ZERO_RUNTIME)
from .traffic import tensor_masks, tensor_size, tensor_vars

# MAESTRO's fixed technology numbers (DSE cost database and scaling model; CSV energy and area columns)
MAC_ENERGY = 0.00023
L1_ENERGY_MULT = 1.68
L2_ENERGY_MULT = 18.61
MAC_AREA, MAC_POWER = 283.0, 1.2223
SRAM_AREA, SRAM_POWER = 0.104, 0.00345
BUS_AREA, BUS_POWER, BUS_C1, BUS_C0 = 101.7938, 0.8, 14.662, 28.895
ARB_AREA, ARB_POWER, ARB_C2, ARB_C1, ARB_C0 = 395.473, 0.34, 1.2886, 5.5814, -23.711

DETAIL_LEN = 5


@njit(cache=True)
def _int32(x: int) -> int:
    return ((x + 2147483648) % 4294967296) - 2147483648


@njit(cache=True)
def _div(a: float, b: float) -> float:
    """IEEE division (x/0 = inf or NaN), spelled out: it does not depend on the error model it is compiled with."""
    if b != 0.0:
        return a / b
    if a == 0.0 or math.isnan(a):
        return np.nan
    return np.inf if a > 0 else -np.inf


@njit(cache=True)
def _hardware_costs(units: int, lanes: int, noc_bw: int, l1: int, l2: int, out: np.ndarray) -> None:
    """MAESTRO's area / power columns: PEs with MAC and L1, an L2, a bus and a matrix arbiter."""
    cells1 = l1 if l1 != 0 else 1     # SRAM cells of one element; an empty SRAM still has one
    cells2 = l2 if l2 != 0 else 1
    pe_area = 0.0
    pe_power = 0.0
    l1_power = 0.0
    for _ in range(units):
        pe_area += MAC_AREA * lanes + SRAM_AREA * cells1
        l1_power += SRAM_POWER * cells1
        pe_power += MAC_POWER * lanes
    bus_scale = BUS_C1 * units + BUS_C0
    bus_area = BUS_AREA * bus_scale * noc_bw
    bus_power = BUS_POWER * bus_scale / 1000 * noc_bw
    arb_scale = ARB_C2 * units * units + ARB_C1 * units + ARB_C0
    arb_area = max(ARB_AREA * arb_scale, ARB_AREA)
    arb_power = max(ARB_POWER * arb_scale / 1000, ARB_POWER)
    l2_area = SRAM_AREA * cells2
    l2_power = SRAM_POWER * cells2
    out[M_AREA] = pe_area + l2_area + (bus_area + arb_area)
    out[M_POWER] = (pe_power + l1_power) + l2_power + (bus_power + arb_power)
    out[M_PE_POWER] = pe_power
    out[M_L1_POWER] = l1_power
    out[M_L2_POWER] = l2_power
    out[M_NOC_POWER] = bus_power + arb_power


@njit(cache=True)
def _tile_below_filter(nlev: int, lmap: np.ndarray, detail: np.ndarray) -> bool:
    """Find a level whose Y/X tile is smaller than its R/S tile (the usual cause of empty outputs)."""
    for lvl in range(nlev):
        for v, f in ((DIM_Y, DIM_R), (DIM_X, DIM_S)):
            if lmap[lvl, MP_MAPPED, v] < lmap[lvl, MP_MAPPED, f]:
                detail[0] = lvl
                detail[1] = v
                detail[2] = lmap[lvl, MP_MAPPED, v]
                detail[3] = lmap[lvl, MP_MAPPED, f]
                detail[4] = f
                return True
    return False


@njit(cache=True)
def _fill_metrics(layer, hw, nlev, ri, rf, top, first, tv, tn, out) -> None:
    """The CSV columns MAESTRO derives from the top level's results (and the first innermost one)."""
    units = hw[HW_NUM_UNITS]
    lanes = hw[HW_SIMD_LANES]
    runtime = ri[top, RI_RUNTIME]
    macs = ri[top, RI_NUM_COMP]
    l2 = _int32(ri[top, RI_UP_SZ] + ri[top, RI_UP_SZ + 1] + ri[top, RI_UP_SZ + 2])
    l1 = _int32(ri[first, RI_DN_SZ] + ri[first, RI_DN_SZ + 1] + ri[first, RI_DN_SZ + 2])
    energy = 0.0
    energy += ri[top, RI_UP_RD] * L2_ENERGY_MULT
    energy += ri[top, RI_UP_WR] * L2_ENERGY_MULT
    energy += ri[top, RI_UP_RD + 1] * L2_ENERGY_MULT
    energy += ri[top, RI_UP_WR + 1] * L2_ENERGY_MULT
    energy += ri[top, RI_UP_WR + 2] * L2_ENERGY_MULT
    if nlev == 1:   # MAESTRO adds the L1 term only when the top level is also the innermost one
        for t in range(3):
            energy += ri[top, RI_DN_RD + t] * L1_ENERGY_MULT
            energy += ri[top, RI_DN_WR + t] * L1_ENERGY_MULT
    energy *= MAC_ENERGY
    out[M_NUM_PES] = units
    out[M_RUNTIME] = runtime
    out[M_ENERGY] = energy
    out[M_THROUGHPUT] = _div(float(macs), float(runtime))
    out[M_TPE] = _div(_div(float(macs), float(runtime)), energy) * 1e9
    _hardware_costs(units, lanes, hw[HW_NOC_BW], l1, l2, out)
    out[M_NOC_BW] = ri[top, RI_PEAK_BW]
    out[M_AVG_BW] = rf[top, RF_AVG_BW]
    out[M_PEAK_BW] = ri[top, RI_PEAK_BW]
    out[M_VECTOR_WIDTH] = lanes
    out[M_OFFCHIP_BW] = ri[top, RI_OFFCHIP]
    out[M_L2_SIZE] = l2
    out[M_L1_SIZE] = l1
    out[M_MC_WEIGHT] = _div(float(ri[top, RI_DN_WR + 1]), float(ri[top, RI_UP_RD + 1]))
    out[M_MC_INPUT] = _div(float(ri[top, RI_DN_WR]), float(ri[top, RI_UP_RD]))
    for t, col in ((0, M_INPUT_PIXELS), (1, M_WEIGHT_PIXELS)):
        size = 1
        for q in range(tn[t]):
            size *= layer[LAYER_DIMS + tv[t, q]]
        out[col] = size
    out[M_OPS_PER_J] = _div(float(macs), energy) * 1e9
    out[M_NUM_MACS] = macs
    for t in range(3):
        c = M_TENSOR0 + 5 * t
        out[c] = ri[top, RI_DN_RD + t]
        out[c + 1] = ri[top, RI_DN_WR + t]
        out[c + 2] = ri[top, RI_UP_RD + t]
        out[c + 3] = ri[top, RI_UP_WR + t]
        out[c + 4] = _div(float(ri[top, RI_DN_RD + t]), float(ri[top, RI_DN_WR + t]))
    for k in range(9):
        out[M_DELAY0 + k] = ri[top, RI_DELAY + k]
    out[M_AVG_PES] = rf[top, RF_AVG_ACTIVE]
    out[M_AI] = rf[top, RF_AI]
    for t in range(3):
        out[M_BUF0 + t] = ri[first, RI_DN_SZ + t]
        out[M_BUF0 + 3 + t] = ri[top, RI_UP_SZ + t]


@njit(cache=True)
def _judge(out: np.ndarray, units: int, lanes: int, detail: np.ndarray) -> int:
    """Reject rows MAESTRO prints but that mean nothing (zero runtime, NaN, negative counts, >100% use)."""
    if out[M_RUNTIME] <= 0:
        return R_ZERO_RUNTIME
    for c in range(NUM_METRICS):
        if math.isnan(out[c]) or math.isinf(out[c]):
            detail[0] = c
            return R_NAN
    for c in range(NUM_METRICS):
        if out[c] < 0:
            detail[0] = c
            return R_NEGATIVE
    if out[M_THROUGHPUT] > units * lanes:
        detail[2] = int(out[M_THROUGHPUT] * 100)      # hundredths, shown with two decimals
        detail[3] = units * lanes
        return R_THROUGHPUT
    return R_OK


#: the columns score mode fills (what precision-aware scoring reads, and what it derives them from)
SCORE_COLUMNS = (M_NUM_PES, M_RUNTIME, M_THROUGHPUT, M_VECTOR_WIDTH, M_L2_SIZE, M_L1_SIZE, M_NUM_MACS) + tuple(
    range(M_TENSOR0, M_TENSOR0 + 15)) + tuple(range(M_BUF0, M_BUF0 + 6))


@njit(cache=True)
def _scan_counts(ri, top, first, cf) -> None:
    """The scored quantities from the case scan's result table (same layout as closed_form's)."""
    cf[CF_RUNTIME] = ri[top, RI_RUNTIME]
    cf[CF_MACS] = ri[top, RI_NUM_COMP]
    for t in range(3):
        cf[CF_UP_RD + t] = ri[top, RI_UP_RD + t]
        cf[CF_UP_WR + t] = ri[top, RI_UP_WR + t]
        cf[CF_DN_RD + t] = ri[top, RI_DN_RD + t]
        cf[CF_DN_WR + t] = ri[top, RI_DN_WR + t]
        cf[CF_UP_SZ + t] = ri[top, RI_UP_SZ + t]
        cf[CF_DN_SZ + t] = ri[first, RI_DN_SZ + t]


@njit(cache=True, inline="always")
def _score_row(hw, cf, out) -> bool:
    """Write SCORE_COLUMNS from the scored quantities; False where _judge would reject the full row."""
    units = hw[HW_NUM_UNITS]
    lanes = hw[HW_SIMD_LANES]
    runtime = cf[CF_RUNTIME]
    macs = cf[CF_MACS]
    l2 = _int32(cf[CF_UP_SZ] + cf[CF_UP_SZ + 1] + cf[CF_UP_SZ + 2])
    l1 = _int32(cf[CF_DN_SZ] + cf[CF_DN_SZ + 1] + cf[CF_DN_SZ + 2])
    if runtime <= 0 or l1 < 0 or l2 < 0 or macs / runtime > units * lanes:
        return False
    for t in range(3):
        if min(cf[CF_UP_RD + t], cf[CF_UP_WR + t], cf[CF_DN_RD + t], cf[CF_DN_WR + t], cf[CF_UP_SZ + t],
               cf[CF_DN_SZ + t]) < 0 or cf[CF_DN_WR + t] == 0:
            return False
    out[M_NUM_PES] = units
    out[M_RUNTIME] = runtime
    out[M_THROUGHPUT] = macs / runtime
    out[M_VECTOR_WIDTH] = lanes
    out[M_L2_SIZE] = l2
    out[M_L1_SIZE] = l1
    out[M_NUM_MACS] = macs
    for t in range(3):
        c = M_TENSOR0 + 5 * t
        out[c] = cf[CF_DN_RD + t]
        out[c + 1] = cf[CF_DN_WR + t]
        out[c + 2] = cf[CF_UP_RD + t]
        out[c + 3] = cf[CF_UP_WR + t]
        out[c + 4] = cf[CF_DN_RD + t] / cf[CF_DN_WR + t]
        out[M_BUF0 + t] = cf[CF_DN_SZ + t]
        out[M_BUF0 + 3 + t] = cf[CF_UP_SZ + t]
    return True


@njit(cache=True)
def _level_tables():
    """The per-level tables build_levels fills (allocated once per batch, rewritten per mapping):
    ld, ln, linfo, sdim, lmap, lfirst, llast and the plan lp."""
    L = MAX_LEVELS
    D = MAX_LEVEL_DIRS
    return (np.zeros((L, D, 4), dtype=np.int64), np.zeros(L, dtype=np.int64), np.zeros((L, 3), dtype=np.int64),
            np.zeros((L, NUM_DIMS), dtype=np.int64), np.zeros((L, 4, NUM_DIMS), dtype=np.int64),
            np.zeros((L, NUM_DIMS), dtype=np.int64), np.zeros((L, NUM_DIMS), dtype=np.int64),
            np.zeros((L, NLP), dtype=np.int64))


@njit(cache=True)
def _closed_tables():
    """closed_form's workspace: the top level's states and partial-sum factors, the flat per-level workspace, the
    top sums, the results."""
    L = MAX_LEVELS
    D = MAX_LEVEL_DIRS
    return (np.zeros((L, 2, D, 3, 5), dtype=np.int64), np.zeros((L, 2, D), dtype=np.int64),
            np.zeros((L, 2, D, 3), dtype=np.int64), np.zeros(NCW, dtype=np.int64),
            np.zeros((D + 4, NW), dtype=np.int64), np.zeros(NCF, dtype=np.int64))


@njit(cache=True)
def _tensor_tables(ltype: int):
    """Each tensor's coupled dimensions (tv, tn), the tensor x dimension mask tm and the same as bit masks (tmb)."""
    tv = np.zeros((3, 4), dtype=np.int64)
    tn = np.zeros(3, dtype=np.int64)
    tensor_vars(ltype, tv, tn)
    tm = np.zeros((3, NUM_DIMS), dtype=np.int64)
    tensor_masks(tv, tn, tm)
    tmb = np.zeros(3, dtype=np.int64)
    tensor_bits(tm, tmb)
    return tv, tn, tm, tmb


@njit(cache=True)
def _tensor_sizes(layer, tv, tn, conv):
    """Elements of input, filter and output of the whole layer: per batch, not per mapping."""
    dims = layer[LAYER_DIMS:LAYER_DIMS + NUM_DIMS]
    tsz = np.zeros(3, dtype=np.int64)
    for t in range(3):
        tsz[t] = tensor_size(dims, tv, tn, t, conv)
    return tsz


@njit(cache=True)
def _regular_dims(layer):
    """The dimensions every level of a regular mapping maps once (regular.py): the layer type's coupled ones, in
    ascending order, as a list and a bit mask (mask 0 when the layer lacks one of them: no mapping is regular)."""
    ltype = layer[LAYER_TYPE]
    mask = _TALL[2 if ltype == LT_GEMM else (1 if ltype == 1 else 0)]
    dims = np.zeros(NUM_DIMS, dtype=np.int64)
    nd = 0
    for v in range(NUM_DIMS):
        if (mask >> v) & 1:
            if layer[LAYER_DIMS + v] < 1:
                return dims, 0, 0
            dims[nd] = v
            nd += 1
    return dims, nd, mask


@njit(cache=True)
def _scan_tables(full: bool):
    """The case scan's workspace (about 2 MB: memo tables, hash, case records); 1-element stand-ins if not full.

    Score mode needs it only for the few mappings the closed form leaves, so it is allocated on first use. Only
    the hash table's generations (hgen: zero is no mapping's) and the counters start zeroed: the scan writes a
    memo slot's key, results and links when it creates the slot, so the rest is left as np.empty finds it
    (zeroing all of it cost about 2 million instructions, 0.5 ms, per call that needs the scan; the tests pass
    with those tables filled with garbage instead)."""
    L = MAX_LEVELS if full else 1
    D = MAX_LEVEL_DIRS if full else 1
    cap = MEMO_CAP if full else 1
    hcap = HASH_CAP if full else 1
    return (np.zeros((L, D, 3, 5), dtype=np.int64), np.zeros((L, D), dtype=np.int64),
            np.zeros((L, D), dtype=np.int64), np.zeros((L, D), dtype=np.int64), np.zeros((L, D), dtype=np.int64),
            np.zeros((L, D), dtype=np.int64), np.zeros((L, NUM_DIMS, 5), dtype=np.int64),
            np.zeros((L, 2, NUM_DIMS), dtype=np.int64), np.empty((cap, 1 + NUM_DIMS), dtype=np.int64),
            np.zeros(2, dtype=np.int64), np.empty(hcap, dtype=np.int64), np.zeros(hcap, dtype=np.int64),
            np.empty((cap, NRI), dtype=np.int64), np.empty((cap, NRF), dtype=np.float64),
            np.zeros(1, dtype=np.int64), np.empty(cap, dtype=np.int64),
            np.empty((MAX_CASE_RECORDS if full else 1, NCR), dtype=np.int64), np.empty(cap, dtype=np.int64),
            np.zeros(1, dtype=np.int64), np.zeros((7, PC_SIZE if full else 1), dtype=np.int64),
            np.zeros(2, dtype=np.int64))


@njit(cache=True)
def analyze_batch_core(layer, hw, dirs, clusters, nlevels, metrics, status, detail, fast=True, score=False,
                       regular=True) -> None:
    """Score mappings dirs[i] (status 0) or reject them (status > 0, detail[i] = level, dim, a, b, c).

    fast=False scans every level with the general per-case code (the reference the fast path is tested against).
    score=True fills only the columns scoring reads (SCORE_COLUMNS; the others stay NaN) and computes them in
    closed form where closed.closed_form can (same numbers as the scan, which handles the rest); regular=False skips
    regular.regular_form (score_batch_core has tried it already).
    """
    n = dirs.shape[0]
    D = MAX_LEVEL_DIRS
    ld, ln, linfo, sdim, lmap, lfirst, llast, lp = _level_tables()
    mpf = lmap.reshape(lmap.size)     # regular_form's flat view of lmap, once per batch
    scan = _scan_tables(not score)
    have_scan = not score
    err = np.zeros(DETAIL_LEN, dtype=np.int64)
    fi = np.zeros((D + 2, 3, NF), dtype=np.int64)
    sc = np.zeros((4, D), dtype=np.int64)
    tv, tn, tm, tmb = _tensor_tables(layer[LAYER_TYPE])
    cst, cnst, gst, cw, ws, cf = _closed_tables()
    conv = layer[LAYER_TYPE] != LT_GEMM
    tsz = _tensor_sizes(layer, tv, tn, conv)
    units = hw[HW_NUM_UNITS]
    lanes = hw[HW_SIMD_LANES]
    rdims, rnd, rmask = _regular_dims(layer)
    rw = np.zeros(NRW, dtype=np.int64)
    for i in range(n):
        for k in range(DETAIL_LEN):
            detail[i, k] = 0
            err[k] = 0
        for c in range(metrics.shape[1]):
            metrics[i, c] = np.nan
        nlev = nlevels[i]
        reg = 20            # regular_form's code (20 and up: not a regular mapping)
        if score and fast and regular:
            reg = regular_form(layer, hw, dirs[i], clusters[i], nlev, conv, rdims, rnd, rmask, tmb, tsz, tm, ld, ln,
                               linfo, lmap, mpf, lp, cst, cnst, gst, cw, ws, rw, cf)
            if reg == 0 and _score_row(hw, cf, metrics[i]):
                status[i] = R_OK
                continue
        s = build_levels(layer, hw, dirs[i], clusters[i], nlev, ld, ln, linfo, sdim, lmap, lfirst, llast, lp,
                         detail[i])
        if s != R_OK:
            status[i] = s
            continue
        if score and fast and reg >= 20:    # not regular: closed_form may still take it (a regular one it would not)
            if closed_form(nlev, conv, hw, sdim[0], tsz, ld, ln, linfo, lmap, lp, tv, tn, tm, tmb, cst, cnst, gst, cw,
                           ws, cf) == 0 and _score_row(hw, cf, metrics[i]):
                status[i] = R_OK
                continue
            for c in range(metrics.shape[1]):
                metrics[i, c] = np.nan
        if not have_scan:
            scan = _scan_tables(True)
            have_scan = True
        (st, nst, freq, cur, pick, phase, vs, subd, mkey, mcount, htab, hgen, ri, rf, first_done, first_child, crec,
         cstart, ccount, pc, pcg) = scan
        top = analyze_mapping(nlev, conv, hw, sdim[0], ld, ln, linfo, lmap, lfirst, llast, tv, tn, tm, st, nst,
                              freq, cur, pick, phase, vs, subd, mkey, mcount, htab, hgen, first_child, ri, rf, crec,
                              cstart, ccount, first_done, err, lp, fi, sc, pc, pcg, fast)
        if top < 0:
            s = err[0]
            if s == R_ZERO_COMPUTE and _tile_below_filter(nlev, lmap, detail[i]):
                s = R_TILE_LT_FILTER
            else:
                detail[i, 0] = err[1]
                detail[i, 1] = err[2]
                detail[i, 2] = err[3]
                detail[i, 3] = err[4]
            status[i] = s
            continue
        _fill_metrics(layer, hw, nlev, ri, rf, top, first_done[0], tv, tn, metrics[i])
        s = _judge(metrics[i], units, lanes, detail[i])
        if s == R_ZERO_RUNTIME and _tile_below_filter(nlev, lmap, detail[i]):
            s = R_TILE_LT_FILTER
        status[i] = s
        if score:
            for c in range(metrics.shape[1]):
                metrics[i, c] = np.nan
            if s == R_OK:
                _scan_counts(ri, top, first_done[0], cf)
                _score_row(hw, cf, metrics[i])


@njit(cache=True, _nrt=False)
def _regular_pass(layer, hw, dirs, clusters, nlevels, metrics, status, detail, conv, rdims, rnd, rmask, tmb, tsz, tm,
                  ld, ln, linfo, lmap, mpf, lp, cst, cnst, gst, cw, ws, rw, cf, rest) -> int:
    """score_batch_core's first pass, without NRT: the per-mapping views it takes then cost no reference counts."""
    nrest = 0
    for i in range(dirs.shape[0]):
        for k in range(DETAIL_LEN):
            detail[i, k] = 0
        for c in range(metrics.shape[1]):
            metrics[i, c] = np.nan
        if regular_form(layer, hw, dirs[i], clusters[i], nlevels[i], conv, rdims, rnd, rmask, tmb, tsz, tm, ld, ln,
                        linfo, lmap, mpf, lp, cst, cnst, gst, cw, ws, rw, cf) == 0 and _score_row(hw, cf, metrics[i]):
            status[i] = R_OK
        else:
            rest[nrest] = i
            nrest += 1
    return nrest


@njit(cache=True)
def score_batch_core(layer, hw, dirs, clusters, nlevels, metrics, status, detail) -> None:
    """analyze_batch_core(..., fast=True, score=True) in two passes: regular mappings (regular.py) in a loop of their
    own, then the rest, gathered, in one analyze_batch_core call. Why: the small loop keeps the hot path tight
    (inside analyze_batch_core's one big loop it costs about 80 ns more per mapping)."""
    n = dirs.shape[0]
    ld, ln, linfo, sdim, lmap, lfirst, llast, lp = _level_tables()
    mpf = lmap.reshape(lmap.size)     # regular_form's flat view of lmap, once per batch
    tv, tn, tm, tmb = _tensor_tables(layer[LAYER_TYPE])
    cst, cnst, gst, cw, ws, cf = _closed_tables()
    conv = layer[LAYER_TYPE] != LT_GEMM
    tsz = _tensor_sizes(layer, tv, tn, conv)
    rdims, rnd, rmask = _regular_dims(layer)
    rw = np.zeros(NRW, dtype=np.int64)
    rest = np.empty(n, dtype=np.int64)
    nrest = _regular_pass(layer, hw, dirs, clusters, nlevels, metrics, status, detail, conv, rdims, rnd, rmask, tmb,
                          tsz, tm, ld, ln, linfo, lmap, mpf, lp, cst, cnst, gst, cw, ws, rw, cf, rest)
    if nrest == 0:
        return
    pick = rest[:nrest]
    sub_m = np.empty((nrest, metrics.shape[1]), dtype=np.float64)
    sub_s = np.zeros(nrest, dtype=np.int64)
    sub_d = np.zeros((nrest, DETAIL_LEN), dtype=np.int64)
    analyze_batch_core(layer, hw, dirs[pick], clusters[pick], nlevels[pick], sub_m, sub_s, sub_d, True, True, False)
    for r in range(nrest):
        i = pick[r]
        status[i] = sub_s[r]
        metrics[i] = sub_m[r]
        detail[i] = sub_d[r]


@njit(cache=True)
def closed_form_rows(layer, hw, dirs, clusters, nlevels, codes, rows, regular=False) -> None:
    """codes[i] = 0 where closed_form scores mapping i (rows[i]: its result row, closed.py's CF_ layout), else why
    not (closed.py's codes; -1: rejected earlier). regular=True asks regular.regular_form instead (codes 20 and up:
    not a regular mapping).

    For tests and benchmarks: how much of a population each form covers, and that the two agree."""
    ld, ln, linfo, sdim, lmap, lfirst, llast, lp = _level_tables()
    mpf = lmap.reshape(lmap.size)     # regular_form's flat view of lmap, once per batch
    cst, cnst, gst, cw, ws, cf = _closed_tables()
    detail = np.zeros(DETAIL_LEN, dtype=np.int64)
    tv, tn, tm, tmb = _tensor_tables(layer[LAYER_TYPE])
    conv = layer[LAYER_TYPE] != LT_GEMM
    tsz = _tensor_sizes(layer, tv, tn, conv)
    rdims, rnd, rmask = _regular_dims(layer)
    rw = np.zeros(NRW, dtype=np.int64)
    for i in range(dirs.shape[0]):
        nlev = nlevels[i]
        for k in range(NCF):
            rows[i, k] = 0
        if regular:
            codes[i] = regular_form(layer, hw, dirs[i], clusters[i], nlev, conv, rdims, rnd, rmask, tmb, tsz, tm, ld,
                                    ln, linfo, lmap, mpf, lp, cst, cnst, gst, cw, ws, rw, rows[i])
            continue
        if build_levels(layer, hw, dirs[i], clusters[i], nlev, ld, ln, linfo, sdim, lmap, lfirst, llast, lp,
                        detail) != R_OK:
            codes[i] = -1
            continue
        codes[i] = closed_form(nlev, conv, hw, sdim[0], tsz, ld, ln, linfo, lmap, lp, tv, tn, tm, tmb, cst, cnst, gst,
                               cw, ws, rows[i])


def closed_form_codes(layer, hw, dirs, clusters, nlevels, codes, regular=False) -> None:
    """closed_form_rows without the rows."""
    rows = np.zeros((len(codes), NCF), dtype=np.int64)
    closed_form_rows(layer, hw, dirs, clusters, nlevels, codes, rows, regular)
