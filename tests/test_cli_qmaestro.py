"""The qmaestro CLI: one-line errors with exit 2, the layer + mapping YAML, evaluate and validate."""
from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap

import pytest

from qmaestro.cli import CaseResult, ValidationSummary, build_parser, main, read_inputs, read_layer_mapping
from qmaestro.mapping import Cluster, SpatialMap, TemporalMap
from qmaestro.reference import MAESTRO_FILE, default_reference_dir


LAYER_YAML = """\
name: conv2
type: CONV
K: 64
C: 64
R: 3
S: 3
Y: 58
X: 58
stride: 1
precision: fp32
"""
KCP_WS = ["SpatialMap(1,1) K", "TemporalMap(16,16) C", "TemporalMap(Sz(R),1) Y", "TemporalMap(Sz(S),1) X",
          "TemporalMap(Sz(R),Sz(R)) R", "TemporalMap(Sz(S),Sz(S)) S", "Cluster(16,P)", "SpatialMap(1,1) C",
          "TemporalMap(Sz(R),1) Y", "TemporalMap(Sz(S),1) X", "TemporalMap(Sz(R),Sz(R)) R",
          "TemporalMap(Sz(S),Sz(S)) S"]


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def _list_yaml(tmp_path, directives=KCP_WS, name="l.yaml"):
    return _write(tmp_path, name, LAYER_YAML + "mapping:\n" + "".join(f"  - {d}\n" for d in directives))


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


# ---- the layer + mapping YAML ----------------------------------------------------------------------------------
def test_yaml_list_and_text_forms_read_the_same_mapping(tmp_path):
    layer, listed = read_layer_mapping(_list_yaml(tmp_path))
    text = _write(tmp_path, "t.yaml", LAYER_YAML + "mapping: |\n" + "".join(f"  {d};\n" for d in KCP_WS))
    _, texted = read_layer_mapping(text)
    assert listed == texted
    assert (layer.name, layer.K, layer.out_y) == ("conv2", 64, 56)
    assert listed.directives[:2] == (SpatialMap(1, 1, "K"), TemporalMap(16, 16, "C"))
    assert listed.directives[6] == Cluster(16)


def test_yaml_errors_point_at_the_directive_line(tmp_path, capsys):
    bad = _list_yaml(tmp_path, KCP_WS[:3] + ["TemporalMap(Sz(Q),1) X"])
    assert main(["evaluate", str(bad)]) == 2
    # LAYER_YAML is 10 lines, `mapping:` is line 11, the 4th item line 15
    assert _one_error_line(capsys).startswith(f"error: {bad}:15: Sz(Q) names a dimension")
    block = _write(tmp_path, "b.yaml", LAYER_YAML + "mapping: |\n  SpatialMap(1,1) K;\n  TemporalMap(0,1) C;\n")
    assert main(["evaluate", str(block)]) == 2
    assert _one_error_line(capsys).startswith(f"error: {block}:13: TemporalMap tile size must be >= 1")


@pytest.mark.parametrize("body, text", [
    ("name: a\ntype: CONV\n", "no mapping: entry"),
    (LAYER_YAML + "mapping: 3\n", "x.yaml:11: mapping: must be DFSL text or a non-empty list"),
    (LAYER_YAML.replace("K: 64", "K: 0") + "mapping: SpatialMap(1,1) K;\n", "K must be a positive integer"),
    (LAYER_YAML + "colour: red\nmapping: SpatialMap(1,1) K;\n", "unknown field(s) ['colour']"),
    ("- a\n- b\n", "expected the layer fields"),
])
def test_bad_layer_yaml_is_one_line_exit_2(tmp_path, capsys, body, text):
    p = _write(tmp_path, "x.yaml", body)
    assert main(["evaluate", str(p)]) == 2
    assert text in _one_error_line(capsys)


def test_other_user_errors_are_one_line_exit_2(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "none.m")]) == 2
    assert "file not found" in _one_error_line(capsys)
    assert main(["evaluate", str(_write(tmp_path, "x.txt", "hi"))]) == 2
    assert "unknown input kind '.txt'" in _one_error_line(capsys)
    assert main(["evaluate", str(_list_yaml(tmp_path)), "--accelerator", "edge99"]) == 2
    assert "--accelerator: unknown accelerator 'edge99'" in _one_error_line(capsys)
    m = _write(tmp_path, "bad.m", "Network n {\nLayer a {\nType: FC\n}\n}\n")
    assert main(["evaluate", str(m)]) == 2
    assert f"error: {m}:3: layer type FC is not supported" in _one_error_line(capsys)
    assert main(["validate", str(tmp_path / "none.jsonl"), "--output", str(tmp_path / "o.jsonl")]) == 2
    assert "none.jsonl: file not found" in _one_error_line(capsys)


def test_argparse_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["evaluate"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2


def test_console_script_prints_one_line(tmp_path):
    exe = [sys.executable, "-c", "import sys; from qmaestro.cli import main; sys.exit(main())"]
    proc = subprocess.run(exe + ["evaluate", str(tmp_path / "nope.yaml")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {tmp_path / 'nope.yaml'}: file not found (fix: check the path)"


def test_model_file_inputs(tmp_path):
    m = _write(tmp_path, "two.m", textwrap.dedent("""\
        Network tiny {
        Layer a {
        Type: CONV
        Dimensions { K: 4, C: 4, R: 1, S: 1, Y: 8, X: 8 }
        Dataflow { SpatialMap(1,1) K; TemporalMap(1,1) C; }
        }
        Layer b {
        Type: GEMM
        Dimensions { K: 4, M: 2, N: 3 }
        Dataflow { SpatialMap(1,1) M; }
        }
        }
        """))
    name, pairs = read_inputs(m)
    assert name == "tiny" and [layer.name for layer, _ in pairs] == ["a", "b"]


# ---- subcommand registration -----------------------------------------------------------------------------------
def test_subcommands_register_through_modules(tmp_path, monkeypatch, capsys):
    _write(tmp_path, "extra_cmd.py", textwrap.dedent("""\
        from qmaestro.errors import InputError
        def add_subcommand(sub):
            p = sub.add_parser("hello")
            p.add_argument("--fail", action="store_true")
            p.set_defaults(run=run)
        def run(args):
            if args.fail:
                raise InputError("told to fail", "--fail", "leave it out")
            print("hi")
            return 0
        """))
    monkeypatch.syspath_prepend(str(tmp_path))
    parser = build_parser(modules=["extra_cmd"])
    args = parser.parse_args(["hello"])
    assert args.run(args) == 0 and capsys.readouterr().out == "hi\n"
    assert "fit-ppa" in build_parser().format_help()


# ---- validate's verdict ------------------------------------------------------------------------------------------
def _result(theirs, ours, mismatched=(), source="maestro"):
    return CaseResult("X", source, theirs, ours, "" if ours == "ok" else "because", {"runtime_cycles": 1.0},
                      ("runtime_cycles",) if ours == "ok" and not mismatched else (), mismatched)


def test_agreement_rules():
    assert _result("ok", "ok").agrees
    assert not _result("ok", "ok", (("runtime_cycles", 2.0, 1.0),)).agrees
    assert not _result("ok", "rejected").agrees
    assert _result("rejected", "rejected").agrees and _result("flagged", "rejected").agrees
    assert not _result("flagged", "ok").agrees and not _result("rejected", "ok").agrees


def test_summary_fails_only_on_maestro_cases():
    informational_miss = _result("ok", "rejected", source="qmaestro")
    assert ValidationSummary((_result("ok", "ok"), informational_miss)).passed
    summary = ValidationSummary((_result("ok", "ok"), _result("rejected", "ok"), informational_miss))
    assert not summary.passed
    assert ValidationSummary.agreement(summary.decisive) == {("ok", "ok"): 1, ("rejected", "ok"): 1}
    assert ValidationSummary.metric_matches(summary.decisive)["runtime_cycles"] == (1, 1)


def test_result_json_has_no_bare_nan():
    r = CaseResult("A1", "maestro", "flagged", "ok", "", {"x": math.nan, "y": math.inf, "n": 3.0})
    line = json.dumps(r.to_json())
    assert json.loads(line)["metrics"] == {"x": "nan", "y": "inf", "n": 3}
    assert json.loads(line)["status"] == "ok" and json.loads(line)["agrees"] is False


# ---- end to end, with the real analysis ----------------------------------------------------------------------------
def test_evaluate_yaml_prints_table_and_json(tmp_path, capsys):
    p = _list_yaml(tmp_path)
    assert main(["evaluate", str(p), "--accelerator", "edge16"]) == 0
    assert "conv2" in capsys.readouterr().out
    assert main(["evaluate", str(p), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (layer,) = data["layers"]
    assert layer["layer"] == "conv2" and layer["latency_cycles"] > 0


REF = default_reference_dir()


@pytest.mark.skipif(REF is None, reason="shared reference data not found")
def test_validate_writes_one_line_per_case(tmp_path, capsys):
    ids = ["A0001", "A0026", "A0087", "A0100", "A0592"]  # ok, FC type, no spatial map, zero tile, no Dataflow
    out = tmp_path / "v.jsonl"
    code = main(["validate", str(REF / MAESTRO_FILE), "--output", str(out), "--only", *ids])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ids
    assert all(set(r) >= {"id", "status", "reason", "metrics"} for r in rows)
    assert {r["id"]: r["status"] for r in rows}["A0026"] == "rejected"
    assert code == (0 if all(r["agrees"] for r in rows) else 1)
    assert "agree" in capsys.readouterr().out


@pytest.mark.skipif(REF is None, reason="shared reference data not found")
def test_validate_never_fails_on_qmaestro_records(tmp_path, capsys):
    from qmaestro.reference import QMAESTRO_FILE

    out = tmp_path / "q.jsonl"
    # C0002 / C0005: qMaestro's own model gives other numbers than MAESTRO's analysis; informational only
    assert main(["validate", str(REF / QMAESTRO_FILE), "--output", str(out), "--only", "C0002", "C0005"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["source"] for r in rows] == ["qmaestro", "qmaestro"]
    assert not all(r["agrees"] for r in rows)
    assert "informational only" in capsys.readouterr().out
