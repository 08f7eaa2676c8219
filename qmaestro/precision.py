"""Number formats and per-layer precision (weights, activations, outputs).

A PE has a 32-bit lane that splits into P = 32 // widest-operand-bits functional units (FUs).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from .errors import PrecisionError

LANE_BITS = 32

#: number-format kinds: integer, floating point, and QUIDAM's shift-based light PEs
KINDS = ("int", "fp", "lightpe1", "lightpe2")
SUPPORTED_BITS = {"int": (2, 4, 8, 16, 32), "fp": (4, 8, 16, 32)}
#: light PEs: weights are powers of two (lightpe1: one, 4-bit code; lightpe2: sum of two, 8-bit code)
LIGHTPE_WEIGHT_BITS = {"lightpe1": 4, "lightpe2": 8}
LIGHTPE_ACTIVATION_BITS = 8

_NAME = re.compile(r"^(int|fp|float|lightpe)(\d+)$")
_SHORT_INT = re.compile(r"^w(\d+)a(\d+)(?:o(\d+))?$")
_SHORT_ROLES = {"w": "weights", "a": "activations", "o": "outputs"}


def _short_name_spec(text: str) -> dict[str, str] | None:
    """{weights, activations[, outputs]} for a short mixed name ('w4a8', 'w:fp16/a:int8'), else None."""
    t = text.strip().lower()
    m = _SHORT_INT.match(t)
    if m:
        spec = {"weights": f"int{m.group(1)}", "activations": f"int{m.group(2)}"}
        if m.group(3):
            spec["outputs"] = f"int{m.group(3)}"
        return spec
    parts = [p.split(":", 1) for p in t.split("/")] if ":" in t else []
    if parts and all(len(p) == 2 and p[0] in _SHORT_ROLES for p in parts):
        return {_SHORT_ROLES[role]: fmt for role, fmt in parts}
    return None


@dataclass(frozen=True, order=True)
class NumberFormat:
    """One operand's format, e.g. int8 or fp16; lightpe1/lightpe2 for shift-coded weights."""

    kind: str
    bits: int

    def __post_init__(self) -> None:
        if self.kind in LIGHTPE_WEIGHT_BITS:
            return
        if self.kind not in SUPPORTED_BITS:
            raise PrecisionError(f"unknown number format kind {self.kind!r}", fix=f"use one of {', '.join(KINDS)}")
        if self.bits not in SUPPORTED_BITS[self.kind]:
            allowed = ", ".join(f"{self.kind}{b}" for b in SUPPORTED_BITS[self.kind])
            raise PrecisionError(f"unsupported precision {self.kind}{self.bits}", fix=f"use one of {allowed}")

    @property
    def name(self) -> str:
        return self.kind if self.kind in LIGHTPE_WEIGHT_BITS else f"{self.kind}{self.bits}"

    def __str__(self) -> str:
        return self.name

    @classmethod
    def parse(cls, text: Any, where: str | None = None) -> "NumberFormat":
        if isinstance(text, NumberFormat):
            return text
        if not isinstance(text, str):
            raise PrecisionError(f"precision must be a string such as 'int8', got {text!r}", where,
                                 "write e.g. int8, int4, fp16 or fp32")
        t = text.strip().lower()
        if t in LIGHTPE_WEIGHT_BITS:
            return cls(t, LIGHTPE_WEIGHT_BITS[t])
        m = _NAME.match(t)
        if not m:
            raise PrecisionError(f"unknown precision {text!r}", where,
                                 "write e.g. int8, int4, int16, fp16, fp32, lightpe1 or lightpe2")
        kind = {"float": "fp", "lightpe": "lightpe"}.get(m.group(1), m.group(1))
        if kind == "lightpe":
            raise PrecisionError(f"unknown precision {text!r}", where, "write lightpe1 or lightpe2")
        try:
            return cls(kind, int(m.group(2)))
        except PrecisionError as err:
            raise PrecisionError(err.what, where, err.fix) from None


@dataclass(frozen=True)
class Precision:
    """Formats of a layer's weights, input activations and outputs (outputs default to activations)."""

    weights: NumberFormat
    activations: NumberFormat
    outputs: NumberFormat

    @property
    def widest_bits(self) -> int:
        return max(self.weights.bits, self.activations.bits, self.outputs.bits)

    @property
    def lanes(self) -> int:
        """P: functional units per PE for this precision (1 at 32 bits)."""
        return max(1, LANE_BITS // self.widest_bits)

    @property
    def is_32bit(self) -> bool:
        return self.lanes == 1

    @property
    def pe_kind(self) -> str:
        """The PE kind that executes this precision (QUIDAM naming)."""
        w, a = self.weights, self.activations
        if w.kind in LIGHTPE_WEIGHT_BITS:
            return w.kind
        if w.kind == "fp" or a.kind == "fp":
            return f"fp{max(w.bits, a.bits)}"
        return f"int{max(w.bits, a.bits)}"

    @property
    def name(self) -> str:
        if self.weights == self.activations == self.outputs:
            return self.weights.name
        if self.weights.kind in LIGHTPE_WEIGHT_BITS and self.activations.bits == LIGHTPE_ACTIVATION_BITS \
                and self.outputs == self.activations:
            return self.weights.kind
        fmts = [("w", self.weights), ("a", self.activations)]
        if self.outputs != self.activations:
            fmts.append(("o", self.outputs))
        if all(f.kind == "int" for _, f in fmts):
            return "".join(f"{tag}{f.bits}" for tag, f in fmts)  # e.g. w4a8
        return "/".join(f"{tag}:{f.name}" for tag, f in fmts)  # e.g. w:fp16/a:int8

    def __str__(self) -> str:
        return self.name

    def to_yaml(self) -> Any:
        if self.weights == self.activations == self.outputs:
            return self.weights.name
        d = {"weights": self.weights.name, "activations": self.activations.name}
        if self.outputs != self.activations:
            d["outputs"] = self.outputs.name
        return d

    @classmethod
    def uniform(cls, name: str) -> "Precision":
        return cls.parse(name)

    @classmethod
    def parse(cls, spec: Any, where: str | None = None) -> "Precision":
        """Accept 'int8', 'lightpe1', or {weights: int4, activations: int8[, outputs: ...]}."""
        if isinstance(spec, Precision):
            return spec
        if spec is None:
            spec = "fp32"
        if isinstance(spec, str):
            short = _short_name_spec(spec)
            if short is not None:  # the forms `name` prints: w4a8, w4a8o16, w:fp16/a:int8[/o:int16]
                return cls.parse(short, where)
            fmt = NumberFormat.parse(spec, where)
            if fmt.kind in LIGHTPE_WEIGHT_BITS:
                act = NumberFormat("int", LIGHTPE_ACTIVATION_BITS)
                return cls(fmt, act, act)
            return cls(fmt, fmt, fmt)
        if isinstance(spec, Mapping):
            unknown = set(spec) - {"weights", "activations", "outputs"}
            if unknown:
                raise PrecisionError(f"unknown precision field(s) {sorted(unknown)}", where,
                                     "use the keys weights, activations and outputs")
            if "weights" not in spec or "activations" not in spec:
                raise PrecisionError("a precision mapping needs both 'weights' and 'activations'", where,
                                     "write e.g. {weights: int4, activations: int8}")
            w = NumberFormat.parse(spec["weights"], where and f"{where}.weights")
            a = NumberFormat.parse(spec["activations"], where and f"{where}.activations")
            if a.kind in LIGHTPE_WEIGHT_BITS:
                raise PrecisionError("lightpe formats describe weights only", where,
                                     "use lightpe1/lightpe2 for weights and int8 for activations")
            o = NumberFormat.parse(spec["outputs"], where and f"{where}.outputs") if "outputs" in spec else a
            return cls(w, a, o)
        raise PrecisionError(f"cannot read precision {spec!r}", where,
                             "write a name such as int8 or a mapping {weights: int4, activations: int8}")


FP32 = Precision.parse("fp32")
