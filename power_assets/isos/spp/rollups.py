"""SPP's roll-up files: one CSV holding many market days, read or cut one market day at a time.

What belongs here: recognizing a roll-up by its name, the market days it holds, and the lines of
one day (the header plus that day's lines as published). Two roll-ups feed this project:

- `GenMix_{YYYY}.csv` (generation-mix-historical, the year's 5-minute fuel mix, ~16 MB, ~105k
  rows): `fuel_mix`, the only file SPP publishes it in, so every day of the year reads it;
- `HOURLY_LOAD-{YYYYMM}.csv` (hourly-load, a month in the wide layout): `load`, where SPP lists
  (or a user drops) the month's file instead of daily ones.

The file is scanned lazily, one line per row, and the day's filter runs inside the scan, so what
is held in memory is one day's lines whatever the size of the file. A row's day comes from its
UTC time column (GenMix `GMT MKT Interval`/`GMTTime`, load `MarketHour`), which labels the
interval END: the row belongs to the Central day its interval STARTS on. A non-blank line whose
time is unreadable is kept in every cut, so the parser names it (bad input is never dropped
silently); wholly blank lines (SPP's older load files carry some) are no rows and are left out.
Lines keep their bytes except the line end: a CRLF file's cut is written with LF.
"""

import re
from datetime import date
from pathlib import Path

import polars as pl

from power_assets.errors import MalformedFileError, SchemaDriftError, excerpt
from power_assets.isos.headers import header_line
from power_assets.isos.spp.parsing import TIME_FORMATS, header_key
from power_assets.isos.spp.portal import FIVE_MINUTES, HOUR, TIMEZONE

# Roll-up name -> dataset; the step says which day a row's interval END belongs to.
_NAMES = {
    "fuel_mix": re.compile(r"^GenMix_(?P<period>\d{4})\.csv$", re.IGNORECASE),
    "load": re.compile(r"^HOURLY_LOAD-(?P<period>\d{6})\.csv$", re.IGNORECASE),
}
STEPS = {"fuel_mix": FIVE_MINUTES, "load": HOUR}
_TIME_COLUMNS = {"fuel_mix": ("gmtmktinterval", "gmttime"), "load": ("markethour",)}
_HEADER_BYTES = 1 << 16
_NO_SEPARATOR = "\x1f"  # a byte SPP's CSVs never hold: each line is read whole


def rollup_dataset(name: str) -> str | None:
    """The dataset of a roll-up file named `name` (any folder), or None."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return next((ds for ds, pattern in _NAMES.items() if pattern.match(base)), None)


def _header(dataset_id: str, path: Path) -> tuple[str, int]:
    """The header line and the position of the UTC time column in it."""
    with open(path, "rb") as handle:
        head = handle.read(_HEADER_BYTES)
    line = header_line(head, str(path), skip_blank=True)
    keys = [header_key(column) for column in line.split(",")]
    for wanted in _TIME_COLUMNS[dataset_id]:
        if wanted in keys:
            return line, keys.index(wanted)
    raise SchemaDriftError(str(path), [" or ".join(_TIME_COLUMNS[dataset_id])], [])


def _lines(dataset_id: str, path: Path) -> tuple[str, pl.LazyFrame]:
    """(header, lazy frame of the data lines with `end` (UTC, null when unreadable), `day`)."""
    header, position = _header(dataset_id, path)
    lines = pl.scan_csv(
        path, has_header=False, skip_rows=1, separator=_NO_SEPARATOR, quote_char=None,
        new_columns=["line"], infer_schema=False,
    )  # fmt: skip
    # A blank line reads as null (polars 2 has no missing_utf8_is_empty_string): text "".
    line = pl.col("line").fill_null("").str.strip_chars_end("\r")
    # Only the fields up to the time column are split off (not the 20-odd fuel columns).
    field = (
        line.str.splitn(",", position + 2)
        .struct.field(f"field_{position}")
        .str.strip_chars()
        .str.strip_chars('"')
    )
    end = pl.coalesce(
        field.str.strptime(pl.Datetime("us"), fmt, strict=False) for fmt in TIME_FORMATS
    ).dt.replace_time_zone("UTC")
    step = pl.duration(seconds=int(STEPS[dataset_id].total_seconds()))
    framed = lines.select(line.alias("line"), end.alias("end")).filter(
        pl.col("line").str.replace_all(r"[,\s]", "") != ""  # wholly blank lines are no rows
    )
    day = (pl.col("end") - step).dt.convert_time_zone(TIMEZONE).dt.date()
    return header, framed.with_columns(day.alias("day"))


def span_days(dataset_id: str, path: Path) -> list[date]:
    """The whole Central market days a roll-up holds rows of: a day is whole when its first row
    ends one step after the day starts and its last row ends as the day ends (a day short of a
    single interval at either end, like today's in the current year's GenMix, is left to the
    portal). Holes inside a whole day are left to the gap checks, which report them."""
    _header_line, lines = _lines(dataset_id, path)
    bad = _collect(lines.filter(pl.col("end").is_null()).select("line").head(1), path)
    if bad.height:
        raise MalformedFileError(
            f"{path}: a line whose time is not a date-time SPP writes: {excerpt(bad['line'][0])}"
        )
    step = pl.duration(seconds=int(STEPS[dataset_id].total_seconds()))
    # Central midnights as UTC instants (23/24/25 hours apart around the DST changes).
    midnight = pl.col("day").cast(pl.Datetime("us")).dt.replace_time_zone(TIMEZONE)
    next_midnight = (
        pl.col("day").dt.offset_by("1d").cast(pl.Datetime("us")).dt.replace_time_zone(TIMEZONE)
    )
    spans = _collect(
        lines.group_by("day")
        .agg(pl.col("end").min().alias("first"), pl.col("end").max().alias("last"))
        .filter(
            (pl.col("first") == (midnight + step).dt.convert_time_zone("UTC"))
            & (pl.col("last") == next_midnight.dt.convert_time_zone("UTC"))
        )
        .select("day"),
        path,
    )
    return sorted(spans.get_column("day").to_list())


def cut_day(dataset_id: str, path: Path, day: date, target: Path) -> int:
    """Write the header and market `day`'s lines of roll-up `path` to `target`; lines written.
    A line whose time cannot be read goes along, for the parser to name (never dropped)."""
    header, lines = _lines(dataset_id, path)
    chosen = _collect(
        lines.filter((pl.col("day") == day) | pl.col("day").is_null()).select("line"), path
    )
    target.write_bytes(_join(header, chosen))
    return chosen.height


def _collect(frame: pl.LazyFrame, path: Path) -> pl.DataFrame:
    try:
        return frame.collect(engine="streaming")
    except pl.exceptions.PolarsError as exc:
        raise MalformedFileError(f"{path}: unreadable CSV: {excerpt(str(exc))}") from exc


def _join(header: str, lines: pl.DataFrame) -> bytes:
    if not lines.height:
        return (header + "\n").encode()
    return (header + "\n" + lines.get_column("line").str.join("\n").item() + "\n").encode()
