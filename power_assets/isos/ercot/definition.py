"""ERCOT's `IsoDefinition`: where each market day's documents come from, and payload checks.

ERCOT serves every report as documents that must be listed before they can be fetched, so this ISO
plans a day (`plan_day`) instead of naming fixed URLs:

1. the MIS (no account): `IceDocListJsonWS?reportTypeId=` lists recent documents, and
   `mirDownload?doclookupId=` returns one `_csv.zip` each. The MIS keeps only recent days.
2. the Public API archive (account + subscription key, from the environment), for any older day:
   `GET /archive/{emil}?postDatetimeFrom=&postDatetimeTo=` lists documents, and
   `POST /archive/{emil}/download {"docIds": [...]}` returns them as one ZIP of ZIPs. The bearer
   token comes from ERCOT's B2C ROPC flow and is refreshed before it expires (`api`).

Either way documents are chosen by the market day they cover (`reports`), never by the day they
were posted. Bulk archives a user already holds are matched by the same names through
`dropped_file_day` (stage 1 ingests them before any request is planned). Parsing lives in
`parsing` (and `disclosure` for the 2-Day AS Reports), the real-time probe's reading in
`realtime`.
"""

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from power_assets.errors import (
    DownloadError,
    IsoErrorResponse,
    IsoNoDataError,
    MalformedFileError,
)
from power_assets.isos.base import (
    NO_SECRETS,
    AuthSession,
    CombinedSources,
    DatasetKind,
    DatasetSpec,
    DayAheadSchedule,
    DownloadRequest,
    IntervalLabel,
    IsoDefinition,
    Lister,
    RealtimeFeed,
    Secret,
    Secrets,
    ValueBound,
)
from power_assets.isos.ercot.api import (
    API_SECRETS,
    PASSWORD_ENV,
    SUBSCRIPTION_KEY_ENV,
    USERNAME_ENV,
    TokenCache,
    api_credentials,
)
from power_assets.isos.ercot.disclosure import member_day, parse_as_disclosure
from power_assets.isos.ercot.parsing import parse_ercot
from power_assets.isos.ercot.realtime import PROBE_DATASET, latest_sced_interval_end
from power_assets.isos.ercot.reports import (
    CENTRAL,
    REPORTS,
    REPORTS_BY_TYPE,
    TIMEZONE,
    ErcotReport,
    archive_instants,
    listed_document,
    mis_documents,
    mis_publish_instant,
    parse_document_name,
    read_json,
    select_documents,
)

MIS_LIST_PATH = "misapp/servlets/IceDocListJsonWS"
MIS_DOWNLOAD_PATH = "misdownload/servlets/mirDownload"
ARCHIVE_PAGE_SIZE = 1000
# docIds per archive download: one RT day (96-100 documents) fits in one request.
ARCHIVE_BATCH = 500
HOUR, FIFTEEN_MIN, FIVE_MIN = timedelta(hours=1), timedelta(minutes=15), timedelta(minutes=5)


class Ercot(IsoDefinition):
    id: ClassVar[str] = "ERCOT"
    name: ClassVar[str] = "Electric Reliability Council of Texas"
    timezone: ClassVar[str] = TIMEZONE
    default_base_url: ClassVar[str] = "https://www.ercot.com"
    extra_base_urls: ClassVar[dict[str, str]] = {
        "api": "https://api.ercot.com/api/public-reports",
        "token": "https://ercotb2c.b2clogin.com/ercotb2c.onmicrosoft.com/B2C_1_PUBAPI-ROPC-FLOW/oauth2/v2.0",
    }
    # The Public API allows about 30 requests a minute; the MIS is as touchy.
    min_request_spacing_s: ClassVar[float] = 2.0
    datasets: ClassVar[dict[str, DatasetSpec]] = {
        spec.id: spec
        for spec in (
            DatasetSpec(
                "lmp_da", DatasetKind.LMP, "DAM", HOUR, IntervalLabel.END,
                "DAM settlement point prices (NP4-190-CD, report 12331): hubs, load zones, resource nodes",
            ),
            DatasetSpec(
                "lmp_rt15", DatasetKind.LMP, "RTM", FIFTEEN_MIN, IntervalLabel.END,
                "Real-time 15-minute settlement point prices (NP6-905-CD, report 12301), one file "
                "per interval; load zones as LZ_* and their energy-weighted twins as LZ_*_LZEW",
            ),
            DatasetSpec(
                "lmp_rt5", DatasetKind.LMP, "SCED", FIVE_MIN, IntervalLabel.START,
                "SCED 5-minute LMPs by settlement point (NP6-788-CD, report 12300); runs of one "
                "interval averaged",
            ),
            DatasetSpec(
                "as_da", DatasetKind.AS_PRICE, "DAM", HOUR, IntervalLabel.END,
                "DAM clearing prices for capacity, MCPC (NP4-188-CD, report 12329)",
            ),
            DatasetSpec(
                "as_cleared_da", DatasetKind.AS_QUANTITY, "DAM", HOUR, IntervalLabel.END,
                "DAM ancillary services cleared and self-arranged, MW per product (2-Day AS "
                "Reports, NP3-911-ER, report 13057; disclosed two days after the operating day)",
            ),
            DatasetSpec(
                "load", DatasetKind.LOAD, "ACTUAL", HOUR, IntervalLabel.END,
                "Actual system load by weather zone, hourly (NP6-345-CD, report 13101)",
            ),
            DatasetSpec(
                "load_forecast", DatasetKind.LOAD_FORECAST, "FORECAST", HOUR, IntervalLabel.END,
                "Seven-day load forecast by forecast zone (NP3-560-CD, report 12311): the last "
                "forecast issued before the market day",
            ),
        )
    }  # fmt: skip
    combined: ClassVar[CombinedSources] = CombinedSources("lmp_da", "as_da", "lmp_rt15")
    realtime: ClassVar[RealtimeFeed] = RealtimeFeed(PROBE_DATASET, ("lmp_rt5", "lmp_rt15"))
    # The Public API (history older than the MIS keeps) needs an account and a subscription key.
    secrets: ClassVar[tuple[Secret, ...]] = API_SECRETS
    day_ahead: ClassVar[DayAheadSchedule] = DayAheadSchedule(
        clock(13, 45), clock(16, 15), ("lmp_da", "as_da", "load_forecast")
    )
    value_bounds: ClassVar[tuple[ValueBound, ...]] = (
        ValueBound(
            DatasetKind.LMP, 2000, 2021, -5_000.0, 25_000.0,
            "System-wide offer cap $9,000 until 2021; real-time adders (ORDC, reliability "
            "deployment) and congestion push settlement prices well beyond cap and floor",
        ),
        ValueBound(
            DatasetKind.LMP, 2022, 2100, -5_000.0, 15_000.0,
            "System-wide offer cap $5,000 from 2022, plus real-time adders and congestion",
        ),
        ValueBound(
            DatasetKind.AS_PRICE, 2000, 2100, -1.0, 30_000.0,
            "MCPCs reached ~$25,000/MW in February 2021; never negative (-1 allows rounding)",
        ),
        ValueBound(
            DatasetKind.AS_QUANTITY, 2000, 2100, -1.0, 20_000.0,
            "System-wide AS requirements are a few thousand MW per product; never negative",
        ),
        ValueBound(
            DatasetKind.LOAD, 2000, 2100, -1_000.0, 120_000.0,
            "ERCOT peak ~86 GW; weather zones smaller; small negatives from metering",
        ),
        ValueBound(
            DatasetKind.LOAD_FORECAST, 2000, 2100, -1_000.0, 120_000.0,
            "Same range as actual load",
        ),
    )  # fmt: skip

    def __init__(self) -> None:
        self._tokens = TokenCache()

    # --- planning ---------------------------------------------------------------------------

    def plan_day(
        self,
        dataset_id: str,
        day: date,
        lister: Lister,
        today: date | None = None,
        secrets: Secrets = NO_SECRETS,
    ) -> list[DownloadRequest]:
        report = REPORTS[self.dataset(dataset_id).id]
        today = today or datetime.now(CENTRAL).date()
        if day > today + timedelta(days=1):
            raise IsoNoDataError(
                f"ERCOT {dataset_id} {day}", "not-published", "the market day is in the future"
            )
        requests = self._mis_requests(report, day, lister)
        if requests:
            return requests
        if api_credentials(secrets) is not None:
            return self._archive_requests(report, day, lister)
        raise IsoNoDataError(
            f"ERCOT {dataset_id} {day}",
            "not-listed",
            f"the MIS lists no {report.emil_id} document for {day} (it keeps only recent days). "
            f"For history set {USERNAME_ENV}, {PASSWORD_ENV} and {SUBSCRIPTION_KEY_ENV} (ERCOT "
            "Public API), or drop ERCOT's archives into data/ERCOT/raw_downloads/",
        )

    def plan_final_after(self, dataset_id: str, day: date) -> datetime | None:
        report = REPORTS[self.dataset(dataset_id).id]
        return self.market_day_bounds(day)[1] + report.settles_after

    def _day_request(self, report: ErcotReport, day: date, **fields: Any) -> DownloadRequest:
        start, end = self.market_day_bounds(day)
        return DownloadRequest(
            iso=self.id, dataset=report.dataset, window_start=start, window_end=end, **fields
        )

    def _mis_listing(self, report: ErcotReport, day: date) -> DownloadRequest:
        """The MIS listing of every document of `report` it still keeps (not just `day`'s)."""
        return self._day_request(
            report, day, path=MIS_LIST_PATH,
            params=(("reportTypeId", str(report.report_type_id)),),
            file_name=f"doclist_{report.report_type_id}.json",
        )  # fmt: skip

    def _mis_requests(
        self, report: ErcotReport, day: date, lister: Lister
    ) -> list[DownloadRequest]:
        source = f"ERCOT MIS document list {report.report_type_id}"
        entries = []
        for doc_info in mis_documents(lister(self._mis_listing(report, day)), source):
            name = str(doc_info.get("ConstructedName", ""))
            doc = parse_document_name(name)
            if doc is None:
                continue
            published = mis_publish_instant(doc_info.get("PublishDate"), source, doc.embedded)
            if published is not None:
                doc = replace(doc, posted=published)
            entries.append((doc, (str(doc_info["DocID"]), name)))
        return [
            self._day_request(
                report,
                day,
                path=MIS_DOWNLOAD_PATH,
                params=(("doclookupId", doc_id),),
                file_name=_safe_name(name),
                # A document never changes once posted; corrections come as new documents.
                final_after=doc.posted,
            )
            for doc, (doc_id, name) in select_documents(report, day, entries)
        ]

    def _archive_requests(
        self, report: ErcotReport, day: date, lister: Lister
    ) -> list[DownloadRequest]:
        emil = report.emil_id.lower()
        # Documents about day D are posted from D-1 (day-ahead) until the report settles (the
        # last intervals just after midnight, actual load on D+1, disclosures on D+2): list
        # that whole span, then choose by delivery day.
        posted_from = datetime.combine(day - timedelta(days=1), datetime.min.time())
        posted_to = datetime.combine(day + timedelta(days=1), datetime.min.time())
        posted_to += report.settles_after + timedelta(hours=12)
        listed: list[tuple[int, str, datetime]] = []
        page, pages = 1, 1
        while page <= pages:
            listing = self._day_request(
                report, day, endpoint="api", path=f"archive/{emil}", needs_auth=True,
                params=(
                    ("postDatetimeFrom", posted_from.isoformat(timespec="seconds")),
                    ("postDatetimeTo", posted_to.isoformat(timespec="seconds")),
                    ("size", str(ARCHIVE_PAGE_SIZE)), ("page", str(page)),
                ),
                file_name=f"archive_{emil}.json", headers=(("Accept", "application/json"),),
            )  # fmt: skip
            body = read_json(lister(listing), f"ERCOT archive listing {report.emil_id}")
            pages = int(body.get("_meta", {}).get("totalPages") or 1)
            for archive in body.get("archives") or []:
                wall = datetime.fromisoformat(str(archive["postDatetime"]))
                listed.append((int(archive["docId"]), str(archive["friendlyName"]), wall))
            page += 1
        # postDatetime is Central wall clock without an offset (unlike the MIS PublishDate).
        instants = archive_instants({doc_id: wall for doc_id, _, wall in listed})
        entries = [
            (listed_document(report.report_type_id, friendly, instants[doc_id]), doc_id)
            for doc_id, friendly, _ in listed
        ]
        chosen = select_documents(report, day, entries)
        if not chosen:
            raise IsoNoDataError(
                f"ERCOT archive {report.emil_id} {day}", "not-listed",
                f"no {report.emil_id} document posted between {posted_from} and {posted_to} "
                f"covers {day}",
            )  # fmt: skip
        requests = []
        for first in range(0, len(chosen), ARCHIVE_BATCH):
            batch = chosen[first : first + ARCHIVE_BATCH]
            doc_ids = [doc_id for _, doc_id in batch]
            digest = hashlib.sha256(json.dumps(doc_ids).encode()).hexdigest()[:10]
            requests.append(
                self._day_request(
                    report,
                    day,
                    endpoint="api",
                    path=f"archive/{emil}/download",
                    params=(),
                    method="POST",
                    json_body=json.dumps({"docIds": doc_ids}),
                    needs_auth=True,
                    headers=(("Content-Type", "application/json"),),
                    file_name=f"{emil}_{day:%Y%m%d}_{digest}.zip",
                    final_after=max(doc.posted for doc, _ in batch),
                )
            )
        return requests

    # --- real time ---------------------------------------------------------------------------

    def latest_interval_request(self, now: datetime) -> DownloadRequest:
        """The MIS listing of the SCED LMP report (12300), as planning lists it for today."""
        return self._mis_listing(REPORTS[PROBE_DATASET], now.astimezone(CENTRAL).date())

    def latest_interval_end(self, dataset_id: str, content: bytes, source: str) -> datetime | None:
        if self.dataset(dataset_id).id != PROBE_DATASET:
            raise self.no_latest_interval(dataset_id)
        return latest_sced_interval_end(content, source)

    # --- credentials --------------------------------------------------------------------------

    def auth_headers(
        self, request: DownloadRequest, session: AuthSession, secrets: Secrets
    ) -> dict[str, str]:
        credentials = api_credentials(secrets)
        if credentials is None:
            raise DownloadError(
                f"ERCOT Public API needs {USERNAME_ENV}, {PASSWORD_ENV} and {SUBSCRIPTION_KEY_ENV}"
            )
        username, password, key = credentials
        token = self._tokens.get(self, session, username, password)
        return {"Ocp-Apim-Subscription-Key": key, "Authorization": f"Bearer {token}"}

    def forget_auth(self) -> None:
        self._tokens.clear()

    # --- payloads and parsing ---------------------------------------------------------------

    def check_payload(self, content: bytes, source: str) -> None:
        head = content[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
        if head[:4] == b"PK\x03\x04":
            return
        if head[:1] in (b"{", b"["):
            body = read_json(content, source)
            if isinstance(body, dict) and ("ListDocsByRptTypeRes" in body or "_meta" in body):
                return
            if isinstance(body, dict) and {"code", "message"} <= body.keys():
                raise IsoErrorResponse(source, str(body["code"]), str(body["message"]))
            return
        what = "an HTML page (maintenance or error)" if head[:1] == b"<" else "not a document"
        raise MalformedFileError(
            f"{source}: ERCOT answered {what}: {len(content)} bytes starting {content[:60]!r}"
        )

    def parse(self, dataset_id: str, paths: Iterable[Path]) -> pl.DataFrame:
        return self.parse_with_notes(dataset_id, list(paths))[0]

    def parse_with_notes(
        self, dataset_id: str, paths: Sequence[Path]
    ) -> tuple[pl.DataFrame, dict[str, int]]:
        spec = self.dataset(dataset_id)
        paths = [p if isinstance(p, Path) else Path(p) for p in paths]
        if not paths:
            raise MalformedFileError(f"ERCOT {dataset_id}: no data files to parse")
        if spec.kind is DatasetKind.AS_QUANTITY:
            return parse_as_disclosure(paths, self.id)
        return parse_ercot(spec.id, paths, self.id)

    # --- bulk archives ----------------------------------------------------------------------

    def dropped_file_day(self, name: str) -> tuple[str, date] | None:
        disclosed = member_day(name)
        if disclosed is not None:  # 2-Day AS Reports members are not cdr-named
            return "as_cleared_da", disclosed
        doc = parse_document_name(name)
        if doc is None or not doc.is_csv or not name.lower().endswith(".csv"):
            return None
        report = REPORTS_BY_TYPE.get(doc.report_type_id)
        return (report.dataset, report.delivery_day(doc)) if report else None

    def choose_dropped_files(self, dataset_id: str, day: date, names: list[str]) -> list[str]:
        if self.dataset(dataset_id).kind is DatasetKind.AS_QUANTITY:
            return names
        report = REPORTS[dataset_id]
        docs = [(doc, name) for name in names if (doc := parse_document_name(name))]
        return [name for _, name in select_documents(report, day, docs)]


def _safe_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if not base or base in (".", ".."):
        raise MalformedFileError(f"ERCOT MIS: unusable document name {name!r}")
    return base
