"""Stage-4 assets: DA + AS hourly, DA + AS + RT hourly statistics, DA + AS + RT at RT's native
interval (daily), and their monthly and yearly roll-ups on month/year partitions.

Which datasets feed them is each ISO's `combined` declaration in the registry.
"""

import calendar
from datetime import date, timedelta

import dagster as dg
import polars as pl

from power_assets.assets.partitions import (
    SAME_ISO_TIME_WINDOW,
    MarketPartition,
    isos_with_combined,
    market_day_partitions,
    monthly_partitions,
    yearly_partitions,
)
from power_assets.assets.runner import PartitionOutcome, run_partitions
from power_assets.errors import MalformedFileError
from power_assets.io.files import atomic_write_parquet
from power_assets.isos import IsoDefinition, registered_isos
from power_assets.layout import Layout
from power_assets.resources import StorageResource
from power_assets.stages import combine
from power_assets.stages.standardize import read_standardized

PRODUCTS = ("da_as_hourly", "da_as_rt_hourly", "da_as_rt_native")


def _read(path) -> pl.DataFrame:
    if not path.is_file():
        raise MalformedFileError(f"{path}: missing input; materialize the upstream asset first")
    return pl.read_parquet(path)


def _outcome(frame: pl.DataFrame, path) -> PartitionOutcome:
    return PartitionOutcome(
        {
            "rows": frame.height,
            "columns": frame.width,
            "locations": len({c.split("__", 1)[1] for c in frame.columns if "__" in c}),
            "first_interval": frame["interval_start"].min().isoformat() if frame.height else "none",
            "last_interval": frame["interval_start"].max().isoformat() if frame.height else "none",
            "path": str(path),
        }
    )


def _build_product(product: str, layout: Layout, iso: IsoDefinition, day: date) -> pl.DataFrame:
    sources = iso.combined
    if product == "da_as_hourly":
        return combine.da_as_hourly(
            _read(layout.flattened(iso.id, sources.day_ahead, day)),
            _read(layout.flattened(iso.id, sources.ancillary, day)),
        )
    da_as = _read(layout.combined_daily(iso.id, "da_as_hourly", day))
    if product == "da_as_rt_hourly":
        rt_long = read_standardized(layout.raw_parquet(iso.id, sources.real_time, day))
        return combine.da_as_rt_hourly(da_as, combine.rt_hourly_stats(rt_long))
    return combine.da_as_rt_native(da_as, _read(layout.flattened(iso.id, sources.real_time, day)))


def _daily_deps(product: str) -> list[str]:
    isos = registered_isos()
    if product == "da_as_hourly":
        return sorted(
            {f"flattened__{i.combined.day_ahead}" for i in isos}
            | {f"flattened__{i.combined.ancillary}" for i in isos}
        )
    stage = "raw_parquet" if product == "da_as_rt_hourly" else "flattened"
    return ["combined__da_as_hourly", *sorted({f"{stage}__{i.combined.real_time}" for i in isos})]


def build_daily(product: str) -> dg.AssetsDefinition:
    key = f"combined__{product}"

    @dg.asset(
        name=key,
        group_name="combined",
        deps=_daily_deps(product),
        partitions_def=market_day_partitions(isos_with_combined()),
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"polars", "parquet"},
        description=f"Daily {product.replace('_', ' ')} file: columns da__*, as__*, rt*__*.",
    )
    def combined_daily(context: dg.AssetExecutionContext, storage: StorageResource):
        layout = storage.layout()

        def work(iso: IsoDefinition, partition: MarketPartition) -> PartitionOutcome:
            frame = _build_product(product, layout, iso, partition.day)
            path = layout.combined_daily(iso.id, product, partition.day)
            atomic_write_parquet(path, frame)
            return _outcome(frame, path)

        yield from run_partitions(context, key, work)

    return combined_daily


def _days_of_month(first: date) -> list[date]:
    return [
        first + timedelta(days=i) for i in range(calendar.monthrange(first.year, first.month)[1])
    ]


def build_monthly(product: str) -> dg.AssetsDefinition:
    key = f"combined_monthly__{product}"

    @dg.asset(
        name=key,
        group_name="combined",
        deps=[dg.AssetDep(f"combined__{product}", partition_mapping=SAME_ISO_TIME_WINDOW)],
        partitions_def=monthly_partitions(isos_with_combined()),
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"polars", "parquet"},
        description=f"Monthly {product.replace('_', ' ')} file, streamed from the daily files.",
    )
    def combined_monthly(context: dg.AssetExecutionContext, storage: StorageResource):
        layout = storage.layout()

        def work(iso: IsoDefinition, partition: MarketPartition) -> PartitionOutcome:
            days = _days_of_month(partition.day)
            present = [d for d in days if layout.combined_daily(iso.id, product, d).is_file()]
            missing = [d.isoformat() for d in days if d not in present]
            if not present:
                raise MalformedFileError(
                    f"{layout.combined_daily(iso.id, product, partition.day).parent}: no daily "
                    f"files for {partition.day:%Y-%m}; materialize combined__{product} first"
                )
            if missing:
                context.log.warning(f"{iso.id} {product} {partition.day:%Y-%m}: missing {missing}")
            target = layout.combined_monthly(iso.id, product, partition.day)
            stats = combine.roll_up(
                [layout.combined_daily(iso.id, product, d) for d in present], target
            )
            return PartitionOutcome(
                {**stats, "days": len(present), "missing_days": len(missing),
                 "missing_day_list": ", ".join(missing) or "none", "path": str(target)}
            )  # fmt: skip

        yield from run_partitions(context, key, work)

    return combined_monthly


def build_yearly(product: str) -> dg.AssetsDefinition:
    key = f"combined_yearly__{product}"

    @dg.asset(
        name=key,
        group_name="combined",
        deps=[dg.AssetDep(f"combined_monthly__{product}", partition_mapping=SAME_ISO_TIME_WINDOW)],
        partitions_def=yearly_partitions(isos_with_combined()),
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"polars", "parquet"},
        description=f"Yearly {product.replace('_', ' ')} file, streamed from the monthly files.",
    )
    def combined_yearly(context: dg.AssetExecutionContext, storage: StorageResource):
        layout = storage.layout()

        def work(iso: IsoDefinition, partition: MarketPartition) -> PartitionOutcome:
            months = [date(partition.day.year, m, 1) for m in range(1, 13)]
            present = [m for m in months if layout.combined_monthly(iso.id, product, m).is_file()]
            if not present:
                raise MalformedFileError(
                    f"{iso.id} {product} {partition.day.year}: no monthly files; "
                    f"materialize combined_monthly__{product} first"
                )
            target = layout.combined_yearly(iso.id, product, partition.day.year)
            sources = [layout.combined_monthly(iso.id, product, m) for m in present]
            stats = combine.roll_up(sources, target)
            return PartitionOutcome({**stats, "months": len(present), "path": str(target)})

        yield from run_partitions(context, key, work)

    return combined_yearly


def combined_assets() -> list[dg.AssetsDefinition]:
    daily = [build_daily(p) for p in PRODUCTS]
    monthly = [build_monthly(p) for p in PRODUCTS]
    yearly = [build_yearly(p) for p in PRODUCTS]
    return [*daily, *monthly, *yearly]
