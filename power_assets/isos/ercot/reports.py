"""ERCOT's reports: which report type feeds which dataset, and which market day a document covers.

ERCOT names every document `cdr.{reportTypeId:08}.{16 digits}.{post date}.{post time}.{friendly}`
(MIS downloads, Public API archives and users' bulk archives alike; archives may prefix the docId).
The post date is when ERCOT published it, not the day the data is for: the day-ahead market for
day D posts on D-1, the 15-minute real-time file ending at 24:00 of D is named `_{D+1}_0000`. This
module turns a document name into the market day it covers, so stage 1 picks documents by delivery
day whichever source they come from; it also reads the MIS listing that names the documents.

Post times are UTC instants from the moment they are read. ERCOT writes them as Central wall clock
in names and in the Public API's archive listing (`postDatetime`, no offset); the MIS listing's
`PublishDate` carries the offset and is exact. A wall time in the repeated fall-back hour names two
instants: the archive listing settles it by posting order (docIds grow as documents are posted),
a bare name only when its own data time proves the later pass (see `name_instant`).
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from power_assets.errors import MalformedFileError

# Leaf CSVs end `.csv`; MIS/API documents `_csv.zip`; `_xml.zip` twins are never wanted.
_CDR = re.compile(
    r"cdr\.(?P<report>\d{8})\.\d+\.(?P<date>\d{8,})\.(?P<time>\d{6})\d*\."
    r"(?P<friendly>[A-Za-z0-9_]+?)(?:_(?P<fmt>csv|xml))?\.(?P<ext>csv|xml|zip)$",
    re.IGNORECASE,
)
# A date (and time) embedded in the friendly name: SPPHLZNP6905_20240101_0015, ..._retry_...
_EMBEDDED = re.compile(r"_(?P<date>\d{8})_(?P<time>\d{4}|\d{6})$")
TIMEZONE = "America/Chicago"  # ERCOT's market time: every ERCOT module takes it from here
CENTRAL = ZoneInfo(TIMEZONE)


def central_instant(wall: datetime, *, second_pass: bool = False) -> datetime:
    """The UTC instant of a naive Central wall time; `second_pass` picks the CST reading of a wall
    time in the repeated fall-back hour (elsewhere it changes nothing)."""
    return wall.replace(tzinfo=CENTRAL, fold=int(second_pass)).astimezone(UTC)


def is_repeated(wall: datetime) -> bool:
    """Whether a naive Central wall time falls in the repeated fall-back hour (two instants)."""
    return central_instant(wall) != central_instant(wall, second_pass=True)


def name_instant(posted_wall: datetime, data_wall: datetime | None) -> datetime:
    """The UTC instant of a post time read from a document name.

    A name alone cannot tell the two passes of the fall-back hour apart. One case it can: a post
    wall time earlier than the wall time of the data it carries (a SCED run, an interval end)
    is impossible within one pass, so the post is the second pass. Otherwise the first (CDT)
    reading is taken; listings, which are exact, are preferred wherever a listing was read.
    """
    second = (
        data_wall is not None
        and posted_wall < data_wall
        and is_repeated(posted_wall)
        and is_repeated(data_wall)
    )
    return central_instant(posted_wall, second_pass=second)


def mis_publish_instant(value: object, source: str, data_wall: datetime | None) -> datetime | None:
    """The MIS listing's `PublishDate` (ISO 8601 with ERCOT's offset) as UTC; None if absent.
    Without an offset it is Central wall clock, read like a name's post time (`name_instant`)."""
    if not value:
        return None
    try:
        stamp = datetime.fromisoformat(str(value))
    except ValueError:
        raise MalformedFileError(f"{source}: PublishDate {value!r} is not a date-time") from None
    if stamp.tzinfo is None:
        return name_instant(stamp, data_wall)
    return stamp.astimezone(UTC)


def archive_instants(walls: dict[int, datetime]) -> dict[int, datetime]:
    """UTC instants of the Public API archive listing's naive Central `postDatetime`s, by docId.

    docIds grow as ERCOT posts documents, so in docId order the repeated hour's second pass shows
    as a wall time going back, or as a repeated-hour time after one past the hour that day.
    """
    instants: dict[int, datetime] = {}
    latest: dict[date, datetime] = {}  # per day: the latest wall time seen so far, in post order
    second_pass: set[date] = set()
    for doc_id, wall in sorted(walls.items()):
        day, seen = wall.date(), latest.get(wall.date())
        if is_repeated(wall) and seen is not None and wall < seen:
            second_pass.add(day)
        instants[doc_id] = central_instant(
            wall, second_pass=day in second_pass and is_repeated(wall)
        )
        latest[day] = wall if seen is None else max(seen, wall)
    return instants


@dataclass(frozen=True)
class ErcotDocument:
    """What a document's name (or its listing entry) says about it."""

    report_type_id: int
    posted: datetime  # when ERCOT published it, UTC (from the listing, else from the name)
    friendly: str  # e.g. DAMSPNP4190, SPPHLZNP6905_20240101_0015
    is_csv: bool

    @property
    def embedded(self) -> datetime | None:
        """The date/time in the friendly name (interval end or SCED run), local wall time."""
        return _embedded(self.friendly)

    @property
    def posted_day(self) -> date:
        """The Central calendar day it was posted on (what ERCOT's delivery rules count from)."""
        return self.posted.astimezone(CENTRAL).date()

    @property
    def is_retry(self) -> bool:
        return "_retry" in self.friendly.lower()


def _embedded(friendly: str) -> datetime | None:
    match = _EMBEDDED.search(friendly)
    if match is None:
        return None
    return _wall_time(match["date"] + match["time"].ljust(6, "0"))


def _wall_time(stamp: str) -> datetime:
    """A naive YYYYMMDDHHMMSS wall time, as `strptime(stamp, "%Y%m%d%H%M%S")` reads it (which it
    is asked whenever the plain reading of 14 digits fails). The plain reading is several times
    faster, and a day of files has hundreds of names."""
    if len(stamp) == 14:
        try:
            return datetime(
                int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8]),
                int(stamp[8:10]), int(stamp[10:12]), int(stamp[12:]),
            )  # fmt: skip
        except ValueError:
            pass
    return datetime.strptime(stamp, "%Y%m%d%H%M%S")


def parse_document_name(name: str) -> ErcotDocument | None:
    """The document a file or archive-member name stands for, or None if it is not ERCOT-named."""
    match = _CDR.search(name.rsplit("/", 1)[-1])
    if match is None:
        return None
    report, day, clock, friendly, fmt, ext = match.group(
        "report", "date", "time", "friendly", "fmt", "ext"
    )
    embedded = _embedded(friendly)
    try:
        wall = _wall_time(day + clock)
    except ValueError:
        # ERCOT has published garbled post dates (`.2023202306110610.`); the interval in the
        # friendly name still says when the document was for, so it stands in for the post time.
        if embedded is None:
            return None
        wall = embedded
    is_csv = (fmt or ext).lower() == "csv" or ext.lower() == "csv"
    return ErcotDocument(int(report), name_instant(wall, embedded), friendly, is_csv)


def listed_document(report_type_id: int, friendly: str, posted: datetime) -> ErcotDocument:
    """A document described by a listing (MIS or Public API archive) rather than a file name;
    `posted` is the listing's instant (aware)."""
    if posted.tzinfo is None:
        raise ValueError(f"listing post time {posted} has no offset: read it with its zone")
    friendly = re.sub(r"_(csv|xml)$", "", friendly, flags=re.IGNORECASE)
    is_csv = not friendly.lower().endswith("xml")
    return ErcotDocument(report_type_id, posted.astimezone(UTC), friendly, is_csv)


def _posted_next_day(doc: ErcotDocument) -> date:
    return doc.posted_day + timedelta(days=1)


def _posted_previous_day(doc: ErcotDocument) -> date:
    return doc.posted_day - timedelta(days=1)


def _posted_two_days_later(doc: ErcotDocument) -> date:
    return doc.posted_day - timedelta(days=2)


def _interval_end_day(doc: ErcotDocument) -> date:
    # The file of the interval ending at 24:00 is named for 00:00 of the next day.
    end = doc.embedded
    if end is None:
        return doc.posted_day
    return (end - timedelta(seconds=1)).date()


def _run_day(doc: ErcotDocument) -> date:
    run = doc.embedded
    return run.date() if run is not None else doc.posted_day


@dataclass(frozen=True)
class ErcotReport:
    """One ERCOT report feeding one dataset."""

    dataset: str
    report_type_id: int
    emil_id: str  # e.g. NP4-190-CD: the Public API product
    friendly_prefix: str  # e.g. DAMSPNP4190
    delivery_day: Callable[[ErcotDocument], date]
    # Keep only the newest document per market day (forecasts: the last vintage before the day).
    latest_only: bool = False
    # Documents for day D keep arriving until this long after D ends (local time).
    settles_after: timedelta = timedelta(hours=2)

    def covers(self, doc: ErcotDocument, day: date) -> bool:
        return (
            doc.report_type_id == self.report_type_id
            and doc.is_csv
            and self.delivery_day(doc) == day
        )


REPORTS: dict[str, ErcotReport] = {
    report.dataset: report
    for report in (
        ErcotReport("lmp_da", 12331, "NP4-190-CD", "DAMSPNP4190", _posted_next_day),
        ErcotReport("lmp_rt15", 12301, "NP6-905-CD", "SPPHLZNP6905", _interval_end_day),
        ErcotReport("lmp_rt5", 12300, "NP6-788-CD", "LMPSROSNODENP6788", _run_day),
        ErcotReport("as_da", 12329, "NP4-188-CD", "DAMCPCNP4188", _posted_next_day),
        # Actual load for operating day D is posted early on D+1.
        ErcotReport(
            "load", 13101, "NP6-345-CD", "ACTUALLOADOFWEATHERZONENP6345", _posted_previous_day,
            settles_after=timedelta(days=1, hours=12),
        ),
        # 2-Day AS Reports: one ZIP of CSVs per operating day, disclosed two days later.
        ErcotReport(
            "as_cleared_da", 13057, "NP3-911-ER", "2DAYASREPORTS", _posted_two_days_later,
            settles_after=timedelta(days=2, hours=12),
        ),
        # Seven-day forecast: the last one issued before the market day starts.
        ErcotReport(
            "load_forecast", 12311, "NP3-560-CD", "LFCCONGESTNP3560", _posted_next_day,
            latest_only=True, settles_after=timedelta(0),
        ),
    )
}  # fmt: skip
REPORTS_BY_TYPE: dict[int, ErcotReport] = {r.report_type_id: r for r in REPORTS.values()}


def select_documents(
    report: ErcotReport, day: date, docs: list[tuple[ErcotDocument, Any]]
) -> list[tuple[ErcotDocument, Any]]:
    """The documents covering `day`, oldest first; for `latest_only` reports just the newest.

    Corrections (`_retry` files, re-posted days) are kept alongside the originals: the parser
    keeps, per key, the row of the most recently posted file, so a correction supersedes.
    """
    chosen = sorted(
        (pair for pair in docs if report.covers(pair[0], day)), key=lambda p: p[0].posted
    )
    if report.latest_only and chosen:
        return chosen[-1:]
    return chosen


def read_json(content: bytes, source: str) -> Any:
    try:
        return json.loads(content)
    except ValueError as exc:
        raise MalformedFileError(f"{source}: not JSON: {exc}; starts {content[:60]!r}") from None


def mis_documents(content: bytes, source: str) -> list[dict[str, Any]]:
    """The `Document` entries of an MIS listing (one entry may come as an object, not a list)."""
    body = read_json(content, source)
    listing = (body or {}).get("ListDocsByRptTypeRes") if isinstance(body, dict) else None
    if listing is None:
        raise MalformedFileError(f"{source}: no ListDocsByRptTypeRes in the MIS answer")
    entries = listing.get("DocumentList") or []
    if isinstance(entries, dict):
        entries = [entries]
    return [
        entry["Document"] for entry in entries if isinstance(entry, dict) and "Document" in entry
    ]
