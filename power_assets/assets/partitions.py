"""Partition definitions: ISO-local market days crossed with the ISOs that offer a dataset.

Multi-partition keys sort dimensions by name, so keys read `2024-01-01|CAISO` (date, then iso).
"""

from collections.abc import Iterable

import dagster as dg

from power_assets.isos import registered_isos
from power_assets.keys import DATE_DIMENSION, ISO_DIMENSION

FIRST_MARKET_DAY = "2019-01-01"


def daily_dimension() -> dg.DailyPartitionsDefinition:
    # In UTC with end_offset=2 the last key is always at least "tomorrow" in every US market's
    # zone, so day-ahead prices (published the day before) always have a partition to land in.
    return dg.DailyPartitionsDefinition(start_date=FIRST_MARKET_DAY, end_offset=2)


def market_day_partitions(iso_ids: Iterable[str]) -> dg.MultiPartitionsDefinition:
    return dg.MultiPartitionsDefinition(
        {
            DATE_DIMENSION: daily_dimension(),
            ISO_DIMENSION: dg.StaticPartitionsDefinition(sorted(iso_ids)),
        }
    )


def monthly_partitions(iso_ids: Iterable[str]) -> dg.MultiPartitionsDefinition:
    return dg.MultiPartitionsDefinition(
        {
            DATE_DIMENSION: dg.MonthlyPartitionsDefinition(
                start_date=FIRST_MARKET_DAY, end_offset=1
            ),
            ISO_DIMENSION: dg.StaticPartitionsDefinition(sorted(iso_ids)),
        }
    )


def yearly_partitions(iso_ids: Iterable[str]) -> dg.MultiPartitionsDefinition:
    return dg.MultiPartitionsDefinition(
        {
            DATE_DIMENSION: dg.TimeWindowPartitionsDefinition(
                start=FIRST_MARKET_DAY, cron_schedule="0 0 1 1 *", fmt="%Y-%m-%d", end_offset=1
            ),
            ISO_DIMENSION: dg.StaticPartitionsDefinition(sorted(iso_ids)),
        }
    )


def all_iso_ids() -> list[str]:
    """Every registered ISO: one partition space for every asset, so one run or backfill can span
    ISOs. A partition of an ISO that does not offer a dataset is never materialized."""
    return sorted(iso.id for iso in registered_isos())


def isos_with_combined() -> list[str]:
    return sorted(iso.id for iso in registered_isos())


# Same date, same ISO: the mapping between any two of our market-day-partitioned assets, and from
# monthly/yearly roll-ups down to the days they contain.
SAME_ISO_TIME_WINDOW = dg.MultiPartitionMapping(
    {
        DATE_DIMENSION: dg.DimensionPartitionMapping(
            DATE_DIMENSION, dg.TimeWindowPartitionMapping()
        ),
        ISO_DIMENSION: dg.DimensionPartitionMapping(ISO_DIMENSION, dg.IdentityPartitionMapping()),
    }
)
