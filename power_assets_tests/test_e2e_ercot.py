"""End to end through Dagster for ERCOT: both 2024 DST days (2024-03-10, 23 hours; 2024-11-03, 25)
through every stage into DuckDB from three sources that must agree row for row: the MIS (no
account), a bulk archive dropped into data/ERCOT/raw_downloads/ (no network at all), and the Public
API archive (token + subscription key) for days the MIS no longer lists.
"""

from datetime import UTC, date, datetime

import dagster as dg
import polars as pl
import pytest

from power_assets.demo.ercot_fixtures import bulk_archive as write_bulk_archive
from power_assets.demo.ercot_fixtures import (
    documents_for_day,
    forecast_issue_times,
    load_forecast,
    mcpc,
    price,
    settlement_points,
)
from power_assets.demo.ercot_server import FakeErcot
from power_assets.isos.ercot import PASSWORD_ENV, SUBSCRIPTION_KEY_ENV, USERNAME_ENV
from power_assets_tests.e2e_support import loopback_defs, outputs, query, run_day

pytestmark = pytest.mark.e2e

SPRING, FALL = date(2024, 3, 10), date(2024, 11, 3)
DAYS = (SPRING, FALL)
HOURS = {SPRING: 23, FALL: 25}
POINTS = settlement_points(4)
LOCATIONS = len(POINTS)  # LZ and LZEW twins are distinct locations
DAM_LOCATIONS = len({name for name, _ in POINTS})  # DAM has no LZEW rows
DATASETS = {
    "lmp_da": "lmp", "lmp_rt15": "lmp", "lmp_rt5": "lmp", "as_da": "as_price",
    "as_cleared_da": "as_quantity", "load": "load", "load_forecast": "load_forecast",
}  # fmt: skip


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


def _documents():
    return [doc for day in DAYS for doc in documents_for_day(day, POINTS)]


def _failing_checks(result) -> dict[str, object]:
    return {
        f"{e.asset_key.to_user_string()}:{e.check_name}": e.metadata.get("details")
        for e in result.get_asset_check_evaluations()
        if not e.passed
    }


def _standardized(root) -> dict[str, pl.DataFrame]:
    return {k: v for k, v in outputs(root, "ERCOT").items() if k.startswith("raw_parquet")}


def _count(root, table: str, dataset: str, day: date) -> tuple[int, int]:
    return query(
        root,
        f'SELECT count(*), count(DISTINCT interval_start) FROM "{table}" '
        "WHERE iso = 'ERCOT' AND dataset = ? AND market_date = ?",
        [dataset, day],
    )[0]


def test_two_days_from_the_mis_through_every_stage_into_duckdb(tmp_path, instance):
    with FakeErcot(_documents()) as ercot:
        defs = loopback_defs(tmp_path, {"ERCOT": ercot.base_url})
        for day in DAYS:
            result = run_day(defs, instance, f"{day}|ERCOT")
            assert result.success, day
            assert _failing_checks(result) == {}, day
        requests = len(ercot.requests)
        assert {r.service for r in ercot.requests} == {"mis"}
        # A re-run of settled days lists nothing and downloads nothing.
        assert run_day(defs, instance, f"{FALL}|ERCOT").success
        assert len(ercot.requests) == requests

    hours = HOURS[FALL]
    assert _count(tmp_path, "lmp", "lmp_da", FALL) == (hours * DAM_LOCATIONS, hours)
    assert _count(tmp_path, "lmp", "lmp_rt15", FALL) == (hours * 4 * LOCATIONS, hours * 4)
    assert _count(tmp_path, "lmp", "lmp_rt5", FALL)[1] == hours * 12
    assert _count(tmp_path, "as_price", "as_da", FALL) == (hours * 5, hours)
    assert _count(tmp_path, "load", "load", FALL) == (hours * 9, hours)
    assert _count(tmp_path, "as_quantity", "as_cleared_da", FALL) == (hours * 8, hours)
    assert _count(tmp_path, "lmp", "lmp_rt15", SPRING) == (92 * LOCATIONS, 92)
    assert _count(tmp_path, "lmp", "lmp_rt5", SPRING)[1] == 23 * 12

    # Exact values at the repeated hour: 01:00 CST is 07:00Z, the second 01:00 (DSTFlag Y).
    repeated = datetime(2024, 11, 3, 7, tzinfo=UTC)
    rows = dict(
        query(
            tmp_path,
            "SELECT location, lmp FROM lmp WHERE iso = 'ERCOT' AND dataset = 'lmp_rt15' "
            "AND interval_start = ?",
            [repeated],
        )
    )
    assert rows["LZ_HOUSTON"] == price("LZ_HOUSTON", repeated, "lmp_rt15", "LZ")
    assert rows["LZ_HOUSTON_LZEW"] == price("LZ_HOUSTON", repeated, "lmp_rt15", "LZEW")
    assert rows["LZ_HOUSTON"] != rows["LZ_HOUSTON_LZEW"]
    [(da,)] = query(
        tmp_path,
        "SELECT lmp FROM lmp WHERE dataset = 'lmp_da' AND location = 'HB_NORTH' "
        "AND interval_start = ?",
        [repeated],
    )
    assert da == price("HB_NORTH", repeated, "lmp_da")
    [(reg_up,)] = query(
        tmp_path,
        "SELECT price FROM as_price WHERE iso = 'ERCOT' AND product = 'REG_UP' "
        "AND interval_start = ?",
        [repeated],
    )
    assert reg_up == mcpc("REGUP", repeated)
    # Only the last forecast issued before the market day (23:30 on D-1) is kept.
    vintages = query(
        tmp_path,
        "SELECT DISTINCT publish_time FROM load_forecast WHERE iso = 'ERCOT' AND market_date = ?",
        [FALL],
    )
    issued = forecast_issue_times(FALL)[-1].astimezone(UTC)  # 23:30 CDT on 2024-11-02
    assert issued.hour == 4 and issued.minute == 30
    assert [row[0] for row in vintages] == [issued]
    [(north,)] = query(
        tmp_path,
        "SELECT load_mw FROM load_forecast WHERE iso = 'ERCOT' AND area = 'NORTH' "
        "AND interval_start = ?",
        [repeated],
    )
    assert north == pytest.approx(load_forecast("North", repeated, issued))

    native = pl.read_parquet(
        tmp_path / "data/ERCOT/combined/da_as_rt_native/daily" / f"{FALL}.parquet"
    )
    assert native.height == hours * 4
    assert {"da__HB_NORTH", "rt__LZ_AEN", "rt__LZ_AEN_LZEW", "as__ERCOT__REG_UP"} <= set(
        native.columns
    )


def test_a_dropped_bulk_archive_gives_the_same_standardized_output_without_network(
    tmp_path, instance
):
    mis_root, drop_root = tmp_path / "mis", tmp_path / "drop"
    with FakeErcot(_documents()) as ercot:
        defs = loopback_defs(mis_root, {"ERCOT": ercot.base_url})
        for day in DAYS:
            assert run_day(defs, instance, f"{day}|ERCOT").success
    # A user's history: a ZIP of daily ZIPs of document ZIPs of CSVs.
    write_bulk_archive(DAYS, POINTS, drop_root / "data/ERCOT/raw_downloads/ercot_2024.zip")
    with FakeErcot([]) as silent:
        defs = loopback_defs(drop_root, {"ERCOT": silent.base_url})
        for day in DAYS:
            result = run_day(defs, instance, f"{day}|ERCOT")
            assert result.success, day
            assert _failing_checks(result) == {}, day
        assert silent.requests == []

    from_mis, from_drop = _standardized(mis_root), _standardized(drop_root)
    assert sorted(from_mis) == sorted(from_drop) and len(from_mis) == len(DATASETS) * 2
    for name, frame in from_mis.items():
        assert frame.equals(from_drop[name]), name
    manifest = drop_root / "data/ERCOT/raw_downloads/lmp_rt15" / str(FALL) / "manifest.json"
    assert '"source": "drop_folder"' in manifest.read_text()
    assert _count(drop_root, "lmp", "lmp_rt15", FALL) == (100 * LOCATIONS, 100)


def test_public_api_archive_serves_days_the_mis_no_longer_lists(tmp_path, instance, monkeypatch):
    mis_root, api_root = tmp_path / "mis", tmp_path / "api"
    docs = _documents()
    with FakeErcot(docs) as ercot:
        defs = loopback_defs(mis_root, {"ERCOT": ercot.base_url})
        for day in DAYS:
            assert run_day(defs, instance, f"{day}|ERCOT").success
    later = datetime(2025, 6, 1, tzinfo=UTC)
    with FakeErcot(docs, mis_retention_days=5, now=later, throttle_every=4) as ercot:
        base_urls = {
            "ERCOT": ercot.base_url,
            "ERCOT:api": ercot.api_base_url,
            "ERCOT:token": ercot.token_base_url,
        }
        defs = loopback_defs(api_root, base_urls)
        # Without an account, the error says what to configure.
        failed = run_day(
            defs, instance, f"{FALL}|ERCOT", selection=[dg.AssetKey.from_user_string("raw_download/lmp_da")]
        )
        assert not failed.success
        failure = next(e for e in failed.all_events if e.event_type_value == "STEP_FAILURE")
        message = str(failure.event_specific_data.error.message)
        assert USERNAME_ENV in message and "raw_downloads" in message

        monkeypatch.setenv(USERNAME_ENV, ercot.username)
        monkeypatch.setenv(PASSWORD_ENV, ercot.password)
        monkeypatch.setenv(SUBSCRIPTION_KEY_ENV, ercot.subscription_key)
        for day in DAYS:
            result = run_day(defs, instance, f"{day}|ERCOT")
            assert result.success, day
        api_calls = [r for r in ercot.requests if r.service == "api"]
        assert any(r.method == "POST" and r.path.endswith("/download") for r in api_calls)
        assert any(r.status == 429 for r in api_calls)  # throttled, retried
        assert ercot.tokens_issued == 1  # one token, reused until it nears expiry
        secrets = (ercot.password, ercot.subscription_key)
        logged = " ".join(
            str(e.dagster_event) for e in instance.all_logs(result.run_id) if e.dagster_event
        )
        assert not any(secret in logged for secret in secrets)

    from_mis, from_api = _standardized(mis_root), _standardized(api_root)
    assert sorted(from_mis) == sorted(from_api)
    for name, frame in from_mis.items():
        assert frame.equals(from_api[name]), name
