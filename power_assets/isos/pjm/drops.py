"""PJM files in drop folders: saved Data Miner 2 pages and Data Miner CSV exports.

Two kinds of names are recognized (base names, any case):

- per-day files `{feed}_{YYYY-MM-DD}.json` / `.csv`, optionally `{feed}_{YYYY-MM-DD}_{anything}.json`
  (page numbers: `_p2`): the name says the market day, the file is copied as it is;
- span files `{feed}.csv` / `{feed}.json` and browser duplicates `{feed} (N).csv`: Data Miner's
  export button names the file after the feed whatever range it covers (a quarter of hub LMPs in
  one `da_hrl_lmps.csv`), so its days are read from its rows (`span_file_days`) and each day's
  rows are cut into a file of their own (`cut_span_day`).

A row's market day is the Eastern (America/New_York) date of its UTC start instant: the
`datetime_beginning_utc` column (load forecasts: the forecast target hour,
`forecast_datetime_beginning_utc` or `forecast_hour_beginning_utc`). CSV exports write it as
`5/1/2025 4:00:00 AM` (M/D/YYYY h:mm:ss AM/PM, UTC); JSON pages as `2025-05-01T04:00:00[.000]`.

Only whole days count: a day whose rows do not reach into both its first and its last hour is
left out (and logged), because a dropped day is never downloaded. The common case is the stray
hour an inclusive range end adds (an export "5/1 00:00 to 8/1 00:00" holds one hour of 8/1); a
day still in progress is another.

CSV files are read in blocks of whole lines (memory bounded by the block, never the file) and
classified with polars; a cut holds the header line and that day's lines byte for byte. A JSON
page is read whole: Data Miner pages hold at most 50,000 rows, and larger JSON is refused.

What belongs here: the feed -> dataset map for dropped files, their name rules, reading their
days, cutting a day. The feed table used for requests is feeds.py's (the two must agree).
"""

import csv
import itertools
import json
import logging
import re
from collections.abc import Iterator
from datetime import date, timedelta
from operator import methodcaller
from pathlib import Path
from typing import IO, Any

import polars as pl

from power_assets.errors import MalformedFileError, excerpt
from power_assets.isos.pjm.feeds import TIMEZONE
from power_assets.market_time import market_day_bounds

logger = logging.getLogger(__name__)


# Data Miner 2 feed -> the dataset its rows belong to.
FEED_DATASETS: dict[str, str] = {
    "da_hrl_lmps": "lmp_da",
    "rt_hrl_lmps": "lmp_rt_hourly",
    "rt_fivemin_hrl_lmps": "lmp_rt5",
    "rt_unverified_fivemin_lmps": "lmp_rt5",
    "da_reserve_market_results": "as_da",
    "reserve_market_results": "as_rt",
    "hrl_load_metered": "load",
    "inst_load": "load",
    "load_frcstd_7_day": "load_forecast",
    "load_frcstd_hist": "load_forecast",
    "gen_by_fuel": "fuel_mix",
}

# The UTC column placing a row in its market day; the first one a file has is used.
_DAY_COLUMNS: dict[str, tuple[str, ...]] = {
    "load_forecast": ("forecast_datetime_beginning_utc", "forecast_hour_beginning_utc"),
}
_DEFAULT_DAY_COLUMNS = ("datetime_beginning_utc",)

_PER_DAY = re.compile(
    r"(?P<feed>[a-z0-9_]+?)_(?P<day>\d{4}-\d{2}-\d{2})(?:_[^/\\]+)?\.(?:json|csv)", re.IGNORECASE
)
_SPAN = re.compile(r"(?P<feed>[a-z0-9_]+)(?: \(\d+\))?\.(?:json|csv)", re.IGNORECASE)

# CSV exports: `5/1/2025 4:00:00 AM`; JSON pages: `2025-05-01T04:00:00`, maybe `.000`.
_CSV_TIME = "%m/%d/%Y %I:%M:%S %p"
_JSON_TIME = "%Y-%m-%dT%H:%M:%S%.f"
_BLOCK_BYTES = 8 * 2**20
# No Data Miner line comes near this; a file without line breaks must not fill the memory.
_MAX_LINE_BYTES = 1 * 2**20
# A Data Miner page is at most 50,000 rows (some 20 MB). JSON is read whole (in memory about ten
# times its size), so more than a few pages in one file is refused.
MAX_JSON_BYTES = 64 * 2**20


# -- names ---------------------------------------------------------------------------------------


def _base_name(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def dropped_file_day(name: str) -> tuple[str, date] | None:
    """(dataset, market day) of a per-day file `{feed}_{YYYY-MM-DD}[_{anything}].json|csv`."""
    match = _PER_DAY.fullmatch(_base_name(name))
    if match is None or (dataset := FEED_DATASETS.get(match["feed"].lower())) is None:
        return None
    try:
        return dataset, date.fromisoformat(match["day"])
    except ValueError:  # month 13 and the like: not one of these names
        return None


def dropped_span_dataset(name: str) -> str | None:
    """The dataset of a range export `{feed}.csv|json` or `{feed} (N).csv|json`; else None."""
    match = _SPAN.fullmatch(_base_name(name))
    return None if match is None else FEED_DATASETS.get(match["feed"].lower())


# -- reading a span file ---------------------------------------------------------------------------


def span_file_days(dataset_id: str, path: Path) -> list[date]:
    """The whole market days (see the module docstring) of which `path` holds rows, in order."""
    if _is_json(path):
        _doc, items = _load_page(path)
        stamps = _json_stamps(dataset_id, items, path)
        found = _day_spans(pl.DataFrame({"instant": stamps}))
    else:
        found = None
        for block in _csv_blocks(dataset_id, path):
            spans = _day_spans(block)
            found = spans if found is None else _merge_spans(found, spans)
    if found is None or found.is_empty():
        return []
    whole, partial = [], []
    for day, first, last in found.sort("day").iter_rows():  # one per day, not per row
        start, end = market_day_bounds(TIMEZONE, day)
        hour = timedelta(hours=1)
        (whole if first < start + hour and last >= end - hour else partial).append(day)
    if partial:
        logger.warning(
            "%s: rows of %s left out: not whole market days (no rows in the first or last hour), "
            "so those days are downloaded instead",
            path,
            ", ".join(day.isoformat() for day in partial),
        )
    return whole


def cut_span_day(dataset_id: str, path: Path, day: date, target: Path) -> int:
    """Write market `day`'s rows of `path` to `target`; the number of rows written.

    CSV: the header line, then the day's lines exactly as in the file. JSON: a page
    `{"links", "items", "searchSpecification", "totalRows"}` with the day's items (links and
    searchSpecification as the original has them, totalRows the count of the day's items).
    """
    if _is_json(path):
        doc, items = _load_page(path)
        days = _local_days(_json_stamps(dataset_id, items, path))
        chosen = list(itertools.compress(items, (days == day).to_list()))
        # The keys in the order Data Miner writes them.
        page: dict[str, Any] = {"links": doc["links"]} if "links" in doc else {}
        page["items"] = chosen
        if "searchSpecification" in doc:
            page["searchSpecification"] = doc["searchSpecification"]
        page["totalRows"] = len(chosen)
        with open(target, "w", encoding="utf-8") as sink:
            json.dump(page, sink, separators=(",", ":"))
        return len(chosen)
    rows = 0
    with open(target, "wb") as sink:
        for block in _csv_blocks(dataset_id, path, sink):
            lines = block.filter(pl.col("instant").pipe(_local_day) == day)["line"]
            if lines.len():
                # Each line keeps its own "\r" (CRLF files): joined with "\n", bytes unchanged.
                sink.write((lines.str.join("\n").item() + "\n").encode())
                rows += lines.len()
    return rows


def _is_json(path: Path) -> bool:
    """JSON or CSV by the content (a saved page may have been renamed): `{` or `[` first."""
    with open(path, "rb") as handle:
        start = handle.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    return start[:1] in (b"{", b"[")


# -- JSON pages ------------------------------------------------------------------------------------


def _load_page(path: Path) -> tuple[dict[str, Any], list[Any]]:
    """(the document, its items): a Data Miner page `{"items": [...], ...}` or a bare list."""
    size = path.stat().st_size
    if size > MAX_JSON_BYTES:
        raise MalformedFileError(
            f"{path}: {size:,} bytes of JSON, more than a Data Miner page ({MAX_JSON_BYTES:,} "
            "bytes at most are read); save such ranges as CSV exports or one page per file"
        )
    try:
        with open(path, "rb") as handle:
            doc = json.load(handle)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedFileError(f"{path}: not readable JSON: {excerpt(str(exc))}") from exc
    if isinstance(doc, list):
        doc = {"items": doc}
    if not isinstance(doc, dict):
        raise MalformedFileError(f"{path}: JSON {type(doc).__name__}, not a Data Miner page")
    if "errors" in doc:
        raise MalformedFileError(
            f"{path}: a Data Miner error answer, not data: {excerpt(json.dumps(doc['errors']))}"
        )
    items = doc.get("items")
    if not isinstance(items, list) or not all(map(isinstance, items, itertools.repeat(dict))):
        raise MalformedFileError(f'{path}: no list of items (a Data Miner page has "items")')
    return doc, items


def _json_stamps(dataset_id: str, items: list[dict[str, Any]], path: Path) -> pl.Series:
    """The UTC start instant of each item (aware), by the dataset's day column."""
    if not items:
        return pl.Series("instant", [], pl.Datetime("us", "UTC"))
    candidates = _DAY_COLUMNS.get(dataset_id, _DEFAULT_DAY_COLUMNS)
    column = next((name for name in candidates if name in items[0]), candidates[0])
    raw = pl.Series("raw", list(map(methodcaller("get", column), items)), pl.String, strict=False)
    frame = pl.DataFrame({"raw": raw}).with_row_index("n", offset=1)
    return _parsed(frame, _JSON_TIME, path, column, "item")["instant"]


# -- CSV exports -----------------------------------------------------------------------------------


def _csv_blocks(
    dataset_id: str, path: Path, header_sink: IO[bytes] | None = None
) -> Iterator[pl.DataFrame]:
    """Blocks of data lines: frames (n, line, instant) of whole lines, blank lines left out.

    `line` keeps the line as in the file without its "\\n" (a CRLF file's lines end in "\\r");
    the header line goes to `header_sink`. Lines are split before decoding, so a block never
    cuts a character in two.
    """
    with open(path, "rb") as handle:
        header = handle.readline(_MAX_LINE_BYTES)
        if not header.strip():
            raise MalformedFileError(f"{path}: empty, or no header line")
        if len(header) == _MAX_LINE_BYTES and not header.endswith(b"\n"):
            raise MalformedFileError(f"{path}: header line longer than {_MAX_LINE_BYTES:,} bytes")
        column, index = _day_column(dataset_id, header, path)
        if header_sink is not None:
            header_sink.write(header if header.endswith(b"\n") else header + b"\n")
        number, carry = 2, b""
        while True:
            data = handle.read(_BLOCK_BYTES)
            if data:
                block = carry + data
                cut = block.rfind(b"\n")
                if cut < 0:
                    if len(block) > _MAX_LINE_BYTES:
                        raise MalformedFileError(
                            f"{path}: line {number} is longer than {_MAX_LINE_BYTES:,} bytes"
                        )
                    carry = block
                    continue
                lines = _decoded(block[:cut], path, number)
                carry = block[cut + 1 :]
            else:
                last = carry
                if last and header.endswith(b"\r\n") and not last.endswith(b"\r"):
                    last += b"\r"  # the last line has no line break: cut, it gets the file's own
                lines = _decoded(last, path, number) if last else []
            frame = pl.DataFrame({"line": lines}, schema={"line": pl.String})
            frame = frame.with_row_index("n", offset=number)
            number += len(lines)
            frame = frame.filter(pl.col("line").str.strip_chars() != "")
            if not frame.is_empty():
                yield _csv_instants(frame, index, path, column)
            if not data:
                return


def _decoded(block: bytes, path: Path, first_line: int) -> list[str]:
    try:
        return block.decode("utf-8").split("\n")
    except UnicodeDecodeError as exc:
        line = first_line + block.count(b"\n", 0, exc.start)
        raise MalformedFileError(f"{path}: line {line}: not UTF-8 text: {exc.reason}") from exc


def _day_column(dataset_id: str, header: bytes, path: Path) -> tuple[str, int]:
    """(name, position) of the column placing rows in market days."""
    try:
        text = header.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedFileError(f"{path}: header line is not UTF-8 text") from exc
    names = [name.strip().strip('"').lower() for name in next(csv.reader([text.rstrip("\r\n")]))]
    candidates = _DAY_COLUMNS.get(dataset_id, _DEFAULT_DAY_COLUMNS)
    for name in candidates:
        if name in names:
            return name, names.index(name)
    raise MalformedFileError(
        f"{path}: no {' or '.join(candidates)} column; the header is {excerpt(text)}"
    )


def _csv_instants(frame: pl.DataFrame, index: int, path: Path, column: str) -> pl.DataFrame:
    # The index-th field of a CSV line: quoted ("a,b" with "" escapes) or plain.
    field = r'"(?:[^"]|"")*"|[^,]*'
    pattern = rf"^(?:(?:{field}),){{{index}}}({field})"
    raw = pl.col("line").str.extract(pattern, 1).str.strip_chars(" \r").str.strip_chars('"')
    return _parsed(frame.with_columns(raw=raw), _CSV_TIME, path, column, "line").drop("raw")


def _parsed(frame: pl.DataFrame, fmt: str, path: Path, column: str, unit: str) -> pl.DataFrame:
    """`frame` with `instant` (aware UTC) parsed from `raw`; a value that does not parse is an
    error naming the file, the line (or item) and the value."""
    frame = frame.with_columns(
        instant=pl.col("raw")
        .str.strptime(pl.Datetime("us"), fmt, strict=False)
        .dt.replace_time_zone("UTC")
    )
    bad = frame.filter(pl.col("instant").is_null())
    if not bad.is_empty():
        n, value = bad.select("n", "raw").row(0)
        shown = "nothing" if value is None else excerpt(value)
        example = "5/1/2025 4:00:00 AM" if fmt == _CSV_TIME else "2025-05-01T04:00:00"
        raise MalformedFileError(
            f"{path}: {unit} {n}: {column} is {shown}, not a UTC time like {example}"
        )
    return frame


# -- market days -----------------------------------------------------------------------------------


def _local_day(instant: pl.Expr) -> pl.Expr:
    return instant.dt.convert_time_zone(TIMEZONE).dt.date()


def _local_days(instants: pl.Series) -> pl.Series:
    return pl.select(_local_day(pl.lit(instants))).to_series()


def _day_spans(frame: pl.DataFrame) -> pl.DataFrame:
    """(day, first, last): each market day's earliest and latest row start."""
    return (
        frame.group_by(day=pl.col("instant").pipe(_local_day))
        .agg(first=pl.col("instant").min(), last=pl.col("instant").max())
        .select("day", "first", "last")
    )


def _merge_spans(left: pl.DataFrame, right: pl.DataFrame) -> pl.DataFrame:
    return (
        pl.concat([left, right])
        .group_by("day")
        .agg(first=pl.col("first").min(), last=pl.col("last").max())
        .select("day", "first", "last")
    )
