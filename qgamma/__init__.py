"""qgamma: GAMMA-style genetic mapping search for quantized, mixed-precision DNN layers on spatial accelerators.

The notebook entry point is `qgamma.search(network, accelerator, objective=...)`, which returns a
`NetworkResult`; `qgamma.load_network` reads nets, `qgamma.Settings` holds the GA parameters.
"""
from .network import Network, load_network
from .runs import RunDir
from .search import NetworkResult, search
from .settings import Heuristics, Settings

__all__ = ["search", "NetworkResult", "Network", "load_network", "Settings", "Heuristics", "RunDir"]
