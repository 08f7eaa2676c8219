"""PE kinds: the arithmetic a processing element is built from, with its area, leakage and clock.

A PE kind (QUIDAM's FP32 / INT16 / LightPE-1 / LightPE-2, plus the other formats our precisions support)
fixes the precision a PE runs, the MAC energy the energy model charges (a key into tech.yaml), the area and
leakage of one MAC unit and the clock. The clock is what turns the cost model's cycles into seconds, and it
differs between kinds, which is why a narrower, simpler PE wins more than its cycle count shows.

Defaults live in data/pe_kinds.yaml with a source for every value; users override any value through a user
YAML of the same shape or through an accelerator's ``tech: {pe_kinds: {<kind>: {<field>: value}}}``.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from .errors import InputError
from .precision import Precision
from .yamlio import load_yaml

DEFAULT_PATH = Path(__file__).parent / "data" / "pe_kinds.yaml"
PE_KIND_FIELDS = ("precision", "mac_energy_key", "mac_area_um2", "mac_leakage_mw", "clock_mhz")
OPTIONAL_FIELDS = ("mac_dynamic_mw",)
NUMERIC_FIELDS = ("mac_area_um2", "mac_leakage_mw", "clock_mhz", "mac_dynamic_mw")


@dataclass(frozen=True)
class PEKind:
    """One PE kind. Per-MAC-unit values; a PE holds ``lanes`` MAC units (P = 32 // widest bits)."""

    name: str
    precision: Precision
    mac_energy_key: str
    mac_area_um2: float
    mac_leakage_mw: float
    clock_mhz: float
    #: explicit dynamic power of one busy MAC unit (e.g. from synthesis); None = tech.yaml energy x clock
    mac_dynamic_mw: float | None = None
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def lanes(self) -> int:
        """MAC units (FUs) per PE, the same P the cost model uses for this precision."""
        return self.precision.lanes

    @property
    def clock_hz(self) -> float:
        return self.clock_mhz * 1e6

    def seconds(self, cycles: float) -> float:
        """Wall time of ``cycles`` clock cycles on this PE kind."""
        return float(cycles) / self.clock_hz

    def dynamic_power_mw(self, mac_energy_pj: float, activity: float = 1.0) -> float:
        """Dynamic power of one MAC unit doing ``activity`` MACs per cycle (pJ x MHz = uW)."""
        if self.mac_dynamic_mw is not None:
            return self.mac_dynamic_mw * activity
        return mac_energy_pj * self.clock_mhz * activity * 1e-3


def _value(entry: Any) -> Any:
    """Accept both ``{value: v, source: s}`` and a bare value (handy in overrides)."""
    return entry["value"] if isinstance(entry, Mapping) and "value" in entry else entry


def _source(entry: Any, default: str) -> str:
    return str(entry.get("source", default)) if isinstance(entry, Mapping) else default


def _number(v: Any, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
        raise InputError(f"must be a number >= 0, got {v!r}", where, "give a plain number in the unit of the field name")
    return float(v)


def _build(name: str, fields: Mapping[str, Any], where: str) -> PEKind:
    if not isinstance(fields, Mapping):
        raise InputError(f"PE kind {name!r} must be a mapping of fields", where, f"give {', '.join(PE_KIND_FIELDS)}")
    unknown = sorted(set(fields) - set(PE_KIND_FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        raise InputError(f"unknown PE-kind field(s) {unknown}", where,
                         f"fields are {', '.join(PE_KIND_FIELDS + OPTIONAL_FIELDS)}")
    missing = [f for f in PE_KIND_FIELDS if f not in fields]
    if missing:
        raise InputError(f"PE kind {name!r} lacks {missing}", where, "give every field (see qmaestro/data/pe_kinds.yaml)")
    vals = {k: _value(v) for k, v in fields.items()}
    for k in NUMERIC_FIELDS:
        if k in vals and vals[k] is not None:
            vals[k] = _number(vals[k], f"{where}.{k}")
    if vals["clock_mhz"] <= 0:
        raise InputError("clock_mhz must be > 0", f"{where}.clock_mhz", "give the clock in MHz")
    sources = {k: _source(v, "user override") for k, v in fields.items()}
    return PEKind(name=name, precision=Precision.parse(vals["precision"], f"{where}.precision"),
                  mac_energy_key=str(vals["mac_energy_key"]), mac_area_um2=vals["mac_area_um2"],
                  mac_leakage_mw=vals["mac_leakage_mw"], clock_mhz=vals["clock_mhz"],
                  mac_dynamic_mw=vals.get("mac_dynamic_mw"), sources=sources)


def _merge(base: Mapping[str, Any], over: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Field-wise merge of PE-kind tables (a new kind must be complete; an old one may change any field)."""
    if not isinstance(over, Mapping):
        raise InputError("pe_kinds must be a mapping kind -> fields", where, "see qmaestro/data/pe_kinds.yaml")
    out = {k: dict(v) for k, v in base.items()}
    for name, fields in over.items():
        if not isinstance(fields, Mapping):
            raise InputError(f"PE kind {name!r} must be a mapping of fields", f"{where}.{name}",
                             "write e.g. int16: {clock_mhz: 300}")
        out.setdefault(str(name).lower(), {}).update(fields)
    return out


@lru_cache(maxsize=1)
def _default_data() -> dict[str, Any]:
    """The bundled table, parsed once per process (callers get deep copies)."""
    return load_yaml(DEFAULT_PATH)


def _raw_table(path: str | Path | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(pe_kinds, components) raw tables: bundled defaults, then a user file merged over them."""
    data = _default_data()
    kinds, comps = copy.deepcopy(data["pe_kinds"]), copy.deepcopy(data["components"])
    if path is not None:
        user = load_yaml(path)
        if not isinstance(user, Mapping) or not ({"pe_kinds", "components"} & set(user)):
            raise InputError("a PE-kind file needs a 'pe_kinds' and/or 'components' section", str(path),
                             "copy the shape of qmaestro/data/pe_kinds.yaml")
        kinds = _merge(kinds, user.get("pe_kinds") or {}, f"{path}.pe_kinds")
        comps.update(user.get("components") or {})
    return kinds, comps


def load_pe_kinds(path: str | Path | None = None, overrides: Mapping[str, Any] | None = None) -> dict[str, PEKind]:
    """Every PE kind: bundled defaults, then ``path`` (a user YAML), then ``overrides`` (kind -> fields)."""
    kinds, _ = _raw_table(path)
    if overrides:
        kinds = _merge(kinds, overrides, "tech.pe_kinds")
    return {name: _build(name, fields, f"pe_kinds.{name}") for name, fields in kinds.items()}


def component_params(path: str | Path | None = None, overrides: Mapping[str, Any] | None = None) -> dict[str, float]:
    """Accelerator-level component parameters (SRAM cell area, leakage densities, ...) as plain numbers."""
    _, comps = _raw_table(path)
    merged = dict(comps)
    if overrides:
        unknown = sorted(set(overrides) - set(comps))
        if unknown:
            raise InputError(f"unknown PPA component parameter(s) {unknown}", "tech.ppa",
                             f"parameters are {', '.join(sorted(comps))}")
        merged.update(overrides)
    return {k: _number(_value(v), f"components.{k}") for k, v in merged.items()}


def component_sources(path: str | Path | None = None) -> dict[str, str]:
    _, comps = _raw_table(path)
    return {k: _source(v, "user file") for k, v in comps.items()}


def get_pe_kind(name: str, path: str | Path | None = None, overrides: Mapping[str, Any] | None = None) -> PEKind:
    """One PE kind by name (case-insensitive), with a one-line error listing the known kinds."""
    kinds = load_pe_kinds(path, overrides)
    key = str(name).strip().lower()
    if key not in kinds:
        raise InputError(f"unknown PE kind {name!r}", "pe_kind", f"use one of {', '.join(kinds)}")
    return kinds[key]


def accelerator_pe_kind(acc: Any, name: str | None = None) -> PEKind:
    """The PE kind an accelerator is built from: ``name``, else ``acc.pe_kind``; ``acc.tech`` overrides apply."""
    chosen = name or getattr(acc, "pe_kind", None)
    if not chosen:
        raise InputError("the accelerator names no pe_kind", f"accelerator {acc.name!r}",
                         "add pe_kind: int16 (or fp32, int8, lightpe1, ...) to the accelerator YAML")
    tech = getattr(acc, "tech", None) or {}
    return get_pe_kind(chosen, tech.get("pe_kinds_file"), tech.get("pe_kinds"))


def pe_kind_for_precision(precision: Any) -> str:
    """The PE kind that runs a precision (QUIDAM naming, from precision.py)."""
    return Precision.parse(precision).pe_kind
