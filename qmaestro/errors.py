"""Exception classes for qmaestro.

Every user-facing error carries *what* went wrong, *where* (file, field or line) and *how to fix it*,
so that a CLI can print it as one line and exit 2 without a traceback.
"""
from __future__ import annotations


class QMaestroError(Exception):
    """Base class of every error qmaestro raises on purpose."""

    def __init__(self, what: str, where: str | None = None, fix: str | None = None):
        self.what = what
        self.where = where
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        parts = []
        if self.where:
            parts.append(f"{self.where}: ")
        parts.append(self.what)
        if self.fix:
            parts.append(f" (fix: {self.fix})")
        return "".join(parts)


class InputError(QMaestroError):
    """Malformed or out-of-range user input (YAML, CLI values, sizes)."""


class PrecisionError(InputError):
    """Unknown or unsupported number format / bit width."""


class DFSLError(InputError):
    """MAESTRO DFSL text that cannot be parsed."""


class InvalidMappingError(QMaestroError):
    """A mapping the cost model rejects (MAESTRO would reject it or print meaningless numbers)."""


class CapacityError(QMaestroError):
    """A layer or mapping that cannot fit the accelerator's buffers."""
