"""PE kinds: bundled data with sources, QUIDAM's published clocks, overrides, cycles -> seconds."""
from __future__ import annotations

import dataclasses

import pytest
import yaml

from qmaestro.accelerator import Accelerator
from qmaestro.errors import InputError
from qmaestro.precision import Precision
from qmaestro.energy import TechTable
from qmaestro.pe_kinds import (DEFAULT_PATH, PE_KIND_FIELDS, accelerator_pe_kind, get_pe_kind, load_pe_kinds,
                               pe_kind_for_precision)

REQUIRED = ("fp32", "fp16", "int16", "int8", "int4", "lightpe1", "lightpe2")


def test_required_kinds_exist_and_every_value_names_a_source():
    raw = yaml.safe_load(DEFAULT_PATH.read_text())
    kinds = load_pe_kinds()
    for name in REQUIRED:
        assert name in kinds
    for name, fields in raw["pe_kinds"].items():
        for f in PE_KIND_FIELDS:
            assert fields[f]["source"].strip(), (name, f)
    for name, entry in raw["components"].items():
        assert entry["source"].strip(), name


def test_each_kind_runs_its_own_precision_and_has_a_tech_mac_energy():
    tech = TechTable.load()
    for name, kind in load_pe_kinds().items():
        assert kind.precision.pe_kind == name
        assert pe_kind_for_precision(name) == name
        assert tech.mac_pj(kind.mac_energy_key) > 0


def test_light_pes_run_8_bit_activations_with_4_or_8_bit_weights():
    k1, k2 = get_pe_kind("lightpe1"), get_pe_kind("LightPE2")
    assert (k1.precision.weights.bits, k1.precision.activations.bits) == (4, 8)
    assert (k2.precision.weights.bits, k2.precision.activations.bits) == (8, 8)
    assert k1.lanes == k2.lanes == 4  # P = 32 // 8


def test_quidam_clocks():
    kinds = load_pe_kinds()
    assert kinds["lightpe1"].clock_mhz == 455.0
    assert kinds["lightpe2"].clock_mhz == 435.0
    assert kinds["lightpe1"].clock_mhz / kinds["fp32"].clock_mhz == pytest.approx(1.7, rel=1e-3)
    assert kinds["lightpe1"].clock_mhz / kinds["int16"].clock_mhz == pytest.approx(1.6, rel=1e-3)


def test_horowitz_areas():
    kinds = load_pe_kinds()
    assert kinds["fp32"].mac_area_um2 == 7700 + 4184
    assert kinds["fp16"].mac_area_um2 == 1640 + 1360
    assert kinds["int32"].mac_area_um2 == 3495 + 137
    assert kinds["lightpe1"].mac_area_um2 < kinds["lightpe2"].mac_area_um2 < kinds["int16"].mac_area_um2 \
        < kinds["fp32"].mac_area_um2


def test_cycles_to_seconds_and_dynamic_power():
    k = get_pe_kind("lightpe1")
    assert k.seconds(455e6) == pytest.approx(1.0)
    assert k.dynamic_power_mw(1.0) == pytest.approx(0.455)  # 1 pJ x 455 MHz = 455 uW
    assert dataclasses.replace(k, mac_dynamic_mw=2.0).dynamic_power_mw(1.0, activity=0.5) == 1.0


def test_overrides_and_user_file(tmp_path):
    assert get_pe_kind("int16", overrides={"int16": {"clock_mhz": 300}}).clock_mhz == 300.0
    user = tmp_path / "kinds.yaml"
    user.write_text("pe_kinds:\n  int8x:\n    precision: int8\n    mac_energy_key: int8\n"
                    "    mac_area_um2: 100\n    mac_leakage_mw: 0.001\n    clock_mhz: {value: 500, source: me}\n")
    k = get_pe_kind("int8x", path=user)
    assert k.clock_mhz == 500.0 and k.sources["clock_mhz"] == "me"
    assert get_pe_kind("fp32", path=user).clock_mhz == pytest.approx(267.6)


@pytest.mark.parametrize("overrides, message", [
    ({"int16": {"clock": 3}}, "unknown PE-kind field"),
    ({"new": {"clock_mhz": 3}}, "lacks"),
    ({"int16": {"clock_mhz": -1}}, "must be a number >= 0"),
    ({"int16": {"clock_mhz": 0}}, "clock_mhz must be > 0"),
])
def test_bad_overrides_are_one_line_errors(overrides, message):
    with pytest.raises(InputError, match=message):
        load_pe_kinds(overrides=overrides)


def test_unknown_kind_lists_the_known_ones():
    with pytest.raises(InputError, match="use one of fp32"):
        get_pe_kind("int7")


def test_accelerator_names_its_pe_kind_and_overrides_it_in_tech():
    acc = dataclasses.replace(Accelerator.load("edge16"), pe_kind="lightpe2",
                              tech={"pe_kinds": {"lightpe2": {"clock_mhz": 400}}})
    k = accelerator_pe_kind(acc)
    assert k.name == "lightpe2" and k.clock_mhz == 400.0
    with pytest.raises(InputError, match="names no pe_kind"):
        accelerator_pe_kind(Accelerator.load("edge16"))
    assert Precision.parse("fp16").pe_kind == get_pe_kind("fp16").name
