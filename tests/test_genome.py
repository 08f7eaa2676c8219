"""Genome encoding: invariants of created and repaired individuals, heuristics, reproducibility."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from qmaestro import Accelerator, Layer, Precision
from qmaestro.errors import InputError
from qgamma.genome import (ROLE_C, ROLE_K, ROLE_NAMES, ROLE_R, ROLE_S, ROLE_X, ROLE_Y, check_genome, cluster_options,
                           duplicate_mask, genome_from_lists, genome_space, genome_to_lists, levels_for,
                           random_population, repair)
from qgamma.settings import Heuristics

ACC = Accelerator.load("edge16")


def conv(K=64, C=32, R=3, S=3, Y=30, X=30, stride=1, prec="fp32", typ="CONV"):
    return Layer("t", type=typ, K=K, C=C, R=R, S=S, Y=Y, X=X, stride_y=stride, stride_x=stride,
                 precision=Precision.parse(prec))


def tiles(genome_level):
    return {int(r): int(t) for r, t in genome_level[1:]}


def assert_invariants(pop, space):
    n, levels = pop.shape[:2]
    assert levels == space.levels
    for g in pop:
        parent = {r: int(space.sizes[r]) for r in range(6)}
        for lvl in range(levels):
            assert sorted(g[lvl, 1:, 0].tolist()) == list(range(6))
            t = tiles(g[lvl])
            for r in range(6):
                assert space.lo[r] <= t[r] <= parent[r] or not space.exists[r]
            assert t[ROLE_R] == space.sizes[ROLE_R] and t[ROLE_S] == space.sizes[ROLE_S]
            assert space.par_allowed[lvl, g[lvl, 0, 0]]
            parent = t
        c = g[1, 0, 1]
        assert c in space.cluster_options and g[0, 0, 1] == space.num_pes // c
        if levels == 3:
            assert g[2, 0, 1] == space.lanes and g[2, 0, 0] != ROLE_K


def test_levels_follow_precision():
    assert levels_for(conv(prec="fp32")) == 2
    assert levels_for(conv(prec="int8")) == 3
    assert levels_for(conv(prec={"weights": "int4", "activations": "int8"})) == 3


def test_random_population_satisfies_invariants_int8():
    space = genome_space(conv(prec="int8"), ACC)
    pop = random_population(space, 400, np.random.default_rng(1))
    assert pop.shape == (400, 3, 7, 2) and pop.dtype == np.int64
    assert_invariants(pop, space)
    assert set(pop[:, 2, 0, 1].tolist()) == {4}           # P = 32 / 8 FUs
    assert set(pop[:, 2, 0, 0].tolist()) <= {ROLE_C, ROLE_Y, ROLE_X}


def test_heuristics_restrict_parallel_dims_and_powers_of_two():
    # dims: K 64, C 3, Y 224, X 224 -> level 0 among the 3 largest (Y, X, K), never C
    layer = conv(K=64, C=3, R=7, S=7, Y=224, X=224, stride=2)
    space = genome_space(layer, ACC)
    pop = random_population(space, 500, np.random.default_rng(2))
    assert set(pop[:, 0, 0, 0].tolist()) <= {ROLE_K, ROLE_Y, ROLE_X}
    assert set(pop[:, 1, 0, 1].tolist()) <= {1, 2, 4, 8, 16}
    for g in pop:
        t0 = tiles(g[0])
        allowed = sorted((ROLE_K, ROLE_C, ROLE_Y, ROLE_X), key=lambda r: -t0[r])
        # level 1 among the 2 largest level-0 tiles (ties may admit either)
        assert t0[int(g[1, 0, 0])] >= t0[allowed[1]]
        for lvl in range(2):
            for r in (ROLE_K, ROLE_C):
                v = tiles(g[lvl])[r]
                assert v & (v - 1) == 0   # powers of two at creation


def test_heuristics_off_reach_any_parallel_dim_and_cluster():
    layer = conv(K=64, C=3, R=7, S=7, Y=224, X=224, stride=2)
    space = genome_space(layer, ACC, Heuristics.off())
    pop = random_population(space, 800, np.random.default_rng(3))
    assert ROLE_C in set(pop[:, 0, 0, 0].tolist())
    assert set(pop[:, 1, 0, 1].tolist()) - {1, 2, 4, 8, 16}   # non-powers of two appear
    assert_invariants(pop, space)


def test_fixed_cluster_is_kept():
    space = genome_space(conv(prec="int4"), ACC, cluster=4)
    pop = random_population(space, 50, np.random.default_rng(4))
    assert set(pop[:, 1, 0, 1].tolist()) == {4} and set(pop[:, 0, 0, 1].tolist()) == {4}
    assert set(pop[:, 2, 0, 1].tolist()) == {8}
    with pytest.raises(InputError):
        genome_space(conv(), ACC, cluster=17)


def test_gemm_and_dsconv_roles():
    g = Layer("g", type="GEMM", M=7, N=13, K=17)
    space = genome_space(g, ACC)
    assert space.sizes.tolist() == [13, 17, 7, 1, 1, 1]        # K role = N, C role = K, Y role = M
    assert space.dim_index.tolist() == [9, 0, 8, -1, -1, -1]
    pop = random_population(space, 100, np.random.default_rng(5))
    assert_invariants(pop, space)
    assert set(pop[:, :, 0, 0].ravel().tolist()) <= {ROLE_K, ROLE_C, ROLE_Y}
    d = Layer("d", type="DSCONV", C=32, R=3, S=3, Y=30, X=30)
    dspace = genome_space(d, ACC)
    dpop = random_population(dspace, 100, np.random.default_rng(6))
    assert ROLE_K not in set(dpop[:, :, 0, 0].ravel().tolist())


def test_same_seed_same_population_and_different_seed_differs():
    space = genome_space(conv(prec="int8"), ACC)
    a = random_population(space, 50, np.random.default_rng(7))
    b = random_population(space, 50, np.random.default_rng(7))
    c = random_population(space, 50, np.random.default_rng(8))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_repair_hand_worked():
    # K=8 C=4 R=3 S=3 Y=10 X=12, fp32 -> 2 levels
    space = genome_space(conv(K=8, C=4, Y=10, X=12), ACC)
    g = genome_from_lists([
        [["C", 99], ["K", 16], ["C", 2], ["Y", 1], ["X", 12], ["R", 1], ["S", 2]],
        [["K", 5], ["K", 4], ["C", 3], ["Y", 20], ["X", 2], ["R", 3], ["S", 3]],
    ])
    r = repair(g[None], space)[0]
    assert genome_to_lists(r) == [
        # 5 PEs per cluster -> 4 (power of two), so 16 // 4 = 4 clusters
        [["C", 4], ["K", 8], ["C", 2], ["Y", 3], ["X", 12], ["R", 3], ["S", 3]],
        [["K", 4], ["K", 4], ["C", 2], ["Y", 3], ["X", 3], ["R", 3], ["S", 3]],
    ]


def test_duplicate_mask():
    space = genome_space(conv(), ACC)
    pop = random_population(space, 4, np.random.default_rng(9))
    batch = np.stack([pop[0], pop[1], pop[0], pop[2], pop[1]])
    assert duplicate_mask(batch).tolist() == [False, False, True, False, True]
    assert duplicate_mask(batch, against=pop[2:3]).tolist() == [False, False, True, True, True]


def test_lists_round_trip_and_checks():
    space = genome_space(conv(prec="int8"), ACC)
    g = random_population(space, 1, np.random.default_rng(10))[0]
    assert np.array_equal(genome_from_lists(genome_to_lists(g)), g)
    assert np.array_equal(check_genome(g, space), g)
    with pytest.raises(InputError):
        check_genome(g[:2], space)
    bad = g.copy()
    bad[0, 1, 0] = bad[0, 2, 0]
    with pytest.raises(InputError):
        check_genome(bad, space)
    with pytest.raises(InputError):
        genome_from_lists([[["Q", 1]] * 7])


def test_cluster_options():
    assert cluster_options(16, True).tolist() == [1, 2, 4, 8, 16]
    assert cluster_options(12, True).tolist() == [1, 2, 4, 8]
    assert cluster_options(5, False).tolist() == [1, 2, 3, 4, 5]


@settings(max_examples=40, deadline=None)
@given(K=st.integers(1, 300), C=st.integers(1, 300), R=st.integers(1, 7), S=st.integers(1, 7),
       extra_y=st.integers(0, 60), extra_x=st.integers(0, 60), stride=st.integers(1, 3),
       prec=st.sampled_from(["fp32", "fp16", "int8", "int4", "int2"]), heur=st.booleans(), seed=st.integers(0, 99))
def test_property_random_individuals_are_legal(K, C, R, S, extra_y, extra_x, stride, prec, heur, seed):
    layer = conv(K=K, C=C, R=R, S=S, Y=R + extra_y, X=S + extra_x, stride=stride, prec=prec)
    space = genome_space(layer, ACC, Heuristics() if heur else Heuristics.off())
    pop = random_population(space, 30, np.random.default_rng(seed))
    assert_invariants(pop, space)
    assert np.array_equal(repair(pop, space), pop)     # legal individuals are fixed points of repair


def test_stride_larger_than_filter_tiles_hand_worked():
    # 1x1 stride 2 on 14 rows: tiles are stride multiples; an inner whole-tile map is kept only under an even split
    space = genome_space(conv(K=4, C=4, R=1, S=1, Y=14, X=14, stride=2), ACC)
    g = genome_from_lists([
        [["K", 4], ["K", 4], ["C", 4], ["Y", 9], ["X", 14], ["R", 1], ["S", 1]],
        [["K", 4], ["K", 1], ["C", 1], ["Y", 8], ["X", 14], ["R", 1], ["S", 1]],
    ])
    r = genome_to_lists(repair(g[None], space)[0])
    assert r[0][3] == ["Y", 8]        # 9 -> 8, a multiple of the stride
    assert r[1][3] == ["Y", 6]        # whole 8-row tile under an uneven split (14 = 8 + 6) -> 6
    assert r[1][4] == ["X", 14]       # whole 14-column tile of an even split stays
