"""Iteration cases of one cluster level: per directive its init / steady / edge states and their counts.

A case picks one state per directive; its occurrence count is the product of the states' counts. MAESTRO
enumerates the cases with counters that all advance on case 0, so its order is the mixed-radix order of
case-1 with every digit shifted by one. The order matters (buffer sizes come from the first valid case,
arithmetic intensity from the last), so we reproduce it.
"""
from __future__ import annotations

import numpy as np
from ..jit import njit

from ..arrays import KIND_TEMPORAL, NUM_DIMS
from .cmath import cdiv, wrap_int32

POS_INIT, POS_STEADY, POS_EDGE = 0, 1, 2
# state fields
# ST_EDGE: the state's sub-clusters get the edge tile (an init state at the edge, or the edge state): the one
# question the passes ask of a state's position, answered by one load
ST_POS, ST_OCC, ST_UNROLL, ST_EDGE, ST_SP_EDGE_EDGE = 0, 1, 2, 3, 4
# per-dimension view of the current case (vs rows)
VS_POS, VS_UNROLL, VS_EDGE, VS_SP_EDGE_EDGE, VS_PRESENT = 0, 1, 2, 3, 4


@njit(cache=True, _nrt=False, inline="always")
def _put(st: np.ndarray, k: int, pos: int, occ: int, unroll: bool, edge: bool, ee: bool) -> None:
    st[k, ST_POS] = pos
    st[k, ST_OCC] = occ
    st[k, ST_UNROLL] = 1 if unroll else 0
    st[k, ST_EDGE] = 1 if edge else 0
    st[k, ST_SP_EDGE_EDGE] = 1 if ee else 0


@njit(cache=True, _nrt=False, inline="always")
def state_shape(kind: int, size: int, ofs: int, dim: int, nsub: int) -> tuple[int, bool, bool, bool, bool, bool]:
    """A directive's states over a dimension of size `dim`, in registers: (steady occurrences, 0 if there is no
    steady state; whether there is an edge state; the init state's unroll, edge and edge-edge flags; the edge
    state's edge-edge flag). The init state always exists, with one occurrence; so does an edge state.

    Why registers: the closed form reads each state once, right away; directive_states stores them for the scan.
    """
    if dim <= size:         # one tile covers the dimension: a single (initial) state, no division needed
        cover = size if kind == KIND_TEMPORAL else size + ofs * (nsub - 1)
        init_edge = dim < cover
        return 0, False, True, init_edge, init_edge and kind != KIND_TEMPORAL, False
    if kind == KIND_TEMPORAL:
        steady = cdiv(dim - size, ofs)
        return max(steady, 0), steady * ofs + size < dim, False, False, False, False
    cover = size + ofs * (nsub - 1)
    unroll = dim <= cover
    init_edge = dim < cover
    steady = cdiv(cdiv(dim - size, ofs) + 1, nsub) - 1
    has_edge = (not unroll) and ((steady + 1) * (ofs * nsub) + cover > dim) \
        and (steady * (ofs * nsub) + cover != dim)
    remaining = dim - (steady + 1) * ofs * nsub
    active = 1 if remaining < size else cdiv(remaining - size, ofs) + 1
    ee = (active - 1) * ofs + size < remaining
    return (steady if cover < dim and steady > 0 else 0), (not init_edge) and has_edge, unroll, init_edge, \
        init_edge, ee


@njit(cache=True, _nrt=False, inline="always")
def directive_states(kind: int, size: int, ofs: int, dim: int, nsub: int, st: np.ndarray) -> int:
    """Fill st[0..k) with the states of one directive over a dimension of size `dim`; returns k."""
    steady, has_edge, unroll, init_edge, init_ee, edge_ee = state_shape(kind, size, ofs, dim, nsub)
    return put_states(st, steady, has_edge, unroll, init_edge, init_ee, edge_ee)


@njit(cache=True, _nrt=False, inline="always")
def put_states(st: np.ndarray, steady: int, has_edge: bool, unroll: bool, init_edge: bool, init_ee: bool,
               edge_ee: bool) -> int:
    """Store the states state_shape describes into st[0..k); returns k (for callers that have the shape)."""
    _put(st, 0, POS_INIT, 1, unroll, init_edge, init_ee)
    k = 1
    if steady > 0:
        _put(st, k, POS_STEADY, steady, False, False, False)
        k += 1
    if has_edge:
        _put(st, k, POS_EDGE, 1, False, True, edge_ee)
        k += 1
    return k


@njit(cache=True, _nrt=False)
def level_states(ld: np.ndarray, n: int, dyn: np.ndarray, nsub: int, st: np.ndarray, nst: np.ndarray,
                 freq: np.ndarray) -> int:
    """States of every directive of a level and MAESTRO's change frequencies; returns the number of cases."""
    for j in range(n):
        nst[j] = directive_states(ld[j, 0], ld[j, 2], ld[j, 3], dyn[ld[j, 1]], nsub, st[j])
    acc = 1
    for j in range(n - 1, -1, -1):
        freq[j] = acc
        acc *= nst[j]
    return acc


@njit(cache=True, _nrt=False)
def next_case(case_id: int, n: int, st: np.ndarray, nst: np.ndarray, freq: np.ndarray, cur: np.ndarray,
              pick: np.ndarray, phase: np.ndarray) -> int:
    """Pick the states of case `case_id` (MAESTRO's counter order) into pick[]; returns its occurrences.

    Cases must be visited in order from 0 with cur[] and phase[] zeroed; phase[j] tracks case_id % freq[j]
    without a division per directive.
    """
    occ = 1
    for j in range(n):
        idx = cur[j]
        pick[j] = idx
        occ *= st[j, idx, ST_OCC]
        if phase[j] == 0:
            cur[j] = 0 if idx + 1 == nst[j] else idx + 1
        p = phase[j] + 1
        phase[j] = 0 if p == freq[j] else p
    return wrap_int32(occ)    # the product mod 2^32 equals MAESTRO's step-by-step int product


@njit(cache=True, _nrt=False)
def case_view(ld: np.ndarray, n: int, llast: np.ndarray, st: np.ndarray, pick: np.ndarray,
              vs: np.ndarray) -> bool:
    """Per dimension the state of its last directive (MAESTRO keys states by name); returns 'all init'."""
    all_init = True
    for v in range(NUM_DIMS):
        j = llast[v]
        if j < 0:
            vs[v, VS_PRESENT] = 0
            continue
        k = pick[j]                 # scalar indexing only: array views cost reference counting here
        pos = st[j, k, ST_POS]
        vs[v, VS_PRESENT] = 1
        vs[v, VS_POS] = pos
        vs[v, VS_UNROLL] = st[j, k, ST_UNROLL]
        vs[v, VS_EDGE] = st[j, k, ST_EDGE]
        vs[v, VS_SP_EDGE_EDGE] = st[j, k, ST_SP_EDGE_EDGE]
        if pos != POS_INIT:
            all_init = False
    return all_init
