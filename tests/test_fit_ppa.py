"""fit-ppa: k-fold degree selection recovers known polynomials; bad tables are one-line errors (exit 2)."""
from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from qmaestro.accelerator import Accelerator
from qmaestro.errors import InputError
from qmaestro.fit_ppa import (PPAModelFile, exponents, fit_polynomial, fit_table, main, mape, read_table, rmspe)
from qmaestro.ppa import accelerator_ppa


def _grid():
    pes, l1, l2 = np.meshgrid([16, 32, 64, 128, 168, 256], [64, 128, 256, 512, 1024], [16384, 65536, 262144])
    return pes.ravel(), l1.ravel(), l2.ravel()


def _area2(pes, l1, l2):  # degree 2: a constant, per-PE terms, PE x L1 (scratchpads) and L2
    return 0.5 + 0.002 * pes + 1e-6 * pes * l1 + 3e-6 * l2


def _power3(pes, l1, l2):  # degree 3
    return 2.0 + 0.1 * pes + 1e-9 * pes * l1 * l2 / 1000


def _write(path: Path, header, rows) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


@pytest.fixture
def table_csv(tmp_path):
    pes, l1, l2 = _grid()
    rows = [[k, p, a, b, _area2(p, a, b) * (1.0 if k == "int16" else 2.0), _power3(p, a, b)]
            for k in ("int16", "lightpe1") for p, a, b in zip(pes, l1, l2)]
    return _write(tmp_path / "char.csv", ["pe_kind", "num_pes", "l1_bytes", "l2_bytes", "area_mm2", "power_mw"],
                  rows)


def test_exponents_and_errors_by_hand():
    assert len(exponents(2, 2)) == 6 and exponents(2, 2).tolist()[0] == [0, 0]
    assert len(exponents(4, 5)) == 126  # C(4 + 5, 5)
    y, pred = np.array([1.0, 2.0]), np.array([1.1, 1.8])
    assert mape(y, pred) == pytest.approx(10.0)
    assert rmspe(y, pred) == pytest.approx(10.0)
    assert rmspe(np.array([1.0, 1.0]), np.array([1.0, 1.2])) == pytest.approx(np.sqrt(0.02) * 100)


def test_fit_recovers_known_polynomials_and_picks_their_degree(table_csv):
    fits = {(f.group, f.target): f for f in fit_table(read_table(table_csv), folds=5, max_degree=4)}
    assert fits[("int16", "area_mm2")].model.degree == 2
    assert fits[("lightpe1", "area_mm2")].model.degree == 2
    assert fits[("int16", "power_mw")].model.degree == 3
    f = fits[("int16", "area_mm2")]
    assert f.scores[0].mape > 0.1 and f.chosen.mape < 1e-6  # degree 1 misses, degree 2 is exact
    assert f.model.predict(np.array([100, 300, 100000]))[0] == pytest.approx(_area2(100, 300, 100000), rel=1e-9)
    assert fits[("lightpe1", "area_mm2")].model.predict(np.array([100, 300, 100000]))[0] \
        == pytest.approx(2 * _area2(100, 300, 100000), rel=1e-9)


def test_noisy_data_prefers_a_low_degree():
    rng = np.random.default_rng(3)
    x = rng.uniform(1, 10, size=(40, 1))
    y = 5 + 2 * x[:, 0] + rng.normal(0, 0.2, 40)
    from qmaestro.fit_ppa import Table
    t = Table("mem", ("x",), ("area_mm2",), x, y[:, None], ("all",) * 40)
    (f,) = fit_table(t, folds=5, max_degree=5)
    best = min(f.scores, key=lambda s: s.score)
    assert f.model.degree == best.degree  # noise: no degree is exact, the cross-validated best wins
    assert f.scores[-1].score > f.scores[0].score  # degree 5 overfits the noise


def test_cli_writes_a_model_an_accelerator_can_use(table_csv, tmp_path, capsys):
    out = tmp_path / "model.yaml"
    assert main(["fit-ppa", str(table_csv), "-o", str(out), "--max-degree", "3"]) == 0
    text = capsys.readouterr().out
    assert "MAPE" in text and "RMSPE" in text and "chosen" in text
    acc = dataclasses.replace(Accelerator.load("edge16"), num_pes=64, l1_bytes=256, l2_bytes=65536,
                              pe_kind="int16", tech={"ppa_model": str(out)})
    p = accelerator_ppa(acc)
    assert p.area_mm2 == pytest.approx(_area2(64, 256, 65536), rel=1e-9)
    assert p.power_mw == pytest.approx(_power3(64, 256, 65536), rel=1e-9)
    assert p.model.startswith("fitted:")
    json_out = tmp_path / "model.json"
    assert main(["fit-ppa", str(table_csv), "-o", str(json_out), "--max-degree", "2"]) == 0
    assert PPAModelFile.load(json_out).models["lightpe1"]["area_mm2"].degree == 2
    with pytest.raises(InputError, match="no fit for PE kind 'fp32'"):
        accelerator_ppa(dataclasses.replace(acc, pe_kind="fp32"))


def test_features_may_come_from_the_model_reference(tmp_path):
    rows = [[a, b, 1.0 + a / 10 + b / 100, 2.0] for a in range(1, 7) for b in range(1, 7)]
    data = _write(tmp_path / "q.csv", ["sp_if", "num_pes", "area_mm2", "power_mw"], rows)
    out = tmp_path / "q.yaml"
    assert main(["fit-ppa", str(data), "--features", "sp_if,num_pes", "-o", str(out), "--max-degree", "2"]) == 0
    acc = dataclasses.replace(Accelerator.load("edge16"), num_pes=4, pe_kind="int8",
                              tech={"ppa_model": {"file": str(out), "features": {"sp_if": 3}}})
    assert accelerator_ppa(acc).area_mm2 == pytest.approx(1.0 + 0.3 + 0.04)
    with pytest.raises(InputError, match="needs feature 'sp_if'"):
        accelerator_ppa(dataclasses.replace(acc, tech={"ppa_model": str(out)}))


@pytest.mark.parametrize("content, message", [
    (None, "file not found"),
    ("", "the CSV is empty"),
    ("num_pes,l1_bytes,area_mm2,power_mw\n1,2,3,4\n", "missing column(s) ['l2_bytes']"),
    ("num_pes,l1_bytes,l2_bytes,area_mm2,power_mw\n1,2,3,4,5\n1,x,3,4,5\n", ":3: non-numeric value 'x'"),
    ("num_pes,l1_bytes,l2_bytes,area_mm2,power_mw\n1,2,3,4\n", ":2: 4 fields"),
    ("num_pes,l1_bytes,l2_bytes,area_mm2,power_mw\n1,2,3,0,5\n", "percentage errors need values > 0"),
    ("num_pes,l1_bytes,l2_bytes,area_mm2,power_mw\n1,2,3,4,5\n2,2,3,4,5\n3,2,3,4,5\n", "fewer than the 5 folds"),
    ("num_pes,l1_bytes,l2_bytes,area_mm2,power_mw\n1,2,3,4,5\n2,2,3,4,5\n3,2,3,4,5\n", "too few rows to cross"),
])
def test_bad_tables_exit_2_with_one_line(tmp_path, capsys, content, message):
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_text(content)
    folds = ["--folds", "3"] if message.startswith("too few rows") else []  # 2 training rows < 4 terms
    assert main(["fit-ppa", str(path), "-o", str(tmp_path / "m.yaml"), *folds]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "m.yaml").exists()


def test_bad_options(tmp_path, table_csv, capsys):
    assert main(["fit-ppa", str(table_csv), "--folds", "1"]) == 2
    assert main(["fit-ppa", str(table_csv), "-o", str(tmp_path / "m.txt")]) == 2
    assert main(["fit-ppa", str(table_csv), "--targets", ""]) == 2
    err = capsys.readouterr().err
    assert "--folds" in err and ".yaml or .json" in err and "--targets is empty" in err


def test_registered_in_the_qmaestro_cli(table_csv, tmp_path, capsys):
    from qmaestro.cli import main as qmaestro_main
    assert qmaestro_main(["fit-ppa", str(table_csv), "-o", str(tmp_path / "m.yaml"), "--max-degree", "2"]) == 0
    assert qmaestro_main(["fit-ppa", str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv: file not found" in capsys.readouterr().err
