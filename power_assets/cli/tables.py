"""Showing and writing tables: every column printed, exports to CSV and parquet, markdown.

What belongs here: how a frame reaches the terminal or a file. polars hides columns (and
shortens long text) past a width; the command line never hides a column, so a wide result
makes long lines rather than a `…` in place of half its columns.
"""

import sys
from pathlib import Path
from typing import TextIO

import polars as pl

DEFAULT_ROWS = 40
# polars' widest table (a u16); far wider than any terminal, so no column is ever elided.
MAX_WIDTH = 65_535
TEXT_CHARS = 120  # longer text cells are cut with "…" on screen (never in the exports)


def show(
    frame: pl.DataFrame, rows: int = DEFAULT_ROWS, stream: TextIO | None = None, shape: bool = True
) -> None:
    """Print every column of `frame` (its shape first, unless `shape` is false); its first and
    last rows when it has more than `rows` (-1: every row)."""
    with pl.Config(
        tbl_cols=-1,
        tbl_rows=rows,
        tbl_width_chars=MAX_WIDTH,
        fmt_str_lengths=TEXT_CHARS,
        tbl_hide_dataframe_shape=not shape,
    ):
        print(frame, file=stream or sys.stdout)


def export(
    frame: pl.DataFrame, csv: Path | None = None, parquet: Path | None = None
) -> Path | None:
    """Write `frame` whole to the CSV or parquet file asked for (folders created); its path."""
    target = csv or parquet
    if target is None:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    if csv is not None:
        frame.write_csv(csv)
    else:
        frame.write_parquet(target)
    return target


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A "|" would end the cell (partition keys hold one); a newline would end the row.
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(frame: pl.DataFrame) -> str:
    """A GitHub-flavoured markdown table of `frame` (every row, every column)."""
    header = "| " + " | ".join(_cell(c) for c in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join([header, rule, *body])
