"""`power-assets status [ISO]`: what is stored, what is missing, what failed its checks.

What belongs here: gathering the three tables the status reports are made of.

- datasets: per ISO, dataset and market, the stored date range, days, rows and locations (the
  warehouse's `catalog` view, DuckDB or PostgreSQL, through `open_warehouse()`), with the count of
  missing days and of days with a failed check;
- gaps: every market day between a dataset's first and last stored day that has no rows;
- checks: per (asset check, partition) whose latest evaluation in the Dagster instance did not
  pass (a gap in the intervals, a value out of bounds, ...), with the check's own one-line verdict.

Printing and writing them is `reports.py`'s.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    import dagster as dg

# An evaluation that found problems, or a check that could not run at all.
NOT_PASSED = ("FAILED", "EXECUTION_FAILED")
HISTORY_PAGE = 1000

GAP_SCHEMA = {"iso": pl.String, "dataset": pl.String, "market_date": pl.Date}
CHECK_SCHEMA = {
    "partition": pl.String, "iso": pl.String, "market_date": pl.Date, "dataset": pl.String,
    "asset": pl.String, "check": pl.String, "status": pl.String, "description": pl.String,
}  # fmt: skip


# The catalog view's columns the status keeps (its schema, for when nothing is stored yet).
CATALOG_SCHEMA = {
    "iso": pl.String, "dataset": pl.String, "market": pl.String, "first_date": pl.Date,
    "last_date": pl.Date, "days": pl.Int64, "rows": pl.Int64, "locations": pl.Int64,
    "first_interval": pl.Datetime("us", "UTC"), "last_interval_end": pl.Datetime("us", "UTC"),
    "table_name": pl.String,
}  # fmt: skip


@dataclass(frozen=True)
class Status:
    datasets: pl.DataFrame
    gaps: pl.DataFrame
    checks: pl.DataFrame
    notes: tuple[str, ...] = ()


def stored(isos: tuple[str, ...]) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """The catalog rows of `isos` and every (iso, dataset, market_date) stored; an empty pair and
    a note when there is no warehouse yet."""
    from power_assets import open_warehouse
    from power_assets.errors import PowerAssetsError

    try:
        with open_warehouse(for_what="power-assets status") as con:
            catalog = con.sql("SELECT * FROM catalog").pl()
            catalog = catalog.filter(pl.col("iso").is_in(isos))
            frames = [
                con.sql(f'SELECT DISTINCT iso, dataset, market_date FROM "{table}"').pl()
                for table in sorted(set(catalog["table_name"].to_list()))
            ]
    except PowerAssetsError as exc:
        return pl.DataFrame(), pl.DataFrame(schema=GAP_SCHEMA), [str(exc)]
    days = pl.concat(frames) if frames else pl.DataFrame(schema=GAP_SCHEMA)
    days = days.cast(GAP_SCHEMA).filter(pl.col("iso").is_in(isos)).unique()
    return catalog, days, []


def gaps(days: pl.DataFrame) -> pl.DataFrame:
    """Every day between each (iso, dataset)'s first and last stored day that has no rows."""
    missing = []
    for (iso, dataset), group in days.group_by(["iso", "dataset"]):
        have = set(group["market_date"].to_list())
        first, last = min(have), max(have)
        missing += [
            (iso, dataset, first + timedelta(days=k))
            for k in range((last - first).days + 1)
            if first + timedelta(days=k) not in have
        ]
    return pl.DataFrame(missing, schema=GAP_SCHEMA, orient="row").sort(
        ["iso", "dataset", "market_date"]
    )


def _asset_datasets() -> dict["dg.AssetKey", str]:
    """Which dataset (or combined product) each market-day asset holds."""
    from power_assets.isos import DATASET_IDS
    from power_assets.keys import COMBINED_PRODUCTS, STAGES, combined_key, stage_key

    owners = {stage_key(stage, ds): ds for ds in DATASET_IDS for stage in STAGES}
    owners.update({combined_key(product): product for product in COMBINED_PRODUCTS})
    return owners


def failed_checks(instance: "dg.DagsterInstance", isos: tuple[str, ...]) -> pl.DataFrame:
    """Per (check, partition) of `isos`, the latest evaluation when it did not pass.

    The partition view of the UI reads the same thing: `get_asset_check_partition_info` gives each
    partition's latest status (one indexed query for every check); the verdicts of the failed ones
    are then read from each check's history, newest first, only as far back as needed.
    """
    from power_assets.assets.market_day import market_day_assets
    from power_assets.keys import PartitionKeyError, parse_partition_key

    storage = instance.event_log_storage
    check_keys = sorted(market_day_assets().check_keys, key=lambda k: k.to_user_string())
    owners = _asset_datasets()
    wanted: dict[dg.AssetCheckKey, dict[str, tuple]] = defaultdict(dict)
    statuses = set()
    for info in storage.get_asset_check_partition_info(check_keys):
        if info.partition_key is None or info.latest_execution_status.value not in NOT_PASSED:
            continue
        try:
            partition = parse_partition_key(info.partition_key)
        except PartitionKeyError:
            continue
        if partition.iso in isos:
            wanted[info.check_key][info.partition_key] = (partition.iso, partition.day)
            statuses.add(info.latest_execution_status)
    rows = []
    for check, partitions in wanted.items():
        left, cursor = dict(partitions), None
        while left:
            page = storage.get_asset_check_execution_history(
                check, limit=HISTORY_PAGE, cursor=cursor, status=statuses
            )
            for record in page:
                if record.partition not in left:
                    continue
                iso, day = left.pop(record.partition)
                evaluation = (
                    record.event.dagster_event.event_specific_data if record.event else None
                )
                rows.append((
                    record.partition, iso, day, owners.get(check.asset_key, ""),
                    check.asset_key.to_user_string(), check.name, record.status.value,
                    _first_line(getattr(evaluation, "description", None) or "(no description)"),
                ))  # fmt: skip
            if len(page) < HISTORY_PAGE:
                break
            cursor = page[-1].id
    return pl.DataFrame(rows, schema=CHECK_SCHEMA, orient="row").sort(
        ["iso", "market_date", "asset", "check"]
    )


def _first_line(text: str) -> str:
    return next((line.strip() for line in str(text).splitlines() if line.strip()), "")


def datasets_table(
    catalog: pl.DataFrame, gap_days: pl.DataFrame, checks: pl.DataFrame
) -> pl.DataFrame:
    """One row per catalog row (ISO, dataset, market), plus datasets with failed checks but no
    rows; `missing_days` and `failed_check_days` count per (ISO, dataset)."""
    missing = gap_days.group_by(["iso", "dataset"]).agg(pl.len().alias("missing_days"))
    failing = checks.group_by(["iso", "dataset"]).agg(
        pl.col("market_date").n_unique().alias("failed_check_days")
    )
    columns = list(CATALOG_SCHEMA)
    base = catalog.select(columns) if catalog.width else pl.DataFrame(schema=CATALOG_SCHEMA)
    keys = pl.concat(
        [base.select("iso", "dataset"), failing.select("iso", "dataset")], how="vertical_relaxed"
    ).unique()
    table = keys.join(base, on=["iso", "dataset"], how="left")
    table = table.join(missing, on=["iso", "dataset"], how="left")
    table = table.join(failing, on=["iso", "dataset"], how="left")
    table = table.with_columns(
        pl.col("missing_days").fill_null(0).cast(pl.Int64),
        pl.col("failed_check_days").fill_null(0).cast(pl.Int64),
    )
    order = [c for c in [*columns[:6], "missing_days", *columns[6:8], "failed_check_days",
                         *columns[8:]] if c in table.columns]  # fmt: skip
    return table.select(order).sort(["iso", "dataset", "market"], nulls_last=True)


def gather(instance: "dg.DagsterInstance", isos: tuple[str, ...]) -> Status:
    """The status of `isos` (every registered ISO when empty)."""
    if not isos:
        from power_assets.isos import registered_isos

        isos = tuple(iso.id for iso in registered_isos())
    catalog, days, notes = stored(isos)
    gap_days = gaps(days) if days.height else pl.DataFrame(schema=GAP_SCHEMA)
    checks = failed_checks(instance, isos)
    return Status(datasets_table(catalog, gap_days, checks), gap_days, checks, tuple(notes))


def day_ranges(days: list[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) runs: 1, 2, 3, 7 -> (1, 3), (7, 7)."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and day == runs[-1][1] + timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs
