"""MISO's weekly `YYYYMMDD_5MIN_LMP.zip` as a span file: the market days it holds, one day cut out.

What belongs here: recognizing the weekly archive (or its CSV, the member a drop folder hands
over) by name, the EST market days its rows cover, and writing one day's rows in the file's own
layout (the preamble and `MKTHOUR_EST,...` header as published, that day's data lines, then the
footer), so `public_api.five_minute_csv_table` reads the cut as it reads the week.

A row's day is the EST date of its `MKTHOUR_EST` stamp: the stamp is the interval START (see
public_api), MISO's clock is fixed EST, so every day has 288 intervals, DST or not. That reading
is checked on every file: each day's stamps run 00:00 .. 23:55 (an end-labelled file would run
00:05 .. 24:00, its last interval stamped 00:00 of the next day). A line whose
time cannot be read (the footer, a blank line, a damaged row) goes into every cut:
the footer (after the last data line) at the end as published, any other (a damaged row) right
below the header, where the parser cannot take it for the footer and names it: nothing is dropped.

Memory: the CSV is scanned lazily one line per row (a ZIP's member is first streamed to a
temporary file beside the output), and only the day's lines are collected: a week of every
node is millions of lines, a day a seventh of them. Lines keep their bytes except the line end
(a CRLF file's cut is written with LF), and except a file that is not UTF-8: it is read as
Latin-1 (as the parser reads MISO's text), through a UTF-8 copy beside the output, so its cut
is written in UTF-8.
"""

import codecs
import re
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, time
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
_LAST = time(23, 55)  # the last interval start of an EST day


def span_dataset(name: str) -> str | None:
    """`lmp_rt5` for a weekly archive (`20240325_5MIN_LMP.zip`) or its CSV, any folder; else None."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return DATASET if _NAME.match(base) else None


def _is_utf8(csv_path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(csv_path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


@contextmanager
def _csv_of(path: Path, spool: Path) -> Iterator[tuple[Path, str | None]]:
    """(a UTF-8 CSV path to scan, the member name when `path` is a ZIP). A ZIP's one CSV member
    is streamed to a temporary folder in `spool`, a Latin-1 CSV copied there as UTF-8; the
    folder is removed afterwards."""
    with open(path, "rb") as handle:
        is_zip = handle.read(4) == b"PK\x03\x04"
    with ExitStack() as stack:
        folder: Path | None = None

        def scratch() -> Path:
            nonlocal folder
            if folder is None:
                made = tempfile.TemporaryDirectory(prefix=".miso_weekly_", dir=spool)
                folder = Path(stack.enter_context(made))
            return folder

        csv_path, member = path, None
        if is_zip:
            csv_path = scratch() / "week.csv"
            member = _unzip(path, csv_path)
        if not _is_utf8(csv_path):
            latin = csv_path
            csv_path = scratch() / "week_utf8.csv"
            with (
                open(latin, "rb") as source,
                open(csv_path, "w", encoding="utf-8", newline="") as sink,
            ):
                while chunk := source.read(_CHUNK):
                    sink.write(chunk.decode("latin-1"))
        yield csv_path, member


def _unzip(path: Path, csv_path: Path) -> str:
    """Stream the archive's one CSV member to `csv_path`; its name."""
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
    return members[0]


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
    """The lines after the header, with `stamp` (EST wall time; null when unreadable) and `day`
    (its date)."""
    lines = pl.scan_csv(
        csv_path, has_header=False, skip_lines=skip, separator=_NO_SEPARATOR, quote_char=None,
        new_columns=["line"], infer_schema=False,
    )  # fmt: skip
    # A blank line reads as null (polars 2 has no missing_utf8_is_empty_string): text "".
    line = pl.col("line").fill_null("").str.strip_chars_end("\r")
    stamp = line.str.splitn(",", 2).struct.field("field_0").str.strip_chars().str.strip_chars('"')
    wall = pl.coalesce(
        stamp.str.strptime(pl.Datetime("us"), fmt, strict=False) for fmt in _STAMP_FORMATS
    )
    return lines.select(line.alias("line"), wall.alias("stamp"), wall.dt.date().alias("day"))


def _collect(frame: pl.LazyFrame, source: Path) -> pl.DataFrame:
    try:
        return frame.collect(engine="streaming")
    except pl.exceptions.PolarsError as exc:
        raise MalformedFileError(f"{source}: unreadable CSV: {excerpt(str(exc))}") from exc


def span_days(path: Path) -> list[date]:
    """The EST market days the weekly archive (or its CSV) at `path` holds rows of; each must
    run 00:00 .. 23:55, as interval-start stamps do."""
    with _csv_of(path, path.parent) as (csv_path, _member):
        _head_bytes, skip = _head(csv_path, path)
        spans = (
            _lines(csv_path, skip)
            .drop_nulls("stamp")
            .group_by("day")
            .agg(
                pl.col("stamp").min().dt.time().alias("first"),
                pl.col("stamp").max().dt.time().alias("last"),
            )
        )
        days = _collect(spans.sort("day"), path)
    wrong = days.filter((pl.col("first") != time(0)) | (pl.col("last") != _LAST))
    if wrong.height:
        day, first, last = wrong.row(0)
        raise MalformedFileError(
            f"{path}: MKTHOUR_EST of {day} runs {first:%H:%M} .. {last:%H:%M}; read as interval "
            f"start (EST), every day runs 00:00 .. 23:55 ({wrong.height} day(s) do not): the "
            "labelling changed or the day is cut short"
        )
    return days.get_column("day").to_list()


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
