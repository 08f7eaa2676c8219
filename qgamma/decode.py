"""Genome -> mapping: a whole population to the cost model's array form in one jitted call, or one genome to a
`qmaestro.Mapping` (and from there MAESTRO DFSL text).

Writing rules (qGamma's input-centric form, with sliding windows so that no output row is lost):
- each level writes its genes 1..6 in loop order, the parallel role as SpatialMap, the others TemporalMap;
  roles that are not dimensions of the layer (DSCONV K; GEMM X, R, S) are not written;
- K, C, R, S (and GEMM's N, K, M): ``Map(t, t)``;
- Y and X: ``Map(t, o)`` where the tile t >= R covers (t - R) // stride + 1 output rows and the offset
  o = that many rows x stride moves to the next unseen output row (stride 1: ``Map(t, t - R + 1)``); when the
  stride exceeds the filter, o = t (genome.repair keeps such tiles multiples of the stride), since MAESTRO
  rejects an offset larger than the size;
- level l >= 1 is opened by ``Cluster(units of level l)``.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from qmaestro.mapping import Map, Mapping

from .genome import GenomeSpace

from qmaestro.arrays import DIM_NAMES, KIND_SPATIAL, MAX_DIRS, MAX_LEVELS


@njit(cache=True)
def window_offset(tile: int, window: int, step: int) -> int:
    """Offset between consecutive tiles of a sliding-window dim (tile itself when there is no window)."""
    if window <= 0:
        return tile
    return max(1, min(tile, ((tile - window) // step + 1) * step))


@njit(cache=True)
def decode_kernel(pop: np.ndarray, dim_index: np.ndarray, window: np.ndarray, step: np.ndarray,
                  max_levels: int, max_dirs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dirs[n, max_levels, max_dirs, 4], clusters[n, max_levels], nlevels[n]) of a population."""
    n, levels = pop.shape[0], pop.shape[1]
    dirs = np.zeros((n, max_levels, max_dirs, 4), dtype=np.int64)
    clusters = np.zeros((n, max_levels), dtype=np.int64)
    nlevels = np.full(n, levels, dtype=np.int64)
    for i in range(n):
        for lvl in range(levels):
            if lvl > 0:
                clusters[i, lvl] = pop[i, lvl, 0, 1]
            par = pop[i, lvl, 0, 0]
            k = 0
            for j in range(1, 7):
                r = pop[i, lvl, j, 0]
                d = dim_index[r]
                if d < 0:
                    continue
                t = pop[i, lvl, j, 1]
                dirs[i, lvl, k, 0] = 2 if r == par else 1
                dirs[i, lvl, k, 1] = d
                dirs[i, lvl, k, 2] = t
                dirs[i, lvl, k, 3] = window_offset(t, window[r], step[r])
                k += 1
    return dirs, clusters, nlevels


def decode_batch(pop: np.ndarray, space: GenomeSpace) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The array form (qmaestro.arrays contract) of every individual of a population."""
    return decode_kernel(np.ascontiguousarray(pop, dtype=np.int64), space.dim_index, space.window, space.step,
                         MAX_LEVELS, MAX_DIRS)


def to_mapping(genome: np.ndarray, space: GenomeSpace) -> Mapping:
    """One genome [levels, 7, 2] as a qmaestro Mapping (same rules as decode_batch)."""
    dirs, clusters, nlevels = decode_batch(np.asarray(genome)[None], space)
    return mapping_from_arrays(dirs[0], clusters[0], int(nlevels[0]))


def mapping_from_arrays(dirs: np.ndarray, clusters: np.ndarray, nlevels: int) -> Mapping:
    """A Mapping from one row of the array form (empty slots skipped)."""
    levels = []
    for lvl in range(nlevels):
        maps = [Map(int(kind) == KIND_SPATIAL, DIM_NAMES[int(dim)], int(size), int(offset))
                for kind, dim, size, offset in dirs[lvl] if kind != 0]
        levels.append(maps)
    return Mapping.from_levels(levels, [int(c) for c in clusters[1:nlevels]])


def to_dfsl(genome: np.ndarray, space: GenomeSpace) -> str:
    """MAESTRO DFSL text (the inside of a Dataflow block) of one genome."""
    return to_mapping(genome, space).to_dfsl()
