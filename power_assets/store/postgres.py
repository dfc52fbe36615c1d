"""The warehouse on PostgreSQL: the DuckDB store's tables, keys and loads, for a shared server.

Chosen by one setting, `POWER_ASSETS_WAREHOUSE_URL=postgresql+psycopg2://user@host:5432/db`
(or the resource field `warehouse.url`); the DuckDB file stays the default. The tables, columns,
primary keys and the `catalog` view are derived from the same pandera models as DuckDB's
(`store.warehouse.TABLES`). A partition is replaced in one transaction: an advisory lock on the
(table, iso, dataset, day) serializes writers of the same partition on any host, then `DELETE`
and `COPY` of the day's standardized parquet, streamed in batches so memory stays bounded by a
batch. Writers of different partitions do not wait on each other.

What belongs here: connecting from a URL, the PostgreSQL schema and its migration, the load.
"""

import contextlib
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import polars as pl
import psycopg2
import psycopg2.extensions

from power_assets.isos.base import DatasetKind
from power_assets.kinds import kind_spec
from power_assets.store.warehouse import TABLES, LoadReport, Table, file_columns

URL_SCHEMES = ("postgresql+psycopg2", "postgresql", "postgres")
# Rows per COPY batch: a day of all-node 5-minute prices is ~3 M rows.
COPY_BATCH_ROWS = 200_000
_PG_TYPES = {"TIMESTAMPTZ": "TIMESTAMPTZ", "DOUBLE": "DOUBLE PRECISION", "VARCHAR": "TEXT"}


def dsn(url: str) -> str:
    """A libpq connection string from a SQLAlchemy-style URL (`postgresql+psycopg2://...`)."""
    parts = urlsplit(url)
    if parts.scheme not in URL_SCHEMES:
        raise ValueError(
            f"not a PostgreSQL URL (scheme {parts.scheme!r}; expected postgresql+psycopg2://...)"
        )
    return urlunsplit(("postgresql", *parts[1:]))


def redacted(url: str) -> str:
    """The URL without its password, for metadata and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit((parts.scheme, f"{user.partition(':')[0]}:***@{host}", *parts[2:]))


@contextlib.contextmanager
def connect(url: str) -> Iterator[psycopg2.extensions.connection]:
    """A connection (UTC session time zone, explicit transactions), closed afterwards."""
    try:
        con = psycopg2.connect(dsn(url), options="-c TimeZone=UTC")
    except psycopg2.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConnectionError(f"PostgreSQL warehouse {redacted(url)}: {first}") from None
    try:
        yield con
    finally:
        con.close()


def _ddl(kind: DatasetKind, table: Table) -> str:
    columns = [
        f'"{name}" {_PG_TYPES[sql_type]}{"" if nullable else " NOT NULL"}'
        for name, (sql_type, nullable) in table.types.items()
    ]
    columns += [
        '"dataset" TEXT NOT NULL',
        '"market_date" DATE NOT NULL',
        '"loaded_at" TIMESTAMPTZ NOT NULL',
        f"PRIMARY KEY ({', '.join(kind_spec(kind).key)})",
    ]
    return f'CREATE TABLE IF NOT EXISTS "{table.name}" (\n    ' + ",\n    ".join(columns) + ")"


def _catalog_view() -> str:
    parts = [
        f"""SELECT iso, dataset, '{t.name}'::text AS table_name,
       {"market" if "market" in t.columns else "NULL::text"} AS market,
       min(market_date) AS first_date, max(market_date) AS last_date,
       count(DISTINCT market_date) AS days, count(*) AS rows,
       count(DISTINCT {t.locator}) AS locations,
       min(interval_start) AS first_interval, max(interval_end) AS last_interval_end,
       max(loaded_at) AS last_loaded_at
FROM "{t.name}" GROUP BY iso, dataset{", market" if "market" in t.columns else ""}"""
        for t in TABLES.values()
    ]
    return "CREATE OR REPLACE VIEW catalog AS\n" + "\nUNION ALL\n".join(parts)


# Databases whose schema this process has made current: a backfill loads thousands of days,
# and replacing the catalog view for each would lock out its readers every time.
_ENSURED: set[str] = set()


def ensure_schema(con: psycopg2.extensions.connection) -> None:
    """Create the tables and the catalog view; add to existing tables the model columns they
    lack (as DuckDB's `ensure_schema` does). One transaction, serialized across writers; once
    per process and database."""
    if con.dsn in _ENSURED:
        return
    with con, con.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('power_assets schema'))")
        for kind, table in TABLES.items():
            cur.execute(_ddl(kind, table))
            cur.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = %s",
                [table.name],
            )
            present = {row[0] for row in cur.fetchall()}
            for name in (c for c in table.columns if c not in present):
                sql_type, nullable = table.types[name]
                if not nullable:
                    raise RuntimeError(
                        f"PostgreSQL table {table.name!r} lacks the NOT NULL column {name!r}; "
                        "drop the table and reload it"
                    )
                cur.execute(f'ALTER TABLE "{table.name}" ADD COLUMN "{name}" {_PG_TYPES[sql_type]}')
        cur.execute(_catalog_view())
    _ENSURED.add(con.dsn)


def load_partition(
    con: psycopg2.extensions.connection,
    kind: DatasetKind,
    parquet: Path,
    *,
    iso: str,
    dataset: str,
    market_date: date,
) -> LoadReport:
    """Replace one (iso, dataset, market day) in its table with a standardized file's rows.

    One transaction: other writers of the same partition wait on its advisory lock; readers see
    the old day or the new one, never a mix or nothing.
    """
    table = TABLES[kind]
    names = [*table.columns, "dataset", "market_date", "loaded_at"]
    quoted = ", ".join(f'"{name}"' for name in names)
    copy = f'COPY "{table.name}" ({quoted}) FROM STDIN WITH (FORMAT csv)'
    inserted = 0
    with con, con.cursor() as cur:
        cur.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))",
            [f"{table.name}:{iso}:{dataset}:{market_date.isoformat()}"],
        )
        cur.execute(
            f'DELETE FROM "{table.name}" WHERE iso = %s AND dataset = %s AND market_date = %s',
            [iso, dataset, market_date],
        )
        deleted = cur.rowcount
        cur.execute("SELECT now()")
        loaded_at = cur.fetchone()[0]
        present = file_columns(table, parquet)
        # A file written before a nullable column joined the model holds none of it: NULL.
        selected = [pl.col(n) if n in present else pl.lit(None).alias(n) for n in table.columns]
        for batch in (
            pl.scan_parquet(parquet).select(selected).collect_batches(chunk_size=COPY_BATCH_ROWS)
        ):
            rows = batch.with_columns(
                pl.lit(dataset).alias("dataset"),
                pl.lit(market_date).alias("market_date"),
                pl.lit(loaded_at).dt.convert_time_zone("UTC").alias("loaded_at"),
            )
            buffer = io.BytesIO()
            rows.write_csv(buffer, include_header=False, datetime_format="%Y-%m-%dT%H:%M:%S%.f%z")
            buffer.seek(0)
            cur.copy_expert(copy, buffer)
            inserted += rows.height
    return LoadReport(deleted=deleted, inserted=inserted)
