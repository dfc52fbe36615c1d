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


def _local_midnight_utc(day: pl.Expr, timezone: str) -> pl.Expr:
    # US transitions happen at 02:00, so local midnight is never ambiguous or missing.
    return day.cast(pl.Datetime("us")).dt.replace_time_zone(timezone).dt.convert_time_zone("UTC")


def local_day_start(day: pl.Expr, timezone: str) -> pl.Expr:
    """UTC instant of local midnight starting each (local market) `day`."""
    return _local_midnight_utc(day, timezone)


def local_day_hours(day: pl.Expr, timezone: str) -> pl.Expr:
    """Hours (23, 24 or 25, Int64) of each local market `day`: midnight to the next midnight."""
    start = _local_midnight_utc(day, timezone)
    next_start = _local_midnight_utc(day + pl.duration(days=1), timezone)
    return ((next_start - start).dt.total_minutes() // 60).cast(pl.Int64)


def hour_ending_starts(
    day: pl.Expr, hour_ending: pl.Expr, repeated: pl.Expr, timezone: str
) -> pl.Expr:
    """UTC start of an hour given as (local market day, hour ending 1..25, repeated-hour flag).

    Hours are placed by their position in the day, not by wall-clock arithmetic, because wall
    times around a transition are ambiguous (fall-back: HE 02 and the repeated 02, ISO-NE's "02X",
    ERCOT's DSTFlag=Y) or missing (spring-forward: there is no HE 02). Position k counts from
    local midnight: HE n is k = n-1, the repeated hour is k = 2, later hours of a 25-hour day
    shift up one, later hours of a 23-hour day shift down one. Hour ending 25 (some ERCOT files)
    is simply k = 24. Returns null for an hour that cannot exist on that day (e.g. HE 02 on the
    spring-forward day), so callers can name the offending rows.
    """
    return placed_hour_starts(
        local_day_start(day, timezone), local_day_hours(day, timezone), hour_ending, repeated
    )


def placed_hour_starts(
    start: pl.Expr, hours: pl.Expr, hour_ending: pl.Expr, repeated: pl.Expr
) -> pl.Expr:
    """`hour_ending_starts` of days whose `local_day_start` and `local_day_hours` are given
    (columns worked out once, rather than time-zone arithmetic in every branch)."""
    n = hour_ending.cast(pl.Int64)
    k = (
        pl.when(repeated)
        .then(pl.lit(2, pl.Int64))
        .when((hours == 25) & (n >= 3) & (n <= 24))
        .then(n)
        .when((hours == 23) & (n >= 3))
        .then(n - 2)
        .otherwise(n - 1)
    )
    valid = (
        (k >= 0)
        & (k < hours)
        & ~((hours == 23) & (n == 2))
        & ~(repeated & (hours != 25))
        & ~((hours != 25) & (n == 25))
    )
    return pl.when(valid).then(start + pl.duration(hours=k)).otherwise(None)


def localize_wall_times(
    wall: pl.Expr, timezone: str, by: list[str], dst_label: pl.Expr | None = None
) -> pl.Expr:
    """UTC instants from naive local wall-clock timestamps, resolving the fall-back hour.

    With `dst_label` (a column like NYISO's `Time Zone`, "EDT"/"EST"), a label ending in "DT"
    means the first (daylight) occurrence. Without it, the first occurrence of a wall time per
    `by` group, in file order, is the daylight one and the next is standard time: files list
    the repeated hour twice in time order. Non-existent wall times (spring-forward gap) raise.
    """
    if dst_label is not None:
        ambiguous = pl.when(dst_label.str.ends_with("DT")).then(pl.lit("earliest"))
        ambiguous = ambiguous.otherwise(pl.lit("latest"))
    else:
        occurrence = pl.int_range(pl.len()).over([*by, wall.meta.output_name()])
        ambiguous = pl.when(occurrence == 0).then(pl.lit("earliest")).otherwise(pl.lit("latest"))
    return wall.dt.replace_time_zone(
        timezone, ambiguous=ambiguous, non_existent="raise"
    ).dt.convert_time_zone("UTC")
