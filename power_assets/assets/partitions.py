"""Partition definitions: ISO-local market days crossed with the ISOs that offer a dataset.

Multi-partition keys sort dimensions by name, so keys read `2024-01-01|CAISO` (date, then iso).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import dagster as dg

from power_assets.isos import registered_isos

FIRST_MARKET_DAY = "2019-01-01"


def daily_dimension() -> dg.DailyPartitionsDefinition:
    # In UTC with end_offset=2 the last key is always at least "tomorrow" in every US market's
    # zone, so day-ahead prices (published the day before) always have a partition to land in.
    return dg.DailyPartitionsDefinition(start_date=FIRST_MARKET_DAY, end_offset=2)


def market_day_partitions(iso_ids: Iterable[str]) -> dg.MultiPartitionsDefinition:
    return dg.MultiPartitionsDefinition(
        {"date": daily_dimension(), "iso": dg.StaticPartitionsDefinition(sorted(iso_ids))}
    )


def monthly_partitions(iso_ids: Iterable[str]) -> dg.MultiPartitionsDefinition:
    return dg.MultiPartitionsDefinition(
        {
            "date": dg.MonthlyPartitionsDefinition(start_date=FIRST_MARKET_DAY, end_offset=1),
            "iso": dg.StaticPartitionsDefinition(sorted(iso_ids)),
        }
    )


def yearly_partitions(iso_ids: Iterable[str]) -> dg.MultiPartitionsDefinition:
    return dg.MultiPartitionsDefinition(
        {
            "date": dg.TimeWindowPartitionsDefinition(
                start=FIRST_MARKET_DAY, cron_schedule="0 0 1 1 *", fmt="%Y-%m-%d", end_offset=1
            ),
            "iso": dg.StaticPartitionsDefinition(sorted(iso_ids)),
        }
    )


def all_iso_ids() -> list[str]:
    """Every registered ISO: one partition space for every asset, so one job spans them all.

    A partition of an ISO that does not offer a dataset materializes as "not offered" (no file).
    """
    return sorted(iso.id for iso in registered_isos())


def isos_with_combined() -> list[str]:
    return sorted(iso.id for iso in registered_isos())


# Same date, same ISO: the mapping between any two of our market-day-partitioned assets, and from
# monthly/yearly roll-ups down to the days they contain.
SAME_ISO_TIME_WINDOW = dg.MultiPartitionMapping(
    {
        "date": dg.DimensionPartitionMapping("date", dg.TimeWindowPartitionMapping()),
        "iso": dg.DimensionPartitionMapping("iso", dg.IdentityPartitionMapping()),
    }
)


@dataclass(frozen=True)
class MarketPartition:
    key: str
    iso: str
    day: date


def partitions_of(context: dg.AssetExecutionContext) -> list[MarketPartition]:
    """Every (iso, market day) this run covers: one for a plain run, many for a single-run backfill."""
    out = []
    for key in context.partition_keys:
        dims = key.keys_by_dimension if isinstance(key, dg.MultiPartitionKey) else None
        if dims is None:
            day_text, iso = str(key).split("|")
        else:
            day_text, iso = dims["date"], dims["iso"]
        out.append(MarketPartition(str(key), iso, date.fromisoformat(day_text)))
    return sorted(out, key=lambda p: (p.iso, p.day))
