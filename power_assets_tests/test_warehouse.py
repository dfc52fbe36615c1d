"""The DuckDB store: per-partition loads replace, never duplicate; the catalog tells what is stored."""

import threading
from datetime import date, timedelta

import duckdb
import polars as pl
import pytest
from dagster_duckdb import DuckDBResource

from power_assets.isos import DatasetKind
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
