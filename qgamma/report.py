"""Reports: plain rows built from a run's records (pure), and their rich rendering (separate).

`run_rows` / `comparison` turn results into lists of dicts a notebook can use; `render_*` draw them;
`SearchProgress` is the live view of a search (a bar per layer with generation, best so far, early stop).
"""
from __future__ import annotations

import math
import threading
from typing import Any, Mapping, Sequence

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from .runs import STATUS_OK, RunDir, network_totals

METRICS = ("latency_cycles", "energy_nj", "edp")
OBJECTIVE_METRIC = {"latency": "latency_cycles", "energy": "energy_nj", "edp": "edp"}


# ---- data ------------------------------------------------------------------------------------------
def primary_metric(objective: str | Sequence[str]) -> str:
    """The result field the (first) objective minimises."""
    first = objective.split(",")[0] if isinstance(objective, str) else objective[0]
    return OBJECTIVE_METRIC.get(first.strip(), "edp")


def gain_over_classic(record: Mapping[str, Any], metric: str) -> float | None:
    """How many times better than the best classic dataflow the search's mapping is (classic / ours)."""
    classic = record.get("classic") or {}
    ours, theirs = record.get(metric), classic.get(metric)
    if not ours or not theirs:
        return None
    return float(theirs) / float(ours)


def run_rows(run: RunDir) -> list[dict[str, Any]]:
    """One row per layer: what the results table shows, as plain values."""
    metric = primary_metric(run.config.get("objective", "edp"))
    rows = []
    for r in run.layers:
        row = {"layer": r["layer"], "status": r.get("status"), "precision": r.get("precision_name", ""),
               "macs": r.get("macs"), "cluster": r.get("cluster"), "summary": r.get("summary", ""),
               "reason": r.get("reason")}
        if r.get("status") == STATUS_OK:
            row.update({m: r.get(m) for m in METRICS})
            row["utilisation"] = r.get("utilisation")
            row["gain_over_classic"] = gain_over_classic(r, metric)
            row["classic"] = (r.get("classic") or {}).get("name")
        rows.append(row)
    return rows


def _ratio(a: Any, b: Any) -> float | None:
    if a is None or b is None or not float(b):
        return None
    return float(a) / float(b)


def comparison(a: RunDir, b: RunDir) -> dict[str, Any]:
    """Per-layer and total ratios b / a of latency, energy and EDP (below 1: run b is better)."""
    rec_a = {r["layer"]: r for r in a.layers}
    rec_b = {r["layer"]: r for r in b.layers}
    names = [n for n in rec_a if n in rec_b] + [n for n in rec_b if n not in rec_a]
    rows = []
    for n in names:
        ra, rb = rec_a.get(n), rec_b.get(n)
        row: dict[str, Any] = {"layer": n,
                               "precision_a": (ra or {}).get("precision_name"),
                               "precision_b": (rb or {}).get("precision_name")}
        for m in METRICS:
            va = ra.get(m) if ra and ra.get("status") == STATUS_OK else None
            vb = rb.get(m) if rb and rb.get("status") == STATUS_OK else None
            row[f"{m}_a"], row[f"{m}_b"], row[f"{m}_ratio"] = va, vb, _ratio(vb, va)
        rows.append(row)
    common = [n for n in names if n in rec_a and n in rec_b]
    ta = network_totals(rec_a[n] for n in common)
    tb = network_totals(rec_b[n] for n in common)
    totals = {"layers": len(common)}
    for m in METRICS:
        totals[f"{m}_a"], totals[f"{m}_b"], totals[f"{m}_ratio"] = ta[m], tb[m], _ratio(tb[m], ta[m])
    only = sorted(set(rec_a) ^ set(rec_b))
    return {"a": str(a.path), "b": str(b.path), "rows": rows, "totals": totals, "not_in_both": only}


# ---- formatting ------------------------------------------------------------------------------------
def fmt_number(v: Any, digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    v = float(v)
    if v == 0:
        return "0"
    if abs(v) >= 1e6 or abs(v) < 1e-2:
        return f"{v:.{digits - 1}e}"
    if float(v).is_integer():
        return f"{int(v):,}"
    return f"{v:,.{max(0, digits - len(str(int(abs(v)))))}f}"


def fmt_ratio(v: Any) -> str:
    return "-" if v is None else f"{float(v):.2f}x"


def fmt_percent(v: Any) -> str:
    return "-" if v is None else f"{100 * float(v):.0f}%"


# ---- rendering -------------------------------------------------------------------------------------
def results_table(run: RunDir) -> Table:
    cfg = run.config
    title = (f"{cfg.get('network', {}).get('name', '?')} on {cfg.get('accelerator', {}).get('name', '?')}, "
             f"objective {cfg.get('objective')}, seed {cfg.get('seed')}")
    cluster = run.summary.get("cluster")
    if cluster is not None:
        title += f", {cluster} PEs per cluster"
    table = Table(title=title, title_justify="left")
    for col, just in (("layer", "left"), ("precision", "left"), ("MACs", "right"), ("latency (cyc)", "right"),
                      ("energy (nJ)", "right"), ("EDP", "right"), ("util", "right"), ("x classic", "right"),
                      ("mapping", "left")):
        table.add_column(col, justify=just, no_wrap=col != "mapping")
    for row in run_rows(run):
        if row["status"] != STATUS_OK:
            table.add_row(row["layer"], row["precision"], fmt_number(row["macs"]),
                          f"[red]{row['status']}[/red]", "", "", "", "", row.get("reason") or "")
            continue
        table.add_row(row["layer"], row["precision"], fmt_number(row["macs"]), fmt_number(row["latency_cycles"]),
                      fmt_number(row["energy_nj"]), fmt_number(row["edp"]), fmt_percent(row["utilisation"]),
                      fmt_ratio(row["gain_over_classic"]), row["summary"])
    totals = run.totals
    metric = primary_metric(run.config.get("objective", "edp"))
    table.add_section()
    table.add_row("[b]total[/b]", "", fmt_number(totals.get("macs")), fmt_number(totals.get("latency_cycles")),
                  fmt_number(totals.get("energy_nj")), fmt_number(totals.get("edp")), "",
                  fmt_ratio(_ratio(totals.get(f"classic_{metric}"), totals.get(metric))),
                  f"{totals.get('layers', 0)} layers searched")
    return table


def wide_console(stderr: bool = False) -> Console:
    """A console that does not squeeze tables to 80 columns when output goes to a file or pipe."""
    probe = Console(stderr=stderr)
    return probe if probe.is_terminal else Console(stderr=stderr, width=200)


def render_run(run: RunDir, console: Console | None = None) -> None:
    """Print a run's table, its totals and where its files are."""
    console = console or wide_console()
    console.print(results_table(run))
    totals = run.totals
    failed = [r for r in run.layers if r.get("status") != STATUS_OK]
    expected = len(run.config.get("layer_order") or [])
    done = len(run.layers)
    line = (f"{totals.get('evaluations', 0):,} evaluations in {fmt_number(totals.get('seconds'))} s of search; "
            f"run {run.path}")
    if run.summary.get("cluster_totals"):
        per = ", ".join(f"{k}: {fmt_number(v)}" for k, v in run.summary["cluster_totals"].items())
        line += f"\nnetwork objective per PEs-per-cluster value: {per}"
    console.print(line)
    if failed:
        console.print(f"[yellow]{len(failed)} layer(s) not mapped: "
                      + "; ".join(f"{r['layer']}: {r.get('reason')}" for r in failed) + "[/yellow]")
    if expected and done < expected:
        console.print(f"[yellow]{done} of {expected} layers finished; resume with: "
                      f"qgamma search --resume {run.path}[/yellow]")


def comparison_table(cmp: Mapping[str, Any]) -> Table:
    table = Table(title=f"b / a   a = {cmp['a']}   b = {cmp['b']}", title_justify="left")
    for col in ("layer", "precision a", "precision b", "latency a", "latency b", "latency b/a", "energy b/a",
                "EDP b/a"):
        table.add_column(col, justify="left" if col.startswith(("layer", "precision")) else "right")
    for r in cmp["rows"]:
        table.add_row(r["layer"], r["precision_a"] or "-", r["precision_b"] or "-",
                      fmt_number(r["latency_cycles_a"]), fmt_number(r["latency_cycles_b"]),
                      fmt_ratio(r["latency_cycles_ratio"]), fmt_ratio(r["energy_nj_ratio"]), fmt_ratio(r["edp_ratio"]))
    t = cmp["totals"]
    table.add_section()
    table.add_row("[b]total[/b]", "", "", fmt_number(t["latency_cycles_a"]), fmt_number(t["latency_cycles_b"]),
                  fmt_ratio(t["latency_cycles_ratio"]), fmt_ratio(t["energy_nj_ratio"]), fmt_ratio(t["edp_ratio"]))
    return table


def render_comparison(cmp: Mapping[str, Any], console: Console | None = None) -> None:
    console = console or wide_console()
    console.print(comparison_table(cmp))
    if cmp["not_in_both"]:
        console.print(f"[yellow]not in both runs (left out of the totals): {', '.join(cmp['not_in_both'])}[/yellow]")


# ---- live progress ---------------------------------------------------------------------------------
class SearchProgress:
    """A bar per layer: generation / maximum, best objective so far, and how the layer ended.

    Thread-safe (updates may come from a queue-draining thread). `enabled=False` makes every call a no-op.
    """

    def __init__(self, enabled: bool = True, console: Console | None = None, metric: str = "best"):
        self.enabled = enabled
        self.metric = metric
        self._lock = threading.Lock()
        self._tasks: dict[str, TaskID] = {}
        self._progress = Progress(
            TextColumn("{task.fields[name]}", justify="left"), BarColumn(bar_width=24),
            TextColumn("{task.completed:>5.0f}/{task.total:<5.0f}"), TextColumn("{task.fields[best]}"),
            TextColumn("{task.fields[note]}"), TimeElapsedColumn(),
            console=console or Console(stderr=True), transient=False, disable=not enabled)

    def __enter__(self) -> "SearchProgress":
        if self.enabled:
            self._progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.enabled:
            self._progress.stop()

    def add(self, key: str, generations: int) -> None:
        with self._lock:
            self._tasks[key] = self._progress.add_task("", total=max(1, generations), name=key, best="",
                                                       note="waiting")

    def update(self, key: str, generation: int, best: float | None = None) -> None:
        with self._lock:
            task = self._tasks.get(key)
            if task is not None:
                self._progress.update(task, completed=generation, note="",
                                      best=f"{self.metric} {fmt_number(best)}" if best is not None else "")

    def finish(self, key: str, record: Mapping[str, Any], metric: str) -> None:
        with self._lock:
            task = self._tasks.get(key)
            if task is None:
                return
            if record.get("status") == STATUS_OK:
                gens = int(record.get("generations", 0))
                total = self._progress.tasks[self._task_index(task)].total or gens
                note = "early stop" if record.get("stopped_early") else "done"
                self._progress.update(task, completed=total, best=f"{self.metric} {fmt_number(record.get(metric))}",
                                      note=f"{note} at gen {gens}")
            else:
                self._progress.update(task, note=f"[red]{record.get('status')}: {record.get('reason')}[/red]")

    def _task_index(self, task: TaskID) -> int:
        return [t.id for t in self._progress.tasks].index(task)
