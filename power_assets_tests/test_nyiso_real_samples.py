"""Real NYISO MIS files (../shared/samples/nyiso) parse exactly: DST-end LBMPs, fuel-mix monthly
archives (old `Gen MWh` and current `Gen MW`), pal, isolf and a realtime file with a leading
empty line."""

import zipfile
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from power_assets.isos.nyiso import Nyiso
from power_assets.schemas import (
    LMP_KEY,
    FuelMixSchema,
    LmpSchema,
    LoadForecastSchema,
    LoadSchema,
    validate_standardized,
)
from power_assets_tests.samples import require_sample

NYISO = Nyiso()


@pytest.fixture
def nyiso_dir(samples):
    return require_sample("nyiso")


def row(frame: pl.DataFrame, column: str, name: str, start: datetime) -> dict:
    hit = frame.filter((pl.col(column) == name) & (pl.col("interval_start") == start))
    assert hit.height == 1, (name, start, hit)
    return hit.row(0, named=True)


@pytest.mark.parametrize(
    ("dataset", "name"),
    [("lmp_da", "nyiso_20251102damlbmp_zone_sample.csv"),
     ("lmp_rt_hourly", "nyiso_20251102rtlbmp_zone_sample.csv")],
)  # fmt: skip
def test_dst_end_lbmp_samples_have_25_distinct_hours_per_zone(nyiso_dir, dataset, name):
    frame = NYISO.parse(dataset, [nyiso_dir / name])
    validate_standardized(frame, LmpSchema, name)
    assert frame.height == 75
    counts = frame.group_by("location").agg(pl.col("interval_start").n_unique().alias("hours"))
    assert dict(counts.iter_rows()) == {"N.Y.C.": 25, "PJM": 25, "WEST": 25}
    assert frame.select(pl.struct(LMP_KEY).is_duplicated().any()).item() is False
    assert frame["interval_start"].min() == datetime(2025, 11, 2, 4, tzinfo=UTC)
    assert frame["interval_start"].max() == datetime(2025, 11, 3, 4, tzinfo=UTC)
    assert dict(frame.select("location", "location_type").unique().iter_rows()) == {
        "N.Y.C.": "ZONE", "PJM": "EXTERNAL", "WEST": "ZONE"
    }  # fmt: skip


def test_damlbmp_values_and_flipped_congestion_match_the_raw_text(nyiso_dir):
    frame = NYISO.parse("lmp_da", [nyiso_dir / "nyiso_20251102damlbmp_zone_sample.csv"])
    # "11/02/2025 01:00,N.Y.C.,61761,53.65,2.21,0.00" then the repeated "...,52.59,2.50,0.00"
    first = row(frame, "location", "N.Y.C.", datetime(2025, 11, 2, 5, tzinfo=UTC))
    second = row(frame, "location", "N.Y.C.", datetime(2025, 11, 2, 6, tzinfo=UTC))
    assert (first["lmp"], first["loss"]) == (53.65, 2.21)
    assert (second["lmp"], second["loss"]) == (52.59, 2.50)
    # "11/02/2025 06:00,PJM,61847,46.07,0.14,2.23" (06:00 EST = 11:00 UTC)
    pjm = row(frame, "location", "PJM", datetime(2025, 11, 2, 11, tzinfo=UTC))
    assert (pjm["lmp"], pjm["loss"], pjm["congestion"]) == (46.07, 0.14, -2.23)
    assert pjm["energy"] == pytest.approx(48.16, abs=1e-9)
    # same hour at N.Y.C. (uncongested): energy 50.62 - 2.45 = 48.17, one cent of rounding apart
    assert row(frame, "location", "N.Y.C.", pjm["interval_start"])["energy"] == pytest.approx(48.17)


def test_rtlbmp_values_match_the_raw_text(nyiso_dir):
    frame = NYISO.parse("lmp_rt_hourly", [nyiso_dir / "nyiso_20251102rtlbmp_zone_sample.csv"])
    # "11/02/2025 01:00","N.Y.C.",61761,38.03,1.39,0.00 -- the second (EST) 01:00
    nyc = row(frame, "location", "N.Y.C.", datetime(2025, 11, 2, 6, tzinfo=UTC))
    assert (nyc["lmp"], nyc["loss"], nyc["congestion"], nyc["market"]) == (38.03, 1.39, 0.0, "RTH")
    # "11/02/2025 15:00","PJM",61847,43.51,-0.22,0.82
    pjm = row(frame, "location", "PJM", datetime(2025, 11, 2, 20, tzinfo=UTC))
    assert (pjm["lmp"], pjm["loss"], pjm["congestion"]) == (43.51, -0.22, -0.82)
    assert pjm["energy"] == pytest.approx(44.55, abs=1e-9)


def _raw_intervals(path) -> int:
    """Distinct (fuel, 5-minute interval) pairs in the raw text, an interval being the stamp
    rounded up to the 5-minute grid (the files are END-labelled; no DST day in these months)."""
    keys = set()
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            for line in archive.read(name).decode().splitlines()[1:]:
                if not line.strip():
                    continue
                fields = [f.strip('"') for f in line.split(",")]
                stamp = datetime.strptime(fields[0], "%m/%d/%Y %H:%M:%S")
                end = stamp + (datetime.min - stamp) % timedelta(minutes=5)
                keys.add((fields[2], end))
    return len(keys)


def _raw_data_rows(path) -> tuple[int, int]:
    """(members, data lines) of a monthly archive, counted from the raw text."""
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.endswith(".csv")]
        lines = sum(
            sum(1 for line in archive.read(n).decode().splitlines()[1:] if line.strip())
            for n in names
        )
    return len(names), lines


@pytest.mark.parametrize(
    ("name", "members", "rows"),
    [("20160401rtfuelmix.csv.zip", 30, 61_033), ("20250201rtfuelmix_csv.zip", 28, 57_722)],
)
def test_monthly_fuel_mix_archives_parse_every_row(nyiso_dir, name, members, rows):
    path = nyiso_dir / name
    assert _raw_data_rows(path) == (members, rows)
    frame = NYISO.parse("fuel_mix", [path])
    validate_standardized(frame, FuelMixSchema, name)
    # Off-schedule readings are folded into their interval: one row per fuel and interval,
    # and no raw row is unaccounted for (every interval keeps at least one reading).
    assert not frame.select(pl.struct("fuel", "interval_start").is_duplicated().any()).item()
    assert frame.height == _raw_intervals(path)
    assert frame["mw"].null_count() == 0


def test_old_gen_mwh_archive_values(nyiso_dir):
    frame = NYISO.parse("fuel_mix", [nyiso_dir / "20160401rtfuelmix.csv.zip"])
    # "04/01/2016 00:05:00,EDT,Dual Fuel,2681.0": the interval ending 00:05 EDT
    dual = row(frame, "fuel", "Dual Fuel", datetime(2016, 4, 1, 4, tzinfo=UTC))
    assert (dual["mw"], dual["interval_end"]) == (2681.0, datetime(2016, 4, 1, 4, 5, tzinfo=UTC))
    # "04/02/2016 00:00:00,EDT,Hydro,3370.0" closes April 1st (23:55-24:00) in that day's file
    hydro = row(frame, "fuel", "Hydro", datetime(2016, 4, 2, 3, 55, tzinfo=UTC))
    assert hydro["mw"] == 3370.0


def test_pal_values_and_irregular_snapshots(nyiso_dir):
    frame = NYISO.parse("load", [nyiso_dir / "20171122pal.csv"])
    validate_standardized(frame, LoadSchema, "20171122pal.csv")
    assert frame["area"].n_unique() == 11
    assert not frame.select(pl.struct("area", "interval_start").is_duplicated().any()).item()
    # "11/22/2017 00:00:00","EST","CAPITL",61757,1140.5 -- the file opens the day
    assert row(frame, "area", "CAPITL", datetime(2017, 11, 22, 5, tzinfo=UTC))["load_mw"] == 1140.5
    # regular 00:05:00 (1149.5) and irregular 00:07:34 (1147.7), 00:09:40 (1135.6) all fall in
    # 00:05-00:10: that interval holds their mean
    merged = row(frame, "area", "CAPITL", datetime(2017, 11, 22, 5, 5, tzinfo=UTC))
    assert merged["load_mw"] == pytest.approx((1149.5 + 1147.7 + 1135.6) / 3)


@pytest.mark.parametrize(
    ("name", "start", "checks"),
    [
        # "11/22/2017 01:00",1080,1457,...,4337,460,1504,13449
        ("20171122isolf.csv", datetime(2017, 11, 22, 5, tzinfo=UTC),
         {("N.Y.C.", datetime(2017, 11, 22, 6, tzinfo=UTC)): 4337.0,
          ("NYISO", datetime(2017, 11, 22, 6, tzinfo=UTC)): 13449.0,
          ("CAPITL", datetime(2017, 11, 22, 6, tzinfo=UTC)): 1080.0}),
        # "02/24/2025 23:00",1332,...,16465 -- the last hour of the sixth day
        ("20250219isolf.csv", datetime(2025, 2, 19, 5, tzinfo=UTC),
         {("NYISO", datetime(2025, 2, 25, 4, tzinfo=UTC)): 16465.0,
          ("CAPITL", datetime(2025, 2, 25, 4, tzinfo=UTC)): 1332.0}),
    ],
)  # fmt: skip
def test_isolf_samples_parse_exactly(nyiso_dir, name, start, checks):
    frame = NYISO.parse("load_forecast", [nyiso_dir / name])
    validate_standardized(frame, LoadForecastSchema, name)
    assert frame.height == 144 * 12
    assert frame["publish_time"].unique().to_list() == [start]  # local midnight of the file date
    assert frame["interval_start"].min() == start
    assert set(frame["forecast_type"]) == {"ISO"}
    for (area, instant), value in checks.items():
        assert row(frame, "area", area, instant)["load_mw"] == value


def test_realtime_sample_with_leading_empty_line(nyiso_dir):
    path = nyiso_dir / "lmp.csv"
    assert path.read_bytes()[:1] in (b"\n", b"\r")
    frame = NYISO.parse("lmp_rt5", [path])
    validate_standardized(frame, LmpSchema, "lmp.csv")
    assert frame.height == 45 and frame["location"].n_unique() == 15
    # "02/18/2016 00:15:00","CAPITL",61757,21.53,1.69,0.00: the interval ending 00:15 EST
    capitl = row(frame, "location", "CAPITL", datetime(2016, 2, 18, 5, 10, tzinfo=UTC))
    assert (capitl["lmp"], capitl["loss"], capitl["congestion"]) == (21.53, 1.69, 0.0)
    assert capitl["energy"] == pytest.approx(19.84)
    assert set(frame["market"]) == {"RT5M"}
