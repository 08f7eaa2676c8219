"""Energy model: tech table, SRAM interpolation, coefficients and the jitted kernel, with hand-worked numbers."""
import math

import numpy as np
import pytest

from qmaestro.energy import (COEFFICIENT_NAMES, EnergyCoefficients, SramTable, TechTable, coefficients,
                             energy_kernel, loglog_interpolate)
from qmaestro.errors import InputError
from qmaestro.precision import Precision


# ---- interpolation -----------------------------------------------------------------------------------------
def test_loglog_hits_table_points_exactly():
    xs, ys = (512.0, 1024.0, 2048.0), (0.291, 0.418, 0.589)
    for x, y in zip(xs, ys):
        assert loglog_interpolate(x, xs, ys) == pytest.approx(y, rel=1e-12)


def test_loglog_midpoint_is_geometric_mean():
    # halfway in log(size) between 512 and 1024 -> halfway in log(energy): sqrt(0.291 * 0.418)
    x = math.sqrt(512.0 * 1024.0)
    assert loglog_interpolate(x, (512.0, 1024.0), (0.291, 0.418)) == pytest.approx(math.sqrt(0.291 * 0.418))


def test_loglog_power_law_and_extrapolation():
    # y = x^2 through (1, 1) and (10, 100): at 10^0.5 -> 10; beyond the end -> 100^2
    xs, ys = (1.0, 10.0), (1.0, 100.0)
    assert loglog_interpolate(10 ** 0.5, xs, ys) == pytest.approx(10.0)
    assert loglog_interpolate(100.0, xs, ys) == pytest.approx(10000.0)
    assert loglog_interpolate(0.1, xs, ys) == pytest.approx(0.01)


def test_sram_access_scales_with_word_width():
    # Horowitz: 8 KB, 10 pJ per 64-bit access -> 5 pJ per 32-bit word, 2.5 pJ per 16-bit word
    t = SramTable("h", (8192.0, 32768.0), (10.0, 20.0), (10.0, 20.0), 64)
    assert t.access_pj(8192, 32) == pytest.approx((5.0, 5.0))
    assert t.access_pj(8192, 16) == pytest.approx((2.5, 2.5))
    # 16 KB: one octave of the two-octave segment -> 10 * 2^(1/2) per 64 bits
    assert t.access_pj(16384, 64)[0] == pytest.approx(10.0 * math.sqrt(2.0))


# ---- tech table ----------------------------------------------------------------------------------------------
def test_default_table_has_published_qmaestro_mac_energies():
    tech = TechTable.load()
    published = {"fp32": 10.752, "fp16": 5.024, "fp8": 2.433, "fp4": 1.397, "int32": 2.221, "int16": 1.300,
                 "int8": 0.826, "int4": 0.608, "int2": 0.424}
    for kind, pj in published.items():
        assert tech.mac_pj(kind) == pytest.approx(pj)
    assert tech.noc_pj_per_bit_hop == pytest.approx(0.1143)
    assert tech.dram_pj_per_bit == pytest.approx(1300.0 / 64)
    assert tech.sram.name == "cacti_d_22nm"
    assert tech.sram.access_pj(512, 32) == pytest.approx((0.291, 0.273))


def test_lightpe_energies_follow_the_documented_derivation():
    tech = TechTable.load()
    mult8, add8, add16 = 0.2 * 0.64, 0.03 * 0.64, 0.06 * 0.64  # Horowitz 45 nm scaled to 22 nm
    assert tech.mac_pj("lightpe1") == pytest.approx(0.826 - mult8 + add8)
    assert tech.mac_pj("lightpe2") == pytest.approx(0.826 - mult8 + 2 * add8 + add16)
    assert tech.mac_pj("lightpe1") < tech.mac_pj("lightpe2") < tech.mac_pj("int8")


def test_every_pe_kind_a_precision_can_name_has_an_energy():
    tech = TechTable.load()
    for name in ("fp32", "fp16", "fp8", "fp4", "int32", "int16", "int8", "int4", "int2", "lightpe1", "lightpe2",
                 {"weights": "int4", "activations": "int8"}, {"weights": "fp8", "activations": "fp16"}):
        tech.mac_pj(Precision.parse(name).pe_kind)


def test_overrides_merge_key_by_key():
    tech = TechTable.load({"mac_energy_nj": {"int8": 1.0e-3}, "dram_pj_per_bit": 10.0, "sram_table": "horowitz_45nm"})
    assert tech.mac_pj("int8") == pytest.approx(1.0)
    assert tech.mac_pj("int4") == pytest.approx(0.608)  # untouched
    assert tech.dram_pj_per_bit == 10.0
    assert tech.sram.access_bits == 64 and tech.sram.read_pj == (10.0, 20.0, 100.0)


def test_keys_of_the_ppa_model_are_left_to_it():
    tech = TechTable.load({"pe_kinds": {"int8": {"clock_mhz": 1.0}}, "ppa_model": "x.yaml", "dram_pj_per_bit": 5.0})
    assert tech.dram_pj_per_bit == 5.0


def test_override_of_one_sram_table_field_keeps_the_others():
    tech = TechTable.load({"sram_tables": {"cacti_d_22nm": {"access_bits": 64}}})
    assert tech.sram.access_pj(512, 32) == pytest.approx((0.291 / 2, 0.273 / 2))


@pytest.mark.parametrize("bad, needle", [
    ({"dram_pj": 1.0}, "unknown tech key"),
    ({"dram_pj_per_bit": -1.0}, "positive number"),
    ({"dram_pj_per_bit": "1e-3"}, "positive number"),
    ({"sram_table": "nope"}, "unknown sram_table"),
    ({"sram_tables": {"x": {"size_bytes": [2.0, 1.0], "read_pj": [1.0, 2.0], "write_pj": [1.0, 2.0],
                            "access_bits": 32}}, "sram_table": "x"}, "strictly increasing"),
])
def test_bad_overrides_are_input_errors(bad, needle):
    with pytest.raises(InputError, match=needle) as err:
        TechTable.load(bad, "accelerator 'a'.tech")
    assert err.value.where.startswith("accelerator 'a'.tech")


def test_unknown_pe_kind_names_the_fix():
    with pytest.raises(InputError, match="no MAC energy for PE kind 'int3'"):
        TechTable.load().mac_pj("int3")


# ---- coefficients and kernel ----------------------------------------------------------------------------------
def test_coefficients_per_word():
    c = coefficients(TechTable.load(), "int8", 512, 524288, word_bits=32, noc_hops=2)
    assert c.mac_pj == pytest.approx(0.826)
    assert (c.l1_read_pj, c.l1_write_pj) == pytest.approx((0.291, 0.273))
    assert (c.l2_read_pj, c.l2_write_pj) == pytest.approx((16.3, 16.2))
    assert c.noc_pj_per_word == pytest.approx(0.1143 * 32 * 2)
    assert c.dram_pj_per_word == pytest.approx(20.3125 * 32)
    assert list(c.as_array()) == [getattr(c, n) for n in COEFFICIENT_NAMES]


def test_kernel_hand_worked():
    coef = EnergyCoefficients(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0).as_array()
    macs = np.array([10.0, 0.0])
    words = np.zeros((2, 3, 4))
    # per tensor (l1_read, l1_write, l2_read, l2_write)
    words[0, 0] = (1, 2, 3, 4)     # input
    words[0, 1] = (5, 6, 7, 8)     # filter
    words[0, 2] = (9, 10, 11, 12)  # output
    per_tensor, mac = energy_kernel(macs, words, 13.0, coef)  # the output tensor is 13 words
    assert mac[0] == 10.0 and mac[1] == 0.0
    # l1 = r*2 + w*3 ; l2 = r*4 + w*5
    assert list(per_tensor[0, 0]) == [1 * 2 + 2 * 3, 5 * 2 + 6 * 3, 9 * 2 + 10 * 3]
    assert list(per_tensor[0, 1]) == [3 * 4 + 4 * 5, 7 * 4 + 8 * 5, 11 * 4 + 12 * 5]
    # NoC: input/filter per L2 read, output per L2 write (x6)
    assert list(per_tensor[0, 2]) == [3 * 6, 7 * 6, 12 * 6]
    # DRAM: input/filter per L2 write (fill), output once per output word, whatever the L2 reads (x7)
    assert list(per_tensor[0, 3]) == [4 * 7, 8 * 7, 13 * 7]
    assert list(per_tensor[1, 3]) == [0, 0, 13 * 7] and not per_tensor[1, :3].any()
