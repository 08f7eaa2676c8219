"""evaluate_batch's score mode in one compiled call: the analysis (closed form, analysis.kernel.score_batch_core)
and the precision-aware scoring (evaluate._evaluate_batch_kernel) of a population.

Why a module of its own: evaluate.py loads the analysis kernels only on first use, and one call instead of an
analysis call and a scoring call saves a dispatch and the Python between them (about 50 ns per mapping of a
300-mapping population, a twentieth of the whole cost).
"""
from __future__ import annotations

import numpy as np
from .jit import njit

from .analysis.kernel import DETAIL_LEN, score_batch_core
from .analysis.metrics import NUM_METRICS
from .evaluate import _evaluate_batch_kernel


@njit(cache=True)
def score_population(layer_arr, hw_arr, dirs, clusters, nlevels, lanes, couple, count_cols, size_cols, macs_col,
                     runtime_col, epw, wpe, word_bits, coef, output_dram_words, l1_available, l2_available):
    """(scores, status with the FU-level check, metrics) as evaluate_batch builds its BatchEvaluation from."""
    n = dirs.shape[0]
    metrics = np.empty((n, NUM_METRICS), dtype=np.float64)
    status = np.zeros(n, dtype=np.int64)
    detail = np.zeros((n, DETAIL_LEN), dtype=np.int64)
    score_batch_core(layer_arr, hw_arr, dirs, clusters, nlevels, metrics, status, detail)
    scores, fixed = _evaluate_batch_kernel(metrics, status, dirs, clusters, nlevels, lanes, couple, count_cols,
                                           size_cols, macs_col, runtime_col, epw, wpe, word_bits, coef,
                                           output_dram_words, l1_available, l2_available)
    return scores, fixed, metrics
