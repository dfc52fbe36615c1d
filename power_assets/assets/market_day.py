"""The Dagster assets: every step of the graph as one subsettable multi-asset per partitioning.

Each stage of each dataset (`raw_download/lmp_da`, ..., `warehouse/lmp_da`) and each combined
product is its own asset in the graph, with its own lineage, checks and partitions. They are
executed by one op per partitioning (`market_day_stages`, `monthly_rollups`, `yearly_rollups`)
that runs whichever of them a run selects, one (asset, partition) at a time (see `runner`). That
is what lets a range record each day's own figures and check results, and lets a bad day stop at
its stage while the other days go on into DuckDB: an op output would record every partition of
the range at once.
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from power_assets.assets.combined import PERIODS, Period, daily_steps, rollup_steps
from power_assets.assets.flattened import flattened_step
from power_assets.assets.partitions import all_iso_ids, isos_with_combined, market_day_partitions
from power_assets.assets.raw import raw_csv_step, raw_download_step
from power_assets.assets.runner import run_steps
from power_assets.assets.standardized import raw_parquet_step
from power_assets.assets.steps import Step, StepEnv
from power_assets.assets.warehouse import warehouse_step
from power_assets.io.http import IsoHttpClient
from power_assets.isos import registered_datasets, registered_isos
from power_assets.keys import MARKET_DAY_OP, rollup_op_name
from power_assets.resources import ClockResource, StorageResource

_STAGE_BUILDERS = (
    raw_download_step,
    raw_csv_step,
    raw_parquet_step,
    flattened_step,
    warehouse_step,
)


class MarketDayConfig(dg.Config):
    force_download: bool = False
    """Fetch again even when a complete response for a closed window is already on disk."""


def market_day_steps() -> list[Step]:
    """Every market-day step in an order where each comes after the steps it reads."""
    stages = [build(dataset) for dataset in registered_datasets() for build in _STAGE_BUILDERS]
    return [*stages, *daily_steps()]


def _offered_note(step: Step) -> str:
    """Which ISOs' partitions can hold this asset's data: the others stay empty, never green."""
    if step.dataset is None:
        return ""
    offering = [iso.id for iso in registered_isos() if step.dataset in iso.datasets]
    others = [iso.id for iso in registered_isos() if step.dataset not in iso.datasets]
    if not others:
        return ""
    return (
        f"\n\nPublished by {', '.join(offering)} only: partitions of {', '.join(others)} are "
        "never materialized."
    )


def step_specs(
    steps: list[Step], partitions_def: dg.PartitionsDefinition
) -> tuple[list[dg.AssetSpec], list[dg.AssetCheckSpec]]:
    assets = [
        dg.AssetSpec(
            step.key,
            deps=list(step.deps),
            group_name=step.group,
            description=step.description + _offered_note(step),
            kinds=set(step.kinds) or None,
            partitions_def=partitions_def,
            skippable=True,  # a partition that failed, or cannot hold data, is not materialized
        )
        for step in steps
    ]
    checks = [
        dg.AssetCheckSpec(
            rule.name,
            asset=step.key,
            description=rule.description,
            blocking=rule.blocking,
            partitions_def=partitions_def,
        )
        for step in steps
        for rule in step.rules
    ]
    return assets, checks


def market_day_assets() -> dg.AssetsDefinition:
    steps = market_day_steps()
    specs, checks = step_specs(steps, market_day_partitions(all_iso_ids()))

    @dg.multi_asset(
        name=MARKET_DAY_OP,
        specs=specs,
        check_specs=checks,
        can_subset=True,
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def market_day_stages(
        context: dg.AssetExecutionContext,
        config: MarketDayConfig,
        storage: StorageResource,
        iso_http: IsoHttpClient,
        clock: ClockResource,
        warehouse: DuckDBResource,
    ):
        with storage.partition_leases() as leases:
            env = StepEnv(
                layout=storage.layout(),
                mirror=storage.mirror(),
                leases=leases,
                now=clock.now,
                log=context.log,
                iso_http=iso_http,
                warehouse=warehouse,
                force_download=config.force_download,
            )
            yield from run_steps(context, steps, env)

    return market_day_stages


def rollup_asset(period: Period) -> dg.AssetsDefinition:
    """The monthly (or yearly) files of every combined product, on month (or year) partitions."""
    steps = rollup_steps(period)
    specs, checks = step_specs(steps, period.partitions(isos_with_combined()))

    @dg.multi_asset(
        name=rollup_op_name(period.name),
        specs=specs,
        check_specs=checks or None,
        can_subset=True,
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def rollups(context: dg.AssetExecutionContext, storage: StorageResource, clock: ClockResource):
        with storage.partition_leases() as leases:
            env = StepEnv(
                layout=storage.layout(), mirror=storage.mirror(), leases=leases,
                now=clock.now, log=context.log,
            )  # fmt: skip
            yield from run_steps(context, steps, env)

    return rollups


def rollup_assets() -> list[dg.AssetsDefinition]:
    return [rollup_asset(period) for period in PERIODS]
