"""ERCOT's hour-ending and 15-minute interval times as UTC instants.

What belongs here: the rules ERCOT's reports stamp rows with, worked out once per run of rows that
share them (a file's hour): MM/DD/YYYY days, hours ending "01:00".."24:00" (or 1..25 on the
fall-back day, numbered by position), DSTFlag Y for the repeated hour, DeliveryInterval 1..4 of an
hour; the checks that name the file of a row that breaks them. The DST arithmetic itself is
`market_time`'s.
"""

from datetime import UTC, date, datetime, timedelta

import polars as pl

from power_assets.isos.ercot.csv_files import require
from power_assets.isos.ercot.reports import TIMEZONE
from power_assets.market_time import (
    local_day_hours,
    local_day_start,
    market_day_bounds,
    placed_hour_starts,
)


def flags(frame: pl.DataFrame, flag: str) -> pl.DataFrame:
    """`_repeated` from the DST flag: "Y" marks the repeated fall-back hour."""
    value = pl.col(flag).str.to_uppercase()
    require(frame, ~value.is_in(["Y", "N"]), f"{flag} {{{flag}!r}} is neither Y nor N")
    return frame.with_columns((value == "Y").alias("_repeated"))


def hour_ending_starts(
    frame: pl.DataFrame, date_column: str, hour_column: str, flag: str = "DSTFlag"
) -> pl.DataFrame:
    """Add `interval_start` (UTC) from a MM/DD/YYYY day and an hour ending 1..25 ("01:00",
    "1:00", "24:00", "25"), placed by position in the day (see market_time).

    Dates, hours and instants are worked out once per distinct (file, date, hour, flag): a day
    of 96 files x 1,000 points has only ~100 of them, and parsing and time-zone arithmetic on
    every row would dominate the whole parse. Rows sharing them come in runs (a file's hour),
    so each run's first row stands for its run, and the runs' instants are spread back by run.
    """
    # `_rank` stands for the file (an integer compares faster than its path); `_source` names it.
    raw_keys = ["_rank", date_column, hour_column, flag]
    run = frame.select(pl.struct(raw_keys).rle_id()).to_series()
    runs = frame.select(*raw_keys, "_source")[first_of_runs(run)]
    starts = _run_starts(runs, date_column, hour_column, flag)
    return frame.with_columns(starts.gather(run))


def _run_starts(runs: pl.DataFrame, date_column: str, hour_column: str, flag: str) -> pl.Series:
    """`interval_start` of each row of `runs` (`_rank`, date, hour ending, flag, `_source`),
    placed and checked in one pass (a row's place depends on its own values and, through the
    1..25 numbering, on its file's day: the same for every copy of a row). Only when a row is
    bad are the checks run one by one on the distinct rows, to name the first offending file."""
    checks = _hour_checks(date_column, hour_column, flag)
    bad = pl.any_horizontal(check.fill_null(False) for check, _ in checks).alias("_bad")
    placed = (
        _placed_hours(runs.lazy(), date_column, hour_column, flag)
        .select("interval_start", bad)
        .collect(engine="in-memory")  # a few rows: the streaming engine's setup would dominate
    )
    if placed.get_column("_bad").any():
        raw_keys = ["_rank", date_column, hour_column, flag]
        distinct = runs.lazy().unique(raw_keys, keep="first", maintain_order=True)
        rows = _placed_hours(distinct, date_column, hour_column, flag).collect()
        for check, problem in checks:
            require(rows, check, problem)
    return placed.get_column("interval_start")


def _hour_checks(date_column: str, hour_column: str, flag: str) -> list[tuple[pl.Expr, str]]:
    """What makes a row of `_placed_hours` bad, and what to say, in the order they are told."""
    date, he = f"{date_column} {{{date_column}!r}}", f"{hour_column} {{{hour_column}!r}}"
    problem = f"{he} with {flag} {{{flag}!r}} does not exist on that day in {{tz}} ({date})"
    return [
        (
            ~pl.col(flag).str.to_uppercase().is_in(["Y", "N"]),
            f"{flag} {{{flag}!r}} is neither Y nor N",
        ),
        (pl.col("_day").is_null(), f"{date} is not a MM/DD/YYYY date"),
        (
            pl.col("_hour").is_null() | ~pl.col("_hour").is_between(1, 25),
            f"{he} is not an hour ending 1..25",
        ),
        (pl.col("interval_start").is_null(), problem),
    ]


def _placed_hours(
    hours: pl.LazyFrame, date_column: str, hour_column: str, flag: str
) -> pl.LazyFrame:
    """`hours` with `_day`, `_hour`, `_repeated`, `_position` and `interval_start` (null where
    the hour cannot be placed; `_hour_checks` says why)."""
    hours = hours.with_columns(
        (pl.col(flag).str.to_uppercase() == "Y").alias("_repeated"),
        pl.col(date_column).str.strptime(pl.Date, "%m/%d/%Y", strict=False).alias("_day"),
        pl.col(hour_column)
        .str.extract(r"^(\d{1,2})(?::00)?$")
        .cast(pl.Int64, strict=False)
        .alias("_hour"),
    ).with_columns(
        # The day's time-zone arithmetic once, as columns the placing refers to.
        local_day_start(pl.col("_day"), TIMEZONE).alias("_start"),
        local_day_hours(pl.col("_day"), TIMEZONE).alias("_hours"),
    )
    # A file that numbers the fall-back day 1..25 has no repeated HE 02: its HE n is simply
    # the n-th hour, i.e. HE 3 is the repeated 02 and HE n > 3 is HE n-1 of the flag scheme.
    day = ["_rank", "_day"]
    sequential = (
        (pl.col("_hours") == 25)
        & (pl.col("_hour").max().over(day) == 25)
        & ~pl.col("_repeated").any().over(day)
    )
    hour, repeated = pl.col("_hour"), pl.col("_repeated")
    return hours.with_columns(
        pl.when(sequential & (hour >= 3)).then(hour - 1).otherwise(hour).alias("_position"),
        (repeated | (sequential & (hour == 3))).alias("_repeated"),
    ).with_columns(
        placed_hour_starts(
            pl.col("_start"), pl.col("_hours"), pl.col("_position"), pl.col("_repeated")
        ).alias("interval_start")
    )


def first_of_runs(run: pl.Series) -> pl.Series:
    """The first row of each run, given each row's run number (`rle_id`: 0, 0, 1, 2, 2, ...)."""
    count = int(run.max()) + 1 if len(run) else 0  # type: ignore[arg-type]
    return run.search_sorted(pl.int_range(count, dtype=run.dtype, eager=True), side="left")


def rt15_starts(frame: pl.DataFrame) -> pl.DataFrame:
    """`interval_start` of RT settlement point price rows: the start of the hour ending plus 15
    minutes per DeliveryInterval (1..4) before theirs."""
    interval = pl.col("DeliveryInterval").cast(pl.Int64, strict=False)
    frame = frame.with_columns(interval.alias("_interval"))
    bad = pl.col("_interval").is_null() | ~pl.col("_interval").is_between(1, 4)
    require(frame, bad, "DeliveryInterval {DeliveryInterval!r} is not 1..4")
    frame = hour_ending_starts(frame, "DeliveryDate", "DeliveryHour")
    return frame.with_columns(
        pl.col("interval_start") + pl.duration(minutes=(pl.col("_interval") - 1) * 15)
    )


def plain_rt15_starts(runs: pl.DataFrame) -> pl.Series | None:
    """`rt15_starts` of runs (DeliveryDate, DeliveryHour, DeliveryInterval, DSTFlag, as text)
    when every run is a plain hour of a 24-hour day, worked out without a query: HE n of such a
    day starts n-1 hours after local midnight, whatever file it comes from. None as soon as one
    run needs the full rules (a 23- or 25-hour day, HE 25, DSTFlag Y, an unusual spelling, a
    bad value): `rt15_starts` then places and checks them all.

    A day of 96 files has ~100 runs; the query `rt15_starts` runs costs more than the whole
    loop here, and most of the year is plain days.
    """
    midnights: dict[str, int | None] = {}
    starts = []
    for day, hour, interval, flag in runs.iter_rows():
        hour_ending, quarter = _PLAIN_HOURS.get(hour), _QUARTERS.get(interval)
        if hour_ending is None or quarter is None or flag not in ("N", "n"):
            return None
        if day not in midnights:
            midnights[day] = _plain_midnight(day)
        midnight = midnights[day]
        if midnight is None:
            return None
        starts.append(midnight + (hour_ending - 1) * _HOUR_US + quarter)
    return pl.Series("interval_start", starts, pl.Int64).cast(pl.Datetime("us", "UTC"))


def _plain_midnight(text: str) -> int | None:
    """Local midnight starting a MM/DD/YYYY day, as UTC microseconds since the epoch, if that
    day has 24 hours; None for a 23- or 25-hour day or text `rt15_starts` has to judge."""
    parts = text.split("/")
    if len(text) != 10 or [len(part) for part in parts] != [2, 2, 4]:
        return None
    if not all(part.isascii() and part.isdigit() for part in parts):
        return None
    try:
        day = date(int(parts[2]), int(parts[0]), int(parts[1]))
    except ValueError:
        return None
    # The years polars' time-zone rules and zoneinfo's agree on (polars' stop at 2099).
    if not 1970 <= day.year <= 2099:
        return None
    start, end = market_day_bounds(TIMEZONE, day)
    if end - start != timedelta(hours=24):
        return None
    return (start - _EPOCH) // timedelta(microseconds=1)


_HOUR_US = 3_600_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Hours ending 1..24 as the hour pattern of `_placed_hours` reads them: "1", "01", "1:00", "01:00".
_PLAIN_HOURS = {
    text: hour
    for hour in range(1, 25)
    for text in (str(hour), f"{hour:02}", f"{hour}:00", f"{hour:02}:00")
}
# DeliveryInterval 1..4: its start's offset in the hour, in microseconds.
_QUARTERS = {str(quarter): (quarter - 1) * 900_000_000 for quarter in range(1, 5)}
