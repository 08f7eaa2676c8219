"""C++ integer semantics that MAESTRO's numbers depend on (truncating division, int32 wrap-around)."""
from __future__ import annotations

from ..jit import njit


@njit(cache=True, _nrt=False, inline="always")
def cdiv(a: int, b: int) -> int:
    """a / b rounded toward zero, as C++ divides integers (Python's // floors)."""
    if a >= 0 and b > 0:
        return a // b
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


@njit(cache=True, _nrt=False, inline="always")
def cmod(a: int, b: int) -> int:
    """a % b with the sign of a, as in C++."""
    return a - cdiv(a, b) * b


@njit(cache=True, _nrt=False, inline="always")
def wrap_int32(x: int) -> int:
    """x stored in a 32-bit int (MAESTRO keeps case occurrence counts in int)."""
    return ((x + 2147483648) & 4294967295) - 2147483648
