"""The component area/power model, worked by hand from data/pe_kinds.yaml and data/tech.yaml."""
from __future__ import annotations

import dataclasses

import pytest

from qmaestro.accelerator import Accelerator
from qmaestro.errors import InputError
from qmaestro.energy import TechTable
from qmaestro.pe_kinds import component_params, get_pe_kind
from qmaestro.ppa import (accelerator_ppa, component_ppa, energy_tech, performance_per_area, sram_area_um2,
                          static_energy_nj)


def _acc(kind: str = "lightpe1", pes: int = 4, l1: int = 100, l2: int = 1000, **tech) -> Accelerator:
    return dataclasses.replace(Accelerator.load("edge16"), num_pes=pes, l1_bytes=l1, l2_bytes=l2, pe_kind=kind,
                               tech=tech)


def test_component_area_by_hand():
    p = accelerator_ppa(_acc())
    # 4 PEs x 4 lanes x 159.1 um2; 4 x 2315 um2 overhead; SRAM bits x 0.346 um2 / efficiency
    assert p.area_um2["mac"] == pytest.approx(4 * 4 * 159.1)
    assert p.area_um2["pe_overhead"] == pytest.approx(4 * 2315.0)
    assert p.area_um2["l1"] == pytest.approx(4 * 100 * 8 * 0.346 / 0.3)
    assert p.area_um2["l2"] == pytest.approx(1000 * 8 * 0.346 / 0.7)
    assert p.area_mm2 == pytest.approx((2545.6 + 9260 + 3690.6667 + 3954.2857) * 1e-6)


def test_component_power_by_hand():
    p = accelerator_ppa(_acc())
    tech = TechTable.load()
    assert p.leakage_mw["mac"] == pytest.approx(16 * 0.0032)
    assert p.leakage_mw["l2"] == pytest.approx(8000 * 1e-6)
    # 16 FUs x 0.7172 pJ x 455 MHz = 5.2212 mW
    assert p.dynamic_mw["mac"] == pytest.approx(16 * tech.mac_pj("lightpe1") * 455e-3)
    assert p.dynamic_mw["mac"] == pytest.approx(5.22122, rel=1e-4)
    l1r, l1w = tech.sram.access_pj(100, 32)
    assert p.dynamic_mw["l1"] == pytest.approx(4 * 4 * (l1r + l1w) / 2 * 455e-3)
    assert p.power_mw == pytest.approx(sum(p.leakage_mw.values()) + sum(p.dynamic_mw.values()))


def test_area_grows_with_every_parameter_and_orders_the_kinds():
    base = accelerator_ppa(_acc("int16", 16, 512, 65536)).area_mm2
    for change in ({"pes": 32}, {"l1": 1024}, {"l2": 131072}):
        args = {"kind": "int16", "pes": 16, "l1": 512, "l2": 65536, **change}
        assert accelerator_ppa(_acc(**args)).area_mm2 > base
    mac = {k: accelerator_ppa(_acc(k, 16, 512, 65536)).area_um2["mac"] for k in ("fp32", "int16", "lightpe1")}
    assert mac["fp32"] > mac["int16"] > mac["lightpe1"]


def test_tech_overrides_reach_the_model_and_the_energy_model_accepts_them():
    acc = _acc(ppa={"sram_cell_area_um2": 0.692}, pe_kinds={"lightpe1": {"mac_area_um2": 0.0}})
    p = accelerator_ppa(acc)
    assert p.area_um2["mac"] == 0.0
    assert p.area_um2["l2"] == pytest.approx(2 * 1000 * 8 * 0.346 / 0.7)
    assert energy_tech(acc).mac_pj("lightpe1") > 0
    TechTable.load(acc.tech)  # the energy model ignores the PPA keys instead of failing
    with pytest.raises(InputError, match="unknown PPA component"):
        accelerator_ppa(_acc(ppa={"sram_cell_um2": 1.0}))


def test_component_ppa_is_a_pure_function_of_its_inputs():
    k, params, tech = get_pe_kind("fp32"), component_params(), TechTable.load()
    a = component_ppa(k, 8, 256, 4096, params, tech)
    b = component_ppa(k, 8, 256, 4096, params, tech)
    assert a == b and a.to_dict()["area_mm2"] == a.area_mm2


def test_helpers():
    assert sram_area_um2(1, 0.5, 0.5) == 8.0
    assert performance_per_area(0.01, 2.0) == pytest.approx(50.0)
    p = accelerator_ppa(_acc())
    assert static_energy_nj(p, 1.0) == pytest.approx(p.leakage_total_mw * 1e6)
    with pytest.raises(InputError):
        performance_per_area(0.0, 1.0)
