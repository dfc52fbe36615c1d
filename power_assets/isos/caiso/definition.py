"""CAISO's `IsoDefinition`: datasets, bounds, schedules, requests and dispatch to the parsers.

What belongs here: the `Caiso` class, what it offers (every dataset's spec and value bounds), and
which module serves which dataset: OASIS price reports (`oasis` requests them, `prices` parses
them), Today's Outlook CSVs (`outlook`), SLD_FCST load forecasts (`sld_fcst`), and the real-time
probe (`realtime`). Those modules never import this one; adding a dataset means a spec here and
its requests and parser in the module of its source.
"""

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import ClassVar

import polars as pl

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
from power_assets.isos.caiso import outlook, realtime, sld_fcst
from power_assets.isos.caiso.oasis import OASIS_QUERIES, check_oasis_payload, oasis_request
from power_assets.isos.caiso.prices import parse_prices

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
FIVE_MINUTES = timedelta(minutes=5)

# The datasets that are not OASIS price reports: Today's Outlook CSVs and SLD_FCST.
EXTRA_DATASETS: dict[str, DatasetSpec] = {
    "fuel_mix": DatasetSpec(
        "fuel_mix", DatasetKind.FUEL_MIX, "RT5M", FIVE_MINUTES, IntervalLabel.START,
        "Generation by fuel, 5-minute, CAISO balancing area (Today's Outlook fuelsource.csv)",
    ),
    "load": DatasetSpec(
        "load", DatasetKind.LOAD, "RT5M", FIVE_MINUTES, IntervalLabel.START,
        "Current demand, 5-minute, CAISO balancing area (Today's Outlook demand.csv)",
    ),
    "load_forecast": DatasetSpec(
        "load_forecast", DatasetKind.LOAD_FORECAST, "DAM", HOUR, IntervalLabel.START,
        "Hourly load forecasts per TAC area: 7-day, 2-day and day-ahead runs (SLD_FCST)",
    ),
}  # fmt: skip

EXTRA_VALUE_BOUNDS: tuple[ValueBound, ...] = (
    ValueBound(
        DatasetKind.LOAD, 2000, 2100, 0.0, 70_000.0,
        "CAISO record peak about 52 GW (Sept. 2022); headroom for growth",
    ),
    ValueBound(
        DatasetKind.LOAD_FORECAST, 2000, 2100, -100.0, 70_000.0,
        "Largest TAC area is the CAISO total; small WEIM areas may forecast about zero",
    ),
    ValueBound(
        DatasetKind.FUEL_MIX, 2000, 2100, -20_000.0, 60_000.0,
        "Batteries charge and imports turn to exports (negative); no fuel exceeds total load",
    ),
)  # fmt: skip

EXTRA_PARSERS: dict[str, Callable[[Iterable[Path]], pl.DataFrame]] = {
    "fuel_mix": outlook.parse_fuel_mix,
    "load": outlook.parse_demand,
    "load_forecast": sld_fcst.parse_sld_fcst,
}

# Drop-folder names: (query, market run) -> dataset. SLD_FCST's hourly runs feed load_forecast.
_DROPPED_DATASETS = {(q.queryname, q.market_run_id): ds for ds, q in OASIS_QUERIES.items()} | {
    ("SLD_FCST", run): "load_forecast" for run in sld_fcst.SLD_FCST_RUNS
}
_OASIS_NAME = re.compile(
    r"(?P<start>\d{8})_(?P<end>\d{8})_(?P<report>[A-Za-z0-9_]+?)_\d{8}_\d{2}_\d{2}_\d{2}_v\d+\.csv",
    re.IGNORECASE,
)


def extra_requests_for_day(
    iso_id: str,
    dataset_id: str,
    day: date,
    market_day_bounds: Callable[[date], tuple[datetime, datetime]],
) -> list[DownloadRequest]:
    """The requests that fetch one market day of `fuel_mix`, `load` or `load_forecast`."""
    start, end = market_day_bounds(day)
    if dataset_id in outlook.OUTLOOK_FILES:
        return [outlook.outlook_request(iso_id, dataset_id, day, start, end)]
    if dataset_id == "load_forecast":
        return sld_fcst.sld_fcst_requests(iso_id, dataset_id, start, end)
    raise KeyError(
        f"{iso_id} has no extra dataset {dataset_id!r}; known: {', '.join(EXTRA_DATASETS)}"
    )


class Caiso(NamedRequests):
    id: ClassVar[str] = "CAISO"
    name: ClassVar[str] = "California ISO (OASIS)"
    timezone: ClassVar[str] = "America/Los_Angeles"
    default_base_url: ClassVar[str] = "http://oasis.caiso.com/oasisapi"
    # Today's Outlook (fuel mix, demand) lives on www.caiso.com, not on OASIS.
    extra_base_urls: ClassVar[dict[str, str]] = {"outlook": outlook.OUTLOOK_BASE_URL}
    min_request_spacing_s: ClassVar[float] = 5.0
    datasets: ClassVar[dict[str, DatasetSpec]] = {
        "lmp_da": DatasetSpec(
            "lmp_da", DatasetKind.LMP, "DAM", HOUR, IntervalLabel.START,
            "Day-ahead hourly LMP, all AP nodes (PRC_LMP)", request_window=DAY,
        ),
        "lmp_rt5": DatasetSpec(
            "lmp_rt5", DatasetKind.LMP, "RT5M", timedelta(minutes=5), IntervalLabel.START,
            "Real-time 5-minute LMP, all AP nodes (PRC_INTVL_LMP)", request_window=HOUR,
        ),
        "lmp_rt15": DatasetSpec(
            "lmp_rt15", DatasetKind.LMP, "RT15M", timedelta(minutes=15), IntervalLabel.START,
            "Real-time 15-minute (RTPD) LMP, all AP nodes (PRC_RTPD_LMP)", request_window=HOUR,
        ),
        "as_da": DatasetSpec(
            "as_da", DatasetKind.AS_PRICE, "DAM", HOUR, IntervalLabel.START,
            "Day-ahead ancillary-service clearing prices, all regions (PRC_AS)", request_window=DAY,
        ),
        **EXTRA_DATASETS,
    }  # fmt: skip
    combined: ClassVar[CombinedSources] = CombinedSources("lmp_da", "as_da", "lmp_rt5")
    realtime: ClassVar[RealtimeFeed] = RealtimeFeed("lmp_rt5", ("lmp_rt5", "lmp_rt15"))
    day_ahead: ClassVar[DayAheadSchedule] = DayAheadSchedule(
        time(13, 15), time(15, 45), ("lmp_da", "as_da", "load_forecast")
    )
    value_bounds: ClassVar[tuple[ValueBound, ...]] = (
        ValueBound(
            DatasetKind.LMP, 2000, 2100, -3_000.0, 6_000.0,
            "Bid floor -$150 and hard cap $2,000 (FERC 831), widened for congestion, losses and "
            "power-balance penalty pricing at individual nodes",
        ),
        ValueBound(
            DatasetKind.AS_PRICE, 2000, 2100, -1.0, 5_000.0,
            "AS bid cap $250 plus scarcity pricing; AS prices are not negative (-1 allows rounding)",
        ),
        *EXTRA_VALUE_BOUNDS,
    )  # fmt: skip

    def requests_for_day(
        self, dataset_id: str, day: date, today: date | None = None
    ) -> list[DownloadRequest]:
        if dataset_id in EXTRA_DATASETS:
            return extra_requests_for_day(self.id, dataset_id, day, self.market_day_bounds)
        self.dataset(dataset_id)  # UnknownDatasetError for what CAISO does not offer
        return [
            oasis_request(self.id, dataset_id, start, end)
            for start, end in self.request_windows(dataset_id, day)
        ]

    def check_payload(self, content: bytes, source: str) -> None:
        if outlook.is_outlook_source(source):
            return outlook.check_outlook_payload(content, source)
        check_oasis_payload(content, source)

    def latest_interval_request(self, now: datetime) -> DownloadRequest:
        return realtime.probe_request(self.id, now)

    def latest_interval_end(self, dataset_id: str, content: bytes, source: str) -> datetime | None:
        if self.dataset(dataset_id).id in outlook.OUTLOOK_FILES:  # local HH:MM rows, not OASIS
            raise self.no_latest_interval(dataset_id)
        return realtime.latest_end(content, source, self.check_payload)

    def narrow_request(self, request: DownloadRequest, start: datetime) -> DownloadRequest | None:
        return realtime.narrow(request, start)

    def dropped_file_day(self, name: str) -> tuple[str, date] | None:
        """An OASIS CSV covering one market day -> (dataset, day), from its query and market run.

        `20240101_20240101_PRC_LMP_DAM_20240102_10_00_00_v12.csv`: start and end operating
        dates, query, market run, build time, version. Multi-day files are None: their rows
        would have to be split between partitions.
        """
        match = _OASIS_NAME.fullmatch(name.rsplit("/", 1)[-1])
        if match is None or match["start"] != match["end"]:
            return None
        query, _, run = match["report"].upper().rpartition("_")
        dataset = _DROPPED_DATASETS.get((query, run))
        if dataset is None:
            return None
        try:
            return dataset, datetime.strptime(match["start"], "%Y%m%d").date()
        except ValueError:
            return None

    def parse_with_notes(
        self, dataset_id: str, paths: Sequence[Path]
    ) -> tuple[pl.DataFrame, dict[str, int]]:
        frame = self.parse(dataset_id, paths)
        if self.dataset(dataset_id).kind is DatasetKind.LOAD_FORECAST:
            return frame, sld_fcst.unknown_publish_times(frame)
        return frame, {}

    def parse(self, dataset_id: str, paths: Iterable[Path]) -> pl.DataFrame:
        if dataset_id in EXTRA_PARSERS:
            return EXTRA_PARSERS[dataset_id](paths)
        return parse_prices(self.id, self.dataset(dataset_id), paths)
