"""Reading PJM Data Miner 2 files: API JSON pages and the web site's CSV exports.

What belongs here: the public `parse_files`, telling a JSON page from a CSV export, which feed a
file is (the page's `links[rel=self]` URL, else its columns), and turning published values into
typed columns (UTC instants from the naive `_utc` text, numbers, ids, booleans), with an error
that names the file for anything that does not read. What each feed's columns mean and the
standardized tables live in `parsing_tables`.

Instants come only from the `_utc` columns: the `_ept` columns are naive local time that repeats
01:00 on the fall-back day. Pages are read in a few threads (polars releases the GIL); each page
is reduced to the columns its feed needs at once, so a 3-million-row day holds only those.
"""

import os
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import polars as pl

from power_assets.errors import (
    IsoErrorResponse,
    MalformedFileError,
    SchemaDriftError,
    UnknownDatasetError,
    excerpt,
)
from power_assets.isos.pjm.parsing_tables import (
    BUILDERS,
    DATASET_FEEDS,
    DTYPES,
    FEEDS,
    FLAG,
    ID,
    NUMBER,
    TIME,
    Column,
    Feed,
    empty_canonical,
)

# Time formats PJM writes, tried on a file's first value: the API's JSON (fractional seconds
# optional) and the Data Miner export's US style; the others tolerate re-saved exports.
TIME_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
)
_TRUE = ("true", "t", "1", "yes", "y")
_FALSE = ("false", "f", "0", "no", "n")
_SHOWN = 3  # bad values quoted in an error
_MAX_THREADS = 4


@dataclass(frozen=True)
class Source:
    """One file's rows of one feed, typed (see parsing_tables: canonical frames); for an API
    page, the `totalRows` it reports and its query (searchSpecification without the paging)."""

    path: Path
    feed: str
    frame: pl.DataFrame
    total: int | None = None
    query: str | None = None


def parse_files(dataset_id: str, paths: Sequence[Path]) -> tuple[pl.DataFrame, dict[str, int]]:
    """The standardized rows of PJM files of one dataset (API JSON pages and/or Data Miner CSV
    exports), and counts worth reporting (notes).

    Files of different formats and feeds of the dataset may be mixed; each feed keeps its own
    market. Notes: `rows_superseded` (LMP, always: rows whose row_is_current is false, dropped),
    `rows_named_with_pnode_id` (LMP rows of a pnode_name two nodes share, named
    "{name} ({id})"), `rows_unmapped_product` (AS rows of an unknown service, kept under its code),
    `rows_not_verified` (metered load not yet verified, kept), `instantaneous_samples` (inst_load
    samples averaged into hours). Rows are not cut to a market day.
    """
    builder = BUILDERS.get(dataset_id)
    if builder is None:
        raise UnknownDatasetError(
            f"PJM parser knows no dataset {dataset_id!r}; it reads {', '.join(BUILDERS)}"
        )
    paths = [Path(path) for path in paths]
    sources = _read_all(dataset_id, paths)
    _refuse_missing_pages(sources)
    parts: dict[str, list[pl.DataFrame]] = defaultdict(list)
    origins: dict[str, set[str]] = defaultdict(set)
    for source in sources:
        parts[source.feed].append(source.frame)
        # The pages of one query are one origin (counted complete above); an export is its own.
        origins[source.feed].add(source.query if source.query is not None else str(source.path))
    repeated = 0
    for feed, frames in parts.items():
        if len(origins[feed]) > 1:
            # Overlapping files (two exports of the same days, a query saved twice) repeat rows
            # exactly: kept once and counted. Rows that differ under one key stay, and the
            # duplicate-key check blocks the day. The pages of one download are not compared:
            # a 3-million-row day would pay for it on every run.
            together = pl.concat(frames, how="vertical")
            unique = together.unique(maintain_order=True)
            repeated += together.height - unique.height
            parts[feed] = [unique]
    frame, notes = builder(parts, dataset_id)
    return frame, ({**notes, "rows_repeated_across_files": repeated} if repeated else notes)


def _refuse_missing_pages(sources: list[Source]) -> None:
    """The API pages of one query must hold all of its `totalRows` (stage 1 keeps only complete
    page sequences; a user's dropped pages may not be): else the day would load partially."""
    groups: dict[tuple[str, str], list[Source]] = defaultdict(list)
    for source in sources:
        if source.total is not None and source.query is not None:
            groups[source.feed, source.query].append(source)
    for group in groups.values():
        totals = {source.total for source in group}
        if len(totals) != 1:
            continue  # pages cut per day from saved pages: each reports its own rows
        (total,) = totals
        held = sum(source.frame.height for source in group)
        if held < total:
            names = ", ".join(source.path.name for source in group[:5])
            raise MalformedFileError(
                f"{group[0].path.parent}: {len(group)} page(s) of one {group[0].feed} query "
                f"({names}) hold {held:,} of its {total:,} rows: pages are missing, and the day "
                "is not loaded partially. Drop (or fetch) every page of the query"
            )


def _read_all(dataset_id: str, paths: list[Path]) -> list[Source]:
    workers = min(_MAX_THREADS, os.cpu_count() or 1, len(paths))
    if workers <= 1:
        return [s for path in paths if (s := read_source(dataset_id, path)) is not None]
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pjm-parse")
    try:
        read = list(pool.map(lambda path: read_source(dataset_id, path), paths))
    finally:
        # The first error is raised as it is; pages not started yet are not read.
        pool.shutdown(wait=True, cancel_futures=True)
    return [source for source in read if source is not None]


def read_source(dataset_id: str, path: Path) -> Source | None:
    """One file's typed rows, or None for a JSON page without items that does not name its
    feed (an empty answer: nothing to read, nothing to identify)."""
    head = _head(path)
    total = query = None
    if head.startswith((b"{", b"[")):
        named, items, total, query = _read_page(path)
    else:
        named, items = None, _read_export(path)
    columns = items.collect_schema().names()
    if not columns:  # a page without items (totalRows 0)
        if named is None:
            return None
        feed = FEEDS[_identify(dataset_id, path, named, columns)]
        return Source(path, feed.name, empty_canonical(feed), total, query)
    feed = FEEDS[_identify(dataset_id, path, named, columns)]
    return Source(path, feed.name, _typed(items, feed, str(path)), total, query)


def _head(path: Path, size: int = 64) -> bytes:
    try:
        with path.open("rb") as handle:
            head = handle.read(size)
    except OSError as exc:
        raise MalformedFileError(f"{path}: cannot read: {exc}") from exc
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not head:
        raise MalformedFileError(f"{path}: empty file, neither a Data Miner JSON page nor a CSV")
    return head


# --- reading ---------------------------------------------------------------------------------


def _read_page(path: Path) -> tuple[str | None, pl.LazyFrame, int | None, str | None]:
    """A Data Miner JSON page's feed (from its self link), its items (one column per field),
    its `totalRows` and its query (searchSpecification without startRow and rowCount)."""
    try:
        # One top-level row: the nested items' types are still inferred from every item.
        page = pl.read_json(path, infer_schema_length=1)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise MalformedFileError(
            f"{path}: not a Data Miner JSON page ({type(exc).__name__}); starts "
            f"{excerpt(_head(path, 400))}"
        ) from exc
    if "items" not in page.columns:
        _raise_error_document(path, page)
    items = page.get_column("items")
    if page.height != 1 or not isinstance(items.dtype, pl.List):
        raise MalformedFileError(f"{path}: `items` is not a list of records (a {items.dtype})")
    named = _self_feed(page)
    total, query = _paging(page)
    if items.list.len()[0] == 0:
        return named, pl.LazyFrame(), total, query
    if not isinstance(items.dtype.inner, pl.Struct):
        raise MalformedFileError(f"{path}: `items` holds {items.dtype.inner}, not records")
    rows = page.lazy().select(pl.col("items").explode(empty_as_null=True)).unnest("items")
    return named, rows, total, query


def _paging(page: pl.DataFrame) -> tuple[int | None, str | None]:
    """(totalRows, the query without its paging) of a page; None where the page does not say."""
    total = page.get_column("totalRows")[0] if "totalRows" in page.columns else None
    spec = (
        page.get_column("searchSpecification")[0] if "searchSpecification" in page.columns else None
    )
    query = None
    if isinstance(spec, dict):
        rest = {k: v for k, v in spec.items() if k.lower() not in ("startrow", "rowcount")}
        query = repr(sorted(rest.items()))
    return (total if isinstance(total, int) else None), query


def _self_feed(page: pl.DataFrame) -> str | None:
    """The feed named by the page's self link (.../api/v1/{feed}?...), if it has one."""
    if "links" not in page.columns:
        return None
    links = page.get_column("links")
    if not isinstance(links.dtype, pl.List) or not isinstance(links.dtype.inner, pl.Struct):
        return None
    for link in links[0].to_list() or ():
        if isinstance(link, dict) and link.get("rel") == "self" and link.get("href"):
            return urlsplit(str(link["href"])).path.rstrip("/").rsplit("/", 1)[-1] or None
    return None


def _raise_error_document(path: Path, page: pl.DataFrame) -> None:
    record = page.row(0, named=True) if page.height else {}
    if isinstance(record.get("errors"), list):
        described = "; ".join(
            " ".join(
                str(error.get(key)) for key in ("field", "message", "detail") if error.get(key)
            )
            for error in record["errors"]
            if isinstance(error, dict)
        )
        raise IsoErrorResponse(str(path), "errors", excerpt(described, 400))
    if "statusCode" in record:
        raise IsoErrorResponse(
            str(path), str(record["statusCode"]), excerpt(str(record.get("message")), 400)
        )
    raise MalformedFileError(
        f"{path}: a JSON document without `items`: not a Data Miner page (keys "
        f"{excerpt(', '.join(page.columns))})"
    )


def _read_export(path: Path) -> pl.LazyFrame:
    """A Data Miner CSV export, every column as text (names stripped and lower-cased)."""
    try:
        frame = pl.scan_csv(path, infer_schema=False)
        names = frame.collect_schema().names()
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise MalformedFileError(f"{path}: not a readable CSV export: {exc}") from exc
    renamed = {name: name.strip().lower() for name in names}
    if len(set(renamed.values())) < len(names):
        raise MalformedFileError(
            f"{path}: repeated column names in the header {excerpt(','.join(names))}"
        )
    return frame.rename(renamed)


def _identify(dataset_id: str, path: Path, named: str | None, columns: list[str]) -> str:
    """Which feed of the dataset the file is: the page's own link says it; else its columns."""
    feeds = DATASET_FEEDS[dataset_id]
    if named is not None:
        if named not in feeds:
            raise MalformedFileError(
                f"{path}: a page of feed {excerpt(named)}; dataset {dataset_id} reads "
                f"{' or '.join(feeds)}"
            )
        return named
    if len(feeds) == 1:
        return feeds[0]
    present = set(columns)
    matching = [feed for feed in feeds if FEEDS[feed].markers & present]
    if len(matching) != 1:
        said = "matches several of" if matching else "matches none of"
        raise MalformedFileError(
            f"{path}: its columns ({excerpt(', '.join(columns), 300)}) {said} the feeds of "
            f"dataset {dataset_id} ({', '.join(feeds)}), and the file does not name its feed"
        )
    return matching[0]


# --- typed columns ---------------------------------------------------------------------------


def _typed(items: pl.LazyFrame, feed: Feed, source: str) -> pl.DataFrame:
    """The feed's columns of one file with their internal names and types, checked."""
    present = items.collect_schema()
    missing = [name for name in feed.required if name not in present]
    if missing:
        raise SchemaDriftError(source, missing, [])
    try:
        raw = items.select([column.source for column in feed.columns if column.source in present])
        raw = raw.collect()
        return raw.select(
            _convert(raw.get_column(column.source), column, source)
            if column.source in present
            else pl.lit(None, DTYPES[column.kind]).alias(column.name)
            for column in feed.columns
        )
    except pl.exceptions.PolarsError as exc:
        # e.g. a record where a value was expected: name the file, quote polars briefly.
        raise MalformedFileError(f"{source}: unreadable rows: {excerpt(str(exc), 300)}") from exc


def _convert(values: pl.Series, column: Column, source: str) -> pl.Series:
    if values.dtype.is_nested():
        raise MalformedFileError(
            f"{source}: {column.source} holds {values.dtype} values, not single values; first: "
            f"{_shown(values.drop_nulls())}"
        )
    if column.kind == TIME:
        return _times(values, column, source)
    if column.kind == NUMBER:
        return _numbers(values, column, source)
    if column.kind == FLAG:
        return _flags(values, column, source)
    if column.kind == ID and values.dtype.is_float():
        values = _numbers(values, column, source).cast(pl.Int64, strict=False)
    converted = values.cast(pl.Utf8)
    if values.dtype == pl.Utf8:
        converted = converted.str.strip_chars()
    return converted.alias(column.name)


def _times(values: pl.Series, column: Column, source: str) -> pl.Series:
    """UTC instants from PJM's naive UTC text. A null in a required time is an error too:
    a row without its instant cannot be placed."""
    text = values.cast(pl.Utf8).str.strip_chars()
    first = text.drop_nulls().head(1)
    fmt = next(
        (
            f
            for f in TIME_FORMATS
            if first.str.strptime(pl.Datetime("us"), f, strict=False).is_not_null().all()
        ),
        TIME_FORMATS[0],
    )
    parsed = text.str.strptime(pl.Datetime("us"), fmt, strict=False)
    bad = parsed.is_null() & (text.is_not_null() | column.required)
    if bad.any():
        raise MalformedFileError(
            f"{source}: {bad.sum():,} value(s) of {column.source} are not times like "
            f"2026-06-09T04:00:00 or 5/1/2025 4:00:00 AM; first: {_shown(text.filter(bad))}"
        )
    return parsed.dt.replace_time_zone("UTC").alias(column.name)


def _numbers(values: pl.Series, column: Column, source: str) -> pl.Series:
    if values.dtype.is_numeric() or values.dtype == pl.Null:
        return values.cast(pl.Float64).alias(column.name)
    text = values.cast(pl.Utf8).str.strip_chars()
    # An empty cell is the ISO saying nothing (null); any other text must be a number.
    text = pl.Series(column.name, text).replace("", None)
    numbers = text.cast(pl.Float64, strict=False)
    bad = numbers.is_null() & text.is_not_null()
    if bad.any():
        raise MalformedFileError(
            f"{source}: {bad.sum():,} value(s) of {column.source} are not numbers; first: "
            f"{_shown(text.filter(bad))}"
        )
    return numbers.alias(column.name)


def _flags(values: pl.Series, column: Column, source: str) -> pl.Series:
    if values.dtype == pl.Boolean or values.dtype == pl.Null:
        return values.cast(pl.Boolean).alias(column.name)
    text = values.cast(pl.Utf8).str.strip_chars().str.to_lowercase()
    word = pl.col(column.name)
    flags = (
        text.rename(column.name)
        .to_frame()
        .select(pl.when(word.is_in(_TRUE)).then(True).when(word.is_in(_FALSE)).then(False))
        .to_series()
    )
    bad = flags.is_null() & text.is_not_null() & (text != "")
    if bad.any():
        raise MalformedFileError(
            f"{source}: {bad.sum():,} value(s) of {column.source} are neither True nor False; "
            f"first: {_shown(values.filter(bad))}"
        )
    return flags.alias(column.name)


def _shown(values: pl.Series) -> str:
    return ", ".join(excerpt(str(value)) for value in values.head(_SHOWN).to_list())
