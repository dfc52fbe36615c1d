"""Dagster resources: where data lives, the shared ISO HTTP client, and the DuckDB store.

`default_resources()` is what `build_defs()` uses; tests and the demo replace entries through
`build_defs(resources=...)` rather than monkeypatching.
"""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from power_assets import settings
from power_assets.io.http import IsoHttpClient
from power_assets.layout import Layout


class StorageResource(dg.ConfigurableResource):
    """Root folder for every stage's files (default: $POWER_ASSETS_DATA_DIR or ./data)."""

    data_dir: str = ""

    def layout(self) -> Layout:
        return Layout(Path(self.data_dir).resolve() if self.data_dir else settings.data_dir())


def default_resources() -> dict[str, object]:
    return {
        "storage": StorageResource(),
        "iso_http": IsoHttpClient(),
        "warehouse": DuckDBResource(database=str(settings.duckdb_path())),
    }
