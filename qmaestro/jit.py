"""numba.njit with the cost model's compile options, in one place.

Why numpy's error model: under numba's default (Python's) every integer and float division checks its divisor
and may raise ZeroDivisionError, a compare and a branch in the hot paths. The model does not rely on that
exception: user input is validated before any kernel runs, and qmaestro.analysis.kernel._div spells out IEEE
division where a zero divisor can occur. Under this model an unguarded division by zero gives 0 (integers) or
inf / NaN (floats) instead of raising. Measured with the NRT-free regular pass (analysis.kernel._regular_pass):
15,358 instead of 15,539 instructions per evaluation (benchmarks/instructions_costmodel.py, 2026-12-06).
"""
from __future__ import annotations

from numba import njit as _numba_njit

ERROR_MODEL = "numpy"


def njit(*args, **options):
    """numba.njit(...), with error_model="numpy" unless the caller names another one."""
    options.setdefault("error_model", ERROR_MODEL)
    return _numba_njit(*args, **options)
