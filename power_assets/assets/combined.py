"""Stage-4 assets: DA + AS hourly, DA + AS + RT hourly statistics, DA + AS + RT at RT's native
interval (daily), and their monthly and yearly roll-ups on month/year partitions.

Which datasets feed them is each ISO's `combined` declaration in the registry.
"""

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

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
from power_assets.assets.runner import PartitionOutcome, run_partitions, stage_asset
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


def _ancillary(layout: Layout, iso: IsoDefinition, day: date, log) -> pl.DataFrame | None:
    """The ISO's AS prices as an hourly wide table, or None when it offers or allows none here."""
    dataset = iso.combined.ancillary
    if dataset is None:
        return None
    reason = iso.unavailable_reason(dataset)
    if reason:
        log(f"{iso.id} {day}: combined files without AS prices: {reason}")
        return None
    wide = _read(layout.flattened(iso.id, dataset, day))
    if iso.dataset(dataset).interval < timedelta(hours=1):
        wide = combine.hourly_mean(wide)
    return wide


def _build_product(
    product: str, layout: Layout, iso: IsoDefinition, day: date, log
) -> pl.DataFrame:
    sources = iso.combined
    if product == "da_as_hourly":
        return combine.da_as_hourly(
            _read(layout.flattened(iso.id, sources.day_ahead, day)),
            _ancillary(layout, iso, day, log),
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
            | {f"flattened__{i.combined.ancillary}" for i in isos if i.combined.ancillary}
        )
    stage = "raw_parquet" if product == "da_as_rt_hourly" else "flattened"
    return ["combined__da_as_hourly", *sorted({f"{stage}__{i.combined.real_time}" for i in isos})]


def build_daily(product: str) -> dg.AssetsDefinition:
    key = f"combined__{product}"

    @stage_asset(
        key,
        group="combined",
        deps=_daily_deps(product),
        partitions_def=market_day_partitions(isos_with_combined()),
        kinds={"polars", "parquet"},
        description=f"Daily {product.replace('_', ' ')} file: columns da__*, as__*, rt*__*.",
    )
    def combined_daily(context: dg.AssetExecutionContext, storage: StorageResource):
        layout = storage.layout()

        def work(iso: IsoDefinition, partition: MarketPartition) -> PartitionOutcome:
            frame = _build_product(product, layout, iso, partition.day, context.log.warning)
            path = layout.combined_daily(iso.id, product, partition.day)
            atomic_write_parquet(path, frame)
            return _outcome(frame, path)

        yield from run_partitions(context, key, work)

    return combined_daily


@dataclass(frozen=True)
class Period:
    """A roll-up period: its partitions, the asset it reads, its members and their files."""

    name: str  # "monthly" or "yearly"
    partitions: Callable[[list[str]], dg.PartitionsDefinition]
    source_prefix: str
    members: Callable[[date], list[date]]
    source_path: Callable[[Layout, str, str, date], Path]
    target_path: Callable[[Layout, str, str, date], Path]


def _days_of_month(first: date) -> list[date]:
    days = calendar.monthrange(first.year, first.month)[1]
    return [first + timedelta(days=i) for i in range(days)]


PERIODS = (
    Period(
        "monthly",
        monthly_partitions,
        "combined",
        _days_of_month,
        lambda layout, iso, product, day: layout.combined_daily(iso, product, day),
        lambda layout, iso, product, first: layout.combined_monthly(iso, product, first),
    ),
    Period(
        "yearly",
        yearly_partitions,
        "combined_monthly",
        lambda first: [date(first.year, month, 1) for month in range(1, 13)],
        lambda layout, iso, product, month: layout.combined_monthly(iso, product, month),
        lambda layout, iso, product, first: layout.combined_yearly(iso, product, first.year),
    ),
)


def build_rollup(product: str, period: Period) -> dg.AssetsDefinition:
    key = f"combined_{period.name}__{product}"
    source = f"{period.source_prefix}__{product}"

    @stage_asset(
        key,
        group="combined",
        deps=[dg.AssetDep(source, partition_mapping=SAME_ISO_TIME_WINDOW)],
        partitions_def=period.partitions(isos_with_combined()),
        kinds={"polars", "parquet"},
        description=f"{period.name.capitalize()} {product.replace('_', ' ')} file, streamed "
        f"from {source} without holding the period in memory.",
    )
    def rollup(context: dg.AssetExecutionContext, storage: StorageResource):
        layout = storage.layout()

        def work(iso: IsoDefinition, partition: MarketPartition) -> PartitionOutcome:
            members = period.members(partition.day)
            present = [
                m for m in members if period.source_path(layout, iso.id, product, m).is_file()
            ]
            missing = [m.isoformat() for m in members if m not in present]
            if not present:
                raise MalformedFileError(
                    f"{iso.id} {key} {partition.day}: none of its {len(members)} {source} "
                    f"files exist; materialize {source} first"
                )
            if missing:
                context.log.warning(
                    f"{iso.id} {key} {partition.day}: {len(missing)} of {len(members)} inputs "
                    f"missing (first: {missing[0]}); rolled up the {len(present)} present"
                )
            target = period.target_path(layout, iso.id, product, partition.day)
            sources = [period.source_path(layout, iso.id, product, m) for m in present]
            stats = combine.roll_up(sources, target)
            return PartitionOutcome(
                {
                    **stats,
                    "inputs_present": len(present),
                    "inputs_missing": len(missing),
                    "missing_inputs": ", ".join(missing) or "none",
                    "path": str(target),
                }
            )

        yield from run_partitions(context, key, work)

    return rollup


def combined_assets() -> list[dg.AssetsDefinition]:
    daily = [build_daily(p) for p in PRODUCTS]
    return [*daily, *(build_rollup(p, period) for period in PERIODS for p in PRODUCTS)]
