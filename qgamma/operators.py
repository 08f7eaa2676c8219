"""Variation operators over a whole population at once (jitted), registered in the DEAP toolbox by evolve.

- crossover: two parents swap one role's tiles at every level (so each child's chain of tiles for that role is
  one parent's whole chain and stays nested);
- reorder: swap two loop positions in one level;
- tile mutation: `loci` times per individual, with probability `rate`, re-draw one gene: a tile within
  [smallest legal tile, the same role's tile one level up] (R/S stay the whole filter), or, if the locus is a
  parallel gene, the parallel gene itself;
- parallel mutation: re-draw the parallel dim (and at level 1 the PEs per cluster) of one level.

Random numbers come in as uniform arrays drawn from the caller's numpy Generator. Every operator returns
individuals whose inner tiles may exceed a changed outer tile; `genome.repair` restores the invariants.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .genome import GenomeSpace, draw_int, draw_parallel, draw_tile, repair_kernel, tiles_of


@njit(cache=True)
def crossover_kernel(parents: np.ndarray, n_children: int, rate: float, u: np.ndarray) -> np.ndarray:
    """n_children children from pairs of distinct random parents (u[ceil(n/2), 4])."""
    p, levels = parents.shape[0], parents.shape[1]
    out = np.empty((n_children, levels, 7, 2), dtype=np.int64)
    for c in range(0, n_children, 2):
        row = c // 2
        a = min(int(u[row, 0] * p), p - 1)
        b = a
        if p > 1:
            b = min(int(u[row, 1] * (p - 1)), p - 2)
            if b >= a:
                b += 1
        dad = parents[a].copy()
        mom = parents[b].copy()
        if u[row, 2] < rate:
            role = min(int(u[row, 3] * 6), 5)
            for lvl in range(levels):
                jd = 1
                jm = 1
                for j in range(1, 7):
                    if dad[lvl, j, 0] == role:
                        jd = j
                    if mom[lvl, j, 0] == role:
                        jm = j
                t = dad[lvl, jd, 1]
                dad[lvl, jd, 1] = mom[lvl, jm, 1]
                mom[lvl, jm, 1] = t
        out[c] = dad
        if c + 1 < n_children:
            out[c + 1] = mom
    return out


@njit(cache=True)
def reorder_kernel(pop: np.ndarray, rate: float, u: np.ndarray) -> None:
    """In place: with probability rate swap two distinct loop positions of one level (u[n, 4])."""
    n, levels = pop.shape[0], pop.shape[1]
    for i in range(n):
        if u[i, 0] >= rate:
            continue
        lvl = min(int(u[i, 1] * levels), levels - 1)
        a = 1 + min(int(u[i, 2] * 6), 5)
        b = 1 + min(int(u[i, 3] * 5), 4)
        if b >= a:
            b += 1
        for f in range(2):
            t = pop[i, lvl, a, f]
            pop[i, lvl, a, f] = pop[i, lvl, b, f]
            pop[i, lvl, b, f] = t


@njit(cache=True)
def _redraw_parallel(genome: np.ndarray, lvl: int, u_dim: float, u_units: float, sizes: np.ndarray,
                     par_allowed: np.ndarray, top_n: np.ndarray, cluster_opts: np.ndarray) -> None:
    key = sizes if lvl == 0 else tiles_of(genome[lvl - 1])
    genome[lvl, 0, 0] = draw_parallel(u_dim, par_allowed[lvl], key, top_n[lvl])
    if lvl == 1:
        genome[lvl, 0, 1] = cluster_opts[min(int(u_units * cluster_opts.shape[0]), cluster_opts.shape[0] - 1)]


@njit(cache=True)
def tile_mutation_kernel(pop: np.ndarray, rate: float, loci: int, u: np.ndarray, sizes: np.ndarray,
                         lo: np.ndarray, exists: np.ndarray, par_allowed: np.ndarray, top_n: np.ndarray,
                         cluster_opts: np.ndarray) -> None:
    """In place: `loci` chances per individual (u[n, loci, 4]) to re-draw one gene within its bounds."""
    n, levels = pop.shape[0], pop.shape[1]
    for i in range(n):
        for m in range(loci):
            if u[i, m, 0] >= rate:
                continue
            g = min(int(u[i, m, 1] * levels * 7), levels * 7 - 1)
            lvl, j = g // 7, g % 7
            if j == 0:
                _redraw_parallel(pop[i], lvl, u[i, m, 2], u[i, m, 3], sizes, par_allowed, top_n, cluster_opts)
                continue
            r = pop[i, lvl, j, 0]
            upper = sizes[r] if lvl == 0 else tiles_of(pop[i, lvl - 1])[r]
            pop[i, lvl, j, 1] = draw_tile(u[i, m, 2], r, upper, lo, sizes, exists, False)


@njit(cache=True)
def parallel_mutation_kernel(pop: np.ndarray, rate: float, u: np.ndarray, sizes: np.ndarray,
                             par_allowed: np.ndarray, top_n: np.ndarray, cluster_opts: np.ndarray) -> None:
    """In place: with probability rate re-draw the parallel gene of one random level (u[n, 4])."""
    n, levels = pop.shape[0], pop.shape[1]
    for i in range(n):
        if u[i, 0] < rate:
            lvl = draw_int(u[i, 1], 0, levels - 1)
            _redraw_parallel(pop[i], lvl, u[i, 2], u[i, 3], sizes, par_allowed, top_n, cluster_opts)


# ---- population-level wrappers (what the toolbox registers) ----------------------------------------------------
def crossover(parents: np.ndarray, n_children: int, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Children of random parent pairs; each pair swaps one role's tiles across all levels with prob. rate."""
    u = rng.random(((n_children + 1) // 2, 4))
    return crossover_kernel(np.ascontiguousarray(parents), n_children, rate, u)


def reorder(pop: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    u = rng.random((pop.shape[0], 4))
    reorder_kernel(pop, rate, u)
    return pop


def mutate_tiles(pop: np.ndarray, space: GenomeSpace, rate: float, loci: int,
                 rng: np.random.Generator) -> np.ndarray:
    u = rng.random((pop.shape[0], max(loci, 1), 4))
    tile_mutation_kernel(pop, rate, loci, u, space.sizes, space.lo, space.exists, space.par_allowed, space.top_n,
                         space.cluster_options)
    return pop


def mutate_parallel(pop: np.ndarray, space: GenomeSpace, rate: float, rng: np.random.Generator) -> np.ndarray:
    u = rng.random((pop.shape[0], 4))
    parallel_mutation_kernel(pop, rate, u, space.sizes, space.par_allowed, space.top_n, space.cluster_options)
    return pop


@njit(cache=True)
def vary_kernel(parents: np.ndarray, n_children: int, u: np.ndarray, xo_rate: float, reorder_rate: float,
                tile_rate: float, loci: int, par_rate: float, sizes: np.ndarray, lo: np.ndarray, exists: np.ndarray,
                par_allowed: np.ndarray, top_n: np.ndarray, cluster_opts: np.ndarray, num_pes: int, lanes: int,
                pow2_kc: int, window: np.ndarray, step: np.ndarray) -> np.ndarray:
    """One generation's variation in one call: crossover, reorder, tile and parallel mutation, repair.

    u holds every uniform draw, laid out as [pairs x 4 | n x 4 | n x loci x 4 | n x 4]."""
    n = n_children
    pairs = (n + 1) // 2
    a = pairs * 4
    b = a + n * 4
    c = b + n * loci * 4
    d = c + n * 4
    kids = crossover_kernel(parents, n, xo_rate, u[:a].reshape(pairs, 4))
    reorder_kernel(kids, reorder_rate, u[a:b].reshape(n, 4))
    tile_mutation_kernel(kids, tile_rate, loci, u[b:c].reshape(n, loci, 4), sizes, lo, exists, par_allowed, top_n,
                         cluster_opts)
    parallel_mutation_kernel(kids, par_rate, u[c:d].reshape(n, 4), sizes, par_allowed, top_n, cluster_opts)
    repair_kernel(kids, sizes, lo, exists, par_allowed, top_n, cluster_opts, num_pes, lanes, pow2_kc, window, step)
    return kids


def vary(parents: np.ndarray, n_children: int, space: GenomeSpace, crossover_rate: float, reorder_rate: float,
         tile_rate: float, loci: int, parallel_rate: float, rng: np.random.Generator) -> np.ndarray:
    """Children of `parents` after every operator and repair (the same operators as above, fused: one call)."""
    loci_draws = max(loci, 1)
    size = ((n_children + 1) // 2) * 4 + n_children * 4 * (2 + loci_draws)
    u = rng.random(size)
    return vary_kernel(np.ascontiguousarray(parents), n_children, u, crossover_rate, reorder_rate, tile_rate, loci,
                       parallel_rate, *space.kernel_args())
