"""ResNet18: INT8 against mixed INT8/INT4 (every HAWQ-V3 configuration) on edge16, latency objective.

The qGamma thesis (shared/seeds/002, section 6.2, Fig. 8) searches ResNet18 in INT8 and in HAWQ-V3's mixed
configuration with one clustering for all layers (clustering is hardware), qGamma's settings, and reports a
1.20x lower network latency for the mixed network. Here: for INT8 (resnet18_int8) and every configuration of
qgamma/data/hawq_v3_resnet18_bits.yaml, over several seeds, the per-layer latencies of the best mappings and the
network ratio INT8 / configuration (mean and min..max spread over seeds). Fixed clustering: `--cluster auto`
(default) lets every run pick the PEs-per-cluster value best for its whole network; `--cluster N` fixes it.

Run: /work/venv/bin/python benchmarks/resnet18_mixed_vs_int8.py [--seeds 0 1 2] [--jobs 2] [--cluster auto]
     [--configs latency_0.5 ...] [--generations N] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qgamma import Settings, search  # noqa: E402
from qgamma.network import bit_configs, load_network  # noqa: E402

THESIS_RATIO = 1.20
MIXED = "latency_0.5"


def run_config(bits: str | None, seed: int, args: argparse.Namespace, settings: Settings, runs: str) -> dict:
    net = load_network("resnet18_int8", bits=bits)
    start = time.perf_counter()
    result = search(net, args.accelerator, "latency", jobs=args.jobs, seed=seed, cluster=args.cluster,
                    settings=settings, runs_dir=runs, progress=False)
    return {"latency": {r["layer"]: r.get("latency_cycles") for r in result.layers},
            "total": result.totals["latency_cycles"], "cluster": result.cluster,
            "failed": [r["layer"] for r in result.failed], "wall": time.perf_counter() - start}


def common_ratio(base: dict, other: dict) -> float:
    """Network latency ratio base / other over the layers mapped in both (unmappable layers drop out of both)."""
    common = [n for n in base if base[n] and other.get(n)]
    return sum(base[n] for n in common) / sum(other[n] for n in common)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--accelerator", default="edge16")
    ap.add_argument("--cluster", default="auto", help="'auto' or a PEs-per-cluster value")
    ap.add_argument("--configs", nargs="+", default=None, help="HAWQ configurations (default: all)")
    ap.add_argument("--generations", type=int, default=None, help="override qGamma's 1000 (for a quick look)")
    ap.add_argument("--json", type=Path, default=None, help="also write every number to this file")
    args = ap.parse_args()
    if args.cluster != "auto":
        args.cluster = int(args.cluster)
    settings = Settings() if args.generations is None else Settings(generations=args.generations)
    configs = args.configs or bit_configs("hawq")
    names = load_network("resnet18_int8").layer_names
    data: dict[str, dict[int, dict]] = {"int8": {}}
    with tempfile.TemporaryDirectory() as runs:
        for seed in args.seeds:
            data["int8"][seed] = run_config(None, seed, args, settings, runs)
            print(f"int8 seed {seed}: {data['int8'][seed]['total']:.6g} cycles, cluster {data['int8'][seed]['cluster']}, "
                  f"{data['int8'][seed]['wall']:.1f} s", flush=True)
            for c in configs:
                data.setdefault(c, {})[seed] = run_config(f"hawq:{c}", seed, args, settings, runs)
                d = data[c][seed]
                print(f"{c} seed {seed}: {d['total']:.6g} cycles, cluster {d['cluster']}, {d['wall']:.1f} s", flush=True)

    def mean_latency(cfg: str, layer: str) -> float:
        vals = [data[cfg][s]["latency"][layer] for s in args.seeds if data[cfg][s]["latency"].get(layer)]
        return statistics.mean(vals) if vals else float("nan")

    mixed = load_network("resnet18_int8", bits=f"hawq:{MIXED}")
    print(f"\nper-layer latency (cycles, mean over seeds {args.seeds}): INT8 vs HAWQ-V3 {MIXED}")
    print(f"{'layer':24s} {'bits':>5s} {'int8':>12s} {MIXED:>12s} {'ratio':>7s}")
    for layer in mixed.layers:
        a, b = mean_latency("int8", layer.name), mean_latency(MIXED, layer.name) if MIXED in data else float("nan")
        print(f"{layer.name:24s} {layer.precision.name:>5s} {a:12.6g} {b:12.6g} {a / b:7.3f}")
    failed = sorted({n for runs_ in data.values() for d in runs_.values() for n in d["failed"]})
    if failed:
        print(f"\nunmappable in some run (left out of both sides of every ratio): {', '.join(failed)}")
    print(f"\nnetwork latency ratio INT8 / configuration over seeds (thesis, {MIXED}: {THESIS_RATIO:.2f}x)")
    print(f"{'config':16s} {'mean':>7s} {'min':>7s} {'max':>7s}  per seed")
    summary = {}
    for c in configs:
        ratios = [common_ratio(data["int8"][s]["latency"], data[c][s]["latency"]) for s in args.seeds]
        summary[c] = {"mean": statistics.mean(ratios), "min": min(ratios), "max": max(ratios), "per_seed": ratios}
        print(f"{c:16s} {summary[c]['mean']:7.3f} {min(ratios):7.3f} {max(ratios):7.3f}  "
              + " ".join(f"{r:.3f}" for r in ratios))
    if args.json:
        args.json.write_text(json.dumps({"seeds": args.seeds, "cluster": args.cluster, "layers": names,
                                         "runs": data, "ratios": summary}, indent=1, default=str))


if __name__ == "__main__":
    main()
