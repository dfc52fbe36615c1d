"""The DuckDB store: per-partition loads replace, never duplicate; the catalog tells what is stored."""

import threading
from datetime import date, timedelta

import duckdb
import polars as pl
import pytest
from dagster_duckdb import DuckDBResource

from power_assets.errors import MalformedFileError
from power_assets.isos import DatasetKind
from power_assets.schemas import LMP_COLUMNS
from power_assets.store.warehouse import load_partition, writer
from power_assets_tests.helpers import lmp_long

FALL = date(2024, 11, 3)


@pytest.fixture
def day_file(tmp_path):
    path = tmp_path / "day.parquet"
    lmp_long(FALL, timedelta(hours=1), ["A", "B"], market="DAM").write_parquet(path)
    return path


def _load(resource, path, day=FALL):
    with writer(resource) as con:
        return load_partition(
            con, DatasetKind.LMP, path, iso="CAISO", dataset="lmp_da", market_date=day
        )


def test_reloading_a_partition_replaces_its_rows(tmp_path, day_file):
    resource = DuckDBResource(database=str(tmp_path / "db" / "power.duckdb"))
    first = _load(resource, day_file)
    second = _load(resource, day_file)
    assert (first.inserted, first.deleted) == (50, 0)
    assert (second.inserted, second.deleted) == (50, 50)
    with duckdb.connect(resource.database, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM lmp").fetchone()[0] == 50
        catalog = con.execute("SELECT iso, dataset, days, rows, locations FROM catalog").fetchall()
    assert catalog == [("CAISO", "lmp_da", 1, 50, 2)]


def test_duplicate_keys_are_refused_and_nothing_is_loaded(tmp_path, day_file):
    resource = DuckDBResource(database=str(tmp_path / "power.duckdb"))
    frame = pl.read_parquet(day_file)
    doubled = tmp_path / "doubled.parquet"
    pl.concat([frame, frame.head(1)]).write_parquet(doubled)
    with pytest.raises(duckdb.ConstraintException):
        _load(resource, doubled)
    with duckdb.connect(resource.database, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM lmp").fetchone()[0] == 0


def test_concurrent_writers_queue_instead_of_failing(tmp_path):
    resource = DuckDBResource(database=str(tmp_path / "power.duckdb"))
    days = [FALL + timedelta(days=i) for i in range(4)]
    files = []
    for day in days:
        path = tmp_path / f"{day}.parquet"
        lmp_long(day, timedelta(hours=1), ["A", "B"], market="DAM").write_parquet(path)
        files.append(path)
    errors = []

    def load(path, day):
        try:
            _load(resource, path, day)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=load, args=pair) for pair in zip(files, days, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with duckdb.connect(resource.database, read_only=True) as con:
        assert con.execute("SELECT count(DISTINCT market_date) FROM lmp").fetchone()[0] == 4


# The `lmp` table as DuckDB files written before `location_id` existed hold it.
OLD_LMP_DDL = """CREATE TABLE "lmp" (
    interval_start TIMESTAMPTZ NOT NULL,
    interval_end TIMESTAMPTZ NOT NULL,
    iso VARCHAR NOT NULL,
    market VARCHAR NOT NULL,
    location VARCHAR NOT NULL,
    location_type VARCHAR NOT NULL,
    lmp DOUBLE,
    energy DOUBLE,
    congestion DOUBLE,
    loss DOUBLE,
    ghg DOUBLE,
    dataset VARCHAR NOT NULL,
    market_date DATE NOT NULL,
    loaded_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (iso, market, location, interval_start))"""


def _columns(con, table: str) -> list[str]:
    return [row[0] for row in con.execute(f'DESCRIBE "{table}"').fetchall()]


def test_old_lmp_table_gains_location_id_and_keeps_loading(tmp_path):
    database = tmp_path / "old.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute(OLD_LMP_DDL)
        con.execute(
            """INSERT INTO lmp VALUES ('2024-11-02 04:00:00+00', '2024-11-02 05:00:00+00',
               'NYISO', 'DAM', 'WEST', 'ZONE', 20.0, 19.0, 0.0, 1.0, NULL,
               'lmp_da', '2024-11-02', now())"""
        )
    frame = lmp_long(FALL, timedelta(hours=1), ["A", "B"], market="DAM").with_columns(
        pl.when(pl.col("location") == "A").then(pl.lit("101")).alias("location_id")
    )
    path = tmp_path / "day.parquet"
    frame.write_parquet(path)

    report = _load(DuckDBResource(database=str(database)), path)

    assert (report.inserted, report.deleted) == (50, 0)
    with duckdb.connect(str(database), read_only=True) as con:
        assert "location_id" in _columns(con, "lmp")
        ids = con.execute(
            "SELECT location, location_id, count(*) FROM lmp GROUP BY ALL ORDER BY location"
        ).fetchall()
        catalog = con.execute(
            "SELECT iso, dataset, rows, locations FROM catalog ORDER BY iso"
        ).fetchall()
    # The row loaded before the migration keeps its values, with no id.
    assert ids == [("A", "101", 25), ("B", None, 25), ("WEST", None, 1)]
    assert catalog == [("CAISO", "lmp_da", 50, 2), ("NYISO", "lmp_da", 1, 1)]


def test_new_file_has_every_model_column_and_migration_is_idempotent(tmp_path):
    resource = DuckDBResource(database=str(tmp_path / "new.duckdb"))
    with writer(resource) as con:
        first = _columns(con, "lmp")
    with writer(resource) as con:
        assert _columns(con, "lmp") == first
    assert first[: len(LMP_COLUMNS)] == LMP_COLUMNS


def test_missing_not_null_column_is_refused_on_a_table_with_rows(tmp_path):
    database = tmp_path / "older.duckdb"
    with duckdb.connect(str(database)) as con:
        # No `location_type` (a NOT NULL model column) and a row that has no value for it.
        con.execute(OLD_LMP_DDL.replace("    location_type VARCHAR NOT NULL,\n", ""))
        con.execute(
            """INSERT INTO lmp VALUES ('2024-11-02 04:00:00+00', '2024-11-02 05:00:00+00',
               'NYISO', 'DAM', 'WEST', 20.0, 19.0, 0.0, 1.0, NULL, 'lmp_da', '2024-11-02', now())"""
        )
    resource = DuckDBResource(database=str(database))
    missing = r"'lmp' lacks the NOT NULL column 'location_type'"
    with pytest.raises(RuntimeError, match=missing), writer(resource):
        pass


def test_a_file_written_before_baa_existed_still_loads_with_baa_null(tmp_path):
    database = tmp_path / "store.duckdb"
    old_file = lmp_long(FALL, timedelta(hours=1), ["A", "B"], market="DAM").drop("baa")
    path = tmp_path / "old_day.parquet"
    old_file.write_parquet(path)

    report = _load(DuckDBResource(database=str(database)), path)

    assert report.inserted == 50
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute("SELECT count(*), count(baa) FROM lmp").fetchall()
    assert rows == [(50, 0)]


def test_a_file_lacking_a_required_column_is_refused_naming_it(tmp_path):
    path = tmp_path / "broken_day.parquet"
    lmp_long(FALL, timedelta(hours=1), ["A"], market="DAM").drop("location").write_parquet(path)
    with pytest.raises(MalformedFileError, match=r"broken_day\.parquet: lacks the required column"):
        _load(DuckDBResource(database=str(tmp_path / "store.duckdb")), path)
