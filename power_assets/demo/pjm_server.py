"""A fake PJM Data Miner 2 API on loopback: `GET /api/v1/{feed}` with PJM's paging and errors.

What belongs here: the HTTP side of the fake (the subscription key, query parameters and their
checks, paging links, the archive rules, the publication clock per feed, injected faults, and a
log of every request). The rows come from `pjm_query` over `pjm_fixtures`' generator.

Error wordings that PJM's documentation does not give are this fake's own: the one-calendar-year
rule for archived ranges (ARCHIVED_YEAR_MESSAGE), an unknown field, a bad value, and a range
over 366 days.

    python -m power_assets.demo.pjm_server   # prints the base URL, serves until Ctrl-C
"""

import argparse
import contextlib
import hmac
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from urllib.parse import parse_qsl, quote, urlsplit

from power_assets.demo.loopback import LoopbackServer, QuietHandler
from power_assets.demo.pjm_fixtures import (
    ARCHIVE_DAYS,
    COLUMNS,
    DEFAULT_NODE_COUNT,
    EASTERN,
    HOUR,
    TIME_COLUMN,
    Node,
    ept_day,
    ept_midnight,
    pnodes,
    slot_step,
)
from power_assets.demo.pjm_query import DateFilter, QueryError, date_filters, select
from power_assets.demo.publication import PublicationClock

API = "/api/v1/"
MAX_ROW_COUNT = 50_000
DEFAULT_ROW_COUNT = 25  # the fake's choice when a request gives no rowCount
DEFAULT_KEY = "demo-pjm-subscription-key"
DAY_AHEAD_PUBLISHED_AT = time(13, 30)  # DA results for D by 13:30 EPT on D-1
VERIFIED_PUBLISHED_AT = time(10, 0)  # verified feeds: a whole day at 10:00 EPT the next day
MISSING_KEY = (
    "Access denied due to missing subscription key. Make sure to include subscription key when "
    "making requests to an API."
)
INVALID_KEY = (
    "Access denied due to invalid subscription key. Make sure to provide a valid key for an "
    "active subscription."
)
ARCHIVED_ATTRIBUTES_MESSAGE = "The API request contains invalid attribute(s) for archived data"
ARCHIVED_SPAN_MESSAGE = "Date range in the API request spans over archived and standard data"
ARCHIVED_YEAR_MESSAGE = (  # the fake's wording: PJM's own text for this rule is not on record
    "Date range in the API request for archived data must stay within one calendar year (UTC)"
)
# Query parameters that are not filters (lower-case), and those an archived query may carry.
CONTROL = {"startrow", "rowcount", "fields", "sort", "order", "isactivemetadata"}
ARCHIVE_ALLOWED = {"type", "row_is_current", "version_nbr", "startrow", "rowcount", "fields",
                   "isactivemetadata"}  # fmt: skip
DAY_AHEAD_FEEDS = ("da_hrl_lmps", "da_reserve_market_results")
VERIFIED_FEEDS = (
    "rt_fivemin_hrl_lmps",
    "rt_hrl_lmps",
    "reserve_market_results",
    "hrl_load_metered",
)


@dataclass(frozen=True)
class PjmRequest:
    """One request the fake received: the feed (the path after /api/v1/), its query parameters
    (names lower-cased, `subscription-key` left out), whether an `Ocp-Apim-Subscription-Key`
    header was sent (never its value), the HTTP status (0: connection dropped) and arrival
    time (`time.monotonic()`)."""

    feed: str
    params: dict[str, str]
    key_present: bool
    status: int
    time: float


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class Fault:
    """`remaining` requests (of `feed`, or any feed for None) answered with `status` (429 with
    `Retry-After: 0`, or 500), or dropped without an answer when `status` is 0."""

    status: int
    remaining: int
    feed: str | None = None


def _json(status: int, payload: object, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    return Response(status, json.dumps(payload, separators=(",", ":")).encode(), headers)


def error_body(message: str, field: str = "") -> dict:
    """Data Miner's error payload (HTTP 400)."""
    return {"errors": [{"field": field, "message": message, "detail": ""}]}


class FakeDataMiner(LoopbackServer, PublicationClock):
    """PJM Data Miner 2 on 127.0.0.1; use as a context manager. `base_url` ends in `/api/v1`.

    Requests need header `Ocp-Apim-Subscription-Key` equal to `subscription_key` (401 otherwise).
    Rows come from `pjm_query.select` over `nodes` (default: `pnodes(node_count)`).

    `now` (aware, settable; None: everything generated is published) is the fake's clock:
    DA feeds publish market day D at `day_ahead_published_at` (EPT) on D-1;
    rt_unverified_fivemin_lmps an interval once it ended plus `publish_lag`; gen_by_fuel an
    hour once it ended plus `publish_lag`; inst_load a sample once `publish_lag` has passed after
    it; verified feeds (VERIFIED_FEEDS) a whole EPT day at `verified_published_at` the next day;
    load_frcstd_hist a forecast day once it has ended; load_frcstd_7_day always shows the vintage
    current at `now`. Unpublished rows are simply absent (totalRows 0 is not an error).

    `today` (the EPT date of `now`, else the real today) drives the archive rules
    (ARCHIVE_DAYS) and inst_load's 30-day window.

    Faults: `fail_next(count, status, feed=)` (429 with Retry-After: 0, or 500), `drop_next(count,
    feed=)` (connection closed without an answer), `total_rows_drift` (added to totalRows, and to
    the paging arithmetic, of every answer whose startRow is above 1: rows appearing mid-paging).
    """

    clock_timezone = EASTERN

    def __init__(
        self,
        *,
        subscription_key: str = DEFAULT_KEY,
        node_count: int = DEFAULT_NODE_COUNT,
        nodes: Sequence[Node] | None = None,
        now: datetime | None = None,
        publish_lag: timedelta = timedelta(0),
        day_ahead_published_at: time = DAY_AHEAD_PUBLISHED_AT,
        verified_published_at: time = VERIFIED_PUBLISHED_AT,
        port: int = 0,
    ):
        self.subscription_key = subscription_key
        self.nodes = list(nodes) if nodes is not None else pnodes(node_count)
        self.verified_published_at = verified_published_at
        self.faults: list[Fault] = []
        self.total_rows_drift = 0
        self._init_clock(now, publish_lag, day_ahead_published_at)
        self._init_loopback(port)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    @property
    def today(self) -> date:
        """The fake's New York date: of `now`, or the real one when the clock is off."""
        return (self.now or datetime.now(EASTERN)).astimezone(EASTERN).date()

    # -- faults -----------------------------------------------------------------------------------

    def fail_next(self, count: int = 1, status: int = 429, *, feed: str | None = None) -> None:
        """Answer the next `count` requests (of `feed` only, if given) with `status`."""
        with self._lock:
            self.faults.append(Fault(status, count, feed))

    def drop_next(self, count: int = 1, *, feed: str | None = None) -> None:
        """Close the connection of the next `count` requests (of `feed`) without answering."""
        self.fail_next(count, 0, feed=feed)

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()
        self.total_rows_drift = 0

    def _take_fault(self, feed: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.remaining > 0 and fault.feed in (None, feed):
                    fault.remaining -= 1
                    return fault
        return None

    # -- publication -----------------------------------------------------------------------------

    def publication_time(self, feed: str, slot: datetime) -> datetime | None:
        """When (UTC) the row(s) of `feed` at slot instant `slot` are published; None for
        load_frcstd_7_day (its vintage follows `now`)."""
        day = ept_day(slot)
        if feed in DAY_AHEAD_FEEDS:
            return self.day_ahead_publication(day)
        if feed in VERIFIED_FEEDS:
            after = datetime.combine(day + timedelta(days=1), self.verified_published_at, EASTERN)
            return after.astimezone(UTC)
        if feed == "load_frcstd_hist":
            return ept_midnight(day + timedelta(days=1))
        if feed == "inst_load":
            return slot + self.publish_lag
        if feed == "load_frcstd_7_day":
            return None
        return slot + slot_step(feed, slot) + self.publish_lag

    def _published(self, feed: str) -> Callable[[datetime], bool] | None:
        now = self.now
        if now is None or feed == "load_frcstd_7_day":
            return None
        now = now.astimezone(UTC)
        return lambda slot: self.publication_time(feed, slot) <= now

    # -- answering ------------------------------------------------------------------------------

    def handle(
        self, path: str, query: Sequence[tuple[str, str]], headers: Mapping[str, str], host: str
    ) -> Response | None:
        """The response to one GET (None: drop the connection); also records it. `headers` has
        lower-case names. Called from the handler threads."""
        arrived = monotonic()
        feed = path.removeprefix(API).strip("/") if path.startswith(API) else path
        params = {k.lower(): v for k, v in query if k.lower() != "subscription-key"}
        key = headers.get("ocp-apim-subscription-key")
        response = self._respond(feed, path, query, params, key, host)
        status = 0 if response is None else response.status
        self._log_request(PjmRequest(feed, params, key is not None, status, arrived))
        return response

    def _respond(self, feed, path, query, params, key, host) -> Response | None:
        if key is None:
            return _json(401, {"statusCode": 401, "message": MISSING_KEY})
        if not hmac.compare_digest(key.encode(), self.subscription_key.encode()):
            return _json(401, {"statusCode": 401, "message": INVALID_KEY})
        if not path.startswith(API) or feed not in COLUMNS:
            return _json(404, {"statusCode": 404, "message": "Resource not found"})
        fault = self._take_fault(feed)
        if fault is not None and fault.status == 0:
            return None
        if fault is not None and fault.status == 429:
            message = "Rate limit is exceeded. Try again in 0 seconds."
            return _json(429, {"statusCode": 429, "message": message}, (("Retry-After", "0"),))
        if fault is not None:
            return _json(fault.status, error_body("An error has occurred."))
        try:
            return self._answer(feed, query, params, host)
        except QueryError as exc:
            return _json(400, error_body(exc.message, exc.field))

    def _answer(self, feed: str, query, params: dict[str, str], host: str) -> Response:
        start, count = (
            _positive(params, "startrow", 1),
            _positive(params, "rowcount", DEFAULT_ROW_COUNT),
        )
        if count > MAX_ROW_COUNT:
            raise QueryError(f"rowCount must not exceed {MAX_ROW_COUNT}", "rowCount")
        fields = [f.strip() for f in params["fields"].split(",")] if params.get("fields") else None
        for name in [*(fields or []), params.get("sort") or TIME_COLUMN[feed] + "_utc"]:
            if name not in COLUMNS[feed]:
                raise QueryError(f"{name} is not a field of {feed}", name)
        order = (params.get("order") or "Asc").capitalize()
        if order not in ("Asc", "Desc"):
            raise QueryError(f"order must be Asc or Desc, not {params['order']}", "order")
        filters = {k: v for k, v in params.items() if k not in CONTROL}
        archived = self._archive_check(feed, params, date_filters(feed, filters))
        selection = select(
            feed, filters, nodes=self.nodes, now=self.now, today=self.today,
            published=self._published(feed),
        )  # fmt: skip
        if params.get("sort"):
            selection.sort(params["sort"], order == "Desc")
        rows = selection.rows(start - 1, count)
        total = len(selection) + (self.total_rows_drift if start > 1 else 0)
        if fields:
            rows = [{f: row[f] for f in fields} for row in rows]
        body = {
            "links": self._links(feed, query, host, start, count, total, archived),
            "items": rows,
            "searchSpecification": {
                "rowCount": count, "order": order, "startRow": start, "isActiveMetadata": True,
                "fields": fields or list(COLUMNS[feed]),
                "filters": [{k: v} for k, v in query if k.lower() in filters],
            } | ({"sort": params["sort"]} if params.get("sort") else {}),
            "totalRows": total,
        }  # fmt: skip
        return _json(200, body)

    def _archive_check(self, feed: str, params: Mapping[str, str], dates: list[DateFilter]) -> bool:
        """Whether the query reads archived rows; raises PJM's 400s for the rules it breaks."""
        days = ARCHIVE_DAYS.get(feed)
        if days is None or not dates:
            return False
        cutoff_day = self.today - timedelta(days=days)  # EPT midnight starting this day
        archived = standard = False
        for d in dates:
            cutoff = ept_midnight(cutoff_day)
            cutoff_naive = d.naive(cutoff)
            archived |= d.low < cutoff_naive
            standard |= d.high >= cutoff_naive
        if archived and standard:
            raise QueryError(ARCHIVED_SPAN_MESSAGE)
        if not archived:
            return False
        allowed = ARCHIVE_ALLOWED | {d.column for d in dates}
        if any(name not in allowed for name in params):
            raise QueryError(ARCHIVED_ATTRIBUTES_MESSAGE)
        for d in dates:
            low, high = d.utc_bounds()
            if d.local:  # the instants themselves, not the slack utc_bounds adds
                low, high = low + HOUR, high - HOUR
            if low.year != high.year:
                raise QueryError(ARCHIVED_YEAR_MESSAGE)
        return True

    def _links(self, feed, query, host, start, count, total, archived) -> list[dict]:
        """self (and next while rows remain) in PJM's PascalCase shape, on the host asked."""
        base = f"http://{host or f'127.0.0.1:{self.port}'}{API}{feed}"
        given = {k.lower(): v for k, v in query}

        def href(first: int) -> str:
            parts = [("RowCount", str(count))]
            if given.get("sort"):
                parts.append(("Sort", given["sort"]))
            if not archived:  # an archived query may not carry Order: its links leave it out
                parts.append(("Order", (given.get("order") or "Asc").capitalize()))
            parts += [("StartRow", str(first)), ("IsActiveMetadata", "True")]
            if given.get("fields"):
                parts.append(("Fields", given["fields"]))
            parts += [(k, v) for k, v in query if k.lower() not in CONTROL | {"subscription-key"}]
            return base + "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in parts)

        links = [{"rel": "self", "href": href(start)}]
        if start + count - 1 < total:
            links.append({"rel": "next", "href": href(start + count)})
        return [*links, {"rel": "metadata", "href": f"{base}/metadata"}]


def _positive(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    try:
        value = default if raw in (None, "") else int(raw)
    except ValueError:
        raise QueryError(f"{name} must be a whole number, not {raw!r}", name) from None
    if value < 1:
        raise QueryError(f"{name} must be at least 1", name)
    return value


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qsl(parts.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in self.headers.items()}
        response = self.server.fake.handle(parts.path, query, headers, self.headers.get("Host", ""))
        if response is None:  # a dropped connection: no status line at all
            self.close_connection = True
            return
        self.reply(
            response.status, "application/json; charset=utf-8", response.body, response.headers
        )


FakeDataMiner.handler = _Handler
FakeDataMiner.thread_name = "fake-pjm"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--subscription-key", default=DEFAULT_KEY)
    parser.add_argument("--nodes", type=int, default=DEFAULT_NODE_COUNT)
    args = parser.parse_args(argv)
    with FakeDataMiner(subscription_key=args.subscription_key, node_count=args.nodes,
                       port=args.port) as fake:  # fmt: skip
        print(f"POWER_ASSETS_PJM_BASE_URL={fake.base_url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
