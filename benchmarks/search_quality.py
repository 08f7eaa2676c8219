"""Search quality of the genetic mapper (DESIGN.md section 8, "Quality").

(a) Exhaustive check: on small layers, a restricted space (every level's loop order fixed to KCYXRS; every
    tile, parallel dim and power-of-two cluster size free) is enumerated and costed with the cost model;
    the GA searches the same space (reorder off, classics not seeded) over 20 seeds with a budget far below
    the space size. Reported: how often the GA's best is within 1% of the optimum (target: 95%).
(b) GA vs random search with the same number of evaluations, on the same small layers and on ResNet18 layers.
(c) Heuristics on vs off (DESIGN.md section 5): time and best EDP on ResNet18 layers.
(d) GA vs the classic dataflows of genomes/*.yaml on every ResNet18 mixed-precision layer (edge16).

Run: python benchmarks/search_quality.py [--seeds 20] [--quick]
"""
from __future__ import annotations

import argparse
import itertools
import time

import numpy as np

from qmaestro import Accelerator, Layer, Precision
from qgamma.decode import decode_batch
from qgamma.evolve import Scorer, search_layer
from qgamma.genome import NUM_ROLES, genome_space, random_population, repair
from qgamma.settings import Heuristics, Settings

ORDER = "KCYXRS"
SMALL_ACC = Accelerator(name="mini4", num_pes=4, l1_bytes=512, l2_bytes=1 << 20)
SMALL_LAYERS = [
    Layer("conv3x3", K=4, C=2, R=3, S=3, Y=5, X=5),
    Layer("conv1x1", K=4, C=2, R=1, S=1, Y=4, X=3),
    Layer("conv3x3_s2", K=4, C=3, R=3, S=3, Y=5, X=5, stride_y=2, stride_x=2),
]
#: the restricted space's heuristics: power-of-two clusters, any parallel dim
RESTRICTED = Heuristics(pow2_cluster=True, pow2_kc_tiles=True, top_dims_level0=0, top_dims_level1=0)
GA_SMALL = Settings(population_2level=40, generations=100, patience=40, seed_classics=False, heuristics=RESTRICTED,
                    loop_order=ORDER)


def enumerate_restricted(layer: Layer, acc: Accelerator) -> np.ndarray:
    """Every legal 2-level genome with loop order KCYXRS at both levels."""
    space = genome_space(layer, acc, RESTRICTED, loop_order=ORDER)
    order = [("K", "C", "Y", "X", "R", "S").index(d) for d in ORDER]
    ranges0 = [range(int(space.lo[r]), int(space.sizes[r]) + 1) if r < 4 else [int(space.sizes[r])]
               for r in range(NUM_ROLES)]
    pars = [r for r in range(NUM_ROLES) if space.par_allowed[0, r]]
    genomes = []
    for t0 in itertools.product(*ranges0):
        ranges1 = [range(int(space.lo[r]), t0[r] + 1) if r < 4 else [t0[r]] for r in range(NUM_ROLES)]
        for t1 in itertools.product(*ranges1):
            for p0, p1, c in itertools.product(pars, pars, space.cluster_options):
                g = np.zeros((2, 7, 2), dtype=np.int64)
                g[0, 0] = (p0, 1)
                g[1, 0] = (p1, c)
                for j, r in enumerate(order):
                    g[0, j + 1] = (r, t0[r])
                    g[1, j + 1] = (r, t1[r])
                genomes.append(g)
    pop = repair(np.stack(genomes), space)
    _, first = np.unique(pop.reshape(len(pop), -1), axis=0, return_index=True)   # repair may merge a few
    return pop[np.sort(first)]


def exhaustive_check(seeds: int) -> None:
    print("(a) GA vs exhaustive optimum (restricted space: loop order KCYXRS, 4 PEs, objective EDP)")
    print(f"    GA: population {GA_SMALL.population_2level}, <= {GA_SMALL.generations} generations, "
          f"patience {GA_SMALL.patience}; {seeds} seeds per layer")
    hits_total = runs_total = 0
    for layer in SMALL_LAYERS:
        space = genome_space(layer, SMALL_ACC, RESTRICTED, loop_order=ORDER)
        pop = enumerate_restricted(layer, SMALL_ACC)
        t = time.perf_counter()
        fit = np.concatenate([Scorer(layer, SMALL_ACC, space, ("edp",))(pop[i:i + 4096])[:, 0]
                              for i in range(0, len(pop), 4096)])
        t_enum = time.perf_counter() - t
        opt = float(np.min(fit))
        hits, evals, ga_time, gaps = 0, [], 0.0, []
        for seed in range(seeds):
            t = time.perf_counter()
            r = search_layer(layer, SMALL_ACC, "edp", GA_SMALL, seed=seed, cluster=None)
            ga_time += time.perf_counter() - t
            hits += r.fitness[0] <= opt * 1.01
            gaps.append(r.fitness[0] / opt - 1.0)
            evals.append(r.evaluations)
        hits_total += hits
        runs_total += seeds
        print(f"    {layer.name:12s} space {len(pop):7d} mappings ({np.isfinite(fit).mean():.0%} feasible), "
              f"enumerated in {t_enum:.1f} s; GA within 1%: {hits}/{seeds} "
              f"(mean {np.mean(evals):.0f} evaluations = {np.mean(evals) / len(pop):.1%} of the space, "
              f"{ga_time / seeds:.2f} s/run, worst gap {max(gaps):.1%})")
    print(f"    overall: {hits_total}/{runs_total} = {hits_total / runs_total:.0%} (target 95%)")


def random_search(layer: Layer, acc: Accelerator, n: int, seed: int, heuristics: Heuristics,
                  loop_order: str | None = None) -> float:
    space = genome_space(layer, acc, heuristics, loop_order=loop_order)
    rng = np.random.default_rng(10_000 + seed)
    scorer = Scorer(layer, acc, space, ("edp",))
    best = np.inf
    for i in range(0, n, 2048):
        best = min(best, float(scorer(random_population(space, min(2048, n - i), rng))[:, 0].min()))
    return best


def ga_vs_random(seeds: int, resnet: list[Layer], settings: Settings) -> None:
    print("(b) GA vs random search with the same number of evaluations (EDP; ratio = random best / GA best)")
    cases = [(layer, SMALL_ACC, GA_SMALL, ORDER) for layer in SMALL_LAYERS] + \
            [(layer, Accelerator.load("edge16"), settings, None) for layer in resnet]
    for layer, acc, st, order in cases:
        ratios = []
        for seed in range(seeds):
            r = search_layer(layer, acc, "edp", st, seed=seed)
            rnd = random_search(layer, acc, r.evaluations, seed, st.heuristics, order)
            ratios.append(rnd / r.fitness[0])
        ratios = np.array(ratios)
        print(f"    {layer.name:22s} GA better in {np.mean(ratios > 1.0 + 1e-12):.0%} of {seeds} seeds, "
              f"ties {np.mean(np.abs(ratios - 1) <= 1e-12):.0%}; median ratio {np.median(ratios):.3f}, "
              f"max {ratios.max():.3f}")


def heuristics_on_off(seeds: int, resnet: list[Layer], settings: Settings) -> None:
    print("(c) heuristics on vs off (ResNet18 layers on edge16, EDP)")
    acc = Accelerator.load("edge16")
    for layer in resnet:
        rows = {}
        for label, h in (("on", Heuristics()), ("off", Heuristics.off())):
            st = settings.with_(heuristics=h)
            times, bests, gens = [], [], []
            for seed in range(seeds):
                t = time.perf_counter()
                r = search_layer(layer, acc, "edp", st, seed=seed)
                times.append(time.perf_counter() - t)
                bests.append(r.fitness[0])
                gens.append(r.generations)
            rows[label] = (np.mean(times), np.median(bests), np.mean(gens))
        on, off = rows["on"], rows["off"]
        print(f"    {layer.name:22s} on: {on[0]:6.2f} s, {on[2]:5.0f} gens, median EDP {on[1]:.4g} | "
              f"off: {off[0]:6.2f} s, {off[2]:5.0f} gens, median EDP {off[1]:.4g} | "
              f"EDP off/on {off[1] / on[1]:.3f}")


def ga_vs_classics(settings: Settings) -> None:
    print("(d) GA best vs best classic dataflow (genomes/*.yaml), ResNet18 mixed INT8/INT4 on edge16, EDP")
    from pathlib import Path

    from qmaestro.yamlio import load_yaml
    from qgamma.evolve import UnmappableLayerError

    net = load_yaml(Path(__file__).resolve().parents[1] / "nets" / "resnet18_mixed.yaml")
    acc = Accelerator.load("edge16")
    beaten = total = 0
    for d in net["layers"]:
        layer = Layer.from_dict(d, default_precision=net.get("defaults", {}).get("precision"))
        try:
            r = search_layer(layer, acc, "edp", settings, seed=0)
        except UnmappableLayerError as err:
            print(f"    {layer.name:22s} unmappable: {err.what}")
            continue
        total += 1
        c = r.best_classic
        if c is None:
            beaten += 1
            print(f"    {layer.name:22s} GA {r.fitness[0]:.4g}; no classic dataflow is feasible")
            continue
        ratio = c.objectives["edp"] / r.fitness[0]
        beaten += ratio > 1.0
        print(f"    {layer.name:22s} GA {r.fitness[0]:.4g} vs {c.name} {c.objectives['edp']:.4g}: x{ratio:.2f}")
    print(f"    GA strictly better than every classic on {beaten}/{total} mappable layers")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="fewer seeds and smaller ResNet18 budgets")
    ap.add_argument("--parts", default="abcd", help="which parts to run, e.g. 'a' or 'bc'")
    args = ap.parse_args()
    resnet = [
        Layer("layer2.0.downsample.0", K=128, C=64, R=1, S=1, Y=56, X=56, stride_y=2, stride_x=2,
              precision=Precision.parse("int8")),
        Layer("layer4.0.conv2", K=512, C=512, R=3, S=3, Y=9, X=9, precision=Precision.parse("int4")),
        Layer("layer3.0.conv2_fp32", K=256, C=256, R=3, S=3, Y=16, X=16),
    ]
    rs_settings = Settings(population_2level=60, population_3level=120, generations=150, patience=40)
    seeds_b = 3 if args.quick else 5
    if args.quick:
        resnet = resnet[:2]
        rs_settings = rs_settings.with_(generations=60, patience=20)
    search_layer(SMALL_LAYERS[0], SMALL_ACC, "edp", GA_SMALL.with_(generations=1), seed=0)   # compile once
    t = time.perf_counter()
    if "a" in args.parts:
        exhaustive_check(args.seeds)
    if "b" in args.parts:
        ga_vs_random(seeds_b, resnet, rs_settings)
    if "c" in args.parts:
        heuristics_on_off(seeds_b, resnet, rs_settings)
    if "d" in args.parts:
        ga_vs_classics(rs_settings)
    print(f"total {time.perf_counter() - t:.0f} s")


if __name__ == "__main__":
    main()
