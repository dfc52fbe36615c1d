"""MISO Data Exchange (`apim.misoenergy.org/pricing/v1`, needs a free pricing key): the request for
one day of real-time 5-minute ex-post LMPs, its pages, and reading them.

What belongs here: `GET /real-time/{yyyy-mm-dd}/lmp-expost?preliminaryFinal=Preliminary|Final&
timeResolution=5min&pageNumber=n` (header `Ocp-Apim-Subscription-Key`), answered in fixed-size pages
`{"data": [{"timeInterval": {"resolution", "start", "end", "value"}, "preliminaryFinal", "node",
"lmp", "mcc", "mec", "mlc"}], "page": {"pageNumber", "pageSize", "totalElements", "totalPages",
"lastPage"}}`; the pager that follows them; the table of a day's pages.

Interval labels: on 2026-05-06 MISO corrected the API's 5-minute labels "including historical
dates": answers served before then stamp each interval by its END in `start`/`value` (the last
interval of a day reads start 24:00), answers served since by its START (00:00 .. 23:55). What
counts is when the answer was served, not the market day, so the labelling is read from the
day's rows themselves: a day that starts at 00:00 EST is start-labelled, one that ends at 24:00
end-labelled (moved back 5 minutes); a set of rows that shows neither is refused.

Preliminary or final: real-time results turn final 3-5 days after the day, so a day is asked
for `Final` once FINAL_DAYS have passed since it began, `Preliminary` before (market
RT5M_PRELIM; that request is refetched until the day is old enough to ask for `Final`). Every
row must carry the `preliminaryFinal` asked for, and a (node, interval) only once: an answer
mixing both versions would otherwise count an interval twice.

Pages are read by polars (`read_json` with every field as text), never row by row: a day of
every node is some 700,000 items.
"""

import io
import json
import re
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
# Real-time results are preliminary for 3-5 days after the day: ask for `Final` from the start of
# the day plus FINAL_DAYS (the day's end plus 5 days), `Preliminary` before.
FINAL_DAYS = 6
PRELIMINARY, FINAL = "Preliminary", "Final"
MARKETS = {PRELIMINARY: "RT5M_PRELIM", FINAL: "RT5M"}
_FIELDS = ("node", "lmp", "mcc", "mec", "mlc")
_ROW = pl.Struct(
    {"timeInterval": pl.Struct({"start": pl.Utf8}), "preliminaryFinal": pl.Utf8,
     **dict.fromkeys(_FIELDS, pl.Utf8)}
)  # fmt: skip
_PAGE_SCHEMA = {"data": pl.List(_ROW)}
_ASKED = re.compile(r"_lmp-expost_5min_(preliminary|final)\.zip", re.IGNORECASE)
_PAGE_NAME = re.compile(r"(^|[/!])page_\d{5}\.json$")
_ENDS = 4096  # bytes at each end of a kept file where a page's `page` block may be
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S",
                 "%Y-%m-%dT%H:%M:%S")  # fmt: skip


def five_minute_request(day: date, today: date) -> DownloadRequest:
    """The first page of `day`'s 5-minute ex-post LMPs (the pager asks for the others): `Final`
    once FINAL_DAYS have passed since the day began (EST `today`), else `Preliminary`, which is
    not final before then (a later run asks again, for `Final`)."""
    start = est_midnight_utc(day)
    final = today >= day + timedelta(days=FINAL_DAYS)
    kind = FINAL if final else PRELIMINARY
    return DownloadRequest(
        iso=ISO, dataset="lmp_rt5", path=f"real-time/{day:%Y-%m-%d}/lmp-expost",
        params=(("preliminaryFinal", kind), ("timeResolution", "5min"), ("pageNumber", "1")),
        file_name=f"{day:%Y%m%d}_lmp-expost_5min_{kind.lower()}.zip", window_start=start,
        window_end=start + timedelta(days=1), endpoint=ENDPOINT, needs_auth=True,
        final_after=None if final else est_midnight_utc(day + timedelta(days=FINAL_DAYS)),
        headers=(("Accept", "application/json"),),
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


def is_page(name: str, content: bytes) -> bool:
    """Whether a kept file is a Data Exchange page: a member the pager named (`page_00001.json`),
    or a JSON object with a `page` block at its start or end (read from the ends only: a
    public-API answer can be 47 MB and must not be parsed twice)."""
    if _PAGE_NAME.search(name.replace("\\", "/")):
        return True
    ends = content[:_ENDS] + content[-_ENDS:]
    return content[:64].lstrip().startswith(b"{") and b'"page"' in ends


def _page(name: str, content: bytes) -> pl.DataFrame:
    """One page's rows, every field as text, with `source` (`{name} data[i]`) for messages."""
    try:
        body = pl.read_json(io.BytesIO(content), schema=_PAGE_SCHEMA)
    except (pl.exceptions.PolarsError, ValueError) as exc:
        raise MalformedFileError(f"{name}: not a Data Exchange page: {excerpt(str(exc))}") from exc
    require(body.height == 1, name, "not one JSON object")
    rows = body.select(pl.col("data").explode()).filter(pl.col("data").is_not_null())
    return (
        rows.unnest("data")
        .with_row_index("index")
        .with_columns(
            pl.col("timeInterval").struct.field("start").alias("start"),
            pl.format("{} data[{}]", pl.lit(name), pl.col("index")).alias("source"),
        )
        .drop("timeInterval", "index")
    )


def _asked(pages: list[tuple[str, bytes]]) -> str | None:
    """Which version the kept answer was asked for, from its file name (None: not named)."""
    found = {m[1].lower() for name, _ in pages if (m := _ASKED.search(name))}
    if len(found) == 1:
        return FINAL if found == {"final"} else PRELIMINARY
    return None


def _first(frame: pl.DataFrame, condition: pl.Expr) -> dict | None:
    bad = frame.filter(condition).head(1)
    return bad.row(0, named=True) if bad.height else None


def _checked(frame: pl.DataFrame, where: str, asked: str | None) -> str:
    """Check the rows' fields and `preliminaryFinal`; the one version they all carry."""
    absent = [
        f for f in ("start", "preliminaryFinal", *_FIELDS) if frame[f].null_count() == frame.height
    ]
    if absent:
        raise SchemaDriftError(where, absent, [])
    if (row := _first(frame, pl.col("start").is_null())) is not None:
        raise MalformedFileError(f"{row['source']}: no timeInterval.start")
    if (row := _first(frame, pl.col("node").str.strip_chars().fill_null("") == "")) is not None:
        raise MalformedFileError(f"{row['source']}: no node")
    versions = frame["preliminaryFinal"].str.strip_chars().unique().to_list()
    if len(versions) != 1 or versions[0] not in MARKETS:
        said = ", ".join(sorted(str(v) for v in versions))
        raise MalformedFileError(
            f"{where}: preliminaryFinal {excerpt(said)} in one answer: expected all "
            f"{asked or f'{PRELIMINARY} or all {FINAL}'}"
        )
    if asked is not None and versions[0] != asked:
        raise MalformedFileError(
            f"{where}: rows are {versions[0]} where {asked} was asked for (preliminaryFinal)"
        )
    return versions[0]


def five_minute_table(pages: list[tuple[str, bytes]]) -> pl.DataFrame:
    """All pages of one day's answer as 5-minute LMPs, labels made interval starts."""
    where = ", ".join(name for name, _ in pages[:2]) + (" ..." if len(pages) > 2 else "")
    frame = pl.concat([_page(name, content) for name, content in pages], how="diagonal_relaxed")
    require(not frame.is_empty(), where, "no rows in the Data Exchange answer")
    version = _checked(frame, where, _asked(pages))
    text = pl.col("start").str.strip_chars()
    wall = pl.coalesce(text.str.strptime(pl.Datetime("us"), f, strict=False) for f in _TIME_FORMATS)
    frame = frame.with_columns(wall.alias("wall"))
    bad = frame.filter(pl.col("wall").is_null())
    if bad.height:
        raise MalformedFileError(
            f"{bad['source'][0]}: timeInterval.start {excerpt(bad['start'][0])} is no timestamp"
        )
    typed = frame.with_columns(
        pl.col(c).str.strip_chars().cast(pl.Float64, strict=False) for c in _FIELDS[1:]
    )
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
    table = typed.with_columns(
        start.alias("interval_start"), pl.col("node").str.strip_chars().alias("location")
    )
    repeated = _first(table, pl.len().over("location", "interval_start") > 1)
    if repeated is not None:
        raise MalformedFileError(
            f"{repeated['source']}: node {excerpt(repeated['location'])} at "
            f"{repeated['start']} appears more than once in the answer"
        )
    return table.with_columns(
        (pl.col("interval_start") + FIVE_MINUTES).alias("interval_end"),
        pl.lit(ISO).alias("iso"),
        pl.lit(MARKETS[version]).alias("market"),
        pl.lit("CPNODE").alias("location_type"),
        pl.lit(None, pl.Utf8).alias("location_id"),
        pl.lit(None, pl.Utf8).alias("baa"),
        pl.col("mec").alias("energy"),
        pl.col("mcc").alias("congestion"),
        pl.col("mlc").alias("loss"),
        pl.lit(None, pl.Float64).alias("ghg"),
    ).select(LMP_COLUMNS)
