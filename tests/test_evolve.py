"""The per-layer search on the real cost model (tiny populations and few generations to stay fast)."""
from __future__ import annotations

import numpy as np
import pytest
from deap import base, creator, tools

from qmaestro import Accelerator, Layer, Precision
from qmaestro.errors import InputError, QMaestroError
from qgamma.classic import classic_genomes
from qgamma.decode import to_mapping
from qgamma.evolve import UnmappableLayerError, search_layer
from qgamma.genome import genome_from_lists, genome_space
from qgamma.pareto import front_ranks, nsga2_order, pareto_mask
from qgamma.settings import Settings

ACC = Accelerator.load("edge16")
SMALL = Layer("small", K=16, C=8, R=3, S=3, Y=10, X=10)
TINY = Settings(population_2level=12, population_3level=16, generations=6, patience=0)


def test_result_is_consistent_with_the_cost_model():
    r = search_layer(SMALL, ACC, "edp", TINY, seed=1)
    space = genome_space(SMALL, ACC)
    assert r.genome.shape == (2, 7, 2)
    assert r.dfsl == to_mapping(r.genome, space).to_dfsl() == r.mapping.to_dfsl()
    assert r.fitness[0] == pytest.approx(r.evaluation.edp, rel=1e-9)
    assert r.evaluation.fits
    assert r.generations == 6 and not r.stopped_early and len(r.logbook) == 7
    # 4 classic baselines + initial 12 + 6 generations x (12 - 1 elite) children, some served from the cache
    assert r.evaluations + r.cache_hits == 4 + 12 + 6 * 11
    mins = [row["min"] for row in r.logbook]
    assert all(b <= a for a, b in zip(mins, mins[1:]))          # elitism: the best never gets worse
    assert all(0.0 < row["valid"] <= 1.0 for row in r.logbook)
    assert r.fitness[0] == pytest.approx(mins[-1])


def test_same_seed_is_bit_for_bit_reproducible():
    a = search_layer(SMALL, ACC, "latency", TINY, seed=7)
    b = search_layer(SMALL, ACC, "latency", TINY, seed=7)
    assert np.array_equal(a.genome, b.genome) and a.fitness == b.fitness
    assert [(r["min"], r["mean"], r["valid"]) for r in a.logbook] == [(r["min"], r["mean"], r["valid"])
                                                                      for r in b.logbook]


def test_quantized_layer_uses_three_levels_with_fu_cluster():
    layer = SMALL.with_precision("int8")
    r = search_layer(layer, ACC, "energy", TINY, seed=2)
    assert r.genome.shape == (3, 7, 2)
    assert r.mapping.cluster_sizes[-1] == 4
    assert [d.dim for d in r.mapping.levels[2] if d.spatial][0] in ("C", "Y", "X")
    assert r.evaluations + r.cache_hits == 4 + 16 + 6 * 15


def test_early_stop_after_patience():
    r = search_layer(SMALL, ACC, "edp", TINY.with_(generations=300, patience=3), seed=3)
    assert r.stopped_early and r.generations < 300
    mins = [row["min"] for row in r.logbook]
    assert mins[-1] == mins[-2] == mins[-3] == mins[-4]


def test_unmappable_layer_reports_a_reason():
    tiny_l1 = Accelerator(name="tiny", num_pes=4, l1_bytes=8, l2_bytes=1 << 20)
    with pytest.raises(UnmappableLayerError) as err:
        search_layer(SMALL, tiny_l1, "edp", TINY.with_(max_reseeds=1), seed=0)
    line = err.value.one_line()
    assert "L1 of 8 B cannot hold one 3x3 filter tile at 32 bits" in line and "'small'" in line
    assert "the smallest tiles need" in line
    assert isinstance(err.value, QMaestroError)


def test_constraint_hook_can_reject_everything():
    never = Settings(**{**TINY.__dict__, "constraint": lambda batch, genomes: np.zeros(len(batch), bool),
                        "max_reseeds": 1})
    with pytest.raises(UnmappableLayerError, match="constraints hook"):
        search_layer(SMALL, ACC, "edp", never, seed=0)


def test_constraint_hook_limits_the_result():
    limit = 40000.0

    def fast_enough(batch, genomes):
        return batch.latency <= limit

    r = search_layer(SMALL, ACC, "energy", TINY.with_(constraint=fast_enough), seed=4)
    assert r.evaluation.latency_cycles <= limit


def test_pareto_front_for_two_objectives():
    r = search_layer(SMALL, ACC, ("latency", "energy"), TINY, seed=5)
    assert r.pareto
    pts = np.array([[p.objectives["latency"], p.objectives["energy"]] for p in r.pareto])
    assert pareto_mask(pts).all()                               # nobody on the front is dominated
    assert list(pts[:, 0]) == sorted(pts[:, 0])
    assert any(np.array_equal(p.genome, r.genome) for p in r.pareto)
    import json
    d = json.loads(json.dumps(r.to_dict()))                     # plain data for results files
    assert np.array_equal(genome_from_lists(d["genome"]), r.genome) and len(d["pareto"]) == len(r.pareto)


def test_classics_are_scored_and_seeded():
    r = search_layer(SMALL, ACC, "edp", TINY, seed=6)
    assert set(r.classics) == set(classic_genomes(SMALL, ACC))
    assert r.best_classic is not None and r.best_classic.feasible
    assert r.fitness[0] <= r.best_classic.objectives["edp"]     # classics start in the population


def test_seed_genomes_enter_the_population():
    genome = classic_genomes(SMALL, ACC)["row_stationary"]
    plain = TINY.with_(seed_classics=False, generations=0)
    r = search_layer(SMALL, ACC, "latency", plain, seed=8, seed_genomes=[genome])
    seeded_cost = [c for c in search_layer(SMALL, ACC, "latency", TINY.with_(generations=0), seed=8)
                   .classics.values() if c.name == "row_stationary"][0].objectives["latency"]
    assert r.fitness[0] <= seeded_cost


def test_fixed_cluster_and_progress_callback():
    calls = []
    r = search_layer(SMALL, ACC, "edp", TINY, seed=9, cluster=4,
                     progress=lambda gen, best, stopped: calls.append((gen, best, stopped)))
    assert r.genome[1, 0, 1] == 4 and r.mapping.cluster_sizes == [4]
    assert [c[0] for c in calls] == list(range(7)) and calls[-1][2] and not any(c[2] for c in calls[:-1])


def test_gemm_and_dsconv_layers_search():
    gemm = Layer("fc", type="GEMM", M=4, N=24, K=32, precision=Precision.parse("int8"))
    ds = Layer("dw", type="DSCONV", C=16, R=3, S=3, Y=12, X=12, stride_y=2, stride_x=2)
    for layer in (gemm, ds):
        r = search_layer(layer, ACC, "edp", TINY, seed=0)
        assert r.evaluation.fits and np.isfinite(r.fitness[0])


def test_bad_objective_is_an_input_error():
    with pytest.raises(InputError):
        search_layer(SMALL, ACC, "throughput", TINY)


# ---- NSGA-II ranking against DEAP's reference implementation -------------------------------------------------
def _deap_ranks(fit):
    if not hasattr(creator, "TestFitness2"):
        creator.create("TestFitness2", base.Fitness, weights=(-1.0, -1.0))
    inds = []
    for i, row in enumerate(fit):
        ind = type("I", (list,), {})([i])
        ind.fitness = creator.TestFitness2(tuple(row))
        inds.append(ind)
    ranks = np.zeros(len(fit), dtype=np.int64)
    for r, front in enumerate(tools.sortNondominated(inds, len(inds))):
        for ind in front:
            ranks[ind[0]] = r
    return ranks


def test_front_ranks_equal_deap_sort_nondominated():
    rng = np.random.default_rng(0)
    for _ in range(20):
        fit = rng.integers(0, 8, size=(40, 2)).astype(float)     # many ties and duplicates
        assert np.array_equal(front_ranks(fit), _deap_ranks(fit))


def test_nsga2_order_puts_fronts_first_and_infeasible_last():
    fit = np.array([[1.0, 5.0], [2.0, 2.0], [5.0, 1.0], [3.0, 3.0], [np.inf, 0.0], [6.0, 6.0]])
    order = nsga2_order(fit).tolist()
    assert set(order[:3]) == {0, 1, 2} and order[3] == 3 and order[4] == 5 and order[5] == 4
    assert order.index(0) < order.index(1) and order.index(2) < order.index(1)   # boundary points first


def test_unmappable_quantized_stem_names_the_l1_need():
    # 7x7 int8 on 512 B: MAESTRO's L1 requirement for the smallest tiles (double-buffered 7x7 windows) times 4 FUs
    stem = Layer("conv1", K=8, C=3, R=7, S=7, Y=20, X=20, stride_y=2, stride_x=2, precision=Precision.parse("int8"))
    with pytest.raises(UnmappableLayerError, match=r"L1 of 512 B cannot hold one 7x7 filter tile at 8 bits "
                                                   r"\(the smallest tiles need \d+ B per PE with its 4 FUs\)"):
        search_layer(stem, ACC, "edp", TINY.with_(max_reseeds=1), seed=0)
