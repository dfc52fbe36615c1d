"""`power-assets status`, `query` and `catalog` on a store the command line itself filled: PJM
`lmp_da` on 2024-11-03, 2024-11-04 and 2024-11-06 (a hole on the 5th) from the fake Data Miner.
Expected figures come from the fake's generator and the clock, or from DuckDB read directly; the
PostgreSQL warehouse is read the same way.
"""

from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from power_assets.cli import main as cli
from power_assets.demo.pjm_server import FakeDataMiner
from power_assets.isos.base import DatasetKind
from power_assets.keys import check_key, partition_key, stage_key
from power_assets.store import postgres
from power_assets_tests.cli_support import PJM_KEY, cli_env, expected_da_rows, run_cli
from power_assets_tests.helpers import lmp_long

STORED = [date(2024, 11, 3), date(2024, 11, 4), date(2024, 11, 6)]
HOLE = date(2024, 11, 5)
FAILED_CHECK = check_key(stage_key("raw_parquet", "lmp_da"), "no_interval_gaps")
VERDICT = "3 interval(s) missing in 1 series"
WIDE = "SELECT *, lmp * 2 AS twice, upper(location) AS shouted FROM lmp ORDER BY location_id, interval_start"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("cli_store")
    with FakeDataMiner(subscription_key=PJM_KEY) as fake:
        env = cli_env(root, fake.base_url)
        for first, last in ((STORED[0], STORED[1]), (STORED[2], STORED[2])):
            ran = run_cli(
                root, env, "backfill", "PJM", str(first), str(last), "--dataset", "lmp_da"
            )
            assert ran.returncode == 0, ran.stdout + ran.stderr
    # A failed check as the runner records one: the latest evaluation of that partition.
    with dg.DagsterInstance.from_config(str(root / ".dagster_home")) as instance:
        instance.report_runless_asset_event(
            dg.AssetCheckEvaluation(
                asset_key=FAILED_CHECK.asset_key,
                check_name=FAILED_CHECK.name,
                passed=False,
                partition=str(partition_key(STORED[1], "PJM")),
                severity=dg.AssetCheckSeverity.WARN,
                description=VERDICT,
            )
        )
    return root, env


def _direct(root: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(root / "data" / "power.duckdb"), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.sql(sql).pl()


pytestmark = pytest.mark.e2e


def test_status_shows_range_rows_missing_days_and_failed_checks_and_writes_reports(store):
    root, env = store
    ran = run_cli(root, env, "status", "pjm")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "Warning" not in ran.stderr
    rows = expected_da_rows(STORED)
    assert "PJM lmp_da: 2024-11-05" in ran.stdout
    assert f"2024-11-04|PJM raw_parquet/lmp_da no_interval_gaps: {VERDICT}" in ran.stdout
    assert f"┆ {rows} " in ran.stdout

    reports = root / "data" / "reports"
    status = pl.read_csv(reports / "status.csv", try_parse_dates=True)
    (row,) = status.filter(dataset="lmp_da").iter_rows(named=True)
    assert (row["iso"], row["market"], row["first_date"], row["last_date"]) == (
        "PJM", "DAM", STORED[0], STORED[-1]
    )  # fmt: skip
    assert (row["days"], row["missing_days"], row["rows"], row["locations"]) == (3, 1, rows, 8)
    assert row["failed_check_days"] == 1
    gaps = pl.read_csv(reports / "gaps.csv", try_parse_dates=True)
    assert gaps.rows() == [("PJM", "lmp_da", HOLE)]
    checks = pl.read_csv(reports / "checks.csv", try_parse_dates=True)
    assert checks.select("partition", "asset", "check", "description").rows() == [
        ("2024-11-04|PJM", "raw_parquet/lmp_da", "no_interval_gaps", VERDICT)
    ]
    markdown = (reports / "status.md").read_text()
    assert "| PJM | lmp_da | 2024-11-05 | 2024-11-05 | 1 |" in markdown
    assert "| 2024-11-04\\|PJM |" in markdown and VERDICT in markdown


def test_status_of_another_iso_holds_none_of_pjm(store, tmp_path):
    root, env = store
    ran = run_cli(root, env, "status", "CAISO", "--reports", str(tmp_path))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "nothing stored yet" in ran.stdout and "PJM" not in ran.stdout
    assert pl.read_csv(tmp_path / "gaps.csv").height == 0


def test_query_prints_every_column_and_exports_what_duckdb_reads(store):
    root, env = store
    direct = _direct(root, WIDE)
    assert direct.width >= 17 and direct.height == expected_da_rows(STORED)
    csv, parquet = root / "out" / "wide.csv", root / "out" / "wide.parquet"
    ran = run_cli(root, env, "query", WIDE, "--csv", str(csv))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    header = next(line for line in ran.stdout.splitlines() if "interval_start" in line)
    assert [c.strip() for c in header.strip("│").split("┆")] == direct.columns
    assert f"shape: ({direct.height}, {direct.width})" in ran.stdout
    assert pl.read_csv(csv, schema=direct.schema).equals(direct)
    ran = run_cli(root, env, "query", WIDE, "--parquet", str(parquet))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert pl.read_parquet(parquet).equals(direct)


@pytest.mark.parametrize("statement", ["DELETE FROM lmp", "CREATE TABLE t AS SELECT 1 AS x"])
def test_a_write_is_refused_in_one_line(store, statement):
    root, env = store
    ran = run_cli(root, env, "query", statement)
    assert ran.returncode == 1
    assert len(ran.stderr.splitlines()) == 1 and "read-only" in ran.stderr, ran.stderr
    assert _direct(root, "SELECT count(*) AS n FROM lmp")["n"][0] == expected_da_rows(STORED)


def test_catalog_prints_every_column(store):
    root, env = store
    ran = run_cli(root, env, "catalog")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    columns = _direct(root, "SELECT * FROM catalog").columns
    header = next(line for line in ran.stdout.splitlines() if "table_name" in line)
    assert [c.strip() for c in header.strip("│").split("┆")] == columns


def test_status_and_query_read_the_postgresql_warehouse(
    postgres_url, tmp_path, monkeypatch, capsys
):
    first, hole, last = date(2024, 11, 3), date(2024, 11, 4), date(2024, 11, 5)
    for day in (first, last):
        frame = lmp_long(day, timedelta(hours=1), ["A", "B", "C"])
        path = tmp_path / f"{day}.parquet"
        frame.write_parquet(path)
        with postgres.connect(postgres_url) as con:
            postgres.ensure_schema(con)
            postgres.load_partition(
                con, DatasetKind.LMP, path, iso="CAISO", dataset="lmp_rt5", market_date=day
            )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("POWER_ASSETS_WAREHOUSE_URL", postgres_url)
    assert cli.main(["status", "caiso", "--reports", str(tmp_path / "reports")]) == 0
    out = capsys.readouterr().out
    assert "CAISO lmp_rt5: 2024-11-04" in out
    status = pl.read_csv(tmp_path / "reports" / "status.csv", try_parse_dates=True)
    (row,) = status.iter_rows(named=True)
    hours = 25 + 24  # CAISO's fall-back day and the next
    assert (row["first_date"], row["last_date"], row["days"], row["missing_days"]) == (
        first, last, 2, 1
    )  # fmt: skip
    assert (row["rows"], row["locations"]) == (3 * hours, 3)
    assert pl.read_csv(tmp_path / "reports" / "gaps.csv", try_parse_dates=True).rows() == [
        ("CAISO", "lmp_rt5", hole)
    ]
    assert cli.main(["query", "SELECT * FROM lmp ORDER BY location, interval_start"]) == 0
    # every column: the 13 of the LMP model and the warehouse's dataset, market_date, loaded_at
    assert "shape: (147, 16)" in capsys.readouterr().out
    assert cli.main(["query", "DELETE FROM lmp"]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "read-only" in err, err
