"""`parse_file`: the public entry point for turning one raw ISO file into a standardized table.

Users with files already on disk call it directly; stage 2 calls the same ISO parsers.
"""

import warnings
from pathlib import Path

import polars as pl

from power_assets.isos import get_iso
from power_assets.isos.base import PUBLISH_TIME_UNKNOWN
from power_assets.kinds import kind_spec
from power_assets.schemas import validate_standardized


def parse_file(iso: str, dataset: str, path: str | Path) -> pl.DataFrame:
    """Parse one raw file (ZIP or CSV, as the ISO serves it) into the standardized long table.

    >>> parse_file("CAISO", "lmp_da", "20240101_PRC_LMP_DAM.zip")  # doctest: +SKIP

    Raises a `power_assets.errors.PowerAssetsError` naming the file on schema drift, ISO error
    documents, or unreadable content. Rows are not filtered to a market day. What the file does
    not say is left null and told as a `ParseNote` warning (a renamed CAISO SLD_FCST CSV has no
    publish time); `parse_files_with_notes` returns the counts instead.
    """
    return parse_files(iso, dataset, [Path(path)])


class ParseNote(UserWarning):
    """Something a parsed table cannot say, e.g. forecast rows without a publish time."""


def parse_files(iso: str, dataset: str, paths: list[Path]) -> pl.DataFrame:
    """Parse several raw files of one dataset (e.g. the hourly chunks of a day) into one table."""
    frame, notes = parse_files_with_notes(iso, dataset, paths)
    if notes.get(PUBLISH_TIME_UNKNOWN):
        warnings.warn(
            ParseNote(
                f"{_describe(paths)}: publish_time is null for {notes[PUBLISH_TIME_UNKNOWN]} "
                f"rows: the file does not say when the forecast was issued (OASIS puts it in "
                "the file name, ..._YYYYMMDD_HH_MM_SS_v1.csv, which a renamed file has lost)"
            ),
            stacklevel=2,
        )
    return frame


def parse_files_with_notes(
    iso: str, dataset: str, paths: list[Path]
) -> tuple[pl.DataFrame, dict[str, int]]:
    """`parse_files`, plus the parser's notes (counts such as `rows_without_publish_time`)."""
    definition = get_iso(iso)
    spec = definition.dataset(dataset)
    for path in paths:
        if not Path(path).is_file():
            raise FileNotFoundError(f"{path}: no such file")
    frame, notes = definition.parse_with_notes(dataset, paths)
    validate_standardized(frame, kind_spec(spec.kind).model, _describe(paths))
    return frame, notes


def _describe(paths: list[Path]) -> str:
    return ", ".join(str(p) for p in paths[:3]) + (
        f" (+{len(paths) - 3} more)" if len(paths) > 3 else ""
    )
