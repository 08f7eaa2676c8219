"""The layer: one CONV, DSCONV (depthwise) or GEMM with its shape and precision."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from .errors import InputError
from .precision import FP32, Precision

LAYER_TYPES = ("CONV", "DSCONV", "GEMM")
CONV_DIMS = ("K", "C", "R", "S", "Y", "X")
GEMM_DIMS = ("M", "N", "K")


@dataclass(frozen=True)
class Layer:
    """A layer as MAESTRO sees it. Y/X are input sizes with padding already folded in.

    GEMM layers use M, N and K (input M x K, weight K x N, output M x N); their conv fields stay 1.
    DSCONV layers have no K (it is 1, as in MAESTRO's model files).
    """

    name: str
    type: str = "CONV"
    K: int = 1
    C: int = 1
    R: int = 1
    S: int = 1
    Y: int = 1
    X: int = 1
    stride_y: int = 1
    stride_x: int = 1
    M: int = 1
    N: int = 1
    precision: Precision = field(default=FP32)

    def __post_init__(self) -> None:
        where = f"layer {self.name!r}"
        if not isinstance(self.precision, Precision):  # accept 'int8' or {weights: .., activations: ..}
            object.__setattr__(self, "precision", Precision.parse(self.precision, f"{where}.precision"))
        if self.type not in LAYER_TYPES:
            raise InputError(f"unknown layer type {self.type!r}", where, f"use one of {', '.join(LAYER_TYPES)}")
        names = GEMM_DIMS if self.type == "GEMM" else CONV_DIMS + ("stride_y", "stride_x")
        for n in names:
            v = getattr(self, n)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InputError(f"{n} must be a positive integer, got {v!r}", f"{where}.{n}",
                                 "give sizes as whole numbers >= 1")
        if self.type != "GEMM":
            if self.R > self.Y or self.S > self.X:
                raise InputError(f"filter {self.R}x{self.S} is larger than the input {self.Y}x{self.X}", where,
                                 "Y/X are input sizes including padding; add the padding to Y and X")
        if self.type == "DSCONV" and self.K != 1:
            object.__setattr__(self, "K", 1)

    # ---- derived shapes -------------------------------------------------------------------
    @property
    def out_y(self) -> int:
        return (self.Y - self.R) // self.stride_y + 1

    @property
    def out_x(self) -> int:
        return (self.X - self.S) // self.stride_x + 1

    @property
    def num_macs(self) -> int:
        if self.type == "GEMM":
            return self.M * self.N * self.K
        macs = self.C * self.R * self.S * self.out_y * self.out_x
        return macs if self.type == "DSCONV" else macs * self.K

    def dimensions(self) -> dict[str, int]:
        """MAESTRO's dimension table for this layer, in declaration order."""
        if self.type == "GEMM":
            return {"M": self.M, "N": self.N, "K": self.K}
        return {d: getattr(self, d) for d in CONV_DIMS}

    def with_precision(self, precision: Any) -> "Layer":
        return replace(self, precision=Precision.parse(precision, f"layer {self.name!r}.precision"))

    # ---- (de)serialisation ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.type == "GEMM":
            d.update(M=self.M, N=self.N, K=self.K)
        else:
            d.update({k: getattr(self, k) for k in CONV_DIMS})
            if self.type == "DSCONV":
                del d["K"]
            d["stride"] = self.stride_y if self.stride_y == self.stride_x else [self.stride_y, self.stride_x]
        d["precision"] = self.precision.to_yaml()
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "layer", default_precision: Any = None) -> "Layer":
        if not isinstance(d, Mapping):
            raise InputError(f"a layer must be a mapping of fields, got {type(d).__name__}", where,
                             "write name, type, K, C, R, S, Y, X, stride, precision")
        name = d.get("name")
        if not isinstance(name, str) or not name:
            raise InputError("layer has no name", f"{where}.name", "add name: <text>")
        where = f"{where} {name!r}"
        typ = str(d.get("type", "CONV")).upper()
        allowed = {"name", "type", "precision", "stride", "stride_y", "stride_x", "K", "C", "R", "S", "Y", "X",
                   "M", "N", "padding", "groups", "note"}
        unknown = sorted(set(d) - allowed)
        if unknown:
            raise InputError(f"unknown field(s) {unknown}", where,
                             "layer fields are name, type, K, C, R, S, Y, X, stride, precision (GEMM: M, N, K)")
        prec = Precision.parse(d.get("precision", default_precision), f"{where}.precision")
        kw: dict[str, Any] = {"name": name, "type": typ, "precision": prec}
        if typ == "GEMM":
            for k in GEMM_DIMS:
                if k not in d:
                    raise InputError(f"GEMM layer needs {k}", f"{where}.{k}", "give M, N and K")
                kw[k] = d[k]
        else:
            need = [k for k in CONV_DIMS if k not in d and not (k == "K" and typ == "DSCONV")]
            if need:
                raise InputError(f"missing dimension(s) {need}", where, "give K, C, R, S, Y, X (input sizes)")
            for k in CONV_DIMS:
                if k in d:
                    kw[k] = d[k]
            stride = d.get("stride", 1)
            if isinstance(stride, (list, tuple)) and len(stride) != 2:
                raise InputError(f"stride must be one number or [stride_y, stride_x], got {stride!r}",
                                 f"{where}.stride", "write stride: 2 or stride: [2, 1]")
            sy, sx = (stride, stride) if not isinstance(stride, (list, tuple)) else tuple(stride)
            if d.get("padding", 0) not in (0, [0, 0], (0, 0)):
                raise InputError(f"padding {d['padding']!r} is not applied: Y/X are input sizes including padding",
                                 f"{where}.padding", "add the padding to Y and X (Y + 2 x padding) and remove padding")
            if typ == "CONV" and d.get("groups", 1) != 1:
                raise InputError(f"grouped convolution (groups: {d['groups']!r}) is not modelled",
                                 f"{where}.groups", "use type: DSCONV for depthwise layers, or split the groups")
            kw["stride_y"] = d.get("stride_y", sy)
            kw["stride_x"] = d.get("stride_x", sx)
        return cls(**kw)
