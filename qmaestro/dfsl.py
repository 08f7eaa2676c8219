"""MAESTRO's DFSL: read and write `Dataflow { ... }` blocks and whole `.m` model files.

Reading follows what MAESTRO's own parser accepts (punctuation `( ) , : ;` is a separator, `//` starts a
comment, `Constant NAME value` declarations, `Sz(D)` = the size of dimension D) and rejects what it rejects
(sizes < 1, `Sz()` of an unknown dimension, layer types it cannot analyse, a partial TemporalMap on R/S),
plus a few things MAESTRO only trips over later (directives on dimensions the layer does not have, a
missing or empty Dataflow block). Every rejection is a `DFSLError` naming file:line, the token and a fix.

Structural rules of a mapping (a spatial map per level, cluster sizes against PEs, ...) are *not* checked
here: `qmaestro.analysis` checks those so that mappings built in Python get the same verdicts.

Extensions over MAESTRO (documented so files stay portable):
- `Sz(Y')` / `Sz(X')` give the output height / width.
- `Precision { INT8 }` (qMaestro, after Type) or `Precision: { INT8 }` (qGamma, after Dimensions); mixed
  precisions are written `Precision { weights: INT4, activations: INT8 }` (qmaestro only).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from .errors import DFSLError, InputError
from .layer import CONV_DIMS, Layer
from .mapping import Cluster, Directive, Map, Mapping
from .precision import FP32, Precision

#: layer types MAESTRO's parser knows but whose analysis we (and MAESTRO) do not support
UNSUPPORTED_TYPES = ("FC", "POOL", "LSTM", "RESIDUAL_IDENTITY", "TRCONV", "NGCONV")
SUPPORTED_TYPES = ("CONV", "DSCONV", "GEMM")
#: characters MAESTRO's tokenizer treats as separators; names we write must avoid them
_SEPARATORS = " ,->():\t;{}"
_TOKEN = re.compile(r"[{}]|[^\s{}(),:;]+")
_INT = re.compile(r"^[+-]?\d+$")


# ---- tokens -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Token:
    text: str
    line: int


class _Tokens:
    """A token stream with one-token look-ahead; knows the source label for error messages."""

    def __init__(self, toks: list[_Token], source: str, last_line: int):
        self.source = source
        self._toks = toks
        self._pos = 0
        self._last_line = last_line

    @classmethod
    def of_text(cls, text: str, source: str, first_line: int = 1) -> "_Tokens":
        return cls(list(_tokenize(text, first_line)), source, first_line + max(0, len(text.splitlines()) - 1))

    def peek(self) -> _Token | None:
        return self._toks[self._pos] if self._pos < len(self._toks) else None

    def next(self, expecting: str) -> _Token:
        tok = self.peek()
        if tok is None:
            raise DFSLError(f"text ends where {expecting} was expected", self.at(None),
                            f"add {expecting} (check that every '{{' has its '}}')")
        self._pos += 1
        return tok

    def expect(self, text: str, context: str) -> _Token:
        tok = self.next(f"'{text}'")
        if tok.text != text:
            raise DFSLError(f"expected '{text}' after {context}, got {tok.text!r}", self.at(tok),
                            f"write {context} {text} ...")
        return tok

    def at(self, tok: _Token | None) -> str:
        return f"{self.source}:{tok.line if tok is not None else self._last_line}"


def _tokenize(text: str, first_line: int) -> Iterator[_Token]:
    for n, line in enumerate(text.splitlines(), start=first_line):
        line = line.split("//", 1)[0]
        for m in _TOKEN.finditer(line):
            yield _Token(m.group(0), n)


# ---- numbers and sizes --------------------------------------------------------------------------------
def _integer(tok: _Token, ts: _Tokens, what: str, constants: dict[str, int]) -> int:
    if tok.text in constants:
        return constants[tok.text]
    if not _INT.match(tok.text):
        raise DFSLError(f"{what} must be a whole number, got {tok.text!r}", ts.at(tok),
                        f"write a positive integer{' or Sz(<dim>)' if 'tile' in what or 'cluster' in what else ''}")
    return int(tok.text)


def _positive(value: int, tok: _Token, ts: _Tokens, what: str) -> int:
    if value < 1:
        shown = repr(tok.text) if tok.text == str(value) else f"{tok.text!r} = {value}"
        raise DFSLError(f"{what} must be >= 1, got {shown}", ts.at(tok),
                        "sizes, offsets and strides count at least one element; use 1 or Sz(<dim>)")
    return value


def _size(ts: _Tokens, what: str, sizes: dict[str, int], constants: dict[str, int]) -> int:
    """A directive argument: an integer, a Constant name, or `Sz(D)`."""
    tok = ts.next(what)
    if tok.text == "Sz":
        dim = ts.next("a dimension name inside Sz( )")
        if dim.text not in sizes:
            raise DFSLError(f"Sz({dim.text}) names a dimension the layer does not have", ts.at(dim),
                            f"use one of {', '.join(f'Sz({d})' for d in sizes)}")
        return sizes[dim.text]
    return _positive(_integer(tok, ts, what, constants), tok, ts, what)


# ---- the Dataflow block --------------------------------------------------------------------------------
def directive_dims(layer: Layer) -> tuple[str, ...]:
    """Dimension names a directive may name for this layer (CONV/DSCONV add output-centric Y', X')."""
    if layer.type == "GEMM":
        return tuple(layer.dimensions())
    return tuple(layer.dimensions()) + ("Y'", "X'")


def _size_table(layer: Layer, declared: dict[str, int] | None = None) -> dict[str, int]:
    sizes = dict(declared) if declared else dict(layer.dimensions())
    if layer.type != "GEMM":
        sizes.setdefault("Y'", layer.out_y)
        sizes.setdefault("X'", layer.out_x)
    return sizes


def _parse_directives(ts: _Tokens, layer: Layer, sizes: dict[str, int], constants: dict[str, int],
                      stop_at_brace: bool) -> list[Directive]:
    allowed = directive_dims(layer)
    out: list[Directive] = []
    while True:
        tok = ts.peek()
        if tok is None:
            if stop_at_brace:
                ts.next("'}' closing the Dataflow block")
            return out
        if tok.text == "}" and stop_at_brace:
            return out
        ts.next("a directive")
        if tok.text in ("TemporalMap", "SpatialMap"):
            size = _size(ts, f"{tok.text} tile size", sizes, constants)
            offset = _size(ts, f"{tok.text} offset", sizes, constants)
            dim = ts.next(f"the dimension of {tok.text}")
            if dim.text not in allowed:
                raise DFSLError(f"{tok.text} names dimension {dim.text!r}, which {layer.type} layer "
                                f"{layer.name!r} does not have", ts.at(dim), f"use one of {', '.join(allowed)}")
            spatial = tok.text == "SpatialMap"
            if not spatial and dim.text in ("R", "S") and dim.text in sizes:
                full = sizes[dim.text]
                if size != offset:
                    raise DFSLError(f"Tile size of {dim.text}({size}) should be equal to tile offset of "
                                    f"{dim.text}({offset})", ts.at(dim),
                                    f"write TemporalMap(Sz({dim.text}),Sz({dim.text})) {dim.text}")
                if size != full:
                    raise DFSLError(f"Tile size of {dim.text}({size}) should be equal to dimension size of "
                                    f"{dim.text}({full})", ts.at(dim),
                                    f"MAESTRO maps R/S temporally only whole: write "
                                    f"TemporalMap(Sz({dim.text}),Sz({dim.text})) {dim.text}")
            out.append(Map(spatial, dim.text, size, offset))
        elif tok.text == "Cluster":
            size = _size(ts, "cluster size", sizes, constants)
            kind = ts.next("the cluster type P or L")
            if kind.text not in ("P", "L"):
                raise DFSLError(f"cluster type must be P or L, got {kind.text!r}", ts.at(kind),
                                f"write Cluster({size},P)")
            out.append(Cluster(size, kind.text == "P"))
        else:
            raise DFSLError(f"unknown directive {tok.text!r}", ts.at(tok),
                            "a Dataflow block holds TemporalMap(size,offset) D; SpatialMap(size,offset) D; "
                            "and Cluster(size,P);")


def parse_dataflow(text: str, layer: Layer, where: str | None = None, first_line: int = 1) -> Mapping:
    """The directives of `text` (the inside of `Dataflow { }`, or the whole block) as a Mapping.

    `where` labels the source in errors (a file name); `first_line` is the line number of the text's
    first line in that source.
    """
    ts = _Tokens.of_text(text, where or "mapping", first_line)
    first = ts.peek()
    wrapped = first is not None and first.text == "Dataflow"
    if wrapped:
        ts.next("Dataflow")
        ts.expect("{", "Dataflow")
    dirs = _parse_directives(ts, layer, _size_table(layer), {}, stop_at_brace=wrapped)
    if wrapped:
        ts.expect("}", "the directives")
        extra = ts.peek()
        if extra is not None:
            raise DFSLError(f"unexpected {extra.text!r} after the Dataflow block", ts.at(extra),
                            "give one Dataflow block only")
    if not dirs:
        raise DFSLError("the Dataflow block is empty", ts.at(first), "add at least one SpatialMap directive")
    return Mapping(dirs)


# ---- whole model files -----------------------------------------------------------------------------------
@dataclass
class _LayerDraft:
    """What a `Layer name { ... }` block has said so far."""

    name: str
    line: _Token
    type: str | None = None
    precision: Precision | None = None
    stride: dict[str, int] | None = None
    dims: dict[str, int] | None = None
    dataflow: _Tokens | None = None  # parsed once Dimensions are known


def _parse_precision(ts: _Tokens, opener: _Token) -> Precision:
    ts.expect("{", "Precision")
    words: list[_Token] = []
    while (tok := ts.next("'}' closing the Precision block")).text != "}":
        words.append(tok)
    spec: object
    if len(words) == 1:
        spec = words[0].text.lower()
    elif words and len(words) % 2 == 0:
        spec = {words[i].text.lower(): words[i + 1].text.lower() for i in range(0, len(words), 2)}
    else:
        raise DFSLError("cannot read the Precision block", ts.at(words[0] if words else opener),
                        "write Precision { INT8 } or Precision { weights: INT4, activations: INT8 }")
    try:
        return Precision.parse(spec)
    except InputError as err:
        raise DFSLError(err.what, ts.at(words[0]), err.fix) from None


def _parse_pairs(ts: _Tokens, block: str, constants: dict[str, int]) -> dict[str, tuple[int, _Token]]:
    ts.expect("{", block)
    out: dict[str, tuple[int, _Token]] = {}
    while (key := ts.next(f"'}}' closing the {block} block")).text != "}":
        val = ts.next(f"the value of {key.text} in {block}")
        if val.text == "}":
            raise DFSLError(f"{key.text} in {block} has no value", ts.at(val), f"write {block} {{ {key.text}: <n> }}")
        value = _positive(_integer(val, ts, f"{block} {key.text}", constants), val, ts, f"{block} {key.text}")
        if key.text in out and out[key.text][0] != value:  # MAESTRO tolerates a repeat (UNet_RS.m has N: 1, N: 1)
            raise DFSLError(f"{key.text} is given twice in {block} ({out[key.text][0]} and {value})", ts.at(key),
                            "give each entry once")
        out.setdefault(key.text, (value, key))
    return out


def _block_tokens(ts: _Tokens, context: str) -> _Tokens:
    """The tokens of a `{ ... }` block, to be parsed once the layer's dimensions are known."""
    ts.expect("{", context)
    toks: list[_Token] = []
    while (tok := ts.next(f"'}}' closing the {context} block")).text != "}":
        if tok.text == "{":
            raise DFSLError(f"unexpected '{{' inside the {context} block", ts.at(tok), "close the block with '}'")
        toks.append(tok)
    return _Tokens(toks, ts.source, tok.line)


def _build_layer(d: _LayerDraft, ts: _Tokens) -> tuple[Layer, dict[str, int]]:
    where = ts.at(d.line)
    if d.type is None:
        raise DFSLError(f"layer {d.name!r} has no Type", where, "add Type: CONV (or DSCONV, GEMM)")
    if d.dims is None:
        raise DFSLError(f"layer {d.name!r} has no Dimensions block", where,
                        "add Dimensions { K: .., C: .., R: .., S: .., Y: .., X: .. } (GEMM: K, M, N)")
    dims = d.dims
    if d.type == "GEMM":
        allowed, needed = ("M", "N", "K"), ("M", "N", "K")
    else:
        allowed = CONV_DIMS + ("N",)
        needed = tuple(k for k in CONV_DIMS if not (k == "K" and d.type == "DSCONV"))
    for name, (value, tok) in dims.items():
        if name not in allowed:
            raise DFSLError(f"unknown dimension {name!r} for a {d.type} layer", ts.at(tok),
                            f"declare {', '.join(allowed if d.type == 'GEMM' else CONV_DIMS)}")
        if name == "N" and d.type != "GEMM" and value != 1:
            raise DFSLError(f"batch N: {value} is not modelled", ts.at(tok),
                            "use N: 1 (or leave N out) and run one sample per layer")
    missing = [k for k in needed if k not in dims]
    if missing:
        raise DFSLError(f"layer {d.name!r} misses dimension(s) {', '.join(missing)}", where,
                        f"add them to Dimensions (a {d.type} layer has {', '.join(needed)})")
    kw: dict[str, object] = {k: v for k, (v, _) in dims.items() if k != "N" or d.type == "GEMM"}
    for key, (_, tok) in (d.stride or {}).items():
        if key not in ("X", "Y"):
            raise DFSLError(f"stride on {key!r} is not supported", ts.at(tok), "write Stride { X: .., Y: .. }")
    stride = {k: v for k, (v, _) in (d.stride or {}).items()}
    if d.type == "GEMM":
        if any(v != 1 for v in stride.values()):
            raise DFSLError("a GEMM layer has no stride", where, "remove the Stride block")
    else:
        kw["stride_y"] = stride.get("Y", 1)
        kw["stride_x"] = stride.get("X", 1)
    try:
        layer = Layer(name=d.name, type=d.type, precision=d.precision or FP32, **kw)  # type: ignore[arg-type]
    except InputError as err:
        raise DFSLError(f"layer {d.name!r}: {err.what}", where, err.fix) from None
    return layer, {k: v for k, (v, _) in dims.items()}


def _parse_layer(ts: _Tokens, opener: _Token, index: int, constants: dict[str, int]) -> _LayerDraft:
    tok = ts.next("a layer name or '{'")
    name = f"layer{index}"
    if tok.text != "{":
        name = tok.text
        ts.expect("{", f"Layer {name}")
    d = _LayerDraft(name, opener)
    while True:
        tok = ts.next(f"'}}' closing Layer {name}")
        key = tok.text
        if key == "}":
            return d
        if key == "Type":
            if d.type is not None:
                raise DFSLError(f"layer {name!r} has two Type lines", ts.at(tok), "keep one Type")
            typ = ts.next("the layer type")
            if typ.text in UNSUPPORTED_TYPES:
                raise DFSLError(f"layer type {typ.text} is not supported (MAESTRO's parser rejects it too)",
                                ts.at(typ), "use CONV, DSCONV or GEMM; write a fully connected layer as GEMM "
                                "(M = batch) or as a 1x1 CONV with Y = X = 1")
            if typ.text not in SUPPORTED_TYPES:
                raise DFSLError(f"unknown layer type {typ.text!r}", ts.at(typ), "use CONV, DSCONV or GEMM")
            d.type = typ.text
        elif key == "Precision":
            if d.precision is not None:
                raise DFSLError(f"layer {name!r} has two Precision blocks", ts.at(tok), "keep one")
            d.precision = _parse_precision(ts, tok)
        elif key == "Stride":
            if d.dims is not None:
                raise DFSLError("Stride comes after Dimensions (MAESTRO rejects this order)", ts.at(tok),
                                "move Stride { .. } above Dimensions { .. }")
            if d.stride is not None:
                raise DFSLError(f"layer {name!r} has two Stride blocks", ts.at(tok), "keep one")
            d.stride = _parse_pairs(ts, "Stride", constants)
        elif key == "Dimensions":
            if d.dims is not None:
                raise DFSLError(f"layer {name!r} has two Dimensions blocks", ts.at(tok), "keep one")
            d.dims = _parse_pairs(ts, "Dimensions", constants)
        elif key == "Dataflow":
            if d.dataflow is not None:
                raise DFSLError(f"layer {name!r} has two Dataflow blocks", ts.at(tok), "keep one")
            d.dataflow = _block_tokens(ts, "Dataflow")
        else:
            raise DFSLError(f"unexpected {key!r} in layer {name!r}", ts.at(tok),
                            "a layer holds Type, Precision, Stride, Dimensions and Dataflow blocks")


def parse_model(text: str, where: str | None = None,
                require_dataflow: bool = True) -> tuple[str, list[tuple[Layer, Mapping | None]]]:
    """A whole `.m` file: the network name and its (layer, mapping) pairs in file order.

    With `require_dataflow=False` a layer without Dataflow block gets mapping None (MAESTRO's model
    files under data/model hold only shapes); otherwise that is an error.
    """
    source = where or "model"
    ts = _Tokens.of_text(text, source)
    constants: dict[str, int] = {}
    network: str | None = None
    layers: list[tuple[Layer, Mapping | None]] = []
    while (tok := ts.peek()) is not None:
        ts.next("Network")
        if tok.text == "Constant":
            name = ts.next("a constant name")
            val = ts.next(f"the value of constant {name.text}")
            constants[name.text] = _integer(val, ts, f"constant {name.text}", constants)
            continue
        if tok.text != "Network":
            raise DFSLError(f"expected 'Network' or 'Constant', got {tok.text!r}", ts.at(tok),
                            "a model file is Network <name> { Layer <name> { ... } ... }")
        if network is not None:
            raise DFSLError("a second Network block", ts.at(tok), "put one network per file")
        nxt = ts.next("a network name or '{'")
        network = "network"
        if nxt.text != "{":
            network = nxt.text
            ts.expect("{", f"Network {network}")
        while (item := ts.next(f"'}}' closing Network {network}")).text != "}":
            if item.text != "Layer":
                raise DFSLError(f"expected 'Layer' in network {network!r}, got {item.text!r}", ts.at(item),
                                "a network holds Layer <name> { ... } blocks")
            draft = _parse_layer(ts, item, len(layers), constants)
            layer, declared = _build_layer(draft, ts)
            mapping: Mapping | None = None
            if draft.dataflow is None or draft.dataflow.peek() is None:
                if require_dataflow:
                    what = "no Dataflow block" if draft.dataflow is None else "an empty Dataflow block"
                    raise DFSLError(f"layer {layer.name!r} has {what}", ts.at(draft.line),
                                    "add Dataflow { SpatialMap(1,1) K; ... } to the layer")
            else:
                mapping = Mapping(_parse_directives(draft.dataflow, layer, _size_table(layer, declared), constants,
                                                    stop_at_brace=False))
            layers.append((layer, mapping))
    if network is None:
        raise DFSLError("no Network block", f"{source}:1", "a model file is Network <name> { Layer <name> { ... } }")
    if not layers:
        raise DFSLError(f"network {network!r} has no layers", f"{source}:1", "add Layer <name> { ... } blocks")
    return network, layers


def load_model(path: str | Path, require_dataflow: bool = True) -> tuple[str, list[tuple[Layer, Mapping | None]]]:
    """`parse_model` of a file; errors name the file and line."""
    p = Path(path)
    try:
        text = p.read_text()
    except FileNotFoundError:
        raise InputError("file not found", str(p), "check the path") from None
    except OSError as err:
        raise InputError(f"cannot read file ({err.strerror})", str(p), "check permissions") from None
    return parse_model(text, str(p), require_dataflow)


# ---- writing ---------------------------------------------------------------------------------------------
def _format_directive(d: Directive) -> str:
    if isinstance(d, Cluster):
        return f"Cluster({d.size},{'P' if d.physical else 'L'});"
    return f"{'SpatialMap' if d.spatial else 'TemporalMap'}({d.size},{d.offset}) {d.dim};"


def write_dataflow(mapping: Mapping) -> str:
    """The inside of `Dataflow { }`: one directive per line, sizes as numbers."""
    return "\n".join(_format_directive(d) for d in mapping.directives)


def _check_name(name: str, what: str) -> str:
    if not name or any(c in _SEPARATORS or c.isspace() for c in name) or "//" in name or name in ("{", "}"):
        raise InputError(f"{what} name {name!r} cannot be written to DFSL", what,
                         f"use a name without spaces or any of {_SEPARATORS.strip()!r}")
    return name


def _precision_block(p: Precision) -> str:
    if p.weights == p.activations == p.outputs or p.name == p.weights.kind:
        return f"Precision {{ {p.name.upper()} }}"
    items = [f"weights: {p.weights.name.upper()}", f"activations: {p.activations.name.upper()}"]
    if p.outputs != p.activations:
        items.append(f"outputs: {p.outputs.name.upper()}")
    return f"Precision {{ {', '.join(items)} }}"


def write_layer(layer: Layer, mapping: Mapping | None, maestro_compatible: bool = False) -> str:
    """One `Layer name { ... }` block. The Precision block is written for non-FP32 layers only."""
    lines = [f"Layer {_check_name(layer.name, 'layer')} {{", f"Type: {layer.type}"]
    if layer.precision != FP32 and not maestro_compatible:
        lines.append(_precision_block(layer.precision))
    if layer.type == "GEMM":
        lines.append(f"Dimensions {{ K: {layer.K}, M: {layer.M}, N: {layer.N} }}")
    else:
        lines.append(f"Stride {{ X: {layer.stride_x}, Y: {layer.stride_y} }}")
        lines.append("Dimensions { " + ", ".join(f"{d}: {getattr(layer, d)}" for d in CONV_DIMS) + " }")
    if mapping is not None:
        lines += ["Dataflow {", write_dataflow(mapping), "}"]
    lines.append("}")
    return "\n".join(lines)


def write_model(network_name: str, layers: Sequence[tuple[Layer, Mapping | None]],
                maestro_compatible: bool = False) -> str:
    """A whole `.m` file. `maestro_compatible=True` leaves out Precision blocks (MAESTRO cannot read them)."""
    body = [write_layer(layer, mapping, maestro_compatible) for layer, mapping in layers]
    return "\n".join([f"Network {_check_name(network_name, 'network')} {{", *body, "}"]) + "\n"
