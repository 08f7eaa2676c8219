"""qmaestro: a MAESTRO-exact, precision-aware analytical cost model for spatial DNN accelerators."""
from .jitcache import configure as _configure_jit_cache

_configure_jit_cache()  # before any jitted module is imported: see qmaestro.jitcache
from .accelerator import Accelerator  # noqa: E402
from .evaluate import BatchEvaluation, Evaluation, evaluate, evaluate_batch
from .errors import (CapacityError, DFSLError, InputError, InvalidMappingError, PrecisionError,
                     QMaestroError)
from .layer import Layer
from .mapping import Cluster, Map, Mapping, SpatialMap, TemporalMap
from .precision import NumberFormat, Precision

__all__ = ["Accelerator", "Layer", "Mapping", "Map", "Cluster", "SpatialMap", "TemporalMap", "NumberFormat",
           "Precision", "QMaestroError", "InputError", "PrecisionError", "DFSLError", "InvalidMappingError",
           "CapacityError", "evaluate", "evaluate_batch", "Evaluation", "BatchEvaluation"]
