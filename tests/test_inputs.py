"""Typed inputs (precision, layer, accelerator, YAML) and the reference-record loader."""
from __future__ import annotations

import json
import math

import pytest

from qmaestro.accelerator import Accelerator, builtin_names
from qmaestro.errors import DFSLError, InputError, PrecisionError
from qmaestro.layer import Layer
from qmaestro.mapping import Cluster, SpatialMap, TemporalMap
from qmaestro.precision import FP32, NumberFormat, Precision
from qmaestro.reference import (EXACT_METRICS, INFORMATIONAL_METRICS, MAESTRO_FILE, QMAESTRO_FILE,
                                REQUIRED_METRICS, accelerator_from_hw, case_from_record, compare_metrics,
                                default_reference_dir, load_cases, to_float, values_match)
from qmaestro.yamlio import load_yaml


# ---- precision ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("spec, name, lanes", [
    ("fp32", "fp32", 1), ("INT8", "int8", 4), ("float16", "fp16", 2), ("int4", "int4", 8), ("int2", "int2", 16),
    ({"weights": "int4", "activations": "int8"}, "w4a8", 4),
    ({"weights": "int4", "activations": "int8", "outputs": "int16"}, "w4a8o16", 2),
    ({"weights": "fp16", "activations": "int8"}, "w:fp16/a:int8", 2),
    ("lightpe1", "lightpe1", 4), ("lightpe2", "lightpe2", 4),
])
def test_precision_names_and_lanes(spec, name, lanes):
    p = Precision.parse(spec)
    assert p.name == name
    assert p.lanes == lanes  # P = 32 // widest operand bits


@pytest.mark.parametrize("spec", [{"weights": "int4", "activations": "int8"},
                                  {"weights": "int4", "activations": "int8", "outputs": "int16"},
                                  {"weights": "fp16", "activations": "int8"},
                                  {"weights": "lightpe1", "activations": "int4"}])
def test_short_names_parse_back(spec):
    p = Precision.parse(spec)
    assert Precision.parse(p.name) == p


def test_lightpe_has_shift_coded_weights_and_int8_activations():
    p = Precision.parse("lightpe2")
    assert (p.weights.bits, p.activations, p.pe_kind) == (8, NumberFormat("int", 8), "lightpe2")


def test_precision_round_trips_through_yaml_form():
    for spec in ("int8", {"weights": "int4", "activations": "int8"}, "lightpe1"):
        p = Precision.parse(spec)
        assert Precision.parse(p.to_yaml()) == p


@pytest.mark.parametrize("spec, pattern", [
    ("int3", "unsupported precision int3"), ("fp2", "unsupported precision fp2"), ("bf16", "unknown precision"),
    (8, "cannot read precision 8"), ({"weights": "int4"}, "needs both"), ({"weights": "int4", "acts": "int8"}, "unknown"),
    ({"weights": "int8", "activations": "lightpe1"}, "weights only"), ("lightpe", "lightpe1 or lightpe2"),
    ("w3a8", "unsupported precision int3"), ("w:int4/x:int8", "unknown precision"),
])
def test_bad_precisions_are_refused(spec, pattern):
    with pytest.raises(PrecisionError, match=pattern):
        Precision.parse(spec, "here")


def test_missing_precision_is_fp32():
    assert Precision.parse(None) == FP32 and FP32.is_32bit


# ---- layer ------------------------------------------------------------------------------------------------
def test_layer_shapes_by_hand():
    # resnet18 conv1: 230x230 padded input, 7x7/2 -> (230-7)//2+1 = 112; MACs = 64*3*7*7*112*112
    conv = Layer.from_dict({"name": "conv1", "type": "CONV", "K": 64, "C": 3, "R": 7, "S": 7, "Y": 230, "X": 230,
                            "stride": 2, "precision": "int8"})
    assert (conv.out_y, conv.out_x, conv.num_macs) == (112, 112, 118013952)
    dw = Layer.from_dict({"name": "dw", "type": "dsconv", "C": 32, "R": 3, "S": 3, "Y": 114, "X": 114})
    assert (dw.K, dw.num_macs) == (1, 32 * 9 * 112 * 112)
    assert dw.dimensions() == {"K": 1, "C": 32, "R": 3, "S": 3, "Y": 114, "X": 114}
    gemm = Layer.from_dict({"name": "fc", "type": "GEMM", "M": 7, "N": 13, "K": 17})
    assert (gemm.num_macs, gemm.dimensions()) == (7 * 13 * 17, {"M": 7, "N": 13, "K": 17})
    odd = Layer.from_dict({"name": "o", "K": 3, "C": 2, "R": 2, "S": 3, "Y": 9, "X": 9, "stride": [2, 3]})
    assert (odd.stride_y, odd.stride_x, odd.out_y, odd.out_x) == (2, 3, 4, 3)


def test_layer_dict_round_trip():
    for d in ({"name": "a", "type": "CONV", "K": 8, "C": 4, "R": 3, "S": 1, "Y": 9, "X": 5, "stride": [2, 1],
               "precision": {"weights": "int4", "activations": "int8"}},
              {"name": "b", "type": "DSCONV", "C": 4, "R": 3, "S": 3, "Y": 9, "X": 9, "stride": 1, "precision": "int8"},
              {"name": "c", "type": "GEMM", "M": 2, "N": 3, "K": 4, "precision": "fp32"}):
        layer = Layer.from_dict(d)
        assert layer.to_dict() == d
        assert Layer.from_dict(layer.to_dict()) == layer


@pytest.mark.parametrize("d, pattern", [
    ({"name": "a", "K": 0, "C": 1, "R": 1, "S": 1, "Y": 1, "X": 1}, "K must be a positive integer"),
    ({"name": "a", "K": 1.5, "C": 1, "R": 1, "S": 1, "Y": 1, "X": 1}, "K must be a positive integer"),
    ({"name": "a", "K": 1, "C": 1, "R": 3, "S": 1, "Y": 2, "X": 2}, "larger than the input"),
    ({"name": "a", "K": 1, "C": 1, "R": 1, "S": 1, "Y": 1}, r"missing dimension\(s\) \['X'\]"),
    ({"name": "a", "type": "FC", "K": 1, "C": 1, "R": 1, "S": 1, "Y": 1, "X": 1}, "unknown layer type 'FC'"),
    ({"name": "a", "type": "GEMM", "M": 1, "N": 1}, "GEMM layer needs K"),
    ({"name": "a", "K": 1, "C": 1, "R": 1, "S": 1, "Y": 1, "X": 1, "color": 1}, r"unknown field\(s\) \['color'\]"),
    ({"K": 1}, "layer has no name"),
    ({"name": "a", "K": 1, "C": 1, "R": 1, "S": 1, "Y": 1, "X": 1, "stride": [1, 2, 3]}, "one number or"),
    ({"name": "a", "K": 1, "C": 1, "R": 1, "S": 1, "Y": 4, "X": 4, "padding": 1}, "padding 1 is not applied"),
    ({"name": "a", "K": 1, "C": 4, "R": 1, "S": 1, "Y": 4, "X": 4, "groups": 2}, "grouped convolution"),
])
def test_bad_layers_are_refused(d, pattern):
    with pytest.raises(InputError, match=pattern) as info:
        Layer.from_dict(d, "net.yaml: layers[0]")
    assert info.value.where and info.value.fix


# ---- accelerator and YAML ---------------------------------------------------------------------------------------
def test_bundled_edge16_is_the_qgamma_edge_machine():
    acc = Accelerator.load("edge16")
    assert "edge16" in builtin_names()
    assert (acc.num_pes, acc.l1_bytes, acc.l2_bytes, acc.noc_bw, acc.noc_latency) == (16, 512, 524288, 81920000, 1)
    assert Accelerator.from_dict(acc.to_dict()) == acc


def test_accelerator_errors(tmp_path):
    with pytest.raises(InputError, match="unknown accelerator 'edge99'"):
        Accelerator.load("edge99")
    with pytest.raises(InputError, match="missing field l2_bytes"):
        Accelerator.from_dict({"num_pes": 4, "l1_bytes": 4})
    with pytest.raises(InputError, match="num_pes must be a positive integer"):
        Accelerator.from_dict({"num_pes": 0, "l1_bytes": 4, "l2_bytes": 4})
    with pytest.raises(InputError, match=r"unknown field\(s\) \['pes'\]"):
        Accelerator.from_dict({"pes": 4, "num_pes": 4, "l1_bytes": 4, "l2_bytes": 4})
    one = Accelerator.from_dict({"num_pes": 4, "l1_bytes": 4, "l2_bytes": 4, "precisions": "INT8"})
    assert one.precisions == ("int8",)
    f = tmp_path / "mine.yaml"
    f.write_text("num_pes: 8\nl1_bytes: 64\nl2_bytes: 1024\nnoc_hops: 3\nnoc_hop_latency: 2\n")
    acc = Accelerator.load(f)
    assert (acc.name, acc.noc_latency) == ("mine", 6)


def test_yaml_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: 1\nb: [1, 2\nc: 3\n")
    with pytest.raises(InputError, match="malformed YAML") as info:
        load_yaml(bad)
    assert info.value.where.startswith(f"{bad}:")
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n")
    with pytest.raises(InputError, match="file is empty"):
        load_yaml(empty)
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match="not a text file"):
        load_yaml(binary)
    with pytest.raises(InputError, match="file not found"):
        load_yaml(tmp_path / "none.yaml")


# ---- reference records -----------------------------------------------------------------------------------------
_RECORD = {
    "id": "T0001", "source": "maestro", "category": "classic:kcp_ws", "status": "ok", "flags": [],
    "layer": {"name": "l", "net": "n", "type": "CONV", "K": 4, "C": 2, "R": 3, "S": 3, "Y": 5, "X": 5,
              "stride_y": 1, "stride_x": 1},
    "hw": {"name": "h", "num_pes": 16, "l1_size": 512, "l2_size": 1000, "noc_bw": 64, "offchip_bw": 50,
           "noc_hops": 3, "noc_hop_latency": 2, "noc_mc_support": False, "num_simd_lanes": 2},
    "mapping": "SpatialMap(1,1) K;\nTemporalMap(Sz(R),1) Y;\nCluster(2,P);\nSpatialMap(1,1) C;",
    "model_file": "Network n {\nLayer l {\nType: CONV\nStride { X: 1, Y: 1 }\n"
                  "Dimensions { K: 4, C: 2, R: 3, S: 3, Y: 5, X: 5 }\nDataflow {\nSpatialMap(1,1) K;\n"
                  "TemporalMap(Sz(R),1) Y;\nCluster(2,P);\nSpatialMap(1,1) C;\n}\n}\n}\n",
    "expected": {"runtime_cycles": 10, "throughput_macs_per_cycle": 1.72679e+07, "multicast_input": "-nan",
                 "energy_nj": 3.5},
}


def test_record_becomes_inputs():
    case = case_from_record(_RECORD)
    assert case.layer == Layer("l", K=4, C=2, R=3, S=3, Y=5, X=5)
    assert case.mapping.directives == (SpatialMap(1, 1, "K"), TemporalMap(3, 1, "Y"), Cluster(2), SpatialMap(1, 1, "C"))
    acc = case.accelerator
    # l1/l2 are element counts in MAESTRO: 4 bytes each
    assert (acc.num_pes, acc.l1_bytes, acc.l2_bytes, acc.noc_latency, acc.multicast, acc.simd_lanes) == \
        (16, 2048, 4000, 6, False, 2)
    assert case.comparable and not case.expects_rejection and not case.informational


def test_record_our_parser_rejects_is_kept_not_raised():
    rec = dict(_RECORD, status="rejected", expected=None, model_file=_RECORD["model_file"].replace("CONV", "POOL"))
    case = case_from_record(rec)
    assert isinstance(case.input_error, DFSLError) and "POOL" in case.input_error.what
    assert case.mapping is None and case.layer is not None and case.expects_rejection


def test_flagged_records_expect_rejection():
    assert case_from_record(dict(_RECORD, flags=["zero_runtime"])).expects_rejection


def test_values_match_handles_printed_doubles_and_nan():
    assert to_float("-nan") != to_float("-nan")  # NaN
    assert math.isinf(to_float("inf")) and to_float("-inf") < 0
    assert values_match(17267851.0, 1.72679e+07, exact=False)       # 6 significant digits
    assert not values_match(17267851.0, 1.72679e+07, exact=True)
    assert not values_match(17270000.0, 1.72679e+07, exact=False)   # 1.2e-5 off
    assert values_match(math.nan, "-nan", exact=False) and not values_match(0.0, "nan", exact=False)
    assert values_match(math.inf, "inf", exact=False) and not values_match(-math.inf, "inf", exact=False)
    assert values_match(-9223372036854775808, -9223372036854775808, exact=True)


def test_compare_metrics_splits_required_and_informational():
    ours = {"runtime_cycles": 10.0, "throughput_macs_per_cycle": 17267900.0, "multicast_input": math.nan,
            "energy_nj": 4.0}
    cmp = compare_metrics(ours, _RECORD["expected"])
    assert cmp.ok and cmp.informational_mismatched == (("energy_nj", 4.0, 3.5),)
    cmp = compare_metrics(dict(ours, runtime_cycles=11), _RECORD["expected"])
    assert cmp.mismatched == (("runtime_cycles", 11.0, 10.0),) and not cmp.ok
    assert compare_metrics({}, _RECORD["expected"]).missing == ("runtime_cycles", "throughput_macs_per_cycle",
                                                               "multicast_input")
    assert not set(REQUIRED_METRICS) & set(INFORMATIONAL_METRICS) and len(EXACT_METRICS) == 16


def test_reference_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("QGAMMA_REFERENCE_DIR", str(tmp_path))
    assert default_reference_dir() == tmp_path
    monkeypatch.setenv("QGAMMA_REFERENCE_DIR", str(tmp_path / "missing"))
    assert default_reference_dir() is None


def test_malformed_jsonl_names_the_line(tmp_path):
    f = tmp_path / "c.jsonl"
    f.write_text(json.dumps(_RECORD) + "\n{oops\n")
    with pytest.raises(InputError, match="malformed JSON") as info:
        load_cases(f)
    assert info.value.where == f"{f}:2"


REF = default_reference_dir()


@pytest.mark.skipif(REF is None, reason="shared reference data not found (set QGAMMA_REFERENCE_DIR)")
def test_every_shared_record_loads_and_matches_its_layer_object():
    from qmaestro.reference import layer_from_record

    cases = load_cases(REF / MAESTRO_FILE) + load_cases(REF / QMAESTRO_FILE)
    assert len(cases) == 750
    rejected_by_parser = {c.id for c in cases if c.input_error is not None}
    # only MAESTRO's parse-time rejections (zero tile, Sz(Q), FC/POOL, partial R/S), unknown dim Z, no Dataflow
    assert all(c.status == "rejected" for c in cases if c.id in rejected_by_parser)
    assert len(rejected_by_parser) == 13
    for c in cases:
        if c.input_error is None:
            assert c.layer == layer_from_record(c.record["layer"]), c.id
            assert c.mapping.num_levels == c.record["levels"], c.id


def test_hw_object_missing_option_is_named():
    hw = {k: v for k, v in _RECORD["hw"].items() if k != "noc_bw"}
    with pytest.raises(InputError, match="hw object misses 'noc_bw'"):
        accelerator_from_hw(hw, "T0001.hw")
