"""Which Data Miner 2 feed serves each PJM dataset, and the requests that ask it for a market day.

What belongs here: the feed table (name, the datetime column a day is asked by, the fields asked,
archive cutoff), the archive rules, the EPT filter text, the requests of a window and the pager that
follows their pages. No parsing (`parsing`), no HTTP (stage 1 sends what is built here).

Data Miner 2 answers `GET https://api.pjm.com/api/v1/{feed}?startRow=1&rowCount=50000&...` with
`{"links", "items", "searchSpecification", "totalRows"}`; a day larger than one page (a day of
all-node 5-minute LMPs is about 60 pages) is fetched page by page and kept as one ZIP of pages.
The datetime filter is in EPT (prevailing local time) and its end is inclusive, so a window
[start, end) is asked as `start to end - 1 minute`: an EPT-day filter gives 23, 24 or 25 hours.
"""

import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from power_assets.errors import MalformedFileError, PagesChangedError
from power_assets.isos.base import DownloadRequest

TIMEZONE = "America/New_York"
EASTERN = ZoneInfo(TIMEZONE)
ISO_ID = "PJM"
# Data Miner 2's largest page.
ROW_LIMIT = 50_000
HOUR, FIVE_MINUTES, DAY = timedelta(hours=1), timedelta(minutes=5), timedelta(days=1)
# Reserve results are hourly until 2022-08-31 and 5-minute from 2022-09-01 (never one query across).
RESERVES_FIVE_MINUTE_FROM = date(2022, 9, 1)

_LMP = ("datetime_beginning_utc", "datetime_beginning_ept", "pnode_id", "pnode_name", "type")
_VERSION = ("row_is_current", "version_nbr")


def _lmp_fields(suffix: str) -> tuple[str, ...]:
    prices = ("system_energy_price", "total_lmp", "congestion_price", "marginal_loss_price")
    return (*_LMP, *(f"{name}_{suffix}" for name in prices), *_VERSION)


@dataclass(frozen=True)
class Feed:
    """One Data Miner 2 feed as this project asks it.

    `fields` are asked of standard data to keep pages small (() = every column); archived data
    is asked without them. `archived_after_days`: PJM moves rows older than this to its archive.
    """

    name: str
    time_filter: str
    fields: tuple[str, ...] = ()
    archived_after_days: int | None = None


FEEDS: dict[str, Feed] = {
    feed.name: feed
    for feed in (
        Feed("da_hrl_lmps", "datetime_beginning_ept", _lmp_fields("da"), 731),
        Feed("rt_hrl_lmps", "datetime_beginning_ept", _lmp_fields("rt"), 731),
        Feed("rt_fivemin_hrl_lmps", "datetime_beginning_ept", _lmp_fields("rt"), 186),
        Feed("rt_unverified_fivemin_lmps", "datetime_beginning_ept",
             (*_LMP, "total_lmp_rt", "congestion_price_rt", "marginal_loss_price_rt")),
        Feed("da_reserve_market_results", "datetime_beginning_ept"),
        Feed("reserve_market_results", "datetime_beginning_ept"),
        Feed("hrl_load_metered", "datetime_beginning_ept"),
        Feed("inst_load", "datetime_beginning_ept"),
        Feed("load_frcstd_7_day", "forecast_datetime_beginning_ept"),
        Feed("load_frcstd_hist", "forecast_hour_beginning_ept"),
        Feed("gen_by_fuel", "datetime_beginning_ept"),
    )
}  # fmt: skip

# Dataset -> the feed asked for past days (the verified or metered one).
HISTORY_FEEDS = {
    "lmp_da": "da_hrl_lmps",
    "lmp_rt_hourly": "rt_hrl_lmps",
    "lmp_rt5": "rt_fivemin_hrl_lmps",
    "as_da": "da_reserve_market_results",
    "as_rt": "reserve_market_results",
    "load": "hrl_load_metered",
    "load_forecast": "load_frcstd_hist",
    "fuel_mix": "gen_by_fuel",
}
# Dataset -> the feed asked for today and later (or, for lmp_rt5, until the day is verified).
CURRENT_FEEDS = {
    **HISTORY_FEEDS,
    "lmp_rt5": "rt_unverified_fivemin_lmps",
    "load": "inst_load",
    "load_forecast": "load_frcstd_7_day",
}


def ept_filter(start: datetime, end: datetime) -> str:
    """PJM's datetime filter for the UTC window [start, end): local wall times, end inclusive.

    A window inside the repeated fall-back hour names that hour once and gets both passes; stage 2
    clips rows to the window (and counts what it clipped).
    """
    first = start.astimezone(EASTERN)
    last = (end - timedelta(minutes=1)).astimezone(EASTERN)
    return f"{first:%m/%d/%Y %H:%M}to{last:%m/%d/%Y %H:%M}"


def utc_filter(start: datetime, end: datetime) -> str:
    """The same for a `_utc` column: unambiguous inside the repeated fall-back hour."""
    first, last = start.astimezone(UTC), (end - timedelta(minutes=1)).astimezone(UTC)
    return f"{first:%m/%d/%Y %H:%M}to{last:%m/%d/%Y %H:%M}"


def is_archived(feed: Feed, day: date, today: date) -> bool:
    """Whether PJM has moved `day` of `feed` to its archive by `today` (EPT).

    The cutoff day itself is asked as standard data; should PJM's cutoff fall inside it, PJM says
    the range spans archived and standard data and `explain_refusal` says to run it again.
    """
    return feed.archived_after_days is not None and (today - day).days > feed.archived_after_days


def split_at_utc_years(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut at UTC New Year: an archived query must stay within one UTC year (the EPT
    day of December 31 ends at 05:00 UTC on January 1)."""
    windows, cursor = [], start
    while cursor < end:
        new_year = datetime(cursor.astimezone(UTC).year + 1, 1, 1, tzinfo=UTC)
        nxt = min(end, new_year)
        windows.append((cursor, nxt))
        cursor = nxt
    return windows


def page_request(
    dataset_id: str,
    feed: Feed,
    start: datetime,
    end: datetime,
    *,
    archived: bool = False,
    final_after: datetime | None = None,
    row_count: int | None = None,
    label: str = "",
    by_utc: bool = False,
) -> DownloadRequest:
    """The first page of `feed` for the UTC window [start, end); the pager asks for the others.

    The window is asked by its EPT wall times (whole days, as PJM's own examples do), or with
    `by_utc` by the feed's `_utc` column (hours, which EPT cannot tell apart on fall-back days).

    Pages hold `ROW_LIMIT` rows unless `row_count` says otherwise (read at call time, so a test
    can page through a small day).
    """
    rows = ROW_LIMIT if row_count is None else row_count
    params: list[tuple[str, str]] = [("rowCount", str(rows)), ("startRow", "1")]
    if feed.fields and not archived:
        params.append(("fields", ",".join(feed.fields)))
    if by_utc:  # an hour of a DST day: EPT would name the repeated hour twice
        params.append((feed.time_filter.removesuffix("_ept") + "_utc", utc_filter(start, end)))
    else:
        params.append((feed.time_filter, ept_filter(start, end)))
    local = start.astimezone(EASTERN)
    name = f"{feed.name}_{local:%Y%m%d}{label}.zip"
    return DownloadRequest(
        iso=ISO_ID, dataset=dataset_id, path=feed.name, params=tuple(params), file_name=name,
        window_start=start, window_end=end, final_after=final_after, needs_auth=True,
    )  # fmt: skip


def param(request: DownloadRequest, name: str) -> str | None:
    """A query parameter of `request`, its name matched case-insensitively (PJM's own links use
    `StartRow`, this project `startRow`)."""
    wanted = name.lower()
    return next((value for key, value in request.params if key.lower() == wanted), None)


def with_param(request: DownloadRequest, name: str, value: str) -> DownloadRequest:
    wanted = name.lower()
    params = tuple((k, value if k.lower() == wanted else v) for k, v in request.params)
    return replace(request, params=params)


@dataclass
class DataMinerPager:
    """Follows the pages of one Data Miner 2 request: startRow += rowCount until totalRows.

    Every page must report the total the first one did and hold exactly the rows its startRow
    and rowCount leave; otherwise rows were added or removed while paging, and the sequence is
    started again (`PagesChangedError`) rather than kept with rows repeated or missing.
    """

    total: int | None = None

    @staticmethod
    def member_name(number: int) -> str:
        return f"page_{number:05d}.json"

    def next_page(
        self, page: DownloadRequest, content: bytes, source: str
    ) -> DownloadRequest | None:
        try:
            body = json.loads(content)
            total, items = int(body["totalRows"]), body["items"]
        except (ValueError, KeyError, TypeError) as exc:
            raise MalformedFileError(
                f"{source}: not a Data Miner 2 page ({type(exc).__name__}: {exc})"
            ) from exc
        start, count = int(param(page, "startRow") or 1), int(param(page, "rowCount") or ROW_LIMIT)
        if self.total is None:
            self.total = total
        elif total != self.total:
            raise PagesChangedError(
                f"{source}: totalRows went from {self.total} to {total} between pages"
            )
        expected = max(0, min(count, total - start + 1))
        if len(items) != expected:
            raise PagesChangedError(
                f"{source}: the page from row {start} holds {len(items)} rows, not {expected} "
                f"of {total}"
            )
        if start + count > total:
            return None
        return with_param(page, "startRow", str(start + count))


def total_rows(content: bytes) -> int | None:
    """`totalRows` of a Data Miner 2 answer, read from its end where PJM writes it (a page can
    be 20 MB; checking it must not parse it), else from the whole body; None if absent."""
    tail = content[-200:]
    marker = tail.rfind(b'"totalRows"')
    if marker >= 0:
        digits = tail[marker + len(b'"totalRows"') :].lstrip(b" \t\r\n:").split(b"}")[0].strip()
        if digits.isdigit():
            return int(digits)
    if len(content) > 1 << 20:
        return None
    try:
        body = json.loads(content)
    except ValueError:
        return None
    value = body.get("totalRows") if isinstance(body, dict) else None
    return int(value) if isinstance(value, int) else None
