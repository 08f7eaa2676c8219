"""numba.njit with the cost model's compile options, in one place.

Why numpy's error model: under numba's default (Python's) every integer and float division checks its divisor
and may raise ZeroDivisionError, a compare and a branch in the hot paths, about 5 % of an evaluation. The model
never relies on that exception: divisors are checked where a zero can occur (user input is validated before any
kernel runs, and qmaestro.analysis.kernel._div spells out IEEE division), so a division by zero that slipped
through gives 0 (integers) or inf / NaN (floats) instead of an exception, and the result checks reject the row.
"""
from __future__ import annotations

from numba import njit as _numba_njit

ERROR_MODEL = "numpy"


def njit(*args, **options):
    """numba.njit(...), with error_model="numpy" unless the caller names another one."""
    options.setdefault("error_model", ERROR_MODEL)
    return _numba_njit(*args, **options)
