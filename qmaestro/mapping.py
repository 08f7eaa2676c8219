"""Mappings: ordered MAESTRO directives, split into cluster levels by Cluster directives."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence, Union

from .errors import InvalidMappingError

#: dimension names a directive may name (Y'/X' are MAESTRO's output-centric forms)
DIRECTIVE_DIMS = ("K", "C", "R", "S", "Y", "X", "Y'", "X'", "M", "N", "G")


@dataclass(frozen=True)
class Map:
    """SpatialMap(size, offset) dim or TemporalMap(size, offset) dim."""

    spatial: bool
    dim: str
    size: int
    offset: int

    @property
    def kind(self) -> str:
        return "SpatialMap" if self.spatial else "TemporalMap"

    def to_dfsl(self) -> str:
        return f"{self.kind}({self.size},{self.offset}) {self.dim};"


@dataclass(frozen=True)
class Cluster:
    """Cluster(size, P|L): groups `size` sub-units; what follows is the next (inner) level."""

    size: int
    physical: bool = True

    def to_dfsl(self) -> str:
        return f"Cluster({self.size},{'P' if self.physical else 'L'});"


Directive = Union[Map, Cluster]


def SpatialMap(size: int, offset: int, dim: str) -> Map:  # noqa: N802 - reads like DFSL
    return Map(True, dim, size, offset)


def TemporalMap(size: int, offset: int, dim: str) -> Map:  # noqa: N802
    return Map(False, dim, size, offset)


@dataclass(frozen=True)
class Mapping:
    """An ordered list of directives, exactly as MAESTRO reads a Dataflow block."""

    directives: tuple[Directive, ...]

    def __init__(self, directives: Iterable[Directive]):
        object.__setattr__(self, "directives", tuple(directives))

    @property
    def levels(self) -> list[list[Map]]:
        """Directive lists per cluster level, outermost first."""
        out: list[list[Map]] = [[]]
        for d in self.directives:
            if isinstance(d, Cluster):
                out.append([])
            else:
                out[-1].append(d)
        return out

    @property
    def cluster_sizes(self) -> list[int]:
        """Sizes of the Cluster directives, outermost first (one fewer than levels)."""
        return [d.size for d in self.directives if isinstance(d, Cluster)]

    @property
    def num_levels(self) -> int:
        return len(self.cluster_sizes) + 1

    def to_dfsl(self) -> str:
        """The text inside `Dataflow { ... }`, one directive per line."""
        return "\n".join(d.to_dfsl() for d in self.directives)

    def summary(self) -> str:
        """One line a person can read: the spatial dims and cluster sizes per level."""
        parts = []
        for lvl, dirs in enumerate(self.levels):
            sp = [f"{d.dim}" for d in dirs if d.spatial]
            order = "".join(d.dim for d in dirs)
            size = f"x{self.cluster_sizes[lvl - 1]}" if lvl else ""
            parts.append(f"L{lvl}{size}[{'/'.join(sp) or '-'}|{order}]")
        return " ".join(parts)

    @classmethod
    def from_levels(cls, levels: Sequence[Sequence[Map]], cluster_sizes: Sequence[int]) -> "Mapping":
        if len(cluster_sizes) != len(levels) - 1:
            raise InvalidMappingError(f"{len(levels)} levels need {len(levels) - 1} cluster sizes, "
                                      f"got {len(cluster_sizes)}")
        dirs: list[Directive] = list(levels[0])
        for size, lvl in zip(cluster_sizes, levels[1:]):
            dirs.append(Cluster(size))
            dirs.extend(lvl)
        return cls(dirs)
