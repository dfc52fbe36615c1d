"""Real ERCOT files (../shared/samples/ercot) parse to exact values: DAM SPP with padded prices,
RT SPP with LZ and LZEW rows of one zone, DAM AS MCPCs, and a MIS load-forecast zip whose header
ends in spaces and whose member name carries the post time."""

import shutil
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from power_assets.isos.ercot.parsing import parse_ercot
from power_assets.schemas import (
    LMP_KEY,
    AsPriceSchema,
    LmpSchema,
    LoadForecastSchema,
    validate_standardized,
)
from power_assets_tests.samples import require_sample


@pytest.fixture
def ercot_copy(samples, tmp_path):
    """Copy one sample into tmp_path under its own name; the repo never holds it."""
    folder = require_sample("ercot")

    def copy(name: str) -> Path:
        return Path(shutil.copy(folder / name, tmp_path / name))

    return copy


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# HE 01:00 and HE 02:00 of 09/29/2026, as published (the file pads each price with a space).
DAM_PRICES = {
    "7RNCHSLR_ALL": (28.4, 27.51), "A4_DGR1_RN": (28.05, 27.06), "A4_DGR2_RN": (28.05, 27.06),
    "ABINDUST_RN": (24.46, 22.55), "ADL_RN": (27.36, 25.76), "HB_BUSAVG": (26.19, 24.57),
    "HB_HOUSTON": (27.36, 25.75), "HB_HUBAVG": (26.35, 24.76), "HB_NORTH": (25.42, 23.63),
    "HB_PAN": (23.39, 21.36), "HB_SOUTH": (28.18, 27.13), "HB_WEST": (24.44, 22.54),
    "LZ_AEN": (28.81, 27.64), "LZ_CPS": (28.06, 27.06), "LZ_HOUSTON": (27.4, 25.81),
    "LZ_LCRA": (28.63, 27.54), "LZ_NORTH": (25.86, 24.15), "LZ_RAYBN": (25.37, 23.59),
    "LZ_SOUTH": (28.37, 27.71), "LZ_WEST": (24.82, 23.03),
}  # fmt: skip


def test_dam_spp_sample(ercot_copy):
    frame, notes = parse_ercot("lmp_da", [ercot_copy("np4-190-cd.csv")])
    validate_standardized(frame, LmpSchema, "np4-190-cd.csv")
    assert frame.height == 40
    assert notes == {"files_without_dst_flag": 0, "rows_superseded": 0}
    first = frame.filter(pl.col("location") == "7RNCHSLR_ALL").row(0, named=True)
    assert (first["interval_start"], first["interval_end"], first["lmp"]) == (
        utc(2026, 9, 29, 5),
        utc(2026, 9, 29, 6),
        28.4,
    )
    got = {
        location: tuple(group.sort("interval_start")["lmp"])
        for (location,), group in frame.group_by("location")
    }
    assert got == DAM_PRICES
    assert set(frame["interval_start"]) == {utc(2026, 9, 29, 5), utc(2026, 9, 29, 6)}
    types = dict(frame.select("location", "location_type").unique().iter_rows())
    assert (types["HB_BUSAVG"], types["HB_HUBAVG"], types["HB_PAN"]) == ("SH", "AH", "HU")
    assert (types["LZ_RAYBN"], types["ADL_RN"]) == ("LZ", "RN")
    assert set(frame["market"]) == {"DAM"}


RT_PRICES = {
    "7RNCHSLR_ALL": ("RN", 22.42), "A4_DGR1_RN": ("RN", 22.29), "A4_DGR2_RN": ("RN", 22.29),
    "ABINDUST_RN": ("RN", 19.9), "ADL_RN": ("RN", 30.83), "HB_BUSAVG": ("SH", 21.48),
    "HB_HOUSTON": ("HU", 29.0), "HB_HUBAVG": ("AH", 22.69), "HB_NORTH": ("HU", 19.35),
    "HB_PAN": ("HU", 19.81), "HB_SOUTH": ("HU", 22.46), "HB_WEST": ("HU", 19.95),
    "LZ_AEN": ("LZ", 21.72), "LZ_AEN_LZEW": ("LZEW", 21.71),
    "LZ_CPS": ("LZ", 22.27), "LZ_CPS_LZEW": ("LZEW", 22.27),
    "LZ_HOUSTON": ("LZ", 28.23), "LZ_HOUSTON_LZEW": ("LZEW", 28.25),
    "LZ_LCRA": ("LZ", 21.93), "LZ_LCRA_LZEW": ("LZEW", 21.92),
    "LZ_NORTH": ("LZ", 19.42), "LZ_NORTH_LZEW": ("LZEW", 19.44),
    "LZ_RAYBN": ("LZ", 19.42), "LZ_RAYBN_LZEW": ("LZEW", 19.04),
    "LZ_SOUTH": ("LZ", 22.45), "LZ_SOUTH_LZEW": ("LZEW", 22.45),
    "LZ_WEST": ("LZ", 20.11), "LZ_WEST_LZEW": ("LZEW", 20.12),
}  # fmt: skip


def test_rt_spp_sample_keeps_lz_and_lzew_apart(ercot_copy):
    frame, _ = parse_ercot("lmp_rt15", [ercot_copy("np6-905-cd.csv")])
    validate_standardized(frame, LmpSchema, "np6-905-cd.csv")
    assert frame.height == 28
    got = {r["location"]: (r["location_type"], r["lmp"]) for r in frame.iter_rows(named=True)}
    assert got == RT_PRICES
    # HE 12 interval 1 of 09/29/2026 (CDT): 11:00-11:15 local.
    assert set(frame.select("interval_start", "interval_end").rows()) == {
        (utc(2026, 9, 29, 16), utc(2026, 9, 29, 16, 15))
    }
    assert frame.select(pl.struct(LMP_KEY).is_duplicated().any()).item() is False


def test_dam_as_sample(ercot_copy):
    frame, _ = parse_ercot("as_da", [ercot_copy("np4-188-cd.csv")])
    validate_standardized(frame, AsPriceSchema, "np4-188-cd.csv")
    got = {
        (r["iso_product"], r["product"], r["interval_start"].hour): r["price"]
        for r in frame.iter_rows(named=True)
    }
    assert got == {
        ("RRS", "RRS", 5): 0.19, ("NSPIN", "NON_SPIN", 5): 2.55, ("REGUP", "REG_UP", 5): 0.83,
        ("REGDN", "REG_DOWN", 5): 0.23, ("ECRS", "ECRS", 5): 0.28,
        ("REGDN", "REG_DOWN", 6): 0.26, ("REGUP", "REG_UP", 6): 0.55, ("RRS", "RRS", 6): 0.19,
        ("NSPIN", "NON_SPIN", 6): 1.86, ("ECRS", "ECRS", 6): 0.28,
    }  # fmt: skip
    assert frame.height == 10
    assert set(frame["region"]) == {"ERCOT"}


def test_load_forecast_mis_zip_sample(ercot_copy):
    frame, notes = parse_ercot("load_forecast", [ercot_copy("load_forecast_specific_reportid.zip")])
    validate_standardized(frame, LoadForecastSchema, "load_forecast_specific_reportid.zip")
    assert notes == {"files_without_dst_flag": 0, "rows_superseded": 0}
    counts = dict(frame.group_by("area").len().iter_rows())
    assert counts == {"NORTH": 192, "SOUTH": 192, "WEST": 192, "HOUSTON": 192, "SYSTEMTOTAL": 192}
    # Posted 2025-03-13 12:30:00 CDT (the member's cdr name).
    assert set(frame["publish_time"]) == {utc(2025, 3, 13, 17, 30)}
    assert set(frame["forecast_type"]) == {"NP3-560-CD"}
    north = frame.filter(pl.col("area") == "NORTH")
    assert north["interval_start"][0] == utc(2025, 3, 13, 5)  # HE 1:00 of 03/13/2025, CDT
    assert north["load_mw"][0] == 13005.493749755861875
    total = frame.filter(pl.col("area") == "SYSTEMTOTAL")
    assert total["interval_start"][-1] == utc(2025, 3, 21, 4)  # HE 24:00 of 03/20/2025
    assert total["load_mw"][-1] == 41722.78991699219
