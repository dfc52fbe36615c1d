"""Reading many small ERCOT CSVs in few polars scans: sources, header checks, strings to values.

What belongs here: finding the CSVs behind a list of paths (plain files, MIS document zips,
nested archives) in posting order, checking each file's header against a report layout (names
stripped, case-insensitive; only the DST flag may be missing), reading files with one scan per
distinct header, and the row checks that name the offending file. What the columns mean is
`parsing`'s business.
"""

import csv
import io
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from power_assets.errors import MalformedFileError, SchemaDriftError
from power_assets.isos.ercot.reports import TIMEZONE, ErcotDocument, parse_document_name
from power_assets.isos.headers import MAX_HEADER_BYTES, header_line


@dataclass(frozen=True)
class Layout:
    """The stripped header of one report; `flag` (DSTFlag/RepeatedHourFlag) may be absent.
    Only the numeric `values` may be empty; an empty name or time means a broken row."""

    columns: tuple[str, ...]
    values: tuple[str, ...]
    flag: str = "DSTFlag"


@dataclass(frozen=True)
class Source:
    """One CSV to read: a file on disk, or a zip member held in memory."""

    name: str  # what errors call it: the path, or `archive!member`
    # (post time, position in paths, member index); a file without a cdr name counts as posted
    # before every named one, and among its kind by position.
    order: tuple[datetime, int, int]
    posted: datetime | None  # UTC post time from the cdr name, if it has one
    path: Path | None = None
    content: bytes | None = None
    head: bytes | None = None  # a file's first bytes, read when it was found (its header line)


_UNNAMED = datetime.min.replace(tzinfo=UTC)  # files without a cdr name sort before named ones


def sources_of(paths: Sequence[Path], report_type_id: int) -> list[Source]:
    """Every CSV behind `paths`, oldest-posted first (files without a cdr name by position).

    Archives may mix reports (users' bulk archives): members named for another report are
    skipped; files passed directly are the caller's choice and always read.
    """
    found: list[Source] = []
    seen: set[str] = set()  # a path's text stands for it (its normalized form)
    for position, path in enumerate(p if isinstance(p, Path) else Path(p) for p in paths):
        if str(path) in seen:
            continue
        seen.add(str(path))
        doc = parse_document_name(path.name)
        with open(path, "rb") as handle:
            head = handle.read(_HEAD_BYTES)
        if head[:4] != b"PK\x03\x04":
            posted = doc.posted if doc else None
            order = (posted or _UNNAMED, position, 0)
            found.append(Source(str(path), order, posted, path, head=head))
            continue
        members = []
        for name, content in zip_csvs(path.read_bytes(), str(path)):
            doc = _document(name)
            if doc is None or doc.report_type_id == report_type_id:
                members.append((name, content, doc.posted if doc else None))
        if not members:
            raise MalformedFileError(f"{path}: archive holds no CSV of report {report_type_id}")
        for index, (name, content, posted) in enumerate(members):
            order = (posted or _UNNAMED, position, index)
            found.append(Source(name, order, posted, content=content))
    return sorted(found, key=lambda source: source.order)


def _document(name: str) -> ErcotDocument | None:
    """The innermost ERCOT document a (possibly `archive!member`) name is part of."""
    for part in reversed(name.split("!")):
        doc = parse_document_name(part)
        if doc is not None:
            return doc
    return None


def zip_csvs(content: bytes, source: str) -> list[tuple[str, bytes]]:
    """(`source!member`, bytes) of the CSVs in a zip, descending into nested zips."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    except (zipfile.BadZipFile, OSError) as exc:
        raise MalformedFileError(f"{source}: unreadable zip archive: {exc}") from exc
    found = []
    for name, data in members:
        inner = f"{source}!{name}"
        if name.lower().endswith(".zip"):
            found.extend(zip_csvs(data, inner))
        elif name.lower().endswith(".csv"):
            found.append((inner, data))
    return found


# What `sources_of` reads of each file: a header line is short, so this is usually all of it.
_HEAD_BYTES = 4096


def _first_line(source: Source) -> str:
    head = source.head
    if head is not None and (b"\n" in head or len(head) < _HEAD_BYTES):
        return header_line(head, source.name)
    if source.path is not None:
        with source.path.open("rb") as handle:
            # One byte more than a header may hold, so an overlong line is seen as one.
            head = handle.read(MAX_HEADER_BYTES + 1)
    else:
        head = (source.content or b"")[: MAX_HEADER_BYTES + 1]
    return header_line(head, source.name)


def check_header(line: str, layout: Layout, source: str) -> tuple[list[str], bool]:
    """The file's columns under their canonical names, and whether it has the DST flag.

    Names are compared stripped and case-insensitively; anything missing (except the flag) or
    extra is schema drift naming `source`.
    """
    if not line.strip():
        raise MalformedFileError(f"{source}: empty file (no header line)")
    canonical = {column.lower(): column for column in layout.columns}
    written = [name.strip() for name in next(csv.reader([line]))]
    names = [canonical.get(name.lower(), name) for name in written]
    unexpected = [w for w, n in zip(written, names, strict=True) if n not in layout.columns]
    unexpected += sorted({n for n in names if n in layout.columns and names.count(n) > 1})
    missing = [c for c in layout.columns if c not in names and c != layout.flag]
    if missing or unexpected:
        raise SchemaDriftError(source, missing, unexpected)
    return names, layout.flag in names


def read_all(sources: list[Source], layout: Layout) -> tuple[pl.DataFrame, int]:
    """All rows under canonical names, plus `_source` (the file's name); `add_ranks` adds each
    file's place in posting order. Identity columns (all but `layout.values`) are Categorical,
    stripped, never null or empty; values are Float64 (stripped, an empty cell null). Columns
    come in chunks (a file is one or a few): rechunk what many expressions will run over."""
    groups: dict[str, list[Source]] = {}
    for source in sources:
        groups.setdefault(_first_line(source), []).append(source)
    checked = []
    without_flag = 0
    for line, group in groups.items():
        others = f" (and {len(group) - 1} other file(s) with this header)" if len(group) > 1 else ""
        names, has_flag = check_header(line, layout, group[0].name + others)
        without_flag += 0 if has_flag else len(group)
        checked.append((group, names, has_flag))
    identity = [c for c in layout.columns if c not in layout.values]
    try:  # values read as numbers by the CSV reader, as they usually are
        raw = _read_checked(checked, layout, pl.Float64, _scan_group)
    except pl.exceptions.PolarsError:  # a padded or bad value, or a bad file: as text, checked
        raw = _read_checked(checked, layout, pl.String, _read_group)
    raw = _stripped(raw, identity)
    # Whether any identity cell is empty: no cell is "" unless the categories hold "", and then
    # one pass tells; per column only to name it.
    nulls = any(raw.get_column(column).null_count() for column in identity)
    empty = any("" in raw.schema[column].categories for column in identity)
    if nulls or (empty and raw.select(pl.any_horizontal(pl.col(identity) == "").any()).item()):
        for column in identity:
            empty = pl.col(column).is_null() | (pl.col(column) == "")
            require(raw, empty, f"a row has no {column} (short or broken row)")
    raw = to_numbers(raw, [c for c in layout.values if raw.schema[c] == pl.String])
    return raw, without_flag


def _read_checked(
    checked: list[tuple[list[Source], list[str], bool]],
    layout: Layout,
    values: type[pl.DataType],
    read: Callable[[list[Source], dict[str, pl.DataType]], pl.DataFrame],
) -> pl.DataFrame:
    """The groups of files (with their checked header names) read by `read`, identity columns
    as categoricals and value columns as `values`, in one frame of `layout.columns` and
    `_source`."""
    identity = [c for c in layout.columns if c not in layout.values]
    frames = []
    for group, names, has_flag in checked:
        frame = read(group, {n: _TEXT if n in identity else values for n in names})
        if not has_flag:
            frame = frame.with_columns(pl.lit("N", _TEXT).alias(layout.flag))
        if frame.columns != [*layout.columns, "_source"]:
            frame = frame.select(*layout.columns, "_source")
        frames.append(frame)
    if not frames:
        empty = {c: _TEXT if c in identity else values for c in layout.columns}
        frames.append(pl.DataFrame(schema={**empty, "_source": pl.String}))
    return pl.concat(frames, how="vertical", rechunk=False)


# Identity columns are read as categoricals: their few distinct values are checked and stripped
# once each, not per row, and parsers can work on their codes.
_TEXT = pl.Categorical


def add_ranks(raw: pl.DataFrame, sources: list[Source]) -> pl.DataFrame:
    """`raw` with `_rank`: each row's file's place in posting order. A file's rows are one run,
    so the names are looked up once per run."""
    source = raw.get_column("_source")
    ranks = {s.name: rank for rank, s in enumerate(sources)}
    names = source.rle().struct.field("value")
    per_run = pl.Series("_rank", [ranks[name] for name in names], dtype=pl.Int64)
    return raw.with_columns(per_run.gather(source.rle_id()))


def _stripped(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Categorical `columns` without surrounding whitespace. Columns sharing categories (by
    default all do) are checked once, on the distinct values: unless one is padded, no cell is."""
    seen: list[pl.DataType] = []
    for column in columns:
        dtype = frame.schema[column]
        if any(dtype == other for other in seen):
            continue
        seen.append(dtype)
        # The dtype's categories, in code order (polars 2 removed `cat.get_categories()`).
        values = dtype.categories.to_series()
        if not (values.str.strip_chars() == values).all():
            strip = pl.col(columns).cast(pl.String).str.strip_chars().cast(_TEXT)
            return frame.with_columns(strip)
    return frame


def _read_group(group: list[Source], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """`_scan_group`, an error naming the file that cannot be read."""
    try:
        return _scan_group(group, schema)
    except pl.exceptions.PolarsError as exc:
        if len(group) > 1:  # name the culprit rather than the whole group
            for source in group:
                _read_group([source], schema)
        raise MalformedFileError(f"{group[0].name}: unreadable CSV: {exc}") from exc


def _scan_group(group: list[Source], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """One scan for the group's files on disk; zip members, already in memory, one by one.
    `schema`: the files' columns in order (canonical names), with the types to read them as."""
    # Types by position, then names by position: polars 2 matches a `schema` dict against the
    # header by name, and files write names padded (" HourEnding", "DSTFlag    ").
    options = {"has_header": True, "infer_schema": False, "schema_overrides": list(schema.values())}
    frames = [
        pl.read_csv(io.BytesIO(s.content), **options).with_columns(_source=pl.lit(s.name))
        for s in group
        if s.content is not None
    ]
    on_disk = [str(s.path) for s in group if s.path is not None]
    if on_disk:
        scan = pl.scan_csv(on_disk, include_file_paths="_source", glob=False, **options)
        frames.append(scan.collect())
    names = dict(zip(frames[0].columns, schema, strict=False))  # `_source` keeps its name
    return pl.concat(frames, how="vertical").rename(names)


def require(frame: pl.DataFrame, bad: pl.Expr, problem: str) -> None:
    """Raise MalformedFileError naming the file of the first row where `bad` holds; `problem`
    is formatted with that row (`{HourEnding!r}`)."""
    hits = frame.filter(bad.fill_null(False))
    if hits.height:
        row = hits.row(0, named=True)
        message = problem.format(**row, tz=TIMEZONE)
        raise MalformedFileError(f"{row['_source']}: {message} ({hits.height} such row(s))")


def to_numbers(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """Cast value columns (text) to Float64: stripped, an empty cell null, anything unparsable
    an error."""
    if not columns:
        return frame
    out = frame.with_columns(
        pl.col(c).cast(pl.Float64, strict=False).alias(f"_{c}") for c in columns
    )
    for c in columns:
        # Usually every cell reads as it is; only a padded, blank or bad cell needs more.
        missed = pl.col(c).is_not_null() & pl.col(f"_{c}").is_null()
        if out.select(missed.any()).item():
            text = pl.col(c).str.strip_chars()
            number = text.replace("", None).cast(pl.Float64, strict=False).alias(f"_{c}")
            out = out.with_columns(text, number)
            bad = (pl.col(c) != "") & pl.col(f"_{c}").is_null()
            require(out, bad, f"{c} value {{{c}!r}} is not a number")
    return out.drop(columns).rename({f"_{c}": c for c in columns})
