"""Networks: ordered, validated layers read from nets/*.yaml, GAMMA CSVs or MAESTRO model files.

A network is resolved by bundled name (``resnet18_mixed``: a file in the repository's ``nets/`` folder,
or in any folder listed in ``$QGAMMA_NETS``) or by path. Bit-width tables (HAWQ-V3's per-layer
configurations) re-quantize a network by layer name, so one shape file serves every configuration.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Mapping

from qmaestro.accelerator import Accelerator
from qmaestro.errors import InputError, PrecisionError
from qmaestro.layer import Layer
from qmaestro.precision import Precision
from qmaestro.yamlio import load_yaml

#: the repository's canonical nets/ folder (works from a checkout and after `pip install -e .`)
BUNDLED_NETS_DIR = Path(__file__).resolve().parent.parent / "nets"
#: extra folders of user nets, os.pathsep-separated, searched before the bundled folder
NETS_PATH_ENV = "QGAMMA_NETS"
DATA_DIR = Path(__file__).resolve().parent / "data"
#: named bit-width tables usable as `--bits <table>:<config>`
BIT_TABLES = {"hawq": DATA_DIR / "hawq_v3_resnet18_bits.yaml"}

NET_FIELDS = ("name", "source", "notes", "description", "defaults", "layers")
NET_SUFFIXES = (".yaml", ".yml", ".csv", ".m")


@dataclass(frozen=True)
class Network:
    """A named, ordered tuple of layers plus where its shapes and bit widths come from."""

    name: str
    source: str
    layers: tuple[Layer, ...]
    path: str | None = None
    notes: str = ""
    bits: str | None = None

    @property
    def layer_names(self) -> list[str]:
        return [layer.name for layer in self.layers]

    @property
    def num_macs(self) -> int:
        return sum(layer.num_macs for layer in self.layers)

    def layer(self, name: str) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise InputError(f"network {self.name!r} has no layer {name!r}", "--layers",
                         f"use names from: {', '.join(self.layer_names)}")

    def select(self, names: Iterable[str] | None) -> "Network":
        """The sub-network of the named layers, in network order (None keeps every layer)."""
        if names is None:
            return self
        wanted = [n.strip() for n in names if n.strip()]
        if not wanted:
            raise InputError("no layer names given", "--layers", "write e.g. --layers conv1,fc")
        for n in wanted:
            self.layer(n)
        keep = set(wanted)
        return replace(self, layers=tuple(layer for layer in self.layers if layer.name in keep))

    def with_bits(self, spec: str) -> "Network":
        """This network re-quantized by a bit spec (see `apply_bits`)."""
        return apply_bits(self, spec)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "source": self.source}
        if self.notes:
            d["notes"] = self.notes
        if self.bits:
            d["bits"] = self.bits
        d["layers"] = [layer.to_dict() for layer in self.layers]
        return d


# ---- resolving names ----------------------------------------------------------------------------
def net_search_path() -> list[Path]:
    """Folders searched for a network given by name: $QGAMMA_NETS entries, then the bundled nets/."""
    extra = [Path(p) for p in os.environ.get(NETS_PATH_ENV, "").split(os.pathsep) if p]
    return extra + [BUNDLED_NETS_DIR]


def bundled_names() -> list[str]:
    """Names of every network findable by name."""
    names: set[str] = set()
    for folder in net_search_path():
        if folder.is_dir():
            names.update(f.stem for f in folder.glob("*.yaml"))
    return sorted(names)


def resolve_network_path(name_or_path: str | Path) -> Path:
    """A path for a network name or path; unknown names raise with the list of known ones."""
    p = Path(name_or_path)
    if p.exists():
        return p
    if p.suffix.lower() in NET_SUFFIXES or len(p.parts) > 1:
        raise InputError("network file not found", str(p), "check the path")
    for folder in net_search_path():
        for suffix in (".yaml", ".yml"):
            candidate = folder / f"{name_or_path}{suffix}"
            if candidate.exists():
                return candidate
    raise InputError(f"unknown network {str(name_or_path)!r}", "NET",
                     f"use one of {', '.join(bundled_names())} or a path to a .yaml/.csv/.m file")


def load_network(name_or_path: str | Path, bits: str | None = None) -> Network:
    """Read a network by bundled name or path (.yaml, GAMMA .csv, MAESTRO .m); optionally re-quantize it."""
    path = resolve_network_path(name_or_path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        net = read_gamma_csv(path)
    elif suffix == ".m":
        net = read_maestro_model(path)
    else:
        net = network_from_dict(load_yaml(path), str(path))
    return apply_bits(net, bits) if bits else net


# ---- YAML ----------------------------------------------------------------------------------------
def network_from_dict(data: Any, where: str) -> Network:
    """Validate a parsed net YAML document; errors name the file, the layer and the field."""
    if not isinstance(data, Mapping):
        raise InputError("a network file must be a mapping with name, source and layers", where,
                         "see nets/resnet18_int8.yaml")
    unknown = sorted(set(data) - set(NET_FIELDS))
    if unknown:
        raise InputError(f"unknown field(s) {unknown}", where, f"network fields are {', '.join(NET_FIELDS)}")
    name = data.get("name", Path(where).stem)
    if not isinstance(name, str) or not name:
        raise InputError("name must be a non-empty string", f"{where}: name", "write name: <text>")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, Mapping) or set(defaults) - {"precision"}:
        raise InputError("defaults may only set precision", f"{where}: defaults", "write defaults: {precision: int8}")
    default_precision = defaults.get("precision")
    if default_precision is not None:
        Precision.parse(default_precision, f"{where}: defaults.precision")
    raw_layers = data.get("layers")
    if not isinstance(raw_layers, list) or not raw_layers:
        raise InputError("layers must be a non-empty list", f"{where}: layers",
                         "add layers: [{name, type, K, C, R, S, Y, X, stride, precision}, ...]")
    layers = tuple(_read_layer(d, f"{where}: layers[{i}]", default_precision) for i, d in enumerate(raw_layers))
    _check_unique(layers, where)
    return Network(name=name, source=str(data.get("source", "unspecified")), layers=layers, path=where,
                   notes=str(data.get("notes", data.get("description", "")) or ""))


def _read_layer(d: Any, where: str, default_precision: Any) -> Layer:
    """Layer.from_dict, with the file and list index added to errors raised by the Layer's own checks."""
    try:
        return Layer.from_dict(d, where, default_precision)
    except InputError as err:
        if err.where and err.where.startswith(where):
            raise
        raise type(err)(err.what, f"{where} {err.where}" if err.where else where, err.fix) from None


def _check_unique(layers: Iterable[Layer], where: str) -> None:
    seen: set[str] = set()
    for layer in layers:
        if layer.name in seen:
            raise InputError(f"layer name {layer.name!r} appears twice", where,
                             "give every layer its own name (results and mappings are filed by name)")
        seen.add(layer.name)


def _unique_names(layers: list[Layer]) -> tuple[Layer, ...]:
    """Imported files sometimes repeat a layer name (MAESTRO's MobileNetV2 does): number the repeats."""
    seen: dict[str, int] = {}
    out = []
    for layer in layers:
        k = seen.get(layer.name, 0) + 1
        seen[layer.name] = k
        out.append(layer if k == 1 else replace(layer, name=f"{layer.name}_{k}"))
    return tuple(out)


# ---- importers -----------------------------------------------------------------------------------
#: GAMMA's layer-type codes (column T): 0 FC, 1 CONV, 2 DSCONV, 3 GEMM
GAMMA_TYPES = {0: "FC", 1: "CONV", 2: "DSCONV", 3: "GEMM"}


def read_gamma_csv(path: str | Path, precision: Any = "int8") -> Network:
    """A GAMMA/qGamma model CSV (K,C,Y,X,R,S,T[,Precision,SX,SY]); Y/X are taken as given (stride 1 unless SX/SY).

    GEMM rows (T=3) read their first three columns as M,N,K; FC rows (T=0) as outputs,inputs (a 1x1 CONV).
    """
    p = Path(path)
    try:
        rows = list(csv.reader(p.read_text().splitlines()))
    except OSError as err:
        raise InputError(f"cannot read file ({err.strerror})", str(p), "check the path") from None
    rows = [r for r in rows if any(c.strip() for c in r)]
    if len(rows) < 2:
        raise InputError("a GAMMA model CSV needs a header line and at least one layer", str(p),
                         "write K,C,Y,X,R,S,T then one line per layer")
    header = [h.strip() for h in rows[0]]
    extra = {h: i for i, h in enumerate(header) if h in ("Precision", "SX", "SY")}
    layers = []
    for n, row in enumerate(rows[1:], start=2):
        where = f"{p}:{n}"
        try:
            nums = [int(float(c)) for c in row[:7]]
        except ValueError:
            raise InputError(f"non-numeric value in {row[:7]}", where, "write whole numbers K,C,Y,X,R,S,T") from None
        if len(nums) < 7:
            raise InputError(f"expected 7 columns, got {len(nums)}", where, "write K,C,Y,X,R,S,T")
        a, b, c, d, e, f, t = nums
        prec = row[extra["Precision"]].strip() if "Precision" in extra and len(row) > extra["Precision"] else precision
        name = f"layer{n - 1}"
        typ = GAMMA_TYPES.get(t)
        if typ is None:
            raise InputError(f"unknown layer type code T={t}", where, "T is 0 (FC), 1 (CONV), 2 (DSCONV) or 3 (GEMM)")
        if typ == "GEMM":
            spec: dict[str, Any] = {"name": name, "type": "GEMM", "M": a, "N": b, "K": c}
        elif typ == "FC":
            spec = {"name": name, "type": "CONV", "K": a, "C": b, "R": 1, "S": 1, "Y": 1, "X": 1}
        else:
            spec = {"name": name, "type": typ, "K": a, "C": b, "Y": c, "X": d, "R": e, "S": f}
            if "SX" in extra:
                spec["stride_x"] = int(row[extra["SX"]])
            if "SY" in extra:
                spec["stride_y"] = int(row[extra["SY"]])
        spec["precision"] = prec.lower() if isinstance(prec, str) else prec
        layers.append(Layer.from_dict(spec, where))
    return Network(name=p.stem, source=f"GAMMA model CSV {p}", layers=tuple(layers), path=str(p))


def read_maestro_model(path: str | Path) -> Network:
    """A MAESTRO model (.m) file's layers, read with qmaestro.dfsl (any Dataflow blocks in it are ignored)."""
    from qmaestro import dfsl

    name, entries = dfsl.load_model(path, require_dataflow=False)
    layers = _unique_names([layer for layer, _mapping in entries])
    return Network(name=name, source=f"MAESTRO model file {path}", layers=layers, path=str(path))


# ---- bit widths ----------------------------------------------------------------------------------
def load_bit_table(table: str | Path) -> dict[str, Any]:
    """A bit-width table ({source, configs: {name: {layer: {w, a}}}}) by short name (hawq) or path."""
    path = BIT_TABLES.get(str(table), Path(table))
    data = load_yaml(path)
    if not isinstance(data, Mapping) or not isinstance(data.get("configs"), Mapping):
        raise InputError("a bit table needs configs: {name: {layer: {w: bits, a: bits}}}", str(path),
                         "see qgamma/data/hawq_v3_resnet18_bits.yaml")
    return dict(data)


def bit_configs(table: str | Path = "hawq") -> list[str]:
    return sorted(load_bit_table(table)["configs"])


def apply_bits(network: Network, spec: str) -> Network:
    """Re-quantize a network: 'hawq:latency_0.5' (a table config by layer name), 'PATH.yaml:CONFIG', or 'int4'."""
    if ":" not in spec:
        prec = Precision.parse(spec, "--bits")
        layers = tuple(layer.with_precision(prec) for layer in network.layers)
        return replace(network, layers=layers, bits=spec)
    table_name, _, config = spec.rpartition(":")
    table = load_bit_table(table_name)
    configs = table["configs"]
    if config not in configs:
        raise InputError(f"unknown bit configuration {config!r} in table {table_name!r}", "--bits",
                         f"use one of {', '.join(sorted(configs))}")
    bits = configs[config]
    missing = [n for n in network.layer_names if n not in bits]
    if missing:
        raise InputError(f"bit table {table_name!r} has no widths for layer(s) {missing}", "--bits",
                         f"the table's layer names must match network {network.name!r}")
    layers = tuple(layer.with_precision(_precision_of(bits[layer.name], f"{spec} {layer.name}"))
                   for layer in network.layers)
    source = f"{network.source}; bit widths: {table.get('source', table_name)} [{config}]"
    return replace(network, layers=layers, bits=spec, source=source)


def _precision_of(entry: Any, where: str) -> Any:
    """{w: 4, a: 8} -> a Precision spec (integer formats; outputs follow activations)."""
    if not isinstance(entry, Mapping) or not {"w", "a"} <= set(entry):
        raise InputError(f"bit entry must be {{w: bits, a: bits}}, got {entry!r}", where, "write e.g. {w: 4, a: 8}")
    w, a = f"int{entry['w']}", f"int{entry['a']}"
    return w if w == a else {"weights": w, "activations": a}


# ---- network x accelerator -----------------------------------------------------------------------
def check_supported(network: Network, accelerator: Accelerator) -> None:
    """Raise PrecisionError naming the first layer whose operands the accelerator cannot compute."""
    for layer in network.layers:
        p = layer.precision
        for role, fmt in (("weights", p.weights), ("activations", p.activations), ("outputs", p.outputs)):
            if not accelerator.supports(fmt):
                raise PrecisionError(
                    f"layer {layer.name!r} has {role} in {fmt.name}, which accelerator {accelerator.name!r} "
                    f"does not support", network.path or network.name,
                    f"use one of {', '.join(accelerator.precisions)} or an accelerator that lists {fmt.name}")
