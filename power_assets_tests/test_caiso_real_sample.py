"""The real CAISO DAM all-AP-node file (caheredia/caiso_connector temp.zip) parses exactly."""

import csv
import io
import zipfile
from datetime import UTC, datetime

import polars as pl
import pytest

from power_assets import parse_file
from power_assets.isos.caiso import Caiso
from power_assets.market_time import market_day_bounds
from power_assets_tests.samples import require_sample


@pytest.fixture
def temp_zip(samples):
    return require_sample("caiso/temp.zip")


def _raw_rows(path):
    with zipfile.ZipFile(path) as archive:
        name = archive.namelist()[0]
        return list(csv.DictReader(io.TextIOWrapper(archive.open(name), "utf-8")))


def test_real_dam_day_has_one_row_per_node_hour_and_every_node(temp_zip):
    frame = parse_file("CAISO", "lmp_da", temp_zip)
    raw = _raw_rows(temp_zip)
    node_hours = {(r["INTERVALSTARTTIME_GMT"], r["NODE"]) for r in raw}
    assert frame.height == len(node_hours) == 40_712
    assert frame["location"].n_unique() == 1_700
    assert (
        frame.select(pl.struct("location", "interval_start").is_duplicated().any()).item() is False
    )
    assert frame["interval_start"].min() == datetime(2020, 1, 2, 0, tzinfo=UTC)
    assert frame["interval_start"].max() == datetime(2020, 1, 2, 23, tzinfo=UTC)


def test_real_dam_values_match_the_raw_csv_exactly(temp_zip):
    frame = parse_file("CAISO", "lmp_da", temp_zip)
    row = frame.filter(
        (pl.col("location") == "AFPR_1_TOT_GEN-APND")
        & (pl.col("interval_start") == datetime(2020, 1, 2, 5, tzinfo=UTC))
    ).row(0, named=True)
    assert (row["lmp"], row["energy"], row["congestion"], row["loss"]) == (
        34.04259,
        35.49061,
        0.0,
        -1.44802,
    )
    assert row["interval_end"] == datetime(2020, 1, 2, 6, tzinfo=UTC)
    hub = frame.filter(
        (pl.col("location") == "TH_SP15_GEN-APND")
        & (pl.col("interval_start") == datetime(2020, 1, 2, 19, tzinfo=UTC))
    ).row(0, named=True)
    assert (hub["lmp"], hub["energy"], hub["loss"], hub["location_type"]) == (
        26.04,
        27.90399,
        -1.86399,
        "TRADING_HUB",
    )
    # This file predates the GHG component: it is null, not zero.
    assert frame["ghg"].null_count() == frame.height


def test_every_raw_price_survives_the_pivot(temp_zip):
    frame = parse_file("CAISO", "lmp_da", temp_zip)
    raw = _raw_rows(temp_zip)
    raw_lmp_sum = sum(float(r["MW"]) for r in raw if r["LMP_TYPE"] == "LMP")
    assert frame["lmp"].sum() == pytest.approx(raw_lmp_sum, rel=1e-12)
    assert frame["congestion"].null_count() == 0


def test_file_spanning_two_pacific_days_splits_by_market_day(temp_zip):
    """The file runs 00:00-23:00 UTC: 8 hours of Pacific 2020-01-01 and 16 of 2020-01-02."""
    frame = parse_file("CAISO", "lmp_da", temp_zip)
    start, end = market_day_bounds(Caiso.timezone, datetime(2020, 1, 2).date())
    raw = _raw_rows(temp_zip)
    in_day = frame.filter(pl.col("interval_start").is_between(start, end, closed="left"))
    expected = {(r["INTERVALSTARTTIME_GMT"], r["NODE"]) for r in raw if r["OPR_DT"] == "2020-01-02"}
    assert in_day.height == len(expected) == 27_136
