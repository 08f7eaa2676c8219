"""Layers on a real (local) Dask cluster give exactly the results of a local run with the same seed."""
from __future__ import annotations

import pytest

from qgamma.search import search
from qgamma.settings import Settings

distributed = pytest.importorskip("distributed")

TINY = Settings(population_2level=10, population_3level=10, generations=4, patience=3)
LAYERS = ["layer4.1.conv2", "fc"]
KEYS = ("layer", "status", "genome", "dfsl", "latency_cycles", "energy_nj", "edp", "generations", "evaluations",
        "seed")


def test_dask_scheduler_matches_local_run(tmp_path):
    local = search("resnet18_mixed", settings=TINY, layers=LAYERS, jobs=1, seed=3, runs_dir=tmp_path / "local",
                   progress=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        remote = search("resnet18_mixed", settings=TINY, layers=LAYERS, seed=3, runs_dir=tmp_path / "dask",
                        scheduler=cluster.scheduler_address, progress=False)
    assert [{k: r.get(k) for k in KEYS} for r in remote.layers] == [{k: r.get(k) for k in KEYS} for r in local.layers]
    assert all(r["status"] == "ok" for r in remote.layers)


def test_unreachable_scheduler_is_a_clear_error(tmp_path):
    from qmaestro.errors import InputError

    with pytest.raises(InputError, match="scheduler"):
        search("resnet18_mixed", settings=TINY, layers=["fc"], scheduler="not-an-address", runs_dir=tmp_path,
               progress=False)
