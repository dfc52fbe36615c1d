"""Stage-4 steps: DA + AS hourly, DA + AS + RT hourly statistics, DA + AS + RT at RT's native
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

from power_assets.assets import pages
from power_assets.assets.partitions import (
    SAME_ISO_TIME_WINDOW,
    monthly_partitions,
    yearly_partitions,
)
from power_assets.assets.steps import Step, StepEnv, StepOutcome
from power_assets.errors import MalformedFileError
from power_assets.io.files import atomic_write_parquet
from power_assets.isos import IsoDefinition, registered_isos
from power_assets.keys import (
    COMBINED_PRODUCTS,
    MarketPartition,
    combined_key,
    rollup_key,
    stage_key,
)
from power_assets.layout import Layout
from power_assets.stages import combine
from power_assets.stages.standardize import read_standardized


def _read(path) -> pl.DataFrame:
    if not path.is_file():
        raise MalformedFileError(f"{path}: missing input; materialize the upstream asset first")
    return pl.read_parquet(path)


def _outcome(frame: pl.DataFrame, path) -> StepOutcome:
    return StepOutcome(
        {
            "rows": frame.height,
            "columns": frame.width,
            "locations": len({c.split("__", 1)[1] for c in frame.columns if "__" in c}),
            "first_interval": frame["interval_start"].min().isoformat() if frame.height else "none",
            "last_interval": frame["interval_start"].max().isoformat() if frame.height else "none",
            "path": str(path),
            **pages.combined_page(frame),
        }
    )


def _ancillary(layout: Layout, iso: IsoDefinition, day: date, env: StepEnv) -> pl.DataFrame | None:
    """The ISO's AS prices as an hourly wide table, or None when it offers or allows none here."""
    dataset = iso.combined.ancillary
    if dataset is None:
        return None
    reason = env.skip_reason(iso, dataset, day)
    if reason:
        env.log.warning(f"{iso.id} {day}: combined files without AS prices: {reason}")
        return None
    wide = _read(layout.flattened(iso.id, dataset, day))
    if iso.dataset_on(dataset, day).interval < timedelta(hours=1):
        wide = combine.hourly_mean(wide)
    return wide


def _build_product(
    product: str, layout: Layout, iso: IsoDefinition, day: date, env: StepEnv
) -> pl.DataFrame:
    sources = iso.combined
    if product == "da_as_hourly":
        return combine.da_as_hourly(
            _read(layout.flattened(iso.id, sources.day_ahead, day)),
            _ancillary(layout, iso, day, env),
        )
    da_as = _read(layout.combined_daily(iso.id, "da_as_hourly", day))
    if product == "da_as_rt_hourly":
        rt_long = read_standardized(layout.raw_parquet(iso.id, sources.real_time, day))
        return combine.da_as_rt_hourly(da_as, combine.rt_hourly_stats(rt_long))
    return combine.da_as_rt_native(da_as, _read(layout.flattened(iso.id, sources.real_time, day)))


def _daily_upstream(product: str, iso: IsoDefinition) -> tuple[dg.AssetKey, ...]:
    """The assets whose partition of the same ISO and day a combined product reads."""
    sources = iso.combined
    if product == "da_as_hourly":
        datasets = [sources.day_ahead, *([sources.ancillary] if sources.ancillary else [])]
        return tuple(stage_key("flattened", d) for d in datasets)
    stage = "raw_parquet" if product == "da_as_rt_hourly" else "flattened"
    return (combined_key("da_as_hourly"), stage_key(stage, sources.real_time))


def daily_step(product: str) -> Step:
    deps = sorted(
        {key for iso in registered_isos() for key in _daily_upstream(product, iso)},
        key=lambda key: key.path,
    )

    def work(env: StepEnv, iso: IsoDefinition, partition: MarketPartition) -> StepOutcome:
        frame = _build_product(product, env.layout, iso, partition.day, env)
        path = env.layout.combined_daily(iso.id, product, partition.day)
        atomic_write_parquet(path, frame)
        return _outcome(frame, path)

    return Step(
        key=combined_key(product),
        description=f"Daily {product.replace('_', ' ')} file: columns da__*, as__*, rt*__*.",
        work=work,
        deps=tuple(deps),
        upstream=lambda iso: _daily_upstream(product, iso),
        writes=lambda layout, iso, partition: (
            layout.combined_daily(iso.id, product, partition.day),
        ),
        # Without AS prices the files are built without as__ columns (see `_ancillary`).
        optional_upstream=lambda iso: (
            (stage_key("flattened", iso.combined.ancillary),) if iso.combined.ancillary else ()
        ),
        kinds=frozenset({"polars", "parquet"}),
    )


@dataclass(frozen=True)
class Period:
    """A roll-up period: its partitions, the asset it reads, its members and their files."""

    name: str  # "monthly" or "yearly"
    partitions: Callable[[list[str]], dg.PartitionsDefinition]
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
        _days_of_month,
        lambda layout, iso, product, day: layout.combined_daily(iso, product, day),
        lambda layout, iso, product, first: layout.combined_monthly(iso, product, first),
    ),
    Period(
        "yearly",
        yearly_partitions,
        lambda first: [date(first.year, month, 1) for month in range(1, 13)],
        lambda layout, iso, product, month: layout.combined_monthly(iso, product, month),
        lambda layout, iso, product, first: layout.combined_yearly(iso, product, first.year),
    ),
)


def rollup_step(product: str, period: Period) -> Step:
    key = rollup_key(period.name, product)
    source = combined_key(product) if period.name == "monthly" else rollup_key("monthly", product)
    name = key.to_user_string()

    def work(env: StepEnv, iso: IsoDefinition, partition: MarketPartition) -> StepOutcome:
        layout = env.layout
        members = period.members(partition.day)
        present = [m for m in members if period.source_path(layout, iso.id, product, m).is_file()]
        missing = [m.isoformat() for m in members if m not in present]
        if not present:
            raise MalformedFileError(
                f"{iso.id} {name} {partition.day}: none of its {len(members)} "
                f"{source.to_user_string()} files exist; materialize them first"
            )
        if missing:
            env.log.warning(
                f"{iso.id} {name} {partition.day}: {len(missing)} of {len(members)} inputs "
                f"missing (first: {missing[0]}); rolled up the {len(present)} present"
            )
        target = period.target_path(layout, iso.id, product, partition.day)
        sources = [period.source_path(layout, iso.id, product, m) for m in present]
        stats = combine.roll_up(sources, target)
        return StepOutcome(
            {
                **stats,
                "inputs_present": len(present),
                "inputs_missing": len(missing),
                "missing_inputs": ", ".join(missing) or "none",
                "path": str(target),
            }
        )

    return Step(
        key=key,
        description=f"{period.name.capitalize()} {product.replace('_', ' ')} file, streamed "
        f"from {source.to_user_string()} without holding the period in memory.",
        work=work,
        deps=(dg.AssetDep(source, partition_mapping=SAME_ISO_TIME_WINDOW),),
        writes=lambda layout, iso, partition: (
            period.target_path(layout, iso.id, product, partition.day),
        ),
        reads=lambda layout, iso, partition: tuple(
            period.source_path(layout, iso.id, product, member)
            for member in period.members(partition.day)
        ),
        kinds=frozenset({"polars", "parquet"}),
    )


def daily_steps() -> list[Step]:
    return [daily_step(product) for product in COMBINED_PRODUCTS]


def rollup_steps(period: Period) -> list[Step]:
    return [rollup_step(product, period) for product in COMBINED_PRODUCTS]
