"""The qgamma CLI: bad input is one line on stderr and exit 2; search / report / compare work end to end."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qgamma.cli import main

REPO = Path(__file__).resolve().parents[1]
TINY = ["--population", "8", "--generations", "3", "--early-stop", "2", "--jobs", "1", "--no-progress"]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as stop:  # argparse usage errors
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.fixture
def bad_files(tmp_path):
    (tmp_path / "malformed.yaml").write_text("name: x\nlayers: [\n")
    (tmp_path / "zero.yaml").write_text("name: z\nsource: t\nlayers:\n  - {name: a, K: 0, C: 4, R: 1, S: 1, Y: 4, X: 4}\n")
    (tmp_path / "negative.yaml").write_text(
        "name: n\nsource: t\nlayers:\n  - {name: a, K: 4, C: 4, R: 1, S: 1, Y: -4, X: 4}\n")
    (tmp_path / "fp32only.yaml").write_text("name: fp32only\nnum_pes: 16\nl1_bytes: 512\nl2_bytes: 524288\n"
                                            "precisions: [fp32]\n")
    (tmp_path / "zero_pes.yaml").write_text("name: zp\nnum_pes: 0\nl1_bytes: 512\nl2_bytes: 524288\n")
    return tmp_path


@pytest.mark.parametrize("argv, needles", [
    (["search", "resnet19"], ["unknown network 'resnet19'", "resnet18_mixed"]),
    (["search", "resnet18_mixed", "--accelerator", "edge17"], ["unknown accelerator 'edge17'", "edge16"]),
    (["search", "{tmp}/malformed.yaml"], ["malformed YAML", "malformed.yaml"]),
    (["search", "{tmp}/zero.yaml"], ["K must be a positive integer", "zero.yaml"]),
    (["search", "{tmp}/negative.yaml"], ["Y must be a positive integer"]),
    (["search", "resnet18_mixed", "--accelerator", "{tmp}/fp32only.yaml"], ["conv1", "int8", "fp32only"]),
    (["search", "resnet18_mixed", "--accelerator", "{tmp}/zero_pes.yaml"], ["num_pes must be a positive integer"]),
    (["search", "resnet18_mixed", "--layers", "nope"], ["no layer 'nope'"]),
    (["search", "resnet18_int8", "--bits", "hawq:nope"], ["unknown bit configuration 'nope'"]),
    (["search", "resnet18_mixed", "--objective", "speed"], ["unknown objective 'speed'"]),
    (["search", "resnet18_mixed", "--cluster", "64"], ["cluster must be a whole number of PEs in 1..16"]),
    (["search", "resnet18_mixed", "--cluster", "many"], ["--cluster"]),
    (["search", "resnet18_mixed", "--jobs", "0"], ["--jobs"]),
    (["search", "resnet18_mixed", "--population", "-5"], ["--population"]),
    (["search", "resnet18_mixed", "--crossover-rate", "1.5"], ["crossover_rate must be within [0, 1]"]),
    (["search"], ["no network given"]),
    (["search", "--resume", "{tmp}"], ["not a run folder"]),
    (["report", "{tmp}"], ["not a run folder"]),
    (["compare", "{tmp}", "{tmp}"], ["not a run folder"]),
    (["frobnicate"], ["invalid choice"]),
])
def test_bad_input_is_one_line_and_exit_2(capsys, bad_files, argv, needles):
    argv = [a.replace("{tmp}", str(bad_files)) for a in argv]
    code, _, err = run_cli(capsys, *argv, *(["--runs-dir", str(bad_files / "runs")] if argv[0] == "search" else []))
    assert_one_line_error(code, err, *needles)
    assert not (bad_files / "runs").exists() or not any((bad_files / "runs").iterdir())


def test_console_entry_prints_one_line_without_traceback():
    proc = subprocess.run([sys.executable, "-m", "qgamma.cli", "search", "no_such_net"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "unknown network" in proc.stderr and "Traceback" not in proc.stderr


def test_list_names_nets_accelerators_and_bit_configs(capsys):
    code, out, _ = run_cli(capsys, "list")
    assert code == 0
    assert "resnet18_mixed" in out and "eyeriss168" in out and "hawq:bops_0.5" in out


def test_search_report_compare_end_to_end(capsys, tmp_path):
    runs = tmp_path / "runs"
    code, out, err = run_cli(capsys, "search", "resnet18_mixed", "--layers", "layer4.1.conv2,fc", "--objective",
                             "latency", "--runs-dir", str(runs), *TINY)
    assert code == 0, err
    assert "layer4.1.conv2" in out and "total" in out
    (run_a,) = list(runs.iterdir())
    results = json.loads((run_a / "results.json").read_text())
    assert [r["layer"] for r in results["layers"]] == ["layer4.1.conv2", "fc"]
    code, out, err = run_cli(capsys, "search", "resnet18_int8", "--layers", "layer4.1.conv2,fc", "--objective",
                             "latency", "--runs-dir", str(runs), "--seed", "1", *TINY)
    assert code == 0, err
    run_b = next(p for p in runs.iterdir() if p != run_a)
    code, out, err = run_cli(capsys, "report", str(run_a))
    assert code == 0 and "layer4.1.conv2" in out and "int4" in out
    code, out, err = run_cli(capsys, "report", str(run_a), "--json")
    rows = json.loads(out)["rows"]
    assert [r["layer"] for r in rows] == ["layer4.1.conv2", "fc"]
    code, out, err = run_cli(capsys, "compare", str(run_a), str(run_b), "--json")
    assert code == 0
    cmp = json.loads(out)
    ratio = cmp["totals"]["latency_cycles_ratio"]
    assert ratio == pytest.approx(cmp["totals"]["latency_cycles_b"] / cmp["totals"]["latency_cycles_a"])
    code, out, err = run_cli(capsys, "compare", str(run_a), str(run_b))
    assert code == 0 and "b/a" in out


def test_settings_from_options_reach_run_yaml(capsys, tmp_path):
    import yaml

    runs = tmp_path / "runs"
    code, _, err = run_cli(capsys, "search", "resnet20", "--layers", "linear", "--runs-dir", str(runs),
                           "--crossover-rate", "0.3", "--no-heuristics", "--cluster", "4", *TINY)
    assert code == 0, err
    (run,) = list(runs.iterdir())
    cfg = yaml.safe_load((run / "run.yaml").read_text())
    s = cfg["settings"]
    assert s["crossover_rate"] == 0.3 and s["population_2level"] == 8 and s["population_3level"] == 16
    assert s["generations"] == 3 and s["patience"] == 2 and s["heuristics"]["pow2_cluster"] is False
    assert cfg["cluster"] == 4 and cfg["network"]["layers"][0]["name"] == "linear"
    results = json.loads((run / "results.json").read_text())
    assert results["layers"][0]["cluster"] == 4
