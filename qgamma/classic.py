"""Classic dataflows (genomes/*.yaml) adapted to any layer, accelerator and precision.

A template gives, for 2-level (32-bit) and 3-level (narrower) genomes, each level's parallel dim, loop order
and symbolic tiles. Tile expressions: a number; ``full`` (the tile one level up); ``min`` (smallest legal:
1, R for Y, S for X); ``cluster`` (PEs per cluster); ``lanes`` (FUs per PE); products such as
``cluster*lanes``; ``span(expr)``: the input extent of expr outputs for Y/X ((expr - 1) x stride + R), expr
itself for other dims. Left-out dims are ``full``. The wanted PEs per cluster (``cluster:``) is lowered to the
largest allowed value <= num_pes. The result is repaired (`genome.repair`), so a template that names a dim the
layer lacks (K of a DSCONV, X of a GEMM) falls back to the largest legal one.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from qmaestro.accelerator import Accelerator
from qmaestro.errors import InputError
from qmaestro.layer import Layer
from qmaestro.yamlio import load_yaml

from .genome import NUM_ROLES, ROLE_NAMES, ROLE_X, ROLE_Y, GenomeSpace, genome_space, repair
from .settings import Heuristics

GENOMES_DIR = Path(__file__).resolve().parent.parent / "genomes"
_SPAN = re.compile(r"^span\((.+)\)$")


def load_templates(directory: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """Every genomes/*.yaml template by name (checked; errors name the file)."""
    d = Path(directory) if directory is not None else GENOMES_DIR
    return dict(_load_cached(str(d.resolve())))


@lru_cache(maxsize=16)
def _load_cached(directory: str) -> tuple[tuple[str, dict[str, Any]], ...]:
    """Parsed once per process (YAML parsing costs ~0.1 s, paid per layer otherwise); callers only read."""
    d = Path(directory)
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(d.glob("*.yaml")):
        data = load_yaml(path)
        where = str(path)
        if not isinstance(data, Mapping) or "levels2" not in data or "levels3" not in data:
            raise InputError("a genome template needs levels2 and levels3 lists", where,
                             "see genomes/weight_stationary_kc.yaml")
        for key, n in (("levels2", 2), ("levels3", 3)):
            lv = data[key]
            if not isinstance(lv, list) or len(lv) != n:
                raise InputError(f"{key} must list {n} levels", f"{where}:{key}", f"give {n} level entries")
            for i, level in enumerate(lv):
                _check_level(level, f"{where}:{key}[{i}]")
        out[str(data.get("name", path.stem))] = dict(data)
    return tuple(out.items())


def _check_level(level: Any, where: str) -> None:
    if not isinstance(level, Mapping) or "parallel" not in level or "order" not in level:
        raise InputError("each level needs parallel and order", where, "write {parallel: K, order: [K, C, Y, X, R, S]}")
    if sorted(level["order"]) != sorted(ROLE_NAMES):
        raise InputError(f"order {level['order']} must name K, C, Y, X, R, S once each", where, "fix the order list")
    if level["parallel"] not in ROLE_NAMES:
        raise InputError(f"unknown parallel dim {level['parallel']!r}", where, "use one of K, C, Y, X")


def _factor(token: str, cluster: int, lanes: int, where: str) -> int:
    token = token.strip()
    if token == "cluster":
        return cluster
    if token == "lanes":
        return lanes
    if token.isdigit():
        return int(token)
    raise InputError(f"unknown tile expression {token!r}", where, "use a number, full, min, cluster, lanes, span(...)")


def _product(expr: str, cluster: int, lanes: int, where: str) -> int:
    v = 1
    for part in expr.split("*"):
        v *= _factor(part, cluster, lanes, where)
    return v


def tile_value(expr: Any, role: int, parent: int, space: GenomeSpace, cluster: int, where: str = "tile") -> int:
    """A template tile expression resolved for one role (unclamped; repair clamps)."""
    if isinstance(expr, int) and not isinstance(expr, bool):
        return expr
    text = str(expr).strip()
    if text == "full":
        return parent
    if text == "min":
        return int(space.lo[role])
    m = _SPAN.match(text)
    if m:
        outputs = _product(m.group(1), cluster, space.lanes, where)
        if role in (ROLE_Y, ROLE_X) and space.window[role] > 0:
            return (outputs - 1) * int(space.step[role]) + int(space.window[role])
        return outputs
    return _product(text, cluster, space.lanes, where)


def adapt(template: Mapping[str, Any], space: GenomeSpace, cluster: int | None = None) -> np.ndarray:
    """The template as a legal genome of this space."""
    name = template.get("name", "template")
    want = cluster if cluster is not None else int(template.get("cluster", space.num_pes))
    opts = space.cluster_options
    fitting = opts[opts <= min(want, space.num_pes)]
    c = int(fitting[-1]) if fitting.size else int(opts[0])
    levels = template["levels2" if space.levels == 2 else "levels3"]
    g = np.zeros((space.levels, 7, 2), dtype=np.int64)
    parent = space.sizes.copy()
    for lvl, level in enumerate(levels):
        where = f"genome template {name!r} level {lvl}"
        tiles = level.get("tiles", {}) or {}
        current = np.ones(NUM_ROLES, dtype=np.int64)
        g[lvl, 0] = (ROLE_NAMES.index(level["parallel"]), c if lvl == 1 else 1)
        for j, dim in enumerate(level["order"]):
            r = ROLE_NAMES.index(dim)
            t = tile_value(tiles.get(dim, "full"), r, int(parent[r]), space, c, where)
            t = int(min(max(t, space.lo[r]), parent[r]))
            g[lvl, j + 1] = (r, t)
            current[r] = t
        parent = current
    return repair(g[None], space)[0]


def classic_genomes(layer: Layer, accelerator: Accelerator, cluster: int | None = None,
                    heuristics: Heuristics = Heuristics(),
                    directory: str | Path | None = None) -> dict[str, np.ndarray]:
    """name -> genome [levels, 7, 2] for every template, adapted to this layer, accelerator and precision."""
    space = genome_space(layer, accelerator, heuristics, cluster)
    return {name: adapt(t, space, cluster) for name, t in load_templates(directory).items()}
