"""Stage 2: the extracted files of one market day become one validated, standardized parquet file.

Each file is parsed by its ISO's parser, clipped to the UTC window its request asked for (OASIS
repeats boundary intervals across chunks), and the day is cut to the ISO-local market day. What is
cut is counted and reported, never dropped silently.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import polars as pl

from power_assets.errors import MalformedFileError
from power_assets.isos.base import DatasetKind, IsoDefinition
from power_assets.kinds import kind_spec
from power_assets.layout import Layout
from power_assets.schemas import validate_standardized
from power_assets.stages.raw import read_extract_metadata


@dataclass
class StandardizeReport:
    rows: int
    locations: int
    first_interval: datetime | None
    last_interval: datetime | None
    files: int
    rows_outside_request_window: int = 0
    rows_outside_market_day: int = 0
    # ISO-specific counts worth seeing, e.g. ERCOT files without DSTFlag, superseded rows.
    notes: dict[str, int] = field(default_factory=dict)

    def metadata(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "locations": self.locations,
            "first_interval": self.first_interval.isoformat() if self.first_interval else "none",
            "last_interval": self.last_interval.isoformat() if self.last_interval else "none",
            "source_files": self.files,
            "rows_outside_request_window": self.rows_outside_request_window,
            "rows_outside_market_day": self.rows_outside_market_day,
            **self.notes,
        }


def coverage(frame: pl.DataFrame, kind: DatasetKind) -> dict[str, object]:
    """Rows, number of locations and first/last interval of a standardized table."""
    if frame.is_empty():
        return {"rows": 0, "locations": 0, "first_interval": None, "last_interval": None}
    stats = frame.select(
        pl.len().alias("rows"),
        pl.col(kind_spec(kind).location).n_unique().alias("locations"),
        pl.col("interval_start").min().alias("first_interval"),
        pl.col("interval_start").max().alias("last_interval"),
    ).row(0, named=True)
    return stats


def standardize_day(
    iso: IsoDefinition, dataset_id: str, day: date, layout: Layout
) -> tuple[pl.DataFrame, StandardizeReport]:
    spec = iso.dataset(dataset_id)
    meta = read_extract_metadata(layout, iso.id, dataset_id, day)
    folder = layout.csv_files(iso.id, dataset_id, day)
    parts: list[pl.DataFrame] = []
    outside_window = 0
    notes: dict[str, int] = {}
    # Files fetched for the same window are parsed in one call, so an ISO publishing a day as
    # many small files (ERCOT: 96 real-time files) reads them in one scan, not file by file.
    by_window: dict[tuple[str, str], list[Path]] = {}
    for entry in meta["files"]:
        window = (entry["source"]["window_start"], entry["source"]["window_end"])
        by_window.setdefault(window, []).append(folder / entry["path"])
    for (window_start, window_end), paths in by_window.items():
        frame, file_notes = iso.parse_with_notes(dataset_id, paths)
        for name, count in file_notes.items():
            notes[name] = notes.get(name, 0) + count
        start, end = datetime.fromisoformat(window_start), datetime.fromisoformat(window_end)
        inside = frame.filter(pl.col("interval_start").is_between(start, end, closed="left"))
        outside_window += frame.height - inside.height
        parts.append(inside)
    if not parts:
        raise MalformedFileError(
            f"{folder}: no extracted data files for {iso.id} {dataset_id} {day}"
        )
    combined = pl.concat(parts, how="vertical")
    day_start, day_end = iso.market_day_bounds(day)
    in_day = combined.filter(pl.col("interval_start").is_between(day_start, day_end, closed="left"))
    kind = kind_spec(spec.kind)
    in_day = in_day.sort(kind.key)
    validate_standardized(in_day, kind.model, str(folder))
    refuse_null_keys(in_day, kind.key, folder, notes)
    stats = coverage(in_day, spec.kind)
    report = StandardizeReport(
        rows=stats["rows"],
        locations=stats["locations"],
        first_interval=stats["first_interval"],
        last_interval=stats["last_interval"],
        files=len(meta["files"]),
        rows_outside_request_window=outside_window,
        rows_outside_market_day=combined.height - in_day.height,
        notes=notes,
    )
    return in_day, report


def read_standardized(path: Path) -> pl.DataFrame:
    if not path.is_file():
        raise MalformedFileError(
            f"{path}: standardized file missing; materialize raw_parquet first"
        )
    return pl.read_parquet(path)


def refuse_null_keys(
    frame: pl.DataFrame, key: list[str], folder: Path, notes: dict[str, int]
) -> None:
    """A key column may be null in `parse_file`'s answer (a forecast whose file does not say when
    it was issued) but never in a stored table: its rows could not be told apart or replaced."""
    nulls = {column: frame.get_column(column).null_count() for column in key}
    empty = {column: count for column, count in nulls.items() if count}
    if empty:
        said = ", ".join(f"{count} rows without {column}" for column, count in empty.items())
        raise MalformedFileError(
            f"{folder}: {said}; the files do not say it (notes: {notes or 'none'}). Keep the ISO's "
            "own file names: a renamed file loses what its name carried"
        )
