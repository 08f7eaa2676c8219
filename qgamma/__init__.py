"""qgamma: GAMMA-style genetic mapping search for quantized, mixed-precision DNN layers on spatial accelerators.

The notebook entry point is `qgamma.search(network, accelerator, objective=...)`, which returns a
`NetworkResult`; `qgamma.load_network` reads nets, `qgamma.Settings` holds the GA parameters.
"""
from qmaestro.jitcache import configure as _configure_jit_cache

_configure_jit_cache()  # before qgamma's jitted modules: numba's cache follows this source tree (qmaestro.jitcache)

from .network import Network, load_network  # noqa: E402
from .runs import RunDir
from .search import NetworkResult, search
from .settings import Heuristics, Settings

__all__ = ["search", "NetworkResult", "Network", "load_network", "Settings", "Heuristics", "RunDir"]
