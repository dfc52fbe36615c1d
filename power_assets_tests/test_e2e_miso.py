"""End to end through Dagster for MISO against a fake MISO on loopback: both 2024 DST days (24
hours each: MISO runs on fixed EST) through every stage into DuckDB, the morning after, so
real-time hourly prices come preliminary, 5-minute prices and the fuel mix from the public API's
"yesterday" answers, actual load from the next day's df_al.xls (a real BIFF8 workbook) and the
load forecast from every df_al vintage published so far; values checked exactly against the
fake's generator.
"""

import re
from datetime import UTC, date, datetime, time, timedelta, timezone

import dagster as dg
import pytest

from power_assets.demo import miso_fixtures as gen
from power_assets.demo.miso_server import FakeMiso
from power_assets.keys import daily_job_name, partition_key, stage_key, stage_keys
from power_assets_tests.e2e_support import check_results, loopback_defs, query

pytestmark = pytest.mark.e2e

EST = timezone(timedelta(hours=-5))
SPRING, FALL = date(2024, 3, 10), date(2024, 11, 3)
TABLES = {
    "lmp_da": "lmp", "lmp_da_exante": "lmp", "lmp_rt_hourly": "lmp", "lmp_rt5": "lmp", "as_da": "as_price",
    "as_rt": "as_price", "fuel_mix": "fuel_mix", "load": "load", "load_forecast": "load_forecast",
}  # fmt: skip


def _run(defs, instance, day: date, now: datetime):
    job = defs.resolve_job_def(daily_job_name("MISO"))
    return job.execute_in_process(
        partition_key=partition_key(day, "MISO"), instance=instance, raise_on_error=False,
        run_config={"resources": {"clock": {"config": {"frozen_at": now.isoformat()}}}},
        asset_selection=stage_keys(TABLES),
    )  # fmt: skip


def test_both_dst_days_every_stage_into_duckdb_with_exact_values(tmp_path):
    with dg.instance_for_test() as instance, FakeMiso() as fake:
        defs = loopback_defs(tmp_path, {"MISO": fake.base_url, "MISO:public_api": fake.api_url})
        results = {}
        for day in (SPRING, FALL):
            now = datetime.combine(day + timedelta(days=1), time(9, 0), tzinfo=EST)
            fake.now = now
            results[day] = _run(defs, instance, day, now)
        log = fake.requests
    for day, result in results.items():
        errors = [e.event_specific_data.error.to_string() for e in result.all_events
                  if e.is_step_failure]  # fmt: skip
        assert result.success, errors
        failing = {k for k, passed in check_results(result).items() if not passed}
        assert check_results(result) and not failing, (day, failing)
        for dataset, table in TABLES.items():
            (count,) = query(
                tmp_path,
                f'SELECT count(*) FROM "{table}" WHERE iso = ? AND dataset = ? AND market_date = ?',
                ["MISO", dataset, day],
            )[0]
            assert count > 0, (day, dataset)
        # Fixed EST: 24 hours and 288 five-minute intervals on both DST days.
        per_node = query(
            tmp_path,
            "SELECT dataset, market, count(DISTINCT interval_start), min(interval_start) FROM lmp "
            "WHERE iso = 'MISO' AND location = 'ILLINOIS.HUB' AND market_date = ? "
            "GROUP BY dataset, market ORDER BY dataset",
            [day],
        )
        midnight = datetime(day.year, day.month, day.day, 5, tzinfo=UTC)
        assert per_node == [
            ("lmp_da", "DAM", 24, midnight), ("lmp_da_exante", "DAM_EXANTE", 24, midnight),
            ("lmp_rt5", "RT5M", 288, midnight),
            ("lmp_rt_hourly", "RTH_PRELIM", 24, midnight),
        ]  # fmt: skip
    # The final real-time file was asked for first (404: not posted yet), then the preliminary.
    paths = [(r.path, r.status) for r in log]
    assert ("/marketreports/20241103_rt_lmp_final.csv", 404) in paths
    assert ("/marketreports/20241103_rt_lmp_prelim.csv", 200) in paths

    # Exact values: HE 2 of the fall-back day is 06:00-07:00 UTC (01:00-02:00 EST), once.
    he2 = datetime(2024, 11, 3, 6, tzinfo=UTC)
    for node, _kind in gen.NODES:
        want = gen.lmp("da_expost_lmp", node, FALL, 2)
        assert query(
            tmp_path,
            "SELECT lmp, congestion, loss FROM lmp WHERE iso = 'MISO' AND dataset = 'lmp_da' "
            "AND location = ? AND interval_start = ?",
            [node, he2],
        ) == [(want["LMP"], want["MCC"], want["MLC"])]
    (exante,) = query(
        tmp_path,
        "SELECT lmp FROM lmp WHERE dataset = 'lmp_da_exante' AND location = 'EES.ARKANSAS' "
        "AND interval_start = ?",
        [he2],
    )
    assert exante == (gen.lmp("da_exante_lmp", "EES.ARKANSAS", FALL, 2)["LMP"],)
    (rt,) = query(
        tmp_path,
        "SELECT lmp FROM lmp WHERE dataset = 'lmp_rt_hourly' AND location = 'INDIANA.HUB' "
        "AND interval_start = ?",
        [he2],
    )
    assert rt == (gen.lmp("rt_lmp_prelim", "INDIANA.HUB", FALL, 2)["LMP"],)
    five = datetime(2024, 3, 10, 7, 35, tzinfo=UTC)  # 02:35 EST, which EDT never had
    (rt5,) = query(
        tmp_path,
        "SELECT lmp FROM lmp WHERE dataset = 'lmp_rt5' AND location = 'MICHIGAN.HUB' "
        "AND interval_start = ?",
        [five],
    )
    assert rt5 == (gen.five_minute_lmp("MICHIGAN.HUB", five)["LMP"],)
    (reg,) = query(
        tmp_path,
        "SELECT price, iso_product FROM as_price WHERE dataset = 'as_da' AND region = 'Zone 2' "
        "AND product = 'REGULATION' AND interval_start = ?",
        [he2],
    )
    assert reg == (gen.mcp("asm_expost_damcp", "Zone 2", "GENREGMCP", FALL, 2), "GENREGMCP")
    storage = query(
        tmp_path,
        "SELECT interval_start, mw FROM fuel_mix WHERE iso = 'MISO' AND fuel = 'Storage' "
        "AND market_date = ? ORDER BY interval_start",
        [FALL],
    )
    assert len(storage) == 288
    assert all(mw == gen.fuel_mw("Storage", start) for start, mw in storage)
    assert any(mw < 0 for _, mw in storage)

    for day in (SPRING, FALL):
        midnight = datetime(day.year, day.month, day.day, 5, tzinfo=UTC)  # 00:00 EST
        # Actual load of D: the df_al of D+1, 24 EST hours per area, every value exact.
        load = query(
            tmp_path,
            "SELECT area, interval_start, load_mw FROM load WHERE iso = 'MISO' AND "
            "market_date = ? ORDER BY area, interval_start",
            [day],
        )
        assert len(load) == 24 * len(gen.LOAD_AREAS)
        for area, start, mw in load:
            he = (start - midnight) // timedelta(hours=1) + 1
            assert mw == gen.actual_load(area, day, he), (area, start)
        assert {start for _, start, _ in load} == {midnight + timedelta(hours=h) for h in range(24)}
        # The forecast: the vintages published D-5 .. D (D+1's is stamped after every hour of
        # D), each stamped 00:00 EST of its publication day, with the MTLF that vintage held.
        vintages = query(
            tmp_path,
            "SELECT publish_time, count(*) FROM load_forecast WHERE iso = 'MISO' AND "
            "market_date = ? GROUP BY publish_time ORDER BY publish_time",
            [day],
        )
        published = [day + timedelta(days=n) for n in range(-5, 1)]
        assert vintages == [
            (datetime(p.year, p.month, p.day, 5, tzinfo=UTC), 24 * len(gen.LOAD_AREAS))
            for p in published
        ]
        he2 = midnight + timedelta(hours=1)
        for vintage in published:
            (mw,) = query(
                tmp_path,
                "SELECT load_mw FROM load_forecast WHERE iso = 'MISO' AND area = 'LRZ8_9_10' "
                "AND interval_start = ? AND publish_time = ?",
                [he2, datetime(vintage.year, vintage.month, vintage.day, 5, tzinfo=UTC)],
            )
            assert mw == (gen.forecast_load("LRZ8_9_10", day, 2, vintage),)
    df_al = sorted(p for p, status in paths if p.endswith("_df_al.xls") and status == 200)
    assert "/marketreports/20240311_df_al.xls" in df_al
    assert "/marketreports/20241104_df_al.xls" in df_al


PRICING_KEY_ENV = "POWER_ASSETS_MISO_PRICING_KEY"
KEY = "e2e-miso-pricing-key-7f3"


def _five_minute_run(tmp_path, instance, fake, day: date, now: datetime):
    defs = loopback_defs(
        tmp_path,
        {"MISO": fake.base_url, "MISO:public_api": fake.api_url,
         "MISO:data_exchange": fake.exchange_url},
    )  # fmt: skip
    fake.now = now
    job = defs.resolve_job_def(daily_job_name("MISO"))
    return job.execute_in_process(
        partition_key=partition_key(day, "MISO"), instance=instance, raise_on_error=False,
        run_config={"resources": {"clock": {"config": {"frozen_at": now.isoformat()}}}},
        asset_selection=stage_keys(["lmp_rt5"]),
    )  # fmt: skip


def _messages(result) -> list[str]:
    found = [str(e.message or "") for e in result.all_events]
    found += [e.event_specific_data.error.to_string() for e in result.all_events
              if e.is_step_failure]  # fmt: skip
    return found


def test_with_a_pricing_key_recent_five_minute_days_come_from_data_exchange(tmp_path, monkeypatch):
    monkeypatch.setenv(PRICING_KEY_ENV, KEY)
    # Three days after each: past the public API's yesterday, before the weekly archive. The
    # 2024 days are served end-labelled (before MISO's 2026-05-06 correction), the 2026 day
    # start-labelled; both land on the same interval starts. Pages of 500 rows: 3 per day.
    late = date(2026, 11, 1)
    days = [(SPRING, 2024), (FALL, 2024), (late, 2026)]
    with dg.instance_for_test() as instance, FakeMiso(pricing_key=KEY, page_size=500) as fake:
        results = {
            day: _five_minute_run(
                tmp_path, instance, fake, day,
                datetime.combine(day + timedelta(days=3), time(9, 0), tzinfo=EST),
            )
            for day, _ in days
        }  # fmt: skip
        log = fake.requests
    for day, result in results.items():
        assert result.success, _messages(result)
        midnight = datetime(day.year, day.month, day.day, 5, tzinfo=UTC)
        rows = query(
            tmp_path,
            "SELECT location, interval_start, lmp, congestion, loss FROM lmp WHERE iso = 'MISO' "
            "AND dataset = 'lmp_rt5' AND market_date = ? ORDER BY location, interval_start",
            [day],
        )
        assert len(rows) == 288 * len(gen.NODES)
        assert {r[1] for r in rows} == {midnight + timedelta(minutes=5 * k) for k in range(288)}
        markets = query(
            tmp_path,
            "SELECT DISTINCT market FROM lmp WHERE iso = 'MISO' AND dataset = 'lmp_rt5' AND "
            "market_date = ?",
            [day],
        )
        assert markets == [("RT5M_PRELIM",)]
        for location, start, lmp, congestion, loss in rows:
            want = gen.five_minute_lmp(location, start)
            assert (lmp, congestion, loss) == (want["LMP"], want["MCC"], want["MLC"])
        assert not any(KEY in m for m in _messages(result))
    exchange = [r for r in log if r.path.startswith("/pricing/")]
    assert all(r.key_present and r.status == 200 for r in exchange)
    assert len(exchange) == 3 * 3  # 1440 rows a day in pages of 500
    # Three days on, results are still preliminary: asked for as such.
    assert {r.query for r in exchange} >= {
        "preliminaryFinal=Preliminary&timeResolution=5min&pageNumber=3"
    }
    assert not any(KEY in r.path + r.query for r in log)
    # Nowhere on disk either: raw files, sidecars, manifests, parquet, the warehouse.
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_a_wrong_pricing_key_fails_naming_the_variable_and_never_shows_the_key(
    tmp_path, monkeypatch
):
    wrong = "not-the-miso-key-991"
    monkeypatch.setenv(PRICING_KEY_ENV, wrong)
    with dg.instance_for_test() as instance, FakeMiso(pricing_key=KEY) as fake:
        now = datetime.combine(FALL + timedelta(days=3), time(9, 0), tzinfo=EST)
        result = _five_minute_run(tmp_path, instance, fake, FALL, now)
    assert not result.success
    messages = _messages(result)
    assert any("HTTP 401" in m and PRICING_KEY_ENV in m for m in messages), messages
    assert not any(wrong in m for m in messages)


def test_the_weekly_archive_is_fetched_once_and_each_day_keeps_only_its_own_rows(tmp_path):
    # Both days are in the week 03-04..03-10, published in 20240318_5MIN_LMP.zip; the run is
    # the morning it is out. Stage 1 cuts each day out of the one kept archive (a span file).
    days = (SPRING - timedelta(days=1), SPRING)
    now = datetime(2024, 3, 18, 9, 0, tzinfo=EST)
    with dg.instance_for_test() as instance, FakeMiso() as fake:
        defs = loopback_defs(tmp_path, {"MISO": fake.base_url, "MISO:public_api": fake.api_url})
        fake.now = now
        job = defs.resolve_job_def(daily_job_name("MISO"))
        results = [
            job.execute_in_process(
                partition_key=partition_key(day, "MISO"), instance=instance,
                raise_on_error=False, asset_selection=stage_keys(["lmp_rt5"]),
                run_config={"resources": {"clock": {"config": {"frozen_at": now.isoformat()}}}},
            )
            for day in days
        ]  # fmt: skip
        log = fake.requests
    for result in results:
        assert result.success, _messages(result)
    weekly = [r for r in log if r.path.endswith("_5MIN_LMP.zip")]
    assert [(r.path, r.status) for r in weekly] == [("/marketreports/20240318_5MIN_LMP.zip", 200)]
    for day in days:
        # The day's csv_files copy: the preamble and header, then only this day's lines.
        folder = tmp_path / "data" / "MISO" / "csv_files" / "lmp_rt5" / day.isoformat()
        (extracted,) = folder.rglob("*.csv")
        stamps = [
            line.split(",", 1)[0]
            for line in extracted.read_text().splitlines()
            if re.match(r"\d\d/\d\d/\d{4} \d\d:\d\d,", line)
        ]
        assert len(stamps) == 288 * len(gen.NODES)
        assert {datetime.strptime(s, "%m/%d/%Y %H:%M").date() for s in stamps} == {day}
        rows = query(
            tmp_path,
            "SELECT location, interval_start, lmp FROM lmp WHERE iso = 'MISO' AND "
            "dataset = 'lmp_rt5' AND market_date = ? ORDER BY location, interval_start",
            [day],
        )
        midnight = datetime(day.year, day.month, day.day, 5, tzinfo=UTC)
        assert len(rows) == 288 * len(gen.NODES)
        assert {r[1] for r in rows} == {midnight + timedelta(minutes=5 * k) for k in range(288)}
        assert all(lmp == gen.five_minute_lmp(node, start)["LMP"] for node, start, lmp in rows)


def test_fuel_mix_of_a_day_before_yesterday_is_unavailable_not_failed(tmp_path):
    # MISO's public API serves the fuel mix for today and yesterday only: nine days later (the
    # weekly 5-minute ZIP holding the day is out) the day has no keyless fuel-mix source. The
    # partition is skipped (no materialization, no failure); the other datasets still load.
    now = datetime.combine(FALL + timedelta(days=9), time(9, 0), tzinfo=EST)
    with dg.instance_for_test() as instance, FakeMiso() as fake:
        fake.now = now
        defs = loopback_defs(tmp_path, {"MISO": fake.base_url, "MISO:public_api": fake.api_url})
        result = _run(defs, instance, FALL, now)
        fuel = instance.get_materialized_partitions(stage_key("raw_download", "fuel_mix"))
        prices = instance.get_materialized_partitions(stage_key("warehouse", "lmp_da"))
    assert result.success
    assert fuel == set()
    assert prices == {str(partition_key(FALL, "MISO"))}
    assert not any(r.path.startswith("/api/FuelMix") for r in fake.requests)
