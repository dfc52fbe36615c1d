"""End to end through Dagster for NYISO and ISO-NE: both 2024 DST days through every stage into
DuckDB with every check passing, the combined DA + AS + RT output, NYISO's monthly archives
fetched once, and ISO-NE's web-services datasets skipped (not failed) without credentials.
"""

import logging
from datetime import UTC, date, datetime

import dagster as dg
import polars as pl
import pytest

from power_assets.demo.isone_server import FakeIsone
from power_assets.demo.nyiso_server import FakeNyiso
from power_assets.isos.isone import PASSWORD_ENV, USERNAME_ENV
from power_assets_tests.e2e_support import check_results, loopback_defs, outputs, query, run_day

pytestmark = pytest.mark.e2e

SPRING, FALL = date(2024, 3, 10), date(2024, 11, 3)
HOURS = {SPRING: 23, FALL: 25}
FUEL_MIX_EDGE_WARNINGS = frozenset(
    {"raw_parquet/fuel_mix:no_interval_gaps", "flattened/fuel_mix:grid_complete"}
)


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


def _assert_day(
    result, root, iso: str, day: date, datasets: dict[str, str], warns: frozenset[str] = frozenset()
) -> None:
    """Every check passes, except the warning-level ones named in `warns`."""
    assert result.success
    failing = {
        f"{e.asset_key.to_user_string()}:{e.check_name}": e.metadata.get("details")
        for e in result.get_asset_check_evaluations()
        if not e.passed
    }
    assert check_results(result) and set(failing) <= warns, (day, failing)
    for dataset, table in datasets.items():
        stored = query(
            root,
            f'SELECT count(*), count(DISTINCT interval_start) FROM "{table}" '
            "WHERE iso = ? AND dataset = ? AND market_date = ?",
            [iso, dataset, day],
        )[0]
        assert stored[0] > 0, (dataset, stored)
    native = pl.read_parquet(
        root / "data" / iso / "combined" / "da_as_rt_native" / "daily" / f"{day}.parquet"
    )
    hourly = pl.read_parquet(
        root / "data" / iso / "combined" / "da_as_rt_hourly" / "daily" / f"{day}.parquet"
    )
    assert native.height == HOURS[day] * 12
    assert hourly.height == HOURS[day]
    for prefix in ("da__", "as__", "rt__"):
        assert any(c.startswith(prefix) for c in native.columns), prefix
    assert any(c.startswith("rt_std__") for c in hourly.columns)


def test_nyiso_two_dst_days_every_stage_and_monthly_archives_fetched_once(tmp_path, instance):
    with FakeNyiso() as nyiso:
        defs = loopback_defs(tmp_path, {"NYISO": nyiso.base_url})
        for day in (SPRING, FALL):
            result = run_day(defs, instance, f"{day}|NYISO")
            _assert_day(
                result, tmp_path, "NYISO", day,
                {"lmp_da": "lmp", "lmp_rt5": "lmp", "lmp_rt_hourly": "lmp", "as_da": "as_price",
                 "as_rt": "as_price", "load": "load", "load_forecast": "load_forecast",
                 "fuel_mix": "fuel_mix"},
            )  # fmt: skip
        paths = [r.path for r in nyiso.requests]
        before = outputs(tmp_path, "NYISO")
        assert run_day(defs, instance, f"{FALL}|NYISO").success
        assert [r.path for r in nyiso.requests] == paths  # complete months: nothing refetched
    # Past months come from the monthly archives: one GET per archive, never a daily CSV.
    assert all(p.endswith("_csv.zip") for p in paths)
    assert len(paths) == len(set(paths))
    after = outputs(tmp_path, "NYISO")
    assert all(before[name].equals(after[name]) for name in before)
    hourly = query(
        tmp_path,
        "SELECT count(DISTINCT interval_start) FROM lmp WHERE iso = 'NYISO' AND dataset = 'lmp_da' "
        "AND location = 'N.Y.C.' AND market_date = ?",
        [FALL],
    )
    assert hourly == [(25,)]


def test_isone_two_dst_days_every_stage_with_web_services(tmp_path, instance, monkeypatch):
    with FakeIsone() as isone:
        monkeypatch.setenv(USERNAME_ENV, "demo@example.com")
        monkeypatch.setenv(PASSWORD_ENV, "demo-password")
        defs = loopback_defs(
            tmp_path, {"ISONE": isone.base_url, "ISONE:webservices": isone.webservices_base_url}
        )
        for day in (SPRING, FALL):
            result = run_day(defs, instance, f"{day}|ISONE")
            _assert_day(
                result, tmp_path, "ISONE", day,
                {"lmp_da": "lmp", "lmp_rt5": "lmp", "lmp_rt_hourly": "lmp", "as_rt": "as_price",
                 "load": "load", "fuel_mix": "fuel_mix"},
                # ISO-NE's fuel-mix snapshots start a few minutes after midnight and stop before
                # it: the first and last intervals of a day legitimately lack a reading.
                warns=FUEL_MIX_EDGE_WARNINGS,
            )  # fmt: skip
    repeated = query(
        tmp_path,
        "SELECT count(*) FROM lmp WHERE iso = 'ISONE' AND dataset = 'lmp_da' "
        "AND location = '.H.INTERNAL_HUB' AND interval_start IN (?, ?)",
        [datetime(2024, 11, 3, 5, tzinfo=UTC), datetime(2024, 11, 3, 6, tzinfo=UTC)],
    )
    assert repeated == [(2,)]  # HE 02 and HE 02X


def test_isone_without_credentials_skips_web_services_and_builds_the_rest(
    tmp_path, instance, monkeypatch
):
    monkeypatch.delenv(USERNAME_ENV, raising=False)
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    with FakeIsone() as isone:
        defs = loopback_defs(
            tmp_path, {"ISONE": isone.base_url, "ISONE:webservices": isone.webservices_base_url}
        )
        result = run_day(defs, instance, f"{SPRING}|ISONE")
        assert not any("/api/" in r.path for r in isone.requests)
    assert result.success
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    web_services = {
        f"{stage}/{dataset}"
        for stage in ("raw_download", "raw_csv", "raw_parquet", "flattened", "warehouse")
        for dataset in ("fuel_mix", "load", "as_rt")
    }
    # Never shown as materialized (that would say the data is there) ...
    assert not materialized & web_services
    assert {"warehouse/lmp_da", "combined/da_as_rt_native"} <= materialized
    # ... and reported once per dataset, naming what to set.
    warnings = [
        entry.user_message
        for entry in instance.all_logs(result.run_id)
        if entry.level == logging.WARNING and "not materialized" in entry.user_message
    ]
    assert len(warnings) == 3
    assert all(USERNAME_ENV in w and PASSWORD_ENV in w for w in warnings)
    data = tmp_path / "data" / "ISONE"
    native = pl.read_parquet(data / "combined" / "da_as_rt_native" / "daily" / f"{SPRING}.parquet")
    assert not any(c.startswith("as__") for c in native.columns)
    assert not (data / "raw_parquet" / "fuel_mix").exists()
