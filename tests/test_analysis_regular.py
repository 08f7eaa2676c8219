"""regular_form (analysis/regular.py) gives closed_form's codes and rows, bit for bit, on every regular mapping.

Score mode trusts regular_form's row without running build_levels; so wherever it says 0 the general path must
say 0 with the same numbers, and wherever it gives a closed-form code (1-19) the general path must give the same
code (a mapping build_levels rejects must never be scored). Codes 20 and up (not regular) hand over.
"""
from __future__ import annotations

import numpy as np
import pytest

from qgamma.decode import decode_batch
from qgamma.genome import genome_space, random_population
from qmaestro.accelerator import Accelerator
from qmaestro.analysis.closed import CF_DN_SZ, CF_MACS, CF_UP_RD, NCF
from qmaestro.analysis.kernel import closed_form_rows
from qmaestro.arrays import (DIM_C, DIM_K, DIM_R, DIM_S, DIM_X, DIM_Y, KIND_SPATIAL, KIND_TEMPORAL, empty_batch,
                             hw_array, layer_array)
from qmaestro.layer import Layer

from test_analysis_fastpath import LAYERS, _fuzz, _tiled

EXTRA = [Layer(name="g", type="GEMM", M=24, N=20, K=18),
         Layer(name="dw", type="DSCONV", K=1, C=16, R=3, S=3, Y=12, X=12),
         Layer(name="s2", K=8, C=8, R=1, S=1, Y=15, X=15, stride_y=2, stride_x=2)]


def _both(layer, hw, dirs, clusters, nlev):
    n = len(nlev)
    out = []
    for regular in (True, False):
        codes = np.zeros(n, dtype=np.int64)
        rows = np.zeros((n, NCF), dtype=np.int64)
        closed_form_rows(layer_array(layer), hw, dirs, clusters, nlev, codes, rows, regular)
        out += [codes, rows]
    return out


def _agree(layer, hw, dirs, clusters, nlev) -> tuple[int, int]:
    """Assert agreement; returns (regular mappings, of them scored)."""
    reg, reg_rows, gen, gen_rows = _both(layer, hw, dirs, clusters, nlev)
    regular = reg < 20
    assert np.array_equal(reg[regular], gen[regular])
    ok = reg == 0
    assert np.array_equal(reg_rows[ok], gen_rows[ok])
    return int(regular.sum()), int(ok.sum())


@pytest.mark.parametrize("gen", [_fuzz, _tiled])
@pytest.mark.parametrize("acc_name", ["edge16", "eyeriss168", "acc256"])
def test_regular_form_equals_closed_form(gen, acc_name):
    rng = np.random.default_rng(17)
    acc = Accelerator.load(acc_name)
    regular = scored = 0
    for layer in list(LAYERS) + EXTRA:
        dirs, clusters, nlev = gen(layer, 200, rng)
        for units in (acc.num_pes, acc.num_pes * 4):
            r, s = _agree(layer, hw_array(acc, units), dirs, clusters, nlev)
            regular += r
            scored += s
    assert scored > 0 and regular >= scored     # the comparison is not vacuous


@pytest.mark.parametrize("precision", ["int8", "int4", "fp32"])
def test_genome_populations_are_regular(precision):
    """What the GA writes is regular, and regular_form takes about as much of it as closed_form does."""
    acc = Accelerator.load("edge16")
    for base in LAYERS[:3] + EXTRA:
        layer = base.with_precision(precision)
        space = genome_space(layer, acc)
        dirs, clusters, nlev = decode_batch(random_population(space, 200, np.random.default_rng(4)), space)
        hw = hw_array(acc, acc.num_pes * layer.precision.lanes)
        reg, _, gen, _ = _both(layer, hw, dirs, clusters, nlev)
        _agree(layer, hw, dirs, clusters, nlev)
        assert (reg < 20).mean() > 0.95
        assert (reg == 0).sum() >= 0.95 * (gen == 0).sum()


def test_hand_worked_weight_stationary_level():
    """One level on 4 PEs, weight-stationary: K spatial (tile 1), then C, R, S, Y, X temporal; K=4, C=2, 1x1
    filter, 3x3 input. Each PE owns one output channel (no edge cluster); C steps twice.

    By hand: 4 x 2 x 9 = 72 MACs; each input pixel is read from L2 once (all PEs want the same channel: one
    multicast), 18 reads; each weight once, 8 reads; per PE the tiles are 9 inputs, 1 weight, 9 outputs, double
    buffered in L1. (The runtime depends on MAESTRO's delay rules, which test_reference_maestro.py checks.)
    """
    layer = Layer(name="ws", K=4, C=2, R=1, S=1, Y=3, X=3)
    acc = Accelerator.load("edge16")
    dirs, clusters, nlev = empty_batch(1)
    nlev[0] = 1
    rows = [(KIND_SPATIAL, DIM_K, 1, 1), (KIND_TEMPORAL, DIM_C, 1, 1), (KIND_TEMPORAL, DIM_R, 1, 1),
            (KIND_TEMPORAL, DIM_S, 1, 1), (KIND_TEMPORAL, DIM_Y, 3, 3), (KIND_TEMPORAL, DIM_X, 3, 3)]
    for j, d in enumerate(rows):
        dirs[0, 0, j] = d
    reg, reg_rows, gen, gen_rows = _both(layer, hw_array(acc, 4), dirs, clusters, nlev)
    assert reg[0] == 0 and gen[0] == 0
    assert np.array_equal(reg_rows[0], gen_rows[0])
    row = reg_rows[0]
    assert row[CF_MACS] == 4 * 2 * 3 * 3                 # every MAC once
    assert row[CF_UP_RD] == 2 * 3 * 3                    # each input pixel read from L2 once (multicast)
    assert row[CF_UP_RD + 1] == 4 * 2                    # each weight once
    assert list(row[CF_DN_SZ:CF_DN_SZ + 3]) == [2 * 9, 2 * 1, 2 * 9]   # double-buffered tiles per PE


def test_irregular_mappings_hand_over():
    """A repeated dimension, a missing one, or two SpatialMaps in a level: codes 20 and up."""
    layer = Layer(name="c", K=4, C=4, R=3, S=3, Y=6, X=6)
    acc = Accelerator.load("edge16")
    base = [(KIND_SPATIAL, DIM_K, 1, 1), (KIND_TEMPORAL, DIM_C, 1, 1), (KIND_TEMPORAL, DIM_R, 3, 3),
            (KIND_TEMPORAL, DIM_S, 3, 3), (KIND_TEMPORAL, DIM_Y, 3, 1), (KIND_TEMPORAL, DIM_X, 3, 1)]
    variants = [base + [(KIND_TEMPORAL, DIM_C, 2, 2)], base[:-1],
                [(KIND_SPATIAL, DIM_C, 1, 1)] + base[:1] + base[2:]]
    dirs, clusters, nlev = empty_batch(len(variants))
    nlev[:] = 1
    for i, rows in enumerate(variants):
        for j, d in enumerate(rows):
            dirs[i, 0, j] = d
    reg, _, _, _ = _both(layer, hw_array(acc, acc.num_pes), dirs, clusters, nlev)
    assert (reg >= 20).all()
