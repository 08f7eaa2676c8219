"""qmaestro.analysis and qmaestro.arrays: hand-worked MAESTRO numbers, rejections, array contract."""
from __future__ import annotations

import math

import numpy as np
import pytest

from qmaestro.accelerator import Accelerator
from qmaestro.layer import Layer
from qmaestro.mapping import Cluster, Mapping, SpatialMap, TemporalMap
from qmaestro.analysis import (METRIC_INDEX, METRIC_NAMES, NUM_METRICS, REASONS, analyze, analyze_batch,
                               analyze_batch_detailed)
from qmaestro.analysis.cases import ST_EDGE, directive_states, level_states, next_case, state_shape
from qmaestro.analysis.cmath import cdiv, cmod, wrap_int32
from qmaestro.analysis.levels import MAX_LEVEL_DIRS, NLP, TENSOR_DIMS, build_levels
from qmaestro.arrays import (DIM_INDEX, MAX_DIRS, MAX_LEVELS, NUM_DIMS, decode, empty_batch, encode, encode_many,
                             hw_array, layer_array)
from qmaestro.errors import InvalidMappingError


def acc(num_pes=4, noc_bw=2, offchip_bw=4, hops=1, hop_latency=1, lanes=1) -> Accelerator:
    return Accelerator(name="t", num_pes=num_pes, l1_bytes=512, l2_bytes=1 << 20, noc_bw=noc_bw,
                       offchip_bw=offchip_bw, noc_hops=hops, noc_hop_latency=hop_latency, simd_lanes=lanes)


K4 = Layer(name="k4", K=4, C=1, R=1, S=1, Y=1, X=1)
CONV3 = Layer(name="c3", K=2, C=2, R=3, S=3, Y=6, X=6)


def test_hand_worked_one_level_k_parallel():
    """K=4 output channels on 4 PEs, one MAC each; every other dimension is size 1 (worked in comments)."""
    m = analyze(K4, acc(), Mapping([SpatialMap(1, 1, "K")]))
    # one iteration case (everything at init): 4 PEs x 1 MAC; ingress 1 input + 4 weights = 5 elements
    assert m["runtime_cycles"] == 4           # all-init case: compute 1 + ingress (1 hop + ceil(5/2) - 1 = 3)
    assert m["num_macs"] == 4 and m["throughput_macs_per_cycle"] == 1.0
    assert m["ingress_delay_max"] == 3 and m["egress_delay_max"] == 2 and m["compute_delay_avg"] == 1
    assert m["noc_bw_req"] == 5 and m["avg_bw_req"] == 5       # max(5, 4) elements / 1 compute cycle
    assert m["offchip_bw_req"] == 5                            # (2 + 8) L2 elements / 1 cycle / 2 (double buffer)
    assert (m["input_l1_read"], m["input_l1_write"], m["input_l2_read"], m["input_l2_write"]) == (4, 1, 1, 1)
    assert (m["filter_l1_read"], m["filter_l1_write"], m["filter_l2_read"], m["filter_l2_write"]) == (4, 4, 4, 4)
    assert (m["output_l1_read"], m["output_l1_write"], m["output_l2_read"], m["output_l2_write"]) == (4, 4, 4, 4)
    assert m["input_reuse_factor"] == 4 and m["filter_reuse_factor"] == 1
    # double-buffered: L2 holds 2x the per-step traffic (input 1, weights 4, outputs 4), L1 2x one tile of each
    assert (m["input_l2_size"], m["filter_l2_size"], m["output_l2_size"]) == (2, 8, 8)
    assert m["l2_size_req"] == 18 and m["l1_size_req"] == 6
    assert (m["input_l1_size"], m["filter_l1_size"], m["output_l1_size"]) == (2, 2, 2)
    assert m["avg_utilized_pes"] == 4 and m["arithmetic_intensity"] == pytest.approx(0.8)
    assert m["num_total_input_pixels"] == 1 and m["num_total_weight_pixels"] == 4
    # MAESTRO's energy: 0.00023 nJ x (18.61 x 14 L2 accesses + 1.68 x 21 L1 accesses) for a 1-level mapping
    assert m["energy_nj"] == pytest.approx(0.00023 * (18.61 * 14 + 1.68 * 21))
    assert m["pe_power"] == pytest.approx(4 * 1.2223) and m["l1_power"] == pytest.approx(4 * 0.00345 * 6)
    assert m["num_pes"] == 4 and m["vector_width"] == 1


def test_keys_are_the_reference_columns_plus_buffer_sizes():
    m = analyze(K4, acc(), Mapping([SpatialMap(1, 1, "K")]))
    assert tuple(m) == METRIC_NAMES and len(METRIC_NAMES) == NUM_METRICS == 56
    assert METRIC_NAMES[-6:] == ("input_l1_size", "filter_l1_size", "output_l1_size", "input_l2_size",
                                 "filter_l2_size", "output_l2_size")


def test_num_units_overrides_the_pe_count():
    m4 = analyze(K4, acc(), Mapping([SpatialMap(1, 1, "K")]))
    m2 = analyze(K4, acc(), Mapping([SpatialMap(1, 1, "K")]), num_units=2)
    assert m2["num_pes"] == 2 and m2["num_macs"] == 4
    assert m2["avg_utilized_pes"] == 2 and m4["avg_utilized_pes"] == 4
    # 2 PEs: an all-init case (ingress 1 + 2 weights -> 2 cycles, + 1 compute) and a steady case
    # (2 new weights: 1 cycle) -> 3 + 1 cycles
    assert m2["runtime_cycles"] == 4 and (m2["ingress_delay_min"], m2["ingress_delay_max"]) == (1, 2)
    assert m2["filter_l2_read"] == 4 and m2["input_l2_read"] == 1


def test_output_centric_rows_equal_their_input_centric_form():
    """Y'/X' tiles become input tiles Y = Y' + R - 1 with the same offset (MAESTRO's conversion)."""
    out_c = Mapping([SpatialMap(1, 1, "K"), TemporalMap(1, 1, "C"), TemporalMap(3, 3, "R"), TemporalMap(3, 3, "S"),
                     TemporalMap(2, 2, "Y'"), TemporalMap(1, 1, "X'")])
    in_c = Mapping([SpatialMap(1, 1, "K"), TemporalMap(1, 1, "C"), TemporalMap(3, 3, "R"), TemporalMap(3, 3, "S"),
                    TemporalMap(4, 2, "Y"), TemporalMap(3, 1, "X")])
    assert analyze(CONV3, acc(), out_c) == analyze(CONV3, acc(), in_c)


def test_batch_and_single_use_the_same_kernel():
    maps = [Mapping([SpatialMap(1, 1, "K"), TemporalMap(1, 1, "C"), TemporalMap(3, 1, "Y"), TemporalMap(3, 1, "X")]),
            Mapping([SpatialMap(1, 1, "C"), TemporalMap(3, 1, "Y"), Cluster(2), SpatialMap(1, 1, "K"),
                     TemporalMap(3, 1, "X")]),
            Mapping([TemporalMap(1, 1, "K")])]   # rejected: no spatial map
    a = acc()
    metrics, status = analyze_batch(layer_array(CONV3), hw_array(a), *encode_many(maps))
    assert metrics.shape == (3, NUM_METRICS) and status.dtype == np.int64
    for k, mp in enumerate(maps[:2]):
        assert status[k] == 0
        single = analyze(CONV3, a, mp)
        assert [single[n] for n in METRIC_NAMES] == list(metrics[k])
    assert status[2] > 0 and np.isnan(metrics[2]).all()
    assert "no SpatialMap" in REASONS[status[2]]


@pytest.mark.parametrize("mapping, text", [
    (Mapping([TemporalMap(1, 1, "K")]), "level 0: no SpatialMap"),
    (Mapping([SpatialMap(1, 1, "K"), SpatialMap(1, 1, "C"), SpatialMap(3, 1, "Y")]), "3 SpatialMaps"),
    (Mapping([SpatialMap(1, 1, "K"), TemporalMap(2, 2, "R")]), "must cover the whole filter"),
    (Mapping([SpatialMap(1, 1, "K"), Cluster(8), SpatialMap(1, 1, "C")]), "multiply to 8, more than the 4"),
    (Mapping([SpatialMap(1, 1, "K"), TemporalMap(0, 1, "C")]), "size 0 and offset 1"),
    (Mapping([SpatialMap(1, 1, "M")]), "dimension M does not exist"),
    (Mapping([SpatialMap(1, 1, "K"), TemporalMap(3, 1, "Y"), TemporalMap(3, 1, "X"), Cluster(2),
              SpatialMap(1, 1, "C"), TemporalMap(1, 1, "X")]), "level 1: X tile 1 is smaller than S=3"),
    (Mapping([SpatialMap(1, 1, "K"), TemporalMap(2, 1, "Y")]), "level 0: Y tile 2 is smaller than R=3"),
])
def test_rejections_carry_a_readable_reason(mapping, text):
    with pytest.raises(InvalidMappingError) as exc:
        analyze(CONV3, acc(), mapping)
    assert text in str(exc.value)
    assert "{" not in str(exc.value)


def test_depthwise_k_exists_only_at_the_top_level():
    dw = Layer(name="dw", type="DSCONV", C=4, R=3, S=3, Y=6, X=6)
    ok = analyze(dw, acc(), Mapping([SpatialMap(1, 1, "C"), TemporalMap(1, 1, "K")]))
    assert ok["num_macs"] > 0
    with pytest.raises(InvalidMappingError, match="level 1: dimension K does not exist"):
        analyze(dw, acc(), Mapping([SpatialMap(1, 1, "C"), TemporalMap(1, 1, "K"), Cluster(2),
                                    SpatialMap(1, 1, "Y")]))


def test_stride_rescales_row_tiles():
    """TemporalMap(3,1) Y with R=3, stride 2 steps by 2 rows; a 1-row tile of a 1x1 filter steps by 1 inside."""
    layer = Layer(name="s2", K=1, C=1, R=3, S=1, Y=7, X=1, stride_y=2, stride_x=1)
    dirs, clusters, nlev = encode(Mapping([SpatialMap(1, 1, "K"), TemporalMap(3, 1, "Y")]))
    tables = _build(layer, acc(), dirs, clusters, nlev)
    assert tables["status"] == 0
    y = [tuple(r) for r in tables["ld"][0, :tables["ln"][0]] if r[1] == DIM_INDEX["Y"]]
    assert y == [(1, DIM_INDEX["Y"], 3, 2)]
    pw = Layer(name="pw", K=2, C=1, R=1, S=1, Y=8, X=1, stride_y=2)
    dirs, clusters, nlev = encode(Mapping([SpatialMap(1, 1, "K"), TemporalMap(2, 2, "Y"), Cluster(2),
                                           SpatialMap(1, 1, "C"), TemporalMap(1, 1, "Y")]))
    tables = _build(pw, acc(), dirs, clusters, nlev)
    top = [tuple(r[2:]) for r in tables["ld"][0, :tables["ln"][0]] if r[1] == DIM_INDEX["Y"]]
    inner = [tuple(r[2:]) for r in tables["ld"][1, :tables["ln"][1]] if r[1] == DIM_INDEX["Y"]]
    assert top == [(1, 2)]      # (2 + 2 - 1) // 2 = 1 output row: size 1, offset 1 x stride 2
    assert inner == [(1, 1)]    # inner levels step by the filter (1) when it is narrower than the stride


def _build(layer, a, dirs, clusters, nlev):
    L, D = MAX_LEVELS, MAX_LEVEL_DIRS
    t = dict(ld=np.zeros((L, D, 4), np.int64), ln=np.zeros(L, np.int64), linfo=np.zeros((L, 3), np.int64),
             sdim=np.zeros((L, NUM_DIMS), np.int64), lmap=np.zeros((L, 4, NUM_DIMS), np.int64),
             lfirst=np.zeros((L, NUM_DIMS), np.int64), llast=np.zeros((L, NUM_DIMS), np.int64),
             lp=np.zeros((L, NLP), np.int64), detail=np.zeros(5, np.int64))
    t["status"] = build_levels(layer_array(layer), hw_array(a), dirs[0], clusters[0], int(nlev[0]), t["ld"], t["ln"],
                               t["linfo"], t["sdim"], t["lmap"], t["lfirst"], t["llast"], t["lp"], t["detail"])
    return t


def test_plan_tensor_dims_match_tensor_vars():
    """build_levels plans with traffic.tensor_vars' lists, in their order (GEMM's input is M, K)."""
    from qmaestro.analysis.traffic import tensor_vars
    for ltype in range(3):
        tv, tn = np.zeros((3, 4), np.int64), np.zeros(3, np.int64)
        tensor_vars(ltype, tv, tn)
        assert TENSOR_DIMS[ltype] == tuple(tuple(int(v) for v in tv[t, :tn[t]]) for t in range(3))


def test_inner_levels_inherit_missing_directives_in_front():
    dirs, clusters, nlev = encode(Mapping([SpatialMap(1, 1, "K"), TemporalMap(1, 1, "C"), TemporalMap(3, 1, "Y"),
                                           Cluster(2), SpatialMap(1, 1, "C")]))
    t = _build(CONV3, acc(), dirs, clusters, nlev)
    names = [next(k for k, v in DIM_INDEX.items() if v == r[1]) for r in t["ld"][1, :t["ln"][1]]]
    # level 0 completed: K C Y + unrolled R S X; level 1 inherits in reverse order in front of its own C
    assert names == ["X", "S", "R", "Y", "K", "C"]
    assert t["linfo"][0, 0] == 2 and t["linfo"][1, 0] == 2      # 4 PEs / Cluster(2) clusters of 2 PEs
    assert list(t["sdim"][1, [DIM_INDEX[d] for d in "KCRSYX"]]) == [1, 1, 3, 3, 3, 6]


def test_directive_states_temporal_and_spatial():
    st = np.zeros((3, 5), np.int64)
    # TemporalMap(3,1) over 6: init, 3 steady steps, no edge
    assert directive_states(1, 3, 1, 6, 1, st) == 2 and list(st[1, :2]) == [1, 3]
    # TemporalMap(4,4) over 6: init and an edge step
    assert directive_states(1, 4, 4, 6, 1, st) == 2 and st[1, 0] == 2
    # SpatialMap(1,1) over 10 on 4 sub-clusters: init (4), 1 steady (4), edge with 2 active
    assert directive_states(2, 1, 1, 10, 4, st) == 3 and list(st[:, 0]) == [0, 1, 2]


def test_state_edge_flag_by_hand():
    """ST_EDGE: the state's sub-clusters get the edge tile (an init state at the edge, or the edge state)."""
    st = np.zeros((3, 5), np.int64)
    # TemporalMap(4,4) over 6: init (full tile, not the edge) and an edge step (2 rows left: the edge tile)
    assert directive_states(1, 4, 4, 6, 1, st) == 2
    assert list(st[:2, ST_EDGE]) == [0, 1]
    # SpatialMap(1,1) over 10 on 4 sub-clusters: init and steady take the plain tile, the edge step the edge
    assert directive_states(2, 1, 1, 10, 4, st) == 3
    assert list(st[:, ST_EDGE]) == [0, 0, 1]
    # TemporalMap(8,8) over 6: one tile, larger than the dimension: the init state itself is at the edge
    assert directive_states(1, 8, 8, 6, 1, st) == 1 and st[0, ST_EDGE] == 1



def test_state_shape_by_hand():
    # (steady occurrences, edge state?, init unrolled, init at the edge, init edge-edge, edge state edge-edge)
    # SpatialMap(1,1) over 10 on 4 sub-clusters: steps of 4; (9 / 1 + 1) / 4 - 1 = 1 steady step, then an
    # edge step with 10 - 2 x 4 = 2 rows left, both active (not edge-edge)
    assert state_shape(2, 1, 1, 10, 4) == (1, True, False, False, False, False)
    # TemporalMap(4,4) over 6: (6 - 4) / 4 = 0 steady steps, and 4 < 6 leaves an edge step
    assert state_shape(1, 4, 4, 6, 1) == (0, True, False, False, False, False)
    # SpatialMap(3,3) over 6 on 2 sub-clusters: one step covers 3 + 3 = 6 exactly: init only, unrolled
    assert state_shape(2, 3, 3, 6, 2)[:5] == (0, False, True, False, False)
    # SpatialMap(4,4) over 6 on 2: one step covers 8 > 6: init only, at the edge, its last sub-cluster edge-edge
    assert state_shape(2, 4, 4, 6, 2)[:5] == (0, False, True, True, True)
    # TemporalMap(8,8) over 6: one tile covers it, at the edge (6 < 8), never edge-edge (temporal)
    assert state_shape(1, 8, 8, 6, 1) == (0, False, True, True, False, False)

def test_case_order_is_maestros_counter_order():
    ld = np.array([[1, 0, 1, 1], [1, 1, 1, 1]], np.int64)       # two TemporalMap(1,1), dims of size 2
    st = np.zeros((2, 3, 5), np.int64)
    nst, freq, cur, pick, phase = (np.zeros(2, np.int64) for _ in range(5))
    dyn = np.zeros(NUM_DIMS, np.int64)
    dyn[0] = dyn[1] = 2
    total = level_states(ld, 2, dyn, 1, st, nst, freq)
    order = []
    for c in range(total):
        next_case(c, 2, st, nst, freq, cur, pick, phase)
        order.append(tuple(pick))
    assert order == [(0, 0), (1, 1), (1, 0), (0, 1)]


def test_c_integer_semantics():
    assert cdiv(-7, 2) == -3 and cdiv(7, 2) == 3 and cdiv(-7, -2) == 3
    assert cmod(-7, 2) == -1 and cmod(7, -2) == 1
    assert wrap_int32(2 ** 31) == -(2 ** 31) and wrap_int32(5) == 5


def test_encode_decode_round_trip_and_limits():
    m = Mapping([SpatialMap(1, 1, "K"), TemporalMap(3, 1, "Y'"), Cluster(4), SpatialMap(2, 2, "C")])
    dirs, clusters, nlev = encode(m)
    assert dirs.shape == (1, MAX_LEVELS, MAX_DIRS, 4) and list(clusters[0]) == [0, 4, 0, 0] and nlev[0] == 2
    assert tuple(dirs[0, 0, 1]) == (1, DIM_INDEX["Y'"], 3, 1)
    assert decode(dirs, clusters, nlev) == m
    too_deep = Mapping([SpatialMap(1, 1, "K")] + [d for _ in range(4) for d in (Cluster(1), SpatialMap(1, 1, "K"))])
    with pytest.raises(InvalidMappingError, match="at most 4"):
        encode(too_deep)
    d, c, n = empty_batch(3)
    assert d.shape == (3, MAX_LEVELS, MAX_DIRS, 4) and c.shape == (3, MAX_LEVELS) and n.shape == (3,)


def test_layer_and_hw_arrays():
    la = layer_array(Layer(name="s", K=8, C=4, R=3, S=3, Y=9, X=7, stride_y=2, stride_x=1))
    assert list(la[1:1 + NUM_DIMS]) == [8, 4, 3, 3, 9, 7, 7, 5, 0, 0] and list(la[-2:]) == [2, 1]
    g = layer_array(Layer(name="g", type="GEMM", M=3, N=5, K=7))
    assert g[0] == 2 and list(g[1:1 + NUM_DIMS]) == [7, 0, 0, 0, 0, 0, 0, 0, 3, 5]
    h = hw_array(acc(num_pes=16, hops=3, hop_latency=2), num_units=64)
    assert list(h) == [64, 1, 2, 6, 4]
    with pytest.raises(InvalidMappingError):
        hw_array(acc(), num_units=0)


def test_empty_slots_in_the_array_form_are_skipped():
    dirs, clusters, nlev = encode(Mapping([SpatialMap(1, 1, "K"), TemporalMap(1, 1, "C")]))
    gappy = np.zeros_like(dirs)
    gappy[0, 0, 3] = dirs[0, 0, 0]
    gappy[0, 0, 7] = dirs[0, 0, 1]
    a, b = (analyze_batch_detailed(layer_array(CONV3), hw_array(acc()), d, clusters, nlev)[0] for d in (dirs, gappy))
    assert np.array_equal(a, b, equal_nan=True)


def test_fused_traffic_equals_the_plain_reuse_rules():
    """The hot path computes all (first, edge-edge) variants in one pass; it must equal the plain functions."""
    from qmaestro.analysis.cases import case_view
    from qmaestro.analysis.traffic import (case_outputs_fused, critical_partial_sums, innermost_changing,
                                           partial_sums_all, spatial_egress, spatial_ingress, spatial_ingress_fused,
                                           tensor_masks, tensor_vars)
    from qmaestro.reference import MAESTRO_FILE, default_reference_dir, load_cases

    ref = default_reference_dir()
    if ref is None or not (ref / MAESTRO_FILE).exists():
        pytest.skip("reference records not available")
    checked = 0
    for c in load_cases(ref / MAESTRO_FILE)[::3]:
        if c.mapping is None or not c.comparable:
            continue
        dirs, clusters, nlev = encode(c.mapping)
        t = _build(c.layer, c.accelerator, dirs, clusters, nlev)
        tv, tn, tm = np.zeros((3, 4), np.int64), np.zeros(3, np.int64), np.zeros((3, NUM_DIMS), np.int64)
        tensor_vars(int(layer_array(c.layer)[0]), tv, tn)
        tensor_masks(tv, tn, tm)
        for lvl in range(int(nlev[0])):
            n, nsub, nedge = int(t["ln"][lvl]), int(t["linfo"][lvl, 0]), int(t["linfo"][lvl, 1])
            ld, mp, lf = t["ld"][lvl], t["lmap"][lvl], t["lfirst"][lvl]
            st = np.zeros((MAX_LEVEL_DIRS, 3, 5), np.int64)
            nst, freq, cur, pick, phase = (np.zeros(MAX_LEVEL_DIRS, np.int64) for _ in range(5))
            vs = np.zeros((NUM_DIMS, 5), np.int64)
            err = np.zeros(5, np.int64)
            total = level_states(ld, n, t["sdim"][lvl], nsub, st, nst, freq)
            for case in range(min(total, 40)):
                next_case(case, n, st, nst, freq, cur, pick, phase)
                case_view(ld, n, t["llast"][lvl], st, pick, vs)
                chg = innermost_changing(ld, n, vs)
                plain = (spatial_egress(ld, n, nsub, nedge, mp, lf, vs, tv, tn, tm),
                         partial_sums_all(ld, n, nsub, nedge, mp, lf, vs, tv, tn, tm),
                         critical_partial_sums(ld, n, nedge, mp, lf, vs, tv, tn, tm))
                assert case_outputs_fused(ld, n, nsub, nedge, mp, lf, vs, tv, tn, tm) == plain, (c.id, lvl, case)
                for tensor in (0, 1):
                    a = spatial_ingress(ld, n, nsub, nedge, mp, lf, vs, tv, tn, tm, tensor, chg, err)
                    b = spatial_ingress_fused(ld, n, nsub, nedge, mp, lf, vs, tv, tn, tm, tensor, chg, err)
                    assert a == b, (c.id, lvl, case, tensor)
                checked += 1
    assert checked > 500


def test_malformed_arrays_are_rejected_not_crashed():
    from qmaestro.analysis.metrics import R_BAD_DIM, R_BAD_KIND, R_BAD_NLEVELS, R_LEVELS
    dirs, clusters, nlev = encode_many([Mapping([SpatialMap(1, 1, "K")])] * 4)
    dirs[0, 0, 0, 1] = 12           # no such dimension
    dirs[1, 0, 0, 0] = 5            # no such directive kind
    nlev[2] = 0
    nlev[3] = 5
    _, status = analyze_batch(layer_array(CONV3), hw_array(acc()), dirs, clusters, nlev)
    assert list(status) == [R_BAD_DIM, R_BAD_KIND, R_BAD_NLEVELS, R_LEVELS]
