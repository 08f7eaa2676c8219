"""Design-space exploration (QUIDAM-style): which PE kind, PE count, L1 and L2 give the best PPA for a network.

Every design point is an accelerator built from one PE kind (the network is re-quantized to the precision that
kind runs), with a mapping search per layer (``qgamma.search``, a small "fast" GA) scoring it. Per point we
report latency (cycles and seconds at the kind's clock), energy (the energy model's activity energy plus
leakage over the run), area and peak power (``qmaestro.ppa``), average power and performance per area; values
normalised to the best INT16 point (the highest performance per area, and the lowest energy); and the Pareto
front of performance per area (max) against energy (min). Small spaces are enumerated; larger ones are
sampled by a genetic search over the hardware parameters (NSGA-II selection on the same two objectives).

Results go to runs/<explore-id>/ through qgamma.runs: run.yaml, results.json (one record per design point,
listed under ``layers`` with ``key`` = point id), and each point's own mapping-search run under ``points/``.
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from qmaestro.accelerator import Accelerator
from qmaestro.errors import InputError
from qmaestro.layer import Layer
from qmaestro.pe_kinds import PEKind, get_pe_kind
from qmaestro.ppa import accelerator_ppa, performance_per_area, static_energy_nj

from .network import Network, load_network
from .pareto import nsga2_order, pareto_mask
from .runs import STATUS_ERROR, STATUS_OK, RunDir, new_run_id
from .settings import Settings, check_objective

#: mapping-search presets: the per-point GA is small because a grid has many points
PRESETS: dict[str, Settings] = {
    "smoke": Settings(population_2level=8, population_3level=8, generations=3, patience=2),
    "fast": Settings(population_2level=16, population_3level=32, generations=20, patience=6),
    "standard": Settings(population_2level=40, population_3level=80, generations=100, patience=25),
    "qgamma": Settings(),
}
BASELINE_KIND = "int16"
STATUS_INFEASIBLE = "infeasible"


# ---- design points ------------------------------------------------------------------------------------
@dataclass(frozen=True, order=True)
class DesignPoint:
    """One accelerator of the grid. L1 bytes are per PE; L2 is the global buffer."""

    pe_kind: str
    num_pes: int
    l1_bytes: int
    l2_bytes: int

    @property
    def id(self) -> str:
        return f"{self.pe_kind}-{self.num_pes}pe-l1_{self.l1_bytes}-l2_{self.l2_bytes}"


def grid(pe_kinds: Sequence[str], pes: Sequence[int], l1_sizes: Sequence[int], l2_sizes: Sequence[int]) -> list[DesignPoint]:
    return [DesignPoint(k, p, a, b) for k, p, a, b in itertools.product(pe_kinds, pes, l1_sizes, l2_sizes)]


def point_accelerator(point: DesignPoint, kind: PEKind, base: Accelerator) -> Accelerator:
    """The accelerator of a design point: the base's NoC/off-chip/tech, this point's sizes and PE kind."""
    p = kind.precision
    formats = tuple(dict.fromkeys((p.weights.name, p.activations.name, p.outputs.name)))
    return dataclasses.replace(base, name=point.id, num_pes=point.num_pes, l1_bytes=point.l1_bytes,
                               l2_bytes=point.l2_bytes, pe_kind=kind.name, precisions=formats)


def requantize(network: Network, kind: PEKind) -> Network:
    """The whole network at the precision the PE kind runs (QUIDAM compares kinds on whole networks)."""
    return dataclasses.replace(network, layers=tuple(layer.with_precision(kind.precision) for layer in network.layers),
                               bits=kind.name)


def _shape_key(layer: Layer) -> tuple[Any, ...]:
    d = layer.to_dict()
    return tuple((k, str(v)) for k, v in sorted(d.items()) if k != "name")


def unique_layers(network: Network) -> tuple[Network, dict[str, int]]:
    """One layer per distinct shape and precision, with how often it occurs (search each shape once)."""
    first: dict[tuple[Any, ...], Layer] = {}
    counts: dict[str, int] = {}
    for layer in network.layers:
        key = _shape_key(layer)
        if key not in first:
            first[key] = layer
            counts[layer.name] = 0
        counts[first[key].name] += 1
    return dataclasses.replace(network, layers=tuple(first.values())), counts


# ---- one point ----------------------------------------------------------------------------------------
def point_metrics(point: DesignPoint, kind: PEKind, acc: Accelerator, records: Iterable[Mapping[str, Any]],
                  counts: Mapping[str, int]) -> dict[str, Any]:
    """PPA of a point from its per-layer search records (pure: no search, no I/O)."""
    records = list(records)
    failed = [r for r in records if r.get("status") != STATUS_OK]
    ppa = accelerator_ppa(acc)
    out: dict[str, Any] = {"key": point.id, "layer": point.id, **dataclasses.asdict(point),
                           "precision": kind.precision.name, "lanes": kind.lanes, "clock_mhz": kind.clock_mhz,
                           "area_mm2": ppa.area_mm2, "power_peak_mw": ppa.power_mw,
                           "leakage_mw": ppa.leakage_total_mw, "ppa_model": ppa.model,
                           "area_um2_by_part": dict(ppa.area_um2)}
    if failed or not records:
        reasons = "; ".join(f"{r.get('layer')}: {r.get('reason')}" for r in failed[:3])
        crashed = any(r.get("status") == STATUS_ERROR for r in failed)  # a bug, not the hardware's verdict
        out.update(status=STATUS_ERROR if crashed else STATUS_INFEASIBLE, reason=reasons or "no layers",
                   failed_layers=len(failed))
        return out
    cycles = sum(float(r["latency_cycles"]) * counts.get(r["layer"], 1) for r in records)
    dynamic = sum(float(r["energy_nj"]) * counts.get(r["layer"], 1) for r in records)
    seconds = kind.seconds(cycles)
    static = static_energy_nj(ppa, seconds)
    energy = dynamic + static
    out.update(status=STATUS_OK, reason=None, latency_cycles=cycles, latency_s=seconds, energy_dynamic_nj=dynamic,
               energy_static_nj=static, energy_nj=energy, edp=energy * seconds,
               power_avg_mw=energy * 1e-6 / seconds if seconds > 0 else None,
               perf_per_area=performance_per_area(seconds, ppa.area_mm2))
    return out


def search_point(point: DesignPoint, network: Network, base: Accelerator, objective: str, settings: Settings,
                 jobs: int, seed: int, scheduler: Any, points_dir: Path,
                 pe_kinds_file: str | None = None) -> dict[str, Any]:
    """Map every distinct layer at this point (qgamma.search) and turn the result into the point's record."""
    from .search import search

    tech = base.tech or {}
    kind = get_pe_kind(point.pe_kind, pe_kinds_file or tech.get("pe_kinds_file"), tech.get("pe_kinds"))
    acc = point_accelerator(point, kind, base)
    net, counts = unique_layers(requantize(network, kind))
    start = time.perf_counter()
    result = search(net, acc, objective, jobs=jobs, seed=seed, settings=settings, scheduler=scheduler,
                    runs_dir=points_dir, progress=False, run_id=point.id)
    record = point_metrics(point, kind, acc, result.layers, counts)
    record.update(search_run=str(Path(result.run_dir).relative_to(points_dir.parent)),
                  search_seconds=time.perf_counter() - start)
    return record


# ---- normalisation and the front --------------------------------------------------------------------------
def pareto_front(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Keys of the feasible points no other point beats in both perf/area (max) and energy (min)."""
    if not records:
        return []
    mask = pareto_mask(objective_matrix(records))
    return [r["key"] for r, on in zip(records, mask) if on]


def normalise(records: Sequence[Mapping[str, Any]], baseline: str = BASELINE_KIND) -> tuple[list[dict[str, Any]], str | None]:
    """Add norm_perf_per_area (/ best baseline perf/area) and norm_energy (/ lowest baseline energy).

    When the baseline kind has no feasible point, the first kind that has one is the baseline instead.
    """
    ok = [r for r in records if r.get("status") == STATUS_OK]
    kinds = [baseline] + [r["pe_kind"] for r in ok]
    chosen = next((k for k in kinds if any(r["pe_kind"] == k for r in ok)), None)
    out = [dict(r) for r in records]
    if chosen is None:
        return out, None
    base = [r for r in ok if r["pe_kind"] == chosen]
    best_ppa = max(r["perf_per_area"] for r in base)
    best_energy = min(r["energy_nj"] for r in base)
    for r in out:
        if r.get("status") == STATUS_OK:
            r["norm_perf_per_area"] = r["perf_per_area"] / best_ppa
            r["norm_energy"] = r["energy_nj"] / best_energy
    return out, chosen


def kind_summary(records: Sequence[Mapping[str, Any]], baseline: str | None) -> dict[str, dict[str, Any]]:
    """Per PE kind: best perf/area and lowest energy, and both against the baseline kind's best
    (QUIDAM's "x more performance per area" and "x less energy")."""
    ok = [r for r in records if r.get("status") == STATUS_OK]
    by_kind: dict[str, list[Mapping[str, Any]]] = {}
    for r in ok:
        by_kind.setdefault(r["pe_kind"], []).append(r)
    base = by_kind.get(baseline or "", [])
    base_ppa = max((r["perf_per_area"] for r in base), default=None)
    base_energy = min((r["energy_nj"] for r in base), default=None)
    out = {}
    for kind, rs in by_kind.items():
        best_ppa = max(rs, key=lambda r: r["perf_per_area"])
        best_energy = min(rs, key=lambda r: r["energy_nj"])
        out[kind] = {"points": len(rs), "best_perf_per_area": best_ppa["perf_per_area"],
                     "best_perf_per_area_point": best_ppa["key"], "lowest_energy_nj": best_energy["energy_nj"],
                     "lowest_energy_point": best_energy["key"],
                     "perf_per_area_gain": best_ppa["perf_per_area"] / base_ppa if base_ppa else None,
                     "energy_gain": base_energy / best_energy["energy_nj"] if base_energy else None}
    return out


# ---- the result -----------------------------------------------------------------------------------------
@dataclass
class ExploreResult:
    """Every evaluated design point (plain records), the baseline kind, the Pareto front and the run folder."""

    network: str
    run_dir: Path
    points: list[dict[str, Any]]
    baseline: str | None
    front: list[str]
    summary: dict[str, dict[str, Any]] = field(default_factory=dict)
    mode: str = "grid"

    @property
    def feasible(self) -> list[dict[str, Any]]:
        return [r for r in self.points if r.get("status") == STATUS_OK]

    def point(self, key: str) -> dict[str, Any]:
        for r in self.points:
            if r["key"] == key:
                return r
        raise KeyError(key)

    def __rich__(self) -> Any:
        return points_table(self)


def finish(network: str, run: RunDir, records: Sequence[Mapping[str, Any]], mode: str) -> ExploreResult:
    """Normalise, find the front, summarise per kind, and write it all into the run."""
    points, baseline = normalise(records)
    front = pareto_front(points)
    summary = kind_summary(points, baseline)
    for r in points:
        r["on_front"] = r["key"] in front
        run.records[r["key"]] = dict(r)
    run.update_summary(status="complete", baseline=baseline, front=front, kinds=summary, mode=mode,
                       chosen_keys=[r["key"] for r in points])
    return ExploreResult(network, run.path, points, baseline, front, summary, mode)


def open_explore(path: str | Path) -> ExploreResult:
    """An explore run read back from its folder (e.g. to plot it again)."""
    run = RunDir.open(path)
    if run.config.get("kind") != "explore":
        raise InputError("not an explore run (run.yaml has no kind: explore)", str(path), "give a folder made by qgamma explore")
    return ExploreResult(run.config.get("network_name", ""), run.path, [dict(r) for r in run.layers],
                         run.summary.get("baseline"), list(run.summary.get("front") or []),
                         dict(run.summary.get("kinds") or {}), run.summary.get("mode", "grid"))


# ---- the search over hardware parameters ---------------------------------------------------------------------
def objective_matrix(records: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Rows (-perf/area, energy) to minimise; infeasible points are inf (ranked after every front)."""
    return np.array([(-r["perf_per_area"], r["energy_nj"]) if r.get("status") == STATUS_OK else (np.inf, np.inf)
                     for r in records], dtype=np.float64).reshape(-1, 2)


def hardware_ga(space: Sequence[Sequence[Any]], evaluate: Callable[[tuple[Any, ...]], Mapping[str, Any]],
                budget: int, seed: int, population: int = 8) -> list[Mapping[str, Any]]:
    """Sample a large hardware space: NSGA-II parents, uniform crossover and one-gene mutation over indices.

    ``evaluate`` maps a tuple of parameter values to a record; each distinct point is evaluated once and at most
    ``budget`` points are evaluated. Returns the records in evaluation order.
    """
    rng = np.random.default_rng(seed)
    sizes = [len(s) for s in space]
    seen: dict[tuple[int, ...], Mapping[str, Any]] = {}

    def run(genes: Iterable[tuple[int, ...]]) -> None:
        for g in genes:
            if g not in seen and len(seen) < budget:
                seen[g] = evaluate(tuple(space[d][i] for d, i in enumerate(g)))

    run(tuple(int(rng.integers(n)) for n in sizes) for _ in range(population))
    stale = 0
    while len(seen) < budget and stale < 20:
        keys = list(seen)
        order = nsga2_order(objective_matrix([seen[k] for k in keys]))
        parents = [keys[i] for i in order[:max(2, population // 2)]]
        children = []
        for _ in range(population):
            a, b = (parents[int(i)] for i in rng.choice(len(parents), 2))
            child = [a[d] if rng.random() < 0.5 else b[d] for d in range(len(sizes))]
            d = int(rng.integers(len(sizes)))
            child[d] = int(rng.integers(sizes[d]))
            children.append(tuple(child))
        before = len(seen)
        run(children)
        stale = stale + 1 if len(seen) == before else 0
    return list(seen.values())


# ---- the API -----------------------------------------------------------------------------------------------
def _positive_ints(values: Sequence[Any], name: str) -> list[int]:
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise InputError(f"{name} must be whole numbers >= 1, got {v!r}", f"--{name}", "e.g. --pes 16,64,256")
        out.append(v)
    if not out:
        raise InputError(f"no {name} given", f"--{name}", "give at least one value")
    return out


def explore(network: str | Network, pe_kinds: Sequence[str] = ("fp32", "int16", "lightpe1", "lightpe2"),
            pes: Sequence[int] = (16, 64, 168, 256), l1_sizes: Sequence[int] = (512, 2048),
            l2_sizes: Sequence[int] = (131072, 2097152), objective: str = "edp", preset: str = "fast",
            jobs: int = -1, seed: int = 0, scheduler: Any = None, runs_dir: str | Path = "runs",
            accelerator: str | Accelerator = "edge16", max_points: int = 64,
            settings: Settings | None = None, run_id: str | None = None,
            command: Sequence[str] | None = None) -> ExploreResult:
    """Evaluate the design space of ``network`` and file it under ``runs_dir`` (see module docstring).

    accelerator: the base whose bandwidths, NoC and tech overrides every point keeps; max_points: grids up to
    this size are enumerated, larger ones are sampled by ``hardware_ga`` with this budget; settings: overrides
    the preset's GA settings.
    """
    net = network if isinstance(network, Network) else load_network(network)
    base = accelerator if isinstance(accelerator, Accelerator) else Accelerator.load(accelerator)
    tech = base.tech or {}
    kinds = [get_pe_kind(k, tech.get("pe_kinds_file"), tech.get("pe_kinds")).name for k in pe_kinds]
    if not kinds:
        raise InputError("no PE kinds given", "--pe-kinds", "e.g. --pe-kinds fp32,int16,lightpe1,lightpe2")
    pes, l1_sizes, l2_sizes = (_positive_ints(v, n) for v, n in ((pes, "pes"), (l1_sizes, "l1"), (l2_sizes, "l2")))
    objs = check_objective(tuple(o.strip() for o in objective.split(",")) if isinstance(objective, str)
                           else tuple(objective))
    if len(objs) != 1:
        raise InputError(f"explore takes one mapping objective, got {objective!r}", "--objective",
                         "use edp, latency or energy")
    objective_name = objs[0]
    if preset not in PRESETS:
        raise InputError(f"unknown preset {preset!r}", "--preset", f"use one of {', '.join(PRESETS)}")
    cfg_settings = settings or PRESETS[preset]
    if isinstance(max_points, bool) or not isinstance(max_points, int) or max_points < 1:
        raise InputError(f"max_points must be a whole number >= 1, got {max_points!r}", "--max-points", "e.g. 64")
    space = [kinds, pes, l1_sizes, l2_sizes]
    size = math.prod(len(s) for s in space)
    mode = "grid" if size <= max_points else "ga"
    config = {"kind": "explore", "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "command": list(command) if command else None, "network": net.to_dict(), "network_name": net.name,
              "accelerator": base.to_dict(), "pe_kinds": kinds, "pes": pes, "l1_bytes": l1_sizes,
              "l2_bytes": l2_sizes, "objective": objective_name, "preset": preset,
              "settings": cfg_settings.to_dict(), "seed": seed, "jobs": jobs, "max_points": max_points,
              "mode": mode, "space_size": size, "layer_order": []}
    run = RunDir.create(runs_dir, run_id or new_run_id(net.name, "explore", objective_name, seed), config)
    points_dir = run.path / "points"
    records: list[dict[str, Any]] = []

    def evaluate(values: tuple[Any, ...]) -> dict[str, Any]:
        point = DesignPoint(*values)
        rec = search_point(point, net, base, objective_name, cfg_settings, jobs, seed, scheduler, points_dir)
        records.append(rec)
        run.record(rec)
        run.update_summary(status="running", chosen_keys=[r["key"] for r in records])
        return rec

    if mode == "grid":
        for point in grid(*space):
            evaluate(dataclasses.astuple(point))
    else:
        hardware_ga(space, evaluate, max_points, seed)
    return finish(net.name, run, records, mode)


# ---- rendering ---------------------------------------------------------------------------------------------
def _fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}g}"
    return str(v)


def points_table(result: ExploreResult) -> Any:
    """Every point, best normalised performance per area first; the front marked."""
    from rich.table import Table

    t = Table(title=f"{result.network}: design points (perf/area and energy relative to the best {result.baseline})")
    for col in ("kind", "PEs", "L1 B", "L2 KiB", "lat ms", "energy uJ", "mm2", "peak mW", "perf/area", "energy", "front"):
        t.add_column(col, justify="left" if col == "kind" else "right")
    rows = sorted(result.points, key=lambda r: -(r.get("norm_perf_per_area") or -1.0))
    for r in rows:
        head = (r["pe_kind"], str(r["num_pes"]), str(r["l1_bytes"]), _fmt(r["l2_bytes"] / 1024))
        if r.get("status") != STATUS_OK:
            t.add_row(*head, "[red]infeasible[/red]", "", _fmt(r.get("area_mm2")), "", "", "", "")
            continue
        t.add_row(*head, _fmt(r["latency_s"] * 1e3), _fmt(r["energy_nj"] * 1e-3), _fmt(r["area_mm2"]),
                  _fmt(r["power_peak_mw"]), _fmt(r.get("norm_perf_per_area")), _fmt(r.get("norm_energy")),
                  "*" if r.get("on_front") else "")
    return t


def summary_table(result: ExploreResult) -> Any:
    from rich.table import Table

    t = Table(title=f"{result.network}: best point per PE kind against the best {result.baseline}")
    for col in ("PE kind", "points", "perf/area gain", "energy gain", "best perf/area point", "lowest energy point"):
        t.add_column(col, justify="left" if "point" in col or col == "PE kind" else "right")
    for kind, s in result.summary.items():
        t.add_row(kind, str(s["points"]), _fmt(s["perf_per_area_gain"]), _fmt(s["energy_gain"]),
                  s["best_perf_per_area_point"], s["lowest_energy_point"])
    return t


def render(result: ExploreResult, console: Any = None) -> None:
    from rich.console import Console

    console = console or Console()
    console.print(points_table(result))
    console.print(summary_table(result))
    console.print(f"run: {result.run_dir}")


KIND_COLOURS = {"fp32": "tab:red", "fp16": "tab:orange", "int16": "tab:blue", "int8": "tab:cyan",
                "int4": "tab:olive", "lightpe1": "tab:green", "lightpe2": "tab:purple"}


def plot(result: ExploreResult, out_dir: str | Path | None = None) -> list[Path]:
    """PNG figures: normalised perf/area vs normalised energy by PE kind, and per-kind distributions."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("--plot needs matplotlib, which is not installed", "--plot", "pip install 'qgamma[plot]'") from None
    out = Path(out_dir) if out_dir else Path(result.run_dir)
    out.mkdir(parents=True, exist_ok=True)
    ok = result.feasible
    kinds = list(dict.fromkeys(r["pe_kind"] for r in ok))
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for kind in kinds:
        rs = [r for r in ok if r["pe_kind"] == kind]
        ax.scatter([r["norm_energy"] for r in rs], [r["norm_perf_per_area"] for r in rs], s=18, alpha=0.75,
                   label=kind, color=KIND_COLOURS.get(kind))
    front = sorted((r for r in ok if r.get("on_front")), key=lambda r: r["norm_energy"])
    ax.plot([r["norm_energy"] for r in front], [r["norm_perf_per_area"] for r in front], "k--", lw=1, label="Pareto front")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"energy / lowest {result.baseline} energy")
    ax.set_ylabel(f"perf per area / best {result.baseline}")
    ax.set_title(result.network)
    ax.legend(fontsize=8)
    fig.tight_layout()
    scatter = out / "explore_scatter.png"
    fig.savefig(scatter, dpi=120)
    plt.close(fig)
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    for ax, key, label in ((axes[0], "norm_perf_per_area", "normalised perf per area"),
                           (axes[1], "norm_energy", "normalised energy")):
        data = [[r[key] for r in ok if r["pe_kind"] == k] for k in kinds]
        if data:
            ax.violinplot(data, showmedians=True, showextrema=True)
        ax.set_xticks(range(1, len(kinds) + 1), kinds)
        ax.set_yscale("log")
        ax.set_ylabel(label)
    fig.suptitle(result.network)
    fig.tight_layout()
    dist = out / "explore_by_kind.png"
    fig.savefig(dist, dpi=120)
    plt.close(fig)
    return [scatter, dist]


# ---- CLI ---------------------------------------------------------------------------------------------------
def _int_list(text: str, flag: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(f"{flag} takes comma-separated whole numbers, got {text!r}", flag, f"e.g. {flag} 16,64") from None
    return _positive_ints(values, flag.lstrip("-"))


def add_subcommand(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("explore", help="design-space exploration over PE kinds, PE counts, L1 and L2",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("network", help="bundled network name or path")
    p.add_argument("--pe-kinds", default="fp32,int16,lightpe1,lightpe2", help="PE kinds (default %(default)s)")
    p.add_argument("--pes", default="16,64,168,256", help="PE counts (default %(default)s)")
    p.add_argument("--l1", default="512,2048", help="L1 bytes per PE (default %(default)s)")
    p.add_argument("--l2", default="131072,2097152", help="L2 bytes (default %(default)s)")
    p.add_argument("--objective", default="edp", help="mapping objective per layer: edp, latency or energy")
    p.add_argument("--preset", default="fast", choices=sorted(PRESETS), help="mapping-search effort (default fast)")
    p.add_argument("--accelerator", default="edge16", help="base accelerator (bandwidths, NoC, tech overrides)")
    p.add_argument("--max-points", type=int, default=64, help="grids larger than this are sampled by a GA")
    p.add_argument("--jobs", type=int, default=-1, help="parallel layer searches (-1 = all cores)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scheduler", default=None, help="Dask scheduler address (tcp://HOST:PORT)")
    p.add_argument("--runs-dir", default="runs", help="where the run folder goes (default runs/)")
    p.add_argument("--plot", action="store_true", help="write PNG figures into the run folder (needs matplotlib)")
    p.set_defaults(run=run, func=run)
    return p


register_cli = add_subcommand  # the name qgamma/cli.py looks for


def run(args: argparse.Namespace) -> int:
    kinds = [k.strip() for k in args.pe_kinds.split(",") if k.strip()]
    result = explore(args.network, kinds, _int_list(args.pes, "--pes"), _int_list(args.l1, "--l1"),
                     _int_list(args.l2, "--l2"), objective=args.objective, preset=args.preset, jobs=args.jobs,
                     seed=args.seed, scheduler=args.scheduler, runs_dir=args.runs_dir, accelerator=args.accelerator,
                     max_points=args.max_points, command=["qgamma", "explore", args.network])
    render(result)
    if args.plot:
        for path in plot(result):
            print(f"wrote {path}")
    return 0
