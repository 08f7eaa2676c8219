"""Cost-model throughput: evaluate_batch on populations of random valid 3-level mappings of ResNet18 (INT8).

DESIGN.md section 8 holds qmaestro to >= 1,000,000 evaluations per second per core on ResNet18 layers with
3-level mappings, a population per call, after compilation. This script:

1. times the first evaluate_batch call (numba compilation, or loading the on-disk cache in a second process:
   run the script twice to see the cache effect);
2. for every ResNet18 layer draws random 3-level mappings directly in the array form (per level all six dims in
   a random loop order, one spatial dim, tiles within the parent tile, R/S full, input-centric Y >= R, X >= S,
   cluster sizes whose product fits the FUs; innermost level = Cluster(P) over C, Y or X), keeps the ones the
   analysis accepts until there are `--population` of them;
3. times `--repeats` evaluate_batch calls per layer on those populations (analysis in score mode + packing +
   energy + capacity verdicts: everything the mapper ranks by) with numba limited to one thread, and prints
   evals/s. Also shown: the share of mappings the closed form scores itself (`closed%`; the rest go to the
   case scan), of them those analysis/regular.py scores straight from the directives (`regular%`), and, for
   comparison, the full analysis (every MAESTRO column, the case scan) on the same inputs.

Run: /work/venv/bin/python benchmarks/bench_costmodel.py [--population 300] [--repeats 5] [--seed 1]
The last line is `evals_per_second_per_core: <number>`.
"""
from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # one core: the figure is per core

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qmaestro import Accelerator, Layer  # noqa: E402
from qmaestro.arrays import (DIM_C, DIM_K, DIM_R, DIM_S, DIM_X, DIM_Y, KIND_SPATIAL, KIND_TEMPORAL,  # noqa: E402
                             empty_batch)
from qmaestro.yamlio import load_yaml  # noqa: E402

CONV_DIMS = (DIM_K, DIM_C, DIM_R, DIM_S, DIM_Y, DIM_X)
OUTER_SPATIAL = (DIM_K, DIM_C, DIM_Y, DIM_X)
FU_SPATIAL = (DIM_C, DIM_Y, DIM_X)  # FUs of one PE never split output channels


def resnet18_layers(precision: str = "int8") -> list[Layer]:
    """ResNet18's conv and FC layers from nets/resnet18_int8.yaml, all at `precision`."""
    net = load_yaml(ROOT / "nets" / "resnet18_int8.yaml")
    return [Layer.from_dict(d, "nets/resnet18_int8.yaml", precision).with_precision(precision)
            for d in net["layers"]]


def _window_offset(tile: int, window: int, stride: int) -> int:
    """Input-centric sliding tiles: step to the first output row the tile did not cover."""
    return ((tile - window) // stride + 1) * stride


def random_mappings(layer: Layer, num_pes: int, lanes: int, n: int,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n random 3-level mappings of a CONV layer in array form (see module docstring for the rules)."""
    dirs, clusters, nlevels = empty_batch(n)
    full = {DIM_K: layer.K, DIM_C: layer.C, DIM_R: layer.R, DIM_S: layer.S, DIM_Y: layer.Y, DIM_X: layer.X}
    window = {DIM_Y: (layer.R, layer.stride_y), DIM_X: (layer.S, layer.stride_x)}
    pe_choices = [1 << k for k in range(num_pes.bit_length()) if (1 << k) <= num_pes]
    for i in range(n):
        nlevels[i] = 3
        clusters[i, 1] = rng.choice(pe_choices)  # PEs per cluster; the product with P fits num_pes x P FUs
        clusters[i, 2] = lanes
        parent = dict(full)
        for lvl in range(3):
            spatial = rng.choice(FU_SPATIAL if lvl == 2 else OUTER_SPATIAL)
            tiles = {}
            for d in CONV_DIMS:
                if d in (DIM_R, DIM_S):
                    tiles[d] = full[d]
                elif d in window:
                    lo = window[d][0]
                    tiles[d] = int(rng.integers(lo, parent[d] + 1))
                else:
                    tiles[d] = int(rng.integers(1, parent[d] + 1))
            for j, d in enumerate(rng.permutation(CONV_DIMS)):
                t = tiles[d]
                off = _window_offset(t, *window[d]) if d in window else t
                kind = KIND_SPATIAL if d == spatial else KIND_TEMPORAL
                dirs[i, lvl, j] = (kind, d, t, off)
            parent = tiles
    return dirs, clusters, nlevels


def valid_population(layer: Layer, acc: Accelerator, size: int, rng: np.random.Generator, evaluate_batch,
                     max_rounds: int = 50) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """`size` random mappings the analysis accepts (status 0), and the share of draws that were accepted."""
    lanes = layer.precision.lanes
    keep: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    have = drawn = 0
    for _ in range(max_rounds):
        d, c, n = random_mappings(layer, acc.num_pes, lanes, size, rng)
        ok = evaluate_batch(layer, acc, d, c, n).status == 0
        drawn += size
        keep.append((d[ok], c[ok], n[ok]))
        have += int(ok.sum())
        if have >= size:
            break
    if have == 0:
        raise SystemExit(f"{layer.name}: no valid random mapping in {drawn} draws")
    d, c, n = (np.concatenate(parts)[:size] for parts in zip(*keep))
    if len(n) < size:  # top up by repetition (rare): the timing needs full populations
        reps = -(-size // len(n))
        d, c, n = (np.concatenate([a] * reps)[:size] for a in (d, c, n))
    return np.ascontiguousarray(d), np.ascontiguousarray(c), np.ascontiguousarray(n), have / drawn


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--population", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--accelerator", default="edge16")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    from qmaestro.analysis import analyze_batch  # loads (or compiles) the jitted kernels' modules
    from qmaestro.arrays import hw_array, layer_array
    from qmaestro.analysis import METRIC_NAMES
    from qmaestro.evaluate import EvaluationContext, batch_from_metrics, evaluate_batch
    import_s = time.perf_counter() - t0

    acc = Accelerator.load(args.accelerator)
    layers = resnet18_layers("int8")
    rng = np.random.default_rng(args.seed)

    d, c, n = random_mappings(layers[1], acc.num_pes, layers[1].precision.lanes, 4, rng)
    t0 = time.perf_counter()
    evaluate_batch(layers[1], acc, d, c, n)
    first_s = time.perf_counter() - t0
    print(f"import_seconds (qmaestro.analysis, qmaestro.evaluate): {import_s:.3f}")
    print(f"first_call_seconds (compile or cache load): {first_s:.3f}")

    total_evals = 0
    total_s = analysis_s = scoring_s = 0.0
    cpu_s = analysis_cpu_s = 0.0  # process CPU time (time.process_time): robust when other processes load the machine
    from qmaestro.analysis.kernel import closed_form_codes
    full_s = 0.0
    closed = regular = 0
    print(f"{'layer':24s} {'valid%':>7s} {'evals/s':>12s} {'analysis%':>9s} {'feasible%':>9s} {'closed%':>8s} "
          f"{'regular%':>8s} {'full evals/s':>12s}")
    for layer in layers:
        d, c, n, share = valid_population(layer, acc, args.population, rng, evaluate_batch)
        ctx = EvaluationContext.of(layer, acc)  # once per layer, as the mapper does
        res = evaluate_batch(layer, acc, d, c, n, ctx)  # warm (shapes seen)
        t0 = time.perf_counter()
        c0 = time.process_time()
        for _ in range(args.repeats):
            res = evaluate_batch(layer, acc, d, c, n, ctx)
        dt = time.perf_counter() - t0
        cpu_s += time.process_time() - c0
        la, hw = layer_array(layer), hw_array(acc, num_units=ctx.num_units)
        t0 = time.perf_counter()
        c0 = time.process_time()
        for _ in range(args.repeats):
            metrics, status = analyze_batch(la, hw, d, c, n, score=True)
        da = time.perf_counter() - t0
        analysis_cpu_s += time.process_time() - c0
        codes = np.zeros(len(n), dtype=np.int64)
        closed_form_codes(la, hw, d, c, n, codes)
        closed += int((codes == 0).sum())
        rcodes = np.zeros(len(n), dtype=np.int64)
        closed_form_codes(la, hw, d, c, n, rcodes, regular=True)
        regular += int((rcodes == 0).sum())
        analyze_batch(la, hw, d, c, n)
        t0 = time.perf_counter()
        full_metrics, _ = analyze_batch(la, hw, d, c, n)
        df = time.perf_counter() - t0
        full_s += df
        t0 = time.perf_counter()
        for _ in range(args.repeats):
            batch_from_metrics(ctx, full_metrics, status, METRIC_NAMES)  # precision + energy + verdicts alone
        scoring_s += time.perf_counter() - t0
        evals = args.repeats * len(n)
        total_evals += evals
        total_s += dt
        analysis_s += da
        print(f"{layer.name:24s} {100 * share:6.1f}% {evals / dt:12.0f} {100 * min(da / dt, 1):8.1f}% "
              f"{100 * res.feasible.mean():8.1f}% {100 * (codes == 0).mean():7.1f}% {100 * (rcodes == 0).mean():7.1f}% "
              f"{len(n) / df:12.0f}")
    print(f"total: {total_evals} evaluations in {total_s:.3f} s on 1 thread "
          f"(population {args.population}, {args.repeats} calls per layer, {len(layers)} layers); "
          f"analysis alone {analysis_s:.3f} s; precision + energy scoring alone {scoring_s:.4f} s = "
          f"{1e6 * scoring_s / total_evals:.3f} us per evaluation")
    print(f"cpu time: evaluate_batch {cpu_s:.3f} s = {total_evals / cpu_s:.0f} evals/s; analysis alone "
          f"{analysis_cpu_s:.3f} s = {total_evals / analysis_cpu_s:.0f} evals/s")
    pop_total = total_evals // args.repeats
    print(f"closed form scored {closed} of {pop_total} mappings ({100 * closed / pop_total:.1f}%), "
          f"{regular} of them straight from the directives (regular form, {100 * regular / pop_total:.1f}%); "
          f"full analysis (every MAESTRO column, case scan): {pop_total / full_s:.0f} evals/s")
    print(f"evals_per_second_per_core: {total_evals / total_s:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
