"""qmaestro.analysis against every record of shared/reference/maestro_cases.jsonl (real MAESTRO outputs).

Comparable records (status ok, no flags) must match: counts, sizes and runtime exactly, printed doubles
within REL_TOL. Rejected and flagged records must be rejected with a reason. The whole file is scored in
one batch per (layer, accelerator) so the test stays fast; failures list per-metric mismatch counts.
"""
from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import pytest

from qmaestro.analysis import METRIC_INDEX, REASONS, analyze_batch_detailed, reason_text
from qmaestro.arrays import encode_many, hw_array, layer_array
from qmaestro.errors import QMaestroError
from qmaestro.reference import (EXACT_METRICS, MAESTRO_FILE, REQUIRED_METRICS, default_reference_dir,
                                load_cases, values_match)

REF_DIR = default_reference_dir()
pytestmark = pytest.mark.skipif(REF_DIR is None or not (REF_DIR / MAESTRO_FILE).exists(),
                                reason="shared/reference/maestro_cases.jsonl not available")


@pytest.fixture(scope="module")
def scored():
    """(case, metrics row or None, status, reason) for every record."""
    cases = load_cases(Path(REF_DIR) / MAESTRO_FILE)
    groups: dict[tuple, list] = collections.defaultdict(list)
    out = []
    for c in cases:
        if c.mapping is None:
            out.append((c, None, -1, f"parse: {c.input_error}"))
            continue
        try:
            arrays = encode_many([c.mapping])
        except QMaestroError as err:
            out.append((c, None, -1, f"encode: {err}"))
            continue
        groups[(repr(c.layer), repr(c.accelerator))].append((c, arrays))
    for items in groups.values():
        layer, acc = items[0][0].layer, items[0][0].accelerator
        dirs = np.concatenate([a[0] for _, a in items])
        clusters = np.concatenate([a[1] for _, a in items])
        nlevels = np.concatenate([a[2] for _, a in items])
        metrics, status, detail = analyze_batch_detailed(layer_array(layer), hw_array(acc), dirs, clusters, nlevels)
        for k, (c, _) in enumerate(items):
            reason = reason_text(int(status[k]), detail[k]) if status[k] else ""
            out.append((c, metrics[k], int(status[k]), reason))
    return out


def test_comparable_records_match_maestro(scored):
    mismatches = collections.Counter()
    failing = []
    n = 0
    for c, row, status, reason in scored:
        if not c.comparable:
            continue
        n += 1
        if status != 0:
            mismatches["<rejected>"] += 1
            failing.append(f"{c.id} {c.category}: rejected ({reason})")
            continue
        bad = [k for k in REQUIRED_METRICS
               if not values_match(row[METRIC_INDEX[k]], c.expected[k], k in EXACT_METRICS)]
        for k in bad:
            mismatches[k] += 1
        if bad:
            failing.append(f"{c.id} {c.category}: " + ", ".join(
                f"{k} {row[METRIC_INDEX[k]]:g} != {c.expected[k]}" for k in bad[:3]))
    assert n > 500
    assert not failing, f"{len(failing)}/{n} records differ; per metric {dict(mismatches)}; e.g. {failing[:5]}"


def test_maestro_energy_area_power_columns_are_reproduced(scored):
    cols = ("energy_nj", "area", "power", "pe_power", "l1_power", "l2_power", "noc_power", "ops_per_j",
            "throughput_per_energy_gmacs_per_s_j")
    bad = [(c.id, k) for c, row, status, _ in scored if c.comparable and status == 0
           for k in cols if not values_match(row[METRIC_INDEX[k]], c.expected[k], False)]
    assert not bad, f"{len(bad)} differences, e.g. {bad[:5]}"


def test_rejected_and_flagged_records_are_rejected_with_a_reason(scored):
    accepted = [f"{c.id} {c.category} {c.flags or c.error_message[:40]}" for c, row, status, reason in scored
                if c.expects_rejection and status == 0]
    assert not accepted, f"{len(accepted)} records MAESTRO rejects or flags were accepted: {accepted[:5]}"
    for c, _, status, reason in scored:
        if c.expects_rejection:
            assert reason, c.id
            if status > 0:   # our own templates: every field filled in
                assert "{" not in reason, (c.id, reason)


def test_every_reason_code_is_a_template():
    assert REASONS[0] == "ok" and all(isinstance(r, str) and r for r in REASONS)
