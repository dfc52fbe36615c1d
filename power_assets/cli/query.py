"""`power-assets query "SQL"` and `power-assets catalog`: the warehouse, read-only.

What belongs here: running one statement through `open_warehouse()` (a read-only connection, DuckDB
or PostgreSQL, that waits for a write in progress instead of failing) and handing the result to
`tables.py` to print or export. A statement that would write is refused by the connection itself;
that, like any SQL error, is one line and exit 1.
"""

from pathlib import Path

import polars as pl

from power_assets.cli.tables import DEFAULT_ROWS, export, show

CATALOG_SQL = "SELECT * FROM catalog ORDER BY iso, dataset"
FAILED = 1


class QueryError(Exception):
    """The statement could not run; its message is the one line the user sees."""


def fetch(sql: str) -> pl.DataFrame | None:
    """The statement's rows as a frame (None for a statement that returns none), read-only."""
    import duckdb

    from power_assets import open_warehouse
    from power_assets.errors import PowerAssetsError

    errors: tuple[type[Exception], ...] = (duckdb.Error, PowerAssetsError, ConnectionError)
    try:
        import psycopg2

        errors += (psycopg2.Error,)
    except ImportError:  # the PostgreSQL warehouse is optional
        pass
    try:
        with open_warehouse(for_what="power-assets query") as con:
            result = con.sql(sql)
            if result is None or not getattr(result, "columns", None):
                return None
            return result.pl()
    except errors as exc:
        raise QueryError(_one_line(exc)) from None


def _one_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    if "read-only" in text or "read only" in text:
        text += " (power-assets query only reads: the warehouse is written by its runs)"
    return text


def run_query(
    sql: str,
    *,
    csv: Path | None = None,
    parquet: Path | None = None,
    rows: int = DEFAULT_ROWS,
    print_error=print,
    command: str = "query",
) -> int:
    """Print the result of `sql` (every column), export it if asked; 0, or 1 on an SQL error."""
    try:
        frame = fetch(sql)
    except QueryError as exc:
        print_error(f"power-assets {command}: {exc}")
        return FAILED
    if frame is None:
        print("the statement returned no rows")
        return 0
    show(frame, rows)
    written = export(frame, csv, parquet)
    if written is not None:
        print(f"wrote {frame.height} row(s) x {frame.width} column(s) to {written}")
    return 0


def run_catalog(
    *,
    csv: Path | None = None,
    parquet: Path | None = None,
    rows: int = DEFAULT_ROWS,
    print_error=print,
) -> int:
    """The `catalog` view: per ISO, dataset and market, the stored days, rows and locations."""
    return run_query(
        CATALOG_SQL, csv=csv, parquet=parquet, rows=rows, print_error=print_error, command="catalog"
    )
