"""Text cells to numbers, as every CSV parser needs them: one rule for all ISOs.

An ISO's value columns arrive as text. A cell that is empty (or only spaces) is a value the ISO
did not publish: null, reported by the checks. Anything else that does not read as a number is an
error naming the file, the row and the value (never a silent null).
"""

from collections.abc import Sequence

import polars as pl

from power_assets.errors import MalformedFileError, excerpt


def text_to_numbers(
    frame: pl.DataFrame,
    columns: Sequence[str],
    source: str,
    *,
    first_row: int = 2,
    row_of: str | None = None,
) -> pl.DataFrame:
    """`columns` of `frame` as Float64 (stripped; empty cells null). An unreadable cell is an
    error: its row is `first_row` + its index (2: a header line, then 1-based rows), or the
    value of column `row_of` (a line number the parser kept) when given."""
    out = frame.with_columns(
        pl.col(c).cast(pl.Utf8).str.strip_chars().cast(pl.Float64, strict=False) for c in columns
    )
    for column in columns:
        raw = frame.get_column(column).cast(pl.Utf8).str.strip_chars()
        bad = (raw.is_not_null() & (raw != "") & out.get_column(column).is_null()).arg_true()
        if len(bad):
            index = int(bad[0])
            where = (
                f"line {frame.get_column(row_of)[index]}" if row_of else f"row {index + first_row}"
            )
            raise MalformedFileError(
                f"{source}: {where}: {column!r} value {excerpt(raw[index])} is not a number "
                f"({len(bad)} bad value(s) in that column)"
            )
    return out
