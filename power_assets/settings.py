"""Where things live on disk, and the environment variables that move them.

Only path and environment resolution belongs here; nothing in this module touches the network or
reads data files.
"""

import os
from pathlib import Path

DATA_DIR_ENV = "POWER_ASSETS_DATA_DIR"
DUCKDB_PATH_ENV = "POWER_ASSETS_DUCKDB_PATH"


def data_dir() -> Path:
    """Root of generated data: `$POWER_ASSETS_DATA_DIR`, else `./data` under the working directory."""
    return Path(os.environ.get(DATA_DIR_ENV, "data")).resolve()


def duckdb_path() -> Path:
    """The DuckDB file: `$POWER_ASSETS_DUCKDB_PATH`, else `power.duckdb` inside the data dir."""
    explicit = os.environ.get(DUCKDB_PATH_ENV)
    return Path(explicit).resolve() if explicit else data_dir() / "power.duckdb"


def base_url_env_var(iso_id: str) -> str:
    """Name of the environment variable overriding an ISO's base URL, e.g. POWER_ASSETS_CAISO_BASE_URL."""
    return f"POWER_ASSETS_{iso_id}_BASE_URL"
