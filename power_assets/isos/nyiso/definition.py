"""NYISO's `IsoDefinition`: datasets, requests (daily CSVs and shared monthly ZIPs), payload checks.

NYISO publishes each dataset as one CSV per day under `csv/{dataset}/`, and each complete month
as a ZIP of those daily CSVs. Recent days (the current, incomplete month) are fetched as daily
CSVs; days of complete past months all point at the same monthly archive, fetched once and kept
as a shared download, with `member` naming the day's CSV inside it. Parsing lives in `parsing`,
reading the real-time probe's answer in `realtime`.

Time labels, checked against real files (see each DatasetSpec):
- `damlbmp`, `rtlbmp`, `damasp`, `isolf`: hourly, stamp = interval START (files run 00:00-23:00).
- `realtime`, `rtasp`, `rtfuelmix`: 5-minute, stamp = interval END; the file for day D runs from
  00:05 of D to 00:00 of D+1, so one day's file holds exactly that day's intervals.
- `pal`: 5-minute snapshots; the file for D runs 00:00-23:55, so a stamp labels the START of
  its interval and the file again holds exactly its day.
"""

import io
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import polars as pl

from power_assets.errors import IsoNoDataError, MalformedFileError
from power_assets.isos.base import (
    CombinedSources,
    DatasetKind,
    DatasetSpec,
    DayAheadSchedule,
    DownloadRequest,
    IntervalLabel,
    NamedRequests,
    RealtimeFeed,
    ValueBound,
)
from power_assets.isos.file_tails import tail_headers
from power_assets.isos.nyiso import realtime
from power_assets.isos.nyiso.parsing import (
    TIMEZONE,
    as_table,
    fuel_mix_table,
    lmp_table,
    load_forecast_table,
    load_table,
)
from power_assets.market_time import market_day_bounds

HOUR, FIVE_MINUTES = timedelta(hours=1), timedelta(minutes=5)
# An isolf file covers its publication day and the five days after it (144 hourly rows).
ISOLF_DAYS = 6

Parser = Callable[[bytes, str, DatasetSpec, str], pl.DataFrame]


@dataclass(frozen=True)
class MisSource:
    """Where a dataset lives on MIS: folder under csv/, file suffixes (one request each)."""

    folder: str
    suffixes: tuple[str, ...]
    parser: Parser

    def daily_name(self, day: date, suffix: str) -> str:
        return f"{day:%Y%m%d}{self.folder}{suffix}.csv"

    def monthly_name(self, day: date, suffix: str) -> str:
        return f"{day:%Y%m}01{self.folder}{suffix}_csv.zip"


_LOCATIONS = ("_zone", "_gen")
MIS_SOURCES: dict[str, MisSource] = {
    "lmp_da": MisSource("damlbmp", _LOCATIONS, lmp_table),
    "lmp_rt5": MisSource("realtime", _LOCATIONS, lmp_table),
    "lmp_rt_hourly": MisSource("rtlbmp", _LOCATIONS, lmp_table),
    "as_da": MisSource("damasp", ("",), as_table),
    "as_rt": MisSource("rtasp", ("",), as_table),
    "load": MisSource("pal", ("",), load_table),
    "load_forecast": MisSource("isolf", ("",), load_forecast_table),
    "fuel_mix": MisSource("rtfuelmix", ("",), fuel_mix_table),
}

# Drop-folder names: (MIS folder, suffix) -> dataset, for every source but the multi-day isolf.
_DROPPED_DATASETS = {
    (source.folder, suffix): dataset
    for dataset, source in MIS_SOURCES.items()
    if dataset != "load_forecast"
    for suffix in source.suffixes
}
_DAILY_NAME = re.compile(r"(?P<day>\d{8})(?P<folder>[A-Za-z]+?)(?P<suffix>_zone|_gen)?\.csv", re.I)


class Nyiso(NamedRequests):
    id: ClassVar[str] = "NYISO"
    name: ClassVar[str] = "New York ISO (MIS)"
    timezone: ClassVar[str] = TIMEZONE
    default_base_url: ClassVar[str] = "http://mis.nyiso.com/public"
    # No documented limit; one request a second keeps a month of backfill to a few minutes.
    min_request_spacing_s: ClassVar[float] = 1.0
    datasets: ClassVar[dict[str, DatasetSpec]] = {
        "lmp_da": DatasetSpec(
            "lmp_da", DatasetKind.LMP, "DAM", HOUR, IntervalLabel.START,
            "Day-ahead hourly LBMP, zones and generators (damlbmp; stamp = hour start)",
        ),
        "lmp_rt5": DatasetSpec(
            "lmp_rt5", DatasetKind.LMP, "RT5M", FIVE_MINUTES, IntervalLabel.END,
            "Real-time 5-minute RTD LBMP, zones and generators (realtime; stamp = interval end, "
            "irregular RTD stamps go to the interval containing them)",
        ),
        "lmp_rt_hourly": DatasetSpec(
            "lmp_rt_hourly", DatasetKind.LMP, "RTH", HOUR, IntervalLabel.START,
            "Real-time hourly LBMP, zones and generators (rtlbmp; stamp = hour start)",
        ),
        "as_da": DatasetSpec(
            "as_da", DatasetKind.AS_PRICE, "DAM", HOUR, IntervalLabel.START,
            "Day-ahead reserve and regulation prices by zone (damasp; stamp = hour start)",
        ),
        "as_rt": DatasetSpec(
            "as_rt", DatasetKind.AS_PRICE, "RT5M", FIVE_MINUTES, IntervalLabel.END,
            "Real-time reserve and regulation prices by zone (rtasp; stamp = interval end)",
        ),
        "load": DatasetSpec(
            "load", DatasetKind.LOAD, "RT", FIVE_MINUTES, IntervalLabel.START,
            "Actual load by zone, 5-minute snapshots (pal; file runs 00:00-23:55, so the "
            "stamp labels the interval start)",
        ),
        "load_forecast": DatasetSpec(
            "load_forecast", DatasetKind.LOAD_FORECAST, "FORECAST", HOUR, IntervalLabel.START,
            "ISO hourly load forecast by zone and NYCA total (isolf; six days per file, every "
            "vintage of a market day kept)",
        ),
        "fuel_mix": DatasetSpec(
            "fuel_mix", DatasetKind.FUEL_MIX, "RT", FIVE_MINUTES, IntervalLabel.END,
            "Real-time generation by fuel category (rtfuelmix; stamp = interval end)",
        ),
    }  # fmt: skip
    combined: ClassVar[CombinedSources] = CombinedSources("lmp_da", "as_da", "lmp_rt5")
    realtime: ClassVar[RealtimeFeed] = RealtimeFeed(
        "lmp_rt5", ("lmp_rt5", "as_rt", "load", "fuel_mix")
    )
    day_ahead: ClassVar[DayAheadSchedule] = DayAheadSchedule(
        time(11, 15), time(14, 15), ("lmp_da", "as_da", "load_forecast")
    )
    value_bounds: ClassVar[tuple[ValueBound, ...]] = (
        ValueBound(
            DatasetKind.LMP, 2000, 2100, -1_500.0, 5_000.0,
            "FERC 831 offer caps ($1,000 soft, $2,000 hard) widened for congestion and "
            "shortage pricing (transmission and reserve demand curves) at zones and gen buses",
        ),
        ValueBound(
            DatasetKind.AS_PRICE, 2000, 2100, -1.0, 5_000.0,
            "Reserve and regulation prices stack the reserve demand-curve penalties (several "
            "hundred to ~$1,000+/MW each in shortage); never negative (-1 allows rounding)",
        ),
        ValueBound(
            DatasetKind.LOAD, 2000, 2100, 0.0, 40_000.0,
            "Zonal actual load; the NYCA all-time peak is ~33.9 GW, so no zone exceeds 40 GW",
        ),
        ValueBound(
            DatasetKind.LOAD_FORECAST, 2000, 2100, 0.0, 40_000.0,
            "Zonal and NYCA-total forecast load; NYCA peak ~33.9 GW",
        ),
        ValueBound(
            DatasetKind.FUEL_MIX, 2000, 2100, -1_000.0, 25_000.0,
            "Generation by fuel (pumped storage and batteries may be slightly negative); no "
            "fuel category comes near the ~33 GW system peak",
        ),
    )  # fmt: skip

    def today(self) -> date:
        return datetime.now(ZoneInfo(self.timezone)).date()

    def requests_for_day(
        self, dataset_id: str, day: date, today: date | None = None
    ) -> list[DownloadRequest]:
        """Daily CSVs for days of the current month, the shared monthly ZIP for older days.

        load_forecast: the partition is the target day D; its requests are the isolf files
        published on D-5..D (those already published by `today`), each covering D.
        """
        spec = self.dataset(dataset_id)
        source = MIS_SOURCES[spec.id]
        today = today or self.today()
        window = self.market_day_bounds(day)
        if spec.kind is DatasetKind.LOAD_FORECAST:
            file_days = [day - timedelta(days=n) for n in range(ISOLF_DAYS - 1, -1, -1)]
            file_days = [d for d in file_days if d <= today]
        else:
            file_days = [day]
        return [
            self._request(spec, source, file_day, suffix, window, today)
            for file_day in file_days
            for suffix in source.suffixes
        ]

    def _request(
        self,
        spec: DatasetSpec,
        source: MisSource,
        file_day: date,
        suffix: str,
        window: tuple[datetime, datetime],
        today: date,
    ) -> DownloadRequest:
        daily = source.daily_name(file_day, suffix)
        common = {"iso": self.id, "dataset": spec.id, "params": ()}
        if (file_day.year, file_day.month) >= (today.year, today.month):
            # A forecast file no longer changes once its own day is over (the window is the
            # target day, which may be days later); other datasets: once the day is over.
            final = market_day_bounds(self.timezone, file_day)[1]
            return DownloadRequest(
                **common,
                path=f"csv/{source.folder}/{daily}",
                file_name=daily,
                window_start=window[0],
                window_end=window[1],
                final_after=final if spec.kind is DatasetKind.LOAD_FORECAST else None,
            )
        monthly = source.monthly_name(file_day, suffix)
        next_month = (file_day.replace(day=1) + timedelta(days=32)).replace(day=1)
        return DownloadRequest(
            **common,
            path=f"csv/{source.folder}/{monthly}",
            file_name=monthly,
            window_start=window[0],
            window_end=window[1],
            shared=True,
            member=daily,
            final_after=market_day_bounds(self.timezone, next_month)[0],
        )

    def latest_interval_request(self, now: datetime) -> DownloadRequest:
        """The last bytes of today's (New York) `realtime_zone.csv`, which grows every 5 minutes."""
        spec = self.dataset(self.realtime.probe_dataset)
        day = now.astimezone(ZoneInfo(self.timezone)).date()
        source, (start, end) = MIS_SOURCES[spec.id], self.market_day_bounds(day)
        daily = source.daily_name(day, "_zone")
        return DownloadRequest(
            iso=self.id, dataset=spec.id, path=f"csv/{source.folder}/{daily}", params=(),
            headers=tail_headers(), file_name=daily.replace(".csv", "_tail.csv"),
            window_start=start, window_end=end,
        )  # fmt: skip

    def latest_interval_end(self, dataset_id: str, content: bytes, source: str) -> datetime | None:
        """Newest interval of a daily CSV or its tail (isolf, a six-day forecast, is not read)."""
        spec = self.dataset(dataset_id)
        if spec.kind is DatasetKind.LOAD_FORECAST:
            raise self.no_latest_interval(dataset_id)
        return realtime.latest_interval_end(content, source, spec)

    def dropped_file_day(self, name: str) -> tuple[str, date] | None:
        """A daily MIS CSV (`20240105damlbmp_zone.csv`) -> (dataset, that day).

        Monthly `_csv.zip` archives are containers: their members are matched, not they. isolf is
        left out: one file serves six target days, so no single day is its own.
        """
        match = _DAILY_NAME.fullmatch(name.rsplit("/", 1)[-1])
        if match is None:
            return None
        dataset = _DROPPED_DATASETS.get((match["folder"].lower(), (match["suffix"] or "").lower()))
        if dataset is None:
            return None
        try:
            return dataset, datetime.strptime(match["day"], "%Y%m%d").date()
        except ValueError:
            return None

    def check_payload(self, content: bytes, source: str) -> None:
        """A CSV request must get a NYISO CSV, a ZIP request a readable ZIP of CSVs.

        MIS answers missing files with 404 (the HTTP client raises), but an HTML page can come
        back under 200: a "not found" page is no data, any other page is a malformed answer.
        """
        wanted = urlsplit(source).path.lower()
        head = content[:2048].lstrip().lower()
        if head.startswith((b"<!doctype", b"<html", b"<?xml", b"<head", b"<body")):
            summary = content[:200].decode("utf-8", errors="replace")
            if b"not found" in content[:4096].lower() or b"404" in content[:4096]:
                raise IsoNoDataError(source, "404", f"NYISO served a 'not found' page: {summary}")
            raise MalformedFileError(
                f"{source}: NYISO answered an HTML page instead of a CSV/ZIP: {summary!r}"
            )
        if wanted.endswith(".zip") or content[:4] == b"PK\x03\x04":
            _check_zip(content, source)
            return
        if not content.strip():
            raise MalformedFileError(f"{source}: empty response where a NYISO CSV was expected")
        first = content.lstrip()[:200].split(b"\n", 1)[0].lower()
        if b"time stamp" not in first:
            raise MalformedFileError(
                f"{source}: not a NYISO CSV (no 'Time Stamp' header): {first[:80]!r}"
            )

    def parse(self, dataset_id: str, paths: Iterable[Path]) -> pl.DataFrame:
        """Parse daily CSVs (as served or extracted) and/or monthly ZIPs (all their members)."""
        spec = self.dataset(dataset_id)
        parser = MIS_SOURCES[spec.id].parser
        frames = [
            parser(content, name, spec, self.id) for path in paths for name, content in _files(path)
        ]
        if not frames:
            raise MalformedFileError(f"{self.id} {dataset_id}: no data files to parse")
        return pl.concat(frames, how="vertical")


def _check_zip(content: bytes, source: str) -> None:
    if content[:4] != b"PK\x03\x04":
        raise MalformedFileError(
            f"{source}: expected a ZIP archive; got {len(content)} bytes starting {content[:40]!r}"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
            bad = archive.testzip()
    except zipfile.BadZipFile as exc:
        raise MalformedFileError(f"{source}: corrupt ZIP from NYISO: {exc}") from exc
    if bad is not None:
        raise MalformedFileError(f"{source}: ZIP member {bad} is corrupt")
    if not any(name.lower().endswith(".csv") for name in names):
        raise MalformedFileError(f"{source}: ZIP holds no CSV (members: {names[:5]})")


def _files(path: Path) -> list[tuple[str, bytes]]:
    """(source name, content) of every CSV a path stands for: itself, or a ZIP's members."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        return [(str(path), path.read_bytes())]
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                return [
                    (f"{path}!{name}", archive.read(name))
                    for name in sorted(archive.namelist())
                    if name.lower().endswith(".csv")
                ]
        except zipfile.BadZipFile as exc:
            raise MalformedFileError(f"{path}: not a readable ZIP: {exc}") from exc
    raise MalformedFileError(f"{path}: NYISO files are .csv or .zip, not {path.suffix!r}")
