"""The DuckDB store: table definitions, idempotent per-partition loads and the catalog view.

A partition load deletes the rows of that (iso, dataset, market_date) and inserts the day's
standardized parquet in one transaction, so re-materializing replaces rather than duplicates; the
primary key refuses duplicate keys outright. DuckDB allows one writing process per file, so writers
take an exclusive file lock first: concurrent runs queue instead of failing.
"""

import contextlib
import fcntl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
from dagster_duckdb import DuckDBResource

from power_assets.isos.base import DatasetKind


@dataclass(frozen=True)
class Table:
    name: str
    ddl: str
    columns: list[str]


_COMMON = """
    interval_start TIMESTAMPTZ NOT NULL,
    interval_end TIMESTAMPTZ NOT NULL,
    iso VARCHAR NOT NULL,
    market VARCHAR NOT NULL,
"""
_LOAD_COLUMNS = ["dataset", "market_date", "loaded_at"]

TABLES = {
    DatasetKind.LMP: Table(
        "lmp",
        f"""CREATE TABLE IF NOT EXISTS lmp ({_COMMON}
            location VARCHAR NOT NULL,
            location_type VARCHAR NOT NULL,
            lmp DOUBLE, energy DOUBLE, congestion DOUBLE, loss DOUBLE, ghg DOUBLE,
            dataset VARCHAR NOT NULL, market_date DATE NOT NULL, loaded_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (iso, market, location, interval_start))""",
        ["interval_start", "interval_end", "iso", "market", "location", "location_type",
         "lmp", "energy", "congestion", "loss", "ghg"],
    ),
    DatasetKind.AS_PRICE: Table(
        "as_price",
        f"""CREATE TABLE IF NOT EXISTS as_price ({_COMMON}
            region VARCHAR NOT NULL,
            product VARCHAR NOT NULL,
            iso_product VARCHAR NOT NULL,
            price DOUBLE,
            dataset VARCHAR NOT NULL, market_date DATE NOT NULL, loaded_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (iso, market, region, product, interval_start))""",
        ["interval_start", "interval_end", "iso", "market", "region", "product", "iso_product",
         "price"],
    ),
}  # fmt: skip

CATALOG_VIEW = """
CREATE OR REPLACE VIEW catalog AS
SELECT iso, dataset, 'lmp' AS table_name, market,
       min(market_date) AS first_date, max(market_date) AS last_date,
       count(DISTINCT market_date) AS days, count(*) AS rows,
       count(DISTINCT location) AS locations,
       min(interval_start) AS first_interval, max(interval_end) AS last_interval_end,
       max(loaded_at) AS last_loaded_at
FROM lmp GROUP BY iso, dataset, market
UNION ALL
SELECT iso, dataset, 'as_price', market,
       min(market_date), max(market_date), count(DISTINCT market_date), count(*),
       count(DISTINCT region || '/' || product),
       min(interval_start), max(interval_end), max(loaded_at)
FROM as_price GROUP BY iso, dataset, market
ORDER BY iso, dataset
"""


@contextlib.contextmanager
def writer(resource: DuckDBResource) -> Iterator[duckdb.DuckDBPyConnection]:
    """An exclusive write connection; other writers (threads or processes) wait for the lock."""
    database = Path(resource.database)
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(database.with_name(database.name + ".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with resource.get_connection() as con:
                ensure_schema(con)
                yield con
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("SET TimeZone = 'UTC'")
    for table in TABLES.values():
        con.execute(table.ddl)
    con.execute(CATALOG_VIEW)


@dataclass(frozen=True)
class LoadReport:
    deleted: int
    inserted: int


def load_partition(
    con: duckdb.DuckDBPyConnection,
    kind: DatasetKind,
    parquet: Path,
    *,
    iso: str,
    dataset: str,
    market_date: date,
) -> LoadReport:
    """Replace one (iso, dataset, market day) in its table with the rows of a standardized file."""
    table = TABLES[kind]
    columns = ", ".join(table.columns)
    con.execute("BEGIN TRANSACTION")
    try:
        deleted = con.execute(
            f"DELETE FROM {table.name} WHERE iso = ? AND dataset = ? AND market_date = ?",
            [iso, dataset, market_date],
        ).fetchone()[0]
        inserted = con.execute(
            f"""INSERT INTO {table.name} ({columns}, {", ".join(_LOAD_COLUMNS)})
                SELECT {columns}, ?, ?, now() FROM read_parquet(?)""",
            [dataset, market_date, str(parquet)],
        ).fetchone()[0]
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return LoadReport(deleted=deleted, inserted=inserted)
