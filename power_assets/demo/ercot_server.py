"""A fake ERCOT on loopback: the MIS servlets, the B2C token service and the Public API archive.

ERCOT's URL shapes and response formats, serving a given list of documents.

What belongs here: the HTTP side of the fake (listing and downloading documents, `_xml` twins,
MIS retention, the ROPC token flow with expiry by the fake's clock, subscription-key and bearer
checks, archive listings filtered and paginated like the real API, the ZIP-of-ZIPs bulk download,
429 throttling, a log of every request). Documents come from `ercot_fixtures`.

One server answers all three hosts; point each base URL at it:

    GET  /misapp/servlets/IceDocListJsonWS?reportTypeId={id}            MIS document list
    GET  /misdownload/servlets/mirDownload?doclookupId={DocID}          MIS document ZIP
    POST {B2C_PATH}/token  (or /token)                                  B2C ROPC token
    GET  /api/public-reports/archive/{emil}?postDatetimeFrom=&postDatetimeTo=&size=&page=
    GET  /api/public-reports/archive/{emil}?download={docId}             one document ZIP
    POST /api/public-reports/archive/{emil}/download  {"docIds": [...]}  ZIP of document ZIPs

    python -m power_assets.demo.ercot_server --days 2024-11-03   # serve until Ctrl-C
"""

import argparse
import contextlib
import json
import math
import re
import threading
import time
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock
from urllib.parse import parse_qsl, urlencode, urlsplit

from power_assets.demo.ercot_documents import CENTRAL, UTC, XML_TWIN_OFFSET, ErcotDoc, doc_zip
from power_assets.demo.ercot_fixtures import documents_for_day
from power_assets.demo.loopback import LoopbackServer, QuietHandler, Response
from power_assets.demo.synthetic import zip_members

MIS_LIST_PATH = "/misapp/servlets/IceDocListJsonWS"
MIS_DOWNLOAD_PATH = "/misdownload/servlets/mirDownload"
B2C_PATH = "/ercotb2c.onmicrosoft.com/B2C_1_PUBAPI-ROPC-FLOW/oauth2/v2.0"
API_PATH = "/api/public-reports"
# The public client id of ERCOT's ROPC flow (from ERCOT's API documentation).
CLIENT_ID = "fec253ea-0d06-4272-a5e6-b478baeecd70"
LOGGED_HEADERS = ("Authorization", "Ocp-Apim-Subscription-Key", "Content-Type")
REPORT_NAMES = {
    12331: "DAM Settlement Point Prices",
    12329: "DAM Clearing Prices for Capacity",
    12301: "Settlement Point Prices at Resource Nodes, Hubs and Load Zones",
    12300: "LMPs by Resource Nodes, Load Zones and Trading Hubs",
    13101: "Actual System Load by Weather Zone",
    12311: "Seven-Day Load Forecast by Forecast Zone",
}
# ERCOT's Public API product (EMIL id) of each report type, as ERCOT lists them.
EMIL_TO_REPORT = {
    "np4-190-cd": 12331, "np6-905-cd": 12301, "np6-788-cd": 12300, "np4-188-cd": 12329,
    "np6-345-cd": 13101, "np3-911-er": 13057, "np3-560-cd": 12311,
}  # fmt: skip
DEFAULT_PAGE_SIZE = 1000
MAX_DOWNLOAD_IDS = 1000
NOT_FOUND_HTML = b"<html><head><title>404 Not Found</title></head><body>Not Found</body></html>"
_ARCHIVE = re.compile(r"^/archive/(?P<emil>[A-Za-z0-9-]+)(?P<download>/download)?/?$")


@dataclass(frozen=True)
class ErcotRequest:
    """One request the fake received. `service` is "mis", "token", "api" or "other"; `headers`
    holds the LOGGED_HEADERS that were sent; `time` is `time.monotonic()` at arrival."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    service: str
    status: int
    time: float


def _json(status: int, document: object, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    return Response(status, "application/json", json.dumps(document).encode(), headers)


def _not_found() -> Response:
    return Response(404, "text/html", NOT_FOUND_HTML)


def _zip(body: bytes, name: str) -> Response:
    return Response(
        200, "application/zip", body, (("Content-Disposition", f"attachment; filename={name}"),)
    )


def _api_error(status: int, message: str) -> Response:
    return _json(status, {"statusCode": status, "message": message})


def _b2c_error(error: str, description: str) -> Response:
    return _json(400, {"error": error, "error_description": description})


class FakeErcot(LoopbackServer):
    """ERCOT's MIS, token service and Public API archive on 127.0.0.1, serving `documents`.

    `now` (aware) is the fake's clock, settable: documents posted after it do not exist yet,
    tokens expire `token_lifetime_s` after issue by it, and with `mis_retention_days` the MIS
    lists only documents posted within that many days before it. Default: a minute after the
    last document was posted. `throttle_every` answers every Nth Public API request with 429.
    """

    def __init__(
        self,
        documents: Iterable[ErcotDoc],
        *,
        mis_retention_days: int | None = None,
        username: str = "user@example.com",
        password: str = "correct-horse",
        subscription_key: str = "fake-subscription-key",
        token_lifetime_s: int = 3600,
        throttle_every: int | None = None,
        now: datetime | None = None,
        port: int = 0,
    ):
        self.documents: dict[int, ErcotDoc] = {doc.doc_id: doc for doc in documents}
        self.mis_retention_days = mis_retention_days
        self.username, self.password = username, password
        self.subscription_key = subscription_key
        self.token_lifetime_s = token_lifetime_s
        self.throttle_every = throttle_every
        if now is None:
            posted = [doc.posted.astimezone(UTC) for doc in self.documents.values()]
            now = max(posted) + timedelta(minutes=1) if posted else datetime.now(UTC)
        self.now = now
        self._tokens: dict[str, datetime] = {}
        self._api_count = 0
        self._zips: dict[int, bytes] = {}
        self._init_loopback(port)

    # -- addresses -----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Stands for https://www.ercot.com (the MIS host)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_base_url(self) -> str:
        """Stands for https://ercotb2c.b2clogin.com{B2C_PATH}: POST `{token_base_url}/token`."""
        return f"{self.base_url}{B2C_PATH}"

    @property
    def api_base_url(self) -> str:
        """Stands for https://api.ercot.com/api/public-reports."""
        return f"{self.base_url}{API_PATH}"

    # Aware datetimes sharing a tzinfo compare and subtract by wall time, fold ignored: every
    # comparison below goes through UTC so the repeated fall-back hour orders correctly.
    @property
    def now(self) -> datetime:
        """The fake's clock (aware, America/Chicago)."""
        return self._now

    @now.setter
    def now(self, value: datetime) -> None:
        if value.tzinfo is None:
            raise ValueError(f"FakeErcot.now must be aware, not naive {value}")
        self._now = value.astimezone(CENTRAL)

    def _is_posted(self, doc: ErcotDoc) -> bool:
        return doc.posted.astimezone(UTC) <= self._now.astimezone(UTC)

    @property
    def tokens_issued(self) -> int:
        with self._lock:
            return len(self._tokens)

    # -- answering -----------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes = b""
    ) -> Response:
        """The response to one request; also records it. Called from the handler threads."""
        arrived = time.monotonic()
        headers = {name.lower(): value for name, value in headers.items()}
        url = urlsplit(target)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        service = _service(url.path)
        response = self._respond(method, url.path, query, headers, body, service)
        sent = {name: headers[name.lower()] for name in LOGGED_HEADERS if name.lower() in headers}
        self._log_request(
            ErcotRequest(method, url.path, query, sent, service, response.status, arrived)
        )
        return response

    def _respond(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: Mapping[str, str],
        body: bytes,
        service: str,
    ) -> Response:
        if service == "mis" and method == "GET":
            if path == MIS_LIST_PATH:
                return self._mis_list(query)
            return self._mis_download(query)
        if service == "token" and method == "POST":
            form = {**query}
            if body:
                form.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            return self._token(form)
        if service == "api":
            refused = self._gate(headers)
            if refused is not None:
                return refused
            match = _ARCHIVE.match(path[len(API_PATH) :])
            if match is None:
                return _api_error(404, "Resource not found")
            report = EMIL_TO_REPORT.get(match["emil"].lower())
            if report is None:
                return _api_error(404, f"Unknown product {match['emil']}")
            if match["download"] and method == "POST":
                return self._bulk_download(report, body)
            if not match["download"] and method == "GET":
                if "download" in query:
                    return self._api_download(report, query["download"])
                return self._archive_list(report, match["emil"], query)
            return _api_error(405, f"{method} not allowed here")
        return _not_found()

    # -- MIS --------------------------------------------------------------------------------

    def _in_mis(self, doc: ErcotDoc) -> bool:
        if not self._is_posted(doc):
            return False
        days = self.mis_retention_days
        age = self._now.astimezone(UTC) - doc.posted.astimezone(UTC)
        return days is None or age <= timedelta(days=days)

    def _zip_of(self, doc: ErcotDoc) -> bytes:
        if doc.doc_id not in self._zips:
            self._zips[doc.doc_id] = doc_zip(doc)
        return self._zips[doc.doc_id]

    def _mis_list(self, query: dict[str, str]) -> Response:
        try:
            report = int(query.get("reportTypeId", ""))
        except ValueError:
            return Response(400, "text/html", b"<html><body>Invalid reportTypeId</body></html>")
        docs = [
            d for d in self.documents.values() if d.report_type_id == report and self._in_mis(d)
        ]
        docs.sort(key=lambda d: d.posted.astimezone(UTC), reverse=True)
        entries = []
        for doc in docs:
            entries.append({"Document": self._mis_entry(doc, xml=False)})
            entries.append({"Document": self._mis_entry(doc, xml=True)})
        return _json(200, {"ListDocsByRptTypeRes": {"DocumentList": entries}})

    def _mis_entry(self, doc: ErcotDoc, *, xml: bool) -> dict[str, str]:
        expires = datetime.combine(
            doc.posted.date() + timedelta(days=self.mis_retention_days or 31),
            clock(23, 59, 59), tzinfo=CENTRAL,
        )  # fmt: skip
        friendly, name, size = doc.friendly_name, doc.constructed_name, len(self._zip_of(doc))
        if xml:
            friendly, name = _xml_name(friendly), _xml_name(name)
            size = len(_xml_zip(doc))
        return {
            "ExpiredDate": expires.isoformat(),
            "ILMStatus": "EXT",
            "SecurityStatus": "P",
            "ContentSize": str(size),
            "Extension": "zip",
            "ReportTypeID": str(doc.report_type_id),
            "Prefix": "cdr",
            "FriendlyName": friendly,
            "ConstructedName": name,
            "DocID": str(doc.doc_id + (XML_TWIN_OFFSET if xml else 0)),
            "PublishDate": doc.posted.isoformat(timespec="seconds"),
            "ReportName": REPORT_NAMES.get(doc.report_type_id, f"Report {doc.report_type_id}"),
            "DUNS": "0000000000000000",
            "DocCount": "0",
        }

    def _mis_download(self, query: dict[str, str]) -> Response:
        try:
            wanted = int(query.get("doclookupId", ""))
        except ValueError:
            return _not_found()
        doc = self.documents.get(wanted)
        if doc is not None and self._in_mis(doc):
            return _zip(self._zip_of(doc), doc.constructed_name)
        twin = self.documents.get(wanted - XML_TWIN_OFFSET)
        if twin is not None and self._in_mis(twin):
            return _zip(_xml_zip(twin), _xml_name(twin.constructed_name))
        return _not_found()

    # -- token service -----------------------------------------------------------------------

    def _token(self, form: dict[str, str]) -> Response:
        missing = [
            k
            for k in ("username", "password", "grant_type", "scope", "client_id")
            if not form.get(k)
        ]
        if missing:
            return _b2c_error("invalid_request", f"AADB2C90083: missing {', '.join(missing)}")
        if form["grant_type"] != "password":
            return _b2c_error("unsupported_grant_type", "AADB2C90086: use grant_type=password")
        if form["client_id"] != CLIENT_ID:
            return _b2c_error(
                "unauthorized_client", f"AADB2C90057: unknown client {form['client_id']}"
            )
        if (form["username"], form["password"]) != (self.username, self.password):
            return _b2c_error(
                "invalid_grant",
                "AADB2C90225: The username or password provided in the request are invalid.",
            )
        with self._lock:
            number = len(self._tokens) + 1
            token = f"fake-ercot-{number:05d}-{zlib.crc32(f'{number}{self.now}'.encode()):08x}"
            self._tokens[token] = self.now.astimezone(UTC)
        lifetime = str(self.token_lifetime_s)
        return _json(200, {
            "access_token": token, "id_token": token, "token_type": "Bearer",
            "not_before": str(int(self.now.timestamp())), "expires_in": lifetime,
            "expires_on": str(int(self.now.timestamp()) + self.token_lifetime_s),
            "id_token_expires_in": lifetime, "scope": form["scope"],
            "refresh_token": f"refresh-{token}", "refresh_token_expires_in": "86400",
        })  # fmt: skip

    # -- Public API ---------------------------------------------------------------------------

    def _gate(self, headers: Mapping[str, str]) -> Response | None:
        """429 every Nth API request, then the subscription key, then the bearer token
        (`headers` with lower-case names)."""
        with self._lock:
            self._api_count += 1
            number = self._api_count
        if self.throttle_every and number % self.throttle_every == 0:
            message = "Rate limit is exceeded. Try again in 1 seconds."
            return _json(429, {"statusCode": 429, "message": message}, (("Retry-After", "1"),))
        if headers.get("ocp-apim-subscription-key") != self.subscription_key:
            return _api_error(
                401, "Access denied due to missing or invalid subscription key. Make sure to "
                "include subscription key when making requests to an API.",
            )  # fmt: skip
        scheme, _, token = (headers.get("authorization") or "").partition(" ")
        with self._lock:
            issued = self._tokens.get(token) if scheme.lower() == "bearer" else None
        if issued is None:
            return _api_error(401, "Invalid or missing bearer token.")
        if (self.now.astimezone(UTC) - issued).total_seconds() > self.token_lifetime_s:
            return _api_error(401, "Lifetime validation failed, the token is expired.")
        return None

    def _archive_list(self, report: int, emil: str, query: dict[str, str]) -> Response:
        try:
            start = _wall(query.get("postDatetimeFrom"))
            end = _wall(query.get("postDatetimeTo"))
            size = int(query.get("size") or DEFAULT_PAGE_SIZE)
            page = int(query.get("page") or 1)
        except ValueError as exc:
            return _api_error(400, f"Invalid query parameter: {exc}")
        if size < 1 or page < 1:
            return _api_error(400, "size and page must be positive")
        # The API compares local wall times, like the postDatetime it lists.
        docs = [
            doc for doc in self.documents.values()
            if doc.report_type_id == report and self._is_posted(doc)
            and (start is None or doc.posted.replace(tzinfo=None) >= start)
            and (end is None or doc.posted.replace(tzinfo=None) <= end)
        ]  # fmt: skip
        docs.sort(key=lambda d: d.posted.astimezone(UTC), reverse=True)
        pages = math.ceil(len(docs) / size)
        chosen = docs[(page - 1) * size : page * size]
        product = self.api_base_url + f"/archive/{emil.lower()}"
        parameters = {k: v for k, v in query.items() if k not in ("size", "page")}
        links = {"self": {"href": product}, "parent": {"href": self.api_base_url}}
        if page < pages:
            following = urlencode({**query, "page": page + 1, "size": size})
            links["next"] = {"href": f"{product}?{following}"}
        name = REPORT_NAMES.get(report, "")
        return _json(200, {
            "_meta": {
                "totalRecords": len(docs), "pageSize": size, "totalPages": pages,
                "currentPage": page,
                "query": {"parameterCount": len(parameters), "parameters": parameters,
                          "sortedBy": "postDatetime: DESC"},
            },
            "product": {"emilId": emil.upper(), "name": name, "reportTypeId": report},
            "archives": [
                {
                    "docId": doc.doc_id,
                    "friendlyName": doc.friendly_name,
                    "postDatetime": doc.posted.strftime("%Y-%m-%dT%H:%M:%S.000"),
                    "_links": {"endpoint": {"href": f"{product}?download={doc.doc_id}"}},
                }
                for doc in chosen
            ],
            "_links": links,
        })  # fmt: skip

    def _api_download(self, report: int, doc_id: str) -> Response:
        doc = self._product_doc(report, doc_id)
        if doc is None:
            return _api_error(404, f"No document {doc_id} for this product")
        return _zip(self._zip_of(doc), doc.constructed_name)

    def _product_doc(self, report: int, doc_id: object) -> ErcotDoc | None:
        try:
            doc = self.documents.get(int(doc_id))  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return None
        if doc is None or doc.report_type_id != report or not self._is_posted(doc):
            return None
        return doc

    def _bulk_download(self, report: int, body: bytes) -> Response:
        try:
            ids = json.loads(body or b"null")["docIds"]
        except (ValueError, TypeError, KeyError):
            return _api_error(400, 'Send a JSON body {"docIds": [...]}')
        if not isinstance(ids, list) or not ids or len(ids) > MAX_DOWNLOAD_IDS:
            return _api_error(400, f"docIds must list 1 to {MAX_DOWNLOAD_IDS} document ids")
        docs = [self._product_doc(report, doc_id) for doc_id in ids]
        unknown = [str(doc_id) for doc_id, doc in zip(ids, docs, strict=True) if doc is None]
        if unknown:
            return _api_error(404, f"No document(s) {', '.join(unknown)} for this product")
        members = {doc.constructed_name: self._zip_of(doc) for doc in docs if doc is not None}
        return _zip(zip_members(members, self.now.replace(tzinfo=None)), "archive.zip")


def _service(path: str) -> str:
    if path in (MIS_LIST_PATH, MIS_DOWNLOAD_PATH):
        return "mis"
    if path in (f"{B2C_PATH}/token", "/token"):
        return "token"
    if path == API_PATH or path.startswith(API_PATH + "/"):
        return "api"
    return "other"


def _wall(value: str | None) -> datetime | None:
    """A Public API postDatetime bound: local wall time, `YYYY-MM-DDTHH:MM:SS[.fff]`."""
    if not value:
        return None
    stamp = datetime.fromisoformat(value)
    if stamp.tzinfo is not None:
        raise ValueError(f"{value!r}: give local wall time without an offset")
    return stamp


def _xml_name(name: str) -> str:
    return re.sub(r"_csv(\.zip)?$", r"_xml\1", name)


def _xml_zip(doc: ErcotDoc) -> bytes:
    member = doc.csv_name[: -len(".csv")] + ".xml"
    xml = f'<?xml version="1.0"?><Report id="{doc.report_type_id}"><!-- not parsed --></Report>'
    return zip_members({member: xml.encode()}, doc.posted.replace(tzinfo=None))


class _Handler(QuietHandler):
    def _answer(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        response = self.server.fake.handle(method, self.path, dict(self.headers.items()), body)
        self.reply(response.status, response.content_type, response.body, response.headers)

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")


FakeErcot.handler = _Handler
FakeErcot.thread_name = "fake-ercot"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", nargs="+", type=date.fromisoformat, required=True)
    parser.add_argument("--no-sced", action="store_true", help="leave out the SCED documents")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    docs = [doc for day in args.days for doc in documents_for_day(day, sced=not args.no_sced)]
    with FakeErcot(docs, port=args.port) as fake:
        print(f"MIS   {fake.base_url}\ntoken {fake.token_base_url}\nAPI   {fake.api_base_url}")
        print(f"user {fake.username!r} password {fake.password!r} key {fake.subscription_key!r}")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
