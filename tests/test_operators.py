"""Variation operators on whole populations: hand-worked effects with chosen draws, bounds kept afterwards."""
from __future__ import annotations

import numpy as np

from qmaestro import Accelerator, Layer, Precision
from qgamma.genome import (ROLE_C, ROLE_K, ROLE_R, ROLE_S, genome_from_lists, genome_space, genome_to_lists,
                           random_population, repair)
from qgamma.operators import (crossover, crossover_kernel, mutate_parallel, mutate_tiles, reorder, reorder_kernel,
                              tile_mutation_kernel)
from test_genome import assert_invariants

ACC = Accelerator.load("edge16")
LAYER = Layer("t", K=8, C=4, R=3, S=3, Y=10, X=12)
DAD = genome_from_lists([
    [["K", 4], ["K", 8], ["C", 2], ["Y", 5], ["X", 12], ["R", 3], ["S", 3]],
    [["C", 4], ["K", 2], ["C", 1], ["Y", 3], ["X", 3], ["R", 3], ["S", 3]],
])
MOM = genome_from_lists([
    [["Y", 2], ["C", 4], ["Y", 10], ["K", 2], ["R", 3], ["S", 3], ["X", 4]],
    [["K", 8], ["Y", 4], ["K", 1], ["C", 4], ["X", 4], ["R", 3], ["S", 3]],
])


def test_crossover_swaps_one_dims_tiles_at_every_level():
    parents = np.stack([DAD, MOM])
    # pair draws: parent a = 0 (u 0.0), b = the other (u 0.0), crossover happens (0.0 < rate), role C (u 1/6)
    u = np.array([[0.0, 0.0, 0.0, 1.5 / 6]])
    kids = crossover_kernel(parents, 2, 0.57, u)
    dad, mom = genome_to_lists(kids[0]), genome_to_lists(kids[1])
    assert dad[0][2] == ["C", 4] and dad[1][2] == ["C", 4]          # dad's C chain is now mom's (4, 4)
    assert mom[0][1] == ["C", 2] and mom[1][3] == ["C", 1]          # and mom's is dad's (2, 1), in mom's order
    # nothing else changed
    for kid, src in ((kids[0], DAD), (kids[1], MOM)):
        same = kid[:, :, 0] == src[:, :, 0]
        assert same.all()
        diff = np.argwhere(kid[:, :, 1] != src[:, :, 1])
        assert all(src[lvl, j, 0] == ROLE_C for lvl, j in diff)


def test_crossover_without_event_copies_parents_and_keeps_bounds():
    parents = np.stack([DAD, MOM])
    kids = crossover_kernel(parents, 2, 0.57, np.array([[0.0, 0.0, 0.9, 0.0]]))
    assert np.array_equal(kids[0], DAD) and np.array_equal(kids[1], MOM)
    space = genome_space(LAYER, ACC)
    pop = random_population(space, 60, np.random.default_rng(0))
    kids = crossover(pop, 57, 1.0, np.random.default_rng(1))
    assert kids.shape == (57, 2, 7, 2)
    assert_invariants(kids, space)     # a swapped chain is one parent's whole chain: still nested


def test_reorder_swaps_two_positions_of_one_level():
    pop = DAD[None].copy()
    # rate hit (0.1 < 0.47), level int(0.75 * 2) = 1, positions 1 + int(0.0 * 6) = 1 and 1 + int(0.5 * 5) = 3,
    # bumped past the first to 4
    reorder_kernel(pop, 0.47, np.array([[0.1, 0.75, 0.0, 0.5]]))
    assert genome_to_lists(pop[0])[1] == [["C", 4], ["X", 3], ["C", 1], ["Y", 3], ["K", 2], ["R", 3], ["S", 3]]
    assert np.array_equal(pop[0, 0], DAD[0])
    untouched = DAD[None].copy()
    reorder_kernel(untouched, 0.47, np.array([[0.5, 0.75, 0.0, 0.5]]))
    assert np.array_equal(untouched[0], DAD)


def test_tile_mutation_redraws_within_parent_tile_and_keeps_rs():
    space = genome_space(LAYER, ACC)
    pop = np.repeat(DAD[None], 200, axis=0)
    # every individual: one locus, gene 1 of level 1 (K), value draw spread over [0, 1)
    u = np.zeros((200, 1, 4))
    u[:, 0, 0] = 0.0
    u[:, 0, 1] = (7 + 1 + 0.5) / 14
    u[:, 0, 2] = np.linspace(0, 0.999, 200)
    tile_mutation_kernel(pop, 1.0, 1, u, space.sizes, space.lo, space.exists, space.par_allowed, space.top_n,
                         space.cluster_options)
    ks = pop[:, 1, 1, 1]
    assert set(ks.tolist()) == set(range(1, 9))            # K's level-0 tile is 8: tiles 1..8 all reachable
    assert np.array_equal(np.delete(pop, [1], axis=1), np.repeat(np.delete(DAD[None], [1], axis=1), 200, axis=0))
    rnd = mutate_tiles(random_population(space, 200, np.random.default_rng(2)), space, 1.0, 3,
                       np.random.default_rng(3))
    rs = [r for g in rnd for lvl in g for r, t in lvl[1:] if r in (ROLE_R, ROLE_S) and t != 3]
    assert rs == []
    assert_invariants(repair(rnd, space), space)


def test_mutation_rate_zero_changes_nothing():
    space = genome_space(LAYER, ACC)
    pop = random_population(space, 50, np.random.default_rng(4))
    before = pop.copy()
    mutate_tiles(pop, space, 0.0, 3, np.random.default_rng(5))
    mutate_parallel(pop, space, 0.0, np.random.default_rng(5))
    reorder(pop, 0.0, np.random.default_rng(5))
    assert np.array_equal(pop, before)


def test_parallel_mutation_respects_fu_level_and_cluster_options():
    layer = Layer("q", K=64, C=64, R=3, S=3, Y=30, X=30, precision=Precision.parse("int8"))
    space = genome_space(layer, ACC)
    pop = mutate_parallel(random_population(space, 300, np.random.default_rng(6)), space, 1.0,
                          np.random.default_rng(7))
    pop = repair(pop, space)
    assert ROLE_K not in set(pop[:, 2, 0, 0].tolist())
    assert set(pop[:, 1, 0, 1].tolist()) <= {1, 2, 4, 8, 16}
    assert {ROLE_C, ROLE_K} & set(pop[:, 0, 0, 0].tolist())
    assert_invariants(pop, space)


def test_operators_are_reproducible():
    space = genome_space(LAYER, ACC)
    pop = random_population(space, 40, np.random.default_rng(8))

    def run(seed):
        rng = np.random.default_rng(seed)
        kids = crossover(pop, 38, 0.57, rng)
        reorder(kids, 0.47, rng)
        mutate_tiles(kids, space, 0.53, 3, rng)
        mutate_parallel(kids, space, 0.1, rng)
        return repair(kids, space)

    assert np.array_equal(run(9), run(9)) and not np.array_equal(run(9), run(10))


def test_fused_vary_gives_legal_reproducible_children():
    from qgamma.operators import vary
    layer = Layer("v", K=32, C=16, R=3, S=3, Y=20, X=20, stride_y=2, stride_x=2, precision=Precision.parse("int4"))
    space = genome_space(layer, ACC)
    parents = random_population(space, 20, np.random.default_rng(11))
    a = vary(parents, 57, space, 0.57, 0.47, 0.53, 3, 0.1, np.random.default_rng(12))
    b = vary(parents, 57, space, 0.57, 0.47, 0.53, 3, 0.1, np.random.default_rng(12))
    assert a.shape == (57, 3, 7, 2) and np.array_equal(a, b)
    assert_invariants(a, space)
    same = vary(parents, 20, space, 0.0, 0.0, 0.0, 3, 0.0, np.random.default_rng(13))
    assert all(any(np.array_equal(k, p) for p in parents) for k in same)   # no operator fired: copies only
