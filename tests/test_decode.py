"""Decoding genomes to MAESTRO mappings: hand-worked DFSL, array form, and acceptance by the cost model."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from qmaestro import Accelerator, Layer, Precision
from qmaestro.arrays import encode_many
from qgamma.decode import decode_batch, to_dfsl, to_mapping, window_offset
from qgamma.genome import genome_from_lists, genome_space, random_population, repair
from qgamma.settings import Heuristics

ACC = Accelerator.load("edge16")


def test_hand_worked_two_level_conv():
    layer = Layer("t", K=8, C=4, R=3, S=3, Y=10, X=12)
    space = genome_space(layer, ACC)
    g = genome_from_lists([
        [["K", 4], ["K", 2], ["C", 4], ["Y", 5], ["X", 12], ["R", 3], ["S", 3]],
        [["C", 4], ["K", 1], ["C", 1], ["Y", 3], ["X", 3], ["R", 3], ["S", 3]],
    ])
    assert to_dfsl(g, space) == "\n".join([
        "SpatialMap(2,2) K;", "TemporalMap(4,4) C;", "TemporalMap(5,3) Y;", "TemporalMap(12,10) X;",
        "TemporalMap(3,3) R;", "TemporalMap(3,3) S;", "Cluster(4,P);",
        "TemporalMap(1,1) K;", "SpatialMap(1,1) C;", "TemporalMap(3,1) Y;", "TemporalMap(3,1) X;",
        "TemporalMap(3,3) R;", "TemporalMap(3,3) S;"])


def test_sliding_window_offsets_with_stride():
    # tile 7 over R=3 at stride 2 covers outputs 0..2, the next tile starts 3 outputs = 6 rows later
    assert window_offset(7, 3, 2) == 6
    assert window_offset(4, 3, 2) == 2       # one output per tile
    assert window_offset(3, 3, 1) == 1       # Eyeriss-style TemporalMap(R, 1)
    assert window_offset(16, 0, 1) == 16     # no window: offset = tile
    assert window_offset(4, 1, 2) == 4       # 1x1 stride 2: never step past the tile (MAESTRO rejects it)


def test_three_level_ends_with_fu_cluster():
    layer = Layer("t", K=16, C=8, R=1, S=1, Y=7, X=7, precision=Precision.parse("int8"))
    space = genome_space(layer, ACC)
    g = genome_from_lists([
        [["K", 2], ["K", 2], ["C", 8], ["Y", 7], ["X", 7], ["R", 1], ["S", 1]],
        [["K", 8], ["K", 1], ["C", 8], ["Y", 7], ["X", 7], ["R", 1], ["S", 1]],
        [["C", 4], ["K", 1], ["C", 2], ["Y", 1], ["X", 1], ["R", 1], ["S", 1]],
    ])
    g = repair(g[None], space)[0]
    m = to_mapping(g, space)
    assert m.cluster_sizes == [8, 4]
    assert [d.dim for d in m.levels[2] if d.spatial] == ["C"]
    assert m.to_dfsl().splitlines()[-6:] == ["TemporalMap(1,1) K;", "SpatialMap(2,2) C;", "TemporalMap(1,1) Y;",
                                             "TemporalMap(1,1) X;", "TemporalMap(1,1) R;", "TemporalMap(1,1) S;"]


def test_gemm_writes_n_k_m_and_dsconv_has_no_k():
    gemm = Layer("g", type="GEMM", M=7, N=13, K=17)
    space = genome_space(gemm, ACC)
    g = genome_from_lists([
        [["K", 4], ["K", 13], ["C", 8], ["Y", 7], ["X", 1], ["R", 1], ["S", 1]],
        [["C", 4], ["K", 1], ["C", 2], ["Y", 7], ["X", 1], ["R", 1], ["S", 1]],
    ])
    assert to_dfsl(g, space).splitlines() == ["SpatialMap(13,13) N;", "TemporalMap(8,8) K;", "TemporalMap(7,7) M;",
                                              "Cluster(4,P);", "TemporalMap(1,1) N;", "SpatialMap(2,2) K;",
                                              "TemporalMap(7,7) M;"]
    ds = Layer("d", type="DSCONV", C=32, R=3, S=3, Y=30, X=30)
    dspace = genome_space(ds, ACC)
    for g in random_population(dspace, 20, np.random.default_rng(0)):
        assert all(d.dim != "K" for lvl in to_mapping(g, dspace).levels for d in lvl)


def test_batch_decode_equals_one_by_one():
    layer = Layer("t", K=64, C=32, R=3, S=3, Y=30, X=30, stride_y=2, stride_x=2, precision=Precision.parse("int4"))
    space = genome_space(layer, ACC)
    pop = random_population(space, 64, np.random.default_rng(1))
    dirs, clusters, nlevels = decode_batch(pop, space)
    d2, c2, n2 = encode_many([to_mapping(g, space) for g in pop])
    assert np.array_equal(dirs, d2) and np.array_equal(clusters, c2) and np.array_equal(nlevels, n2)


@settings(max_examples=60, deadline=None)
@given(K=st.integers(1, 128), C=st.integers(1, 128), R=st.sampled_from([1, 3, 5]), extra=st.integers(0, 40),
       stride=st.integers(1, 2), prec=st.sampled_from(["fp32", "int8", "int4", "fp16"]),
       typ=st.sampled_from(["CONV", "CONV", "DSCONV", "GEMM"]), heur=st.booleans(), seed=st.integers(0, 999))
def test_property_cost_model_accepts_every_decoded_mapping(K, C, R, extra, stride, prec, typ, heur, seed):
    """Every decoded mapping is accepted, except MAESTRO's verdict on edge tiles that no genome rule can foresee
    cheaply (the search treats it as infeasible): more MACs per cycle than units (MAESTRO counts edge work twice)."""
    from qmaestro.analysis.metrics import R_THROUGHPUT
    from qmaestro.evaluate import evaluate_batch, status_text
    if typ == "GEMM":
        layer = Layer("p", type="GEMM", M=R + extra, N=K, K=C, precision=Precision.parse(prec))
    else:
        layer = Layer("p", type=typ, K=K, C=C, R=R, S=R, Y=R + extra, X=R + extra, stride_y=stride,
                      stride_x=stride, precision=Precision.parse(prec))
    space = genome_space(layer, ACC, Heuristics() if heur else Heuristics.off())
    pop = random_population(space, 40, np.random.default_rng(seed))
    b = evaluate_batch(layer, ACC, *decode_batch(pop, space))
    tolerated = {R_THROUGHPUT}
    for i in np.flatnonzero(~b.valid):
        assert int(b.status[i]) in tolerated, (status_text(int(b.status[i])), to_dfsl(pop[i], space))
    assert (~b.valid).mean() <= 0.2
    assert np.all(b.latency[b.valid] > 0) and np.all(np.isfinite(b.energy[b.valid]))
