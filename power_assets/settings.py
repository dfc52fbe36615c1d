"""Where things live on disk, and the environment variables that move them.

Only path and environment resolution belongs here; nothing in this module touches the network or
reads data files.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

DATA_DIR_ENV = "POWER_ASSETS_DATA_DIR"
DUCKDB_PATH_ENV = "POWER_ASSETS_DUCKDB_PATH"
DUCKDB_WAIT_ENV = "POWER_ASSETS_DUCKDB_WAIT_S"
WAREHOUSE_URL_ENV = "POWER_ASSETS_WAREHOUSE_URL"
INSTANCE_DATABASE_URL_ENV = "POWER_ASSETS_DAGSTER_PG_URL"


WORK_DIR_ENV = "POWER_ASSETS_WORK_DIR"


def data_location() -> str:
    """`$POWER_ASSETS_DATA_DIR` as given: a folder, or an object store URL (`s3://bucket/prefix`)."""
    return os.environ.get(DATA_DIR_ENV, "data")


OBJECT_STORE_SCHEMES = ("s3",)


def is_object_url(text: str) -> bool:
    """Whether a data location names an object store (`s3://bucket/prefix`) rather than a folder."""
    return urlsplit(text).scheme in OBJECT_STORE_SCHEMES


def local_root(location: str) -> Path:
    """The folder the stages read and write for a data location: the folder itself, or for an
    object store the working folder that mirrors it on this host (`work_dir`)."""
    return work_dir(location) if is_object_url(location) else Path(location).resolve()


def work_dir(url: str) -> Path:
    """This host's working copy of an object store location: `$POWER_ASSETS_WORK_DIR`, else
    `~/.cache/power_assets/{bucket}/{prefix}`. Only a cache: the bucket is the record."""
    explicit = os.environ.get(WORK_DIR_ENV)
    if explicit:
        return Path(explicit).expanduser().resolve()
    return (Path.home() / ".cache" / "power_assets" / url.split("://", 1)[1].strip("/")).resolve()


def data_dir() -> Path:
    """Root of the files the stages read and write on this host: `$POWER_ASSETS_DATA_DIR`, else
    `./data` under the working directory; for an object store, this host's working copy."""
    return local_root(data_location())


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


# How runs execute their steps (power_assets/scale/executors.py reads these). Broker and backend
# URLs may hold passwords, so the executor names these variables and Dagster reads them when a
# run starts; they are never written into definitions or run config.
EXECUTOR_ENV = "POWER_ASSETS_EXECUTOR"
EXECUTORS = ("multiprocess", "in_process", "celery", "k8s")
CELERY_BROKER_ENV = "POWER_ASSETS_CELERY_BROKER"
CELERY_BACKEND_ENV = "POWER_ASSETS_CELERY_BACKEND"
CELERY_VISIBILITY_TIMEOUT_ENV = "POWER_ASSETS_CELERY_VISIBILITY_TIMEOUT_S"
# Six hours: longer than a backfill chunk's step should ever take (see scale/executors.py).
DEFAULT_CELERY_VISIBILITY_TIMEOUT_S = 6 * 3600


def executor_name() -> str:
    """`$POWER_ASSETS_EXECUTOR` lower-cased, else `in_process`; a value not in EXECUTORS is an
    error naming the valid ones.

    In-process by default: every market-day stage of a run is one step, so Dagster's multiprocess
    executor would only add a process that imports the definitions again (seconds, for a day that
    takes a fraction of that to process); `multiprocess` stays one setting away."""
    name = os.environ.get(EXECUTOR_ENV, "").strip().lower() or "in_process"
    if name not in EXECUTORS:
        raise ValueError(
            f"{EXECUTOR_ENV}={os.environ.get(EXECUTOR_ENV)!r} is not an executor; "
            f"valid values: {', '.join(EXECUTORS)} (unset: in_process)"
        )
    return name


def celery_visibility_timeout_s() -> int:
    """Seconds Redis waits before handing an unacknowledged Celery task to another worker:
    `$POWER_ASSETS_CELERY_VISIBILITY_TIMEOUT_S`, else six hours."""
    text = os.environ.get(CELERY_VISIBILITY_TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_CELERY_VISIBILITY_TIMEOUT_S
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise ValueError(
            f"{CELERY_VISIBILITY_TIMEOUT_ENV}={text!r} is not a positive whole number of seconds"
        )
    return value
