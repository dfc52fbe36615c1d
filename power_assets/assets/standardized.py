"""Stage-2 steps: `raw_parquet/{dataset}`, the validated standardized long table per market day,
with its checks (duplicate keys and absurd prices block downstream; interval gaps warn).

The table is checked before it is written: a day that fails a blocking check never replaces the
file readers see; it is kept under `_rejected/` beside it for inspection.
"""

from datetime import datetime

import dagster as dg
import polars as pl

from power_assets import quality
from power_assets.assets import day_chart, pages
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
from power_assets.kinds import kind_spec
from power_assets.stages.standardize import standardize_day

LISTED = 20  # offending rows kept per finding; the count is always complete
MISSING_SHOWN = 6  # missing instants listed per series

RULES = (
    CheckRule(
        "no_duplicate_keys", "One row per key, e.g. (iso, market, location, interval_start).", True
    ),
    CheckRule(
        "values_within_bounds",
        "Every price component (or MW value) is finite and inside the ISO's bounds table for "
        "that dataset kind and year, and no price is empty.",
        True,
    ),
    CheckRule(
        "no_missing_values",
        "No value the ISO published as empty, where an empty value is kept (LMP components, MW "
        "quantities): such values stay null and are counted here.",
        False,
        dg.AssetCheckSeverity.WARN,
    ),
    CheckRule(
        "no_interval_gaps",
        "Every location has every interval of the market day (23/24/25 h) and none off the grid.",
        False,
        dg.AssetCheckSeverity.WARN,
    ),
)


def _instants(values: list[datetime]) -> str:
    shown = ", ".join(v.isoformat() for v in values[:MISSING_SHOWN])
    return shown + (
        f" (+{len(values) - MISSING_SHOWN} more)" if len(values) > MISSING_SHOWN else ""
    )


def findings_for(
    frame: pl.DataFrame,
    iso: IsoDefinition,
    dataset_id: str,
    partition: MarketPartition,
    now: datetime | None = None,
) -> dict[str, Finding]:
    """What each check finds in one partition. For a day still in progress at `now`, the gap check
    looks only up to the latest interval present: later ones are not published yet, not missing."""
    spec = iso.dataset_on(dataset_id, partition.day)
    kind = kind_spec(spec.kind)
    duplicates = quality.duplicate_keys(frame, kind.key)
    bound = iso.value_bound(spec.kind, partition.day.year)
    columns = kind.bounded
    required = [kind.value] if kind.value_required else []
    outside = quality.out_of_bounds(frame, columns, bound, required)
    empty = sum(outside[c].null_count() for c in required)
    optional = [c for c in columns if c not in required]
    missing, missing_by_column = quality.missing_values(frame, optional, kind.value)
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
    gap_count = int(
        gaps.select(pl.col("missing").list.len().sum() + pl.col("off_grid").list.len().sum()).item()
        or 0
    )
    bounds_text = f"[{bound.minimum:g}, {bound.maximum:g}]"
    return {
        "no_duplicate_keys": Finding(
            duplicates.height,
            f"{duplicates.height} key(s) occur more than once"
            if duplicates.height
            else "every key occurs once",
            duplicates.head(LISTED).to_dicts(),
        ),
        "values_within_bounds": Finding(
            outside.height,
            (
                f"{outside.height} row(s) outside {bounds_text}, not finite or with an empty "
                f"{kind.value} ({empty} empty)"
                if outside.height
                else f"every value finite and inside {bounds_text}"
            )
            + f" ({bound.reason})",
            outside.select("interval_start", by, *columns).head(LISTED).to_dicts(),
            {
                "bound_min": bound.minimum,
                "bound_max": bound.maximum,
                "bound_reason": bound.reason,
                "empty_values": empty,
            },
        ),
        "no_missing_values": Finding(
            missing.height,
            (
                f"{missing.height} row(s) with a value published empty, kept as null: "
                + ", ".join(f"{c} {n}" for c, n in missing_by_column.items())
            )
            if missing.height
            else "no value published empty",
            missing.select("interval_start", by, *optional).head(LISTED).to_dicts(),
            {f"empty_{c}": n for c, n in missing_by_column.items()},
        ),
        "no_interval_gaps": Finding(
            gap_count,
            f"{gap_count} interval(s) missing or off the grid in {gaps.height} series"
            if gap_count
            else "every series has every interval" + (" published so far" if through else ""),
            [
                {
                    "series": row["series"],
                    "missing": len(row["missing"]),
                    "first missing": _instants(row["missing"]),
                    "off grid": _instants(row["off_grid"]),
                }
                for row in gaps.head(LISTED).iter_rows(named=True)
            ],
        ),
    }


def raw_parquet_step(dataset_id: str) -> Step:
    def work(env: StepEnv, iso: IsoDefinition, partition: MarketPartition) -> StepOutcome:
        frame, report = standardize_day(iso, dataset_id, partition.day, env.layout)
        path = env.layout.raw_parquet(iso.id, dataset_id, partition.day)
        kind = iso.dataset_on(dataset_id, partition.day).kind
        return StepOutcome(
            {
                **report.metadata(),
                "path": str(path),
                **pages.standardized_page(frame, iso, kind, partition.day),
                **day_chart.day_chart_metadata(frame, kind, iso.timezone, partition.day),
            },
            findings_for(frame, iso, dataset_id, partition, env.now()),
            **published_once_checked(frame, path, env.layout.rejected(path)),
        )

    return dataset_stage(
        "raw_parquet",
        dataset_id,
        reads="raw_csv",
        description=f"{dataset_id} as a standardized long table (UTC instants), validated by its "
        "pandera model; data/{ISO}/raw_parquet/{dataset}/{date}.parquet.",
        work=work,
        rules=RULES,
        kinds=frozenset({"polars", "parquet"}),
    )


def standardized_steps() -> list[Step]:
    return [raw_parquet_step(dataset_id) for dataset_id in registered_datasets()]
