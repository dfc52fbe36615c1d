"""Stage-3 steps: `flattened/{dataset}`, one column per location on the market day's full grid,
with checks that no standardized value was lost (blocking) and that long gaps are visible.
"""

import dagster as dg

from power_assets.assets import pages
from power_assets.assets.steps import (
    CheckRule,
    Finding,
    Step,
    StepEnv,
    StepOutcome,
    dataset_stage,
    published_once_checked,
)
from power_assets.isos import IsoDefinition, registered_datasets
from power_assets.keys import MarketPartition
from power_assets.market_time import hours_in_market_day
from power_assets.stages.flatten import flatten, market_day_grid
from power_assets.stages.standardize import read_standardized

RULES = (
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
)


def flattened_step(dataset_id: str) -> Step:
    def work(env: StepEnv, iso: IsoDefinition, partition: MarketPartition) -> StepOutcome:
        spec = iso.dataset_on(dataset_id, partition.day)
        long = read_standardized(env.layout.raw_parquet(iso.id, dataset_id, partition.day))
        through = None
        if env.now() < iso.market_day_bounds(partition.day)[1] and long.height:
            through = long["interval_start"].max()  # a day in progress: up to its frontier
        wide, report = flatten(long, spec, iso.timezone, partition.day, through)
        path = env.layout.flattened(iso.id, dataset_id, partition.day)
        expected_rows = (
            hours_in_market_day(iso.timezone, partition.day) * spec.intervals_per_hour
            if through is None
            else market_day_grid(iso.timezone, partition.day, spec.interval, through).height
        )
        missing_rows = abs(expected_rows - wide.height)

        lost = report.rows_lost
        return StepOutcome(
            {
                **report.metadata(),
                "expected_rows": expected_rows,
                "first_interval": wide["interval_start"].min().isoformat() if wide.height else "none",
                "last_interval": wide["interval_start"].max().isoformat() if wide.height else "none",
                "path": str(path),
                **pages.flattened_page(wide, spec.kind),
            },
            {
                "no_rows_lost": Finding(
                    lost,
                    f"{lost} of {report.source_rows_with_value} standardized values did not land "
                    "in a cell" if lost else
                    f"all {report.source_rows_with_value} standardized values are in the table",
                    figures={"source_values": report.source_rows_with_value,
                             "observed_cells": report.observed_cells},
                ),
                "grid_complete": Finding(
                    report.null_cells + missing_rows,
                    f"{wide.height} of {expected_rows} rows; {report.null_cells} cell(s) still "
                    "null after filling gaps under one hour",
                    figures={"rows": wide.height, "expected_rows": expected_rows,
                             "null_cells": report.null_cells},
                ),
            },
            **published_once_checked(wide, path, env.layout.rejected(path)),
        )  # fmt: skip

    return dataset_stage(
        "flattened",
        dataset_id,
        reads="raw_parquet",
        description=f"{dataset_id} with one column per location at its native interval; gaps "
        "under one hour forward-filled, longer ones left null.",
        work=work,
        rules=RULES,
        kinds=frozenset({"polars", "parquet"}),
    )


def flattened_steps() -> list[Step]:
    return [flattened_step(dataset_id) for dataset_id in registered_datasets()]
