"""Whole-network search speed: ResNet18 mixed INT8/INT4 (HAWQ-V3 latency_0.5) on edge16, qGamma's settings.

DESIGN.md section 8: every layer, qGamma's settings (population 150 for 2-level / 300 for 3-level layers, up to
1000 generations, early stop after 150 without improvement), 2 parallel jobs, finishes in under 60 s wall.

The wall time is what a user waits for `qgamma search resnet18_mixed --jobs 2`: process start-up of the workers,
numba cache loading and all 21 searches. Evaluations/s = total cost-model evaluations / wall seconds.

Run: /work/venv/bin/python benchmarks/search_speed.py [--jobs 2] [--objective edp] [--seed 0] [--net resnet18_mixed]
The last line is `wall_seconds: <s>  evaluations_per_second: <n>`.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qgamma import Settings, search  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--net", default="resnet18_mixed")
    ap.add_argument("--accelerator", default="edge16")
    ap.add_argument("--objective", default="edp")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--warm", action="store_true",
                    help="first search one small layer in this process so numba's cache is loaded (not timed)")
    args = ap.parse_args()
    settings = Settings()  # qGamma: 150 / 300, 1000 generations, early stop 150
    with tempfile.TemporaryDirectory() as runs:
        if args.warm:
            search(args.net, args.accelerator, args.objective, layers=["fc"], jobs=1, settings=Settings(
                population_2level=8, population_3level=8, generations=1), runs_dir=runs, progress=False)
        start = time.perf_counter()
        result = search(args.net, args.accelerator, args.objective, jobs=args.jobs, seed=args.seed, settings=settings,
                        runs_dir=runs, progress=False)
        wall = time.perf_counter() - start
    totals = result.totals
    print(f"{'layer':24s} {'prec':>5s} {'gens':>5s} {'evals':>8s} {'seconds':>8s} {'latency':>12s} {'edp':>12s}")
    for r in result.layers:
        if r["status"] != "ok":
            print(f"{r['layer']:24s} {r['status']}: {r['reason']}")
            continue
        print(f"{r['layer']:24s} {r['precision_name']:>5s} {r['generations']:5d} {r['evaluations']:8d} "
              f"{r['seconds']:8.2f} {r['latency_cycles']:12.4g} {r['edp']:12.4g}")
    evals = totals["evaluations"]
    print(f"layers: {totals['layers']}/{len(result.layers)}  evaluations: {evals}  "
          f"sum of per-layer seconds: {totals['seconds']:.1f}  jobs: {args.jobs}")
    print(f"network latency: {totals['latency_cycles']:.6g} cycles  energy: {totals['energy_nj']:.6g} nJ  "
          f"EDP: {totals['edp']:.6g}")
    print(f"wall_seconds: {wall:.1f}  evaluations_per_second: {evals / wall:.0f}")


if __name__ == "__main__":
    main()
