"""MAESTRO's data-centric cost analysis, numba-jitted and MAESTRO-exact at 32 bits.

- `analyze(layer, accelerator, mapping, num_units=None) -> dict`: one mapping; raises InvalidMappingError.
- `analyze_batch(layer_arr, hw_arr, dirs, clusters, nlevels) -> (metrics, status)`: a population in one call.

Both run the same kernel (`kernel.analyze_batch_core`). Energy, area and power columns reproduce MAESTRO's
own formulas (including its quirk of dropping the L1 energy term for multi-level mappings); qmaestro.energy
holds our own energy model.
"""
from __future__ import annotations

import numpy as np

from ..accelerator import Accelerator
from ..arrays import DIM_NAMES, encode, hw_array, layer_array
from ..errors import InvalidMappingError
from ..layer import Layer
from ..mapping import Mapping
from .kernel import DETAIL_LEN, SCORE_COLUMNS, analyze_batch_core, score_batch_core
from .metrics import METRIC_INDEX, METRIC_NAMES, NUM_METRICS, REASONS

__all__ = ["analyze", "analyze_batch", "analyze_batch_detailed", "reason_text", "METRIC_NAMES", "NUM_METRICS",
           "METRIC_INDEX", "REASONS", "SCORE_COLUMNS"]


def analyze_batch_detailed(layer_arr: np.ndarray, hw_arr: np.ndarray, dirs: np.ndarray, clusters: np.ndarray,
                           nlevels: np.ndarray, fast: bool = True, score: bool = False
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Like analyze_batch, plus detail[n, 5] (level, dim, a, b, c) that fills the reason templates.

    fast=False runs the general per-case scan on every level (slower, same results: kept for tests).
    score=True fills only SCORE_COLUMNS (the rest NaN), in closed form where it can (same numbers)."""
    n = dirs.shape[0]
    metrics = np.empty((n, NUM_METRICS), dtype=np.float64)
    status = np.zeros(n, dtype=np.int64)
    detail = np.zeros((n, DETAIL_LEN), dtype=np.int64)
    arrays = (np.ascontiguousarray(layer_arr, dtype=np.int64), np.ascontiguousarray(hw_arr, dtype=np.int64),
              np.ascontiguousarray(dirs, dtype=np.int64), np.ascontiguousarray(clusters, dtype=np.int64),
              np.ascontiguousarray(nlevels, dtype=np.int64))
    if score and fast:
        score_batch_core(*arrays, metrics, status, detail)
    else:
        analyze_batch_core(*arrays, metrics, status, detail, bool(fast), bool(score))
    return metrics, status, detail


def analyze_batch(layer_arr: np.ndarray, hw_arr: np.ndarray, dirs: np.ndarray, clusters: np.ndarray,
                  nlevels: np.ndarray, score: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Score a population of mappings of one layer: metrics[n, NUM_METRICS] (NaN rows where status > 0).

    score=True: only SCORE_COLUMNS are filled (what scoring reads; the rest NaN), much faster."""
    metrics, status, _ = analyze_batch_detailed(layer_arr, hw_arr, dirs, clusters, nlevels, score=score)
    return metrics, status


def reason_text(status: int, detail: np.ndarray) -> str:
    """The one-line reason for a rejection code and its detail row."""
    level, dim, a, b, c = (int(x) for x in detail)
    dim_name = DIM_NAMES[dim] if 0 <= dim < len(DIM_NAMES) else "?"
    filt = DIM_NAMES[c] if 0 <= c < len(DIM_NAMES) and c else ("R" if dim_name.startswith("Y") else "S")
    what = "row" if dim_name.startswith("Y") else "column"
    metric = METRIC_NAMES[level] if 0 <= level < len(METRIC_NAMES) else "?"
    return REASONS[status].format(level=level, dim=dim_name, a=a, b=b, c=c, filt=filt, what=what, metric=metric,
                                  hundredths=a / 100)


def analyze(layer: Layer, accelerator: Accelerator, mapping: Mapping, num_units: int | None = None
            ) -> dict[str, float]:
    """MAESTRO's metrics of one mapping (keys: METRIC_NAMES); raises InvalidMappingError with the reason."""
    dirs, clusters, nlevels = encode(mapping)
    metrics, status, detail = analyze_batch_detailed(layer_array(layer), hw_array(accelerator, num_units),
                                                     dirs, clusters, nlevels)
    if status[0] != 0:
        raise InvalidMappingError(reason_text(int(status[0]), detail[0]), f"layer {layer.name!r}",
                                  "change the mapping (see the reason)")
    return {name: float(metrics[0, i]) for i, name in enumerate(METRIC_NAMES)}
