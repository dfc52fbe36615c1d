"""Stage-2 assets: `raw_parquet__{dataset}`, the validated standardized long table per market day,
with its checks (duplicate keys and absurd prices block downstream; interval gaps warn).
"""

from datetime import datetime

import dagster as dg
import polars as pl

from power_assets import quality
from power_assets.assets.partitions import MarketPartition, all_iso_ids, market_day_partitions
from power_assets.assets.runner import CheckRule, PartitionOutcome, run_partitions, stage_asset
from power_assets.isos import IsoDefinition, registered_datasets
from power_assets.kinds import kind_spec
from power_assets.resources import ClockResource, StorageResource
from power_assets.stages.standardize import standardize_day, write_standardized

MAX_LISTED = 50  # keep check metadata readable: list at most this many offenders

RULES = [
    CheckRule(
        "no_duplicate_keys", "One row per key, e.g. (iso, market, location, interval_start).", True
    ),
    CheckRule(
        "values_within_bounds",
        "Every price component (or MW value) is finite and inside the ISO's bounds table for "
        "that dataset kind and year.",
        True,
    ),
    CheckRule(
        "no_interval_gaps",
        "Every location has every interval of the market day (23/24/25 h) and none off the grid.",
        False,
        dg.AssetCheckSeverity.WARN,
    ),
]


def findings_for(
    frame: pl.DataFrame,
    iso: IsoDefinition,
    dataset_id: str,
    partition: MarketPartition,
    now: datetime | None = None,
) -> dict[str, tuple[int, object]]:
    """What each check finds in one partition. For a day still in progress at `now`, the gap check
    looks only up to the latest interval present: later ones are not published yet, not missing."""
    spec = iso.dataset(dataset_id)
    kind = kind_spec(spec.kind)
    duplicates = quality.duplicate_keys(frame, kind.key)
    bound = iso.value_bound(spec.kind, partition.day.year)
    columns = kind.bounded
    outside = quality.out_of_bounds(frame, columns, bound)
    by = kind.location
    # Per series (e.g. each AS product of a region), so one product's missing hour is seen.
    series = frame.with_columns(kind.series_name().alias("series"))
    through = None
    if now is not None and now < iso.market_day_bounds(partition.day)[1] and not frame.is_empty():
        through = frame["interval_start"].max()
    gaps = quality.interval_gaps(
        series, "series", iso.timezone, partition.day, spec.interval, through
    )
    gaps = gaps.filter((pl.col("missing").list.len() > 0) | (pl.col("off_grid").list.len() > 0))
    return {
        "no_duplicate_keys": (duplicates.height, duplicates.head(MAX_LISTED).to_dicts()),
        "values_within_bounds": (
            outside.height,
            {
                "bounds": [bound.minimum, bound.maximum],
                "reason": bound.reason,
                "rows": outside.select("interval_start", by, *columns).head(MAX_LISTED).to_dicts(),
            },
        ),
        "no_interval_gaps": (
            int(
                gaps.select(
                    pl.col("missing").list.len().sum() + pl.col("off_grid").list.len().sum()
                ).item()
                or 0
            ),
            {
                row["series"]: {"missing": row["missing"][:24], "off_grid": row["off_grid"][:24]}
                for row in gaps.head(MAX_LISTED).iter_rows(named=True)
            },
        ),
    }


def build_raw_parquet(dataset_id: str) -> dg.AssetsDefinition:
    key = f"raw_parquet__{dataset_id}"

    @stage_asset(
        key,
        group="standardized",
        deps=[f"raw_csv__{dataset_id}"],
        partitions_def=market_day_partitions(all_iso_ids()),
        rules=RULES,
        kinds={"polars", "parquet"},
        description=f"{dataset_id} as a standardized long table (UTC instants), validated by its "
        "pandera model; data/{ISO}/raw_parquet/{dataset}/{date}.parquet.",
    )
    def raw_parquet(
        context: dg.AssetExecutionContext, storage: StorageResource, clock: ClockResource
    ):
        layout = storage.layout()

        def work(iso: IsoDefinition, partition: MarketPartition) -> PartitionOutcome:
            frame, report = standardize_day(iso, dataset_id, partition.day, layout)
            path = layout.raw_parquet(iso.id, dataset_id, partition.day)
            write_standardized(frame, path)
            return PartitionOutcome(
                {**report.metadata(), "path": str(path)},
                findings_for(frame, iso, dataset_id, partition, clock.now()),
            )

        yield from run_partitions(context, key, work, RULES, dataset_id=dataset_id)

    return raw_parquet


def standardized_assets() -> list[dg.AssetsDefinition]:
    return [build_raw_parquet(dataset_id) for dataset_id in registered_datasets()]
