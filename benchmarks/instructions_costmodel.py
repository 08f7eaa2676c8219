"""Instructions per evaluation of evaluate_batch, counted by valgrind's callgrind: a figure that does not move.

Why: wall-clock figures on a shared 2-core VM move by 5-10 % from run to run (and from process to process, as
compiled code lands at other addresses), more than most single changes to the cost model gain. The number of
instructions executed is exact and repeatable, and with about four instructions per cycle the analysis is bound
by it. This script:

1. draws the populations of bench_costmodel.py (random valid 3-level mappings of ResNet18 layers, same seed) in
   this process and saves them;
2. starts a child process under `valgrind --tool=callgrind --instr-atstart=no` (instrumentation off, so the
   imports and the numba cache load are not counted), which scores every population once to warm up;
3. switches instrumentation on (`callgrind_control -i on`), lets the child score every population `--repeats`
   times, switches it off and sums what callgrind counted.

It prints the ten most expensive functions (numba's compiled functions have no symbols: they show as
addresses) and, last, `instructions_per_evaluation: <number>`. Under valgrind numba sees another CPU (no
AVX-512), so it compiles (and caches) the kernels for that one: the first run after an edit takes several
minutes, later ones about two. Needs valgrind (Debian: apt-get install valgrind).

Run: python benchmarks/instructions_costmodel.py [--layers 2,7,12,15,20] [--population 300] [--repeats 1]
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def _child(work: Path, accelerator: str, repeats: int) -> None:
    """Score the saved populations: once to warm up, then `repeats` times between the go and done files."""
    from bench_costmodel import resnet18_layers
    from qmaestro import Accelerator
    from qmaestro.evaluate import EvaluationContext, evaluate_batch

    acc = Accelerator.load(accelerator)
    layers = {layer.name: layer for layer in resnet18_layers("int8")}
    saved = np.load(work / "populations.npz")
    names = [str(x) for x in saved["names"]]
    work_items = []
    for k, name in enumerate(names):
        layer = layers[name]
        d, c, n = (np.ascontiguousarray(saved[f"{key}{k}"]) for key in "dcn")
        ctx = EvaluationContext.of(layer, acc)
        evaluate_batch(layer, acc, d, c, n, ctx)
        work_items.append((layer, d, c, n, ctx))
    (work / "ready").touch()
    while not (work / "go").exists():
        time.sleep(0.1)
    for _ in range(repeats):
        for layer, d, c, n, ctx in work_items:
            evaluate_batch(layer, acc, d, c, n, ctx)
    (work / "done").touch()
    while True:
        time.sleep(1)


def _wait_for(path: Path, proc: subprocess.Popen, what: str) -> None:
    while not path.exists():
        if proc.poll() is not None:
            raise SystemExit(f"error: the child under valgrind exited ({proc.returncode}) before it was {what}")
        time.sleep(0.5)


def _totals(out_files: list[Path]) -> tuple[int, list[tuple[int, str]]]:
    """Instructions counted in callgrind's dump files, and per function (callgrind_annotate's table)."""
    total = 0
    functions: list[tuple[int, str]] = []
    for f in out_files:
        for line in f.read_text(errors="replace").splitlines():
            if line.startswith(("summary:", "totals:")):
                total += int(line.split()[1])
        ann = subprocess.run(["callgrind_annotate", str(f)], capture_output=True, text=True).stdout
        for line in ann.splitlines():
            m = re.match(r"\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.+)", line)
            if m and "PROGRAM TOTALS" not in m.group(2):
                functions.append((int(m.group(1).replace(",", "")), m.group(2).strip()))
    return total, sorted(functions, reverse=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", default="2,7,12,15,20",
                    help="indices into ResNet18's layers (bench_costmodel.py's order); 'all' for every layer")
    ap.add_argument("--population", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--accelerator", default="edge16")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(Path(args.child), args.accelerator, args.repeats)
        return 0
    for tool in ("valgrind", "callgrind_control", "callgrind_annotate"):
        if shutil.which(tool) is None:
            print(f"error: {tool} not found (fix: apt-get install valgrind)", file=sys.stderr)
            return 2

    from bench_costmodel import random_mappings, resnet18_layers, valid_population
    from qmaestro import Accelerator
    from qmaestro.evaluate import evaluate_batch

    acc = Accelerator.load(args.accelerator)
    layers = resnet18_layers("int8")
    picks = range(len(layers)) if args.layers == "all" else [int(x) for x in args.layers.split(",")]
    rng = np.random.default_rng(args.seed)
    # the same draws as bench_costmodel.py (its first-call mappings, then every layer's population in order)
    pops = {}
    random_mappings(layers[1], acc.num_pes, layers[1].precision.lanes, 4, rng)
    for k, layer in enumerate(layers):
        d, c, n, _ = valid_population(layer, acc, args.population, rng, evaluate_batch)
        if k in picks:
            pops[k] = (layer.name, d, c, n)
    evaluations = args.repeats * sum(len(p[3]) for p in pops.values())

    with tempfile.TemporaryDirectory(prefix="qgamma-instr-") as tmp:
        work = Path(tmp)
        arrays = {"names": np.array([p[0] for p in pops.values()])}
        for k, (_, d, c, n) in enumerate(pops.values()):
            arrays.update({f"d{k}": d, f"c{k}": c, f"n{k}": n})
        np.savez(work / "populations.npz", **arrays)
        out = work / "callgrind.out"
        env = dict(os.environ, NUMBA_NUM_THREADS="1")
        proc = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
             sys.executable, __file__, "--child", str(work), "--accelerator", args.accelerator,
             "--repeats", str(args.repeats)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        try:
            t0 = time.perf_counter()
            _wait_for(work / "ready", proc, "ready")
            subprocess.run(["callgrind_control", "-i", "on", str(proc.pid)], check=True, capture_output=True)
            (work / "go").touch()
            _wait_for(work / "done", proc, "done")
            subprocess.run(["callgrind_control", "-i", "off", str(proc.pid)], check=True, capture_output=True)
            subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True, capture_output=True)
            elapsed = time.perf_counter() - t0
        finally:
            proc.kill()
            proc.wait()
        total, functions = _totals(sorted(work.glob("callgrind.out*")))
    print(f"layers: {', '.join(p[0] for p in pops.values())}; {evaluations} evaluations; "
          f"{elapsed:.0f} s under valgrind")
    for count, name in functions[:10]:
        print(f"{count / evaluations:10.0f}  {name[:100]}")
    print(f"instructions_per_evaluation: {total / evaluations:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
