"""Design-space exploration: point PPA by hand, normalisation to INT16, the Pareto front, the hardware GA."""
from __future__ import annotations

import dataclasses
import json

import pytest

from qmaestro.accelerator import Accelerator
from qmaestro.errors import InputError
from qmaestro.layer import Layer
from qmaestro.pe_kinds import get_pe_kind
from qmaestro.ppa import accelerator_ppa
from qgamma.explore import (STATUS_INFEASIBLE, DesignPoint, grid, hardware_ga, kind_summary, normalise, pareto_front,
                            point_accelerator, point_metrics, requantize, unique_layers)
from qgamma.network import Network
from qgamma.runs import STATUS_OK

BASE = Accelerator.load("edge16")


def _net() -> Network:
    a = Layer("a", K=8, C=8, R=3, S=3, Y=10, X=10)
    b = dataclasses.replace(a, name="b")           # same shape as a
    c = Layer("c", K=16, C=8, R=1, S=1, Y=8, X=8)
    return Network("tiny", "test", (a, b, c))


def test_grid_and_point_accelerator():
    points = grid(["int16", "lightpe1"], [16, 64], [512], [65536, 131072])
    assert len(points) == 8 and points[0] == DesignPoint("int16", 16, 512, 65536)
    kind = get_pe_kind("lightpe1")
    acc = point_accelerator(DesignPoint("lightpe1", 64, 256, 4096), kind, BASE)
    assert (acc.num_pes, acc.l1_bytes, acc.l2_bytes, acc.pe_kind) == (64, 256, 4096, "lightpe1")
    assert set(acc.precisions) == {"lightpe1", "int8"} and acc.noc_bw == BASE.noc_bw


def test_requantize_and_unique_layers():
    net = requantize(_net(), get_pe_kind("lightpe2"))
    assert {layer.precision.name for layer in net.layers} == {"lightpe2"}
    uniq, counts = unique_layers(net)
    assert [layer.name for layer in uniq.layers] == ["a", "c"] and counts == {"a": 2, "c": 1}


def _records():
    return [{"layer": "a", "status": STATUS_OK, "latency_cycles": 1000.0, "energy_nj": 10.0},
            {"layer": "c", "status": STATUS_OK, "latency_cycles": 2000.0, "energy_nj": 5.0}]


def test_point_metrics_by_hand():
    point = DesignPoint("lightpe1", 16, 512, 65536)
    kind = get_pe_kind("lightpe1")
    acc = point_accelerator(point, kind, BASE)
    rec = point_metrics(point, kind, acc, _records(), {"a": 2, "c": 1})
    seconds = (2 * 1000 + 2000) / 455e6
    ppa = accelerator_ppa(acc)
    assert rec["latency_cycles"] == 4000.0
    assert rec["latency_s"] == pytest.approx(seconds)
    assert rec["energy_dynamic_nj"] == 25.0
    assert rec["energy_static_nj"] == pytest.approx(ppa.leakage_total_mw * seconds * 1e6)
    assert rec["energy_nj"] == pytest.approx(25.0 + rec["energy_static_nj"])
    assert rec["perf_per_area"] == pytest.approx(1 / seconds / ppa.area_mm2)
    assert rec["power_avg_mw"] == pytest.approx(rec["energy_nj"] * 1e-6 / seconds)
    bad = point_metrics(point, kind, acc, _records()[:1] + [{"layer": "c", "status": "unmappable", "reason": "L1"}], {})
    assert bad["status"] == STATUS_INFEASIBLE and "c: L1" in bad["reason"] and bad["area_mm2"] == rec["area_mm2"]


def _pt(key, kind, ppa, energy, status=STATUS_OK):
    return {"key": key, "pe_kind": kind, "perf_per_area": ppa, "energy_nj": energy, "status": status}


def test_normalise_front_and_summary_by_hand():
    recs = [_pt("i1", "int16", 2.0, 100.0), _pt("i2", "int16", 1.0, 50.0), _pt("l1", "lightpe1", 8.0, 20.0),
            _pt("f1", "fp32", 1.0, 150.0), _pt("l2", "lightpe1", 9.0, 30.0), _pt("x", "fp32", 0, 0, STATUS_INFEASIBLE)]
    out, base = normalise(recs)
    assert base == "int16"
    by = {r["key"]: r for r in out}
    assert by["l1"]["norm_perf_per_area"] == 4.0 and by["l1"]["norm_energy"] == 0.4
    assert by["i2"]["norm_perf_per_area"] == 0.5 and by["f1"]["norm_energy"] == 3.0
    assert "norm_energy" not in by["x"]
    assert pareto_front(out) == ["l1", "l2"]
    s = kind_summary(out, base)
    assert s["lightpe1"]["perf_per_area_gain"] == 4.5 and s["lightpe1"]["energy_gain"] == 2.5
    assert s["fp32"]["perf_per_area_gain"] == 0.5 and s["fp32"]["energy_gain"] == pytest.approx(50 / 150)
    assert normalise([_pt("l", "lightpe1", 2.0, 4.0)])[1] == "lightpe1"  # no INT16 point: first kind


def test_hardware_ga_respects_the_budget_and_finds_a_good_point():
    space = [["int16", "lightpe1"], [16, 64, 168, 256], [256, 512, 1024], [65536, 131072, 262144]]  # 72 points
    calls = []

    def evaluate(values):
        kind, pes, l1, l2 = values
        calls.append(values)
        gain = 4.0 if kind == "lightpe1" else 1.0
        return {"key": str(values), "pe_kind": kind, "status": STATUS_OK, "perf_per_area": gain * pes / (l1 + l2 / 64),
                "energy_nj": l1 / gain + 1000.0 / pes}

    recs = hardware_ga(space, evaluate, budget=30, seed=1)
    assert len(recs) == len(calls) == 30 and len(set(calls)) == 30
    best = max(r["perf_per_area"] for r in recs)
    assert best >= 0.9 * 4.0 * 256 / (256 + 65536 / 64)
    assert hardware_ga(space, evaluate, budget=30, seed=1) == recs  # seeded: same points again


def test_bad_inputs_are_one_line_errors(tmp_path):
    from qgamma.explore import explore
    with pytest.raises(InputError, match="unknown PE kind"):
        explore(_net(), ["int7"], [16], [512], [65536], runs_dir=tmp_path)
    with pytest.raises(InputError, match="whole numbers >= 1"):
        explore(_net(), ["int16"], [0], [512], [65536], runs_dir=tmp_path)
    with pytest.raises(InputError, match="one mapping objective"):
        explore(_net(), ["int16"], [16], [512], [65536], objective="edp,latency", runs_dir=tmp_path)
    with pytest.raises(InputError, match="unknown preset"):
        explore(_net(), ["int16"], [16], [512], [65536], preset="slow", runs_dir=tmp_path)


TINY_NET = """name: tiny
source: test
layers:
  - {name: a, type: CONV, K: 8, C: 8, R: 3, S: 3, Y: 10, X: 10, stride: 1}
  - {name: b, type: CONV, K: 8, C: 8, R: 3, S: 3, Y: 10, X: 10, stride: 1}
  - {name: c, type: CONV, K: 16, C: 8, R: 1, S: 1, Y: 8, X: 8, stride: 1}
"""


def test_explore_end_to_end_writes_a_run(tmp_path):
    from qgamma.explore import explore
    from qgamma.runs import RunDir
    res = explore(_net(), ["int16", "lightpe1"], [16], [512], [65536], preset="smoke", jobs=1, runs_dir=tmp_path)
    assert res.baseline == "int16" and res.mode == "grid" and len(res.points) == 2
    int16 = res.point("int16-16pe-l1_512-l2_65536")
    assert int16["status"] == STATUS_OK and int16["norm_perf_per_area"] == 1.0 and int16["norm_energy"] == 1.0
    assert res.front and set(res.front) <= {p["key"] for p in res.feasible}
    run = RunDir.open(res.run_dir)
    assert run.config["kind"] == "explore" and [r["key"] for r in run.layers] == [p["key"] for p in res.points]
    assert run.summary["baseline"] == "int16" and run.summary["front"] == res.front
    sub = RunDir.open(res.run_dir / int16["search_run"])  # the point's own mapping search
    assert [r["layer"] for r in sub.layers] == ["a", "c"]  # b has a's shape: searched once, counted twice
    json.loads((res.run_dir / "results.json").read_text())


def test_cli_explore_with_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from qgamma.cli import main
    net = tmp_path / "tiny.yaml"
    net.write_text(TINY_NET)
    runs = tmp_path / "runs"
    code = main(["explore", str(net), "--pe-kinds", "int16,lightpe2", "--pes", "16", "--l1", "512", "--l2", "65536",
                 "--preset", "smoke", "--jobs", "1", "--runs-dir", str(runs), "--plot"])
    out = capsys.readouterr().out
    assert code == 0 and "perf/area" in out
    (run_dir,) = list(runs.iterdir())
    assert (run_dir / "explore_scatter.png").stat().st_size > 0 and (run_dir / "explore_by_kind.png").stat().st_size > 0
    assert main(["explore", str(net), "--pes", "16,x", "--runs-dir", str(runs)]) == 2
    assert "--pes takes comma-separated whole numbers" in capsys.readouterr().err


def test_large_spaces_are_sampled_by_the_hardware_ga(tmp_path):
    from qgamma.explore import explore
    res = explore(_net(), ["int16", "lightpe1"], [16, 32], [512], [65536], preset="smoke", jobs=1,
                  runs_dir=tmp_path, max_points=3)
    assert res.mode == "ga" and len(res.points) == 3 and len({p["key"] for p in res.points}) == 3


def test_an_explore_run_reads_back(tmp_path):
    from qgamma.explore import explore, open_explore
    res = explore(_net(), ["int16"], [16], [512], [65536], preset="smoke", jobs=1, runs_dir=tmp_path)
    back = open_explore(res.run_dir)
    assert back.points == res.points and back.front == res.front and back.baseline == "int16"
    with pytest.raises(InputError, match="not a run folder"):
        open_explore(tmp_path)
