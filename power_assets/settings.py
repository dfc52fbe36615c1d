"""Where things live on disk, and the environment variables that move them.

Only path and environment resolution belongs here; nothing in this module touches the network or
reads data files.
"""

import os
from pathlib import Path

DATA_DIR_ENV = "POWER_ASSETS_DATA_DIR"
DUCKDB_PATH_ENV = "POWER_ASSETS_DUCKDB_PATH"
DUCKDB_WAIT_ENV = "POWER_ASSETS_DUCKDB_WAIT_S"
WAREHOUSE_URL_ENV = "POWER_ASSETS_WAREHOUSE_URL"
INSTANCE_DATABASE_URL_ENV = "POWER_ASSETS_DAGSTER_PG_URL"


def data_dir() -> Path:
    """Root of generated data: `$POWER_ASSETS_DATA_DIR`, else `./data` under the working directory."""
    return Path(os.environ.get(DATA_DIR_ENV, "data")).resolve()


def duckdb_path(root: Path | None = None) -> Path:
    """The DuckDB file: `$POWER_ASSETS_DUCKDB_PATH`, else `power.duckdb` inside the data root
    (`root`, default `data_dir()`). Read when called, so a run sees the environment it runs in."""
    explicit = os.environ.get(DUCKDB_PATH_ENV)
    return Path(explicit).resolve() if explicit else (root or data_dir()) / "power.duckdb"


def duckdb_wait_s() -> float:
    """Seconds a DuckDB writer or reader waits for the file: `$POWER_ASSETS_DUCKDB_WAIT_S`, else 600."""
    text = os.environ.get(DUCKDB_WAIT_ENV, "600")
    try:
        return max(0.0, float(text))
    except ValueError:
        raise ValueError(f"{DUCKDB_WAIT_ENV}={text!r} is not a number of seconds") from None


def base_url_env_var(iso_id: str) -> str:
    """Name of the environment variable overriding an ISO's base URL, e.g. POWER_ASSETS_CAISO_BASE_URL."""
    return f"POWER_ASSETS_{iso_id}_BASE_URL"


def warehouse_url_setting() -> dict[str, object]:
    """`{"url": EnvVar(POWER_ASSETS_WAREHOUSE_URL)}` when that variable is set (a PostgreSQL
    warehouse; the URL may hold a password, so Dagster reads it when a run starts and shows only
    the variable's name), else {} (the DuckDB file)."""
    if not os.environ.get(WAREHOUSE_URL_ENV):
        return {}
    import dagster as dg  # only here: this module is imported by code that needs no Dagster

    return {"url": dg.EnvVar(WAREHOUSE_URL_ENV)}


def spacing_database_setting() -> dict[str, object]:
    """`{"spacing_database_url": EnvVar(POWER_ASSETS_DAGSTER_PG_URL)}` when the Dagster instance is
    on PostgreSQL (deploy/dagster.yaml reads the same variable): request spacing is then kept in
    that database and holds across hosts. Else {} (lock files on this machine)."""
    if not os.environ.get(INSTANCE_DATABASE_URL_ENV):
        return {}
    import dagster as dg

    return {"spacing_database_url": dg.EnvVar(INSTANCE_DATABASE_URL_ENV)}
