"""The README's first command: the offline demo runs the main job for every demo ISO and stores them."""

import duckdb
import pytest

from power_assets.demo.run import DEMO_DAYS, DEMO_ISOS, run_demo
from power_assets.isos import registered_isos

pytestmark = pytest.mark.e2e


def test_demo_runs_every_stage_of_all_seven_isos_offline(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert run_demo(tmp_path / "data") == 0
    out = capsys.readouterr().out
    assert "FAILED" not in out
    with duckdb.connect(str(tmp_path / "data" / "power.duckdb"), read_only=True) as con:
        stored = con.execute("SELECT iso, dataset, days FROM catalog").fetchall()
    assert set(DEMO_ISOS) == {"CAISO", "ERCOT", "ISONE", "MISO", "NYISO", "PJM", "SPP"}
    assert {iso for iso, _, _ in stored} == set(DEMO_ISOS)
    # every dataset each ISO publishes, on both days
    for iso in registered_isos():
        assert {d for i, d, _ in stored if i == iso.id} == set(iso.datasets), iso.id
    assert all(days == len(DEMO_DAYS) for _, _, days in stored)
    assert {"lmp_da", "lmp_rt15", "as_da"} <= {d for iso, d, _ in stored if iso == "ERCOT"}
    pjm = {d for iso, d, _ in stored if iso == "PJM"}
    assert pjm == {"lmp_da", "lmp_rt_hourly", "lmp_rt5", "as_da", "as_rt", "load",
                   "load_forecast", "fuel_mix"}  # fmt: skip
    for iso in DEMO_ISOS:
        assert (tmp_path / "data" / iso / "combined" / "da_as_rt_native" / "yearly").is_dir()
