"""The warehouse on a real PostgreSQL server (127.0.0.1:5432, a database of its own per test):
the same tables and keys as DuckDB, a partition replaced in one transaction, concurrent writers of
one partition serialized, older tables migrated, and a PJM day loaded through Dagster giving the
same rows as the DuckDB file, key for key."""

import threading
from datetime import UTC, date, timedelta

import dagster as dg
import duckdb
import polars as pl
import psycopg2
import psycopg2.errors
import pytest

from power_assets import open_warehouse
from power_assets.definitions import build_defs
from power_assets.demo.pjm_server import FakeDataMiner
from power_assets.io.http import IsoHttpClient
from power_assets.isos.base import DatasetKind
from power_assets.isos.pjm import SUBSCRIPTION_KEY_ENV
from power_assets.keys import daily_job_name, stage_keys
from power_assets.resources import StorageResource
from power_assets.store import postgres
from power_assets.store.warehouse import WarehouseResource
from power_assets_tests.helpers import lmp_long

DAY = date(2024, 11, 3)


def _rows(url: str, sql: str, params=()) -> list[tuple]:
    with postgres.connect(url) as con, con.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _parquet(tmp_path, name: str, frame: pl.DataFrame):
    path = tmp_path / f"{name}.parquet"
    frame.write_parquet(path)
    return path


def _load(url: str, path, day: date = DAY):
    with postgres.connect(url) as con:
        postgres.ensure_schema(con)
        return postgres.load_partition(
            con, DatasetKind.LMP, path, iso="CAISO", dataset="lmp_rt5", market_date=day
        )


def test_a_partition_is_replaced_not_duplicated_and_reads_back_exactly(postgres_url, tmp_path):
    frame = lmp_long(DAY, timedelta(minutes=5), ["A", "B"])
    path = _parquet(tmp_path, "day", frame)
    first = _load(postgres_url, path)
    again = _load(postgres_url, path)
    assert (first.deleted, first.inserted) == (0, frame.height)
    assert (again.deleted, again.inserted) == (frame.height, frame.height)
    stored = _rows(
        postgres_url,
        "SELECT location, interval_start, interval_end, lmp, location_id, ghg FROM lmp "
        "ORDER BY location, interval_start",
    )
    assert len(stored) == frame.height == 2 * 25 * 12  # the fall-back day, 25 hours
    want = frame.sort("location", "interval_start")
    assert [r[0] for r in stored] == want["location"].to_list()
    assert [r[1] for r in stored] == want["interval_start"].to_list()
    assert all(r[1].tzinfo is not None and r[1].utcoffset() == timedelta(0) for r in stored)
    assert [r[3] for r in stored] == want["lmp"].to_list()
    assert {r[4] for r in stored} == {None} and {r[5] for r in stored} == {None}
    catalog = _rows(
        postgres_url, "SELECT iso, dataset, days, rows, locations FROM catalog WHERE iso = 'CAISO'"
    )
    assert catalog == [("CAISO", "lmp_rt5", 1, frame.height, 2)]


def test_open_warehouse_reads_postgresql_when_it_is_the_warehouse(
    postgres_url, tmp_path, monkeypatch
):
    frame = lmp_long(DAY, timedelta(hours=1), ["A", "B", "C"])
    _load(postgres_url, _parquet(tmp_path, "day", frame))
    monkeypatch.setenv("POWER_ASSETS_WAREHOUSE_URL", postgres_url)
    monkeypatch.setenv("POWER_ASSETS_DUCKDB_PATH", str(tmp_path / "absent.duckdb"))
    with open_warehouse() as con:  # the README's DuckDB examples work unchanged
        read = con.sql("SELECT location, lmp FROM lmp ORDER BY location, interval_start").pl()
        assert read["lmp"].to_list() == frame.sort("location", "interval_start")["lmp"].to_list()
        assert read.columns == ["location", "lmp"]
        one = con.execute("SELECT count(*) FROM lmp WHERE location = ?", ["B"]).fetchall()
        assert one == [(frame.filter(pl.col("location") == "B").height,)]
        assert con.sql("SHOW TimeZone").fetchall() == [("UTC",)]
        with pytest.raises(psycopg2.errors.ReadOnlySqlTransaction):
            con.sql("DELETE FROM lmp")
        catalog = pl.read_database("SELECT iso, rows FROM catalog", con.connection)
        assert catalog.rows() == [("CAISO", frame.height)]
    assert len(_rows(postgres_url, "SELECT 1 FROM lmp")) == frame.height


def test_the_primary_key_is_the_models_key(postgres_url, tmp_path):
    _load(postgres_url, _parquet(tmp_path, "day", lmp_long(DAY, timedelta(hours=1), ["A"])))
    key = _rows(
        postgres_url,
        """SELECT a.attname FROM pg_index i
           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
           WHERE i.indrelid = 'lmp'::regclass AND i.indisprimary ORDER BY a.attname""",
    )
    assert [r[0] for r in key] == sorted(["iso", "market", "location", "interval_start"])
    duplicated = pl.concat([lmp_long(DAY, timedelta(hours=1), ["A"])] * 2)
    with pytest.raises(psycopg2.errors.UniqueViolation):
        _load(postgres_url, _parquet(tmp_path, "twice", duplicated))
    # The failed load left the partition as it was.
    assert _rows(postgres_url, "SELECT count(*) FROM lmp") == [(25,)]


def test_concurrent_writers_of_one_partition_leave_one_whole_version(postgres_url, tmp_path):
    versions = {
        name: _parquet(
            tmp_path,
            name,
            lmp_long(DAY, timedelta(minutes=5), ["A", "B", "C"]).with_columns(
                pl.lit(price).alias("lmp")
            ),
        )
        for name, price in (("one", 1.0), ("two", 2.0))
    }
    with postgres.connect(postgres_url) as con:
        postgres.ensure_schema(con)
    errors: list[BaseException] = []

    def write(path) -> None:
        try:
            for _ in range(5):
                _load(postgres_url, path)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(p,)) for p in versions.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    count, prices = _rows(postgres_url, "SELECT count(*), array_agg(DISTINCT lmp) FROM lmp")[0]
    assert count == 3 * 300 and len(prices) == 1  # never a mix, never doubled


def test_an_older_table_gains_the_models_new_columns(postgres_url, tmp_path):
    with postgres.connect(postgres_url) as con, con, con.cursor() as cur:
        # The lmp table as it was before location_id, written out literally.
        cur.execute(
            """CREATE TABLE lmp (interval_start TIMESTAMPTZ NOT NULL,
               interval_end TIMESTAMPTZ NOT NULL, iso TEXT NOT NULL, market TEXT NOT NULL,
               location TEXT NOT NULL, location_type TEXT NOT NULL, lmp DOUBLE PRECISION,
               energy DOUBLE PRECISION, congestion DOUBLE PRECISION, loss DOUBLE PRECISION,
               ghg DOUBLE PRECISION, dataset TEXT NOT NULL, market_date DATE NOT NULL,
               loaded_at TIMESTAMPTZ NOT NULL,
               PRIMARY KEY (iso, market, location, interval_start))"""
        )
    report = _load(
        postgres_url, _parquet(tmp_path, "day", lmp_long(DAY, timedelta(hours=1), ["A"]))
    )
    assert report.inserted == 25
    columns = _rows(
        postgres_url,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'lmp'",
    )
    assert "location_id" in {c[0] for c in columns}


def test_a_file_written_before_baa_existed_loads_with_baa_null(postgres_url, tmp_path):
    old = lmp_long(DAY, timedelta(hours=1), ["A", "B"], market="DAM").drop("baa")
    report = _load(postgres_url, _parquet(tmp_path, "old_day", old))
    assert report.inserted == old.height
    assert _rows(postgres_url, "SELECT count(*), count(baa) FROM lmp") == [(old.height, 0)]


def test_urls_name_the_server_without_the_password():
    url = "postgresql+psycopg2://power:s3cret@db.example:5432/power"
    assert postgres.redacted(url) == "postgresql+psycopg2://power:***@db.example:5432/power"
    assert postgres.dsn(url) == "postgresql://power:s3cret@db.example:5432/power"
    with pytest.raises(ValueError, match="not a PostgreSQL URL"):
        postgres.dsn("mysql://x@y/z")


@pytest.mark.e2e
def test_a_pjm_day_through_dagster_lands_in_postgresql_as_in_duckdb(
    postgres_url, tmp_path, monkeypatch
):
    monkeypatch.setenv(SUBSCRIPTION_KEY_ENV, "pg-test-key")
    selection = stage_keys(["lmp_da", "as_da"])
    stored = {}
    with FakeDataMiner(subscription_key="pg-test-key") as fake, dg.instance_for_test() as inst:
        for store in ("duckdb", "postgres"):
            root = tmp_path / store
            warehouse = (
                WarehouseResource(url=postgres_url)
                if store == "postgres"
                else WarehouseResource(database=str(root / "power.duckdb"))
            )
            defs = build_defs(
                resources={
                    "storage": StorageResource(data_dir=str(root)),
                    "iso_http": IsoHttpClient(
                        base_urls={"PJM": fake.base_url}, min_spacing_s={"PJM": 0.0},
                        lock_dir=str(root / "locks"),
                    ),
                    "warehouse": warehouse,
                }
            )  # fmt: skip
            result = defs.resolve_job_def(daily_job_name("PJM")).execute_in_process(
                partition_key=f"{DAY}|PJM", instance=inst, asset_selection=selection,
                raise_on_error=False,
            )  # fmt: skip
            assert result.success, store
            sql = (
                "SELECT iso, dataset, market, location, location_id, interval_start, lmp, "
                "energy, congestion, loss FROM lmp ORDER BY location, interval_start"
            )
            if store == "postgres":
                stored[store] = _rows(postgres_url, sql)
                metadata = result.get_asset_materialization_events()
                where = {
                    e.materialization.metadata["database"].value
                    for e in metadata
                    if e.asset_key == dg.AssetKey.from_user_string("warehouse/lmp_da")
                }
                assert where == {postgres.redacted(postgres_url)}
            else:
                with duckdb.connect(str(root / "power.duckdb"), read_only=True) as con:
                    con.execute("SET TimeZone = 'UTC'")
                    stored[store] = con.execute(sql).fetchall()
    assert len(stored["postgres"]) == 8 * 25
    normalized = {
        store: [(*r[:5], r[5].astimezone(UTC), *r[6:]) for r in rows]
        for store, rows in stored.items()
    }
    assert normalized["postgres"] == normalized["duckdb"]
    as_rows = _rows(postgres_url, "SELECT count(*) FROM as_price WHERE dataset = 'as_da'")
    assert as_rows[0][0] > 0
