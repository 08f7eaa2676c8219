"""The FUs of a PE share its L1: per-tensor copies of one FU's tile, hand-worked."""
from __future__ import annotations

import numpy as np
import pytest

from qmaestro import Accelerator, Layer, Mapping, SpatialMap, TemporalMap
from qmaestro.arrays import encode
from qmaestro.evaluate import EvaluationContext, evaluate, evaluation_from_metrics
from qmaestro.fu_sharing import l1_copies

EDGE16 = Accelerator.load("edge16")
CONV1 = Layer("conv1", K=64, C=3, R=7, S=7, Y=230, X=230, stride_y=2, stride_x=2, precision="int8")


def three_levels(fu_dir, lay: Layer = CONV1) -> Mapping:
    """K over 16 PEs (one cluster of 16), then the FU level that spreads `fu_dir` over the 4 FUs."""
    def window(extra):
        return extra + [TemporalMap(lay.R, lay.R, "R"), TemporalMap(lay.S, lay.S, "S")]
    top = window([SpatialMap(1, 1, "K"), TemporalMap(1, 1, "C"), TemporalMap(10, 8, "Y"), TemporalMap(7, 2, "X")])
    pe = window([SpatialMap(1, 1, "K"), TemporalMap(1, 1, "C"), TemporalMap(10, 8, "Y"), TemporalMap(7, 2, "X")])
    fu = window([fu_dir, TemporalMap(1, 1, "K"), TemporalMap(1, 1, "C"), TemporalMap(7, 7, "X")]
                + ([] if fu_dir.dim == "Y" else [TemporalMap(7, 2, "Y")]))
    return Mapping.from_levels([top, pe, fu], [16, 4])


def copies_of(mapping: Mapping, lay: Layer = CONV1, lanes: int = 4) -> np.ndarray:
    dirs, _, nlevels = encode(mapping)
    return l1_copies(lay, dirs, nlevels, lanes)[0]


def test_fus_splitting_rows_share_weights_and_overlap_input_windows():
    # 4 FUs, each a 7-row window at row offset 1: together rows 0..9 = 10 rows = 10/7 of one window
    c = copies_of(three_levels(SpatialMap(7, 1, "Y")))
    assert c[0] == pytest.approx(10 / 7)  # input
    assert c[1] == 1.0                    # filter: every FU uses the same weights
    assert c[2] == 4.0                    # output: each FU its own output rows


def test_fus_splitting_channels_keep_their_own_inputs_and_weights_and_share_the_output():
    c = copies_of(three_levels(SpatialMap(1, 1, "C")))
    assert list(c) == [4.0, 4.0, 1.0]


def test_one_fu_per_pe_counts_every_tile_once():
    lay = CONV1.with_precision("fp32")
    assert list(copies_of(three_levels(SpatialMap(7, 1, "Y")), lay, lanes=1)) == [1.0, 1.0, 1.0]


def test_pe_l1_is_the_union_of_fu_tiles_in_packed_words():
    # per-FU tiles (elements): input 98, filter 98, output 2 -> int8 packs 4 per 32-bit word: 25, 25, 1 words
    ctx = EvaluationContext.of(CONV1, EDGE16)
    sizes = {"input_l1_size": 98.0, "filter_l1_size": 98.0, "output_l1_size": 2.0,
             "input_l2_size": 0.0, "filter_l2_size": 0.0, "output_l2_size": 0.0}
    counts = {f"{t}_{k}": 0.0 for t in ("input", "filter", "output")
              for k in ("l1_read", "l1_write", "l2_read", "l2_write")}
    m = {"runtime_cycles": 10.0, "num_macs": 10.0, **counts, **sizes}
    shared = evaluation_from_metrics(ctx, m, np.array([[10 / 7, 1.0, 4.0]]))
    assert shared.l1_bits_needed == pytest.approx((25 * 10 / 7 + 25 + 4) * 32)   # 2065 bits = 258 B
    assert shared.fits_l1                                                        # 512 B per PE
    upper = evaluation_from_metrics(ctx, m)                                      # no mapping: P copies of all
    assert upper.l1_bits_needed == 4 * (25 + 25 + 1) * 32 and not upper.fits_l1


def test_evaluate_uses_the_mapping_to_share_the_pe_l1():
    mapping = three_levels(SpatialMap(7, 1, "Y"))
    e = evaluate(CONV1, EDGE16, mapping)
    c = copies_of(mapping)
    per_fu_words = [np.ceil(e.metrics[f"{t}_l1_size"] / 4) for t in ("input", "filter", "output")]
    assert e.l1_bits_needed == pytest.approx(32 * sum(w * k for w, k in zip(per_fu_words, c)))
    assert e.l1_bits_needed < 4 * 32 * sum(per_fu_words)
