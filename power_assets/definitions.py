"""`build_defs()` assembles every asset, check, job and resource; `defs` is what Dagster loads.

Tests and the demo pass replacement resources (a loopback ISO, a temporary data dir) through
`build_defs(resources=...)`.
"""

from collections.abc import Mapping

import dagster as dg

from power_assets.assets.combined import combined_assets
from power_assets.assets.flattened import flattened_assets
from power_assets.assets.raw import raw_assets
from power_assets.assets.standardized import standardized_assets
from power_assets.assets.warehouse import warehouse_assets
from power_assets.automation.day_ahead import day_ahead_schedules
from power_assets.automation.freshness import (
    build_freshness_schedule,
    feed_specs,
    freshness_checks,
    freshness_job,
)
from power_assets.automation.realtime import realtime_sensors
from power_assets.automation.selection import automation_jobs
from power_assets.isos import registered_isos
from power_assets.resources import default_resources

DAILY_PIPELINE_JOB = "daily_pipeline"
MONTHLY_ROLLUP_JOB = "monthly_rollup"
YEARLY_ROLLUP_JOB = "yearly_rollup"


def all_assets() -> list[dg.AssetsDefinition]:
    return [
        *raw_assets(),
        *standardized_assets(),
        *flattened_assets(),
        *warehouse_assets(),
        *combined_assets(),
    ]


def daily_pipeline_job():
    """Every market-day asset: download through combined daily files and the DuckDB store."""
    return dg.define_asset_job(
        DAILY_PIPELINE_JOB,
        selection=dg.AssetSelection.all()
        - dg.AssetSelection.key_substring("combined_monthly__")
        - dg.AssetSelection.key_substring("combined_yearly__"),
        description="All market-day stages for the selected (date, ISO) partitions.",
    )


def rollup_jobs() -> list:
    """Monthly and yearly combined files; their partitions are months and years, not days."""
    return [
        dg.define_asset_job(
            MONTHLY_ROLLUP_JOB,
            selection=dg.AssetSelection.key_substring("combined_monthly__"),
            description="Monthly combined files from the daily ones.",
        ),
        dg.define_asset_job(
            YEARLY_ROLLUP_JOB,
            selection=dg.AssetSelection.key_substring("combined_yearly__"),
            description="Yearly combined files from the monthly ones.",
        ),
    ]


def build_defs(resources: Mapping[str, object] | None = None) -> dg.Definitions:
    isos = registered_isos()
    return dg.Definitions(
        assets=[*all_assets(), *feed_specs(isos)],
        asset_checks=freshness_checks(isos),
        jobs=[daily_pipeline_job(), *rollup_jobs(), *automation_jobs(isos), freshness_job(isos)],
        sensors=realtime_sensors(isos),
        schedules=[*day_ahead_schedules(isos), build_freshness_schedule(isos)],
        resources={**default_resources(), **(resources or {})},
    )


defs = build_defs()
