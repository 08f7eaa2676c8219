"""evaluate_batch (one jitted pass after the analysis) agrees with evaluate() mapping by mapping.

The batch path computes the FU-level check, the L1 sharing of the FUs and the scoring in compiled code, the
single path in Python around the same kernels; they must give the same costs and the same verdicts at every
precision, with or without a prepared EvaluationContext.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest

from qgamma.decode import decode_batch, mapping_from_arrays
from qgamma.genome import genome_space, random_population
from qmaestro import Accelerator, Layer
from qmaestro.errors import InvalidMappingError
from qmaestro.evaluate import STATUS_NO_FU_LEVEL, EvaluationContext, evaluate, evaluate_batch

EDGE16 = Accelerator.load("edge16")
CONV = Layer("c", K=32, C=16, R=3, S=3, Y=18, X=18)
STRIDED = Layer("s", K=24, C=8, R=3, S=3, Y=17, X=17, stride_y=2, stride_x=2)
DSCONV = Layer("d", type="DSCONV", C=16, R=3, S=3, Y=12, X=12)
GEMM = Layer("g", type="GEMM", M=24, N=40, K=32)
FIELDS = ("latency", "energy", "edp", "valid", "fits", "fits_l1", "fits_l2", "l1_bits", "l2_bits", "status",
          "components", "metrics")


def population(layer: Layer, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n decoded genomes; P > 1 layers get every fifth mapping's FU cluster broken (STATUS_NO_FU_LEVEL)."""
    space = genome_space(layer, EDGE16)
    dirs, clusters, nlevels = decode_batch(random_population(space, n, np.random.default_rng(seed)), space)
    lanes = layer.precision.lanes
    if lanes > 1:
        clusters[::5, nlevels[0] - 1] = lanes // 2
    return dirs, clusters, nlevels


def same_arrays(a, b) -> bool:
    """Bit-identical arrays (NaN where NaN), same dtype and shape."""
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("precision", ["int8", "int4", "w4a8", "fp32"])
@pytest.mark.parametrize("base", [CONV, STRIDED, DSCONV, GEMM], ids=lambda lay: lay.name)
def test_batch_rows_equal_single_evaluations(base: Layer, precision: str):
    layer = base.with_precision(precision)
    dirs, clusters, nlevels = population(layer, 24, seed=len(precision))
    b = evaluate_batch(layer, EDGE16, dirs, clusters, nlevels)
    checked = 0
    for i in range(len(nlevels)):
        mapping = mapping_from_arrays(dirs[i], clusters[i], int(nlevels[i]))
        if b.status[i] != 0:
            assert not b.valid[i] and np.isinf(b.energy[i]) and not b.fits[i]
            with pytest.raises(InvalidMappingError):
                evaluate(layer, EDGE16, mapping)
            continue
        e = evaluate(layer, EDGE16, mapping)
        assert b.latency[i] == e.latency_cycles
        assert b.l1_bits[i] == e.l1_bits_needed and b.l2_bits[i] == e.l2_bits_needed
        assert (b.fits_l1[i], b.fits_l2[i]) == (e.fits_l1, e.fits_l2)
        assert b.energy[i] == pytest.approx(e.energy_nj, rel=1e-12)
        assert b.components[i] == pytest.approx(list(e.energy_by_component.values()), rel=1e-12)
        checked += 1
    assert checked >= 5
    if layer.precision.lanes > 1:
        assert STATUS_NO_FU_LEVEL in set(b.status[::5].tolist())


@pytest.mark.parametrize("precision", ["int8", "w4a8"])
def test_context_is_only_a_cache(precision: str):
    """A context (the same objects, or equal copies of them) changes nothing, on repeated calls too."""
    layer = STRIDED.with_precision(precision)
    dirs, clusters, nlevels = population(layer, 40, seed=3)
    bare = evaluate_batch(layer, EDGE16, dirs, clusters, nlevels)
    ctx = EvaluationContext.of(layer, EDGE16)
    runs = [evaluate_batch(layer, EDGE16, dirs, clusters, nlevels, ctx) for _ in range(2)]
    runs.append(evaluate_batch(copy.deepcopy(layer), copy.deepcopy(EDGE16), dirs, clusters, nlevels, ctx))
    for run in runs:
        for f in FIELDS:
            assert same_arrays(getattr(bare, f), getattr(run, f)), f
    assert runs[0].status is not runs[1].status  # fresh arrays per call


def test_empty_population():
    layer = CONV.with_precision("int8")
    dirs, clusters, nlevels = population(layer, 4, seed=1)
    b = evaluate_batch(layer, EDGE16, dirs[:0], clusters[:0], nlevels[:0])
    assert len(b) == 0 and b.components.shape == (0, 5) and b.status.dtype == np.int64
