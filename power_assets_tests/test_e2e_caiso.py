"""End to end through Dagster: two CAISO DST days from a loopback OASIS, every stage, checks, DuckDB,
a re-run that changes nothing, and injected bad data that the checks catch.
"""

from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from power_assets.demo.caiso_extra_fixtures import FakeOutlook
from power_assets.demo.oasis_fixtures import DEMO_NODES, Faults
from power_assets.demo.oasis_server import FakeOasis
from power_assets.keys import FORCE_DOWNLOAD_RUN_CONFIG, daily_job_name
from power_assets_tests.e2e_support import loopback_defs, query

pytestmark = pytest.mark.e2e

SPRING, FALL = date(2024, 3, 10), date(2024, 11, 3)
NODES = len(DEMO_NODES)


@pytest.fixture(autouse=True)
def outlook():
    """CAISO's Today's Outlook (fuel mix, demand) beside OASIS, as the pipeline needs both."""
    with FakeOutlook() as server:
        yield server


def _defs(oasis: FakeOasis, root: Path, outlook: FakeOutlook) -> dg.Definitions:
    return loopback_defs(root, {"CAISO": oasis.base_url, "CAISO:outlook": outlook.base_url})


def _run(defs: dg.Definitions, instance: dg.DagsterInstance, key: str, **kwargs):
    job = defs.resolve_job_def(daily_job_name("CAISO"))
    return job.execute_in_process(
        partition_key=key, instance=instance, raise_on_error=False, **kwargs
    )


def _checks(result) -> dict[str, bool]:
    return {
        f"{e.asset_key.to_user_string()}:{e.check_name}": e.passed
        for e in result.get_asset_check_evaluations()
    }


def _outputs(root: Path) -> dict[str, pl.DataFrame]:
    data = root / "data" / "CAISO"
    return {
        str(p.relative_to(data)): pl.read_parquet(p)
        for stage in ("raw_parquet", "flattened", "combined")
        for p in sorted((data / stage).rglob("*.parquet"))
    }


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


def test_two_dst_days_through_every_stage_then_rerun_changes_nothing(tmp_path, instance, outlook):
    with FakeOasis(generate=True) as oasis:
        defs = _defs(oasis, tmp_path, outlook)
        for day in (SPRING, FALL):
            result = _run(defs, instance, f"{day}|CAISO")
            assert result.success
            checks = _checks(result)
            assert checks and all(checks.values()), checks
        first_requests = len(oasis.requests)
        before = _outputs(tmp_path)

        for day in (SPRING, FALL):
            assert _run(defs, instance, f"{day}|CAISO").success
        # Closed market days are final: the re-run reuses every kept response.
        assert len(oasis.requests) == first_requests

    after = _outputs(tmp_path)
    assert before.keys() == after.keys()
    for name, frame in before.items():
        assert frame.equals(after[name]), name

    data = tmp_path / "data" / "CAISO"
    assert (data / "combined" / "da_as_rt_native" / "daily" / f"{FALL}.parquet").is_file()
    spring_da = pl.read_parquet(data / "flattened" / "lmp_da" / f"{SPRING}.parquet")
    fall_rt5 = pl.read_parquet(data / "flattened" / "lmp_rt5" / f"{FALL}.parquet")
    assert (spring_da.height, fall_rt5.height) == (23, 300)
    assert spring_da.width == NODES + 2

    with duckdb.connect(str(tmp_path / "data" / "power.duckdb"), read_only=True) as con:
        per_dataset = dict(
            con.execute("SELECT dataset, count(*) FROM lmp GROUP BY dataset").fetchall()
        )
        dupes = con.execute(
            "SELECT count(*) FROM (SELECT iso, market, location, interval_start, count(*) c "
            "FROM lmp GROUP BY ALL HAVING c > 1)"
        ).fetchone()[0]
        catalog = con.execute("SELECT dataset, days FROM catalog ORDER BY dataset").fetchall()
    assert per_dataset == {
        "lmp_da": NODES * (23 + 25),
        "lmp_rt5": NODES * (276 + 300),
        "lmp_rt15": NODES * (92 + 100),
    }
    assert dupes == 0
    assert sorted(catalog) == [
        ("as_da", 2), ("fuel_mix", 2), ("lmp_da", 2), ("lmp_rt15", 2), ("lmp_rt5", 2),
        ("load", 2), ("load_forecast", 2),
    ]  # fmt: skip
    fall_load = query(
        tmp_path,
        "SELECT count(DISTINCT interval_start) FROM load WHERE market_date = ?",
        [FALL],
    )
    assert fall_load == [(300,)]


def test_repeated_fall_back_hour_keeps_both_values_in_duckdb(tmp_path, instance, outlook):
    with FakeOasis(generate=True) as oasis:
        assert _run(_defs(oasis, tmp_path, outlook), instance, f"{FALL}|CAISO").success
    with duckdb.connect(str(tmp_path / "data" / "power.duckdb"), read_only=True) as con:
        one_am = con.execute(
            "SELECT count(*) FROM lmp WHERE dataset = 'lmp_da' AND location = 'TH_NP15_GEN-APND' "
            "AND interval_start IN (?, ?)",
            [datetime(2024, 11, 3, 8, tzinfo=UTC), datetime(2024, 11, 3, 9, tzinfo=UTC)],
        ).fetchone()[0]
    assert one_am == 2


@pytest.mark.parametrize(
    ("faults", "failing_check"),
    [
        (Faults(duplicate_rows=3), "raw_parquet/lmp_da:no_duplicate_keys"),
        (Faults(absurd_price=1e9), "raw_parquet/lmp_da:values_within_bounds"),
        # An LMP published empty is never data: it fails the day like an absurd one.
        (Faults(empty_price=True), "raw_parquet/lmp_da:values_within_bounds"),
    ],
)
def test_blocking_checks_stop_bad_data_before_it_spreads(
    tmp_path, instance, outlook, faults, failing_check
):
    with FakeOasis(generate=True, faults={"PRC_LMP": faults}) as oasis:
        result = _run(_defs(oasis, tmp_path, outlook), instance, f"{SPRING}|CAISO")
    assert not result.success
    assert _checks(result)[failing_check] is False
    data = tmp_path / "data" / "CAISO"
    assert not (data / "raw_parquet" / "lmp_da" / f"{SPRING}.parquet").exists()
    assert (data / "raw_parquet" / "lmp_da" / "_rejected" / f"{SPRING}.parquet").exists()
    assert not (data / "flattened" / "lmp_da" / f"{SPRING}.parquet").exists()
    with duckdb.connect(str(tmp_path / "data" / "power.duckdb")) as con:
        tables = {t for (t,) in con.execute("SHOW TABLES").fetchall()}
        loaded = (
            con.execute("SELECT count(*) FROM lmp WHERE dataset = 'lmp_da'").fetchone()[0]
            if "lmp" in tables
            else 0
        )
    assert loaded == 0


def test_a_bad_refetch_never_replaces_the_good_file_readers_see(tmp_path, instance, outlook):
    lmp_da = [dg.AssetKey.from_user_string(f"{stage}/lmp_da") for stage in
              ("raw_download", "raw_csv", "raw_parquet", "flattened", "warehouse")]  # fmt: skip
    data = tmp_path / "data" / "CAISO"
    good_file = data / "raw_parquet" / "lmp_da" / f"{SPRING}.parquet"
    with FakeOasis(generate=True) as oasis:
        defs = _defs(oasis, tmp_path, outlook)
        assert _run(defs, instance, f"{SPRING}|CAISO", asset_selection=lmp_da).success
        good = good_file.read_bytes()
        stored = query(tmp_path, "SELECT count(*), max(lmp) FROM lmp WHERE dataset = 'lmp_da'")
        oasis.faults["PRC_LMP"] = Faults(absurd_price=1e9)  # the ISO re-publishes it wrong
        refetched = _run(
            defs, instance, f"{SPRING}|CAISO", asset_selection=lmp_da,
            run_config=FORCE_DOWNLOAD_RUN_CONFIG,
        )  # fmt: skip
    assert not refetched.success
    assert _checks(refetched)["raw_parquet/lmp_da:values_within_bounds"] is False
    assert good_file.read_bytes() == good  # readers still see the good day
    rejected = data / "raw_parquet" / "lmp_da" / "_rejected" / f"{SPRING}.parquet"
    assert pl.read_parquet(rejected)["lmp"].max() == 1e9  # the bad one is kept for inspection
    assert query(tmp_path, "SELECT count(*), max(lmp) FROM lmp WHERE dataset = 'lmp_da'") == stored


def test_missing_intervals_warn_per_location_but_do_not_block(tmp_path, instance, outlook):
    gone = datetime(2024, 3, 10, 12, tzinfo=UTC)
    faults = Faults(drop_intervals=[gone], drop_nodes=["TH_SP15_GEN-APND"])
    with FakeOasis(generate=True, faults={"PRC_LMP": faults}) as oasis:
        result = _run(_defs(oasis, tmp_path, outlook), instance, f"{SPRING}|CAISO")
    assert result.success
    evaluation = next(
        e
        for e in result.get_asset_check_evaluations()
        if e.asset_key.to_user_string() == "raw_parquet/lmp_da"
        and e.check_name == "no_interval_gaps"
    )
    assert evaluation.passed is False
    assert evaluation.partition == f"{SPRING}|CAISO"
    assert evaluation.metadata["problems"].value == 1
    table = evaluation.metadata["details"].value.splitlines()
    assert "| series | missing | first missing | off grid |" in table
    assert f"| TH_SP15_GEN-APND | 1 | {gone.isoformat()} |  |" in table


def test_unpublished_day_fails_clearly_instead_of_succeeding_empty(tmp_path, instance, outlook):
    with FakeOasis(generate=True, unpublished_days={SPRING}) as oasis:
        result = _run(_defs(oasis, tmp_path, outlook), instance, f"{SPRING}|CAISO")
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "no data" in str(failure.event_specific_data.error.message).lower()
    assert not (tmp_path / "data" / "CAISO" / "raw_parquet" / "lmp_da").exists()


def test_single_run_backfill_over_a_range_materializes_each_day(tmp_path, instance, outlook):
    with FakeOasis(generate=True) as oasis:
        defs = _defs(oasis, tmp_path, outlook)
        job = defs.resolve_job_def(daily_job_name("CAISO"))
        result = job.execute_in_process(
            instance=instance,
            tags={
                "dagster/asset_partition_range_start": "2024-03-09|CAISO",
                "dagster/asset_partition_range_end": "2024-03-11|CAISO",
            },
        )
    assert result.success
    rows = {
        e.materialization.partition: e.materialization.metadata["rows"].value
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey.from_user_string("raw_parquet/lmp_da")
    }
    # One materialization per day, each with that day's own row count (23/24 hours of nodes).
    assert rows == {
        "2024-03-09|CAISO": NODES * 24,
        "2024-03-10|CAISO": NODES * 23,
        "2024-03-11|CAISO": NODES * 24,
    }
