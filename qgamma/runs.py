"""A run on disk: runs/<run-id>/{run.yaml, results.json, logbook.csv, mappings/<layer>.m}.

Every file is replaced atomically (written to a temporary file in the same folder, then os.replace),
and results.json is written last for each finished layer, so a run killed at any moment holds only
complete layers and can be resumed. This module knows files and plain data (dicts), not the GA.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import yaml

from qmaestro.errors import InputError

RUN_FILE = "run.yaml"
RESULTS_FILE = "results.json"
LOGBOOK_FILE = "logbook.csv"
MAPPINGS_DIR = "mappings"
FORMAT_VERSION = 1

#: layer record statuses: ok = searched; unmappable = no feasible mapping (final); error = crashed (re-run on resume)
STATUS_OK, STATUS_UNMAPPABLE, STATUS_ERROR = "ok", "unmappable", "error"
FINAL_STATUSES = (STATUS_OK, STATUS_UNMAPPABLE)


def atomic_write_text(path: Path, text: str) -> None:
    """Write a file so that readers see either the old or the new content, never a torn one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def safe_filename(name: str) -> str:
    """A layer name as a file name (layer1.0.conv1 stays as it is; separators become _)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", name).strip(".")
    return cleaned or "layer"


def new_run_id(network: str, accelerator: str, objective: str, seed: int, now: datetime | None = None) -> str:
    """A readable, sortable run id: <UTC time>-<net>-<accelerator>-<objective>-s<seed>."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%d-%H%M%S")
    return safe_filename(f"{stamp}-{network}-{accelerator}-{objective.replace(',', '+')}-s{seed}")


def _json_safe(value: Any) -> Any:
    """inf/nan are not JSON: write them as null so results.json stays standard JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _json_safe(value.item())
    return value


def logbook_csv(rows: Iterable[dict[str, Any]]) -> str:
    """CSV text of logbook rows (per layer and generation); columns in first-seen order."""
    rows = list(rows)
    columns: list[str] = []
    for row in rows:
        for k in row:
            if k not in columns:
                columns.append(k)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_value(v) for k, v in row.items()})
    return buf.getvalue()


def _csv_value(v: Any) -> Any:
    if hasattr(v, "item") and callable(v.item):
        v = v.item()
    if isinstance(v, float):
        return repr(v)
    return v


def read_logbook(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@dataclass
class RunDir:
    """A run folder and what is in it: the inputs (config) and the finished layer records."""

    path: Path
    config: dict[str, Any]
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    logbook: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    # ---- creating and opening ------------------------------------------------------------------
    @classmethod
    def create(cls, runs_dir: str | Path, run_id: str, config: dict[str, Any]) -> "RunDir":
        """Make a new, empty run folder (a numeric suffix keeps ids unique) and write run.yaml."""
        base = Path(runs_dir)
        base.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, 1000):
            path = base / (run_id if attempt == 1 else f"{run_id}-{attempt}")
            try:
                path.mkdir()
                break
            except FileExistsError:
                continue
        else:
            raise InputError(f"cannot create a run folder for {run_id!r}", str(base), "clean up old runs")
        config = dict(config, run_id=path.name, format_version=FORMAT_VERSION)
        run = cls(path, config)
        atomic_write_text(path / RUN_FILE, yaml.safe_dump(_json_safe(config), sort_keys=False, width=110))
        run.write_results()
        return run

    @classmethod
    def open(cls, path: str | Path) -> "RunDir":
        """Read an existing run folder; errors say what is missing."""
        p = Path(path)
        if not (p / RUN_FILE).exists():
            raise InputError(f"not a run folder (no {RUN_FILE})", str(p), "give a folder under runs/ made by qgamma search")
        try:
            config = yaml.safe_load((p / RUN_FILE).read_text())
        except yaml.YAMLError:
            raise InputError(f"{RUN_FILE} is not valid YAML", str(p / RUN_FILE), "restore it or start a new run") from None
        records: dict[str, dict[str, Any]] = {}
        summary: dict[str, Any] = {}
        if (p / RESULTS_FILE).exists():
            try:
                results = json.loads((p / RESULTS_FILE).read_text())
            except json.JSONDecodeError:
                raise InputError(f"{RESULTS_FILE} is not valid JSON", str(p / RESULTS_FILE),
                                 "restore it or start a new run") from None
            for rec in results.get("layers", []) + results.get("trials", []):
                records[rec["key"]] = rec
            summary = {k: v for k, v in results.items() if k not in ("layers", "trials", "run_id", "format_version")}
        return cls(p, config, records, read_logbook(p / LOGBOOK_FILE), summary)

    # ---- recording -----------------------------------------------------------------------------
    def record(self, record: dict[str, Any], logbook_rows: Iterable[dict[str, Any]] = (),
               mapping_text: str | None = None, write_mapping: bool = True) -> None:
        """File one finished (or failed) layer: mapping, logbook, then results.json as the commit point."""
        key = record["key"]
        if mapping_text and write_mapping:
            atomic_write_text(self.mapping_path(record["layer"]), mapping_text)
        rows = [dict(key=key, **row) for row in logbook_rows]
        if rows or any(r.get("key") == key for r in self.logbook):
            self.logbook = [r for r in self.logbook if r.get("key") != key] + rows
            atomic_write_text(self.path / LOGBOOK_FILE, logbook_csv(self.logbook))
        self.records[key] = _json_safe(record)
        self.write_results()

    def write_mapping(self, layer_name: str, text: str) -> None:
        atomic_write_text(self.mapping_path(layer_name), text)

    def mapping_path(self, layer_name: str) -> Path:
        return self.path / MAPPINGS_DIR / f"{safe_filename(layer_name)}.m"

    def update_summary(self, **fields: Any) -> None:
        self.summary.update(_json_safe(fields))
        self.write_results()

    def write_results(self) -> None:
        chosen = self.layers
        chosen_keys = {r["key"] for r in chosen}
        trials = [r for k, r in self.records.items() if k not in chosen_keys]
        doc = {"run_id": self.path.name, "format_version": FORMAT_VERSION, **self.summary, "layers": chosen}
        if trials:
            doc["trials"] = trials
        atomic_write_text(self.path / RESULTS_FILE, json.dumps(_json_safe(doc), indent=1, allow_nan=False) + "\n")

    # ---- reading -------------------------------------------------------------------------------
    def finished_keys(self) -> set[str]:
        """Records that need no re-run (searched, or found unmappable)."""
        return {k for k, r in self.records.items() if r.get("status") in FINAL_STATUSES}

    @property
    def layers(self) -> list[dict[str, Any]]:
        """The chosen record of every layer, in network order (what reports show)."""
        chosen = self.summary.get("chosen_keys")
        if chosen:
            return [self.records[k] for k in chosen if k in self.records]
        if self.config.get("cluster") == "auto":
            return []  # trials of several cluster sizes; nothing is chosen until all are done
        order = self.config.get("layer_order") or []
        by_layer = {r.get("layer"): r for r in self.records.values()}
        return [by_layer[n] for n in order if n in by_layer]

    @property
    def totals(self) -> dict[str, Any]:
        return dict(self.summary.get("totals") or network_totals(self.layers))


def network_totals(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Network sums over searched layers; network EDP = total energy x total latency."""
    ok = [r for r in records if r.get("status") == STATUS_OK]
    latency = sum(float(r["latency_cycles"]) for r in ok)
    energy = sum(float(r["energy_nj"]) for r in ok)
    totals: dict[str, Any] = {
        "layers": len(ok), "macs": sum(int(r.get("macs", 0)) for r in ok),
        "latency_cycles": latency, "energy_nj": energy, "edp": latency * energy,
        "evaluations": sum(int(r.get("evaluations", 0)) for r in ok),
        "seconds": sum(float(r.get("seconds", 0.0)) for r in ok)}
    classic = [r.get("classic") or {} for r in ok]
    if ok and all(c.get("latency_cycles") and c.get("energy_nj") for c in classic):
        c_latency = sum(float(c["latency_cycles"]) for c in classic)
        c_energy = sum(float(c["energy_nj"]) for c in classic)
        totals.update(classic_latency_cycles=c_latency, classic_energy_nj=c_energy, classic_edp=c_latency * c_energy)
    return totals
