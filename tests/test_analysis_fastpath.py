"""The analysis kernel's fast level scan (factor tables) gives exactly the general per-case scan's results."""
from __future__ import annotations

import numpy as np
import pytest

from qmaestro.accelerator import Accelerator
from qmaestro.analysis import analyze_batch_detailed
from qmaestro.arrays import MAX_DIRS, empty_batch, hw_array, layer_array
from qmaestro.layer import Layer

LAYERS = [
    Layer(name="a", K=16, C=8, R=3, S=3, Y=14, X=14),
    Layer(name="b", K=7, C=5, R=5, S=5, Y=17, X=11, stride_y=2, stride_x=2),
    Layer(name="c", K=64, C=32, R=1, S=1, Y=9, X=9),
    Layer(name="d", K=6, C=12, R=3, S=2, Y=10, X=13, stride_y=3, stride_x=1),
    Layer(name="r18", K=128, C=128, R=3, S=3, Y=30, X=30),
]


def _fuzz(layer: Layer, n: int, rng: np.random.Generator):
    """Random directives of every kind: 1-4 levels, 0-2 SpatialMaps, any offsets, empty slots, Y'/X'."""
    la = layer_array(layer)
    dirs, clusters, nlev = empty_batch(n)
    for i in range(n):
        levels = int(rng.integers(1, 5))
        nlev[i] = levels
        for lvl in range(1, levels):
            clusters[i, lvl] = int(rng.choice([1, 2, 3, 4, 8]))
        for lvl in range(levels):
            nd = int(rng.integers(2, 8))
            dims = rng.permutation(8)[:nd]
            nsp = int(rng.choice([1, 1, 1, 2, 0]))
            for j, d in enumerate(dims):
                full = max(int(la[1 + d]), 1)
                if d in (2, 3):
                    size = ofs = full
                else:
                    size = int(rng.integers(1, full + 2))
                    ofs = int(rng.integers(1, size + 1)) if rng.random() < 0.8 else int(rng.integers(1, full + 3))
                dirs[i, lvl, j] = (2 if j < nsp else 1, d, size, ofs)
            if rng.random() < 0.3:
                dirs[i, lvl] = dirs[i, lvl][rng.permutation(MAX_DIRS)]
    return dirs, clusters, nlev


def _tiled(layer: Layer, n: int, rng: np.random.Generator, lanes: int = 4):
    """GA-like 3-level mappings: all six dims per level, tiles within the parent tile, one SpatialMap."""
    full = {0: layer.K, 1: layer.C, 2: layer.R, 3: layer.S, 4: layer.Y, 5: layer.X}
    dirs, clusters, nlev = empty_batch(n)
    for i in range(n):
        nlev[i] = 3
        clusters[i, 1] = int(rng.choice([1, 2, 4]))
        clusters[i, 2] = lanes
        parent = dict(full)
        for lvl in range(3):
            sp = int(rng.choice([1, 4, 5] if lvl == 2 else [0, 1, 4, 5]))
            tiles = {d: (full[d] if d in (2, 3) else int(rng.integers(full[2] if d == 4 else full[3] if d == 5 else 1,
                                                                        parent[d] + 1))) for d in full}
            for j, d in enumerate(rng.permutation(6)):
                t = tiles[d]
                ofs = max(1, t - (full[2] if d == 4 else full[3]) + 1) if d in (4, 5) else t
                dirs[i, lvl, j] = (2 if d == sp else 1, d, t, ofs)
            parent = tiles
    return dirs, clusters, nlev


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype == np.float64:
        return bool(np.array_equal(a.view(np.int64), b.view(np.int64)))
    return bool(np.array_equal(a, b))


@pytest.mark.parametrize("gen", [_fuzz, _tiled])
@pytest.mark.parametrize("acc_name", ["edge16", "eyeriss168"])
def test_fast_scan_equals_general_scan(gen, acc_name):
    rng = np.random.default_rng(2024)
    acc = Accelerator.load(acc_name)
    for layer in LAYERS:
        dirs, clusters, nlev = gen(layer, 150, rng)
        for units in (acc.num_pes, acc.num_pes * 4):
            args = (layer_array(layer), hw_array(acc, units), dirs, clusters, nlev)
            fast = analyze_batch_detailed(*args)
            slow = analyze_batch_detailed(*args, fast=False)
            assert (fast[1] == 0).any()
            for x, y in zip(fast, slow):
                assert _same(x, y)


def test_results_do_not_depend_on_batch_order():
    rng = np.random.default_rng(7)
    acc = Accelerator.load("edge16")
    layer = LAYERS[-1]
    dirs, clusters, nlev = _tiled(layer, 120, rng)
    args = (layer_array(layer), hw_array(acc, acc.num_pes * 4))
    ref = analyze_batch_detailed(*args, dirs, clusters, nlev)
    perm = rng.permutation(len(nlev))
    got = analyze_batch_detailed(*args, dirs[perm], clusters[perm], nlev[perm])
    for x, y in zip(got, ref):
        assert _same(x, y[perm])
    one = [analyze_batch_detailed(*args, dirs[i:i + 1], clusters[i:i + 1], nlev[i:i + 1]) for i in range(10)]
    for i, r in enumerate(one):
        for x, y in zip(r, ref):
            assert _same(x[0], y[i])


def _siblings(dirs, clusters, nlev, rng):
    """Copies of each mapping with one directive's size/offset (sometimes its kind) changed: consecutive
    mappings of a batch share most directives and shapes, where state carried between mappings would show."""
    out = []
    for i in range(len(nlev)):
        for _ in range(3):
            d = dirs[i].copy()
            lvl = int(rng.integers(0, nlev[i]))
            js = np.nonzero(d[lvl, :, 0])[0]
            if len(js) == 0:
                continue
            j = int(rng.choice(js))
            d[lvl, j, 2] = max(1, d[lvl, j, 2] + int(rng.integers(-2, 3)))
            d[lvl, j, 3] = max(1, min(d[lvl, j, 3], d[lvl, j, 2]) + int(rng.integers(-1, 2)))
            if rng.random() < 0.3:
                d[lvl, j, 0] = 3 - d[lvl, j, 0]      # temporal <-> spatial
            out.append((d, clusters[i].copy(), nlev[i]))
    return (np.array([o[0] for o in out]), np.array([o[1] for o in out]), np.array([o[2] for o in out]))


@pytest.mark.parametrize("gen", [_fuzz, _tiled])
@pytest.mark.parametrize("fast", [True, False])
def test_batch_state_equals_cold_runs(gen, fast):
    """The engine keeps state between mappings of a batch (memo hash generations, the per-slot sub-cluster
    shape cache, scratch tables): every mapping of a batch, in any order and next to near-identical
    siblings, gets exactly what it gets alone (cold state)."""
    rng = np.random.default_rng(11)
    acc = Accelerator.load("edge16")
    for layer in LAYERS[::2]:
        dirs, clusters, nlev = _siblings(*gen(layer, 30, rng), rng)
        args = (layer_array(layer), hw_array(acc, acc.num_pes * 4))
        cold = [analyze_batch_detailed(*args, dirs[i:i + 1], clusters[i:i + 1], nlev[i:i + 1], fast=fast)
                for i in range(len(nlev))]
        assert any(c[1][0] == 0 for c in cold)
        for perm in (np.arange(len(nlev)), rng.permutation(len(nlev)), np.arange(len(nlev))[::-1]):
            got = analyze_batch_detailed(*args, dirs[perm], clusters[perm], nlev[perm], fast=fast)
            for row, i in enumerate(perm):
                for x, y in zip(got, cold[i]):
                    assert _same(x[row], y[0])

