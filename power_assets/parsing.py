"""`parse_file`: the public entry point for turning one raw ISO file into a standardized table.

Users with files already on disk call it directly; stage 2 calls the same ISO parsers.
"""

from pathlib import Path

import polars as pl

from power_assets.isos import get_iso
from power_assets.kinds import kind_spec
from power_assets.schemas import validate_standardized


def parse_file(iso: str, dataset: str, path: str | Path) -> pl.DataFrame:
    """Parse one raw file (ZIP or CSV, as the ISO serves it) into the standardized long table.

    >>> parse_file("CAISO", "lmp_da", "20240101_PRC_LMP_DAM.zip")  # doctest: +SKIP

    Raises a `power_assets.errors.PowerAssetsError` naming the file on schema drift, ISO error
    documents, or unreadable content. Rows are not filtered to a market day.
    """
    return parse_files(iso, dataset, [Path(path)])


def parse_files(iso: str, dataset: str, paths: list[Path]) -> pl.DataFrame:
    """Parse several raw files of one dataset (e.g. the hourly chunks of a day) into one table."""
    definition = get_iso(iso)
    spec = definition.dataset(dataset)
    for path in paths:
        if not Path(path).is_file():
            raise FileNotFoundError(f"{path}: no such file")
    frame = definition.parse(dataset, paths)
    validate_standardized(frame, kind_spec(spec.kind).model, ", ".join(str(p) for p in paths[:3]))
    return frame
