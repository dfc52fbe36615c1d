"""Reading the DuckDB store while runs write to it: `power_assets.open_warehouse()`.

Importing this module does not load Dagster, so notebooks and scripts can read cheaply.
"""

import contextlib
import functools
import logging
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb

from power_assets.errors import PowerAssetsError
from power_assets.settings import (
    DUCKDB_PATH_ENV,
    WAREHOUSE_URL_ENV,
    duckdb_path,
    duckdb_wait_s,
)
from power_assets.store.locking import Role, hold

_LOGGER = logging.getLogger("power_assets.store")


@contextlib.contextmanager
def reader(
    database: str | Path | None = None,
    *,
    wait_s: float | None = None,
    for_what: str | None = None,
    log: Callable[[str], None] | None = None,
) -> Iterator["duckdb.DuckDBPyConnection | PostgresReader"]:
    """A read-only connection to the store (time zone UTC) that does not fail while runs write.

    With `$POWER_ASSETS_WAREHOUSE_URL` set (and no `database` given) the store is PostgreSQL and
    this is a read-only session with the same `sql(...)` / `execute(sql, params)` and `.pl()`,
    `.show()`, `.fetchall()` on results (`PostgresReader`; its psycopg2 connection is
    `.connection`); otherwise a DuckDB connection to the file, as below.

    It holds a shared lock with the writers for as long as it is open: it waits for the write
    transaction in progress (one market day of one dataset, usually well under a second) and runs
    alongside other readers, while writers wait until it is closed, so close it when done. It
    also waits for a process outside power_assets (e.g. the DuckDB CLI) that holds the file for
    writing. All waiting is bounded by `wait_s`, default `$POWER_ASSETS_DUCKDB_WAIT_S` (600 s);
    past it `WarehouseBusyError` names the holder. `database` defaults to `settings.duckdb_path()`;
    `for_what` is what waiting writers are told this reader is doing; `log` (default: the
    `power_assets.store` logger at INFO) hears what this reader waits for.

        from power_assets import open_warehouse

        with open_warehouse() as con:
            con.sql("SELECT * FROM catalog").show()
    """
    url = os.environ.get(WAREHOUSE_URL_ENV)
    if database is None and url:
        # The warehouse is on PostgreSQL: its MVCC lets readers and writers go on together.
        with read_only_postgres(url) as con:
            yield con
        return
    path = Path(database).resolve() if database is not None else duckdb_path()
    if not path.exists():
        raise PowerAssetsError(
            f"no DuckDB store at {path}: materialize a warehouse/* asset first, "
            f"or point {DUCKDB_PATH_ENV} at the store"
        )
    connect = functools.partial(duckdb.connect, str(path), read_only=True)
    doing = for_what or f"open_warehouse() in {Path(sys.argv[0]).name or 'python'}"
    bound = duckdb_wait_s() if wait_s is None else wait_s
    with hold(path, Role.READER, doing, connect, wait_s=bound, log=log or _LOGGER.info) as con:
        con.execute("SET TimeZone = 'UTC'")
        yield con


class PostgresResult:
    """The rows of one query, with DuckDB's result methods the README's examples use."""

    def __init__(self, columns: list[str], rows: list[tuple]):
        self.columns, self.rows = columns, rows

    def fetchall(self) -> list[tuple]:
        return self.rows

    def pl(self) -> Any:
        import polars as pl

        return pl.DataFrame(self.rows, schema=self.columns, orient="row")

    def show(self) -> None:
        print(self.pl())


class PostgresReader:
    """A read-only session on the PostgreSQL warehouse that answers `sql(...)` and
    `execute(sql, params)` as a DuckDB connection does; `connection` is the psycopg2 one."""

    def __init__(self, connection: Any):
        self.connection = connection

    def execute(self, query: str, parameters: Any = None) -> PostgresResult:
        with self.connection.cursor() as cur:
            # DuckDB's `?` placeholders, as psycopg2's `%s`
            cur.execute(query.replace("?", "%s") if parameters else query, parameters)
            columns = [c.name for c in cur.description] if cur.description else []
            return PostgresResult(columns, cur.fetchall() if cur.description else [])

    def sql(self, query: str) -> PostgresResult:
        return self.execute(query)


@contextlib.contextmanager
def read_only_postgres(url: str) -> Iterator[PostgresReader]:
    """A read-only session on the PostgreSQL warehouse (time zone UTC), closed afterwards."""
    from power_assets.store.postgres import connect  # psycopg2 only when PostgreSQL is used

    with connect(url) as con:
        con.set_session(readonly=True, autocommit=True)
        yield PostgresReader(con)
