"""`build_defs()` assembles every asset, check, job and resource; `defs` is what Dagster loads.

Tests and the demo pass replacement resources (a loopback ISO, a temporary data dir) through
`build_defs(resources=...)`.
"""

from collections.abc import Mapping, Sequence
from enum import Enum

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
from power_assets.extend import STAGE_FRAMES, StageFrameLoader
from power_assets.isos import registered_isos
from power_assets.keys import COMBINED_PRODUCTS, ROLLUP_PERIODS, rollup_job_name, rollup_key
from power_assets.partition_hints import install as explain_refused_partition_keys
from power_assets.resources import default_resources
from power_assets.scale.executors import executor_from_settings


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


class _Default(Enum):
    # `build_defs()`'s default executor: read from the settings when build_defs is called (not
    # when this module is imported), so a caller that sets POWER_ASSETS_EXECUTOR first is honoured.
    FROM_SETTINGS = "from settings"


FROM_SETTINGS = _Default.FROM_SETTINGS


def build_defs(
    resources: Mapping[str, object] | None = None,
    executor: dg.ExecutorDefinition | _Default | None = FROM_SETTINGS,
    assets: Sequence[dg.AssetsDefinition] = (),
) -> dg.Definitions:
    """Everything Dagster loads. `executor`: the default executor of every job that names none
    (default: `executor_from_settings()`, from POWER_ASSETS_EXECUTOR); None keeps Dagster's own.
    `assets`: your own assets downstream of the stages (see `power_assets.extend`)."""
    isos = registered_isos()
    if executor is FROM_SETTINGS:
        executor = executor_from_settings()
    # Dagster's default executor applies only when Definitions is given none at all.
    given = {"executor": executor} if executor is not None else {}
    chosen = default_resources(resources)
    # Downstream assets read the stages' files through this input manager (power_assets.extend).
    chosen.setdefault(STAGE_FRAMES, StageFrameLoader(storage=chosen["storage"]))
    return dg.Definitions(
        assets=[market_day_assets(), *rollup_assets(), *feed_specs(isos), *assets],
        asset_checks=freshness_checks(isos),
        jobs=[*automation_jobs(isos), *rollup_jobs(), freshness_job(isos)],
        sensors=realtime_sensors(isos),
        schedules=[*day_ahead_schedules(isos), build_freshness_schedule(isos)],
        resources=chosen,
        **given,
    )


defs = build_defs()
# Dagster's CLI loads this module before it checks a --partition key: a refused key is explained.
explain_refused_partition_keys()
