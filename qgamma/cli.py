"""The `qgamma` command: a thin layer over qgamma.search and qgamma.report.

    qgamma search NET [options]      search every layer, write runs/<run-id>/, print the table
    qgamma search --resume RUN_DIR   finish an interrupted run
    qgamma report RUN_DIR            re-render a run
    qgamma compare RUN_A RUN_B       per-layer and total ratios
    qgamma list                      bundled networks, accelerators and bit configurations

User errors print one line on stderr and exit 2. Another module can add a subcommand by defining
`register_cli(subparsers)` (qgamma.explore does): it adds its parser and sets `func=handler`, where
`handler(args) -> int` is the exit code.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from typing import Any, Sequence

from qmaestro.errors import InputError, QMaestroError

#: modules that may register subcommands (optional: a missing one is skipped)
PLUGIN_MODULES = ("qgamma.explore",)
#: Settings fields with their own spelled-out options (the other numeric fields get --field-name)
_EXPLICIT = {"population_2level", "population_3level", "generations", "patience", "heuristics", "constraint",
             "seed_classics"}


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line on stderr and exits 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number or -1, got {text!r}") from None
    if value == 0 or value < -1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1 or -1 (all cores), got {value}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def _cluster(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected a number of PEs per cluster or 'auto', got {text!r}") from None


def _add_search(sub: Any) -> None:
    from .settings import Settings

    p = sub.add_parser("search", help="search the best mapping of every layer of a network",
                       description="Search the best mapping of every layer of a network; writes runs/<run-id>/.")
    p.add_argument("net", nargs="?", help="bundled network name (e.g. resnet18_mixed) or a .yaml/.csv/.m path")
    p.add_argument("--objective", default="edp", help="latency | energy | edp, or several: latency,energy")
    p.add_argument("--accelerator", default="edge16", help="bundled accelerator name or a YAML path")
    p.add_argument("--layers", help="comma-separated layer names (default: every layer)")
    p.add_argument("--bits", help="re-quantize: hawq:CONFIG (e.g. hawq:latency_0.5), TABLE.yaml:CONFIG or int4")
    p.add_argument("--jobs", type=_jobs, default=-1, help="parallel layer searches (-1: every core)")
    p.add_argument("--seed", type=_non_negative_int, default=0, help="random seed (same seed, same result)")
    p.add_argument("--cluster", type=_cluster, default=None,
                   help="PEs per cluster for every layer, or 'auto' to pick the best for the whole network")
    p.add_argument("--population", type=_positive_int,
                   help="population of 2-level (32-bit) layers; 3-level layers get twice as many (qGamma)")
    p.add_argument("--population-2level", type=_positive_int, help="population of 2-level layers")
    p.add_argument("--population-3level", type=_positive_int, help="population of 3-level layers")
    p.add_argument("--generations", type=_non_negative_int, help="maximum generations per layer")
    p.add_argument("--early-stop", type=_non_negative_int, dest="patience",
                   help="stop a layer after N generations without improvement (0: never)")
    p.add_argument("--no-heuristics", action="store_true", help="search the full space (no qGamma heuristics)")
    p.add_argument("--seed-genomes", action="store_true",
                   help="put the named genomes (genomes/*.yaml, adapted per layer) into every initial population")
    defaults = Settings()
    for f in fields(Settings):
        value = getattr(defaults, f.name)
        if f.name in _EXPLICIT or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        p.add_argument(f"--{f.name.replace('_', '-')}", type=type(value), dest=f.name,
                       help=f"GA setting {f.name} (default {value})")
    p.add_argument("--scheduler", help="Dask scheduler address tcp://HOST:PORT (needs qgamma[dask])")
    p.add_argument("--runs-dir", default="runs", help="where run folders go (default: runs)")
    p.add_argument("--resume", metavar="RUN_DIR", help="finish an interrupted run (other options come from it)")
    p.add_argument("--no-progress", action="store_true", help="no live progress bars")
    p.set_defaults(func=cmd_search)


def settings_from_args(args: argparse.Namespace) -> Any:
    """qgamma Settings from the command line (qGamma defaults for everything not given)."""
    from .settings import Heuristics, Settings

    changes: dict[str, Any] = {}
    if args.population:
        changes.update(population_2level=args.population, population_3level=2 * args.population)
    for name in ("population_2level", "population_3level", "generations", "patience"):
        if getattr(args, name, None) is not None:
            changes[name] = getattr(args, name)
    for f in fields(Settings):
        if f.name not in _EXPLICIT and getattr(args, f.name, None) is not None:
            changes[f.name] = getattr(args, f.name)
    if args.no_heuristics:
        changes["heuristics"] = Heuristics.off()
    return Settings(**changes)


def cmd_search(args: argparse.Namespace) -> int:
    from .report import render_run
    from .runs import RunDir
    from .search import SearchInterrupted, search

    if args.resume and args.net:
        raise InputError("give either NET or --resume RUN_DIR, not both", "qgamma search",
                         "drop NET to resume a run")
    if not args.resume and not args.net:
        raise InputError("no network given", "qgamma search", "write e.g. qgamma search resnet18_mixed")
    try:
        result = search(args.net, accelerator=args.accelerator, objective=args.objective,
                        layers=args.layers.split(",") if args.layers else None, jobs=args.jobs, seed=args.seed,
                        cluster=args.cluster, settings=settings_from_args(args), scheduler=args.scheduler,
                        runs_dir=args.runs_dir, resume=args.resume, seed_genomes=args.seed_genomes,
                        progress=not args.no_progress and sys.stderr.isatty(), bits=args.bits,
                        command=["qgamma", *sys.argv[1:]])
    except SearchInterrupted as stop:
        print(f"qgamma: interrupted; finished layers are kept in {stop.run_dir}; "
              f"resume with: qgamma search --resume {stop.run_dir}", file=sys.stderr)
        return 130
    render_run(RunDir.open(result.run_dir))
    crashed = [r for r in result.layers if r.get("status") == "error"]
    return 1 if crashed else 0  # unmappable layers are a verdict, recorded with their reason


def cmd_report(args: argparse.Namespace) -> int:
    from .report import render_run, run_rows
    from .runs import RunDir

    run = RunDir.open(args.run)
    if args.json:
        print(json.dumps({"rows": run_rows(run), "totals": run.totals}, indent=1))
    else:
        render_run(run)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .report import comparison, render_comparison
    from .runs import RunDir

    cmp = comparison(RunDir.open(args.a), RunDir.open(args.b))
    if args.json:
        print(json.dumps(cmp, indent=1))
    else:
        render_comparison(cmp)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from qmaestro.accelerator import builtin_names

    from .network import BIT_TABLES, bit_configs, bundled_names

    print("networks:     " + ", ".join(bundled_names()))
    print("accelerators: " + ", ".join(builtin_names()))
    for table in BIT_TABLES:
        print(f"bits ({table}):  " + ", ".join(f"{table}:{c}" for c in bit_configs(table)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="qgamma", description="Quantization-aware dataflow mapping search.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    _add_search(sub)
    p = sub.add_parser("report", help="re-render a run")
    p.add_argument("run", help="a run folder (runs/<run-id>)")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("compare", help="per-layer and total ratios of two runs (b / a)")
    p.add_argument("a", help="the baseline run folder")
    p.add_argument("b", help="the run compared with it")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.set_defaults(func=cmd_compare)
    p = sub.add_parser("list", help="bundled networks, accelerators and bit configurations")
    p.set_defaults(func=cmd_list)
    _register_plugins(sub)
    return parser


def _register_plugins(sub: Any) -> None:
    """Let optional modules (qgamma.explore) add their subcommands."""
    import importlib

    for name in PLUGIN_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name == name:
                continue
            raise
        register = getattr(module, "register_cli", None)
        if register is not None:
            register(sub)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except QMaestroError as err:
        print(f"qgamma: {err.one_line()}", file=sys.stderr)
        return 2
    except OSError as err:
        where = f" {err.filename}" if getattr(err, "filename", None) else ""
        print(f"qgamma: cannot access{where}: {err.strerror or err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qgamma: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
