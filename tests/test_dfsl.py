"""DFSL reading and writing: what MAESTRO accepts we accept, what it rejects we reject with file:line."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qmaestro.dfsl import load_model, parse_dataflow, parse_model, write_dataflow, write_model
from qmaestro.errors import DFSLError, InputError
from qmaestro.layer import Layer
from qmaestro.mapping import Cluster, Map, Mapping, SpatialMap, TemporalMap
from qmaestro.precision import Precision

CONV = Layer("c1", "CONV", K=64, C=32, R=3, S=5, Y=30, X=34, stride_y=1, stride_x=2)
DW = Layer("dw", "DSCONV", C=32, R=3, S=3, Y=114, X=114)
GEMM = Layer("fc", "GEMM", M=7, N=13, K=17)


def _model(body: str, typ: str = "CONV", dims: str = "K: 64, C: 32, R: 3, S: 5, Y: 30, X: 34",
           extra: str = "") -> str:
    return (f"Network n {{\nLayer c1 {{\nType: {typ}\n{extra}Stride {{ X: 2, Y: 1 }}\n"
            f"Dimensions {{ {dims} }}\nDataflow {{\n{body}\n}}\n}}\n}}\n")


# ---- reading -------------------------------------------------------------------------------------------
def test_dataflow_resolves_sz_forms_and_output_dims():
    text = ("// weight stationary\nSpatialMap(1,1) K;\nTemporalMap(Sz(R),1) Y;  // sliding\n"
            "TemporalMap(Sz(S),Sz(S)) S;\nTemporalMap(Sz(R),Sz(R)) R;\nCluster(Sz(R), L);\n"
            "SpatialMap(2,2) Y';\nTemporalMap(Sz(X'),Sz(X')) X';")
    m = parse_dataflow(text, CONV)
    # X' = (34 - 5) // 2 + 1 = 15
    assert m == Mapping([SpatialMap(1, 1, "K"), TemporalMap(3, 1, "Y"), TemporalMap(5, 5, "S"),
                         TemporalMap(3, 3, "R"), Cluster(3, physical=False), SpatialMap(2, 2, "Y'"),
                         TemporalMap(15, 15, "X'")])
    assert m.cluster_sizes == [3]


def test_dataflow_accepts_the_wrapping_block():
    assert parse_dataflow("Dataflow {\n SpatialMap(1,1) M;\n}", GEMM) == Mapping([SpatialMap(1, 1, "M")])


def test_model_with_qmaestro_precision_constants_and_dsconv_k1():
    text = ("Constant T 4;\nNetwork mbv2 {\nLayer dw {\nType: DSCONV\nPrecision { INT8 }\n"
            "Stride { X: 1, Y: 1 }\nDimensions { K: 1, C: 32, R: 3, S: 3, Y:114, X:114 }\n"
            "Dataflow {\nSpatialMap(T,T) C;\nTemporalMap(Sz(R),1) Y;\n}\n}\n}\n")
    name, [(layer, mapping)] = parse_model(text, "m.m")
    assert name == "mbv2"
    assert layer == DW.with_precision("int8")
    assert layer.K == 1
    assert mapping == Mapping([SpatialMap(4, 4, "C"), TemporalMap(3, 1, "Y")])


def test_model_with_qgamma_precision_after_dimensions_and_gemm():
    text = ("Network g {\nLayer fc {\nType: GEMM\nDimensions { K: 17, M: 7, N: 13 }\nPrecision: { INT4 }\n"
            "Dataflow {\nTemporalMap(2,5) N;\nSpatialMap(1,1) M;\nTemporalMap(16,16) K;\n}\n}\n}\n")
    _, [(layer, mapping)] = parse_model(text)
    assert layer == GEMM.with_precision("int4")
    assert mapping.directives[0] == TemporalMap(2, 5, "N")


def test_model_reads_mixed_precision_block():
    text = _model("SpatialMap(1,1) K;", extra="Precision { weights: INT4, activations: INT8 }\n")
    _, [(layer, _)] = parse_model(text)
    assert layer.precision == Precision.parse({"weights": "int4", "activations": "int8"})


def test_duplicate_directives_and_offset_larger_than_size_are_accepted_as_maestro_does():
    m = parse_dataflow("TemporalMap(2,5) N;\nTemporalMap(2,5) N;\nSpatialMap(1,1) M;", GEMM)
    assert len(m.directives) == 3


def test_structural_rules_are_left_to_the_analysis():
    # no spatial map, 3 spatial maps and a cluster of 1000: all parse (the analysis rejects them)
    parse_dataflow("TemporalMap(1,1) K;", CONV)
    parse_dataflow("SpatialMap(1,1) K;\nSpatialMap(1,1) C;\nSpatialMap(1,1) Y;\nCluster(1000,P);", CONV)


def test_model_without_dataflow_is_allowed_only_when_asked():
    text = "Network n {\nLayer c1 {\nType: CONV\nDimensions { K: 4, C: 4, R: 1, S: 1, Y: 8, X: 8 }\n}\n}\n"
    with pytest.raises(DFSLError, match=r"^m\.m:2: layer 'c1' has no Dataflow block"):
        parse_model(text, "m.m")
    _, [(layer, mapping)] = parse_model(text, "m.m", require_dataflow=False)
    assert mapping is None and layer.K == 4


# ---- rejections: file:line, the token, a fix -------------------------------------------------------------
@pytest.mark.parametrize("body, line, pattern", [
    ("SpatialMap(1,1) K;\nTemporalMap(0,0) C;", 8, r"tile size must be >= 1, got '0'"),
    ("SpatialMap(1,-2) K;", 7, r"offset must be >= 1, got '-2'"),
    ("TemporalMap(Sz(Q),Sz(Q)) C;", 7, r"Sz\(Q\) names a dimension the layer does not have"),
    ("SpatialMap(1,1) K;\n\nTemporalMap(1,1) Z;", 9, r"names dimension 'Z', which CONV layer 'c1' does not have"),
    ("SpatialMap(1,1) K;\nTemporalMap(2,2) R;", 8,
     r"Tile size of R\(2\) should be equal to dimension size of R\(3\)"),
    ("TemporalMap(3,1) R;", 7, r"Tile size of R\(3\) should be equal to tile offset of R\(1\)"),
    ("SpatialMap(1,1) K;\nCluster(4,Q);", 8, r"cluster type must be P or L, got 'Q'"),
    ("SpatialMap(1,1) K;\nTemporalMop(1,1) C;", 8, r"unknown directive 'TemporalMop'"),
    ("SpatialMap(a,1) K;", 7, r"must be a whole number, got 'a'"),
])
def test_bad_directives_name_file_line_and_fix(body, line, pattern):
    with pytest.raises(DFSLError, match=pattern) as info:
        parse_model(_model(body), "net.m")
    err = info.value
    assert err.where == f"net.m:{line}"
    assert err.fix
    assert "\n" not in err.one_line()


def test_spatial_map_on_part_of_r_is_accepted_like_maestro():
    parse_model(_model("SpatialMap(1,1) R;\nTemporalMap(1,1) K;"))


@pytest.mark.parametrize("typ", ["FC", "POOL", "LSTM"])
def test_unsupported_layer_types_are_rejected(typ):
    with pytest.raises(DFSLError, match=f"layer type {typ} is not supported") as info:
        parse_model(_model("SpatialMap(1,1) K;", typ=typ), "a.m")
    assert info.value.where == "a.m:3"


@pytest.mark.parametrize("text, pattern", [
    (_model("SpatialMap(1,1) K;", dims="K: 64, C: 0, R: 3, S: 5, Y: 30, X: 34"), r"Dimensions C must be >= 1"),
    (_model("SpatialMap(1,1) K;", dims="K: 64, C: 3, R: 3, S: 5, Y: 30"), r"misses dimension\(s\) X"),
    (_model("SpatialMap(1,1) K;", dims="K: 64, C: 3, R: 3, S: 5, Y: 30, X: 30, Z: 2"), r"unknown dimension 'Z'"),
    (_model("SpatialMap(1,1) K;", dims="K: 64, C: 3, R: 31, S: 5, Y: 30, X: 30"), r"filter 31x5 is larger"),
    (_model(""), r"has an empty Dataflow block"),
    (_model("SpatialMap(1,1) K;").replace("}\n}\n}\n", "}\n"), r"text ends where '}' closing"),
    ("Network n {\nLayer a {\nDimensions { K: 1, C: 1, R: 1, S: 1, Y: 1, X: 1 }\nStride { X: 1 }\n}\n}",
     r"Stride comes after Dimensions"),
    ("Network n {\nLayer a {\nDimensions { K: 1 }\n}\n}", r"has no Type"),
    ("Netwrk n {\n}", r"expected 'Network' or 'Constant', got 'Netwrk'"),
    ("Network n {\n}", r"has no layers"),
    (_model("SpatialMap(1,1) K;", dims="K: 64, C: 3, R: 3, S: 5, Y: 30, X: 30, K: 32"), r"K is given twice"),
])
def test_bad_models_are_rejected(text, pattern):
    with pytest.raises(DFSLError, match=pattern):
        parse_model(text, "x.m")


def test_dsconv_mapping_on_gemm_dims_is_rejected():
    with pytest.raises(DFSLError, match="does not have"):
        parse_dataflow("SpatialMap(1,1) M;", DW)
    with pytest.raises(DFSLError, match="does not have"):
        parse_dataflow("SpatialMap(1,1) Y';", GEMM)


def test_empty_dataflow_text_is_an_error():
    with pytest.raises(DFSLError, match="empty"):
        parse_dataflow("  // nothing\n", CONV, "cli")


def test_load_model_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_model(tmp_path / "nope.m")


# ---- writing ---------------------------------------------------------------------------------------------
def test_write_model_exact_text():
    m = Mapping([SpatialMap(1, 1, "K"), TemporalMap(3, 1, "Y"), Cluster(4), SpatialMap(1, 1, "C")])
    fc = GEMM.with_precision({"weights": "int4", "activations": "int8"})
    text = write_model("net", [(CONV.with_precision("int8"), m), (fc, Mapping([SpatialMap(1, 1, "M")]))])
    assert text == (
        "Network net {\nLayer c1 {\nType: CONV\nPrecision { INT8 }\nStride { X: 2, Y: 1 }\n"
        "Dimensions { K: 64, C: 32, R: 3, S: 5, Y: 30, X: 34 }\nDataflow {\nSpatialMap(1,1) K;\n"
        "TemporalMap(3,1) Y;\nCluster(4,P);\nSpatialMap(1,1) C;\n}\n}\n"
        "Layer fc {\nType: GEMM\nPrecision { weights: INT4, activations: INT8 }\n"
        "Dimensions { K: 17, M: 7, N: 13 }\nDataflow {\nSpatialMap(1,1) M;\n}\n}\n}\n")
    compat = write_model("net", [(CONV.with_precision("int8"), m)], maestro_compatible=True)
    assert "Precision" not in compat
    assert "Precision" not in write_model("net", [(CONV, m)])


def test_write_dataflow_keeps_logical_clusters():
    m = Mapping([SpatialMap(2, 2, "Y'"), Cluster(3, physical=False), TemporalMap(1, 1, "K")])
    assert write_dataflow(m) == "SpatialMap(2,2) Y';\nCluster(3,L);\nTemporalMap(1,1) K;"
    assert parse_dataflow(write_dataflow(m), CONV) == m


def test_names_maestro_cannot_read_are_refused():
    with pytest.raises(InputError, match="cannot be written"):
        write_model("my net", [(CONV, Mapping([SpatialMap(1, 1, "K")]))])
    with pytest.raises(InputError, match="cannot be written"):
        write_model("n", [(Layer("a-b", K=1, C=1), Mapping([SpatialMap(1, 1, "K")]))])


# ---- round trip ------------------------------------------------------------------------------------------
_PRECISIONS = st.sampled_from(["fp32", "fp16", "int8", "int4", "int2", "lightpe1", "lightpe2",
                               {"weights": "int4", "activations": "int8"},
                               {"weights": "fp16", "activations": "int8", "outputs": "int16"}])


@st.composite
def _layers(draw) -> Layer:
    typ = draw(st.sampled_from(["CONV", "DSCONV", "GEMM"]))
    name = draw(st.from_regex(r"[A-Za-z_][A-Za-z0-9_.]{0,12}", fullmatch=True))
    prec = Precision.parse(draw(_PRECISIONS))
    small = st.integers(1, 300)
    if typ == "GEMM":
        return Layer(name, typ, M=draw(small), N=draw(small), K=draw(small), precision=prec)
    r, s = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    return Layer(name, typ, K=draw(small), C=draw(small), R=r, S=s, Y=draw(st.integers(r, 230)),
                 X=draw(st.integers(s, 230)), stride_y=draw(st.integers(1, 4)), stride_x=draw(st.integers(1, 4)),
                 precision=prec)


@st.composite
def _layer_and_mapping(draw) -> tuple[Layer, Mapping]:
    layer = draw(_layers())
    dims = layer.dimensions()
    names = list(dims) + ([] if layer.type == "GEMM" else ["Y'", "X'"])
    dirs = []
    for _ in range(draw(st.integers(1, 14))):
        if draw(st.integers(0, 5)) == 0:
            dirs.append(Cluster(draw(st.integers(1, 64)), draw(st.booleans())))
            continue
        dim = draw(st.sampled_from(names))
        spatial = draw(st.booleans())
        if not spatial and dim in ("R", "S"):
            size = offset = dims[dim]
        else:
            size, offset = draw(st.integers(1, 512)), draw(st.integers(1, 512))
        dirs.append(Map(spatial, dim, size, offset))
    return layer, Mapping(dirs)


@settings(max_examples=100, deadline=None)
@given(st.lists(_layer_and_mapping(), min_size=1, max_size=3), st.booleans())
def test_write_then_parse_gives_back_layers_and_mappings(pairs, compat):
    text = write_model("net_1", pairs, maestro_compatible=compat)
    name, back = parse_model(text, "rt.m")
    assert name == "net_1"
    for (layer, mapping), (layer2, mapping2) in zip(pairs, back, strict=True):
        assert mapping2 == mapping
        assert layer2 == (layer.with_precision("fp32") if compat else layer)
