"""ERCOT for a day in progress: the newest SCED interval an MIS document listing names.

What belongs here: reading the listing of the SCED LMP report (12300, NP6-788-CD, which feeds
lmp_rt5) for the interval its newest document will fill. Requests stay in `definition`, what a
document name means in `reports`, the rows' time rules in `parsing`.

SCED runs at arbitrary seconds and each run is one document, named for the run's local wall time
(`LMPSROSNODENP6788_20241103_013512`). The parser places a run stamped t in the 5-minute interval
containing t (label start), so the document fills the interval ending floor(t, 5 min) + 5 min. On
the fall-back day the wall time of a 01:xx run is ambiguous; the file says which pass it is
(`RepeatedHourFlag`), the listing does not, but its `PublishDate` carries a UTC offset and ERCOT
posts a run within a minute or two: the run is the latest reading of its wall time not after
publication.
"""

from datetime import UTC, datetime, timedelta

from power_assets.errors import MalformedFileError
from power_assets.isos.ercot.reports import (
    CENTRAL,
    REPORTS,
    central_instant,
    is_repeated,
    mis_documents,
    mis_publish_instant,
    parse_document_name,
)

PROBE_DATASET = "lmp_rt5"
FIVE_MINUTES = timedelta(minutes=5)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def latest_sced_interval_end(content: bytes, source: str) -> datetime | None:
    """UTC end of the interval of the newest SCED LMP CSV document an MIS listing names; None
    when it names none (XML twins and other reports are ignored)."""
    report = REPORTS[PROBE_DATASET]
    newest: datetime | None = None
    for entry in mis_documents(content, source):
        doc = parse_document_name(str(entry.get("ConstructedName", "")))
        if doc is None or doc.report_type_id != report.report_type_id or not doc.is_csv:
            continue
        if doc.embedded is None:
            continue  # no run time in the name: nothing says which interval it fills
        try:
            published = mis_publish_instant(entry.get("PublishDate"), source, None)
        except MalformedFileError:
            published = None  # a probe reads what it can; the run is then read as CDT
        run = run_instant(doc.embedded, published)
        if run is None:
            continue
        end = run - (run - _EPOCH) % FIVE_MINUTES + FIVE_MINUTES
        newest = end if newest is None else max(newest, end)
    return newest


def run_instant(wall: datetime, published: datetime | None) -> datetime | None:
    """The UTC instant of a SCED run at naive Central `wall` time, or None if that wall time does
    not exist (the spring-forward gap, which the parser rejects too).

    A fall-back 01:xx wall time is read as the later pass when that pass had begun by
    `published`, else as the earlier one (also without a publication time, like the parser
    reading RepeatedHourFlag "N").
    """
    first = central_instant(wall)
    if first.astimezone(CENTRAL).replace(tzinfo=None) != wall:
        return None
    second = central_instant(wall, second_pass=True)
    if published is not None and is_repeated(wall) and second <= published:
        return second
    return first
