"""End to end through Dagster for PJM against a fake Data Miner 2 on loopback: both 2024 DST days
through every stage into DuckDB, paged (pages of 500 rows here), with values checked exactly
against the fake's generator; no key, a wrong key, a page sequence that moves while paging, a 429,
and unverified 5-minute prices replaced once PJM verifies the day.
"""

import json
import logging
import math
import zipfile
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import polars as pl
import pytest

from power_assets.demo import pjm_fixtures as gen
from power_assets.demo.pjm_query import export_range
from power_assets.demo.pjm_server import FakeDataMiner
from power_assets.isos.pjm import SUBSCRIPTION_KEY_ENV
from power_assets.keys import stage_keys
from power_assets_tests.e2e_support import check_results, loopback_defs, query, run_day

pytestmark = pytest.mark.e2e

KEY = "e2e-test-pjm-key"
SPRING, FALL = date(2024, 3, 10), date(2024, 11, 3)
HOURS = {SPRING: 23, FALL: 25}
PAGE_ROWS = 500
EASTERN = ZoneInfo("America/New_York")
ALL_DATASETS = {
    "lmp_da": "lmp", "lmp_rt_hourly": "lmp", "lmp_rt5": "lmp", "as_da": "as_price",
    "as_rt": "as_price", "load": "load", "load_forecast": "load_forecast", "fuel_mix": "fuel_mix",
}  # fmt: skip


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of 500 rows, so a day of 8 nodes takes several pages (PJM's are 50,000)."""
    monkeypatch.setattr("power_assets.isos.pjm.feeds.ROW_LIMIT", PAGE_ROWS)


@pytest.fixture
def keyed(monkeypatch):
    monkeypatch.setenv(SUBSCRIPTION_KEY_ENV, KEY)


def _hours(day: date) -> list[datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=EASTERN).astimezone(UTC)
    return [start + timedelta(hours=h) for h in range(HOURS.get(day, 24))]


def _stored(root, sql: str, params) -> list[tuple]:
    return query(root, sql, params)


def test_both_dst_days_every_stage_paged_into_duckdb_with_exact_values(
    tmp_path, instance, small_pages, keyed
):
    with FakeDataMiner(subscription_key=KEY) as fake:
        defs = loopback_defs(tmp_path, {"PJM": fake.base_url})
        results = {day: run_day(defs, instance, f"{day}|PJM") for day in (SPRING, FALL)}
        log = fake.requests
    nodes = gen.pnodes()
    for day, result in results.items():
        assert result.success
        failing = {k for k, passed in check_results(result).items() if not passed}
        assert check_results(result) and not failing, (day, failing)
        for dataset, table in ALL_DATASETS.items():
            count = _stored(
                tmp_path,
                f'SELECT count(*) FROM "{table}" WHERE iso = ? AND dataset = ? AND market_date = ?',
                ["PJM", dataset, day],
            )[0][0]
            assert count > 0, (day, dataset)
        # 23 or 25 hourly intervals per node, 12 times as many 5-minute ones.
        per_node = _stored(
            tmp_path,
            "SELECT dataset, count(DISTINCT interval_start), count(*) FROM lmp WHERE iso = 'PJM' "
            "AND location = 'WESTERN HUB' AND market_date = ? GROUP BY dataset ORDER BY dataset",
            [day],
        )
        hours = HOURS[day]
        assert per_node == [
            ("lmp_da", hours, hours), ("lmp_rt5", hours * 12, hours * 12),
            ("lmp_rt_hourly", hours, hours),
        ]  # fmt: skip
        native = pl.read_parquet(
            tmp_path / "data" / "PJM" / "combined" / "da_as_rt_native" / "daily" / f"{day}.parquet"
        )
        assert native.height == hours * 12
        for prefix in ("da__", "as__", "rt__"):
            assert any(c.startswith(prefix) for c in native.columns), prefix

    # Exact values: every DA row of the day against the generator (current versions only).
    stored = _stored(
        tmp_path,
        "SELECT location_id, interval_start, lmp, energy, congestion, loss, location_type "
        "FROM lmp WHERE iso = 'PJM' AND dataset = 'lmp_da' AND market_date = ?",
        [FALL],
    )
    assert len(stored) == len(nodes) * 25
    kinds = {str(n.pnode_id): n.type for n in nodes}
    for pnode_id, start, lmp, energy, congestion, loss, kind in stored:
        want = gen.lmp_components("da_hrl_lmps", int(pnode_id), start)
        assert (lmp, energy, congestion, loss) == (
            want["total_lmp_da"], want["system_energy_price_da"], want["congestion_price_da"],
            want["marginal_loss_price_da"],
        )  # fmt: skip
        assert kind == kinds[pnode_id]
    revised = [
        (n.pnode_id, h)
        for n in nodes
        for h in _hours(FALL)
        if gen.is_revised("da_hrl_lmps", n.pnode_id, h)
    ]
    assert revised, "the fake must revise some (node, hour) pairs for this test to prove anything"
    pnode, hour = revised[0]
    superseded = gen.lmp_components("da_hrl_lmps", pnode, hour, version=1)["total_lmp_da"]
    kept = [row[2] for row in stored if row[0] == str(pnode) and row[1] == hour]
    assert kept != [superseded] and len(kept) == 1
    metadata = _materialization(instance, "raw_parquet/lmp_da", f"{FALL}|PJM")
    assert metadata["rows_superseded"] == len(revised)

    # A 5-minute row, a reserve price, load, a forecast vintage and the fuel mix, exactly.
    five = datetime(2024, 11, 3, 6, 35, tzinfo=UTC)  # 01:35 EST, the repeated hour's second pass
    rt5 = _stored(
        tmp_path,
        "SELECT lmp, market FROM lmp WHERE iso = 'PJM' AND dataset = 'lmp_rt5' "
        "AND location_id = '51288' AND interval_start = ?",
        [five],
    )
    assert rt5 == [(gen.lmp_components("rt_fivemin_hrl_lmps", 51288, five)["total_lmp_rt"], "RT5M")]
    hour = datetime(2024, 11, 3, 18, tzinfo=UTC)
    spin = _stored(
        tmp_path,
        "SELECT price, iso_product FROM as_price WHERE iso = 'PJM' AND dataset = 'as_da' "
        "AND region = 'PJM_RTO' AND product = 'SPIN_10' AND interval_start = ?",
        [hour],
    )
    assert spin == [(gen.reserve_mcp("da_reserve_market_results", "PJM_RTO", "SR", hour), "SR")]
    area = gen.LOAD_AREAS[0][3]
    assert _stored(
        tmp_path,
        "SELECT load_mw FROM load WHERE iso = 'PJM' AND area = ? AND interval_start = ?",
        [area, hour],
    ) == [(gen.load_mw(area, hour),)]
    forecast_area = gen.FORECAST_AREAS[0]
    vintages = _stored(
        tmp_path,
        "SELECT publish_time, load_mw FROM load_forecast WHERE iso = 'PJM' AND area = ? "
        "AND interval_start = ? ORDER BY publish_time",
        [forecast_area, hour],
    )
    assert vintages == [
        (at, float(gen.forecast_load_mw(forecast_area, hour, at))) for at in gen.hist_vintages(hour)
    ]
    fuel = next(iter(gen.FUELS))
    assert _stored(
        tmp_path,
        "SELECT mw FROM fuel_mix WHERE iso = 'PJM' AND fuel = ? AND interval_start = ?",
        [fuel, hour],
    ) == [(gen.fuel_mw(fuel, hour),)]

    # Paging: a 5-minute day (8 nodes x 276 or 300 intervals, plus the superseded versions)
    # came as pages of 500 rows, kept in one ZIP; each page was asked once.
    pages = {day: math.ceil(_five_minute_rows(day, nodes) / PAGE_ROWS) for day in (SPRING, FALL)}
    kept = tmp_path / "data" / "PJM" / "raw_downloads" / "lmp_rt5" / str(FALL)
    (archive,) = kept.glob("*.zip")
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
        totals = {json.loads(zipped.read(n))["totalRows"] for n in names}
    assert len(names) == pages[FALL] > 1
    assert totals == {_five_minute_rows(FALL, nodes)}
    fivemin = [r for r in log if r.feed == "rt_fivemin_hrl_lmps" and r.status == 200]
    starts = Counter(int(r.params["startrow"]) for r in fivemin)
    assert starts == Counter(1 + PAGE_ROWS * k for day in pages for k in range(pages[day]))
    assert all(r.key_present for r in log)
    assert not any("fields" in r.params for r in log)  # 2024 is archived by the fake's today


def _five_minute_rows(day: date, nodes) -> int:
    """Rows of a day of the verified 5-minute feed: one per node and interval, plus one
    superseded version for each revised pair."""
    fives = [h + timedelta(minutes=5 * k) for h in _hours(day) for k in range(12)]
    revised = sum(
        gen.is_revised("rt_fivemin_hrl_lmps", n.pnode_id, t) for n in nodes for t in fives
    )
    return len(nodes) * len(fives) + revised


def _materialization(instance, asset: str, partition: str) -> dict:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey.from_user_string(asset), asset_partitions=[partition]), limit=1
    ).records
    metadata = records[0].asset_materialization.metadata
    return {name: value.value for name, value in metadata.items()}


def test_without_a_key_nothing_is_materialized_and_the_warning_names_the_variable(
    tmp_path, instance, monkeypatch
):
    monkeypatch.delenv(SUBSCRIPTION_KEY_ENV, raising=False)
    with FakeDataMiner(subscription_key=KEY) as fake:
        defs = loopback_defs(tmp_path, {"PJM": fake.base_url})
        result = run_day(defs, instance, f"{SPRING}|PJM")
        assert fake.requests == []
    assert result.success
    assert result.get_asset_materialization_events() == []
    warnings = [
        entry.user_message
        for entry in instance.all_logs(result.run_id)
        if entry.level == logging.WARNING and "not materialized" in entry.user_message
    ]
    naming_the_key = [w for w in warnings if SUBSCRIPTION_KEY_ENV in w]
    assert len(naming_the_key) == len(ALL_DATASETS)  # one per dataset, every stage of it
    # ... and the combined products, which need them, say so once.
    (combined,) = [w for w in warnings if SUBSCRIPTION_KEY_ENV not in w]
    assert "combined/da_as_hourly" in combined and "cannot hold data here" in combined
    assert not (tmp_path / "data" / "PJM" / "raw_parquet").exists()


def test_a_wrong_key_fails_naming_the_setting_and_never_shows_the_key(
    tmp_path, instance, monkeypatch
):
    monkeypatch.setenv(SUBSCRIPTION_KEY_ENV, "not-the-right-key-123")
    with FakeDataMiner(subscription_key=KEY) as fake:
        defs = loopback_defs(tmp_path, {"PJM": fake.base_url})
        result = run_day(defs, instance, f"{SPRING}|PJM", selection=stage_keys(["lmp_da"]))
        assert {r.status for r in fake.requests} == {401}
    assert not result.success
    messages = [entry.user_message for entry in instance.all_logs(result.run_id)]
    errors = [
        e.event_specific_data.error.to_string() for e in result.all_events if e.is_step_failure
    ]
    assert any("HTTP 401" in e and SUBSCRIPTION_KEY_ENV in e for e in errors), errors
    assert not any("not-the-right-key-123" in m for m in messages + errors)


def test_answers_that_move_while_paging_keep_nothing_and_a_rerun_completes(
    tmp_path, instance, small_pages, keyed
):
    selection = stage_keys(["lmp_rt5"])
    day_folder = tmp_path / "data" / "PJM" / "raw_downloads" / "lmp_rt5" / str(SPRING)
    with FakeDataMiner(subscription_key=KEY) as fake:
        defs = loopback_defs(tmp_path, {"PJM": fake.base_url})
        fake.total_rows_drift = 7  # every later page reports 7 more rows than the first
        failed = run_day(defs, instance, f"{SPRING}|PJM", selection=selection)
        assert not failed.success
        errors = [e.event_specific_data.error.to_string() for e in failed.all_events
                  if e.is_step_failure]  # fmt: skip
        assert any("changed while its pages were fetched" in e for e in errors), errors
        # Nothing of the day on disk: no ZIP of pages, no manifest, no parquet, no rows.
        assert not list(day_folder.glob("*.zip")) and not (day_folder / "manifest.json").exists()
        assert not (tmp_path / "data" / "PJM" / "raw_parquet" / "lmp_rt5").exists()
        fake.total_rows_drift = 0
        fake.fail_next(1, 429, feed="rt_fivemin_hrl_lmps")  # PJM's rate limit, retried
        rerun = run_day(defs, instance, f"{SPRING}|PJM", selection=selection)
        statuses = [r.status for r in fake.requests if r.feed == "rt_fivemin_hrl_lmps"]
    assert rerun.success
    assert 429 in statuses
    count = _stored(
        tmp_path,
        "SELECT count(*), count(DISTINCT location) FROM lmp WHERE dataset = 'lmp_rt5' "
        "AND market_date = ?",
        [SPRING],
    )
    assert count == [(len(gen.pnodes()) * 23 * 12, len(gen.pnodes()))]


def test_unverified_five_minute_prices_are_preliminary_until_pjm_verifies_the_day(
    tmp_path, instance, keyed
):
    day = date(2026, 11, 30)
    before = datetime(2026, 12, 1, 8, 0, tzinfo=EASTERN)  # verified data posts at 10:00 next day
    after = datetime(2026, 12, 1, 11, 0, tzinfo=EASTERN)
    selection = stage_keys(["lmp_rt5"])
    job_name = "daily_pipeline__PJM"
    with FakeDataMiner(subscription_key=KEY, now=before) as fake:
        defs = loopback_defs(tmp_path, {"PJM": fake.base_url})
        job = defs.resolve_job_def(job_name)

        def run(now: datetime):
            return job.execute_in_process(
                partition_key=f"{day}|PJM", instance=instance, asset_selection=selection,
                run_config={"resources": {"clock": {"config": {"frozen_at": now.isoformat()}}}},
                raise_on_error=False,
            )  # fmt: skip

        assert run(before).success
        prelim = _stored(
            tmp_path,
            "SELECT market, count(*), count(DISTINCT interval_start) FROM lmp "
            "WHERE dataset = 'lmp_rt5' AND market_date = ? GROUP BY market",
            [day],
        )
        assert prelim == [("RT5M_PRELIM", len(gen.pnodes()) * 288, 288)]
        noon = datetime(2026, 11, 30, 17, tzinfo=UTC)
        want = gen.lmp_components("rt_unverified_fivemin_lmps", 51288, noon)
        energy = want["total_lmp_rt"] - want["congestion_price_rt"] - want["marginal_loss_price_rt"]
        (row,) = _stored(
            tmp_path,
            "SELECT lmp, energy FROM lmp WHERE dataset = 'lmp_rt5' AND location_id = '51288' "
            "AND interval_start = ?",
            [noon],
        )
        assert row[0] == want["total_lmp_rt"] and row[1] == pytest.approx(energy, abs=1e-9)
        unverified = {r.feed for r in fake.requests if r.status == 200}
        assert "rt_unverified_fivemin_lmps" in unverified

        fake.now = after
        assert run(after).success
    final = _stored(
        tmp_path,
        "SELECT market, count(*) FROM lmp WHERE dataset = 'lmp_rt5' AND market_date = ? "
        "GROUP BY market",
        [day],
    )
    assert final == [("RT5M", len(gen.pnodes()) * 288)]
    (verified,) = _stored(
        tmp_path,
        "SELECT lmp FROM lmp WHERE dataset = 'lmp_rt5' AND location_id = '51288' "
        "AND interval_start = ?",
        [noon],
    )
    assert verified == (gen.lmp_components("rt_fivemin_hrl_lmps", 51288, noon)["total_lmp_rt"],)


def test_a_dropped_data_miner_export_loads_its_days_without_a_key(tmp_path, instance, monkeypatch):
    monkeypatch.delenv(SUBSCRIPTION_KEY_ENV, raising=False)
    # The export a user downloads from Data Miner: one CSV over three days, fall-back day inside.
    start = datetime(2024, 11, 2, tzinfo=EASTERN).astimezone(UTC)
    end = datetime(2024, 11, 5, tzinfo=EASTERN).astimezone(UTC)
    export = export_range("da_hrl_lmps", start, end)
    drop = tmp_path / "data" / "PJM" / "raw_downloads"
    drop.mkdir(parents=True)
    (drop / "da_hrl_lmps.csv").write_bytes(export)
    defs = loopback_defs(tmp_path, {"PJM": "http://127.0.0.1:9"})  # nothing may be asked
    result = run_day(defs, instance, f"{FALL}|PJM")
    assert result.success
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {"raw_download/lmp_da", "warehouse/lmp_da", "combined/da_as_hourly"} <= materialized
    assert not any("lmp_rt5" in key or "fuel_mix" in key for key in materialized)
    stored = _stored(
        tmp_path,
        "SELECT count(*), count(DISTINCT interval_start), count(DISTINCT location) FROM lmp "
        "WHERE dataset = 'lmp_da' AND market_date = ?",
        [FALL],
    )
    nodes = gen.pnodes()
    assert stored == [(len(nodes) * 25, 25, len(nodes))]
    hour = datetime(2024, 11, 3, 6, tzinfo=UTC)  # 01:00 EST, the repeated hour's second pass
    (lmp,) = _stored(
        tmp_path,
        "SELECT lmp FROM lmp WHERE dataset = 'lmp_da' AND location_id = '51217' "
        "AND interval_start = ?",
        [hour],
    )
    assert lmp == (gen.lmp_components("da_hrl_lmps", 51217, hour)["total_lmp_da"],)
    manifest = json.loads((drop / "lmp_da" / str(FALL) / "manifest.json").read_text())
    assert manifest["source"] == "drop_folder"


def test_the_fall_back_day_while_recent_comes_standard_and_unverified_hour_by_hour(
    tmp_path, instance, keyed
):
    # The morning after, before PJM verifies: standard (not archived) queries with `fields`, and
    # 5-minute prices from the unverified feed hour by hour: the two 01:00 hours are two windows.
    now = datetime(2024, 11, 4, 8, 0, tzinfo=EASTERN)
    selection = stage_keys(["lmp_da", "lmp_rt5"])
    with FakeDataMiner(subscription_key=KEY, now=now) as fake:
        defs = loopback_defs(tmp_path, {"PJM": fake.base_url})
        result = defs.resolve_job_def("daily_pipeline__PJM").execute_in_process(
            partition_key=f"{FALL}|PJM", instance=instance, asset_selection=selection,
            run_config={"resources": {"clock": {"config": {"frozen_at": now.isoformat()}}}},
            raise_on_error=False,
        )  # fmt: skip
        log = fake.requests
    assert result.success
    assert all(passed for passed in check_results(result).values()), check_results(result)
    da = [r for r in log if r.feed == "da_hrl_lmps"]
    assert da and all("fields" in r.params for r in da)
    hours = [r.params["datetime_beginning_utc"] for r in log
             if r.feed == "rt_unverified_fivemin_lmps"]  # fmt: skip
    assert len(hours) == 25 and len(set(hours)) == 25
    assert {"11/03/2024 05:00to11/03/2024 05:59", "11/03/2024 06:00to11/03/2024 06:59"} <= set(
        hours
    )
    nodes = gen.pnodes()
    rows = _stored(
        tmp_path,
        "SELECT market, count(*), count(DISTINCT interval_start) FROM lmp WHERE iso = 'PJM' "
        "AND dataset = 'lmp_rt5' AND market_date = ? GROUP BY market",
        [FALL],
    )
    assert rows == [("RT5M_PRELIM", len(nodes) * 300, 300)]
    second_pass = datetime(2024, 11, 3, 6, 5, tzinfo=UTC)  # 01:05 EST
    (lmp,) = _stored(
        tmp_path,
        "SELECT lmp FROM lmp WHERE dataset = 'lmp_rt5' AND location_id = '51288' "
        "AND interval_start = ?",
        [second_pass],
    )
    want = gen.lmp_components("rt_unverified_fivemin_lmps", 51288, second_pass)
    assert lmp == (want["total_lmp_rt"],)
    da_hours = _stored(
        tmp_path,
        "SELECT count(DISTINCT interval_start) FROM lmp WHERE dataset = 'lmp_da' "
        "AND market_date = ?",
        [FALL],
    )
    assert da_hours == [(25,)]
