"""qmaestro.jit: every compiled function of the cost model uses the same compile options."""
from __future__ import annotations

import importlib
import pkgutil

from numba.core.caching import NullCache
from numba.core.registry import CPUDispatcher

import qmaestro
from qmaestro.jit import ERROR_MODEL, njit


def _dispatchers():
    for info in pkgutil.walk_packages(qmaestro.__path__, "qmaestro."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if isinstance(obj, CPUDispatcher) and obj.py_func.__module__ == info.name:
                yield f"{info.name}.{name}", obj


def test_every_qmaestro_kernel_uses_the_numpy_error_model():
    found = dict(_dispatchers())
    assert "qmaestro.analysis.regular.regular_form" in found and "qmaestro.batch_kernel.score_population" in found
    wrong = sorted(name for name, d in found.items() if d.targetoptions.get("error_model") != ERROR_MODEL)
    assert wrong == [], f"compiled without qmaestro.jit.njit: {wrong}"
    uncached = sorted(name for name, d in found.items() if isinstance(d._cache, NullCache))
    assert uncached == [], f"compiled without cache=True: {uncached}"


def test_an_explicit_error_model_wins():
    @njit(error_model="python")
    def div(a, b):
        return a // b

    assert div.targetoptions["error_model"] == "python"
