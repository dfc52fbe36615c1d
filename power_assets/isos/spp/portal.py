"""SPP's Marketplace file browser: which folder holds each dataset's files, and their names.

What belongs here: the file-system name (`fsName`) and path of every file this project reads,
the listing request (`?fsName=&path=&type=folder`) and reading its answer, the download request,
and what a file name says (the interval END it carries, local wall time, with SPP's `d` suffix
for the repeated fall-back hour). No parsing of file contents (`parsing`), no HTTP.

    list      GET https://portal.spp.org/file-browser-api/?fsName={fs}&path={folder}&type=folder
    download  GET https://portal.spp.org/file-browser-api/download/{fs}?path={file}

A listing is a JSON array of entries with at least `name` (a third-party client reads `name` and
`size` from file entries and navigates by a folder entry's `path`); an empty or unknown folder
lists as `[]`.

Names carry the END of the (first) interval they hold, in Central wall time. 5-minute folders are
named by the interval START's date: `RTBM-LMP-SL-202407010000.csv` (23:55-24:00 of June 30) is in
`2024/06/By_Interval/30/`. In the repeated hour of the fall-back day the second (CST) pass of a
wall time carries a `d`: `RTBM-LMP-SL-202411030110d.csv` ends at 01:10 CST. Hourly MTLF vintages
differ: the fall-back day has `...0100` (06:00Z), `...0200` (07:00Z) and `...0200d` (08:00Z).
"""

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from power_assets.errors import MalformedFileError, excerpt
from power_assets.isos.base import DownloadRequest

ISO_ID = "SPP"
TIMEZONE = "America/Chicago"
CENTRAL = ZoneInfo(TIMEZONE)
HOUR, FIVE_MINUTES = timedelta(hours=1), timedelta(minutes=5)
# Hourly vintages named for their issue hour, the fall-back day's 07:00Z and 08:00Z both `0200`.
HOURLY_VINTAGES = frozenset({"OP-MTLF"})
LISTING_PATH = ""  # the listing route is the base URL itself (`file-browser-api/`)

# A data file name: prefix, 8-12 digit local END stamp, optional `d` (second pass), .csv.
_STAMPED = re.compile(r"^(?P<prefix>[A-Z0-9_-]+?)-?(?P<stamp>\d{8}(?:\d{2}){0,2})(?P<d>d?)\.csv$")


@dataclass(frozen=True)
class Source:
    """Where one dataset's files live: `fs` is the file system, `daily_prefix` the name prefix
    of the file holding a day (or an hour's vintage, for MTLF; a year, for GenMix), and
    `interval_prefix` that of its 5-minute files (days without a daily file yet, in
    `By_Interval/{DD}/`)."""

    fs: str
    daily_prefix: str
    interval_prefix: str | None = None


SOURCES: dict[str, Source] = {
    "lmp_da": Source("da-lmp-by-settlement-location", "DA-LMP-SL"),
    "lmp_rt5": Source("rtbm-lmp-by-location", "RTBM-LMP-DAILY-SL", "RTBM-LMP-SL"),
    "as_da": Source("da-mcp", "DA-MCP"),
    "as_rt": Source("rtbm-mcp", "RTBM-MCP-DAILY", "RTBM-MCP"),
    "load": Source("hourly-load", "DAILY_HOURLY_LOAD"),
    "load_forecast": Source("mtlf-vs-actual", "OP-MTLF"),
    "fuel_mix": Source("generation-mix-historical", "GenMix"),
}


def daily_path(dataset_id: str, day: date) -> str:
    """The path of the file holding market `day` of a dataset, where SPP names it by the day."""
    prefix = SOURCES[dataset_id].daily_prefix
    if dataset_id == "lmp_da":
        return f"/{day:%Y}/{day:%m}/By_Day/{prefix}-{day:%Y%m%d}0100.csv"
    if dataset_id == "as_da":
        return f"/{day:%Y}/{day:%m}/{prefix}-{day:%Y%m%d}0100.csv"
    if dataset_id in ("lmp_rt5", "as_rt"):
        return f"{by_day_folder(day)}/{prefix}-{day:%Y%m%d}.csv"
    if dataset_id == "load":
        return f"/{day:%Y}/{prefix}-{day:%Y%m%d}.csv"
    if dataset_id == "fuel_mix":
        return f"/{prefix}_{day:%Y}.csv"
    raise KeyError(f"SPP names no daily file for {dataset_id}")


def by_day_folder(day: date) -> str:
    return f"/{day:%Y}/{day:%m}/By_Day"


def by_interval_folder(day: date) -> str:
    """The folder of the 5-minute files whose intervals START on `day`."""
    return f"/{day:%Y}/{day:%m}/By_Interval/{day:%d}"


def forecast_folder(day: date) -> str:
    """The folder of the hourly MTLF files issued on `day`."""
    return f"/{day:%Y}/{day:%m}/{day:%d}"


def latest_interval_path(dataset_id: str) -> str:
    prefix = SOURCES[dataset_id].interval_prefix
    if prefix is None:
        raise KeyError(f"SPP publishes no latestInterval file for {dataset_id}")
    return f"/{prefix}-latestInterval.csv"


def download_request(
    dataset_id: str,
    path: str,
    window: tuple[datetime, datetime],
    *,
    final_after: datetime | None = None,
    shared: bool = False,
    headers: tuple[tuple[str, str], ...] = (),
    file_name: str | None = None,
    source: str | None = None,
) -> DownloadRequest:
    """GET `download/{fs}?path={path}`, kept under the file's own name; `source` is the dataset
    whose file system holds the file, when not the dataset's own (today's load from MTLF)."""
    return DownloadRequest(
        iso=ISO_ID, dataset=dataset_id, path=f"download/{SOURCES[source or dataset_id].fs}",
        params=(("path", path),), file_name=file_name or path.rsplit("/", 1)[-1],
        window_start=window[0], window_end=window[1], final_after=final_after, shared=shared,
        headers=headers,
    )  # fmt: skip


def listing_request(
    dataset_id: str, folder: str, window: tuple[datetime, datetime], source: str | None = None
) -> DownloadRequest:
    """The file browser's listing of `folder` of the dataset's file system (or `source`'s)."""
    safe = folder.strip("/").replace("/", "_") or "root"
    fs = SOURCES[source or dataset_id].fs
    return DownloadRequest(
        iso=ISO_ID, dataset=dataset_id, path=LISTING_PATH,
        params=(("fsName", fs), ("path", folder), ("type", "folder")),
        file_name=f"listing_{fs}_{safe}.json",
        window_start=window[0], window_end=window[1],
    )  # fmt: skip


def listed_names(content: bytes, source: str) -> list[str]:
    """The entry names of a listing answer, in the order listed."""
    try:
        body = json.loads(content)
    except ValueError as exc:
        raise MalformedFileError(
            f"{source}: SPP file-browser listing is not JSON ({exc}); it starts {excerpt(content)}"
        ) from None
    if not isinstance(body, list) or not all(isinstance(e, dict) and "name" in e for e in body):
        raise MalformedFileError(
            f"{source}: SPP file-browser listing is not a list of entries with a name: "
            f"{excerpt(content)}"
        )
    return [str(entry["name"]) for entry in body]


@dataclass(frozen=True)
class StampedName:
    """What a data file name says: its prefix and the UTC end of the interval it is named for."""

    prefix: str
    end: datetime  # UTC
    second_pass: bool


def stamped_name(name: str) -> StampedName | None:
    """Read `RTBM-LMP-SL-202411030110d.csv` and the like (None: not a stamped SPP file).

    The stamp is Central wall time; with `d` it is the CST (second) pass of the repeated hour,
    without it the first. A stamp of 8 digits is a day (its midnight), of 10 an hour.
    """
    match = _STAMPED.match(name.rsplit("/", 1)[-1])
    if match is None:
        return None
    stamp = match["stamp"].ljust(12, "0")
    try:
        wall = datetime.strptime(stamp, "%Y%m%d%H%M")
    except ValueError:
        return None
    second = bool(match["d"])
    prefix = match["prefix"].rstrip("-")
    end = wall.replace(tzinfo=CENTRAL, fold=int(second)).astimezone(UTC)
    if prefix in HOURLY_VINTAGES and not second and _ends_repeated_hour(wall):
        # SPP's hourly vintages on the fall-back day: `0100` (06:00Z), then `0200` for 07:00Z
        # (what 02:00 CDT would have been) and `0200d` for 08:00Z (02:00 CST, as gridstatus's
        # recorded 2025-11-02 files and its reading of them say). A `d` elsewhere than in the
        # repeated hour therefore means the CST 02:00 that `fold` gives anyway.
        end = (wall - (wall - HOUR).replace(tzinfo=CENTRAL).utcoffset()).replace(tzinfo=UTC)
    return StampedName(prefix, end, second)


def _ends_repeated_hour(wall: datetime) -> bool:
    """Whether the hour before wall time `wall` is the repeated (fall-back) hour."""
    before = wall - HOUR
    # Repeated: the first pass (fold 0, CDT) is ahead of the second; in the spring gap the
    # offsets differ the other way round.
    return (
        before.replace(tzinfo=CENTRAL).utcoffset()
        > before.replace(tzinfo=CENTRAL, fold=1).utcoffset()
    )


def local_day(instant: datetime) -> date:
    return instant.astimezone(CENTRAL).date()
