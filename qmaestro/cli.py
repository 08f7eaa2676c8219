"""The `qmaestro` command: score mappings (`evaluate`), check the model against MAESTRO (`validate`).

Subcommands are registered, not hard-wired: a module listed in SUBCOMMAND_MODULES exposes
`add_subcommand(subparsers)`, which adds its parser and sets `run=<function(args) -> int>` on it.
`main` turns every `QMaestroError` into one line `error: <where>: <what> (fix: ...)` on stderr and exit
code 2; argparse usage errors exit 2 as well; anything else is a bug and keeps its traceback.

The YAML form of one layer and its mapping (for `qmaestro evaluate`): the layer fields of nets/*.yaml
at the top level, plus `mapping:` as DFSL text (what goes inside `Dataflow { }`) or a list of
directive strings::

    name: conv2
    type: CONV
    K: 64
    C: 64
    R: 3
    S: 3
    Y: 58
    X: 58
    stride: 1
    precision: int8                  # or {weights: int4, activations: int8}
    mapping:
      - SpatialMap(1,1) K
      - TemporalMap(64,64) C
      - TemporalMap(Sz(R),1) Y
      - TemporalMap(Sz(S),1) X
      - TemporalMap(Sz(R),Sz(R)) R
      - TemporalMap(Sz(S),Sz(S)) S
      - Cluster(4,P)
      - SpatialMap(1,1) C
"""
from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import yaml

from .accelerator import Accelerator, builtin_names
from .dfsl import load_model, parse_dataflow, write_dataflow
from .errors import InputError, QMaestroError
from .layer import Layer
from .mapping import Mapping
from .reference import (EXACT_METRICS, INFORMATIONAL_METRICS, REQUIRED_METRICS, ReferenceCase, compare_metrics, default_reference_dir,
                        load_cases)
from .yamlio import load_yaml

#: modules that add further subcommands: each exposes add_subcommand(subparsers); add yours here.
#: A listed module without add_subcommand (yet) is skipped, so a module can be listed before it is wired.
SUBCOMMAND_MODULES: tuple[str, ...] = ("qmaestro.fit_ppa",)


# ---- shared helpers ----------------------------------------------------------------------------------------
def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def _json_number(v: Any) -> Any:
    """JSON has no NaN/inf: write them as the strings the reference files use."""
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, float) and v.is_integer() and abs(v) < 2 ** 63:
        return int(v)
    return v


def _json_clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _json_clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_clean(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        obj = obj.item()
    return _json_number(obj)


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        return f"{int(v):,}" if v.is_integer() and abs(v) < 1e15 else f"{v:.6g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


# ---- layer + mapping YAML ------------------------------------------------------------------------------------
def _mapping_node_lines(path: Path) -> tuple[int, list[int]]:
    """Line (1-based) where the `mapping:` value starts and, for a list, the line of each item."""
    try:
        root = yaml.compose(path.read_text())
    except yaml.YAMLError:
        return 1, []
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if key.value == "mapping":
                items = [n.start_mark.line + 1 for n in value.value] if isinstance(value, yaml.SequenceNode) else []
                start = value.start_mark.line + 1
                if isinstance(value, yaml.ScalarNode) and value.style in ("|", ">"):
                    start += 1  # a block scalar's text starts on the line after the indicator
                return start, items
    return 1, []


def read_layer_mapping(path: str | Path) -> tuple[Layer, Mapping]:
    """A layer and its mapping from the YAML form described in this module's docstring."""
    p = Path(path)
    data = load_yaml(p)
    if not isinstance(data, dict):
        raise InputError("expected the layer fields and a mapping: entry", str(p),
                         "see `qmaestro evaluate --help` for the YAML form")
    fields = dict(data)
    if "mapping" not in fields:
        raise InputError("no mapping: entry", str(p), "add mapping: with DFSL text or a list of directives")
    raw = fields.pop("mapping")
    layer = Layer.from_dict(fields, str(p))
    start, item_lines = _mapping_node_lines(p)
    if isinstance(raw, str):
        return layer, parse_dataflow(raw, layer, str(p), first_line=start)
    if isinstance(raw, list) and raw and all(isinstance(d, str) for d in raw):
        lines = item_lines if len(item_lines) == len(raw) else [start] * len(raw)
        dirs = []
        for text, line in zip(raw, lines):
            dirs.extend(parse_dataflow(text.strip().rstrip(";") + ";", layer, str(p), first_line=line).directives)
        return layer, Mapping(dirs)
    raise InputError("mapping: must be DFSL text or a non-empty list of directive strings", f"{p}:{start}",
                     "write e.g. mapping: ['SpatialMap(1,1) K', 'TemporalMap(Sz(R),1) Y']")


def read_inputs(path: str | Path) -> tuple[str, list[tuple[Layer, Mapping]]]:
    """(name, [(layer, mapping), ...]) from a MAESTRO `.m` file or our layer + mapping YAML."""
    p = Path(path)
    if p.suffix in (".yaml", ".yml"):
        layer, mapping = read_layer_mapping(p)
        return p.stem, [(layer, mapping)]
    if p.suffix != ".m":
        raise InputError(f"unknown input kind {p.suffix or '(no suffix)'!r}", str(p),
                         "give a MAESTRO model file (.m) or a layer + mapping YAML (.yaml)")
    name, pairs = load_model(p)
    return name, [(layer, mapping) for layer, mapping in pairs if mapping is not None]


# ---- evaluate ------------------------------------------------------------------------------------------------
def _score(layer: Layer, accelerator: Accelerator, mapping: Mapping) -> dict[str, Any]:
    """evaluate() when the precision-aware layer exists; MAESTRO's analysis alone otherwise."""
    try:
        from .evaluate import evaluate
    except ImportError:  # pragma: no cover - only while qmaestro.evaluate is being written
        from .analysis import analyze

        metrics = analyze(layer, accelerator, mapping)
        return {"latency_cycles": metrics.get("runtime_cycles"), "metrics": metrics}
    return evaluate(layer, accelerator, mapping).to_dict()


def _run_evaluate(args: argparse.Namespace) -> int:
    accelerator = Accelerator.load(args.accelerator)
    name, pairs = read_inputs(args.input)
    results = []
    for layer, mapping in pairs:
        results.append({**_score(layer, accelerator, mapping), "layer": layer.name, "type": layer.type,
                        "precision": layer.precision.name, "mapping": mapping.summary(),
                        "dataflow": write_dataflow(mapping)})
    if args.json:
        print(json.dumps(_json_clean({"network": name, "accelerator": accelerator.name, "layers": results}),
                         indent=2))
        return 0
    _print_evaluation(name, accelerator, results)
    return 0


_EVAL_ROWS = (("precision", "precision"), ("latency (cycles)", "latency_cycles"), ("energy (nJ)", "energy_nj"),
              ("EDP (nJ x cycles)", "edp"), ("fits L1", "fits_l1"), ("fits L2", "fits_l2"),
              ("L1 bits needed / available", ("l1_bits_needed", "l1_bits_available")),
              ("L2 bits needed / available", ("l2_bits_needed", "l2_bits_available")),
              ("utilisation", "utilisation"), ("mapping", "mapping"))


def _cell(r: dict[str, Any], key: str | tuple[str, str]) -> str:
    if isinstance(key, tuple):
        return " / ".join(_fmt(r[k]) for k in key) if all(k in r for k in key) else ""
    return _fmt(r.get(key, ""))


def _print_evaluation(name: str, accelerator: Accelerator, results: list[dict[str, Any]]) -> None:
    """One layer: a metric / value table with the energy breakdown; several: one row per layer."""
    from rich.table import Table

    console = _console()
    title = f"{name} on {accelerator.name} ({accelerator.num_pes} PEs)"
    rows = [(t, k) for t, k in _EVAL_ROWS if any(_cell(r, k) for r in results)]
    if len(results) == 1:
        r = results[0]
        table = Table(title=f"{r['layer']} ({r['type']}): {title}")
        table.add_column("metric")
        table.add_column("value", justify="right", overflow="fold")
        for t, k in rows:
            table.add_row(t, _cell(r, k))
        for part, value in (r.get("energy_by_component") or {}).items():
            table.add_row(f"  energy {part} (nJ)", _fmt(value))
    else:
        table = Table(title=title)
        short = {"latency_cycles": "cycles", "energy_nj": "nJ", "edp": "EDP", "fits_l1": "L1 ok",
                 "fits_l2": "L2 ok", "utilisation": "util"}
        cols = [("layer", "layer")] + [(short.get(k, t), k) for t, k in rows
                                       if k != "mapping" and not isinstance(k, tuple)]
        for t, k in cols:
            table.add_column(t, justify="left" if k in ("layer", "precision") else "right")
        for r in results:
            table.add_row(*(_cell(r, k) for _, k in cols))
    console.print(table)
    for r in results:
        if r.get("fits_l1") is False or r.get("fits_l2") is False:
            console.print(f"[yellow]note[/]: {r['layer']} does not fit the buffers; its metrics are shown anyway")


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="score one mapping (or every layer of a .m file)",
                       description="Score the mapping(s) of a MAESTRO .m file or of a layer + mapping YAML file "
                                   "(layer fields as in nets/*.yaml plus mapping: DFSL text or a list of "
                                   "directives).")
    p.add_argument("input", help="MODEL.m or LAYER_MAPPING.yaml")
    p.add_argument("--accelerator", "-a", default="edge16",
                   help=f"a bundled accelerator ({', '.join(builtin_names())}) or a YAML path (default edge16)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(run=_run_evaluate)


# ---- validate ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CaseResult:
    """Our verdict on one reference case and how it compares with the binary's."""

    case_id: str
    source: str
    theirs: str  # "ok" | "rejected" | "flagged"
    ours: str  # "ok" | "rejected" | "error" (an unexpected exception, --keep-going)
    reason: str
    metrics: dict[str, float]
    matched: tuple[str, ...] = ()
    mismatched: tuple[tuple[str, float, float], ...] = ()
    info_mismatched: tuple[tuple[str, float, float], ...] = ()  # energy/area/power: reported, never required

    @property
    def agrees(self) -> bool:
        """Their meaningful ok == our ok with equal metrics; their rejection or flagged numbers == our rejection."""
        if self.theirs == "ok":
            return self.ours == "ok" and not self.mismatched
        return self.ours == "rejected"

    @property
    def informational(self) -> bool:
        return self.source != "maestro"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.case_id, "status": self.ours, "reason": self.reason,
                "metrics": _json_clean(self.metrics), "source": self.source, "expected_status": self.theirs,
                "agrees": self.agrees,
                "mismatches": [{"metric": k, "ours": _json_number(a), "theirs": _json_number(b)}
                               for k, a, b in self.mismatched]}


def run_case(case: ReferenceCase, analyze: Callable[..., dict[str, float]], keep_going: bool = False) -> CaseResult:
    """Run our analysis on one case; our rejections are QMaestroErrors (parse errors included).

    With `keep_going`, any other exception (a bug) becomes status "error" instead of stopping the run.
    """
    theirs = "ok" if case.comparable else ("flagged" if case.status == "ok" else "rejected")
    if case.input_error is not None or case.layer is None or case.mapping is None:
        reason = case.input_error.one_line() if case.input_error else "no layer or mapping"
        return CaseResult(case.id, case.source, theirs, "rejected", reason, {})
    try:
        if case.informational:
            # qMaestro analyses num_pes x 32/bits units; run our MAESTRO analysis on the same unit count
            units = case.accelerator.num_pes * case.layer.precision.lanes
            metrics = dict(analyze(case.layer, case.accelerator, case.mapping, num_units=units))
        else:
            metrics = dict(analyze(case.layer, case.accelerator, case.mapping))
    except QMaestroError as err:
        return CaseResult(case.id, case.source, theirs, "rejected", err.one_line(), {})
    except Exception as err:  # noqa: BLE001 - only with --keep-going; a bug, reported per case
        if not keep_going:
            raise
        return CaseResult(case.id, case.source, theirs, "error", f"{type(err).__name__}: {err}", {})
    if theirs != "ok" or not case.expected:
        return CaseResult(case.id, case.source, theirs, "ok", "", metrics)
    cmp = compare_metrics(metrics, case.expected)
    missing = tuple((k, math.nan, float("nan")) for k in cmp.missing)
    return CaseResult(case.id, case.source, theirs, "ok", "", metrics, cmp.matched, cmp.mismatched + missing,
                      cmp.informational_mismatched)


@dataclass(frozen=True)
class ValidationSummary:
    """Counts over the cases that decide the verdict (MAESTRO's) and, separately, the informational ones."""

    results: tuple[CaseResult, ...]

    @property
    def decisive(self) -> list[CaseResult]:
        return [r for r in self.results if not r.informational]

    @property
    def informational(self) -> list[CaseResult]:
        return [r for r in self.results if r.informational]

    @property
    def passed(self) -> bool:
        return all(r.agrees for r in self.decisive)

    @staticmethod
    def agreement(results: Iterable[CaseResult]) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for r in results:
            out[(r.theirs, r.ours)] = out.get((r.theirs, r.ours), 0) + 1
        return out

    @staticmethod
    def metric_matches(results: Iterable[CaseResult]) -> dict[str, tuple[int, int]]:
        """Per metric: (cases matching, cases compared) over their-ok / our-ok cases."""
        keys = REQUIRED_METRICS + INFORMATIONAL_METRICS
        counts = {k: [0, 0] for k in keys}
        for r in results:
            if r.theirs != "ok" or r.ours != "ok":
                continue
            bad = {k for k, _, _ in r.mismatched + r.info_mismatched}
            for k in keys:
                if k in bad or k in r.matched:
                    counts[k][1] += 1
                    counts[k][0] += k not in bad
        return {k: (a, b) for k, (a, b) in counts.items()}


def _print_summary(summary: ValidationSummary, show: int, out_path: Path) -> None:
    from rich.table import Table

    console = _console()
    for label, results in (("MAESTRO (decides the exit code)", summary.decisive),
                           ("qMaestro (informational: a different model, never fails validate)",
                            summary.informational)):
        if not results:
            continue
        agree = ValidationSummary.agreement(results)
        t = Table(title=f"{label}: {len(results)} cases, {sum(r.agrees for r in results)} agree")
        t.add_column("theirs \\ ours")
        t.add_column("ok", justify="right")
        t.add_column("rejected", justify="right")
        errors = any(k[1] == "error" for k in agree)
        if errors:
            t.add_column("error", justify="right")
        for theirs in ("ok", "flagged", "rejected"):
            if any(k[0] == theirs for k in agree):
                row = [theirs] + [str(agree.get((theirs, ours), 0)) for ours in ("ok", "rejected", "error")]
                t.add_row(*row[:4 if errors else 3])
        console.print(t)
        m = Table(title="metrics on cases both ran (exact: equal; tolerant: rel 1e-5; info only: never fails)")
        m.add_column("metric")
        m.add_column("kind")
        m.add_column("match / compared", justify="right")
        for k, (good, total) in ValidationSummary.metric_matches(results).items():
            if total:
                style = "" if good == total else "[red]"
                kind = "exact" if k in EXACT_METRICS else ("tolerant" if k in REQUIRED_METRICS else "info only")
                m.add_row(k, kind, f"{style if kind != 'info only' else ''}{good} / {total}")
        console.print(m)
        bad = [r for r in results if not r.agrees]
        if bad:
            console.print(f"{len(bad)} disagreeing case(s), first {min(show, len(bad))}:")
            for r in bad[:show]:
                if r.theirs == "ok" and r.ours == "ok":
                    k, ours, theirs = r.mismatched[0]
                    detail = f"{k}: ours {_fmt(ours)} vs {_fmt(theirs)} (+{len(r.mismatched) - 1} more)"
                elif r.ours == "error":
                    detail = f"our analysis crashed: {r.reason}"
                elif r.theirs == "ok":
                    detail = f"we rejected: {r.reason}"
                else:
                    detail = f"they {r.theirs}, we computed metrics"
                console.print(f"  {r.case_id}: {detail}", markup=False)
    console.print(f"per-case results: {out_path}")
    if not summary.decisive:
        console.print("no MAESTRO case in this file: informational only")
    else:
        console.print("[green]PASS[/]: every MAESTRO case agrees" if summary.passed
                      else "[red]FAIL[/]: some MAESTRO cases disagree")


def _run_validate(args: argparse.Namespace) -> int:
    path = Path(args.cases)
    if not path.exists() and not path.is_absolute() and (ref := default_reference_dir()) is not None \
            and (ref / path.name).exists():
        path = ref / path.name
    cases = load_cases(path)
    if args.only:
        wanted = set(args.only)
        cases = [c for c in cases if c.id in wanted]
        if not cases:
            raise InputError(f"no case with id {', '.join(sorted(wanted))}", str(path), "check the ids")
    from .analysis import analyze

    out = Path(args.output)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fh = out.open("w", buffering=1)  # line-buffered: a crash keeps the lines so far
    except OSError as err:
        raise InputError(f"cannot write ({err.strerror})", str(out), "choose a writable --output path") from None
    results = []
    with fh:
        for case in cases:
            r = run_case(case, analyze, args.keep_going)
            results.append(r)
            fh.write(json.dumps(r.to_json()) + "\n")
    summary = ValidationSummary(tuple(results))
    _print_summary(summary, args.show, out)
    return 0 if summary.passed else 1


def _add_validate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check the cost model against MAESTRO's reference outputs",
                       description="Run every reference case through qmaestro.analysis and compare. Exit 0 only "
                                   "if every MAESTRO case agrees: their ok without flags = our ok with equal "
                                   "metrics; their rejection or flagged numbers = our rejection. qMaestro records "
                                   "(source qmaestro) are reported for information and never fail the run.")
    p.add_argument("cases", help="a reference .jsonl file (a bare name is also looked up in "
                                 "$QGAMMA_REFERENCE_DIR or ../shared/reference)")
    p.add_argument("--output", "-o", required=True, help="per-case results, one JSON line per case")
    p.add_argument("--show", type=int, default=10, help="how many disagreeing ids to list (default 10)")
    p.add_argument("--only", nargs="+", metavar="ID", help="run only these case ids")
    p.add_argument("--keep-going", action="store_true",
                   help="record unexpected exceptions as status 'error' and go on (default: stop with a traceback)")
    p.set_defaults(run=_run_validate)


# ---- entry point ---------------------------------------------------------------------------------------------
BUILTIN_SUBCOMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (_add_evaluate, _add_validate)


def build_parser(modules: Sequence[str] = SUBCOMMAND_MODULES) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qmaestro", description="MAESTRO-exact, precision-aware cost model.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in BUILTIN_SUBCOMMANDS:
        add(sub)
    for name in modules:
        add = getattr(importlib.import_module(name), "add_subcommand", None)
        if add is not None:
            add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except QMaestroError as err:
        print(f"error: {err.one_line()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `qmaestro evaluate ... --json | head`: the reader left, nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
