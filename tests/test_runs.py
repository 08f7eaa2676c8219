"""Runs on disk: every file written atomically, finished layers kept, failures recorded, runs resumable."""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
import yaml

from qmaestro.dfsl import load_model
from qgamma.runs import RunDir, atomic_write_text, network_totals, safe_filename
from qgamma.search import layer_seed, search
from qgamma.settings import Settings

TINY = Settings(population_2level=10, population_3level=10, generations=4, patience=3)
LAYERS = ["layer4.1.conv2", "fc"]


def tiny_search(tmp_path: Path, **kw):
    kw.setdefault("layers", LAYERS)
    kw.setdefault("jobs", 1)
    kw.setdefault("progress", False)
    return search("resnet18_mixed", objective="edp", settings=TINY, runs_dir=tmp_path / "runs", **kw)


def comparable(records):
    """What must be identical between two runs with the same seed (not wall time)."""
    keep = ("layer", "status", "genome", "dfsl", "latency_cycles", "energy_nj", "edp", "generations",
            "evaluations", "seed", "classic")
    return [{k: r.get(k) for k in keep} for r in records]


def test_atomic_write_replaces_the_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "f.txt"
    atomic_write_text(path, "old")
    inode = path.stat().st_ino
    atomic_write_text(path, "new")
    assert path.read_text() == "new"
    assert path.stat().st_ino != inode  # a new file moved into place, not an in-place rewrite
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_layer_seed_is_stable_and_distinct():
    assert layer_seed(0, "conv1") == layer_seed(0, "conv1")
    assert len({layer_seed(0, "conv1"), layer_seed(1, "conv1"), layer_seed(0, "fc"), layer_seed(0, "conv1", 4)}) == 4
    assert layer_seed(0, "conv1") == 8409848966304486688  # same in every process and Python version


def test_run_folder_holds_every_file(tmp_path):
    result = tiny_search(tmp_path)
    run = result.run_dir
    assert sorted(p.name for p in run.iterdir()) == ["logbook.csv", "mappings", "results.json", "run.yaml"]
    assert not list(run.rglob("*.tmp"))
    cfg = yaml.safe_load((run / "run.yaml").read_text())
    assert cfg["network"]["name"] == "resnet18_mixed" and cfg["seed"] == 0 and cfg["objective"] == "edp"
    assert cfg["settings"]["population_3level"] == 10 and cfg["accelerator"]["num_pes"] == 16
    assert [layer["name"] for layer in cfg["network"]["layers"]] == LAYERS
    results = json.loads((run / "results.json").read_text())
    assert results["status"] == "complete"
    for rec in results["layers"]:
        assert rec["status"] == "ok"
        for key in ("precision", "levels", "genome", "dfsl", "latency_cycles", "energy_nj", "edp",
                    "energy_breakdown", "utilisation", "l1_bits_needed", "l2_bits_needed", "generations",
                    "evaluations", "seconds", "summary"):
            assert key in rec, key
        assert rec["edp"] == pytest.approx(rec["latency_cycles"] * rec["energy_nj"])
    assert results["layers"][0]["levels"] == 3 and results["layers"][0]["precision"] == "int4"
    totals = results["totals"]
    assert totals["latency_cycles"] == pytest.approx(sum(r["latency_cycles"] for r in results["layers"]))
    assert totals == network_totals(results["layers"])
    with (run / "logbook.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert {r["layer"] for r in rows} == set(LAYERS) and "gen" in rows[0]
    for name in LAYERS:
        _, entries = load_model(run / "mappings" / f"{safe_filename(name)}.m")
        (layer, mapping), = entries
        assert layer.name == name and mapping is not None


def test_resume_finishes_only_missing_layers_and_equals_a_full_run(tmp_path):
    full = tiny_search(tmp_path / "a")
    partial = tiny_search(tmp_path / "b")
    # a run killed after its first layer: results.json (the commit point) holds only that layer
    path = partial.run_dir / "results.json"
    doc = json.loads(path.read_text())
    first = doc["layers"][0]
    doc["layers"] = [first]
    doc["status"] = "interrupted"
    doc.pop("totals")
    path.write_text(json.dumps(doc))
    os.remove(partial.run_dir / "mappings" / "fc.m")
    before = RunDir.open(partial.run_dir)
    assert before.finished_keys() == {first["key"]}
    resumed = search(None, resume=partial.run_dir, progress=False)
    assert resumed.run_dir == partial.run_dir
    assert comparable(resumed.layers) == comparable(full.layers)
    assert resumed.layers[0]["seconds"] == first["seconds"]  # kept, not re-run
    after = json.loads(path.read_text())
    assert after["status"] == "complete" and after["resumed"] == 1
    assert (partial.run_dir / "mappings" / "fc.m").exists()


def test_unmappable_layer_is_recorded_and_the_run_goes_on(tmp_path):
    from qmaestro.accelerator import Accelerator

    tiny_l1 = Accelerator.from_dict({**Accelerator.load("edge16").to_dict(), "name": "tiny_l1", "l1_bytes": 8})
    result = tiny_search(tmp_path, accelerator=tiny_l1, layers=["layer1.0.conv1", "fc"])
    by_name = {r["layer"]: r for r in result.layers}
    assert by_name["layer1.0.conv1"]["status"] == "unmappable"
    assert "L1" in by_name["layer1.0.conv1"]["reason"]
    results = json.loads((result.run_dir / "results.json").read_text())
    assert results["status"] == "complete" and len(results["layers"]) == 2  # unmappable is a verdict
    assert not result.complete
    # unmappable is a verdict: resuming does not search it again
    assert RunDir.open(result.run_dir).finished_keys() == {"layer1.0.conv1", "fc"}


def test_same_seed_same_result_whatever_jobs(tmp_path):
    one = tiny_search(tmp_path / "one", jobs=1)
    two = tiny_search(tmp_path / "two", jobs=2, progress=True)  # live bars fed from the workers' queue
    assert comparable(one.layers) == comparable(two.layers)
    other = tiny_search(tmp_path / "other", jobs=1, seed=5)
    assert [r["seed"] for r in other.layers] != [r["seed"] for r in one.layers]


def test_fixed_and_auto_cluster(tmp_path):
    fixed = tiny_search(tmp_path / "fixed", cluster=4, layers=["fc"])
    assert fixed.layers[0]["cluster"] == 4 and fixed.cluster == 4
    auto = tiny_search(tmp_path / "auto", cluster="auto", layers=["layer4.1.conv2", "fc"])
    assert set(auto.cluster_totals) == {"1", "2", "4", "8", "16"}
    assert auto.cluster in (1, 2, 4, 8, 16)
    assert {r["cluster"] for r in auto.layers} == {auto.cluster}
    best = min(auto.cluster_totals.values())
    assert auto.cluster_totals[str(auto.cluster)] == best
    results = json.loads((auto.run_dir / "results.json").read_text())
    assert len(results["trials"]) == 2 * 4 and len(results["layers"]) == 2
    assert sorted(p.name for p in (auto.run_dir / "mappings").iterdir()) == ["fc.m", "layer4.1.conv2.m"]
