"""ISO Express's record format: the "C"/"H"/"D"/"T" CSV layout of ISO-NE's static reports.

What belongs here: splitting such a file into its comments, header names (and types), data rows and
trailer, and checking the trailer's count. Nothing here knows a particular report; the ISO-NE
parsers in `express` turn the string table returned here into standardized rows.

Every line starts with its record type: `"C"` comment, `"H"` header (the first H line holds the
column names, a second one, where present, their types), `"D"` data, `"T"` trailer (e.g.
`"T","24 lines"`: the number of data lines, which is checked). The data lines are read by polars in
one pass, never row by row in Python.
"""

import csv
import io
import re
from dataclasses import dataclass

import polars as pl

from power_assets.errors import MalformedFileError, SchemaDriftError
from power_assets.isos.headers import header_line

RECORD_TYPES = frozenset("CHDT")
_TRAILER_COUNT = re.compile(r"(\d+)")


@dataclass(frozen=True)
class RecordFile:
    """One ISO Express file, split by record type.

    `data` has one String column per header name (in header order) and one row per D line, values
    exactly as written (quotes removed, empty fields null). `header` is the first H line as written;
    `types` the second H line, if any. `header_rows` are leading D lines the report uses as extra
    header lines (see `read_records`), as lists of strings.
    """

    source: str
    header: list[str]
    types: list[str] | None
    comments: list[str]
    data: pl.DataFrame
    header_rows: list[list[str]]
    trailer_count: int

    def check_header(self, expected: list[str]) -> None:
        """Raise SchemaDriftError naming the file unless the header has exactly these names."""
        missing = [c for c in expected if c not in self.header]
        unexpected = [c for c in self.header if c not in expected]
        if missing or unexpected:
            raise SchemaDriftError(self.source, missing, unexpected)

    def numbers(self, columns: dict[str, str]) -> pl.DataFrame:
        """`data` plus the named string columns as Float64 under new names (raw -> new); a value
        that is neither empty nor a number raises MalformedFileError naming the file."""
        cast = self.data.with_columns(
            pl.col(raw).str.strip_chars().cast(pl.Float64, strict=False).alias(new)
            for raw, new in columns.items()
        )
        for raw, new in columns.items():
            bad = cast.filter(pl.col(new).is_null() & (pl.col(raw).str.strip_chars() != ""))
            if bad.height:
                raise MalformedFileError(
                    f"{self.source}: {bad.height} non-numeric {raw!r} value(s), "
                    f"e.g. {bad[raw][0]!r}"
                )
        return cast


def column_names(header: list[str]) -> list[str]:
    """Header names made usable as DataFrame columns: an empty name becomes `column_{n}` (1-based
    position) and a repeated name gets `_{n}` appended, so no column is dropped or merged."""
    names: list[str] = []
    for position, name in enumerate(header, start=1):
        name = name or f"column_{position}"
        if name in names:
            name = f"{name}_{position}"
        names.append(name)
    return names


def read_records(content: bytes, source: str, *, header_data_rows: int = 0) -> RecordFile:
    """Split an ISO Express record-format file; raise MalformedFileError naming `source` when it
    is not one, has no header, or its trailer count disagrees with its data lines.

    `header_data_rows` leading D lines are header material in some reports (the seven-day wind and
    solar forecasts carry their "Day" and "Date" lines as D records, and their trailer counts only
    the hourly lines); they are returned in `header_rows` and left out of the count.
    """
    header_line(content, source, skip_blank=True)  # an overlong first line is no record
    text = content.decode("utf-8-sig", errors="replace")
    lines = _lines(text, source)
    kind = pl.col("line").str.extract(r'^"?([A-Za-z])"?(?:,|$)', 1).str.to_uppercase()
    lines = lines.with_columns(kind.alias("kind"))
    unknown = lines.filter(pl.col("kind").is_null() | ~pl.col("kind").is_in(list(RECORD_TYPES)))
    if unknown.height:
        first = unknown.row(0, named=True)
        raise MalformedFileError(
            f"{source}: not an ISO Express record-format file: line {first['number']} "
            f"starts {first['line'][:60]!r} ({unknown.height} such line(s))"
        )
    by_kind = {k: lines.filter(pl.col("kind") == k) for k in RECORD_TYPES}
    headers = [_fields(line) for line in by_kind["H"].get_column("line")]
    if not headers:
        raise MalformedFileError(f'{source}: no "H" header record')
    header = headers[0][1:]
    data_lines = by_kind["D"].get_column("line")
    extra = [_fields(line)[1:] for line in data_lines.head(header_data_rows)]
    data_lines = data_lines.slice(header_data_rows)
    trailer_count = _trailer_count(by_kind["T"].get_column("line").to_list(), source)
    if trailer_count != data_lines.len():
        raise MalformedFileError(
            f"{source}: trailer says {trailer_count} data lines but the file has "
            f"{data_lines.len()} (truncated or corrupt download?)"
        )
    return RecordFile(
        source=source,
        header=header,
        types=headers[1][1:] if len(headers) > 1 else None,
        comments=[[*_fields(line), ""][1] for line in by_kind["C"].get_column("line")],
        data=_read_data(data_lines, column_names(header), source),
        header_rows=extra,
        trailer_count=trailer_count,
    )


def _lines(text: str, source: str) -> pl.DataFrame:
    """Every non-blank line with its 1-based line number (ISO Express puts blank lines after the
    comments in some reports). `str.splitlines` splits in C; the lines are then handled by polars."""
    return (
        pl.DataFrame({"line": text.splitlines()}, schema={"line": pl.String})
        .with_row_index("number", offset=1)
        .filter(pl.col("line").str.strip_chars() != "")
    )


def _fields(line: str) -> list[str]:
    return next(csv.reader([line]))


def _trailer_count(trailers: list[str], source: str) -> int:
    if len(trailers) != 1:
        what = 'no "T" trailer record' if not trailers else f"{len(trailers)} trailer records"
        raise MalformedFileError(f"{source}: {what} (truncated or corrupt download?)")
    fields = _fields(trailers[0])
    match = _TRAILER_COUNT.search(fields[1]) if len(fields) > 1 else None
    if match is None:
        raise MalformedFileError(f"{source}: trailer {trailers[0]!r} carries no line count")
    return int(match.group(1))


def _read_data(lines: pl.Series, names: list[str], source: str) -> pl.DataFrame:
    schema = {"_record": pl.String, **dict.fromkeys(names, pl.String)}
    if lines.is_empty():
        return pl.DataFrame(schema=schema).drop("_record")
    body = lines.str.join("\n").item() + "\n"
    try:
        # An unquoted empty field is null: empty_string_is_null=True is what polars 2 calls the
        # missing_utf8_is_empty_string=False that it removed.
        frame = pl.read_csv(
            io.StringIO(body), has_header=False, new_columns=list(schema), schema=schema,
            quote_char='"', empty_string_is_null=True,
        )  # fmt: skip
    except pl.exceptions.PolarsError as exc:
        raise MalformedFileError(
            f"{source}: data lines do not match the {len(names)} header columns: {exc}"
        ) from exc
    if frame.height != lines.len():
        raise MalformedFileError(
            f"{source}: read {frame.height} data rows from {lines.len()} data lines"
        )
    return frame.drop("_record")
