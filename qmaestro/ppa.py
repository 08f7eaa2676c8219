"""Area and power of a whole accelerator from its PE kind, PE count, per-PE scratchpad and global buffer.

Two models, one interface (``accelerator_ppa(acc) -> PPA``):

- the *component* model (default): sums MAC units, per-PE overhead (FIFOs, control), L1 scratchpads and
  the L2 global buffer, each from data/pe_kinds.yaml (area, leakage) and the energy model's tech table
  (MAC and SRAM energy per access, for peak dynamic power). Every number is named in docs/ppa.md;
- a *fitted* model: polynomial regressions written by ``qmaestro fit-ppa`` from a characterisation table
  (QUIDAM's approach: synthesis results -> k-fold cross-validated polynomial), used when the accelerator's
  tech table names it: ``tech: {ppa_model: path/to/model.yaml}``.

Power is *peak* power (every FU busy, the assumed memory activity of pe_kinds.yaml), the figure a
synthesis flow reports; workload energy stays with qmaestro.energy.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .accelerator import Accelerator
from .energy import TechTable
from .errors import InputError
from .pe_kinds import PEKind, accelerator_pe_kind, component_params, component_sources

#: keys of ``Accelerator.tech`` that belong to the PPA model (the energy model ignores them)
PPA_TECH_KEYS = ("pe_kinds", "pe_kinds_file", "ppa", "ppa_model")
AREA_PARTS = ("mac", "pe_overhead", "l1", "l2")
POWER_PARTS = ("mac", "pe_overhead", "l1", "l2")


@dataclass(frozen=True)
class PPA:
    """Area (um^2) and peak power (mW) of one accelerator, by component where the model knows them."""

    pe_kind: str
    clock_mhz: float
    area_um2: Mapping[str, float]
    leakage_mw: Mapping[str, float]
    dynamic_mw: Mapping[str, float]
    model: str = "component"
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def area_mm2(self) -> float:
        return sum(self.area_um2.values()) * 1e-6

    @property
    def leakage_total_mw(self) -> float:
        return sum(self.leakage_mw.values())

    @property
    def power_mw(self) -> float:
        """Peak power: leakage plus dynamic power at the assumed activity."""
        return self.leakage_total_mw + sum(self.dynamic_mw.values())

    def to_dict(self) -> dict[str, Any]:
        return {"pe_kind": self.pe_kind, "model": self.model, "clock_mhz": self.clock_mhz,
                "area_mm2": self.area_mm2, "power_mw": self.power_mw, "leakage_mw": self.leakage_total_mw,
                "area_um2_by_part": dict(self.area_um2), "leakage_mw_by_part": dict(self.leakage_mw),
                "dynamic_mw_by_part": dict(self.dynamic_mw)}


def sram_area_um2(size_bytes: float, cell_area_um2: float, array_efficiency: float) -> float:
    """Macro area: bit cells divided by the fraction of the macro they occupy."""
    if array_efficiency <= 0:
        raise InputError("array efficiency must be > 0", "tech.ppa", "give a fraction such as 0.5")
    return size_bytes * 8.0 * cell_area_um2 / array_efficiency


def energy_tech(acc: Accelerator) -> TechTable:
    """The energy model's tech table for this accelerator (without the PPA-only keys)."""
    tech = {k: v for k, v in (acc.tech or {}).items() if k not in PPA_TECH_KEYS}
    return TechTable.load(tech, f"accelerator {acc.name!r}.tech")


def component_ppa(kind: PEKind, num_pes: int, l1_bytes: float, l2_bytes: float, params: Mapping[str, float],
                  tech: TechTable, word_bits: int = 32) -> PPA:
    """The component model for one design point (see module docstring)."""
    lanes = kind.lanes
    logic_leak = params["logic_leakage_mw_per_um2"]
    area = {
        "mac": num_pes * lanes * kind.mac_area_um2,
        "pe_overhead": num_pes * params["pe_overhead_area_um2"],
        "l1": num_pes * sram_area_um2(l1_bytes, params["sram_cell_area_um2"], params["l1_array_efficiency"]),
        "l2": sram_area_um2(l2_bytes, params["sram_cell_area_um2"], params["l2_array_efficiency"]),
    }
    sram_leak = params["sram_leakage_mw_per_bit"]
    leakage = {
        "mac": num_pes * lanes * kind.mac_leakage_mw,
        "pe_overhead": area["pe_overhead"] * logic_leak,
        "l1": num_pes * l1_bytes * 8.0 * sram_leak,
        "l2": l2_bytes * 8.0 * sram_leak,
    }
    mhz_to_mw = kind.clock_mhz * 1e-3  # pJ per cycle x MHz = uW; x 1e-3 = mW
    l1_pj = sum(tech.sram.access_pj(l1_bytes, word_bits)) / 2.0
    l2_pj = sum(tech.sram.access_pj(l2_bytes, word_bits)) / 2.0
    dynamic = {
        "mac": num_pes * lanes * kind.dynamic_power_mw(tech.mac_pj(kind.mac_energy_key), params["mac_activity"]),
        "pe_overhead": 0.0,
        "l1": num_pes * params["l1_accesses_per_pe_cycle"] * l1_pj * mhz_to_mw,
        "l2": params["l2_accesses_per_cycle"] * l2_pj * mhz_to_mw,
    }
    return PPA(kind.name, kind.clock_mhz, area, leakage, dynamic, "component", dict(kind.sources))


def accelerator_ppa(acc: Accelerator, pe_kind: str | None = None) -> PPA:
    """Area and peak power of ``acc`` built from ``pe_kind`` (default ``acc.pe_kind``)."""
    kind = accelerator_pe_kind(acc, pe_kind)
    tech = acc.tech or {}
    model_path = tech.get("ppa_model")
    if model_path:
        from .fit_ppa import PPAModelFile  # the fitted-model format lives with the fit
        return PPAModelFile.load(model_path).ppa(acc, kind)
    params = component_params(tech.get("pe_kinds_file"), tech.get("ppa"))
    return component_ppa(kind, acc.num_pes, acc.l1_bytes, acc.l2_bytes, params, energy_tech(acc), acc.word_bits)


def performance_per_area(latency_s: float, area_mm2: float) -> float:
    """QUIDAM's figure of merit: inferences per second per mm^2."""
    if latency_s <= 0 or area_mm2 <= 0:
        raise InputError("latency and area must be > 0 for performance per area", "ppa",
                         "check the evaluation and the area model")
    return 1.0 / latency_s / area_mm2


def static_energy_nj(ppa: PPA, latency_s: float) -> float:
    """Leakage energy over a run (mW x s = mJ -> nJ), which a slow design pays on top of its activity."""
    return ppa.leakage_total_mw * latency_s * 1e6


def describe_sources(path: str | Path | None = None) -> dict[str, str]:
    """Component parameter -> source, for reports and docs."""
    return component_sources(path)
