"""Precision semantics of evaluate: FUs per PE, bit-packing, capacity in bits, energy per word.

The first part feeds hand-made analysis metrics (element counts) into the pure scoring functions, so every
expected number is worked out by hand; the second part runs the real analysis end to end.
"""
from dataclasses import replace

import numpy as np
import pytest

from qmaestro import Accelerator, Cluster, Layer, Mapping, SpatialMap, TemporalMap
from qmaestro.errors import InvalidMappingError, PrecisionError
from qmaestro.reference import MAESTRO_FILE, default_reference_dir
from qmaestro.evaluate import (STATUS_NO_FU_LEVEL, EvaluationContext, Packing, batch_from_metrics, check_fu_level,
                               evaluation_from_metrics)

EDGE16 = Accelerator.load("edge16")
TENSORS = ("input", "filter", "output")


def layer(precision) -> Layer:
    return Layer("conv", K=16, C=16, R=3, S=3, Y=10, X=10).with_precision(precision)


def metrics(counts: dict | None = None, sizes: dict | None = None, macs=1000.0, runtime=100.0) -> dict:
    """Analysis-like metrics: 4 counts and 2 sizes per tensor, in elements."""
    m = {"runtime_cycles": runtime, "num_macs": macs}
    for t in TENSORS:
        for k in ("l1_read", "l1_write", "l2_read", "l2_write"):
            m[f"{t}_{k}"] = (counts or {}).get(f"{t}_{k}", 640.0)
        for k in ("l1_size", "l2_size"):
            m[f"{t}_{k}"] = (sizes or {}).get(f"{t}_{k}", 8.0)
    return m


# ---- FUs per PE --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("precision, lanes", [("fp32", 1), ("fp16", 2), ("int16", 2), ("int8", 4),
                                              ({"weights": "int4", "activations": "int8"}, 4), ("int4", 8)])
def test_lanes_and_units(precision, lanes):
    ctx = EvaluationContext.of(layer(precision), EDGE16)
    assert ctx.lanes == lanes
    assert ctx.num_units == 16 * lanes


def test_int8_on_16_pes_has_64_fus():
    assert EvaluationContext.of(layer("int8"), EDGE16).num_units == 64


def test_mapping_without_fu_level_is_rejected_for_p_gt_1():
    two_levels = Mapping([SpatialMap(1, 1, "K"), TemporalMap(1, 1, "C"), Cluster(16), SpatialMap(1, 1, "C")])
    check_fu_level(two_levels, 1)  # fine at 32 bits
    with pytest.raises(InvalidMappingError, match=r"needs an innermost Cluster\(4\)"):
        check_fu_level(two_levels, 4)
    with pytest.raises(InvalidMappingError, match="no Cluster level"):
        check_fu_level(Mapping([SpatialMap(1, 1, "K")]), 4)
    check_fu_level(Mapping(list(two_levels.directives) + [Cluster(4), SpatialMap(1, 1, "C")]), 4)


# ---- precision support -------------------------------------------------------------------------------------
def test_unsupported_precision_is_a_precision_error():
    with pytest.raises(PrecisionError, match="does not support lightpe1 weights"):
        EvaluationContext.of(layer("lightpe1"), EDGE16)
    fp32_only = replace(EDGE16, precisions=("fp32",))
    with pytest.raises(PrecisionError, match="does not support int8"):
        EvaluationContext.of(layer("int8"), fp32_only)
    light = replace(EDGE16, precisions=("lightpe1", "int8"))
    assert EvaluationContext.of(layer("lightpe1"), light).coefficients.mac_pj == pytest.approx(0.7172)


# ---- packing -----------------------------------------------------------------------------------------------
def test_packing_per_tensor():
    pk = Packing.of(layer({"weights": "int4", "activations": "int8"}).precision, 32)
    assert pk.bits == (8, 4, 8)                  # input = activations, filter = weights, output = activations
    assert pk.elements_per_word == (4, 8, 4)
    assert Packing.of(layer("fp32").precision, 32).elements_per_word == (1, 1, 1)
    wide = Packing.of(layer("fp32").precision, 16)  # 32-bit elements in 16-bit words: 2 words each
    assert wide.words_per_element == (2, 2, 2)


def test_32_bit_words_equal_elements_and_bits_are_32_per_element():
    ctx = EvaluationContext.of(layer("fp32"), EDGE16)
    m = metrics(counts={"input_l1_read": 1234.0}, sizes={"input_l1_size": 9.0, "filter_l1_size": 9.0,
                                                           "output_l1_size": 1.0, "input_l2_size": 100.0,
                                                           "filter_l2_size": 2304.0, "output_l2_size": 1024.0})
    e = evaluation_from_metrics(ctx, m)
    # DRAM: input/filter = their L2 fills; output = the layer's output tensor, 16 x 8 x 8 = 1024 words
    assert e.accesses_words == {**e.accesses_elements, "input_dram_read": 640.0, "filter_dram_read": 640.0,
                                "output_dram_write": 1024.0}
    assert e.l1_bits_needed == (9 + 9 + 1) * 32          # P = 1: one FU per PE
    assert e.l2_bits_needed == (100 + 2304 + 1024) * 32
    assert e.l1_bits_available == 512 * 8 and e.l2_bits_available == 524288 * 8
    assert e.fits_l1 and e.fits_l2 and e.fits


def test_capacity_in_bits_with_fus_sharing_the_pe_l1():
    # 4W8A: P = 4. One FU's tile: 9 inputs (8 bit, 4 per word -> 3 words), 9 weights (4 bit, 8 per word ->
    # 2 words), 1 output (1 word) = 6 words = 192 bits; the PE's L1 holds 4 FUs' tiles -> 768 bits.
    ctx = EvaluationContext.of(layer({"weights": "int4", "activations": "int8"}), EDGE16)
    m = metrics(sizes={"input_l1_size": 9.0, "filter_l1_size": 9.0, "output_l1_size": 1.0,
                       "input_l2_size": 1000.0, "filter_l2_size": 2304.0, "output_l2_size": 1024.0})
    e = evaluation_from_metrics(ctx, m)
    assert e.l1_bits_needed == 4 * (3 + 2 + 1) * 32
    # L2: 1000/4 = 250 words, 2304/8 = 288 words, 1024/4 = 256 words
    assert e.l2_bits_needed == (250 + 288 + 256) * 32
    assert e.fits_l1
    # 16x bigger tiles no longer fit the 4096-bit L1 (verdict, not failure: metrics are still there)
    big = evaluation_from_metrics(ctx, metrics(sizes={"input_l1_size": 144.0, "filter_l1_size": 144.0,
                                                      "output_l1_size": 16.0}))
    assert big.l1_bits_needed == 4 * (36 + 18 + 4) * 32 > 4096
    assert not big.fits_l1 and not big.fits and big.energy_nj > 0 and big.latency_cycles == 100.0


# ---- halving weight bits -------------------------------------------------------------------------------------
def test_halving_weight_bits_halves_weight_footprint_and_traffic_only():
    m = metrics(sizes={"input_l1_size": 8.0, "filter_l1_size": 16.0, "output_l1_size": 4.0,
                       "input_l2_size": 800.0, "filter_l2_size": 1600.0, "output_l2_size": 400.0})
    w8 = evaluation_from_metrics(EvaluationContext.of(layer("int8"), EDGE16), m)
    w4 = evaluation_from_metrics(EvaluationContext.of(layer({"weights": "int4", "activations": "int8"}), EDGE16), m)
    assert w8.lanes == w4.lanes == 4  # same FU organisation, so the analysis is the same
    for k in ("l1_read", "l1_write", "l2_read", "l2_write"):
        assert w8.accesses_words[f"filter_{k}"] == 160.0   # 640 / 4
        assert w4.accesses_words[f"filter_{k}"] == 80.0    # 640 / 8
        assert w4.accesses_words[f"input_{k}"] == w8.accesses_words[f"input_{k}"] == 160.0
        assert w4.accesses_words[f"output_{k}"] == w8.accesses_words[f"output_{k}"]
    # footprint: filter words 4 (L1 per FU) and 400 (L2) at 8 bits, 2 and 200 at 4 bits
    assert w8.l1_bits_needed - w4.l1_bits_needed == 4 * (4 - 2) * 32
    assert w8.l2_bits_needed - w4.l2_bits_needed == (400 - 200) * 32
    for comp in ("l1", "l2", "noc", "dram"):
        assert w4.energy_by_tensor["filter"][comp] == pytest.approx(w8.energy_by_tensor["filter"][comp] / 2)
        assert w4.energy_by_tensor["input"][comp] == pytest.approx(w8.energy_by_tensor["input"][comp])
        assert w4.energy_by_tensor["output"][comp] == pytest.approx(w8.energy_by_tensor["output"][comp])
    assert w4.energy_by_component["mac"] == w8.energy_by_component["mac"]  # 4W8A runs on the int8 MAC


def test_energy_hand_worked_int8():
    # int8 on edge16 (layer 16x16x3x3 on a 10x10 input: 16 x 8 x 8 outputs): words = elements / 4 = 160 per
    # count; coefficients (pJ): MAC 0.826, L1 512 B r/w 0.291/0.273,
    # L2 512 KiB r/w 16.3/16.2, NoC 0.1143 x 32 x 1 hop = 3.6576 per word, DRAM 20.3125 x 32 = 650 per word.
    e = evaluation_from_metrics(EvaluationContext.of(layer("int8"), EDGE16), metrics(macs=1000.0, runtime=100.0))
    w = 160.0
    assert e.energy_by_component["mac"] == pytest.approx(1000 * 0.826e-3)
    assert e.energy_by_component["l1"] == pytest.approx(3 * w * (0.291 + 0.273) * 1e-3)
    assert e.energy_by_component["l2"] == pytest.approx(3 * w * (16.3 + 16.2) * 1e-3)
    assert e.energy_by_component["noc"] == pytest.approx(3 * w * 3.6576e-3)
    # DRAM: input and filter L2 fills (160 words each) + the output tensor, 16 x 8 x 8 / 4 = 256 words
    assert e.energy_by_component["dram"] == pytest.approx((w + w + 256) * 650e-3)
    assert e.accesses_words["output_dram_write"] == 256
    assert e.energy_nj == pytest.approx(sum(e.energy_by_component.values()))
    assert e.edp == pytest.approx(e.energy_nj * 100.0)
    assert e.utilisation == pytest.approx(1000 / (100 * 64))
    assert e.to_dict()["precision"] == "int8"


def test_tech_override_from_the_accelerator():
    acc = replace(EDGE16, tech={"mac_energy_nj": {"int8": 2.0e-3}, "noc_pj_per_bit_hop": 1.0})
    e = evaluation_from_metrics(EvaluationContext.of(layer("int8"), acc), metrics(macs=1000.0))
    assert e.energy_by_component["mac"] == pytest.approx(2.0)
    assert e.energy_by_component["noc"] == pytest.approx(3 * 160 * 32 * 1e-3)


# ---- batch scoring -------------------------------------------------------------------------------------------
def test_batch_matches_single_and_marks_invalid_rows():
    ctx = EvaluationContext.of(layer("int8"), EDGE16)
    rows = [metrics(macs=1000.0, runtime=100.0),
            metrics(macs=1000.0, runtime=50.0, sizes={"input_l1_size": 4096.0}),
            metrics(macs=1000.0, runtime=10.0)]
    names = list(rows[0])
    arr = np.array([[r[n] for n in names] for r in rows])
    b = batch_from_metrics(ctx, arr, np.array([0, 0, STATUS_NO_FU_LEVEL]), names)
    single = [evaluation_from_metrics(ctx, r) for r in rows[:2]]
    assert list(b.valid) == [True, True, False]
    assert list(b.fits) == [True, False, False]          # row 1 needs 4 x 1024 words of L1
    assert b.energy[0] == pytest.approx(single[0].energy_nj)
    assert b.latency[1] == 50.0 and b.edp[1] == pytest.approx(single[1].edp)
    assert np.isinf(b.latency[2]) and np.isinf(b.energy[2]) and np.isinf(b.edp[2])
    assert b.components[0] == pytest.approx([single[0].energy_by_component[c]
                                             for c in ("mac", "l1", "l2", "noc", "dram")])
    assert list(b.feasible) == [True, False, False]


# ---- end to end with the real analysis ----------------------------------------------------------------------


def ws_mapping(lay: Layer, lanes: int, pes_per_cluster: int = 4) -> Mapping:
    """Weight-stationary template: K over clusters, C over PEs and FUs, R x S windows slide over Y and X."""
    def window(dirs):
        return dirs + [TemporalMap(lay.R, lay.R, "R"), TemporalMap(lay.S, lay.S, "S"),
                       TemporalMap(lay.R, lay.stride_y, "Y"), TemporalMap(lay.S, lay.stride_x, "X")]
    levels = [window([SpatialMap(1, 1, "K"), TemporalMap(pes_per_cluster * lanes, pes_per_cluster * lanes, "C")]),
              window([SpatialMap(lanes, lanes, "C"), TemporalMap(1, 1, "K")])]
    sizes = [pes_per_cluster]
    if lanes > 1:
        levels.append(window([SpatialMap(1, 1, "C"), TemporalMap(1, 1, "K")]))
        sizes.append(lanes)
    return Mapping.from_levels(levels, sizes)


def test_int8_layer_runs_on_64_fus_end_to_end():
    from qmaestro import evaluate
    lay = layer("int8")
    e = evaluate(lay, EDGE16, ws_mapping(lay, 4))
    assert e.num_units == 64 and e.lanes == 4
    assert e.metrics["num_pes"] == 64  # the analysis ran on 16 PEs x 4 FUs
    assert e.metrics["num_macs"] == lay.num_macs
    assert e.latency_cycles > 0 and e.energy_nj > 0
    assert 0 < e.utilisation <= 1


def test_32_bit_reference_case_is_maestro_with_words_equal_elements():
    import json
    from qmaestro import evaluate
    from qmaestro.dfsl import parse_dataflow
    ref = default_reference_dir()
    if ref is None:
        pytest.skip("shared reference data not found (set QGAMMA_REFERENCE_DIR)")
    rec = next(json.loads(line) for line in open(ref / MAESTRO_FILE)
               if line.startswith('{"id": "A0012"'))
    d = rec["layer"]
    lay = Layer(d["name"], K=d["K"], C=d["C"], R=d["R"], S=d["S"], Y=d["Y"], X=d["X"])
    e = evaluate(lay, EDGE16, parse_dataflow(rec["mapping"], lay))
    exp = rec["expected"]
    assert e.num_units == 16 and e.latency_cycles == exp["runtime_cycles"]
    for k, v in e.accesses_elements.items():
        assert v == exp[k] and e.accesses_words[k] == v
    assert e.l1_bits_needed == 32 * sum(e.metrics[f"{t}_l1_size"] for t in TENSORS)


def test_halving_weight_bits_end_to_end():
    from qmaestro import evaluate
    w8 = layer("int8")
    w4 = layer({"weights": "int4", "activations": "int8"})
    e8, e4 = evaluate(w8, EDGE16, ws_mapping(w8, 4)), evaluate(w4, EDGE16, ws_mapping(w4, 4))
    assert e8.metrics == e4.metrics  # same P, same mapping: the analysis sees no difference
    assert e8.latency_cycles == e4.latency_cycles
    for k in ("l1_read", "l1_write", "l2_read", "l2_write"):
        el = e8.accesses_elements[f"filter_{k}"]
        assert e8.accesses_words[f"filter_{k}"] == -(-el // 4)
        assert e4.accesses_words[f"filter_{k}"] == -(-el // 8)
        assert e4.accesses_words[f"input_{k}"] == e8.accesses_words[f"input_{k}"]
        assert e4.accesses_words[f"output_{k}"] == e8.accesses_words[f"output_{k}"]
    assert e4.energy_by_tensor["filter"]["dram"] == pytest.approx(e8.energy_by_tensor["filter"]["dram"] / 2)
    assert e4.energy_by_tensor["input"] == e8.energy_by_tensor["input"]
    assert e4.energy_nj < e8.energy_nj


def test_missing_fu_level_single_and_batch():
    from qmaestro import evaluate, evaluate_batch
    from qmaestro.arrays import encode_many
    lay = layer("int8")
    two_level = ws_mapping(lay, 1, pes_per_cluster=8)  # ends with Cluster(8), not the 4 FUs
    with pytest.raises(InvalidMappingError, match=r"Cluster\(4\)"):
        evaluate(lay, EDGE16, two_level)
    b = evaluate_batch(lay, EDGE16, *encode_many([ws_mapping(lay, 4), two_level]))
    assert list(b.status) == [0, STATUS_NO_FU_LEVEL]
    assert list(b.valid) == [True, False] and np.isinf(b.energy[1])


def test_batch_equals_single_evaluations():
    from qmaestro import evaluate, evaluate_batch
    from qmaestro.arrays import encode_many
    lay = layer("int8")
    maps = [ws_mapping(lay, 4, p) for p in (1, 2, 4, 16)]
    b = evaluate_batch(lay, EDGE16, *encode_many(maps))
    for i, m in enumerate(maps):
        e = evaluate(lay, EDGE16, m)
        assert b.status[i] == 0
        assert b.latency[i] == e.latency_cycles
        assert b.energy[i] == pytest.approx(e.energy_nj, rel=1e-12)
        assert b.fits_l1[i] == e.fits_l1 and b.fits_l2[i] == e.fits_l2
        assert b.l1_bits[i] == e.l1_bits_needed


def test_capacity_is_a_verdict_not_a_failure():
    from qmaestro import evaluate
    tiny = replace(EDGE16, l1_bytes=4)
    lay = layer("int8")
    e = evaluate(lay, tiny, ws_mapping(lay, 4))
    assert not e.fits_l1 and not e.fits
    assert e.latency_cycles == evaluate(lay, EDGE16, ws_mapping(lay, 4)).latency_cycles


# ---- properties over arbitrary counts -----------------------------------------------------------------------
from hypothesis import given, settings, strategies as st  # noqa: E402

_counts = st.integers(min_value=0, max_value=10**9).map(float)  # element counts are whole numbers


@settings(max_examples=40, deadline=None)
@given(st.lists(_counts, min_size=18, max_size=18), st.sampled_from([2, 4, 8]))
def test_narrower_weights_never_cost_more(values, weight_bits):
    keys = [f"{t}_{k}" for t in TENSORS for k in ("l1_read", "l1_write", "l2_read", "l2_write", "l1_size",
                                                   "l2_size")]
    m = {**dict(zip(keys, values)), "runtime_cycles": 100.0, "num_macs": 1000.0}
    wide = evaluation_from_metrics(EvaluationContext.of(layer("int8"), EDGE16), m)
    narrow = evaluation_from_metrics(
        EvaluationContext.of(layer({"weights": f"int{weight_bits}", "activations": "int8"}), EDGE16), m)
    assert narrow.energy_nj <= wide.energy_nj * (1 + 1e-12)
    assert narrow.l1_bits_needed <= wide.l1_bits_needed and narrow.l2_bits_needed <= wide.l2_bits_needed
    for k, v in wide.accesses_words.items():
        assert narrow.accesses_words[k] <= v
        if k in wide.accesses_elements:
            assert v <= wide.accesses_elements[k] + 1e-9  # packing never adds words


def _reference_sample(step: int = 12) -> list:
    """Every `step`-th comparable 32-bit MAESTRO case (CONV, DSCONV and GEMM, 1 to 4 levels)."""
    import json
    from qmaestro.reference import case_from_record
    ref = default_reference_dir()
    if ref is None:
        return []
    cases = [case_from_record(json.loads(line)) for line in open(ref / MAESTRO_FILE)]
    return [c for c in cases if c.comparable and c.mapping is not None][::step]


@pytest.mark.parametrize("case", _reference_sample(), ids=lambda c: c.id)
def test_32_bit_evaluate_reduces_to_maestro(case):
    from qmaestro import evaluate
    e = evaluate(case.layer, case.accelerator, case.mapping)
    assert e.lanes == 1 and e.num_units == case.accelerator.num_pes
    assert e.latency_cycles == case.expected["runtime_cycles"]
    for k, v in e.accesses_elements.items():
        assert v == case.expected[k] and e.accesses_words[k] == v  # P = 1, one element per 32-bit word
    assert e.l1_bits_needed == 32 * sum(e.metrics[f"{t}_l1_size"] for t in TENSORS)
    assert e.l2_bits_needed == 32 * sum(e.metrics[f"{t}_l2_size"] for t in TENSORS)
    assert e.energy_nj == pytest.approx(sum(e.energy_by_component.values()))
    assert e.energy_by_component["mac"] == pytest.approx(e.metrics["num_macs"] * 10.752e-3)  # fp32 MAC
