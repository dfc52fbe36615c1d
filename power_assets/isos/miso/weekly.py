"""MISO's weekly `YYYYMMDD_5MIN_LMP.zip` as a span file: the market days it holds, one day cut out.

What belongs here: recognizing the weekly archive (or its CSV, the member a drop folder hands
over) by name, the EST market days its rows cover, and writing one day's rows in the file's own
layout (the preamble and `MKTHOUR_EST,...` header as published, that day's data lines, then the
footer), so `public_api.five_minute_csv_table` reads the cut as it reads the week.

A row's day is the EST date of its `MKTHOUR_EST` stamp: the stamp is the interval START (see
public_api), MISO's clock is fixed EST, so every day has 288 intervals, DST or not. A line whose
time cannot be read (the footer, a blank line, a damaged row) goes into every cut:
the footer (after the last data line) at the end as published, any other (a damaged row) right
below the header, where the parser cannot take it for the footer and names it: nothing is dropped.

Memory: the CSV is scanned lazily one line per row (a ZIP's member is first streamed to a
temporary file beside the output), and only the day's lines are collected: a week of every
node is millions of lines, a day a seventh of them. Lines keep their bytes except the line end
(a CRLF file's cut is written with LF).
"""

import re
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import polars as pl

from power_assets.errors import MalformedFileError, excerpt

DATASET = "lmp_rt5"
_NAME = re.compile(r"^\d{8}_5MIN_LMP\.(?:zip|csv)$", re.IGNORECASE)
_HEAD_BYTES = 1 << 16
_HEAD_LINES = 50  # the header is within the first 50 lines (4 preamble lines today)
_STAMP_FORMATS = ("%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S")
_NO_SEPARATOR = "\x1f"  # a byte MISO's CSVs never hold: each line is read whole
_CHUNK = 1 << 20


def span_dataset(name: str) -> str | None:
    """`lmp_rt5` for a weekly archive (`20240325_5MIN_LMP.zip`) or its CSV, any folder; else None."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return DATASET if _NAME.match(base) else None


@contextmanager
def _csv_of(path: Path, spool: Path) -> Iterator[tuple[Path, str | None]]:
    """(a CSV path to scan, the member name when `path` is a ZIP). A ZIP's one CSV member is
    streamed to a temporary folder in `spool`, removed afterwards."""
    with open(path, "rb") as handle:
        is_zip = handle.read(4) == b"PK\x03\x04"
    if not is_zip:
        yield path, None
        return
    with tempfile.TemporaryDirectory(prefix=".miso_weekly_", dir=spool) as folder:
        csv_path = Path(folder) / "week.csv"
        try:
            with zipfile.ZipFile(path) as archive:
                members = [n for n in archive.namelist() if n.lower().endswith(".csv")]
                if len(members) != 1:
                    raise MalformedFileError(
                        f"{path}: a weekly 5MIN_LMP archive holds one CSV; found "
                        f"{len(members)} (members {archive.namelist()[:5]})"
                    )
                with archive.open(members[0]) as source, open(csv_path, "wb") as sink:
                    shutil.copyfileobj(source, sink, _CHUNK)
        except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise MalformedFileError(f"{path}: not a readable ZIP: {exc}") from exc
        yield csv_path, members[0]


def _head(csv_path: Path, source: Path) -> tuple[bytes, int]:
    """(the preamble and header lines as published, how many lines they are)."""
    with open(csv_path, "rb") as handle:
        lines = handle.read(_HEAD_BYTES).split(b"\n")[:_HEAD_LINES]
    found = [
        i for i, line in enumerate(lines)
        if line.lstrip(b"\xef\xbb\xbf \t\"").upper().startswith(b"MKTHOUR_EST")
    ]  # fmt: skip
    if not found:
        raise MalformedFileError(
            f"{source}: no `MKTHOUR_EST,PNODENAME,...` header in the first {_HEAD_LINES} lines "
            f"(starts {excerpt(b''.join(lines[:2])[:80])})"
        )
    count = found[0] + 1
    return b"".join(line.rstrip(b"\r") + b"\n" for line in lines[:count]), count


def _lines(csv_path: Path, skip: int) -> pl.LazyFrame:
    """The lines after the header, with `day` (EST date of the stamp; null when unreadable)."""
    lines = pl.scan_csv(
        csv_path, has_header=False, skip_lines=skip, separator=_NO_SEPARATOR, quote_char=None,
        new_columns=["line"], infer_schema=False, missing_utf8_is_empty_string=True,
    )  # fmt: skip
    line = pl.col("line").str.strip_chars_end("\r")
    stamp = line.str.splitn(",", 2).struct.field("field_0").str.strip_chars().str.strip_chars('"')
    day = pl.coalesce(
        stamp.str.strptime(pl.Datetime("us"), fmt, strict=False) for fmt in _STAMP_FORMATS
    ).dt.date()
    return lines.select(line.alias("line"), day.alias("day"))


def _collect(frame: pl.LazyFrame, source: Path) -> pl.DataFrame:
    try:
        return frame.collect(engine="streaming")
    except pl.exceptions.PolarsError as exc:
        raise MalformedFileError(f"{source}: unreadable CSV: {excerpt(str(exc))}") from exc


def span_days(path: Path) -> list[date]:
    """The EST market days the weekly archive (or its CSV) at `path` holds rows of."""
    with _csv_of(path, path.parent) as (csv_path, _member):
        _head_bytes, skip = _head(csv_path, path)
        days = _collect(_lines(csv_path, skip).select(pl.col("day").drop_nulls().unique()), path)
    return sorted(days.get_column("day").to_list())


def cut_day(path: Path, day: date, target: Path) -> int:
    """Write the preamble, header, market `day`'s lines and the footer of the weekly archive (or
    CSV) `path` to `target`, in the same form (a ZIP of one CSV named as the original member, or
    a CSV); the number of `day`'s data lines written.

    Unreadable lines go along: those after the last data line (the footer) at the end, as
    published; any other (a damaged row) first, right below the header, where the parser cannot
    take it for the footer and names it."""
    with _csv_of(path, target.parent) as (csv_path, member):
        head, skip = _head(csv_path, path)
        lines = _lines(csv_path, skip).with_row_index("at")
        chosen = _collect(lines.filter((pl.col("day") == day) | pl.col("day").is_null()), path)
        last = _collect(lines.select(pl.col("at").filter(pl.col("day").is_not_null()).max()), path)
    end = last.item()
    unread = pl.col("day").is_null()
    after = pl.col("at") > end if end is not None else pl.lit(True)
    ordered = pl.concat(
        [chosen.filter(unread & ~after), chosen.filter(~unread), chosen.filter(unread & after)]
    )
    rows = chosen.filter(~unread).height
    body = ordered.get_column("line").str.join("\n").item() if ordered.height else ""
    content = head + (body.encode() + b"\n" if ordered.height else b"")
    if member is None:
        target.write_bytes(content)
    else:
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(member, content)
    return rows
