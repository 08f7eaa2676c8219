"""How the P functional units of one PE share its L1: copies of each tensor's per-FU tile per PE.

The analysis reports per-tensor L1 tiles of one innermost unit (one FU). The FUs of a PE sit behind one
L1, so a PE holds the union of its FUs' tiles, tensor by tensor:

- a tensor that does not depend on the dimension the FUs split holds **one** copy (e.g. with the FUs
  splitting Y, all four FUs use the same weights);
- a tensor that does depend on it holds **P** distinct tiles (e.g. with the FUs splitting C, each FU reads
  its own input and weight channels), except
- the input along a sliding window dimension (FUs splitting input rows Y or columns X): neighbouring
  windows overlap, so P windows of size t at offset o cover t + (P - 1) * o rows, i.e.
  (t + (P - 1) * o) / t tiles.

With P = 1 every factor is 1 and capacities reduce to MAESTRO's per-PE L1 requirement.

The per-mapping arithmetic is jitted (`row_copies`) so that evaluate_batch's scoring kernel can call it per row
instead of running a dozen numpy passes per population.
"""
from __future__ import annotations

import numpy as np
from .jit import njit

from .arrays import DIM_C, DIM_K, DIM_M, DIM_N, DIM_X, DIM_XP, DIM_Y, DIM_YP, KIND_SPATIAL, NUM_DIMS
from .layer import Layer

#: tensor order as in qmaestro.energy.TENSORS
INPUT, FILTER, OUTPUT = 0, 1, 2


def coupling(layer: Layer) -> np.ndarray:
    """bool[3, NUM_DIMS]: which dimensions index the input, filter and output tensors (MAESTRO's tensors)."""
    c = np.zeros((3, NUM_DIMS), dtype=np.bool_)
    if layer.type == "GEMM":
        c[INPUT, [DIM_M, DIM_K]] = True
        c[FILTER, [DIM_K, DIM_N]] = True
        c[OUTPUT, [DIM_M, DIM_N]] = True
        return c
    c[INPUT, [DIM_C, DIM_Y, DIM_X, DIM_YP, DIM_XP]] = True
    c[FILTER, [DIM_C]] = True
    c[OUTPUT, [DIM_Y, DIM_X, DIM_YP, DIM_XP]] = True
    if layer.type == "DSCONV":
        c[OUTPUT, DIM_C] = True
    else:
        c[FILTER, DIM_K] = True
        c[OUTPUT, DIM_K] = True
    return c


@njit(cache=True, inline="always")
def _factor(t: int, dim: int, size: int, offset: int, lanes: int) -> float:
    """What one spatial directive over the FUs multiplies tensor t's copies by (t depends on `dim`)."""
    fl = float(lanes)
    if t == INPUT and (dim == DIM_Y or dim == DIM_X) and size > 0:
        return min((size + (lanes - 1) * offset) / max(size, 1), fl)  # overlapping windows
    return fl


@njit(cache=True, inline="always")
def row_copies(dirs: np.ndarray, i: int, level: int, lanes: int, couple: np.ndarray) -> tuple[float, float, float]:
    """Copies (input, filter, output) of mapping i whose FU level is `level`; the float steps of the module doc.

    Slots that are not SpatialMap, or name no dimension, add nothing (the analysis rejects such mappings, and
    their metrics are NaN either way). Jitted so that batch scoring kernels can call it per row."""
    c0 = c1 = c2 = 1.0
    if lanes == 1 or level < 0 or level >= dirs.shape[1]:
        return c0, c1, c2
    for slot in range(dirs.shape[2]):
        if dirs[i, level, slot, 0] != KIND_SPATIAL:
            continue
        dim = dirs[i, level, slot, 1]
        if dim < -NUM_DIMS or dim >= NUM_DIMS:
            continue
        col = dim + NUM_DIMS if dim < 0 else dim  # numpy's wrap-around of negative indices
        size = dirs[i, level, slot, 2]
        offset = dirs[i, level, slot, 3]
        if couple[INPUT, col]:
            c0 = c0 * _factor(INPUT, dim, size, offset, lanes)
        if couple[FILTER, col]:
            c1 = c1 * _factor(FILTER, dim, size, offset, lanes)
        if couple[OUTPUT, col]:
            c2 = c2 * _factor(OUTPUT, dim, size, offset, lanes)
    fl = float(lanes)
    return min(c0, fl), min(c1, fl), min(c2, fl)


@njit(cache=True)
def copies_kernel(dirs: np.ndarray, nlevels: np.ndarray, lanes: int, couple: np.ndarray) -> np.ndarray:
    """float[n, 3] copies of a population (array form); the FU level is each mapping's innermost one."""
    n = dirs.shape[0]
    copies = np.empty((n, 3))
    for i in range(n):
        copies[i, 0], copies[i, 1], copies[i, 2] = row_copies(dirs, i, max(nlevels[i] - 1, 0), lanes, couple)
    return copies


def l1_copies(layer: Layer, dirs: np.ndarray, nlevels: np.ndarray, lanes: int) -> np.ndarray:
    """float[n, 3]: per-FU tiles of input, filter and output that one PE's L1 holds (see module doc)."""
    return copies_kernel(dirs, nlevels, int(lanes), coupling(layer))
