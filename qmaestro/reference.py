"""Reference cases: real MAESTRO (and, for information, qMaestro) outputs to check our model against.

A record (one JSON line, format in shared/reference/README.md) becomes a `ReferenceCase`: the layer and
mapping parsed from the exact `.m` text that was run, the accelerator from the CLI options, and the
printed metrics. Comparison is split the way the design holds us to it: counts and sizes must be equal,
rates and delays equal up to the 6 significant digits MAESTRO prints, and the area/power/energy columns
(whose MAESTRO formulas we do not reproduce on purpose) are compared for information only.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping as MappingT

from .accelerator import Accelerator
from .dfsl import parse_model
from .errors import InputError, QMaestroError
from .layer import Layer
from .mapping import Mapping
from .precision import Precision

ENV_VAR = "QGAMMA_REFERENCE_DIR"
MAESTRO_FILE = "maestro_cases.jsonl"
QMAESTRO_FILE = "qmaestro_cases.jsonl"
#: relative tolerance for printed doubles (6 significant digits -> at most 5e-6 rounding error)
REL_TOL = 1e-5

_TENSOR_COUNTS = tuple(f"{t}_{c}" for t in ("input", "filter", "output")
                       for c in ("l1_read", "l1_write", "l2_read", "l2_write"))
#: integers MAESTRO prints in full: must be equal
EXACT_METRICS: tuple[str, ...] = ("runtime_cycles", "num_macs", "l1_size_req", "l2_size_req") + _TENSOR_COUNTS
#: doubles printed with 6 significant digits: equal within REL_TOL
TOLERANT_METRICS: tuple[str, ...] = (
    "num_pes", "throughput_macs_per_cycle", "noc_bw_req", "avg_bw_req", "peak_bw_req", "vector_width",
    "offchip_bw_req", "multicast_weight", "multicast_input", "num_total_input_pixels",
    "num_total_weight_pixels", "input_reuse_factor", "filter_reuse_factor", "output_reuse_factor",
    "ingress_delay_min", "ingress_delay_max", "ingress_delay_avg", "egress_delay_min", "egress_delay_max",
    "egress_delay_avg", "compute_delay_min", "compute_delay_max", "compute_delay_avg", "avg_utilized_pes",
    "arithmetic_intensity")
#: the metrics `validate` requires to match
REQUIRED_METRICS: tuple[str, ...] = EXACT_METRICS + TOLERANT_METRICS
#: energy / area / power columns: compared and reported, never required (our energy model is our own)
INFORMATIONAL_METRICS: tuple[str, ...] = (
    "energy_nj", "throughput_per_energy_gmacs_per_s_j", "area", "power", "ops_per_j",
    "pe_power", "l1_power", "l2_power", "noc_power", "mac_energy", "l1_energy", "l2_energy", "noc_energy")


@dataclass(frozen=True)
class ReferenceCase:
    """One reference record, turned into our inputs.

    `layer`/`mapping` come from parsing `model_text` (what the binary ran). When our DFSL parser
    rejects that text, `input_error` holds the error, `mapping` is None and `layer` falls back to the
    record's `layer` object (None if even that is invalid).
    """

    id: str
    source: str  # "maestro" | "qmaestro"
    category: str
    status: str  # "ok" | "rejected"
    flags: tuple[str, ...]
    layer: Layer | None
    accelerator: Accelerator
    mapping: Mapping | None
    expected: dict[str, Any] | None  # the printed values as stored: numbers, or "nan"/"-nan"/"inf" (see to_float)
    input_error: QMaestroError | None = None
    error_message: str = ""
    exit_code: int | None = None
    mapping_text: str = ""
    model_text: str = ""
    record: MappingT[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def comparable(self) -> bool:
        """MAESTRO ran it and printed meaningful numbers: our metrics must equal `expected`."""
        return self.status == "ok" and not self.flags

    @property
    def expects_rejection(self) -> bool:
        """MAESTRO rejected it or printed meaningless numbers (flags): we must reject it."""
        return not self.comparable

    @property
    def informational(self) -> bool:
        """qMaestro records: a different model, used to understand, never a target."""
        return self.source != "maestro"


# ---- numbers ---------------------------------------------------------------------------------------------
def to_float(value: Any) -> float:
    """A printed value as a float; the strings 'nan', '-nan', 'inf', '-inf' become the IEEE values."""
    if isinstance(value, bool):
        raise InputError(f"expected a number, got {value!r}", fix="check the record")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("nan", "-nan", "+nan"):
            return math.nan
        if text in ("inf", "+inf", "infinity"):
            return math.inf
        if text in ("-inf", "-infinity"):
            return -math.inf
        try:
            return float(text)
        except ValueError:
            pass
    raise InputError(f"expected a number or nan/inf, got {value!r}", fix="check the record")


def values_match(ours: Any, theirs: Any, exact: bool, rel_tol: float = REL_TOL) -> bool:
    """Equal as MAESTRO would print them: NaN matches NaN, inf its own sign; doubles within rel_tol
    or with the same `%g` text (exact metrics: equal as numbers)."""
    a, b = to_float(ours), to_float(theirs)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    if exact or a == b:
        return a == b
    return math.isclose(a, b, rel_tol=rel_tol, abs_tol=0.0) or format(a, "g") == format(b, "g")


@dataclass(frozen=True)
class Comparison:
    """Per-metric verdicts of our metrics against a case's expected ones."""

    matched: tuple[str, ...]
    mismatched: tuple[tuple[str, float, float], ...]  # (key, ours, theirs) over required metrics
    informational_mismatched: tuple[tuple[str, float, float], ...]
    missing: tuple[str, ...]  # required keys absent from our metrics

    @property
    def ok(self) -> bool:
        return not self.mismatched and not self.missing


def compare_metrics(ours: MappingT[str, Any], expected: MappingT[str, Any], rel_tol: float = REL_TOL) -> Comparison:
    """Compare the keys both sides know. Required metrics decide `ok`; the others are reported only."""
    matched, bad, info_bad, missing = [], [], [], []
    for key, theirs in expected.items():
        required = key in REQUIRED_METRICS
        if key not in ours:
            if required:
                missing.append(key)
            continue
        if values_match(ours[key], theirs, key in EXACT_METRICS, rel_tol):
            matched.append(key)
        elif required:
            bad.append((key, to_float(ours[key]), to_float(theirs)))
        else:
            info_bad.append((key, to_float(ours[key]), to_float(theirs)))
    return Comparison(tuple(matched), tuple(bad), tuple(info_bad), tuple(missing))


# ---- records -> cases ------------------------------------------------------------------------------------
def accelerator_from_hw(hw: MappingT[str, Any], where: str = "hw") -> Accelerator:
    """MAESTRO's CLI options as an Accelerator (l1/l2 are element counts there: 4 bytes each)."""
    try:
        return Accelerator(
            name=str(hw.get("name", "reference")), num_pes=hw["num_pes"], l1_bytes=4 * hw["l1_size"],
            l2_bytes=4 * hw["l2_size"], noc_bw=hw["noc_bw"], offchip_bw=hw["offchip_bw"],
            noc_hops=hw["noc_hops"], noc_hop_latency=hw["noc_hop_latency"],
            multicast=bool(hw["noc_mc_support"]), simd_lanes=hw["num_simd_lanes"])
    except KeyError as err:
        raise InputError(f"hw object misses {err.args[0]!r}", where, "see shared/reference/README.md") from None


def layer_from_record(obj: MappingT[str, Any], where: str = "layer") -> Layer:
    """The record's `layer` object (informational fields net/precision null are handled)."""
    d = {k: v for k, v in obj.items() if k not in ("net",)}
    prec = d.pop("precision", None)
    if d.get("type") == "GEMM":
        d.pop("stride_y", None)
        d.pop("stride_x", None)
    try:
        return Layer(**d, precision=Precision.parse(prec.lower() if isinstance(prec, str) else prec))
    except TypeError as err:
        raise InputError(f"cannot read layer object ({err})", where, "see shared/reference/README.md") from None


def case_from_record(record: MappingT[str, Any], where: str | None = None) -> ReferenceCase:
    """Turn one parsed JSON record into a ReferenceCase (our parse errors are kept, not raised)."""
    rid = str(record.get("id", "?"))
    where = where or rid
    try:
        status, model_text, hw = record["status"], record["model_file"], record["hw"]
    except KeyError as err:
        raise InputError(f"record misses {err.args[0]!r}", where, "see shared/reference/README.md") from None
    accelerator = accelerator_from_hw(hw, f"{where}.hw")
    layer: Layer | None = None
    mapping: Mapping | None = None
    input_error: QMaestroError | None = None
    try:
        _, pairs = parse_model(model_text, f"{rid}.m")
        if len(pairs) != 1:
            raise InputError(f"expected one layer, found {len(pairs)}", f"{rid}.m", "reference cases hold one layer")
        layer, mapping = pairs[0]
    except QMaestroError as err:
        input_error = err
        try:
            layer = layer_from_record(record.get("layer") or {}, f"{where}.layer")
        except QMaestroError:
            layer = None
    error = record.get("error") or {}
    expected = record.get("expected")
    return ReferenceCase(
        id=rid, source=str(record.get("source", "maestro")), category=str(record.get("category", "")),
        status=status, flags=tuple(record.get("flags") or ()), layer=layer, accelerator=accelerator,
        mapping=mapping, expected=dict(expected) if expected else None, input_error=input_error,
        error_message=str(error.get("message", "")), exit_code=error.get("exit_code"),
        mapping_text=str(record.get("mapping", "")), model_text=model_text, record=record)


def iter_records(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) for every non-blank line of a .jsonl file."""
    p = Path(path)
    try:
        fh = p.open()
    except FileNotFoundError:
        raise InputError("file not found", str(p), "check the path (reference data lives in shared/reference)") from None
    with fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as err:
                raise InputError(f"malformed JSON ({err.msg})", f"{p}:{n}", "one JSON object per line") from None
            if not isinstance(rec, dict):
                raise InputError("a record must be a JSON object", f"{p}:{n}", "one JSON object per line")
            yield n, rec


def load_cases(path: str | Path) -> list[ReferenceCase]:
    """Every record of a reference .jsonl file as a ReferenceCase."""
    return [case_from_record(rec, f"{path}:{n}") for n, rec in iter_records(path)]


def default_reference_dir() -> Path | None:
    """$QGAMMA_REFERENCE_DIR, else `<repo>/../shared/reference` next to this checkout, else None."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env) if Path(env).is_dir() else None
    guess = Path(__file__).resolve().parent.parent.parent / "shared" / "reference"
    return guess if guess.is_dir() else None
