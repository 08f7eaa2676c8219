"""Names of the metric columns and of the rejection reasons the analysis kernel reports.

Columns 0..49 are MAESTRO's CSV columns in CSV order (the keys of the reference records' `expected`
objects); the last six are the per-tensor buffer requirements precision-aware capacity checks need.
"""
from __future__ import annotations

MAESTRO_METRIC_NAMES: tuple[str, ...] = (
    "num_pes", "runtime_cycles", "energy_nj", "throughput_macs_per_cycle", "throughput_per_energy_gmacs_per_s_j",
    "area", "power", "noc_bw_req", "avg_bw_req", "peak_bw_req", "vector_width", "offchip_bw_req",
    "l2_size_req", "l1_size_req", "multicast_weight", "multicast_input", "num_total_input_pixels",
    "num_total_weight_pixels", "ops_per_j", "num_macs", "pe_power", "l1_power", "l2_power", "noc_power",
    "input_l1_read", "input_l1_write", "input_l2_read", "input_l2_write", "input_reuse_factor",
    "filter_l1_read", "filter_l1_write", "filter_l2_read", "filter_l2_write", "filter_reuse_factor",
    "output_l1_read", "output_l1_write", "output_l2_read", "output_l2_write", "output_reuse_factor",
    "ingress_delay_min", "ingress_delay_max", "ingress_delay_avg",
    "egress_delay_min", "egress_delay_max", "egress_delay_avg",
    "compute_delay_min", "compute_delay_max", "compute_delay_avg",
    "avg_utilized_pes", "arithmetic_intensity",
)
BUFFER_METRIC_NAMES: tuple[str, ...] = (
    "input_l1_size", "filter_l1_size", "output_l1_size", "input_l2_size", "filter_l2_size", "output_l2_size",
)
METRIC_NAMES: tuple[str, ...] = MAESTRO_METRIC_NAMES + BUFFER_METRIC_NAMES
NUM_METRICS = len(METRIC_NAMES)
METRIC_INDEX = {name: i for i, name in enumerate(METRIC_NAMES)}

# column indices the kernel writes (module-level ints are compile-time constants for numba)
M_NUM_PES, M_RUNTIME, M_ENERGY, M_THROUGHPUT, M_TPE, M_AREA, M_POWER, M_NOC_BW, M_AVG_BW, M_PEAK_BW, \
    M_VECTOR_WIDTH, M_OFFCHIP_BW, M_L2_SIZE, M_L1_SIZE, M_MC_WEIGHT, M_MC_INPUT, M_INPUT_PIXELS, \
    M_WEIGHT_PIXELS, M_OPS_PER_J, M_NUM_MACS, M_PE_POWER, M_L1_POWER, M_L2_POWER, M_NOC_POWER = range(24)
M_TENSOR0 = 24          #: input l1 read; each tensor has 5 columns (l1 rd, l1 wr, l2 rd, l2 wr, reuse)
M_DELAY0 = 39           #: ingress min; 9 delay columns (ingress, egress, compute) x (min, max, avg)
M_AVG_PES = 48
M_AI = 49
M_BUF0 = 50             #: input_l1_size; then filter, output; then the three L2 sizes

#: Why a mapping was rejected. Status code k > 0 means REASONS[k]; fields come from the detail row
#: (level, dim, a, b) the kernel writes next to the status.
REASONS: tuple[str, ...] = (
    "ok",
    "{a} cluster levels; MAESTRO supports at most 4",
    "level {level}: directive on {dim} has size {a} and offset {b}; both must be >= 1",
    "level {level}: TemporalMap on {dim} must cover the whole filter and step by it "
    "(size {a}, offset {b}, filter {c})",
    "level {level}: no SpatialMap, so nothing is spread over the sub-clusters",
    "level {level}: {a} SpatialMaps; MAESTRO allows at most 2 per level",
    "level {level}: dimension {dim} does not exist in this layer",
    "the Cluster sizes multiply to {a}, more than the {b} compute units (MAESTRO divides by zero)",
    "level {level}: Cluster size {a} is < 1",
    "level {level}: {dim} directive without a {filt} directive in the same level, so MAESTRO cannot "
    "convert it to input rows/columns",
    "level {level}: no new {dim} elements enter a sub-cluster between iterations "
    "(offset {a} vs size {b}); MAESTRO exits without output",
    "no iteration produces an output (zero runtime); typical causes: a Y/X tile smaller than R/S or a "
    "Y'/X' tile beyond the output extent",
    "level {level}: the sub-clusters compute nothing, so MAESTRO divides by a zero compute delay",
    "more MACs per cycle ({hundredths:.2f}) than compute units x SIMD lanes ({b}); MAESTRO "
    "double-counts work here",
    "metric {metric} is NaN or infinite; the mapping is degenerate",
    "metric {metric} is negative; the mapping is degenerate",
    "level {level}: too many distinct sub-cluster shapes to analyse",
    "level {level}: {dim} tile {a} is smaller than {filt}={b}, so no output {what} is produced",
    "{a} levels in the array form, but levels run from 1 to 4",
    "level {level}: directive kind {a} in the array form (0 = empty, 1 = TemporalMap, 2 = SpatialMap)",
    "level {level}: dimension index {a} in the array form is not one of DIM_NAMES",
)
R_OK, R_LEVELS, R_ZERO_SIZE, R_PARTIAL_RS, R_NO_SPATIAL, R_MANY_SPATIAL, R_UNKNOWN_DIM, R_CLUSTER_GT_UNITS, \
    R_CLUSTER_LT1, R_OUTPUT_DIM_NO_FILTER, R_NO_UNIQUE, R_ZERO_RUNTIME, R_ZERO_COMPUTE, R_THROUGHPUT, \
    R_NAN, R_NEGATIVE, R_MEMO_FULL, R_TILE_LT_FILTER, R_BAD_NLEVELS, R_BAD_KIND, R_BAD_DIM = range(len(REASONS))
