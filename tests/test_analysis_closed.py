"""Closed-form scoring (analysis/closed.py) gives exactly the case scan's scored metrics, or hands over."""
from __future__ import annotations

import numpy as np
import pytest

from qmaestro.accelerator import Accelerator
from qmaestro.analysis import METRIC_INDEX, SCORE_COLUMNS, analyze_batch, analyze_batch_detailed
from qmaestro.analysis.kernel import closed_form_codes
from qmaestro.arrays import (DIM_C, DIM_K, DIM_R, DIM_S, DIM_X, DIM_Y, HW_NOC_BW, HW_SIMD_LANES, KIND_SPATIAL,
                             KIND_TEMPORAL, empty_batch, encode,
                             hw_array, layer_array)
from qmaestro.layer import Layer
from qmaestro.mapping import Cluster, Mapping, SpatialMap, TemporalMap

from test_analysis_fastpath import LAYERS, _fuzz, _tiled

COLS = np.array(SCORE_COLUMNS)
GEMM = Layer(name="g", type="GEMM", M=24, N=20, K=18)


def _codes(layer, hw, dirs, clusters, nlev) -> np.ndarray:
    codes = np.zeros(len(nlev), dtype=np.int64)
    closed_form_codes(layer_array(layer), hw, dirs, clusters, nlev, codes)
    return codes


def _score_equals_full(layer, hw, dirs, clusters, nlev) -> None:
    full_m, full_s, full_d = analyze_batch_detailed(layer_array(layer), hw, dirs, clusters, nlev)
    m, s, d = analyze_batch_detailed(layer_array(layer), hw, dirs, clusters, nlev, score=True)
    assert np.array_equal(s, full_s)
    assert np.array_equal(d, full_d)
    ok = s == 0
    assert np.array_equal(m[ok][:, COLS].view(np.int64), full_m[ok][:, COLS].view(np.int64))
    others = np.setdiff1d(np.arange(m.shape[1]), COLS)
    assert np.isnan(m[:, others]).all()
    assert np.isnan(m[~ok]).all()


@pytest.mark.parametrize("gen", [_fuzz, _tiled])
@pytest.mark.parametrize("acc_name", ["edge16", "eyeriss168", "acc256"])
def test_score_mode_equals_full_analysis(gen, acc_name):
    rng = np.random.default_rng(99)
    acc = Accelerator.load(acc_name)
    for layer in LAYERS:
        dirs, clusters, nlev = gen(layer, 150, rng)
        for units in (acc.num_pes, acc.num_pes * 4):
            _score_equals_full(layer, hw_array(acc, units), dirs, clusters, nlev)


def test_closed_form_covers_ga_like_mappings():
    """On edge16 (unbounded bandwidth) the closed form scores nearly every GA-like mapping itself."""
    rng = np.random.default_rng(5)
    acc = Accelerator.load("edge16")
    for layer in LAYERS:
        dirs, clusters, nlev = _tiled(layer, 200, rng)
        hw = hw_array(acc, acc.num_pes * 4)
        codes = _codes(layer, hw, dirs, clusters, nlev)
        valid = analyze_batch(layer_array(layer), hw, dirs, clusters, nlev)[1] == 0
        assert (codes[valid] == 0).mean() > 0.9
        _score_equals_full(layer, hw, dirs, clusters, nlev)


def test_gemm_and_depthwise_layers():
    rng = np.random.default_rng(3)
    acc = Accelerator.load("edge16")
    dw = Layer(name="dw", type="DSCONV", K=1, C=16, R=3, S=3, Y=12, X=12)
    for layer in (GEMM, dw):
        dirs, clusters, nlev = _fuzz(layer, 300, rng)
        _score_equals_full(layer, hw_array(acc, acc.num_pes), dirs, clusters, nlev)


def _one_level(layer, directives, units):
    dirs, clusters, nlev = empty_batch(1)
    nlev[0] = 1
    for j, d in enumerate(directives):
        dirs[0, 0, j] = d
    return dirs, clusters, nlev


def test_hand_worked_pointwise():
    """K=4, C=2, 1x1 filter and output on 2 PEs; SpatialMap(1,1) K, TemporalMap(1,1) C.

    K: 4 outputs over 2 PEs -> an initial and a steady spatial step (occurrence 1 each, no edge);
    C: 2 single channels -> an initial and a steady temporal step. Four cases, each computes one
    partial sum per PE (compute delay 1; NoC delays 1 with unbounded bandwidth), so MAESTRO's runtime
    is 4 x max(1, 1, 1) plus the all-init case's ingress delay: 5 cycles; MACs = 4 x 2 = 8.
    """
    layer = Layer(name="pw", K=4, C=2, R=1, S=1, Y=1, X=1)
    acc = Accelerator.load("edge16")
    hw = hw_array(acc, 2)
    dirs, clusters, nlev = _one_level(layer, [(KIND_SPATIAL, DIM_K, 1, 1), (KIND_TEMPORAL, DIM_C, 1, 1),
                                             (KIND_TEMPORAL, DIM_R, 1, 1), (KIND_TEMPORAL, DIM_S, 1, 1),
                                             (KIND_TEMPORAL, DIM_Y, 1, 1), (KIND_TEMPORAL, DIM_X, 1, 1)], 2)
    assert _codes(layer, hw, dirs, clusters, nlev)[0] == 0
    m, s = analyze_batch(layer_array(layer), hw, dirs, clusters, nlev, score=True)
    assert s[0] == 0
    assert m[0, METRIC_INDEX["runtime_cycles"]] == 5
    assert m[0, METRIC_INDEX["num_macs"]] == 8
    _score_equals_full(layer, hw, dirs, clusters, nlev)


def test_hands_over_when_the_identities_do_not_hold():
    """Bandwidth-bound NoCs (code 4) and SIMD lanes (code 1) go to the case scan, with the same results."""
    rng = np.random.default_rng(8)
    layer = LAYERS[0]
    acc = Accelerator.load("edge16")
    dirs, clusters, nlev = _tiled(layer, 60, rng)
    narrow = hw_array(acc, acc.num_pes * 4).copy()
    narrow[HW_NOC_BW] = 4              # 4 elements per cycle
    lanes = hw_array(acc, acc.num_pes * 4).copy()
    lanes[HW_SIMD_LANES] = 2
    for hw, code in ((narrow, 4), (lanes, 1)):
        codes = _codes(layer, hw, dirs, clusters, nlev)
        assert (codes == code).sum() > 0
        _score_equals_full(layer, hw, dirs, clusters, nlev)


def test_stride_beyond_filter_edges_compute_nothing():
    """Stride 2 with a 1x1 filter: edge tiles can hold no output column; MAESTRO skips those cases and the
    closed form must too (zero partial-sum states)."""
    layer = Layer(name="s2", K=8, C=8, R=1, S=1, Y=15, X=15, stride_y=2, stride_x=2)
    rng = np.random.default_rng(21)
    acc = Accelerator.load("edge16")
    dirs, clusters, nlev = _tiled(layer, 300, rng)
    hw = hw_array(acc, acc.num_pes * 4)
    assert (_codes(layer, hw, dirs, clusters, nlev) == 0).sum() > 100
    _score_equals_full(layer, hw, dirs, clusters, nlev)


def test_steps_without_new_elements_held_by_a_later_directive():
    """ResNet18's layer3.0.downsample.0 (1x1, stride 2), a random benchmark mapping: below the top level a
    TemporalMap iterates over its parent's (strided) tile in steps that bring no new elements of its own
    dimension. MAESTRO rejects such a case only when no later directive of the level holds the input whole; here
    one does, so the closed form scores it (it used to hand it to the scan, code 6), with the scan's numbers."""
    layer = Layer(name="ds", K=256, C=128, R=1, S=1, Y=28, X=28, stride_y=2, stride_x=2)
    dirs, clusters, nlev = encode(Mapping([
        TemporalMap(242, 242, "K"), TemporalMap(1, 1, "S"), TemporalMap(11, 12, "X"), TemporalMap(1, 1, "R"),
        TemporalMap(60, 60, "C"), SpatialMap(5, 6, "Y"), Cluster(1),
        TemporalMap(4, 4, "X"), TemporalMap(5, 6, "Y"), SpatialMap(2, 2, "C"), TemporalMap(1, 1, "R"),
        TemporalMap(1, 1, "S"), TemporalMap(136, 136, "K"), Cluster(4),
        TemporalMap(1, 1, "C"), TemporalMap(4, 4, "Y"), TemporalMap(60, 60, "K"), TemporalMap(1, 1, "S"),
        TemporalMap(1, 1, "R"), SpatialMap(1, 2, "X")]))
    hw = hw_array(Accelerator.load("edge16"), 64)
    assert _codes(layer, hw, dirs, clusters, nlev)[0] == 0
    codes = np.zeros(1, dtype=np.int64)
    closed_form_codes(layer_array(layer), hw, dirs, clusters, nlev, codes, regular=True)
    assert codes[0] == 0
    _score_equals_full(layer, hw, dirs, clusters, nlev)


def test_steps_without_new_elements_on_strided_layers():
    """Random tilings of stride-2 1x1 layers: some levels step without new elements; where a case may be one
    MAESTRO rejects the closed form hands over (code 6), elsewhere it scores; either way the scan's results."""
    rng = np.random.default_rng(31)
    acc = Accelerator.load("edge16")
    hw = hw_array(acc, acc.num_pes * 4)
    seen = set()
    for shape in ((256, 128, 28), (512, 256, 14), (128, 64, 56)):
        layer = Layer(name="ds", K=shape[0], C=shape[1], R=1, S=1, Y=shape[2], X=shape[2], stride_y=2, stride_x=2)
        dirs, clusters, nlev = _tiled(layer, 400, rng)
        seen.update(_codes(layer, hw, dirs, clusters, nlev).tolist())
        _score_equals_full(layer, hw, dirs, clusters, nlev)
    assert {0, 6} <= seen
