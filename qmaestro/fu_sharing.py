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
"""
from __future__ import annotations

import numpy as np

from .arrays import (DIM_C, DIM_K, DIM_M, DIM_N, DIM_X, DIM_XP, DIM_Y, DIM_YP, KIND_SPATIAL, NUM_DIMS)
from .layer import Layer

#: tensor order as in qmaestro.energy.TENSORS
INPUT, FILTER, OUTPUT = 0, 1, 2
_SLIDING = (DIM_Y, DIM_X)


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


def l1_copies(layer: Layer, dirs: np.ndarray, nlevels: np.ndarray, lanes: int) -> np.ndarray:
    """float[n, 3]: per-FU tiles of input, filter and output that one PE's L1 holds (see module doc)."""
    n = dirs.shape[0]
    copies = np.ones((n, 3))
    if lanes == 1:
        return copies
    inner = dirs[np.arange(n), np.maximum(nlevels - 1, 0)]          # [n, MAX_DIRS, 4]
    couple = coupling(layer)
    for slot in range(inner.shape[1]):
        kind, dim, size, offset = (inner[:, slot, k] for k in range(4))
        spatial = kind == KIND_SPATIAL
        if not spatial.any():
            continue
        for t in range(3):
            coupled = spatial & couple[t, dim]
            factor = np.full(n, float(lanes))
            if t == INPUT:
                sliding = np.isin(dim, _SLIDING) & (size > 0)
                overlap = (size + (lanes - 1) * offset) / np.maximum(size, 1)
                factor = np.where(sliding, np.minimum(overlap, lanes), factor)
            copies[:, t] = np.where(coupled, copies[:, t] * factor, copies[:, t])
    return np.minimum(copies, float(lanes))
