"""MISO Data Exchange (`apim.misoenergy.org/pricing/v1`, needs a free pricing key): the request for
one day of real-time 5-minute ex-post LMPs, its pages, and reading them.

What belongs here: `GET /real-time/{yyyy-mm-dd}/lmp-expost?timeResolution=5min&pageNumber=n`
(header `Ocp-Apim-Subscription-Key`), answered in fixed-size pages
`{"data": [{"timeInterval": {"resolution", "start", "end", "value"}, "preliminaryFinal", "node",
"lmp", "mcc", "mec", "mlc"}], "page": {"pageNumber", "pageSize", "totalElements", "totalPages",
"lastPage"}}`; the pager that follows them; the table of a day's pages.

Interval labels: on 2026-05-06 MISO corrected the API's 5-minute labels "including historical
dates": answers served before then stamp each interval by its END in `start`/`value` (the last
interval of a day reads start 24:00), answers served since by its START (00:00 .. 23:55). What
counts is when the answer was served, not the market day, so the labelling is read from the
day's rows themselves: a day that starts at 00:00 EST is start-labelled, one that ends at 24:00
end-labelled (moved back 5 minutes); a set of rows that shows neither is refused.
"""

import json
from dataclasses import dataclass, replace
from datetime import date, time, timedelta

import polars as pl

from power_assets.errors import MalformedFileError, PagesChangedError, SchemaDriftError, excerpt
from power_assets.isos.base import DownloadRequest
from power_assets.isos.miso.common import FIVE_MINUTES, ISO, est_midnight_utc, est_to_utc, require
from power_assets.schemas import LMP_COLUMNS

ENDPOINT = "data_exchange"
URL = "https://apim.misoenergy.org/pricing/v1"
KEY_ENV = "POWER_ASSETS_MISO_PRICING_KEY"
KEY_HEADER = "Ocp-Apim-Subscription-Key"
RELABELLED_ON = date(2026, 5, 6)
# Real-time results are preliminary for 3-5 days; the answer is refetched until a week is over.
FINAL_AFTER = timedelta(days=8)
_FIELDS = ("node", "lmp", "mcc", "mec", "mlc")
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S",
                 "%Y-%m-%dT%H:%M:%S")  # fmt: skip


def five_minute_request(day: date) -> DownloadRequest:
    """The first page of `day`'s 5-minute ex-post LMPs; the pager asks for the others."""
    start = est_midnight_utc(day)
    return DownloadRequest(
        iso=ISO, dataset="lmp_rt5", path=f"real-time/{day:%Y-%m-%d}/lmp-expost",
        params=(("timeResolution", "5min"), ("pageNumber", "1")),
        file_name=f"{day:%Y%m%d}_lmp-expost_5min.zip", window_start=start,
        window_end=start + timedelta(days=1), endpoint=ENDPOINT, needs_auth=True,
        final_after=start + FINAL_AFTER, headers=(("Accept", "application/json"),),
    )  # fmt: skip


def _page_number(request: DownloadRequest) -> int:
    found = dict(request.params).get("pageNumber", "1")
    return int(found)


@dataclass
class ExchangePager:
    """Follows pageNumber 1, 2, ... until `lastPage`; the total must hold across pages, else
    rows moved while paging and the sequence starts again (`PagesChangedError`)."""

    total: int | None = None

    @staticmethod
    def member_name(number: int) -> str:
        return f"page_{number:05d}.json"

    def next_page(
        self, page: DownloadRequest, content: bytes, source: str
    ) -> DownloadRequest | None:
        try:
            info = json.loads(content)["page"]
            total, last, pages = int(info["totalElements"]), info["lastPage"], info["totalPages"]
        except (ValueError, KeyError, TypeError) as exc:
            raise MalformedFileError(
                f"{source}: not a Data Exchange page ({type(exc).__name__}: {exc})"
            ) from exc
        if self.total is None:
            self.total = total
        elif total != self.total:
            raise PagesChangedError(
                f"{source}: totalElements went from {self.total} to {total} between pages"
            )
        number = _page_number(page)
        if last is True or number >= int(pages):
            return None
        params = tuple((k, str(number + 1) if k == "pageNumber" else v) for k, v in page.params)
        return replace(page, params=params)


def is_page(content: bytes) -> bool:
    """Whether a kept file is a Data Exchange page: a JSON object ending in its `page` block
    (read from the tail: a public-API answer can be 47 MB and must not be parsed twice)."""
    return content[:64].lstrip().startswith(b"{") and b'"page"' in content[-400:]


def _rows(name: str, content: bytes) -> list[dict[str, str | None]]:
    try:
        data = json.loads(content)["data"]
    except (ValueError, KeyError, TypeError) as exc:
        raise MalformedFileError(f"{name}: not a Data Exchange page: {exc}") from exc
    require(isinstance(data, list), name, "`data` is not a list")
    rows = []
    for index, item in enumerate(data):
        interval = item.get("timeInterval") if isinstance(item, dict) else None
        if not isinstance(interval, dict) or "start" not in interval:
            raise MalformedFileError(f"{name}: data[{index}] has no timeInterval.start")
        missing = [f for f in _FIELDS if f not in item]
        if missing:
            raise SchemaDriftError(name, missing, sorted(set(item) - {*_FIELDS, "timeInterval"}))
        row = {f: None if item[f] is None else str(item[f]) for f in _FIELDS}
        rows.append({**row, "start": str(interval["start"]), "source": f"{name} data[{index}]"})
    return rows


def five_minute_table(pages: list[tuple[str, bytes]]) -> pl.DataFrame:
    """All pages of one day's answer as 5-minute LMPs, labels made interval starts."""
    names = [*_FIELDS, "start", "source"]
    frame = pl.DataFrame(
        [row for name, content in pages for row in _rows(name, content)],
        schema=dict.fromkeys(names, pl.Utf8),
    )
    where = ", ".join(name for name, _ in pages[:2]) + (" ..." if len(pages) > 2 else "")
    require(not frame.is_empty(), where, "no rows in the Data Exchange answer")
    text = pl.col("start").str.strip_chars()
    wall = pl.coalesce(text.str.strptime(pl.Datetime("us"), f, strict=False) for f in _TIME_FORMATS)
    frame = frame.with_columns(wall.alias("wall"))
    bad = frame.filter(pl.col("wall").is_null())
    if bad.height:
        raise MalformedFileError(
            f"{bad['source'][0]}: timeInterval.start {excerpt(bad['start'][0])} is no timestamp"
        )
    typed = frame.with_columns(pl.col(c).cast(pl.Float64, strict=False) for c in _FIELDS[1:])
    for column in _FIELDS[1:]:
        broken = typed.filter(pl.col(column).is_null() & frame[column].is_not_null())
        if broken.height:
            raise MalformedFileError(f"{broken['source'][0]}: {column!r} is not a number")
    first, last = typed["wall"].min(), typed["wall"].max()
    midnight = time(0)
    if first.time() == last.time() == midnight or (
        first.time() != midnight and last.time() != midnight
    ):
        raise MalformedFileError(
            f"{where}: cannot tell how these 5-minute rows are labelled ({first} .. {last} EST): "
            f"MISO labels by interval start in answers served since {RELABELLED_ON} and by "
            "interval end before; a whole day starts at 00:00 (start) or ends at 24:00 (end)"
        )
    shift = FIVE_MINUTES if first.time() != midnight else timedelta(0)
    start = est_to_utc(pl.col("wall") - shift)
    return (
        typed.with_columns(start.alias("interval_start"))
        .with_columns(
            (pl.col("interval_start") + FIVE_MINUTES).alias("interval_end"),
            pl.lit(ISO).alias("iso"),
            pl.lit("RT5M").alias("market"),
            pl.col("node").str.strip_chars().alias("location"),
            pl.lit("CPNODE").alias("location_type"),
            pl.lit(None, pl.Utf8).alias("location_id"),
            pl.col("mec").alias("energy"),
            pl.col("mcc").alias("congestion"),
            pl.col("mlc").alias("loss"),
            pl.lit(None, pl.Float64).alias("ghg"),
        )
        .select(LMP_COLUMNS)
    )
