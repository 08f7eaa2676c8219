"""The accelerator: PE array, scratchpads, NoC and the technology table it is costed with."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import InputError
from .precision import NumberFormat
from .yamlio import load_yaml

BUILTIN_DIR = Path(__file__).parent / "accelerators"


@dataclass(frozen=True)
class Accelerator:
    """Sizes are bytes (L1 is per PE); bandwidths are elements per cycle as in MAESTRO."""

    name: str
    num_pes: int
    l1_bytes: int
    l2_bytes: int
    noc_bw: int = 81920000
    offchip_bw: int = 81920000
    noc_hops: int = 1
    noc_hop_latency: int = 1
    multicast: bool = True
    simd_lanes: int = 1
    lane_bits: int = 32
    word_bits: int = 32
    precisions: tuple[str, ...] = ("fp32", "fp16", "int16", "int8", "int4")
    pe_kind: str | None = None
    tech: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = f"accelerator {self.name!r}"
        for n in ("num_pes", "l1_bytes", "l2_bytes", "noc_bw", "offchip_bw", "noc_hops", "simd_lanes",
                  "lane_bits", "word_bits"):
            v = getattr(self, n)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InputError(f"{n} must be a positive integer, got {v!r}", f"{where}.{n}",
                                 "give a whole number >= 1")
        if isinstance(self.noc_hop_latency, bool) or not isinstance(self.noc_hop_latency, int) \
                or self.noc_hop_latency < 0:
            raise InputError(f"noc_hop_latency must be an integer >= 0, got {self.noc_hop_latency!r}",
                             f"{where}.noc_hop_latency", "give a whole number of cycles")
        for p in self.precisions:
            NumberFormat.parse(p, f"{where}.precisions")

    @property
    def noc_latency(self) -> int:
        """MAESTRO's CLI path: NoC latency = hops x latency per hop."""
        return self.noc_hops * self.noc_hop_latency

    def supports(self, fmt: NumberFormat) -> bool:
        return fmt.name in self.precisions

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in ("name", "num_pes", "l1_bytes", "l2_bytes", "noc_bw", "offchip_bw",
                                           "noc_hops", "noc_hop_latency", "multicast", "simd_lanes",
                                           "lane_bits", "word_bits")}
        d["precisions"] = list(self.precisions)
        if self.pe_kind:
            d["pe_kind"] = self.pe_kind
        if self.tech:
            d["tech"] = dict(self.tech)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "accelerator") -> "Accelerator":
        if not isinstance(d, Mapping):
            raise InputError("an accelerator must be a mapping of fields", where, "see qmaestro/accelerators/edge16.yaml")
        allowed = set(cls.__dataclass_fields__) | {"description", "source"}
        unknown = sorted(set(d) - allowed)
        if unknown:
            raise InputError(f"unknown field(s) {unknown}", where,
                             f"accelerator fields are {', '.join(sorted(cls.__dataclass_fields__))}")
        for req in ("num_pes", "l1_bytes", "l2_bytes"):
            if req not in d:
                raise InputError(f"missing field {req}", where, f"add {req}: <number>")
        kw = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        kw.setdefault("name", Path(where).stem if where.endswith((".yaml", ".yml")) else "custom")
        if "precisions" in kw:
            precs = kw["precisions"]
            if not isinstance(precs, (list, tuple)):
                precs = [precs]  # `precisions: int8` means one precision, not the characters of 'int8'
            kw["precisions"] = tuple(str(p).lower() for p in precs)
        if "tech" in kw and not isinstance(kw["tech"], Mapping):
            raise InputError("tech must be a mapping of overrides", f"{where}.tech", "see qmaestro/data/tech.yaml")
        return cls(**kw)

    @classmethod
    def load(cls, name_or_path: str | Path) -> "Accelerator":
        """A bundled accelerator by name (e.g. edge16) or any YAML file path."""
        p = Path(name_or_path)
        if not p.suffix and not p.exists():
            p = BUILTIN_DIR / f"{name_or_path}.yaml"
            if not p.exists():
                names = ", ".join(sorted(builtin_names()))
                raise InputError(f"unknown accelerator {name_or_path!r}", "--accelerator",
                                 f"use one of {names} or a path to a YAML file")
        return cls.from_dict(load_yaml(p), str(p))


def builtin_names() -> list[str]:
    return sorted(f.stem for f in BUILTIN_DIR.glob("*.yaml"))
