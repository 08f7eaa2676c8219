"""The array form of layers, accelerators and mappings that the jitted kernels read.

A population of mappings of one layer is three int64 arrays (see docs/architecture.md):

- ``dirs[n, MAX_LEVELS, MAX_DIRS, 4]``: per level the directives in order, each ``(kind, dim, size, offset)``;
  kind 0 = empty slot, 1 = TemporalMap, 2 = SpatialMap; ``dim`` indexes ``DIM_NAMES``.
- ``clusters[n, MAX_LEVELS]``: ``clusters[i, l]`` (l >= 1) is the size of the Cluster directive opening level l.
- ``nlevels[n]``: levels used (1..MAX_LEVELS).

Python objects stay at this edge; everything behind it is plain numpy so numba can compile it.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from .accelerator import Accelerator
from .errors import InvalidMappingError
from .layer import Layer
from .mapping import Map, Mapping

DIM_NAMES: tuple[str, ...] = ("K", "C", "R", "S", "Y", "X", "Y'", "X'", "M", "N")
DIM_INDEX: dict[str, int] = {name: i for i, name in enumerate(DIM_NAMES)}
NUM_DIMS = len(DIM_NAMES)
MAX_LEVELS = 4
MAX_DIRS = 10

KIND_EMPTY, KIND_TEMPORAL, KIND_SPATIAL = 0, 1, 2

# dimension indices, for kernels (numba reads module-level ints as constants)
DIM_K, DIM_C, DIM_R, DIM_S, DIM_Y, DIM_X, DIM_YP, DIM_XP, DIM_M, DIM_N = range(NUM_DIMS)

# layer_array layout
LAYER_TYPES = ("CONV", "DSCONV", "GEMM")
LT_CONV, LT_DSCONV, LT_GEMM = 0, 1, 2
LAYER_TYPE = 0          #: index of the layer type code
LAYER_DIMS = 1          #: first of NUM_DIMS dimension sizes (0 = dimension absent)
LAYER_STRIDE_Y = LAYER_DIMS + NUM_DIMS
LAYER_STRIDE_X = LAYER_STRIDE_Y + 1
LAYER_ARRAY_LEN = LAYER_STRIDE_X + 1

# hw_array layout
HW_NUM_UNITS, HW_SIMD_LANES, HW_NOC_BW, HW_NOC_LATENCY, HW_OFFCHIP_BW = range(5)
HW_ARRAY_LEN = 5


def layer_array(layer: Layer) -> np.ndarray:
    """MAESTRO's top-level dimension table of `layer` (incl. Y' = Y-R+1, X' = X-S+1) and strides."""
    arr = np.zeros(LAYER_ARRAY_LEN, dtype=np.int64)
    arr[LAYER_TYPE] = LAYER_TYPES.index(layer.type)
    dims = layer.dimensions()
    for name, size in dims.items():
        arr[LAYER_DIMS + DIM_INDEX[name]] = size
    if layer.type != "GEMM":
        # MAESTRO's table holds the unstrided output extents; strides act through the directives
        arr[LAYER_DIMS + DIM_YP] = layer.Y - layer.R + 1
        arr[LAYER_DIMS + DIM_XP] = layer.X - layer.S + 1
        arr[LAYER_STRIDE_Y] = layer.stride_y
        arr[LAYER_STRIDE_X] = layer.stride_x
    else:
        arr[LAYER_STRIDE_Y] = arr[LAYER_STRIDE_X] = 1
    return arr


def hw_array(accelerator: Accelerator, num_units: int | None = None) -> np.ndarray:
    """What the kernel needs of the hardware; `num_units` overrides the PE count (e.g. num_pes x P FUs)."""
    units = accelerator.num_pes if num_units is None else int(num_units)
    if units < 1:
        raise InvalidMappingError(f"number of compute units must be >= 1, got {units}")
    arr = np.zeros(HW_ARRAY_LEN, dtype=np.int64)
    arr[HW_NUM_UNITS] = units
    arr[HW_SIMD_LANES] = accelerator.simd_lanes
    arr[HW_NOC_BW] = accelerator.noc_bw
    arr[HW_NOC_LATENCY] = accelerator.noc_latency
    arr[HW_OFFCHIP_BW] = accelerator.offchip_bw
    return arr


def empty_batch(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Zeroed (dirs, clusters, nlevels) for `n` mappings, to be filled in place (e.g. by a genome decoder)."""
    return (np.zeros((n, MAX_LEVELS, MAX_DIRS, 4), dtype=np.int64),
            np.zeros((n, MAX_LEVELS), dtype=np.int64),
            np.zeros(n, dtype=np.int64))


def _fill(mapping: Mapping, dirs: np.ndarray, clusters: np.ndarray, nlevels: np.ndarray, i: int) -> None:
    levels = mapping.levels
    sizes = mapping.cluster_sizes
    if len(levels) > MAX_LEVELS:
        raise InvalidMappingError(f"{len(levels)} cluster levels; MAESTRO supports at most {MAX_LEVELS}",
                                  fix="use at most 3 Cluster directives")
    nlevels[i] = len(levels)
    for lvl, level in enumerate(levels):
        if len(level) > MAX_DIRS:
            raise InvalidMappingError(f"level {lvl} has {len(level)} directives; at most {MAX_DIRS} fit",
                                      fix="give each dimension at most one directive per level")
        if lvl:
            clusters[i, lvl] = sizes[lvl - 1]
        for j, d in enumerate(level):
            dirs[i, lvl, j] = _directive_row(d, lvl)


def _directive_row(d: Map, lvl: int) -> tuple[int, int, int, int]:
    if d.dim not in DIM_INDEX:
        raise InvalidMappingError(f"level {lvl}: unknown dimension {d.dim!r}",
                                  fix=f"use one of {', '.join(DIM_NAMES)}")
    return (KIND_SPATIAL if d.spatial else KIND_TEMPORAL, DIM_INDEX[d.dim], int(d.size), int(d.offset))


def encode(mapping: Mapping) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One mapping as a batch of one: (dirs[1, ...], clusters[1, ...], nlevels[1])."""
    return encode_many([mapping])


def encode_many(mappings: Sequence[Mapping] | Iterable[Mapping]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A batch of mappings (of one layer) in array form."""
    mappings = list(mappings)
    dirs, clusters, nlevels = empty_batch(len(mappings))
    for i, m in enumerate(mappings):
        _fill(m, dirs, clusters, nlevels, i)
    return dirs, clusters, nlevels


def decode(dirs: np.ndarray, clusters: np.ndarray, nlevels: np.ndarray, i: int = 0) -> Mapping:
    """Mapping `i` of a batch back as directives (for reports and DFSL output)."""
    from .mapping import Cluster

    out: list = []
    for lvl in range(int(nlevels[i])):
        if lvl:
            out.append(Cluster(int(clusters[i, lvl])))
        for kind, dim, size, ofs in dirs[i, lvl]:
            if kind == KIND_EMPTY:
                continue
            out.append(Map(kind == KIND_SPATIAL, DIM_NAMES[dim], int(size), int(ofs)))
    return Mapping(out)
