"""Running the daily pipeline through Dagster against loopback ISOs, for the end-to-end tests."""

from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import polars as pl
from dagster_duckdb import DuckDBResource

from power_assets.definitions import build_defs
from power_assets.io.http import IsoHttpClient
from power_assets.keys import daily_job_name, parse_partition_key
from power_assets.resources import StorageResource


def loopback_defs(root: Path, base_urls: dict[str, str], **iso_http: Any) -> dg.Definitions:
    """Definitions writing under `root` and talking only to the given (loopback) base URLs;
    `iso_http` overrides settings of the `IsoHttpClient` (e.g. `request_deadline_s`)."""
    isos = {key.split(":")[0] for key in base_urls}
    return build_defs(
        resources={
            "storage": StorageResource(data_dir=str(root / "data")),
            "iso_http": IsoHttpClient(
                **{
                    "base_urls": base_urls,
                    "min_spacing_s": dict.fromkeys(isos, 0.0),
                    "max_retries": 1,
                    "backoff_base_s": 0.01,
                    "lock_dir": str(root / "locks"),
                    **iso_http,
                }
            ),
            "warehouse": DuckDBResource(database=str(root / "data" / "power.duckdb")),
        }
    )


def run_day(defs: dg.Definitions, instance: dg.DagsterInstance, key: str, selection=None):
    job = defs.resolve_job_def(daily_job_name(parse_partition_key(key).iso))
    return job.execute_in_process(
        partition_key=key, instance=instance, raise_on_error=False, asset_selection=selection
    )


def check_results(result) -> dict[str, bool]:
    return {
        f"{e.asset_key.to_user_string()}:{e.check_name}": e.passed
        for e in result.get_asset_check_evaluations()
    }


def outputs(root: Path, iso: str) -> dict[str, pl.DataFrame]:
    data = root / "data" / iso
    return {
        str(p.relative_to(data)): pl.read_parquet(p)
        for stage in ("raw_parquet", "flattened", "combined")
        for p in sorted((data / stage).rglob("*.parquet"))
    }


def query(root: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(root / "data" / "power.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()
