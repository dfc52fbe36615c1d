"""End to end through Dagster for SPP against a fake Marketplace file browser on loopback: both
2024 DST days through every stage into DuckDB with values checked exactly against the fake's
generator, GenMix's yearly file fetched once, and a day whose RTBM daily file is missing planned
from its 5-minute files (SPP's `d` files of the repeated hour, and SPP's own 2024-11-03 hole).
"""

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import polars as pl
import pytest

from power_assets.demo import spp_fixtures as fx
from power_assets.demo.spp_server import FakeSpp
from power_assets.keys import partition_key, stage_keys
from power_assets_tests.e2e_support import check_results, loopback_defs, query, run_day

pytestmark = pytest.mark.e2e

SPRING, FALL = date(2024, 3, 10), date(2024, 11, 3)
HOURS = {SPRING: 23, FALL: 25}
START = {SPRING: datetime(2024, 3, 10, 6, tzinfo=UTC), FALL: datetime(2024, 11, 3, 5, tzinfo=UTC)}
DATASETS = {
    "lmp_da": "lmp", "lmp_rt5": "lmp", "as_da": "as_price", "as_rt": "as_price", "load": "load",
    "load_forecast": "load_forecast", "fuel_mix": "fuel_mix",
}  # fmt: skip
# SPP leaves GenMix rows blank on the DST days: kept as gaps, which these checks report.
GENMIX_GAP_WARNINGS = frozenset(
    {"raw_parquet/fuel_mix:no_missing_values", "flattened/fuel_mix:grid_complete"}
)
LOCATIONS = 4


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


def _failing(result) -> set[str]:
    return {key for key, passed in check_results(result).items() if not passed}


def test_both_dst_days_every_stage_into_duckdb_with_exact_values(tmp_path, instance):
    with FakeSpp([SPRING, FALL], location_count=LOCATIONS) as fake:
        defs = loopback_defs(tmp_path, {"SPP": fake.base_url})
        results = {day: run_day(defs, instance, partition_key(day, "SPP")) for day in HOURS}
        log = fake.requests
    for day, result in results.items():
        assert result.success, day
        assert check_results(result) and _failing(result) <= GENMIX_GAP_WARNINGS, day
        for dataset, table in DATASETS.items():
            count = query(tmp_path, f'SELECT count(*) FROM "{table}" WHERE iso = ? AND '
                          "dataset = ? AND market_date = ?", ["SPP", dataset, day])[0][0]  # fmt: skip
            assert count > 0, (day, dataset)
        per_location = query(
            tmp_path,
            "SELECT dataset, min(interval_start), count(*) FROM lmp WHERE iso = 'SPP' "
            "AND location = 'SPPNORTH_HUB' AND market_date = ? GROUP BY dataset ORDER BY dataset",
            [day],
        )
        hours = HOURS[day]
        assert per_location == [("lmp_da", START[day], hours), ("lmp_rt5", START[day], hours * 12)]
        native = pl.read_parquet(
            tmp_path / "data" / "SPP" / "combined" / "da_as_rt_native" / "daily" / f"{day}.parquet"
        )
        assert native.height == hours * 12
        for prefix in ("da__", "as__", "rt__"):
            assert any(c.startswith(prefix) for c in native.columns), prefix

    # Exact values, each from the generator: the repeated hour's second pass where it matters.
    second_pass = datetime(2024, 11, 3, 7, tzinfo=UTC)  # 01:00-02:00 CST
    da = query(tmp_path, "SELECT location, location_id, lmp, energy, congestion, loss FROM lmp "
               "WHERE iso = 'SPP' AND dataset = 'lmp_da' AND interval_start = ? ORDER BY location",
               [second_pass])  # fmt: skip
    assert len(da) == LOCATIONS
    for location, pnode, lmp, energy, congestion, loss in da:
        want = fx.lmp_parts("DAM", location, second_pass + timedelta(hours=1))
        assert (lmp, energy, congestion, loss) == (want["LMP"], want["MEC"], want["MCC"],
                                                   want["MLC"])  # fmt: skip
        assert pnode == {p.name: p.pnode for p in fx.locations(LOCATIONS)}[location]
    five = datetime(2024, 11, 3, 7, 5, tzinfo=UTC)
    (rt,) = query(tmp_path, "SELECT lmp, market FROM lmp WHERE iso = 'SPP' AND dataset = "
                  "'lmp_rt5' AND location = 'AECI' AND interval_start = ?", [five])  # fmt: skip
    assert rt == (fx.lmp_parts("RTBM", "AECI", five + timedelta(minutes=5))["LMP"], "RTBM")
    (spin,) = query(tmp_path, "SELECT price, iso_product FROM as_price WHERE iso = 'SPP' AND "
                    "dataset = 'as_da' AND region = '3' AND product = 'NON_SPIN' AND "
                    "interval_start = ?", [second_pass])  # fmt: skip
    assert spin == (fx.mcp("DAM", "3", "Supp", second_pass + timedelta(hours=1)), "Supp")
    (mileage,) = query(tmp_path, "SELECT price FROM as_price WHERE iso = 'SPP' AND dataset = "
                       "'as_rt' AND region = 'SPP' AND product = 'REG_UP_MILEAGE' AND "
                       "interval_start = ?", [five])  # fmt: skip
    assert mileage == (fx.mcp("RTBM", "SPP", "RegUpMile", five + timedelta(minutes=5)),)
    (load,) = query(tmp_path, "SELECT load_mw FROM load WHERE iso = 'SPP' AND area = 'WR' AND "
                    "interval_start = ?", [second_pass])  # fmt: skip
    assert load == (fx.zone_load("WR", second_pass + timedelta(hours=1)),)
    vintages = query(tmp_path, "SELECT publish_time, load_mw FROM load_forecast WHERE iso = 'SPP' "
                     "AND interval_start = ? ORDER BY publish_time", [second_pass])  # fmt: skip
    issued = fx.mtlf_issues(FALL - timedelta(days=1))  # every vintage of November 2
    assert vintages == [(i, fx.mtlf("SPP", second_pass + timedelta(hours=1), i)) for i in issued]
    gaps = query(tmp_path, "SELECT count(*), min(interval_end) FROM fuel_mix WHERE iso = 'SPP' "
                 "AND market_date = ? AND mw IS NULL", [FALL])  # fmt: skip
    assert gaps == [(12 * len(fx.GENMIX_COLUMNS), datetime(2024, 11, 3, 6, tzinfo=UTC))]
    (coal,) = query(tmp_path, "SELECT mw FROM fuel_mix WHERE iso = 'SPP' AND fuel = 'Coal Self' "
                    "AND interval_start = ?", [five])  # fmt: skip
    assert coal == (fx.fuel_mw("Coal Self", five + timedelta(minutes=5)),)

    # GenMix_2024.csv serves both days: downloaded once, kept as a shared file.
    genmix = [r for r in log if r.kind == "download" and r.path == "/GenMix_2024.csv"]
    assert len(genmix) == 1
    # Each day's extracted copy holds the header and that day's lines, not the fake's year:
    # 12 five-minute rows an hour, 23 hours on the spring-forward day, 25 on the fall-back day.
    for day, hours in ((SPRING, 23), (FALL, 25)):
        (extracted,) = (tmp_path / "data" / "SPP" / "csv_files" / "fuel_mix" / str(day)).rglob(
            "GenMix_2024.csv"
        )
        assert len(extracted.read_bytes().splitlines()) == 1 + 12 * hours, day
    # Past RTBM days come from the daily files, never 5-minute files.
    assert not any("/By_Interval/" in r.path for r in log)


def test_a_day_without_its_daily_file_comes_from_five_minute_files(tmp_path, instance):
    # SPP wrote no 5-minute files for intervals ending 01:10 CDT ... 01:05 CST on 2024-11-03.
    hole = [datetime(2024, 11, 3, 6, 10, tzinfo=UTC) + timedelta(minutes=5 * n) for n in range(12)]
    selection = stage_keys(["lmp_rt5"])
    with FakeSpp([FALL], location_count=2, daily_rt_files=False, missing_intervals=hole) as fake:
        defs = loopback_defs(tmp_path, {"SPP": fake.base_url})
        result = run_day(defs, instance, partition_key(FALL, "SPP"), selection=selection)
        fetched = [r.path.rsplit("/", 1)[-1] for r in fake.requests if r.kind == "download"]
    assert result.success
    assert "raw_parquet/lmp_rt5:no_interval_gaps" in _failing(result)  # the hole is reported
    assert len(fetched) == 300 - len(hole)
    assert "RTBM-LMP-SL-202411030110d.csv" in fetched and "RTBM-LMP-SL-202411030110.csv" not in (
        fetched)  # fmt: skip
    stored = query(tmp_path, "SELECT count(*), count(DISTINCT interval_start) FROM lmp WHERE "
                   "iso = 'SPP' AND dataset = 'lmp_rt5' AND market_date = ?", [FALL])  # fmt: skip
    assert stored == [(2 * (300 - len(hole)), 300 - len(hole))]
    (value,) = query(tmp_path, "SELECT lmp FROM lmp WHERE iso = 'SPP' AND location = "
                     "'SPPNORTH_HUB' AND interval_end = ?",
                     [datetime(2024, 11, 3, 7, 10, tzinfo=UTC)])  # fmt: skip
    assert value == (fx.lmp_parts("RTBM", "SPPNORTH_HUB", datetime(2024, 11, 3, 7, 10,
                                                                    tzinfo=UTC))["LMP"],)  # fmt: skip


def test_a_closed_day_missing_a_five_minute_file_fails_and_downloads_nothing(tmp_path, instance):
    # 12:00 CST on 2024-11-03 (18:00 UTC) is no known hole: the closed day is incomplete.
    gone = [datetime(2024, 11, 3, 18, tzinfo=UTC)]
    selection = stage_keys(["lmp_rt5"])
    with FakeSpp([FALL], location_count=2, daily_rt_files=False, missing_intervals=gone) as fake:
        defs = loopback_defs(tmp_path, {"SPP": fake.base_url})
        result = run_day(defs, instance, partition_key(FALL, "SPP"), selection=selection)
        downloads = [r for r in fake.requests if r.kind == "download"]
    assert not result.success
    said = " ".join(str(e.event_specific_data.error) for e in result.all_events
                    if e.is_step_failure)  # fmt: skip
    assert "raw_download/lmp_rt5" in said and "the market day has closed" in said
    assert (
        "lists no file for 1 of its 300 5-minute intervals, ending (UTC) 2024-11-03 18:00" in said
    )
    assert downloads == []  # nothing fetched for a day that cannot load whole
