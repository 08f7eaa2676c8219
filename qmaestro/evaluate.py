"""Precision-aware evaluation: the MAESTRO analysis plus functional units, bit-packing, capacity and energy.

Semantics (DESIGN.md section 4, rules 2, 3 and 6):

- **Functional units.** A PE's 32-bit lane splits into P = 32 // widest-operand-bits FUs
  (`Precision.lanes`). The analysis runs on `num_pes x P` units and the mapping must end with an innermost
  `Cluster(P)` level (the FUs of one PE). A mapping for a P > 1 layer without that level is rejected
  (`InvalidMappingError`; status `STATUS_NO_FU_LEVEL` in a batch): a mapping written for the physical PE
  count would otherwise silently be read as one for P times more PEs, and L1 (which is per PE) could not be
  attributed to PEs. At 32 bits P = 1 and nothing is added: results equal MAESTRO's.
- **Bit-packing.** A tensor of b-bit elements packs `word_bits // b` elements into one memory word.
  Access counts stay in elements (MAESTRO's) and are also given in words = ceil(elements / per word);
  energy is charged per word.
- **Capacity in bits.** The analysis reports per-tensor tiles in elements: L1 per innermost unit (one FU),
  L2 for the whole array. The P FUs of a PE share its L1, which holds the union of their tiles: per tensor,
  the words of one FU's tile times the number of distinct FU tiles (1 for a tensor the FUs share, P for one
  they split, the window overlap for inputs split along Y/X; `qmaestro.fu_sharing`), times word_bits.
  Without a mapping to read (`evaluation_from_metrics` called bare) every tensor counts P times, an upper
  bound.
  L2 needs sum over tensors of packed words x word_bits. Capacity is a verdict: metrics and energy are
  returned whatever the fit, with `fits_l1` / `fits_l2`.
- **Energy** per component and tensor: see `qmaestro.energy`. MAC energy by `Precision.pe_kind` (the format
  of the widest operand, or lightpe1/lightpe2); memory energies are looked up at the accelerator's physical
  L1 (per PE) and L2 sizes, from its tech table (defaults merged with `Accelerator.tech`). DRAM traffic is
  each tensor once: the input and weight L2 fills, and the layer's output tensor.
- **Speed.** `evaluate_batch` is one compiled call (`qmaestro.batch_kernel`): the analysis in score mode
  (the scored columns in closed form, `qmaestro.analysis.closed`; the same numbers as the case scan), then
  one pass (`_evaluate_batch_kernel`: FU-level check, FU sharing of L1, packing, energy, verdicts) over the
  population; build an `EvaluationContext` once per (layer, accelerator) and pass it in a search loop: it
  keeps the analysis' layer/hardware arrays and the kernel's arguments, so a call does no per-pair work in
  Python.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, Mapping as TMapping, Sequence

import numpy as np
from .jit import njit

from .accelerator import Accelerator
from .energy import (COUNT_KINDS, TENSOR_COMPONENTS, TENSORS, EnergyCoefficients, TechTable, coefficients,
                     energy_kernel, row_energy)
from .errors import InvalidMappingError, PrecisionError
from .fu_sharing import copies_kernel, coupling, l1_copies
from .layer import Layer
from .mapping import Mapping
from .precision import Precision

#: batch status of a P > 1 mapping whose innermost level is not Cluster(P) (analysis codes are smaller)
STATUS_NO_FU_LEVEL = 1000
STATUS_TEXT = {STATUS_NO_FU_LEVEL: "the innermost level is not Cluster(P) over the FUs of a PE"}

_COUNT_KEYS = tuple(tuple(f"{t}_{k}" for k in COUNT_KINDS) for t in TENSORS)
_SIZE_KEYS = tuple((f"{t}_l1_size", f"{t}_l2_size") for t in TENSORS)


# ---- packing -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Packing:
    """How each tensor's elements pack into memory words (input = activations, filter = weights)."""

    bits: tuple[int, int, int]
    elements_per_word: tuple[int, int, int]
    words_per_element: tuple[int, int, int]
    word_bits: int

    @classmethod
    def of(cls, precision: Precision, word_bits: int) -> "Packing":
        bits = (precision.activations.bits, precision.weights.bits, precision.outputs.bits)
        epw = tuple(max(1, word_bits // b) for b in bits)
        wpe = tuple(1 if b <= word_bits else -(-b // word_bits) for b in bits)
        return cls(bits, epw, wpe, word_bits)  # type: ignore[arg-type]


@njit(cache=True, inline="always")
def _pack_row(metrics: np.ndarray, i: int, count_cols: np.ndarray, size_cols: np.ndarray, epw: np.ndarray,
              wpe: np.ndarray, copies: np.ndarray, words: np.ndarray) -> tuple[float, float]:
    """Row i: word counts into words[3, 4]; returns (L1 words of one PE, L2 words) of the buffer tiles.

    `copies[i, t]` is how many per-FU tiles of tensor t one PE's L1 holds (qmaestro.fu_sharing)."""
    l1 = 0.0
    l2 = 0.0
    for t in range(3):
        for k in range(4):
            words[t, k] = np.ceil(metrics[i, count_cols[t, k]] / epw[t]) * wpe[t]
        l1 += np.ceil(metrics[i, size_cols[t, 0]] / epw[t]) * wpe[t] * copies[i, t]
        l2 += np.ceil(metrics[i, size_cols[t, 1]] / epw[t]) * wpe[t]
    return l1, l2


@njit(cache=True)
def _pack_kernel(metrics: np.ndarray, count_cols: np.ndarray, size_cols: np.ndarray, epw: np.ndarray,
                 wpe: np.ndarray, word_bits: int, copies: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Word counts [n, 3, 4] and L1 (per PE: its P FUs) / L2 bits needed [n] from element counts in `metrics`."""
    n = metrics.shape[0]
    words = np.empty((n, 3, 4))
    l1_bits = np.empty(n)
    l2_bits = np.empty(n)
    for i in range(n):
        l1, l2 = _pack_row(metrics, i, count_cols, size_cols, epw, wpe, copies, words[i])
        l1_bits[i] = l1 * word_bits
        l2_bits[i] = l2 * word_bits
    return words, l1_bits, l2_bits


@njit(cache=True)
def _score_kernel(metrics: np.ndarray, status: np.ndarray, count_cols: np.ndarray, size_cols: np.ndarray,
                  macs_col: int, runtime_col: int, epw: np.ndarray, wpe: np.ndarray, word_bits: int,
                  copies: np.ndarray, coef: np.ndarray, output_dram_words: float, l1_available: float, l2_available: float):
    """The whole population in one pass: packing, energy per component (nJ), verdicts; inf where status != 0."""
    n = metrics.shape[0]
    latency = np.empty(n)
    energy = np.empty(n)
    edp = np.empty(n)
    l1_bits = np.empty(n)
    l2_bits = np.empty(n)
    valid = np.zeros(n, dtype=np.bool_)
    fits = np.zeros(n, dtype=np.bool_)
    fits_l1 = np.zeros(n, dtype=np.bool_)
    fits_l2 = np.zeros(n, dtype=np.bool_)
    comp = np.zeros((n, 5))
    words = np.empty((3, 4))
    per_tensor = np.empty((4, 3))
    for i in range(n):
        l1, l2 = _pack_row(metrics, i, count_cols, size_cols, epw, wpe, copies, words)
        l1_bits[i] = l1 * word_bits
        l2_bits[i] = l2 * word_bits
        comp[i, 0] = row_energy(metrics[i, macs_col], words, output_dram_words, coef, per_tensor) * 1e-3
        total = comp[i, 0]
        for c in range(4):
            comp[i, c + 1] = (per_tensor[c, 0] + per_tensor[c, 1] + per_tensor[c, 2]) * 1e-3
            total += comp[i, c + 1]
        if status[i] == 0:
            latency[i] = metrics[i, runtime_col]
            energy[i] = total
            edp[i] = total * latency[i]
            valid[i] = True
            fits_l1[i] = l1_bits[i] <= l1_available
            fits_l2[i] = l2_bits[i] <= l2_available
            fits[i] = fits_l1[i] and fits_l2[i]
        else:
            latency[i] = np.inf
            energy[i] = np.inf
            edp[i] = np.inf
    return latency, energy, edp, valid, fits, fits_l1, fits_l2, l1_bits, l2_bits, comp


@njit(cache=True)
def _fu_status(status: np.ndarray, clusters: np.ndarray, nlevels: np.ndarray, lanes: int) -> np.ndarray:
    """The status codes (a new array) with STATUS_NO_FU_LEVEL where a P > 1 mapping lacks its Cluster(P) level."""
    n = status.shape[0]
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[i] = status[i]
        if lanes > 1 and out[i] == 0:
            last = nlevels[i] - 1
            if last < 1 or last >= clusters.shape[1] or clusters[i, last] != lanes:
                out[i] = STATUS_NO_FU_LEVEL
    return out


@njit(cache=True)
def _evaluate_batch_kernel(metrics: np.ndarray, status: np.ndarray, dirs: np.ndarray, clusters: np.ndarray,
                           nlevels: np.ndarray, lanes: int, couple: np.ndarray, count_cols: np.ndarray,
                           size_cols: np.ndarray, macs_col: int, runtime_col: int, epw: np.ndarray, wpe: np.ndarray,
                           word_bits: int, coef: np.ndarray, output_dram_words: float, l1_available: float,
                           l2_available: float):
    """All of evaluate_batch after the analysis in one compiled call: FU-level check, L1 sharing, scoring.

    One call because the numpy passes it replaces cost about 2 us per mapping, more than the analysis."""
    fixed = _fu_status(status, clusters, nlevels, lanes)
    copies = copies_kernel(dirs, nlevels, lanes, couple)
    scores = _score_kernel(metrics, fixed, count_cols, size_cols, macs_col, runtime_col, epw, wpe, word_bits,
                           copies, coef, output_dram_words, l1_available, l2_available)
    return scores, fixed


# ---- what one (layer, accelerator) pair needs ------------------------------------------------------------------
@dataclass(frozen=True)
class EvaluationContext:
    """Everything about a (layer, accelerator) pair that does not depend on the mapping."""

    layer: Layer
    accelerator: Accelerator
    lanes: int
    num_units: int
    packing: Packing
    coefficients: EnergyCoefficients
    l1_bits_available: int
    l2_bits_available: int
    output_dram_words: float

    @cached_property
    def kernel_args(self) -> tuple[np.ndarray, np.ndarray, int, int, np.ndarray, float]:
        """(elements/word, words/element, word_bits, lanes, coefficients, output DRAM words) for the kernels."""
        pk = self.packing
        return (np.array(pk.elements_per_word, np.float64), np.array(pk.words_per_element, np.float64),
                pk.word_bits, self.lanes, self.coefficients.as_array(), self.output_dram_words)

    @cached_property
    def analysis_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(layer_array, hw_array over num_units) the analysis reads; built once, not per population."""
        return _analysis_arrays(self.layer, self.accelerator, self.num_units)

    @cached_property
    def batch_args(self) -> tuple:
        """Arguments of _evaluate_batch_kernel after the population's arrays, resolved once per pair."""
        from .analysis import METRIC_NAMES
        counts, sizes, macs_col, runtime_col = _columns(tuple(METRIC_NAMES))
        epw, wpe, word_bits, lanes, coef, out_words = self.kernel_args
        return (lanes, coupling(self.layer), counts, sizes, macs_col, runtime_col, epw, wpe, word_bits, coef,
                out_words, float(self.l1_bits_available), float(self.l2_bits_available))

    @classmethod
    def of(cls, layer: Layer, accelerator: Accelerator) -> "EvaluationContext":
        check_precision_supported(layer, accelerator)
        where = f"accelerator {accelerator.name!r}.tech"
        tech = TechTable.load(accelerator.tech, where)
        coef = coefficients(tech, layer.precision.pe_kind, accelerator.l1_bytes, accelerator.l2_bytes,
                            accelerator.word_bits, accelerator.noc_hops, where)
        lanes = layer.precision.lanes
        packing = Packing.of(layer.precision, accelerator.word_bits)
        out_words = -(-output_elements(layer) // packing.elements_per_word[2]) * packing.words_per_element[2]
        return cls(layer, accelerator, lanes, accelerator.num_pes * lanes, packing, coef,
                   accelerator.l1_bytes * 8, accelerator.l2_bytes * 8, float(out_words))


def output_elements(layer: Layer) -> int:
    """Elements of the layer's output tensor (with the stride; what is written back to DRAM)."""
    if layer.type == "GEMM":
        return layer.M * layer.N
    channels = layer.C if layer.type == "DSCONV" else layer.K
    return channels * layer.out_y * layer.out_x


def check_precision_supported(layer: Layer, accelerator: Accelerator) -> None:
    """PrecisionError unless the accelerator supports every operand format of the layer."""
    p = layer.precision
    for role, fmt in (("weights", p.weights), ("activations", p.activations), ("outputs", p.outputs)):
        if not accelerator.supports(fmt):
            raise PrecisionError(f"accelerator {accelerator.name!r} does not support {fmt.name} {role}",
                                 f"layer {layer.name!r}.precision",
                                 f"use one of {', '.join(accelerator.precisions)} or add {fmt.name} "
                                 f"to the accelerator's precisions")


def check_fu_level(mapping: Mapping, lanes: int, where: str = "mapping") -> None:
    """InvalidMappingError unless a P > 1 mapping ends with Cluster(P) (the FUs of a PE)."""
    if lanes == 1:
        return
    sizes = mapping.cluster_sizes
    if not sizes or sizes[-1] != lanes:
        got = f"Cluster({sizes[-1]})" if sizes else "no Cluster level"
        raise InvalidMappingError(f"a layer with {lanes} FUs per PE needs an innermost Cluster({lanes}) level, "
                                  f"got {got}", where,
                                  f"append Cluster({lanes}) and a level that spatially maps C, Y or X over the FUs")


# ---- results ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Evaluation:
    """One mapping's costs. Energies in nJ; counts per tensor in elements and in packed words."""

    latency_cycles: float
    energy_nj: float
    edp: float
    energy_by_component: dict[str, float]
    energy_by_tensor: dict[str, dict[str, float]]
    accesses_elements: dict[str, float]
    accesses_words: dict[str, float]
    l1_bits_needed: float
    l1_bits_available: int
    l2_bits_needed: float
    l2_bits_available: int
    fits_l1: bool
    fits_l2: bool
    utilisation: float
    metrics: dict[str, float]
    precision: Precision
    num_units: int
    lanes: int = 1
    packing: Packing | None = field(default=None, repr=False)

    @property
    def fits(self) -> bool:
        return self.fits_l1 and self.fits_l2

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON/YAML (results files, reports)."""
        return {"latency_cycles": self.latency_cycles, "energy_nj": self.energy_nj, "edp": self.edp,
                "energy_by_component": dict(self.energy_by_component),
                "energy_by_tensor": {t: dict(v) for t, v in self.energy_by_tensor.items()},
                "accesses_elements": dict(self.accesses_elements), "accesses_words": dict(self.accesses_words),
                "l1_bits_needed": self.l1_bits_needed, "l1_bits_available": self.l1_bits_available,
                "l2_bits_needed": self.l2_bits_needed, "l2_bits_available": self.l2_bits_available,
                "fits_l1": self.fits_l1, "fits_l2": self.fits_l2, "utilisation": self.utilisation,
                "precision": self.precision.to_yaml(), "num_units": self.num_units, "lanes": self.lanes,
                "metrics": dict(self.metrics)}


@dataclass(frozen=True)
class BatchEvaluation:
    """Costs of n mappings of one layer as arrays; invalid rows have inf latency/energy/edp and fits False."""

    latency: np.ndarray
    energy: np.ndarray
    edp: np.ndarray
    valid: np.ndarray
    fits: np.ndarray
    fits_l1: np.ndarray
    fits_l2: np.ndarray
    l1_bits: np.ndarray
    l2_bits: np.ndarray
    status: np.ndarray
    components: np.ndarray  # [n, len(COMPONENTS)] nJ
    metrics: np.ndarray     # [n, NUM_METRICS] raw metrics (evaluate_batch: SCORE_COLUMNS unless full_metrics)

    def __len__(self) -> int:
        return int(self.latency.shape[0])

    @property
    def feasible(self) -> np.ndarray:
        return self.valid & self.fits


# ---- scoring (pure, shared by evaluate and evaluate_batch) ---------------------------------------------------------
@dataclass(frozen=True)
class _Scores:
    words: np.ndarray
    l1_bits: np.ndarray
    l2_bits: np.ndarray
    per_tensor_pj: np.ndarray
    mac_pj: np.ndarray


@lru_cache(maxsize=8)
def _columns(names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Column indices (counts [3, 4], sizes [3, 2], MACs, runtime) of the metrics the scoring reads."""
    index = {n: i for i, n in enumerate(names)}
    try:
        counts = np.array([[index[k] for k in row] for row in _COUNT_KEYS], dtype=np.int64)
        sizes = np.array([[index[k] for k in row] for row in _SIZE_KEYS], dtype=np.int64)
        return counts, sizes, index["num_macs"], index["runtime_cycles"]
    except KeyError as err:
        raise InvalidMappingError(f"the analysis reported no {err.args[0]!r} metric", "qmaestro.analysis",
                                  "the analysis must report per-tensor L1/L2 counts and sizes") from None


def _copies(ctx: EvaluationContext, n: int, copies: np.ndarray | None) -> np.ndarray:
    """Per-FU tiles per PE [n, 3]; without a mapping to read, the upper bound: P of every tensor."""
    if copies is None:
        return np.full((n, 3), float(ctx.lanes))
    return np.ascontiguousarray(copies, dtype=np.float64)


def _score(ctx: EvaluationContext, metrics: np.ndarray, names: Sequence[str], copies: np.ndarray | None) -> _Scores:
    counts, sizes, macs_col, _ = _columns(tuple(names))
    epw, wpe, word_bits, lanes, coef, out_words = ctx.kernel_args
    words, l1_bits, l2_bits = _pack_kernel(metrics, counts, sizes, epw, wpe, word_bits,
                                           _copies(ctx, metrics.shape[0], copies))
    per_tensor, mac = energy_kernel(np.ascontiguousarray(metrics[:, macs_col]), words, out_words, coef)
    return _Scores(words, l1_bits, l2_bits, per_tensor, mac)


def evaluation_from_metrics(ctx: EvaluationContext, metrics: TMapping[str, float],
                            copies: np.ndarray | None = None) -> Evaluation:
    """An Evaluation from the analysis' metrics dict (element counts, MAESTRO keys) of one mapping.

    `copies` [1, 3]: per-FU tiles per PE (qmaestro.fu_sharing.l1_copies); None = P of each (upper bound)."""
    names = list(metrics)
    arr = np.array([[float(metrics[n]) for n in names]], dtype=np.float64)
    s = _score(ctx, arr, names, copies)
    latency = float(metrics["runtime_cycles"])
    per_tensor = s.per_tensor_pj[0] / 1000.0  # [component, tensor] nJ
    mac_nj = float(s.mac_pj[0]) / 1000.0
    by_component = {"mac": mac_nj}
    by_component.update({c: float(per_tensor[j].sum()) for j, c in enumerate(TENSOR_COMPONENTS)})
    by_tensor = {t: {c: float(per_tensor[j, ti]) for j, c in enumerate(TENSOR_COMPONENTS)}
                 for ti, t in enumerate(TENSORS)}
    energy = float(sum(by_component.values()))
    elements = {k: float(metrics[k]) for row in _COUNT_KEYS for k in row}
    words = {k: float(s.words[0, ti, ki]) for ti, row in enumerate(_COUNT_KEYS) for ki, k in enumerate(row)}
    words["input_dram_read"] = words["input_l2_write"]
    words["filter_dram_read"] = words["filter_l2_write"]
    words["output_dram_write"] = ctx.output_dram_words
    macs = float(metrics["num_macs"])
    util = macs / (latency * ctx.num_units) if latency > 0 else 0.0
    return Evaluation(latency, energy, energy * latency, by_component, by_tensor, elements, words,
                      float(s.l1_bits[0]), ctx.l1_bits_available, float(s.l2_bits[0]), ctx.l2_bits_available,
                      bool(s.l1_bits[0] <= ctx.l1_bits_available), bool(s.l2_bits[0] <= ctx.l2_bits_available),
                      util, {k: float(v) for k, v in metrics.items()}, ctx.layer.precision, ctx.num_units,
                      ctx.lanes, ctx.packing)


def batch_from_metrics(ctx: EvaluationContext, metrics: np.ndarray, status: np.ndarray,
                       names: Sequence[str], copies: np.ndarray | None = None) -> BatchEvaluation:
    """A BatchEvaluation from the analysis' metrics array [n, len(names)] and status codes [n] (one jitted pass)."""
    counts, sizes, macs_col, runtime_col = _columns(tuple(names))
    epw, wpe, word_bits, lanes, coef, out_words = ctx.kernel_args
    scores = _score_kernel(metrics, status, counts, sizes, macs_col, runtime_col, epw, wpe, word_bits,
                           _copies(ctx, metrics.shape[0], copies), coef,
                           out_words, float(ctx.l1_bits_available), float(ctx.l2_bits_available))
    return BatchEvaluation(*scores[:9], status, scores[9], metrics)


def status_text(code: int) -> str:
    """Human text of a batch status code (0 = ok)."""
    if code == 0:
        return "ok"
    if code in STATUS_TEXT:
        return STATUS_TEXT[code]
    from .analysis import REASONS
    try:
        return str(REASONS[code])
    except (KeyError, IndexError):
        return f"analysis status {code}"


# ---- public entry points ----------------------------------------------------------------------------------
def evaluate(layer: Layer, accelerator: Accelerator, mapping: Mapping,
             context: EvaluationContext | None = None) -> Evaluation:
    """Cost one mapping of one layer; raises PrecisionError / InvalidMappingError for what cannot be costed."""
    from .analysis import analyze
    from .arrays import encode

    ctx = context or EvaluationContext.of(layer, accelerator)
    check_fu_level(mapping, ctx.lanes, f"layer {layer.name!r} mapping")
    metrics = analyze(layer, accelerator, mapping, num_units=ctx.num_units)
    dirs, _, nlevels = encode(mapping)
    return evaluation_from_metrics(ctx, metrics, l1_copies(layer, dirs, nlevels, ctx.lanes))


def evaluate_batch(layer: Layer, accelerator: Accelerator, dirs: np.ndarray, clusters: np.ndarray,
                   nlevels: np.ndarray, context: EvaluationContext | None = None,
                   full_metrics: bool = False) -> BatchEvaluation:
    """Cost n mappings (array form, see qmaestro.arrays) of one layer: one analysis call, one scoring call.

    The analysis runs in score mode (closed form where it applies): `metrics` then holds only the columns
    scoring reads (qmaestro.analysis.SCORE_COLUMNS; the rest NaN). full_metrics=True fills every column
    with the case scan (slower; the scores are the same either way)."""
    ctx = context or EvaluationContext.of(layer, accelerator)
    analysis = _analysis()
    if layer is ctx.layer and accelerator is ctx.accelerator:
        layer_arr, hw_arr = ctx.analysis_arrays
        args = ctx.batch_args
    else:  # a context built from other objects (equal or not): the arguments win, as they always did
        layer_arr, hw_arr = _analysis_arrays(layer, accelerator, ctx.num_units)
        args = (ctx.batch_args[0], coupling(layer)) + ctx.batch_args[2:]
    if full_metrics:
        metrics, status = analysis.analyze_batch(layer_arr, hw_arr, dirs, clusters, nlevels)
        scores, fixed = _evaluate_batch_kernel(metrics, status, dirs, clusters, nlevels, *args)
    else:
        scores, fixed, metrics = _batch_kernel().score_population(
            layer_arr, hw_arr, _int64(dirs), _int64(clusters), _int64(nlevels), *args)
    return BatchEvaluation(*scores[:9], fixed, scores[9], metrics)


def _int64(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int64)


@lru_cache(maxsize=1)
def _analysis():
    """qmaestro.analysis, imported on first use (it loads the analysis kernels) and not looked up per call."""
    from . import analysis
    return analysis


@lru_cache(maxsize=1)
def _batch_kernel():
    """qmaestro.batch_kernel (score mode in one call), imported on first use like the analysis."""
    from . import batch_kernel
    return batch_kernel


def _analysis_arrays(layer: Layer, accelerator: Accelerator, num_units: int) -> tuple[np.ndarray, np.ndarray]:
    """The analysis' array forms of the layer and of the hardware with `num_units` compute units."""
    from .arrays import hw_array, layer_array
    return layer_array(layer), hw_array(accelerator, num_units=num_units)


__all__ = ["Evaluation", "BatchEvaluation", "EvaluationContext", "Packing", "evaluate", "evaluate_batch",
           "evaluation_from_metrics", "batch_from_metrics", "check_fu_level", "check_precision_supported",
           "status_text", "STATUS_NO_FU_LEVEL"]
