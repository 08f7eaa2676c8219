"""The per-layer genetic search (GAMMA/qGamma's loop, re-designed around population arrays).

One generation is a handful of calls on whole arrays: rank (argsort or NSGA-II order), take the elites and
the parents, crossover, reorder, mutate, repair, replace duplicates by fresh individuals, decode, and score
the children with one `qmaestro.evaluate_batch` call. DEAP supplies the toolbox the operators are registered
in, the Statistics/Logbook of every generation and the reference non-dominated sort of the final front.

Feasible = the cost model accepts the mapping, it fits L1 and L2, and the optional constraints hook agrees.
A population without a feasible member is re-seeded at most `Settings.max_reseeds` times; then the layer is
reported unmappable (UnmappableLayerError) with a reason a person can act on.

Constraints hook (`Settings.constraint`): a callable ``(batch: BatchEvaluation, genomes[n, L, 7, 2]) ->
bool[n]`` returning True where a candidate is acceptable, e.g. an area or power budget computed from the
batch's metrics. It is called once per scored batch, so it should be vectorised.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import numpy as np
from deap import base, creator, tools

from qmaestro.accelerator import Accelerator
from qmaestro.errors import QMaestroError
from qmaestro.evaluate import BatchEvaluation, Evaluation, EvaluationContext, evaluate, evaluate_batch, status_text
from qmaestro.layer import Layer
from qmaestro.mapping import Mapping

from .decode import decode_batch, to_mapping
from .genome import (GenomeSpace, check_genome, duplicate_mask, genome_hashes, genome_space, genome_to_lists,
                     random_population, repair, with_loop_order)
from .operators import crossover, mutate_parallel, mutate_tiles, reorder, vary
from .pareto import nsga2_order, pareto_mask
from .settings import Settings, check_objective

ProgressCallback = Callable[[int, Any, bool], None]


class UnmappableLayerError(QMaestroError):
    """No mapping of the layer is feasible on the accelerator (what / where / fix, one line for the CLI)."""


# ---- results -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParetoPoint:
    genome: np.ndarray
    mapping: Mapping
    objectives: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"genome": genome_to_lists(self.genome), "dfsl": self.mapping.to_dfsl(),
                "objectives": dict(self.objectives)}


@dataclass(frozen=True)
class ClassicResult:
    """A classic dataflow adapted to the layer: its genome, mapping and costs (None when infeasible)."""

    name: str
    genome: np.ndarray
    mapping: Mapping
    objectives: Optional[dict[str, float]]
    reason: str = ""

    @property
    def feasible(self) -> bool:
        return self.objectives is not None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "genome": genome_to_lists(self.genome), "dfsl": self.mapping.to_dfsl(),
                "objectives": self.objectives, "reason": self.reason}


@dataclass
class LayerResult:
    """What one layer's search found, and how the search went."""

    layer: Layer
    objective: tuple[str, ...]
    genome: np.ndarray
    mapping: Mapping
    dfsl: str
    evaluation: Evaluation
    fitness: tuple[float, ...]
    generations: int
    evaluations: int
    seconds: float
    logbook: list[dict[str, float]]
    stopped_early: bool
    seed: int
    reseeds: int = 0
    pareto: Optional[list[ParetoPoint]] = None
    classics: dict[str, ClassicResult] = field(default_factory=dict)
    best_classic: Optional[ClassicResult] = None
    cache_hits: int = 0      # children whose score came from the search's cache instead of the cost model

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.layer.to_dict(), "objective": list(self.objective),
                "genome": genome_to_lists(self.genome), "dfsl": self.dfsl, "summary": self.mapping.summary(),
                "fitness": list(self.fitness), "evaluation": self.evaluation.to_dict(),
                "generations": self.generations, "evaluations": self.evaluations, "seconds": self.seconds,
                "stopped_early": self.stopped_early, "seed": self.seed, "reseeds": self.reseeds,
                "cache_hits": self.cache_hits,
                "pareto": None if self.pareto is None else [p.to_dict() for p in self.pareto],
                "best_classic": None if self.best_classic is None else self.best_classic.to_dict(),
                "classics": {k: v.to_dict() for k, v in self.classics.items()}}


# ---- scoring -----------------------------------------------------------------------------------------------
@dataclass
class _Diagnosis:
    """Why candidates were infeasible, accumulated for the unmappable message."""

    statuses: Counter = field(default_factory=Counter)
    valid_unfit: int = 0
    rejected_by_hook: int = 0
    min_l1_bits: float = np.inf
    min_l2_bits: float = np.inf

    def add(self, batch: BatchEvaluation, hook_ok: np.ndarray) -> None:
        bad = ~batch.valid
        if bad.any():
            codes, counts = np.unique(batch.status[bad], return_counts=True)
            self.statuses.update(dict(zip(codes.tolist(), counts.tolist())))
        unfit = batch.valid & ~batch.fits
        self.valid_unfit += int(unfit.sum())
        self.rejected_by_hook += int((batch.feasible & ~hook_ok).sum())
        if batch.valid.any():
            self.min_l1_bits = min(self.min_l1_bits, float(batch.l1_bits[batch.valid].min()))
            self.min_l2_bits = min(self.min_l2_bits, float(batch.l2_bits[batch.valid].min()))


class Scorer:
    """Decodes and scores populations of one layer; counts evaluations; remembers why things failed.

    Scores are cached by genome hash: a child equal to any individual scored earlier in this search is not sent
    to the cost model again (late generations re-create many earlier genomes). `evaluations` counts cost-model
    evaluations; `cache_hits` the scores served from the cache."""

    def __init__(self, layer: Layer, accelerator: Accelerator, space: GenomeSpace, objectives: tuple[str, ...],
                 constraint: Any = None):
        self.layer, self.accelerator, self.space, self.objectives = layer, accelerator, space, objectives
        self.context = EvaluationContext.of(layer, accelerator)
        self.constraint = constraint
        self.evaluations = 0
        self.cache_hits = 0
        self.diagnosis = _Diagnosis()
        self._cache: dict[int, list[float]] = {}

    def batch(self, pop: np.ndarray) -> BatchEvaluation:
        dirs, clusters, nlevels = decode_batch(pop, self.space)
        self.evaluations += pop.shape[0]
        return evaluate_batch(self.layer, self.accelerator, dirs, clusters, nlevels, context=self.context)

    def __call__(self, pop: np.ndarray) -> np.ndarray:
        """Objective values [n, m]; inf where infeasible."""
        n, m = pop.shape[0], len(self.objectives)
        if n == 0:
            return np.zeros((0, m))
        keys = genome_hashes(pop).tolist()
        cache = self._cache
        known = [cache.get(k) for k in keys]
        hit = [i for i, row in enumerate(known) if row is not None]
        miss = [i for i, row in enumerate(known) if row is None]
        fit = np.empty((n, m))
        if hit:
            fit[hit] = [known[i] for i in hit]
            self.cache_hits += len(hit)
        if miss:
            new = self._score(pop[miss])
            fit[miss] = new
            for i, row in zip(miss, new.tolist()):
                cache[keys[i]] = row
        return fit

    def _score(self, pop: np.ndarray) -> np.ndarray:
        b = self.batch(pop)
        ok = np.ones(pop.shape[0], dtype=bool) if self.constraint is None else \
            np.asarray(self.constraint(b, pop), dtype=bool)
        feasible = b.feasible & ok
        if not feasible.any():   # only all-infeasible batches can lead to an unmappable verdict
            self.diagnosis.add(b, ok)
        fit = np.column_stack([getattr(b, o) for o in self.objectives]).astype(np.float64)
        fit[~feasible] = np.inf
        return fit


def smallest_l1_bits(scorer: "Scorer") -> float:
    """L1 bits per PE that the smallest tiles need (every tile at its minimum: K = C = 1, Y = R, X = S), as the
    cost model counts them (MAESTRO's buffer sizes, packing, FUs sharing the PE's L1); inf if none is accepted."""
    space = scorer.space
    probe = random_population(space, 8, np.random.default_rng(0))
    roles = probe[:, :, 1:, 0]
    probe[:, :, 1:, 1] = space.lo[roles]
    probe = repair(probe, space)
    b = scorer.batch(probe)
    return float(b.l1_bits[b.valid].min()) if b.valid.any() else np.inf


def unmappable_reason(layer: Layer, accelerator: Accelerator, diag: _Diagnosis,
                      smallest_l1: float = np.inf) -> tuple[str, str]:
    """(what, fix) for a layer where nothing feasible was found; smallest_l1 from smallest_l1_bits."""
    p = layer.precision
    r, s = (1, 1) if layer.type == "GEMM" else (layer.R, layer.S)
    l1 = accelerator.l1_bytes * 8
    bits = p.weights.bits if p.weights.bits == p.activations.bits else f"{p.weights.bits}/{p.activations.bits}"
    if np.isfinite(smallest_l1) and smallest_l1 > l1:
        per = f" with its {p.lanes} FUs" if p.lanes > 1 else ""
        return (f"L1 of {accelerator.l1_bytes} B cannot hold one {r}x{s} filter tile at {bits} bits "
                f"(the smallest tiles need {int(smallest_l1 // 8)} B per PE{per})",
                "use an accelerator with a larger L1 or a narrower precision")
    if diag.rejected_by_hook:
        return "every mapping the cost model accepted was rejected by the constraints hook", \
            "relax the area/power constraints"
    if diag.valid_unfit:
        need = []
        if diag.min_l1_bits > l1:
            need.append(f"L1 of {accelerator.l1_bytes} B (smallest need seen {int(diag.min_l1_bits // 8)} B per PE)")
        if diag.min_l2_bits > accelerator.l2_bytes * 8:
            need.append(f"L2 of {accelerator.l2_bytes} B (smallest need seen {int(diag.min_l2_bits // 8)} B)")
        where = " and ".join(need) or "the L1/L2 buffers"
        return f"no mapping found that fits {where}", "enlarge the buffers, or search longer / with a larger population"
    if diag.statuses:
        code, _ = diag.statuses.most_common(1)[0]
        return f"the cost model rejected every mapping tried (most often: {status_text(int(code))})", \
            "check the layer shape and the accelerator's PE count"
    return "no feasible mapping found", "search longer or with a larger population"


# ---- selection -------------------------------------------------------------------------------------------------
def rank_single(fit: np.ndarray) -> np.ndarray:
    """Indices best first for one objective (stable: ties keep population order)."""
    return np.argsort(fit[:, 0], kind="stable")


def rank_multi(fit: np.ndarray) -> np.ndarray:
    """Indices best first: NSGA-II front, then crowding distance."""
    return nsga2_order(fit)


def scalar_best(fit: np.ndarray) -> int:
    """The single 'best' row: min objective, or for several objectives the min product (EDP-like)."""
    key = fit[:, 0] if fit.shape[1] == 1 else np.prod(fit, axis=1)
    return int(np.argmin(key))


# ---- DEAP plumbing ---------------------------------------------------------------------------------------------
def _fitness_class(m: int) -> type:
    name = f"QGammaFitnessMin{m}"
    if not hasattr(creator, name):
        creator.create(name, base.Fitness, weights=(-1.0,) * m)
    return getattr(creator, name)


def make_toolbox(space: GenomeSpace, settings: Settings, rng: np.random.Generator, scorer: Scorer,
                 multi: bool) -> base.Toolbox:
    """The DEAP toolbox with our array operators (each takes / returns whole populations)."""
    tb = base.Toolbox()
    tb.register("population", random_population, space, rng=rng)
    tb.register("mate", crossover, rate=settings.crossover_rate, rng=rng)
    tb.register("reorder", reorder, rate=settings.reorder_rate if space.loop_order is None else 0.0, rng=rng)
    tb.register("mutate", mutate_tiles, space=space, rate=settings.tile_mutation_rate,
                loci=settings.tile_mutation_loci, rng=rng)
    tb.register("mutate_parallel", mutate_parallel, space=space, rate=settings.parallel_mutation_rate, rng=rng)
    tb.register("repair", repair, space=space)
    # the generation step uses the same operators fused into one jitted call (see operators.vary)
    tb.register("vary", vary, space=space, crossover_rate=settings.crossover_rate,
                reorder_rate=settings.reorder_rate if space.loop_order is None else 0.0,
                tile_rate=settings.tile_mutation_rate, loci=settings.tile_mutation_loci,
                parallel_rate=settings.parallel_mutation_rate, rng=rng)
    tb.register("evaluate", scorer)
    tb.register("rank", rank_multi if multi else rank_single)
    return tb


def _statistics() -> tools.Statistics:
    """Per-generation statistics over the feasible fitness values (fed as one array)."""
    stats = tools.Statistics(key=lambda f: f)
    stats.register("min", lambda v: float(np.min(v[0])) if v[0].size else float("inf"))
    stats.register("mean", lambda v: float(np.mean(v[0])) if v[0].size else float("inf"))
    return stats


class _RowRef(list):
    """A DEAP 'individual' that only names a row of a fitness array (DEAP reads .fitness)."""

    fitness: Any


def deap_front(fit: np.ndarray) -> np.ndarray:
    """Indices of the first non-dominated front by DEAP's sortNondominated (feasible rows only)."""
    cls = _fitness_class(fit.shape[1])
    rows = [i for i in range(fit.shape[0]) if np.all(np.isfinite(fit[i]))]
    inds = []
    for i in rows:
        ind = _RowRef([i])
        ind.fitness = cls(tuple(float(v) for v in fit[i]))
        inds.append(ind)
    if not inds:
        return np.zeros(0, dtype=np.int64)
    front = tools.sortNondominated(inds, len(inds), first_front_only=True)[0]
    return np.array(sorted(ind[0] for ind in front), dtype=np.int64)


# ---- the search --------------------------------------------------------------------------------------------
def _fresh_unique(tb: base.Toolbox, pop: np.ndarray, against: np.ndarray, tries: int = 4) -> np.ndarray:
    """Replace duplicates (within pop and of `against`) by fresh individuals; population size is kept."""
    for _ in range(tries):
        dup = duplicate_mask(pop, against)
        k = int(dup.sum())
        if k == 0:
            break
        pop[dup] = tb.population(k)
    return pop


def _seed_population(tb: base.Toolbox, space: GenomeSpace, n: int, seeds: Sequence[np.ndarray]) -> np.ndarray:
    pop = tb.population(n)
    if seeds:
        s = repair(np.stack(seeds[:n]), space)
        if space.loop_order is not None:
            s = with_loop_order(s, space.loop_order)
        pop[: s.shape[0]] = s
    return _fresh_unique(tb, pop, pop[:0])


def search_layer(layer: Layer, accelerator: Accelerator, objective: str | tuple[str, ...] = "edp",
                 settings: Settings = Settings(), seed: int = 0, cluster: int | None = None,
                 seed_genomes: Sequence[np.ndarray] | None = None,
                 progress: ProgressCallback | None = None) -> LayerResult:
    """GA search of one layer's mapping; see the module doc. Bit-for-bit reproducible for a given seed."""
    from .classic import classic_genomes

    start = time.perf_counter()
    objs = check_objective(objective)
    multi = len(objs) > 1
    space = genome_space(layer, accelerator, settings.heuristics, cluster, settings.loop_order)
    rng = np.random.default_rng(seed)
    scorer = Scorer(layer, accelerator, space, objs, settings.constraint)
    tb = make_toolbox(space, settings, rng, scorer, multi)
    n = settings.population_for(space.levels)
    n_elite = max(1, int(round(n * settings.elite_ratio)))
    n_parents = max(2, int(n * settings.parent_ratio))

    # classic dataflows: scored as baselines, optionally seeded
    templates = classic_genomes(layer, accelerator, cluster, settings.heuristics)
    classic = {name: repair(g[None], space)[0] for name, g in templates.items()}
    if space.loop_order is not None:
        classic = {name: with_loop_order(g[None], space.loop_order)[0] for name, g in classic.items()}
    classics = _score_classics(classic, scorer, space, objs)
    seeds = [check_genome(g, space, "seed_genomes") for g in (seed_genomes or [])]
    if settings.seed_classics:
        seeds += list(classic.values())

    pop = _seed_population(tb, space, n, seeds)
    fit = tb.evaluate(pop)
    reseeds = 0
    logbook = tools.Logbook()
    logbook.header = ["gen", "evals", "min", "mean", "valid"]
    stats = _statistics()
    archive_pop, archive_fit = pop[:0], fit[:0]

    best_fit = np.inf
    stale = 0
    gen = 0
    stopped = False
    while True:
        feasible = np.all(np.isfinite(fit), axis=1)
        while not feasible.any():
            if reseeds >= settings.max_reseeds:
                what, fix = unmappable_reason(layer, accelerator, scorer.diagnosis, smallest_l1_bits(scorer))
                raise UnmappableLayerError(what, f"layer {layer.name!r} on {accelerator.name!r}", fix)
            reseeds += 1
            pop = _fresh_unique(tb, tb.population(n), pop[:0])
            fit = tb.evaluate(pop)
            feasible = np.all(np.isfinite(fit), axis=1)
        # progress bookkeeping on this generation's population
        if multi:
            archive_pop, archive_fit, improved = _update_archive(archive_pop, archive_fit, pop, fit)
            key = np.prod(fit, axis=1)
            current = float(np.min(key))
        else:
            current = float(fit[:, 0].min())
            improved = current < best_fit
        if improved:
            best_fit = min(best_fit, current)
            stale = 0
        elif gen > 0:
            stale += 1
        values = fit[feasible][:, 0] if not multi else np.prod(fit[feasible], axis=1)
        logbook.record(gen=gen, evals=scorer.evaluations, valid=float(feasible.mean()), **stats.compile([values]))
        done = gen >= settings.generations or (settings.patience > 0 and stale >= settings.patience)
        if progress is not None:
            progress(gen, _best_value(fit, multi), done)
        if done:
            stopped = gen < settings.generations
            break
        gen += 1
        # one generation
        order = tb.rank(fit)
        n_feasible = int(feasible.sum())
        elites = pop[order[: min(n_elite, n_feasible)]]
        elite_fit = fit[order[: elites.shape[0]]]
        parents = pop[order[: max(1, min(n_parents, n_feasible))]]
        children = _fresh_unique(tb, tb.vary(parents, n - elites.shape[0]), elites)
        pop = np.concatenate([elites, children])
        fit = np.concatenate([elite_fit, tb.evaluate(children)])

    return _result(layer, accelerator, space, scorer, objs, pop, fit, archive_pop, archive_fit, gen, stopped,
                   start, seed, reseeds, logbook, classics)


def _best_value(fit: np.ndarray, multi: bool) -> Any:
    i = scalar_best(fit)
    return tuple(float(v) for v in fit[i]) if multi else float(fit[i, 0])


def _update_archive(apop: np.ndarray, afit: np.ndarray, pop: np.ndarray, fit: np.ndarray,
                    cap: int = 256) -> tuple[np.ndarray, np.ndarray, bool]:
    """Merge the feasible non-dominated members of pop into the archive; improved = a new point entered."""
    ok = np.all(np.isfinite(fit), axis=1)
    cand_pop = np.concatenate([apop, pop[ok]])
    cand_fit = np.concatenate([afit, fit[ok]])
    keep = pareto_mask(cand_fit)
    keep &= ~duplicate_mask(cand_pop)
    new_pop, new_fit = cand_pop[keep], cand_fit[keep]
    improved = bool(keep[apop.shape[0]:].any())
    if new_pop.shape[0] > cap:
        order = nsga2_order(new_fit)[:cap]
        new_pop, new_fit = new_pop[order], new_fit[order]
    return new_pop, new_fit, improved


def _score_classics(classic: dict[str, np.ndarray], scorer: Scorer, space: GenomeSpace,
                    objs: tuple[str, ...]) -> dict[str, ClassicResult]:
    if not classic:
        return {}
    names = list(classic)
    pop = np.stack([classic[k] for k in names])
    b = scorer.batch(pop)
    ok = b.feasible
    if scorer.constraint is not None:
        ok = ok & np.asarray(scorer.constraint(b, pop), dtype=bool)
    out = {}
    for i, name in enumerate(names):
        mapping = to_mapping(pop[i], space)
        if ok[i]:
            out[name] = ClassicResult(name, pop[i], mapping, {o: float(getattr(b, o)[i]) for o in objs})
        else:
            why = status_text(int(b.status[i])) if not b.valid[i] else \
                ("does not fit L1/L2" if not b.fits[i] else "rejected by the constraints hook")
            out[name] = ClassicResult(name, pop[i], mapping, None, why)
    return out


def _result(layer: Layer, accelerator: Accelerator, space: GenomeSpace, scorer: Scorer, objs: tuple[str, ...],
            pop: np.ndarray, fit: np.ndarray, apop: np.ndarray, afit: np.ndarray, gen: int, stopped: bool,
            start: float, seed: int, reseeds: int, logbook: tools.Logbook,
            classics: dict[str, ClassicResult]) -> LayerResult:
    multi = len(objs) > 1
    pareto = None
    if multi:
        front = deap_front(afit)
        apop, afit = apop[front], afit[front]
        order = np.lexsort(afit.T[::-1])
        apop, afit = apop[order], afit[order]
        pareto = [ParetoPoint(apop[i], to_mapping(apop[i], space), {o: float(afit[i, k]) for k, o in enumerate(objs)})
                  for i in range(apop.shape[0])]
        i = scalar_best(afit)
        best, best_fit = apop[i], afit[i]
    else:
        i = scalar_best(fit)
        best, best_fit = pop[i], fit[i]
    mapping = to_mapping(best, space)
    evaluation = evaluate(layer, accelerator, mapping, context=scorer.context)
    feasible_classics = [c for c in classics.values() if c.feasible]
    best_classic = None
    if feasible_classics:
        best_classic = min(feasible_classics, key=lambda c: float(np.prod([c.objectives[o] for o in objs])))
    rows = [dict(r) for r in logbook]
    return LayerResult(layer, objs, best.copy(), mapping, mapping.to_dfsl(), evaluation,
                       tuple(float(v) for v in best_fit), gen, scorer.evaluations, time.perf_counter() - start,
                       rows, stopped, seed, reseeds, pareto, classics, best_classic, scorer.cache_hits)


__all__ = ["search_layer", "LayerResult", "ParetoPoint", "ClassicResult", "UnmappableLayerError", "Scorer",
           "Settings", "make_toolbox", "unmappable_reason", "smallest_l1_bits"]
