"""Multi-objective ranking for NSGA-II-style selection, jitted (DEAP's sortNondominated/selNSGA2 are the
reference: tests check that both give the same fronts; DEAP's per-individual Python is too slow per generation).

All objectives are minimised; rows with a non-finite objective are infeasible and rank after every front.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _dominates(a: np.ndarray, b: np.ndarray) -> bool:
    better = False
    for k in range(a.shape[0]):
        if a[k] > b[k]:
            return False
        if a[k] < b[k]:
            better = True
    return better


@njit(cache=True)
def front_ranks(fit: np.ndarray) -> np.ndarray:
    """Non-domination rank per row (0 = Pareto front); infeasible rows get n."""
    n = fit.shape[0]
    feasible = np.ones(n, dtype=np.bool_)
    for i in range(n):
        for k in range(fit.shape[1]):
            if not np.isfinite(fit[i, k]):
                feasible[i] = False
    dominated_by = np.zeros(n, dtype=np.int64)
    dominates = np.zeros((n, n), dtype=np.bool_)
    for i in range(n):
        if not feasible[i]:
            continue
        for j in range(n):
            if i != j and feasible[j] and _dominates(fit[i], fit[j]):
                dominates[i, j] = True
                dominated_by[j] += 1
    rank = np.full(n, n, dtype=np.int64)
    current = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n):
        if feasible[i] and dominated_by[i] == 0:
            current[m] = i
            m += 1
    r = 0
    while m > 0:
        nxt = np.empty(n, dtype=np.int64)
        mn = 0
        for a in range(m):
            i = current[a]
            rank[i] = r
            for j in range(n):
                if dominates[i, j]:
                    dominated_by[j] -= 1
                    if dominated_by[j] == 0:
                        nxt[mn] = j
                        mn += 1
        current = nxt
        m = mn
        r += 1
    return rank


@njit(cache=True)
def crowding(fit: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """NSGA-II crowding distance within each front (boundary points: inf)."""
    n, m = fit.shape
    dist = np.zeros(n)
    for r in np.unique(rank):
        idx = np.where(rank == r)[0]
        if idx.shape[0] <= 2 or r == n:
            for i in idx:
                dist[i] = np.inf if r != n else 0.0
            continue
        for k in range(m):
            vals = fit[idx, k]
            order = idx[np.argsort(vals, kind="mergesort")]
            lo, hi = fit[order[0], k], fit[order[-1], k]
            dist[order[0]] = np.inf
            dist[order[-1]] = np.inf
            if hi > lo:
                for a in range(1, order.shape[0] - 1):
                    dist[order[a]] += (fit[order[a + 1], k] - fit[order[a - 1], k]) / (hi - lo)
    return dist


def nsga2_order(fit: np.ndarray) -> np.ndarray:
    """Indices best first: by front, then by larger crowding distance (NSGA-II's survivor order)."""
    rank = front_ranks(np.ascontiguousarray(fit, dtype=np.float64))
    dist = crowding(np.ascontiguousarray(fit, dtype=np.float64), rank)
    return np.lexsort((-dist, rank))


def pareto_mask(fit: np.ndarray) -> np.ndarray:
    """True for the feasible rows no other row dominates (duplicated points all kept)."""
    return front_ranks(np.ascontiguousarray(fit, dtype=np.float64)) == 0
