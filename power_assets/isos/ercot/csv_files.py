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
from collections.abc import Sequence
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


_UNNAMED = datetime.min.replace(tzinfo=UTC)  # files without a cdr name sort before named ones


def sources_of(paths: Sequence[Path], report_type_id: int) -> list[Source]:
    """Every CSV behind `paths`, oldest-posted first (files without a cdr name by position).

    Archives may mix reports (users' bulk archives): members named for another report are
    skipped; files passed directly are the caller's choice and always read.
    """
    found: list[Source] = []
    seen: set[Path] = set()
    for position, path in enumerate(Path(p) for p in paths):
        if path in seen:
            continue
        seen.add(path)
        doc = parse_document_name(path.name)
        with path.open("rb") as handle:
            is_zip = handle.read(4) == b"PK\x03\x04"
        if not is_zip:
            posted = doc.posted if doc else None
            found.append(Source(str(path), (posted or _UNNAMED, position, 0), posted, path))
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


def _first_line(source: Source) -> str:
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
    """All rows under canonical names (stripped strings, values as Float64), plus `_source`
    and `_rank` (the file's place in posting order)."""
    groups: dict[str, list[Source]] = {}
    for source in sources:
        groups.setdefault(_first_line(source), []).append(source)
    ranks = {source.name: rank for rank, source in enumerate(sources)}
    frames, without_flag = [], 0
    for line, group in groups.items():
        others = f" (and {len(group) - 1} other file(s) with this header)" if len(group) > 1 else ""
        names, has_flag = check_header(line, layout, group[0].name + others)
        without_flag += 0 if has_flag else len(group)
        frame = _read_group(group, names)
        if not has_flag:
            frame = frame.with_columns(pl.lit("N").alias(layout.flag))
        frames.append(frame.select(*layout.columns, "_source"))
    if not frames:
        empty = {c: pl.String for c in (*layout.columns, "_source")}
        frames.append(pl.DataFrame(schema=empty))
    # One file is one chunk; expressions over thousands of tiny chunks are slow.
    raw = pl.concat(frames, how="vertical").rechunk()
    raw = raw.with_columns(
        pl.col(layout.columns).str.strip_chars(),
        pl.col("_source").replace_strict(ranks, return_dtype=pl.Int64).alias("_rank"),
    )
    identity = [c for c in layout.columns if c not in layout.values]
    # One pass to see whether any identity cell is empty; per column only to name it.
    if raw.select(pl.any_horizontal(pl.col(identity).fill_null("") == "").any()).item():
        for column in identity:
            empty = pl.col(column).is_null() | (pl.col(column) == "")
            require(raw, empty, f"a row has no {column} (short or broken row)")
    raw = to_numbers(raw, layout.values)
    return raw, without_flag


def _read_group(group: list[Source], names: list[str]) -> pl.DataFrame:
    """One scan for the group's files on disk; zip members, already in memory, one by one."""
    options = {"has_header": True, "new_columns": names, "infer_schema": False}
    try:
        frames = [
            pl.read_csv(io.BytesIO(s.content), **options).with_columns(_source=pl.lit(s.name))
            for s in group
            if s.content is not None
        ]
        on_disk = [str(s.path) for s in group if s.path is not None]
        if on_disk:
            scan = pl.scan_csv(on_disk, include_file_paths="_source", glob=False, **options)
            frames.append(scan.collect())
        return pl.concat(frames, how="vertical")
    except pl.exceptions.PolarsError as exc:
        if len(group) > 1:  # name the culprit rather than the whole group
            for source in group:
                _read_group([source], names)
        raise MalformedFileError(f"{group[0].name}: unreadable CSV: {exc}") from exc


def require(frame: pl.DataFrame, bad: pl.Expr, problem: str) -> None:
    """Raise MalformedFileError naming the file of the first row where `bad` holds; `problem`
    is formatted with that row (`{HourEnding!r}`)."""
    hits = frame.filter(bad.fill_null(False))
    if hits.height:
        row = hits.row(0, named=True)
        message = problem.format(**row, tz=TIMEZONE)
        raise MalformedFileError(f"{row['_source']}: {message} ({hits.height} such row(s))")


def to_numbers(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """Cast value columns to Float64: an empty cell is null, anything unparsable an error."""
    out = frame.with_columns(
        pl.col(c).replace("", None).cast(pl.Float64, strict=False).alias(f"_{c}") for c in columns
    )
    for c in columns:
        bad = (pl.col(c) != "") & pl.col(f"_{c}").is_null()
        require(out, bad, f"{c} value {{{c}!r}} is not a number")
    return out.drop(columns).rename({f"_{c}": c for c in columns})
