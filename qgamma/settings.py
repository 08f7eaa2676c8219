"""Search settings with qGamma's defaults (DESIGN.md section 5).

One frozen dataclass so that a run is fully described by (layer, accelerator, objective, settings, seed).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable, Optional

import numpy as np

from qmaestro.errors import InputError

#: objectives a search can minimise; a tuple of several asks for a Pareto front
OBJECTIVES = ("edp", "latency", "energy")

#: constraints hook: (BatchEvaluation, genomes[n, L, 7, 2]) -> bool[n], True = acceptable (e.g. area/power budgets)
ConstraintHook = Callable[[Any, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Heuristics:
    """qGamma's search-space heuristics; each can be switched off to search the full space."""

    pow2_cluster: bool = True       # PEs per cluster are powers of two
    pow2_kc_tiles: bool = True      # K and C tiles are powers of two when individuals are created
    top_dims_level0: int = 3        # level 0 parallelises one of the n largest dims (0 = any)
    top_dims_level1: int = 2        # level 1 parallelises one of the n largest level-0 tiles (0 = any)

    @classmethod
    def off(cls) -> "Heuristics":
        return cls(False, False, 0, 0)


@dataclass(frozen=True)
class Settings:
    """GA parameters. Rates are per individual (crossover per pair of children)."""

    population_2level: int = 150
    population_3level: int = 300
    generations: int = 1000
    patience: int = 150               # early stop after this many generations without improvement (0 = never)
    crossover_rate: float = 0.57
    reorder_rate: float = 0.47
    tile_mutation_rate: float = 0.53
    tile_mutation_loci: int = 3
    parallel_mutation_rate: float = 0.1
    elite_ratio: float = 0.05
    parent_ratio: float = 0.4
    heuristics: Heuristics = field(default_factory=Heuristics)
    max_reseeds: int = 5              # re-seed a population without a feasible member at most this often
    seed_classics: bool = True        # put the adapted classic dataflows into the initial population
    loop_order: Optional[str] = None  # e.g. "KCYXRS": fix every level's loop order (small, enumerable spaces)
    #: optional extra feasibility test, see ConstraintHook; None = only buffer capacity decides
    constraint: Optional[ConstraintHook] = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for name in ("population_2level", "population_3level"):
            if getattr(self, name) < 4:
                raise InputError(f"{name} must be at least 4, got {getattr(self, name)}", f"settings.{name}",
                                 "use a population of a few dozen or more")
        if self.generations < 0 or self.patience < 0 or self.tile_mutation_loci < 0 or self.max_reseeds < 0:
            raise InputError("generations, patience, tile_mutation_loci and max_reseeds must be >= 0", "settings",
                             "give non-negative whole numbers")
        for name in ("crossover_rate", "reorder_rate", "tile_mutation_rate", "parallel_mutation_rate",
                     "elite_ratio", "parent_ratio"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise InputError(f"{name} must be within [0, 1], got {v}", f"settings.{name}",
                                 "give a probability or a share")

    def population_for(self, levels: int) -> int:
        return self.population_2level if levels <= 2 else self.population_3level

    def with_(self, **changes: Any) -> "Settings":
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["constraint"] = None if self.constraint is None else getattr(self.constraint, "__name__", "callable")
        return d


def check_objective(objective: str | tuple[str, ...]) -> tuple[str, ...]:
    """The objective as a tuple of known names (one name = single objective)."""
    objs = (objective,) if isinstance(objective, str) else tuple(objective)
    if not objs:
        raise InputError("no objective given", "objective", f"use one or more of {', '.join(OBJECTIVES)}")
    for o in objs:
        if o not in OBJECTIVES:
            raise InputError(f"unknown objective {o!r}", "objective", f"use one or more of {', '.join(OBJECTIVES)}")
    if len(set(objs)) != len(objs):
        raise InputError(f"objective {objs} names a metric twice", "objective", "name each metric once")
    return objs
