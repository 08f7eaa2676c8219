"""Reproduce QUIDAM's PE-kind comparison (shared/seeds/001, Sec. 4.2) with qgamma.explore.

Per network: the best LightPE-1, LightPE-2 and FP32 design points against the best INT16 point, in
performance per area (best of each kind / best INT16) and energy (lowest INT16 / lowest of each kind), next
to the paper's averages: LightPE-1 4.8x / 4.7x, LightPE-2 4.1x / 4.0x, and INT16 1.8x / 1.5x over FP32.
QUIDAM's ordering LightPE-1 > LightPE-2 > INT16 > FP32 is checked in both metrics. docs/ppa.md explains
where our magnitudes differ.

    /work/venv/bin/python benchmarks/quidam_pe_kinds.py                 # default grid, all six networks
    /work/venv/bin/python benchmarks/quidam_pe_kinds.py --nets resnet20 --quick
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from qgamma.explore import explore

#: network label -> bundled net (the precision in the file does not matter: explore re-quantizes per PE kind)
NETWORKS = {"vgg16": "vgg16", "resnet18": "resnet18_int8", "resnet34": "resnet34", "resnet50": "resnet50",
            "resnet20": "resnet20", "resnet56": "resnet56"}
KINDS = ("fp32", "int16", "lightpe1", "lightpe2")
#: QUIDAM's averages: (perf/area gain, energy gain) over the best INT16 point; FP32 as INT16's gain inverted
PAPER = {"lightpe1": (4.8, 4.7), "lightpe2": (4.1, 4.0), "fp32": (1 / 1.8, 1 / 1.5)}
#: FP32 needs L1 >= 2 KiB (VGG16) and L2 = 2 MiB (ResNet18 conv1) for every layer to have a mapping that fits
GRIDS = {"default": {"pes": [16, 64, 168, 256], "l1_sizes": [512, 2048], "l2_sizes": [131072, 2097152]},
         "quick": {"pes": [16, 64], "l1_sizes": [512], "l2_sizes": [65536]}}


def gains(summary: dict[str, Any]) -> dict[str, tuple[float | None, float | None]]:
    return {k: (s["perf_per_area_gain"], s["energy_gain"]) for k, s in summary.items()}


def ordering_holds(g: dict[str, tuple[float | None, float | None]], metric: int) -> bool:
    vals = [g.get(k, (None, None))[metric] for k in ("lightpe1", "lightpe2", "int16", "fp32")]
    return all(v is not None for v in vals) and all(a > b for a, b in zip(vals, vals[1:]))


def geomean(values: list[float]) -> float:
    import math
    return math.exp(sum(math.log(v) for v in values) / len(values))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nets", default=",".join(NETWORKS), help="networks (default: all six)")
    ap.add_argument("--quick", action="store_true", help="a 2-point-per-kind grid (smoke test)")
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--runs-dir", default="runs/bench-quidam")
    ap.add_argument("--out", default=None, help="JSON summary (default <runs-dir>/quidam_pe_kinds.json)")
    args = ap.parse_args(argv)
    grid = GRIDS["quick" if args.quick else "default"]
    console = Console(width=132)
    per_net: dict[str, dict[str, Any]] = {}
    for label in [n.strip() for n in args.nets.split(",") if n.strip()]:
        start = time.perf_counter()
        res = explore(NETWORKS.get(label, label), KINDS, objective="edp", preset=args.preset, jobs=args.jobs,
                      seed=args.seed, runs_dir=args.runs_dir, max_points=10_000, **grid)
        g = gains(res.summary)
        per_net[label] = {"gains": g, "run": str(res.run_dir), "seconds": time.perf_counter() - start,
                          "points": len(res.points), "feasible": len(res.feasible),
                          "order_perf_per_area": ordering_holds(g, 0), "order_energy": ordering_holds(g, 1),
                          "errors": [p["key"] for p in res.points if p.get("status") == "error"]}
        console.print(f"{label}: {len(res.feasible)}/{len(res.points)} feasible points "
                      f"({len(per_net[label]['errors'])} crashed), {per_net[label]['seconds']:.0f} s, run {res.run_dir}")
    table = Table(title="QUIDAM PE kinds: best point of each kind vs the best INT16 point (x = times better)")
    table.add_column("network")
    for k in ("lightpe1", "lightpe2", "fp32"):
        table.add_column(f"{k} perf/area", justify="right")
        table.add_column(f"{k} energy", justify="right")
    table.add_column("order LPE1>LPE2>INT16>FP32 (perf/area, energy)", justify="center")
    avg: dict[str, list[list[float]]] = {k: [[], []] for k in PAPER}
    for label, d in per_net.items():
        cells = []
        for k in ("lightpe1", "lightpe2", "fp32"):
            pa, en = d["gains"].get(k, (None, None))
            cells += [f"{pa:.2f}x" if pa else "-", f"{en:.2f}x" if en else "-"]
            if pa and en:
                avg[k][0].append(pa)
                avg[k][1].append(en)
        order = ("yes" if d["order_perf_per_area"] else "NO") + "/" + ("yes" if d["order_energy"] else "NO")
        table.add_row(label, *cells, order)
    mean_cells = []
    for k in ("lightpe1", "lightpe2", "fp32"):
        mean_cells += [f"{geomean(v):.2f}x" if v else "-" for v in avg[k]]
    table.add_row("[b]geomean (ours)[/b]", *mean_cells, "")
    table.add_row("[b]QUIDAM (paper)[/b]", *[f"{v:.2f}x" for k in ("lightpe1", "lightpe2", "fp32") for v in PAPER[k]], "yes/yes")
    console.print(table)
    out = Path(args.out) if args.out else Path(args.runs_dir) / "quidam_pe_kinds.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    summary = {"grid": grid, "preset": args.preset, "seed": args.seed, "networks": per_net,
               "geomean": {k: [geomean(v) if v else None for v in avg[k]] for k in avg}, "paper": PAPER}
    out.write_text(json.dumps(summary, indent=1))
    console.print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
