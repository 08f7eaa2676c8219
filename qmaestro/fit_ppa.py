"""``qmaestro fit-ppa DATA.csv``: polynomial area/power models fitted to a characterisation table.

QUIDAM's method (shared/seeds/001, Sec. 3.3): per PE kind, regress area and power on the scratchpad sizes
and the number of PEs with a polynomial of total degree K, choosing K by k-fold cross-validation on the
mean absolute percentage error (MAPE) and root mean square percentage error (RMSPE). The fitted model is
written to a YAML/JSON file that an accelerator names with ``tech: {ppa_model: model.yaml}`` (see ppa.py).

The table: one row per characterised design, a header naming the columns. Feature columns default to
``num_pes,l1_bytes,l2_bytes`` (accelerator fields), targets to ``area_mm2,power_mw``; an optional
``pe_kind`` column gives one model per kind. Units travel in the column names.
"""
from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import yaml

from .errors import InputError

DEFAULT_FEATURES = ("num_pes", "l1_bytes", "l2_bytes")
DEFAULT_TARGETS = ("area_mm2", "power_mw")
GROUP_COLUMN = "pe_kind"
ALL_GROUP = "all"
FORMAT_TAG = "qmaestro-ppa-model"
#: a simpler degree wins when its cross-validated error is within this of the best (percent points / relative)
DEGREE_ABS_TOL = 1e-6
DEGREE_REL_TOL = 1e-3
#: target column name -> (quantity, factor to the PPA unit: um^2 for area, mW for power)
TARGET_UNITS = {"area_mm2": ("area", 1e6), "area_um2": ("area", 1.0), "power_mw": ("power", 1.0),
                "power_w": ("power", 1e3), "power_uw": ("power", 1e-3), "leakage_mw": ("leakage", 1.0)}


# ---- the table ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Table:
    """Numeric feature/target columns of a characterisation CSV, with an optional group (PE kind) column."""

    path: str
    features: tuple[str, ...]
    targets: tuple[str, ...]
    X: np.ndarray
    Y: np.ndarray
    groups: tuple[str, ...]

    def rows_of(self, group: str) -> np.ndarray:
        return np.array([i for i, g in enumerate(self.groups) if g == group], dtype=np.int64)


def read_table(path: str | Path, features: Sequence[str] = DEFAULT_FEATURES,
               targets: Sequence[str] = DEFAULT_TARGETS) -> Table:
    """Read and check the CSV; every problem is one InputError naming the file, line and column."""
    p = Path(path)
    if not p.is_file():
        raise InputError("file not found", str(p), "give the path of a CSV characterisation table")
    try:
        with p.open(newline="") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise InputError(f"cannot read CSV ({err})", str(p), "give a plain-text comma-separated file") from None
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise InputError("the CSV is empty", str(p), f"add a header with {', '.join(list(features) + list(targets))}")
    header = [c.strip().lower() for c in rows[0]]
    wanted = [f.lower() for f in features] + [t.lower() for t in targets]
    missing = [c for c in wanted if c not in header]
    if missing:
        raise InputError(f"missing column(s) {missing}", f"{p}:1",
                         f"the header has {header}; add the columns or choose others with --features/--targets")
    if len(set(wanted)) != len(wanted):
        raise InputError("a column is used twice as feature/target", "--features/--targets", "list each column once")
    idx = [header.index(c) for c in wanted]
    gidx = header.index(GROUP_COLUMN) if GROUP_COLUMN in header else None
    values = np.empty((len(rows) - 1, len(wanted)))
    groups = []
    for r, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise InputError(f"{len(row)} fields where the header has {len(header)}", f"{p}:{r}",
                             "give one value per column")
        for j, (c, name) in enumerate(zip(idx, wanted)):
            try:
                v = float(row[c])
            except ValueError:
                raise InputError(f"non-numeric value {row[c]!r} in column {name!r}", f"{p}:{r}",
                                 "write plain numbers (no units) in feature and target columns") from None
            if not math.isfinite(v):
                raise InputError(f"non-finite value {row[c]!r} in column {name!r}", f"{p}:{r}", "write finite numbers")
            values[r - 2, j] = v
        groups.append(row[gidx].strip().lower() if gidx is not None else ALL_GROUP)
    nf = len(features)
    Y = values[:, nf:]
    bad = np.argwhere(Y <= 0)
    if bad.size:
        r, j = bad[0]
        raise InputError(f"target {wanted[nf + j]!r} is {Y[r, j]:g}; percentage errors need values > 0",
                         f"{p}:{r + 2}", "remove the row or fix the value")
    return Table(str(p), tuple(f.lower() for f in features), tuple(t.lower() for t in targets),
                 values[:, :nf], Y, tuple(groups))


# ---- the polynomial ---------------------------------------------------------------------------------------
def exponents(num_features: int, degree: int) -> np.ndarray:
    """Every monomial of total degree <= ``degree``: rows of per-feature exponents, constant term first."""
    rows = []
    for total in range(degree + 1):
        for combo in itertools.combinations_with_replacement(range(num_features), total):
            e = [0] * num_features
            for i in combo:
                e[i] += 1
            rows.append(e)
    return np.array(rows, dtype=np.int64).reshape(-1, num_features)


def design_matrix(X: np.ndarray, exps: np.ndarray) -> np.ndarray:
    return np.prod(X[:, None, :] ** exps[None, :, :], axis=2)


@dataclass(frozen=True)
class PolynomialModel:
    """y = sum_j c_j prod_i (x_i / scale_i)^e_ij. Scaling keeps a degree-5 fit of byte counts well conditioned."""

    features: tuple[str, ...]
    degree: int
    scale: tuple[float, ...]
    exponents: tuple[tuple[int, ...], ...]
    coefficients: tuple[float, ...]

    def predict(self, X: np.ndarray) -> np.ndarray:
        Xs = np.atleast_2d(np.asarray(X, dtype=np.float64)) / np.array(self.scale)
        return design_matrix(Xs, np.array(self.exponents, dtype=np.int64)) @ np.array(self.coefficients)

    def to_dict(self) -> dict[str, Any]:
        return {"degree": self.degree, "scale": list(self.scale), "exponents": [list(e) for e in self.exponents],
                "coefficients": list(self.coefficients)}

    @classmethod
    def from_dict(cls, features: Sequence[str], d: Mapping[str, Any], where: str) -> "PolynomialModel":
        try:
            m = cls(tuple(features), int(d["degree"]), tuple(float(s) for s in d["scale"]),
                    tuple(tuple(int(x) for x in e) for e in d["exponents"]), tuple(float(c) for c in d["coefficients"]))
        except (KeyError, TypeError, ValueError):
            raise InputError("malformed polynomial (needs degree, scale, exponents, coefficients)", where,
                             "re-create the file with qmaestro fit-ppa") from None
        if len(m.scale) != len(features) or len(m.exponents) != len(m.coefficients) \
                or any(len(e) != len(features) for e in m.exponents):
            raise InputError("polynomial sizes do not match its features", where, "re-create the file with qmaestro fit-ppa")
        return m


def fit_polynomial(X: np.ndarray, y: np.ndarray, degree: int, features: Sequence[str],
                   scale: np.ndarray | None = None) -> PolynomialModel:
    """Least-squares polynomial of total degree ``degree`` (numpy lstsq; no scikit-learn)."""
    if scale is None:
        scale = np.max(np.abs(X), axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    exps = exponents(X.shape[1], degree)
    A = design_matrix(X / scale, exps)
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    return PolynomialModel(tuple(features), degree, tuple(float(s) for s in scale),
                           tuple(tuple(int(x) for x in e) for e in exps), tuple(float(c) for c in coef))


def mape(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.mean(np.abs((y - pred) / y)) * 100.0)


def rmspe(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.sqrt(np.mean(((y - pred) / y) ** 2)) * 100.0)


def kfold_indices(n: int, k: int, seed: int) -> list[np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return [order[i::k] for i in range(k)]


@dataclass(frozen=True)
class DegreeScore:
    """Cross-validated errors of one degree (None when some training fold has fewer rows than terms)."""

    degree: int
    terms: int
    mape: float | None
    rmspe: float | None

    @property
    def score(self) -> float | None:
        return None if self.mape is None else (self.mape + self.rmspe) / 2.0


def cross_validate(X: np.ndarray, y: np.ndarray, degree: int, k: int, seed: int,
                   features: Sequence[str]) -> DegreeScore:
    """Out-of-fold predictions for every row, then MAPE and RMSPE over all rows."""
    terms = len(exponents(X.shape[1], degree))
    folds = kfold_indices(len(y), k, seed)
    scale = np.max(np.abs(X), axis=0)
    pred = np.empty_like(y)
    for f in folds:
        train = np.setdiff1d(np.arange(len(y)), f)
        if len(train) < terms:
            return DegreeScore(degree, terms, None, None)
        pred[f] = fit_polynomial(X[train], y[train], degree, features, scale).predict(X[f])
    return DegreeScore(degree, terms, mape(y, pred), rmspe(y, pred))


def choose_degree(scores: Sequence[DegreeScore]) -> int:
    """The simplest degree whose mean of MAPE and RMSPE is within tolerance of the best."""
    valid = [s for s in scores if s.score is not None]
    if not valid:
        raise InputError("too few rows to cross-validate even a degree-1 polynomial", "fit-ppa",
                         "add characterised designs or lower --folds")
    best = min(s.score for s in valid)
    return min(s.degree for s in valid if s.score <= best * (1 + DEGREE_REL_TOL) + DEGREE_ABS_TOL)


# ---- fitting a whole table ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TargetFit:
    group: str
    target: str
    scores: tuple[DegreeScore, ...]
    model: PolynomialModel

    @property
    def chosen(self) -> DegreeScore:
        return next(s for s in self.scores if s.degree == self.model.degree)


def fit_table(table: Table, folds: int = 5, max_degree: int = 5, seed: int = 0) -> list[TargetFit]:
    """Per group and target: cross-validate degrees 1..max_degree, refit the chosen degree on all rows."""
    if folds < 2:
        raise InputError(f"--folds must be >= 2, got {folds}", "--folds", "use e.g. 5")
    if max_degree < 1:
        raise InputError(f"--max-degree must be >= 1, got {max_degree}", "--max-degree", "use e.g. 5")
    fits = []
    for group in sorted(set(table.groups)):
        rows = table.rows_of(group)
        if len(rows) < folds:
            raise InputError(f"{len(rows)} row(s) for {group!r}, fewer than the {folds} folds", table.path,
                             f"add rows (at least {folds} per PE kind) or lower --folds")
        X = table.X[rows]
        for t, target in enumerate(table.targets):
            y = table.Y[rows, t]
            scores = tuple(cross_validate(X, y, d, folds, seed, table.features) for d in range(1, max_degree + 1))
            try:
                degree = choose_degree(scores)
            except InputError as err:
                raise InputError(f"{err.what} ({len(rows)} rows for {group!r})", table.path, err.fix) from None
            fits.append(TargetFit(group, target, scores, fit_polynomial(X, y, degree, table.features)))
    return fits


# ---- the model file -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PPAModelFile:
    """Fitted models by group (PE kind or 'all') and target; what ``tech: {ppa_model: ...}`` points to."""

    features: tuple[str, ...]
    models: Mapping[str, Mapping[str, PolynomialModel]]
    source: str = ""
    scores: Mapping[str, Any] = field(default_factory=dict, compare=False)
    #: feature values given in the accelerator's ``ppa_model: {file, features}`` (override its fields)
    inputs: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_fits(cls, fits: Sequence[TargetFit], features: Sequence[str], source: str) -> "PPAModelFile":
        models: dict[str, dict[str, PolynomialModel]] = {}
        scores: dict[str, dict[str, Any]] = {}
        for f in fits:
            models.setdefault(f.group, {})[f.target] = f.model
            c = f.chosen
            scores.setdefault(f.group, {})[f.target] = {"cv_mape_pct": c.mape, "cv_rmspe_pct": c.rmspe}
        return cls(tuple(features), models, source, scores)

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT_TAG, "version": 1, "source": self.source, "features": list(self.features),
                "models": {g: {t: {**m.to_dict(), **self.scores.get(g, {}).get(t, {})} for t, m in ts.items()}
                           for g, ts in self.models.items()}}

    def save(self, path: str | Path) -> Path:
        p = Path(path)
        text = json.dumps(self.to_dict(), indent=1) if p.suffix.lower() == ".json" \
            else yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None)
        tmp = p.with_name(p.name + ".tmp")
        tmp.write_text(text)
        tmp.replace(p)
        return p

    @classmethod
    def load(cls, spec: str | Path | Mapping[str, Any]) -> "PPAModelFile":
        path = spec.get("file") if isinstance(spec, Mapping) else spec
        if not path:
            raise InputError("ppa_model needs a file", "tech.ppa_model", "write ppa_model: path/to/model.yaml")
        p = Path(path)
        if not p.is_file():
            raise InputError("PPA model file not found", str(p), "run qmaestro fit-ppa DATA.csv -o model.yaml first")
        try:
            data = json.loads(p.read_text()) if p.suffix.lower() == ".json" else yaml.safe_load(p.read_text())
        except (json.JSONDecodeError, yaml.YAMLError):
            raise InputError("malformed PPA model file", str(p), "re-create it with qmaestro fit-ppa") from None
        if not isinstance(data, Mapping) or data.get("format") != FORMAT_TAG:
            raise InputError(f"not a {FORMAT_TAG} file", str(p), "re-create it with qmaestro fit-ppa")
        feats = tuple(data.get("features") or ())
        models = {str(g): {str(t): PolynomialModel.from_dict(feats, m, f"{p}:{g}.{t}") for t, m in ts.items()}
                  for g, ts in (data.get("models") or {}).items()}
        extra = dict(spec.get("features") or {}) if isinstance(spec, Mapping) else {}
        return cls(feats, models, str(p), {}, extra)

    def feature_vector(self, acc: Any) -> np.ndarray:
        """Feature values of an accelerator: ``ppa_model.features`` entries first, then its fields."""
        out = []
        for f in self.features:
            v = self.inputs.get(f, getattr(acc, f, None))
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise InputError(f"the PPA model needs feature {f!r}, which the accelerator lacks",
                                 f"accelerator {acc.name!r}",
                                 f"write tech: {{ppa_model: {{file: {self.source}, features: {{{f}: <number>}}}}}}")
            out.append(float(v))
        return np.array(out)

    def ppa(self, acc: Any, kind: Any) -> Any:
        """A PPA from the fitted area/power (and optional leakage) targets of ``kind``'s group."""
        from .ppa import PPA
        group = self.models.get(kind.name) or self.models.get(ALL_GROUP)
        if group is None:
            raise InputError(f"the PPA model has no fit for PE kind {kind.name!r}", self.source,
                             f"fit rows for it (groups: {', '.join(self.models)})")
        x = self.feature_vector(acc)
        got = {}
        for target, model in group.items():
            if target in TARGET_UNITS:
                quantity, factor = TARGET_UNITS[target]
                got[quantity] = float(model.predict(x)[0]) * factor
        if "area" not in got or "power" not in got:
            raise InputError("the PPA model needs an area and a power target", self.source,
                             f"fit targets named among {', '.join(TARGET_UNITS)}")
        leak = got.get("leakage", 0.0)
        return PPA(kind.name, kind.clock_mhz, {"total": got["area"]}, {"total": leak},
                   {"total": got["power"] - leak}, f"fitted:{self.source}")


# ---- CLI ----------------------------------------------------------------------------------------------------
def _names(text: str, flag: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names:
        raise InputError(f"{flag} is empty", flag, "give comma-separated column names")
    return names


def add_subcommand(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("fit-ppa", help="fit polynomial area/power models to a characterisation CSV",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("data", help="CSV with a header; one row per characterised design")
    p.add_argument("-o", "--output", help="model file to write (.yaml or .json; default DATA_ppa.yaml)")
    p.add_argument("--features", default=",".join(DEFAULT_FEATURES), help="feature columns (default %(default)s)")
    p.add_argument("--targets", default=",".join(DEFAULT_TARGETS), help="target columns (default %(default)s)")
    p.add_argument("--folds", type=int, default=5, help="k of k-fold cross-validation (default 5)")
    p.add_argument("--max-degree", type=int, default=5, help="highest polynomial degree tried (default 5)")
    p.add_argument("--seed", type=int, default=0, help="fold shuffling seed")
    p.set_defaults(run=run)
    return p


def render(fits: Sequence[TargetFit], console: Any = None) -> None:
    """One rich table per group/target: cross-validated MAPE and RMSPE per degree, the chosen one marked."""
    from rich.console import Console
    from rich.table import Table as RichTable
    console = console or Console()
    for f in fits:
        t = RichTable(title=f"{f.group} / {f.target}")
        for col in ("degree", "terms", "MAPE %", "RMSPE %", ""):
            t.add_column(col, justify="right")
        for s in f.scores:
            fmt = (lambda v: "-" if v is None else f"{v:.4g}")
            t.add_row(str(s.degree), str(s.terms), fmt(s.mape), fmt(s.rmspe),
                      "chosen" if s.degree == f.model.degree else "")
        console.print(t)


def run(args: argparse.Namespace) -> int:
    """Fit, print the tables, write the model file. User errors propagate as InputError (exit 2)."""
    features = _names(args.features, "--features")
    targets = _names(args.targets, "--targets")
    table = read_table(args.data, features, targets)
    fits = fit_table(table, args.folds, args.max_degree, args.seed)
    render(fits)
    out = Path(args.output) if args.output else Path(args.data).with_name(Path(args.data).stem + "_ppa.yaml")
    if out.suffix.lower() not in (".yaml", ".yml", ".json"):
        raise InputError(f"unknown model file type {out.suffix!r}", "--output", "end the name in .yaml or .json")
    PPAModelFile.from_fits(fits, table.features, str(Path(args.data))).save(out)
    print(f"wrote {out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry (``python -m qmaestro.fit_ppa``) until qmaestro's CLI registers the subcommand."""
    import sys
    from .errors import QMaestroError
    parser = argparse.ArgumentParser(prog="qmaestro")
    add_subcommand(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except QMaestroError as err:
        print(f"error: {err.one_line()}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
