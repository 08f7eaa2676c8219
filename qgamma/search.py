"""Network search: one GA per layer, run in parallel (joblib: loky locally, Dask on a cluster), filed as it goes.

`search(...)` is the Python API behind `qgamma search`. Each layer is an independent task whose seed is
derived from (seed, layer name, cluster) alone, so results are bit-for-bit identical whatever `jobs` is and
whichever worker runs a layer. Finished layers are written to runs/<run-id>/ at once; an interrupted or
partly failed run can be resumed.
"""
from __future__ import annotations

import hashlib
import os
import queue as queue_module
import threading
import time
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from qmaestro.accelerator import Accelerator
from qmaestro.errors import InputError, QMaestroError
from qmaestro.layer import Layer

from .network import Network, check_supported, load_network, network_from_dict
from .report import SearchProgress, primary_metric
from .runs import STATUS_ERROR, STATUS_OK, STATUS_UNMAPPABLE, RunDir, network_totals, new_run_id
from .settings import Heuristics, Settings, check_objective

ClusterOption = int | str | None


class SearchInterrupted(KeyboardInterrupt):
    """Ctrl-C during a search: finished layers are on disk in `run_dir`, which `resume` finishes."""

    def __init__(self, run_dir: Path):
        super().__init__(str(run_dir))
        self.run_dir = run_dir


# ---- seeds -----------------------------------------------------------------------------------------
def stable_hash(text: str) -> int:
    """A 64-bit hash of text that is the same in every process and Python version (unlike hash())."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")


def layer_seed(seed: int, layer_name: str, cluster: int | None = None) -> int:
    """The seed of one layer's GA: a function of (run seed, layer name, fixed cluster size) only."""
    key = layer_name if cluster is None else f"{layer_name}|cluster={cluster}"
    state = np.random.SeedSequence([int(seed), stable_hash(key)]).generate_state(2, dtype=np.uint32)
    return (int(state[0]) << 31 | int(state[1]) >> 1) & ((1 << 63) - 1)


# ---- one layer (runs in a worker) -------------------------------------------------------------------
@dataclass(frozen=True)
class LayerTask:
    """Everything one layer's search needs; picklable so that any worker (loky, Dask) can run it."""

    key: str
    network_name: str
    layer: Layer
    accelerator: Accelerator
    objective: tuple[str, ...]
    settings: Settings
    seed: int
    cluster: int | None = None
    seed_genomes: Any = None


@dataclass(frozen=True)
class LayerOutcome:
    """What a worker sends back: the record for results.json, logbook rows, the .m text, the full result."""

    key: str
    record: dict[str, Any]
    logbook: list[dict[str, Any]]
    mapping_text: str | None
    result: Any = None


def run_layer_task(task: LayerTask, progress_queue: Any = None) -> LayerOutcome:
    """Search one layer. Failures become records (unmappable: the model's verdict; error: anything else)."""
    from .evolve import search_layer

    callback = _queue_callback(progress_queue, task.key) if progress_queue is not None else None
    return _run(task, search_layer, callback)


def _run(task: LayerTask, search_layer: Callable[..., Any], callback: Callable[..., None] | None) -> LayerOutcome:
    base = base_record(task)
    start = time.perf_counter()
    try:
        result = search_layer(task.layer, task.accelerator, task.objective if len(task.objective) > 1
                              else task.objective[0], task.settings, task.seed, cluster=task.cluster,
                              seed_genomes=task.seed_genomes, progress=callback)
    except QMaestroError as err:
        base.update(status=STATUS_UNMAPPABLE, reason=err.one_line(), seconds=time.perf_counter() - start)
        return LayerOutcome(task.key, base, [], None)
    except Exception as err:  # noqa: BLE001 - one layer's crash must not lose the others
        base.update(status=STATUS_ERROR, reason=f"{type(err).__name__}: {err}", seconds=time.perf_counter() - start)
        return LayerOutcome(task.key, base, [], None)
    record, logbook, text = result_record(task, result, base)
    return LayerOutcome(task.key, record, logbook, text, result)


def base_record(task: LayerTask) -> dict[str, Any]:
    layer = task.layer
    return {"key": task.key, "layer": layer.name, "status": None, "reason": None, "type": layer.type,
            "shape": {k: v for k, v in layer.to_dict().items() if k not in ("name", "type", "precision")},
            "precision": layer.precision.to_yaml(), "precision_name": layer.precision.name,
            "lanes": layer.precision.lanes, "macs": layer.num_macs, "seed": task.seed,
            "fixed_cluster": task.cluster}


def _evaluation_fields(ev: Any) -> dict[str, Any]:
    """The metrics of a qmaestro Evaluation that results.json keeps."""
    return {"latency_cycles": float(ev.latency_cycles), "energy_nj": float(ev.energy_nj), "edp": float(ev.edp),
            "energy_breakdown": dict(ev.energy_by_component),
            "energy_by_tensor": {t: dict(v) for t, v in ev.energy_by_tensor.items()},
            "utilisation": float(ev.utilisation),
            "l1_bits_needed": float(ev.l1_bits_needed), "l1_bits_available": int(ev.l1_bits_available),
            "l2_bits_needed": float(ev.l2_bits_needed), "l2_bits_available": int(ev.l2_bits_available),
            "fits_l1": bool(ev.fits_l1), "fits_l2": bool(ev.fits_l2),
            "accesses_words": dict(ev.accesses_words)}


def result_record(task: LayerTask, result: Any, base: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """A LayerResult (qgamma.evolve) as plain data, its logbook rows and its MAESTRO .m text."""
    from qmaestro.dfsl import write_model

    from .genome import genome_to_lists

    mapping = result.mapping
    record = dict(base)
    record.update(status=STATUS_OK, levels=mapping.num_levels,
                  cluster=mapping.cluster_sizes[0] if mapping.cluster_sizes else None,
                  genome=genome_to_lists(result.genome), dfsl=result.dfsl, summary=mapping.summary(),
                  **_evaluation_fields(result.evaluation),
                  generations=int(result.generations), evaluations=int(result.evaluations),
                  seconds=float(result.seconds))
    record["stopped_early"] = bool(getattr(result, "stopped_early", False))
    if getattr(result, "best_classic", None) is not None:
        record["classic"] = classic_fields(task, result.best_classic)
    if getattr(result, "pareto", None) is not None:
        record["pareto"] = [{**_objective_fields(pt.objectives), "summary": pt.mapping.summary(),
                             "genome": genome_to_lists(pt.genome)} for pt in result.pareto]
    rows = [dict(layer=task.layer.name, **_plain(row)) for row in (getattr(result, "logbook", None) or [])]
    text = write_model(task.network_name, [(task.layer, mapping)])
    return record, rows, text


_OBJECTIVE_FIELD = {"latency": "latency_cycles", "energy": "energy_nj", "edp": "edp"}


def _objective_fields(objectives: dict[str, float]) -> dict[str, float]:
    return {_OBJECTIVE_FIELD.get(k, k): float(v) for k, v in objectives.items()}


def classic_fields(task: LayerTask, classic: Any) -> dict[str, Any]:
    """The best classic dataflow with all three metrics (it was ranked on the objective only)."""
    from qmaestro.evaluate import evaluate

    out: dict[str, Any] = {"name": classic.name, "summary": classic.mapping.summary(),
                           **_objective_fields(classic.objectives or {})}
    try:
        ev = evaluate(task.layer, task.accelerator, classic.mapping)
    except QMaestroError:
        return out
    out.update(latency_cycles=float(ev.latency_cycles), energy_nj=float(ev.energy_nj), edp=float(ev.edp),
               utilisation=float(ev.utilisation))
    return out


def _plain(d: Any) -> dict[str, Any]:
    """numpy scalars -> Python numbers (JSON/CSV friendly)."""
    return {str(k): (v.item() if hasattr(v, "item") and callable(v.item) else v) for k, v in dict(d).items()}


# ---- progress across processes -----------------------------------------------------------------------
def scalar_best(best: Any) -> float | None:
    """The GA's best-so-far as one number (several objectives: their product, EDP-like)."""
    if best is None:
        return None
    if isinstance(best, (tuple, list)):
        return float(np.prod([float(v) for v in best]))
    return float(best)


def _queue_callback(progress_queue: Any, key: str, every: float = 0.25) -> Callable[..., None]:
    """A GA progress callback that posts (key, generation, best) at most every `every` seconds."""
    last = [0.0]

    def post(generation: int, best: Any = None, done: bool = False) -> None:
        now = time.monotonic()
        if done or now - last[0] >= every:
            last[0] = now
            try:
                progress_queue.put_nowait((key, int(generation), scalar_best(best)))
            except Exception:  # noqa: BLE001 - progress is best effort, never a reason to fail a layer
                pass

    return post


class _QueueDrainer:
    """Moves progress events from a worker-shared queue into the live view (a daemon thread)."""

    def __init__(self, q: Any, view: SearchProgress):
        self.q, self.view = q, view
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> "_QueueDrainer":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                key, gen, best = self.q.get(timeout=0.1)
            except queue_module.Empty:
                continue
            except (EOFError, OSError, BrokenPipeError):
                return
            self.view.update(key, gen, best)


# ---- executing tasks ---------------------------------------------------------------------------------
def _resolve_jobs(jobs: int, n_tasks: int) -> int:
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs == 0 or jobs < -1:
        raise InputError(f"jobs must be a positive number or -1 (all cores), got {jobs!r}", "--jobs",
                         "e.g. --jobs 2")
    cores = os.cpu_count() or 1
    return max(1, min(n_tasks, cores if jobs == -1 else jobs))


def check_scheduler(scheduler: Any) -> None:
    """Fail before a run starts when Dask is missing or the address cannot be one."""
    if scheduler is None:
        return
    try:
        import distributed
    except ImportError:
        raise InputError("--scheduler needs dask.distributed, which is not installed", "--scheduler",
                         "pip install 'qgamma[dask]'") from None
    if isinstance(scheduler, distributed.Client):
        return
    address = getattr(scheduler, "scheduler_address", scheduler)
    if not isinstance(address, str) or "://" not in address:
        raise InputError(f"a scheduler address looks like tcp://HOST:PORT, got {scheduler!r}", "--scheduler",
                         "give the address the Dask scheduler prints")


def _dask_client(scheduler: Any) -> Any:
    """A distributed.Client for a scheduler address (or the Client/cluster object itself)."""
    try:
        import distributed
    except ImportError:
        raise InputError("--scheduler needs dask.distributed, which is not installed", "--scheduler",
                         "pip install 'qgamma[dask]'") from None
    if isinstance(scheduler, distributed.Client):
        return scheduler
    address = getattr(scheduler, "scheduler_address", scheduler)
    if not isinstance(address, str) or "://" not in address:
        raise InputError(f"a scheduler address looks like tcp://HOST:PORT, got {scheduler!r}", "--scheduler",
                         "give the address the Dask scheduler prints")
    try:
        return distributed.Client(address, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError) as err:
        raise InputError(f"cannot connect to Dask scheduler {address} ({err})", "--scheduler",
                         "check the address and that dask-scheduler is running") from None


def execute(tasks: Sequence[LayerTask], jobs: int = -1, scheduler: Any = None,
            view: SearchProgress | None = None) -> Iterator[LayerOutcome]:
    """Run layer tasks, yielding outcomes as they finish (order depends on timing; contents do not)."""
    if not tasks:
        return
    from joblib import Parallel, delayed, parallel_config

    if scheduler is not None:
        client = _dask_client(scheduler)
        try:
            with parallel_config(backend="dask", client=client):
                yield from Parallel(n_jobs=-1, return_as="generator_unordered")(
                    delayed(run_layer_task)(t) for t in tasks)
        finally:
            if client is not scheduler:
                client.close()
        return
    n = _resolve_jobs(jobs, len(tasks))
    if n == 1:
        from .evolve import search_layer

        for t in tasks:
            callback = (lambda g, best=None, done=False, _k=t.key: view.update(_k, g, scalar_best(best))) \
                if view is not None and view.enabled else None
            yield _run(t, search_layer, callback)
        return
    manager = None
    progress_queue = None
    if view is not None and view.enabled:
        import multiprocessing

        manager = multiprocessing.Manager()
        progress_queue = manager.Queue()
    try:
        parallel = Parallel(n_jobs=n, backend="loky", return_as="generator_unordered")
        if progress_queue is not None:
            with _QueueDrainer(progress_queue, view):  # type: ignore[arg-type]
                yield from parallel(delayed(run_layer_task)(t, progress_queue) for t in tasks)
        else:
            yield from parallel(delayed(run_layer_task)(t) for t in tasks)
    finally:
        if manager is not None:
            manager.shutdown()


# ---- results -----------------------------------------------------------------------------------------
@dataclass
class NetworkResult:
    """A finished (or partly finished) network search, for notebooks: per-layer records plus totals.

    `layers` are the plain records written to results.json, in network order; `results` holds the GA's full
    LayerResult objects for layers searched in this session (resumed layers have only their records).
    """

    run_dir: Path
    network: str
    accelerator: str
    objective: str
    cluster: ClusterOption
    layers: list[dict[str, Any]]
    totals: dict[str, Any]
    results: dict[str, Any] = field(default_factory=dict, repr=False)
    cluster_totals: dict[str, float] = field(default_factory=dict)

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.layers if r.get("status") != STATUS_OK]

    @property
    def complete(self) -> bool:
        return not self.failed

    def __getitem__(self, layer_name: str) -> dict[str, Any]:
        for r in self.layers:
            if r["layer"] == layer_name:
                return r
        raise KeyError(layer_name)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (what results.json holds for the chosen layers, plus where the run is)."""
        return {"run_dir": str(self.run_dir), "network": self.network, "accelerator": self.accelerator,
                "objective": self.objective, "cluster": self.cluster, "layers": self.layers, "totals": self.totals,
                "cluster_totals": self.cluster_totals}

    def rows(self) -> list[dict[str, Any]]:
        """The report table as plain rows (see qgamma.report.run_rows)."""
        from .report import run_rows

        return run_rows(RunDir.open(self.run_dir))

    def __rich__(self) -> Any:
        from .report import results_table

        return results_table(RunDir.open(self.run_dir))


# ---- the API -----------------------------------------------------------------------------------------
def _check_cluster(cluster: ClusterOption, accelerator: Accelerator) -> ClusterOption:
    if cluster is None or cluster == "auto":
        return cluster
    if isinstance(cluster, str) and cluster.isdigit():
        cluster = int(cluster)
    if isinstance(cluster, bool) or not isinstance(cluster, int) or not 1 <= cluster <= accelerator.num_pes:
        raise InputError(f"cluster must be a whole number of PEs in 1..{accelerator.num_pes} or 'auto', got {cluster!r}",
                         "--cluster", "e.g. --cluster 4 or --cluster auto")
    return cluster


def cluster_candidates(accelerator: Accelerator) -> list[int]:
    """The PEs-per-cluster values `cluster="auto"` tries: powers of two up to the PE count."""
    from .genome import cluster_options

    return [int(v) for v in cluster_options(accelerator.num_pes, pow2=True)]


def _network_score(records: Sequence[dict[str, Any]], metric: str) -> tuple[int, float]:
    """(unmapped layers, network objective) for ranking fixed-cluster trials; lower is better."""
    totals = network_totals(records)
    failed = sum(1 for r in records if r.get("status") != STATUS_OK)
    return failed, float(totals[metric])


def _coerce_settings(settings: Settings | dict[str, Any] | None) -> Settings:
    if settings is None:
        return Settings()
    if isinstance(settings, Settings):
        return settings
    if isinstance(settings, dict):
        d = dict(settings)
        d.pop("constraint", None)
        if isinstance(d.get("heuristics"), dict):
            d["heuristics"] = Heuristics(**d["heuristics"])
        known = {f.name for f in fields(Settings)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise InputError(f"unknown setting(s) {unknown}", "settings", f"settings are {', '.join(sorted(known))}")
        return Settings(**d)
    raise InputError(f"settings must be a qgamma Settings, got {type(settings).__name__}", "settings",
                     "use qgamma.Settings(...)")


def _settings_dict(settings: Settings) -> dict[str, Any]:
    return settings.to_dict() if hasattr(settings, "to_dict") else (
        {f.name: getattr(settings, f.name) for f in fields(settings)} if is_dataclass(settings) else dict(settings))


def search(network: str | Network, accelerator: str | Accelerator = "edge16", objective: str | Sequence[str] = "edp",
           layers: Sequence[str] | str | None = None, jobs: int = -1, seed: int = 0, cluster: ClusterOption = None,
           settings: Settings | dict[str, Any] | None = None, scheduler: Any = None, runs_dir: str | Path = "runs",
           resume: str | Path | None = None, seed_genomes: bool | None = False, progress: bool = True,
           bits: str | None = None, run_id: str | None = None, command: Sequence[str] | None = None) -> NetworkResult:
    """Search the best mapping of every layer of a network and file the run under runs_dir.

    network: bundled name (resnet18_mixed), path, or a Network; accelerator: name or path or Accelerator;
    objective: latency | energy | edp, or several ("latency,energy") for a Pareto front per layer;
    cluster: None = each layer picks its PEs per cluster, N = one value for every layer, "auto" = try every
    power of two and keep the best for the whole network; scheduler: "tcp://HOST:PORT" runs the layers on a
    Dask cluster; resume: a run folder to finish (every other argument is then read from its run.yaml);
    seed_genomes: True puts the named genomes (genomes/*.yaml, adapted to each layer) into every initial
    population, False leaves populations random (GAMMA/qGamma); it sets Settings.seed_classics (None: keep it).
    """
    if resume is not None:
        return _resume(Path(resume), jobs=jobs, scheduler=scheduler, progress=progress)
    net = network if isinstance(network, Network) else load_network(network, bits)
    if isinstance(network, Network) and bits:
        net = net.with_bits(bits)
    if isinstance(layers, str):
        layers = layers.split(",")
    net = net.select(layers)
    acc = accelerator if isinstance(accelerator, Accelerator) else Accelerator.load(accelerator)
    check_supported(net, acc)
    objs = check_objective(tuple(o.strip() for o in objective.split(",")) if isinstance(objective, str)
                           else tuple(objective))
    cfg_settings = _coerce_settings(settings)
    if seed_genomes is not None:
        cfg_settings = replace(cfg_settings, seed_classics=bool(seed_genomes))
    cluster = _check_cluster(cluster, acc)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"seed must be a whole number >= 0, got {seed!r}", "--seed", "e.g. --seed 0")
    _resolve_jobs(jobs, 1)
    check_scheduler(scheduler)
    objective_text = ",".join(objs)
    config = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": list(command) if command else None,
        "network_arg": str(network) if not isinstance(network, Network) else network.name,
        "network": net.to_dict(), "layer_order": net.layer_names,
        "accelerator_arg": str(accelerator) if not isinstance(accelerator, Accelerator) else accelerator.name,
        "accelerator": acc.to_dict(), "objective": objective_text, "layers": list(layers) if layers else None,
        "bits": bits, "seed": seed, "jobs": jobs, "cluster": cluster, "settings": _settings_dict(cfg_settings),
        "scheduler": scheduler if isinstance(scheduler, str) else None,
    }
    run = RunDir.create(runs_dir, run_id or new_run_id(net.name, acc.name, objective_text, seed), config)
    return _execute_run(run, net, acc, objs, cfg_settings, seed, cluster, jobs, scheduler, progress)


def _resume(path: Path, jobs: int, scheduler: Any, progress: bool) -> NetworkResult:
    check_scheduler(scheduler)
    run = RunDir.open(path)
    cfg = run.config
    try:
        net = network_from_dict({k: v for k, v in cfg["network"].items() if k not in ("bits",)}, str(path / "run.yaml"))
        acc = Accelerator.from_dict(cfg["accelerator"], f"{path / 'run.yaml'}: accelerator")
        objs = check_objective(tuple(cfg["objective"].split(",")))
        settings = _coerce_settings(cfg["settings"])
        seed, cluster = int(cfg["seed"]), cfg.get("cluster")
    except (KeyError, TypeError, AttributeError) as err:
        raise InputError(f"run.yaml lacks or garbles {err}", str(path / "run.yaml"), "start a new run") from None
    run.update_summary(resumed=run.summary.get("resumed", 0) + 1, status="running")
    return _execute_run(run, net, acc, objs, settings, seed, cluster, jobs, scheduler, progress)


def _tasks_for(net: Network, acc: Accelerator, objs: tuple[str, ...], settings: Settings, seed: int,
               cluster: int | None) -> list[LayerTask]:
    return [LayerTask(key=layer.name if cluster is None else f"{layer.name}@{cluster}", network_name=net.name,
                      layer=layer, accelerator=acc, objective=objs, settings=settings,
                      seed=layer_seed(seed, layer.name, cluster), cluster=cluster)
            for layer in net.layers]


def _execute_run(run: RunDir, net: Network, acc: Accelerator, objs: tuple[str, ...], settings: Settings, seed: int,
                 cluster: ClusterOption, jobs: int, scheduler: Any, progress: bool) -> NetworkResult:
    metric = primary_metric(objs)
    values = cluster_candidates(acc) if cluster == "auto" else [cluster]
    all_tasks: list[LayerTask] = []
    for value in values:
        all_tasks += _tasks_for(net, acc, objs, settings, seed, value)  # type: ignore[arg-type]
    done = run.finished_keys()
    pending = [t for t in all_tasks if t.key not in done]
    results: dict[str, Any] = {}
    auto = cluster == "auto"
    run.update_summary(status="running", network=net.name, accelerator=acc.name, objective=",".join(objs))
    view = SearchProgress(enabled=progress, metric=metric.split("_")[0])
    try:
        with view:
            for t in all_tasks:
                view.add(t.key, settings.generations)
                if t.key in done:
                    view.finish(t.key, run.records[t.key], metric)
            for outcome in execute(pending, jobs=jobs, scheduler=scheduler, view=view):
                run.record(outcome.record, outcome.logbook, outcome.mapping_text, write_mapping=not auto)
                view.finish(outcome.key, outcome.record, metric)
                if outcome.result is not None:
                    results[outcome.key] = outcome.result
    except KeyboardInterrupt:
        run.update_summary(status="interrupted")
        raise SearchInterrupted(run.path) from None
    except QMaestroError as err:
        run.update_summary(status="failed", reason=err.one_line())
        raise
    summary: dict[str, Any] = {}
    chosen_value = cluster
    if auto:
        per_value = {v: [run.records[t.key] for t in all_tasks if t.cluster == v and t.key in run.records]
                     for v in values}
        scores = {v: _network_score(recs, metric) for v, recs in per_value.items()}
        chosen_value = min(values, key=lambda v: (scores[v], v))
        summary["cluster_totals"] = {str(v): scores[v][1] for v in values}
        chosen_keys = [f"{name}@{chosen_value}" for name in net.layer_names]
        summary["chosen_keys"] = chosen_keys
        for k in chosen_keys:
            rec = run.records.get(k)
            if rec and rec.get("dfsl") is not None:
                from qmaestro.dfsl import write_model

                run.write_mapping(rec["layer"], write_model(net.name, [(net.layer(rec["layer"]),
                                                                         _mapping_of(rec, net))]))
    elif cluster is not None:
        summary["chosen_keys"] = [f"{name}@{cluster}" for name in net.layer_names]
    summary["cluster"] = chosen_value
    run.update_summary(**summary)
    layers_out = run.layers
    results = {r["layer"]: results[r["key"]] for r in layers_out if r["key"] in results}
    totals = network_totals(layers_out)
    crashed = [r for r in layers_out if r.get("status") not in (STATUS_OK, STATUS_UNMAPPABLE)]
    status = "complete" if len(layers_out) == len(net.layers) and not crashed else "partial"
    run.update_summary(totals=totals, status=status)
    return NetworkResult(run.path, net.name, acc.name, ",".join(objs), chosen_value, layers_out, totals,
                         results, summary.get("cluster_totals", {}))


def _mapping_of(record: dict[str, Any], net: Network) -> Any:
    """The Mapping of a stored record, re-read from its DFSL text."""
    from qmaestro.dfsl import parse_dataflow

    return parse_dataflow(record["dfsl"], net.layer(record["layer"]))
