"""Stage-3 assets: `flattened__{dataset}`, one column per location on the market day's full grid,
with checks that no standardized value was lost and that long gaps are visible.
"""

import dagster as dg

from power_assets.assets.partitions import MarketPartition, all_iso_ids, market_day_partitions
from power_assets.assets.runner import CheckRule, PartitionOutcome, run_partitions, stage_asset
from power_assets.io.files import atomic_write_parquet
from power_assets.isos import IsoDefinition, registered_datasets
from power_assets.market_time import hours_in_market_day
from power_assets.resources import ClockResource, StorageResource
from power_assets.stages.flatten import flatten, market_day_grid
from power_assets.stages.standardize import read_standardized

RULES = [
    CheckRule(
        "no_rows_lost",
        "Every non-null standardized value lands in exactly one cell of the wide table.",
        True,
    ),
    CheckRule(
        "grid_complete",
        "One row per interval of the market day (23/24/25 hours) and no cell left null after "
        "filling gaps shorter than one hour.",
        False,
        dg.AssetCheckSeverity.WARN,
    ),
]


def build_flattened(dataset_id: str) -> dg.AssetsDefinition:
    key = f"flattened__{dataset_id}"

    @stage_asset(
        key,
        group="flattened",
        deps=[f"raw_parquet__{dataset_id}"],
        partitions_def=market_day_partitions(all_iso_ids()),
        rules=RULES,
        kinds={"polars", "parquet"},
        description=f"{dataset_id} with one column per location at its native interval; gaps "
        "under one hour forward-filled, longer ones left null.",
    )
    def flattened(
        context: dg.AssetExecutionContext, storage: StorageResource, clock: ClockResource
    ):
        layout = storage.layout()

        def work(iso: IsoDefinition, partition: MarketPartition) -> PartitionOutcome:
            spec = iso.dataset(dataset_id)
            long = read_standardized(layout.raw_parquet(iso.id, dataset_id, partition.day))
            through = None
            if clock.now() < iso.market_day_bounds(partition.day)[1] and long.height:
                through = long["interval_start"].max()  # a day in progress: up to its frontier
            wide, report = flatten(long, spec, iso.timezone, partition.day, through)
            path = layout.flattened(iso.id, dataset_id, partition.day)
            atomic_write_parquet(path, wide)
            expected_rows = (
                hours_in_market_day(iso.timezone, partition.day) * spec.intervals_per_hour
                if through is None
                else market_day_grid(iso.timezone, partition.day, spec.interval, through).height
            )
            grid_problems = report.null_cells + abs(expected_rows - wide.height)
            return PartitionOutcome(
                {
                    **report.metadata(),
                    "expected_rows": expected_rows,
                    "first_interval": wide["interval_start"].min().isoformat() if wide.height else "none",
                    "last_interval": wide["interval_start"].max().isoformat() if wide.height else "none",
                    "path": str(path),
                },
                {
                    "no_rows_lost": (
                        report.rows_lost,
                        {"source_values": report.source_rows_with_value,
                         "observed_cells": report.observed_cells},
                    ),
                    "grid_complete": (
                        grid_problems,
                        {"rows": wide.height, "expected_rows": expected_rows,
                         "null_cells": report.null_cells},
                    ),
                },
            )  # fmt: skip

        yield from run_partitions(context, key, work, RULES, dataset_id=dataset_id)

    return flattened


def flattened_assets() -> list[dg.AssetsDefinition]:
    return [build_flattened(dataset_id) for dataset_id in registered_datasets()]
