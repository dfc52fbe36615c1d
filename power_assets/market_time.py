"""Market-day arithmetic: the ISO-local operating day as UTC instants and expected interval grids.

Everything that turns a partition date into instants lives here, so the DST rules are written once.
A market day in an ISO's zone is [local midnight, next local midnight) and has 23, 24 or 25 hours.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import polars as pl

UTC = ZoneInfo("UTC")


def market_day_bounds(timezone: str, day: date) -> tuple[datetime, datetime]:
    """UTC instants of local midnight starting `day` and local midnight starting the next day."""
    tz = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


def hours_in_market_day(timezone: str, day: date) -> int:
    start, end = market_day_bounds(timezone, day)
    return int((end - start) / timedelta(hours=1))


def expected_interval_starts(timezone: str, day: date, interval: timedelta) -> pl.Series:
    """Every interval start of the market day, in UTC: 23/24/25 hourly or 276/288/300 five-minute."""
    start, end = market_day_bounds(timezone, day)
    return pl.datetime_range(
        start, end - interval, interval=interval, time_unit="us", time_zone="UTC", eager=True
    ).alias("interval_start")


def parse_day(value: str) -> date:
    return date.fromisoformat(value)
