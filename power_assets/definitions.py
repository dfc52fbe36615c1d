"""`build_defs()` assembles every asset, check, job and resource; `defs` is what Dagster loads.

Tests and the demo pass replacement resources (a loopback ISO, a temporary data dir) through
`build_defs(resources=...)`.
"""

from collections.abc import Mapping

import dagster as dg

from power_assets.assets.market_day import market_day_assets, rollup_assets
from power_assets.automation.day_ahead import day_ahead_schedules
from power_assets.automation.freshness import (
    build_freshness_schedule,
    feed_specs,
    freshness_checks,
    freshness_job,
)
from power_assets.automation.realtime import realtime_sensors
from power_assets.automation.selection import AssetJob, automation_jobs
from power_assets.isos import registered_isos
from power_assets.keys import COMBINED_PRODUCTS, ROLLUP_PERIODS, rollup_job_name, rollup_key
from power_assets.resources import default_resources


def rollup_jobs() -> list[AssetJob]:
    """Monthly and yearly combined files; their partitions are months and years, not days."""
    jobs = []
    for period in ROLLUP_PERIODS:
        selection = [rollup_key(period, product) for product in COMBINED_PRODUCTS]
        jobs.append(
            dg.define_asset_job(
                rollup_job_name(period),
                selection=dg.AssetSelection.assets(*selection),
                description=f"{period.capitalize()} combined files from the "
                f"{'daily' if period == 'monthly' else 'monthly'} ones.",
            )
        )
    return jobs


def build_defs(resources: Mapping[str, object] | None = None) -> dg.Definitions:
    isos = registered_isos()
    return dg.Definitions(
        assets=[market_day_assets(), *rollup_assets(), *feed_specs(isos)],
        asset_checks=freshness_checks(isos),
        jobs=[*automation_jobs(isos), *rollup_jobs(), freshness_job(isos)],
        sensors=realtime_sensors(isos),
        schedules=[*day_ahead_schedules(isos), build_freshness_schedule(isos)],
        resources=default_resources(resources),
    )


defs = build_defs()
