"""Activity-based energy: access counts (in memory words) x energy per access, per component and tensor.

Why a separate module: the analysis counts *what happens* (MACs, L1/L2 reads and writes per tensor); this
module says *what it costs*, from a technology table (`data/tech.yaml`, every number with its source) that an
accelerator may override. The cost of a whole population is one call of the jitted `energy_kernel` over arrays.

Components and how each is charged (all per packed memory word of `word_bits`, so bit-packing saves energy):

- mac:  number of MACs x MAC energy of the PE kind (`Precision.pe_kind`: fp32 ... int2, lightpe1, lightpe2);
- l1:   L1 reads and writes x energy per access of an L1 of the accelerator's size (per PE);
- l2:   L2 reads and writes x energy per access of an L2 of the accelerator's size;
- noc:  words crossing the NoC x word_bits x hops x energy per bit-hop. Inputs and weights cross once per L2
        read (a multicast is one transfer), outputs once per L2 write (partial sums and results going up);
- dram: words moved between DRAM and L2 x word_bits x energy per bit. MAESTRO's L2 holds whole tensors: each
        tensor crosses the DRAM interface once. Inputs and weights are loaded by their L2 fills (their L2 write
        counts, which MAESTRO sets to the full tensor); outputs are stored once, counted from the layer's true
        output size (the caller passes it: MAESTRO's output L2 read count uses the unstrided output extent,
        about 16x too large for AlexNet's 11x11/4 conv1). DRAM energy is therefore the same for every mapping of a
        layer and changes with precision only; a mapping that does not fit L2 is flagged by the capacity
        verdict, not charged re-fetches.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from .jit import njit

from .errors import InputError
from .yamlio import load_yaml

DEFAULT_TECH_PATH = Path(__file__).parent / "data" / "tech.yaml"

TENSORS = ("input", "filter", "output")
#: per-tensor access counts the energy model reads, in this order along the last axis of `words`
COUNT_KINDS = ("l1_read", "l1_write", "l2_read", "l2_write")
#: per-tensor energy components, in this order along axis 1 of the kernel's per-tensor output
TENSOR_COMPONENTS = ("l1", "l2", "noc", "dram")
COMPONENTS = ("mac",) + TENSOR_COMPONENTS
#: the coefficient vector the kernel reads (all pJ; memory terms per word access)
COEFFICIENT_NAMES = ("mac_pj", "l1_read_pj", "l1_write_pj", "l2_read_pj", "l2_write_pj", "noc_pj_per_word",
                     "dram_pj_per_word")
_TOP_KEYS = ("mac_energy_nj", "noc_pj_per_bit_hop", "dram_pj_per_bit", "sram_table", "sram_tables")
#: keys of `Accelerator.tech` that belong to other models (PE kinds / PPA, qmaestro.ppa); skipped here
FOREIGN_TECH_KEYS = ("pe_kinds", "pe_kinds_file", "ppa", "ppa_model", "source", "sources")
#: tech keys read by the area/power model (qmaestro/ppa.py), accepted and ignored here
_PPA_KEYS = ("pe_kinds", "pe_kinds_file", "ppa", "ppa_model")


# ---- technology table ---------------------------------------------------------------------------------------
def loglog_interpolate(x: float, xs: tuple[float, ...], ys: tuple[float, ...]) -> float:
    """y(x) linear in log-log space between table points; beyond the ends, the end segments continue."""
    if len(xs) == 1:
        return float(ys[0])
    i = 0
    while i < len(xs) - 2 and x > xs[i + 1]:
        i += 1
    x0, x1, y0, y1 = xs[i], xs[i + 1], ys[i], ys[i + 1]
    slope = math.log(y1 / y0) / math.log(x1 / x0)
    return float(y0 * (x / x0) ** slope)


@dataclass(frozen=True)
class SramTable:
    """Energy per access vs buffer size (a CACTI-style table); `access_bits` wide accesses."""

    name: str
    size_bytes: tuple[float, ...]
    read_pj: tuple[float, ...]
    write_pj: tuple[float, ...]
    access_bits: int
    source: str = ""

    def access_pj(self, size_bytes: float, word_bits: int) -> tuple[float, float]:
        """(read, write) energy in pJ of one `word_bits` access to a buffer of `size_bytes`."""
        scale = word_bits / self.access_bits
        return (loglog_interpolate(size_bytes, self.size_bytes, self.read_pj) * scale,
                loglog_interpolate(size_bytes, self.size_bytes, self.write_pj) * scale)


@dataclass(frozen=True)
class TechTable:
    """The numbers the energy model charges (defaults from data/tech.yaml, merged with overrides)."""

    mac_energy_nj: Mapping[str, float]
    noc_pj_per_bit_hop: float
    dram_pj_per_bit: float
    sram: SramTable

    def mac_pj(self, pe_kind: str, where: str = "tech") -> float:
        if pe_kind not in self.mac_energy_nj:
            raise InputError(f"no MAC energy for PE kind {pe_kind!r}", f"{where}.mac_energy_nj",
                             f"add {pe_kind}: <nJ per MAC> to the accelerator's tech table "
                             f"(known: {', '.join(sorted(self.mac_energy_nj))})")
        return self.mac_energy_nj[pe_kind] * 1000.0

    @classmethod
    def load(cls, overrides: Mapping[str, Any] | None = None, where: str = "tech") -> "TechTable":
        """The default table with `overrides` (e.g. `Accelerator.tech`) merged over it key by key."""
        data = _merge(copy.deepcopy(_default_tech_data()), overrides or {}, where)
        return _parse_tech(data, where)


@lru_cache(maxsize=1)
def _default_tech_data() -> dict[str, Any]:
    return load_yaml(DEFAULT_TECH_PATH)


def _merge(base: dict[str, Any], over: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Merge two levels deep (tables, then their fields); unknown top-level keys are errors, not silent typos."""
    if not isinstance(over, Mapping):
        raise InputError("tech overrides must be a mapping", where, "write e.g. tech: {dram_pj_per_bit: 10.0}")
    unknown = sorted(set(over) - set(_TOP_KEYS) - set(_PPA_KEYS) - {"source", "sources"})
    if unknown:
        raise InputError(f"unknown tech key(s) {unknown}", where, f"use {', '.join(_TOP_KEYS)}")
    out = base
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            merged = dict(out[key])
            for k2, v2 in value.items():
                if isinstance(v2, Mapping) and isinstance(merged.get(k2), Mapping):
                    merged[k2] = {**merged[k2], **v2}
                else:
                    merged[k2] = v2
            out[key] = merged
        else:
            out[key] = value
    return out


def _positive(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or math.isinf(value):
        raise InputError(f"expected a positive number, got {value!r}", where,
                         "write a number such as 0.826e-3 (note: YAML needs a dot, as in 1.0e-3)")
    return float(value)


def _parse_tech(data: Mapping[str, Any], where: str) -> TechTable:
    macs = data.get("mac_energy_nj")
    if not isinstance(macs, Mapping) or not macs:
        raise InputError("mac_energy_nj must map PE kinds to nJ per MAC", f"{where}.mac_energy_nj",
                         "write e.g. mac_energy_nj: {int8: 0.826e-3}")
    mac = {str(k).lower(): _positive(v, f"{where}.mac_energy_nj.{k}") for k, v in macs.items()}
    name = data.get("sram_table")
    tables = data.get("sram_tables") or {}
    if name not in tables:
        raise InputError(f"unknown sram_table {name!r}", f"{where}.sram_table",
                         f"use one of {', '.join(sorted(tables))} or add it under sram_tables")
    t = tables[name]
    tw = f"{where}.sram_tables.{name}"
    try:
        sizes = tuple(_positive(v, f"{tw}.size_bytes") for v in t["size_bytes"])
        reads = tuple(_positive(v, f"{tw}.read_pj") for v in t["read_pj"])
        writes = tuple(_positive(v, f"{tw}.write_pj") for v in t["write_pj"])
        access_bits = int(_positive(t["access_bits"], f"{tw}.access_bits"))
    except (KeyError, TypeError):
        raise InputError("an SRAM table needs size_bytes, read_pj, write_pj lists and access_bits", tw,
                         "see qmaestro/data/tech.yaml") from None
    if not sizes or not (len(sizes) == len(reads) == len(writes)) or list(sizes) != sorted(set(sizes)):
        raise InputError("size_bytes must be strictly increasing and as long as read_pj and write_pj", tw,
                         "give one read and one write energy per size")
    sram = SramTable(str(name), sizes, reads, writes, access_bits, str(t.get("source", "")))
    return TechTable(mac, _positive(data.get("noc_pj_per_bit_hop"), f"{where}.noc_pj_per_bit_hop"),
                     _positive(data.get("dram_pj_per_bit"), f"{where}.dram_pj_per_bit"), sram)


# ---- coefficients of one (tech, accelerator, PE kind) --------------------------------------------------------
@dataclass(frozen=True)
class EnergyCoefficients:
    """Resolved per-event energies in pJ; memory, NoC and DRAM terms per `word_bits` word."""

    mac_pj: float
    l1_read_pj: float
    l1_write_pj: float
    l2_read_pj: float
    l2_write_pj: float
    noc_pj_per_word: float
    dram_pj_per_word: float

    def as_array(self) -> np.ndarray:
        return np.array([getattr(self, n) for n in COEFFICIENT_NAMES], dtype=np.float64)


def coefficients(tech: TechTable, pe_kind: str, l1_bytes: float, l2_bytes: float, word_bits: int,
                 noc_hops: int, where: str = "tech") -> EnergyCoefficients:
    """Energy per event for one PE kind on buffers of the given (physical) sizes."""
    l1r, l1w = tech.sram.access_pj(l1_bytes, word_bits)
    l2r, l2w = tech.sram.access_pj(l2_bytes, word_bits)
    return EnergyCoefficients(tech.mac_pj(pe_kind, where), l1r, l1w, l2r, l2w,
                              tech.noc_pj_per_bit_hop * word_bits * noc_hops, tech.dram_pj_per_bit * word_bits)


# ---- the kernel ----------------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def row_energy(macs: float, words: np.ndarray, output_dram_words: float, coef: np.ndarray,
               per_tensor: np.ndarray) -> float:
    """One candidate: fills per_tensor[4 components (l1, l2, noc, dram), 3 tensors] in pJ, returns MAC pJ.

    words[3 tensors (input, filter, output), 4 counts (l1_read, l1_write, l2_read, l2_write)];
    output_dram_words: packed words of the layer's output tensor; coef in COEFFICIENT_NAMES order.
    Callable from other jitted kernels (evaluate's batch scorer).
    """
    for t in range(3):
        l1r = words[t, 0]
        l1w = words[t, 1]
        l2r = words[t, 2]
        l2w = words[t, 3]
        per_tensor[0, t] = l1r * coef[1] + l1w * coef[2]
        per_tensor[1, t] = l2r * coef[3] + l2w * coef[4]
        if t < 2:  # input, filter: NoC per L2 read, DRAM per L2 fill
            per_tensor[2, t] = l2r * coef[5]
            per_tensor[3, t] = l2w * coef[6]
        else:  # output: NoC per L2 write, DRAM once per output word
            per_tensor[2, t] = l2w * coef[5]
            per_tensor[3, t] = output_dram_words * coef[6]
    return macs * coef[0]


@njit(cache=True)
def energy_kernel(macs: np.ndarray, words: np.ndarray, output_dram_words: float,
                  coef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Energy in pJ of n candidates: (per_tensor[n, 4 components, 3 tensors], mac[n]); see row_energy."""
    n = macs.shape[0]
    per_tensor = np.zeros((n, 4, 3))
    mac = np.empty(n)
    for i in range(n):
        mac[i] = row_energy(macs[i], words[i], output_dram_words, coef, per_tensor[i])
    return per_tensor, mac
