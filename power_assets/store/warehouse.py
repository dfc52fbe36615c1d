"""The DuckDB store: its resource, table definitions, idempotent per-partition loads, the catalog view.

A partition load deletes the rows of that (iso, dataset, market_date) and inserts the day's
standardized parquet in one transaction, so re-materializing replaces rather than duplicates; the
primary key refuses duplicate keys outright. A file written before a model gained a column is
migrated when a writer opens it: `ensure_schema` adds the missing columns. DuckDB allows one writing process per file, so writers
follow the lock protocol of `store.locking`: concurrent runs and readers queue instead of failing,
for at most `$POWER_ASSETS_DUCKDB_WAIT_S`, and say what they wait for.
"""

import contextlib
import functools
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
from dagster_duckdb import DuckDBResource

from power_assets.errors import MalformedFileError, PowerAssetsError
from power_assets.isos.base import DatasetKind
from power_assets.kinds import kind_spec
from power_assets.settings import (
    DATA_DIR_ENV,
    DUCKDB_PATH_ENV,
    WAREHOUSE_URL_ENV,
    data_location,
    duckdb_path,
    duckdb_wait_s,
    is_object_url,
    local_root,
)
from power_assets.store.locking import Role, hold

_LOGGER = logging.getLogger("power_assets.store")


@dataclass(frozen=True)
class Table:
    name: str
    ddl: str
    columns: list[str]
    locator: str  # SQL expression counted as "locations" in the catalog
    # Model column -> (DuckDB type, nullable), what `ensure_schema` adds to an older table.
    types: dict[str, tuple[str, bool]]


def _sql_type(dtype: object) -> str:
    text = str(dtype)
    if text.startswith("Datetime"):
        return "TIMESTAMPTZ"
    return {"Float64": "DOUBLE", "String": "VARCHAR", "Utf8": "VARCHAR"}[text]


def _table(kind: DatasetKind) -> Table:
    spec = kind_spec(kind)
    schema = spec.model.to_schema().columns
    types = {
        name: (_sql_type(column.dtype), bool(column.nullable)) for name, column in schema.items()
    }
    columns = [
        f"{name} {sql_type}{'' if nullable else ' NOT NULL'}"
        for name, (sql_type, nullable) in types.items()
    ]
    columns += [
        "dataset VARCHAR NOT NULL",
        "market_date DATE NOT NULL",
        "loaded_at TIMESTAMPTZ NOT NULL",
        f"PRIMARY KEY ({', '.join(spec.key)})",
    ]
    locator = " || '/' || ".join(spec.series_columns)
    ddl = f'CREATE TABLE IF NOT EXISTS "{spec.table}" (\n    ' + ",\n    ".join(columns) + ")"
    return Table(spec.table, ddl, list(schema), locator, types)


TABLES = {kind: _table(kind) for kind in DatasetKind}
_LOAD_COLUMNS = ["dataset", "market_date", "loaded_at"]


def _catalog_view() -> str:
    parts = [
        f"""SELECT iso, dataset, '{t.name}' AS table_name,
       {"market" if "market" in t.columns else "NULL::VARCHAR"} AS market,
       min(market_date) AS first_date, max(market_date) AS last_date,
       count(DISTINCT market_date) AS days, count(*) AS rows,
       count(DISTINCT {t.locator}) AS locations,
       min(interval_start) AS first_interval, max(interval_end) AS last_interval_end,
       max(loaded_at) AS last_loaded_at
FROM "{t.name}" GROUP BY ALL"""
        for t in TABLES.values()
    ]
    return (
        "CREATE OR REPLACE VIEW catalog AS\n"
        + "\nUNION ALL\n".join(parts)
        + "\nORDER BY iso, dataset"
    )


class WarehouseResource(DuckDBResource):
    """The DuckDB store: `database` if set, else `$POWER_ASSETS_DUCKDB_PATH`, else `power.duckdb`
    in the data root `data_dir` (empty: `$POWER_ASSETS_DATA_DIR` or ./data), resolved when used.

    `url` (a `postgresql+psycopg2://` URL, from `$POWER_ASSETS_WAREHOUSE_URL` as an EnvVar, since
    it may hold a password) loads into PostgreSQL instead (`store.postgres`)."""

    database: str = ""
    data_dir: str = ""
    url: str = ""

    def postgres_url(self) -> str:
        """The PostgreSQL URL if one is configured, else ""."""
        value = self.url
        if isinstance(value, dg.EnvVar):  # a resource built by hand, outside a run
            value = value.get_value("") or ""
        return value

    def path(self) -> Path:
        if self.database:
            return Path(self.database).resolve()
        location = self.data_dir or data_location()
        if is_object_url(location) and not os.environ.get(DUCKDB_PATH_ENV):
            # Beside the files it would be in each host's cache: one store per worker, never shared.
            raise PowerAssetsError(
                f"the data is on object storage ({DATA_DIR_ENV}={location}), where no DuckDB file "
                f"can be shared by the workers: set {WAREHOUSE_URL_ENV} to a PostgreSQL URL, or "
                f"{DUCKDB_PATH_ENV} to a DuckDB file if one machine does all the loading"
            )
        return duckdb_path(local_root(location))

    @contextlib.contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        path = self.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        resolved = DuckDBResource(database=str(path), connection_config=self.connection_config)
        with resolved.get_connection() as connection:
            yield connection


def database_path(resource: DuckDBResource) -> Path:
    """Where a DuckDB resource's file is: resolved for `WarehouseResource`, as given otherwise."""
    if isinstance(resource, WarehouseResource):
        return resource.path()
    return Path(resource.database).resolve()


@contextlib.contextmanager
def writer(
    resource: DuckDBResource,
    *,
    for_what: str = "a DuckDB write",
    log: Callable[[str], None] | None = None,
    wait_s: float | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """An exclusive read-write connection with the schema in place, held for one transaction.

    Waits for other writers (threads or processes), for open `open_warehouse()` readers and for
    processes outside power_assets holding the file, at most `wait_s` (default
    `$POWER_ASSETS_DUCKDB_WAIT_S`). `for_what` (e.g. "warehouse/lmp_da 2024-03-10|CAISO") is
    what it tells others it is doing, and names it in `WarehouseBusyError` past the bound; `log`
    (INFO; default the `power_assets.store` logger) hears what it waits for.
    """
    database = database_path(resource)
    database.parent.mkdir(parents=True, exist_ok=True)
    # Not resource.get_connection(): that retries a held file by itself for ~100 s, outside the
    # bound and without saying on whom it waits.
    connect = functools.partial(
        duckdb.connect, str(database), read_only=False, config=dict(resource.connection_config)
    )
    bound = duckdb_wait_s() if wait_s is None else wait_s
    with hold(
        database, Role.WRITER, for_what, connect, wait_s=bound, log=log or _LOGGER.info
    ) as con:
        ensure_schema(con)
        yield con


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables and the catalog view; add to existing tables the model columns they lack."""
    con.execute("SET TimeZone = 'UTC'")
    for table in TABLES.values():
        con.execute(table.ddl)
        _add_missing_columns(con, table)
    con.execute(_catalog_view())


def _add_missing_columns(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    """Migrate a table created by an older version: every model column it lacks is appended.

    Loads name their columns, so an appended column's place at the end does not matter. Rows
    already there get null; a NOT NULL column can only be added to an empty table, since the old
    rows have no value for it: then the table must be rebuilt from the standardized files.
    """
    present = {
        row[0]
        for row in con.execute(
            """SELECT column_name FROM duckdb_columns()
               WHERE database_name = current_database() AND schema_name = current_schema()
                 AND table_name = ?""",
            [table.name],
        ).fetchall()
    }
    missing = [name for name in table.columns if name not in present]
    if not missing:
        return
    rows = con.execute(f'SELECT count(*) FROM "{table.name}"').fetchone()[0]
    for name in missing:
        sql_type, nullable = table.types[name]
        if not nullable and rows:
            raise RuntimeError(
                f"DuckDB table {table.name!r} lacks the NOT NULL column {name!r} and holds "
                f"{rows} row(s) without a value for it; drop the table and reload it"
            )
        _LOGGER.info("adding column %s %s to DuckDB table %s", name, sql_type, table.name)
        con.execute(f'ALTER TABLE "{table.name}" ADD COLUMN "{name}" {sql_type}')
        if not nullable:
            con.execute(f'ALTER TABLE "{table.name}" ALTER COLUMN "{name}" SET NOT NULL')


@dataclass(frozen=True)
class LoadReport:
    deleted: int
    inserted: int


def file_columns(table: Table, parquet: Path) -> set[str]:
    """The table's columns a standardized file holds. A file written before a nullable column
    joined the model (e.g. `baa`) lacks it: loaders fill it with NULL. A missing required column
    is an error naming the file."""
    present = set(pl.read_parquet_schema(parquet))
    missing = [n for n in table.columns if n not in present and not table.types[n][1]]
    if missing:
        raise MalformedFileError(
            f"{parquet}: lacks the required column(s) {', '.join(missing)} of table {table.name}; "
            "re-materialize its raw_parquet partition"
        )
    return present


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
    present = file_columns(table, parquet)
    selected = ", ".join(
        name if name in present else f'CAST(NULL AS {table.types[name][0]}) AS "{name}"'
        for name in table.columns
    )
    con.execute("BEGIN TRANSACTION")
    try:
        deleted = con.execute(
            f'DELETE FROM "{table.name}" WHERE iso = ? AND dataset = ? AND market_date = ?',
            [iso, dataset, market_date],
        ).fetchone()[0]
        inserted = con.execute(
            f"""INSERT INTO "{table.name}" ({columns}, {", ".join(_LOAD_COLUMNS)})
                SELECT {selected}, ?, ?, now() FROM read_parquet(?)""",
            [dataset, market_date, str(parquet)],
        ).fetchone()[0]
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return LoadReport(deleted=deleted, inserted=inserted)
