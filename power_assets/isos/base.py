"""The contract every ISO package fulfils: time zone, datasets, requests, payload checks, parsers.

Each ISO is one package with one `IsoDefinition` subclass; stages only ever talk to this
interface, so no stage code needs to know which ISO it is processing.
"""

import abc
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar, Protocol, runtime_checkable

import polars as pl

from power_assets.errors import UnknownDatasetError, UnsupportedDatasetError
from power_assets.market_time import market_day_bounds

# parse_with_notes: forecast rows with a null publish_time because their files do not say it.
PUBLISH_TIME_UNKNOWN = "rows_without_publish_time"


class IntervalLabel(StrEnum):
    """Whether the ISO stamps a row with the start or the end of its interval."""

    START = "start"
    END = "end"


class DatasetKind(StrEnum):
    """Which standardized model a dataset's rows follow."""

    LMP = "lmp"
    AS_PRICE = "as_price"
    AS_QUANTITY = "as_quantity"
    LOAD = "load"
    LOAD_FORECAST = "load_forecast"
    FUEL_MIX = "fuel_mix"


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset of one ISO: its market, interval semantics, and how requests are chunked."""

    id: str
    kind: DatasetKind
    market: str
    interval: timedelta
    label: IntervalLabel
    description: str
    # Length of one request window; the market day is split into windows of this size.
    request_window: timedelta = timedelta(days=1)

    @property
    def intervals_per_hour(self) -> int:
        return max(1, int(timedelta(hours=1) / self.interval))


@dataclass(frozen=True)
class DownloadRequest:
    """One HTTP request (GET, or POST with a JSON body) that fetches part (or all) of a dataset's market day.

    A request may fetch an archive that serves many market days (NYISO's monthly ZIPs): then
    `shared` is set, the response is kept once under raw_downloads/{dataset}/_shared/, `member`
    names the file inside it that holds this day, and `final_after` says from when the archive
    no longer changes (the end of its month), so later days reuse it instead of fetching again.
    """

    iso: str
    dataset: str
    path: str  # relative to the ISO's base URL for `endpoint`
    params: tuple[tuple[str, str], ...]
    file_name: str  # name under which the response is kept in raw_downloads
    window_start: datetime  # UTC: the data of this market day the request covers
    window_end: datetime
    endpoint: str = "default"  # which of the ISO's base URLs (e.g. "webservices")
    shared: bool = False
    member: str | None = None  # for shared archives: the member holding this day's data
    final_after: datetime | None = None  # content is final once fetched after this (UTC)
    needs_auth: bool = False  # send the ISO's credentials (see IsoDefinition.credentials)
    headers: tuple[tuple[str, str], ...] = ()  # e.g. Accept: application/json
    method: str = "GET"
    json_body: str | None = None  # a JSON document to POST (ERCOT's archive download)

    @property
    def final_from(self) -> datetime:
        return self.final_after or self.window_end

    def url(self, base_url: str) -> str:
        from urllib.parse import urlencode

        # OASIS wants literal ':' in its timestamps; keep them unescaped like its own examples.
        query = urlencode(self.params, safe=":,")
        url = f"{base_url.rstrip('/')}/{self.path.lstrip('/')}"
        return f"{url}?{query}" if query else url


@dataclass(frozen=True)
class ValueBound:
    """Plausible range of a dataset kind's values (prices, MW) for one ISO and span of years, with its reason."""

    kind: DatasetKind
    first_year: int
    last_year: int
    minimum: float
    maximum: float
    reason: str


@dataclass(frozen=True)
class CombinedSources:
    """Which of an ISO's datasets feed the combined DA + AS (+ RT) products.

    `ancillary` may be None (no AS prices offered); combined files then carry no as__ columns.
    """

    day_ahead: str
    ancillary: str | None
    real_time: str


@dataclass(frozen=True)
class RealtimeFeed:
    """What an ISO's real-time sensor watches, and what the runs it requests refresh.

    `probe_dataset` is the dataset whose newest published interval `latest_interval_request` asks
    for; `datasets` (which include it) are refreshed through every stage by each run.
    """

    probe_dataset: str
    datasets: tuple[str, ...]


@dataclass(frozen=True)
class DayAheadSchedule:
    """When (ISO-local) an ISO's day-ahead market normally publishes, and a later retry time.

    The schedule materializes tomorrow's partition of `datasets` at `publish`, and again at `retry`
    if tomorrow's day-ahead prices are not stored by then.
    """

    publish: time
    retry: time
    datasets: tuple[str, ...]


# An ISO's account secrets by name (`username`, ...), handed in by the `IsoAccounts` resource;
# ISO code never reads the environment itself.
Secrets = Mapping[str, str]
NO_SECRETS: Secrets = MappingProxyType({})


@dataclass(frozen=True)
class Secret:
    """One secret an ISO's account needs, and the environment variable that supplies it."""

    name: str  # e.g. "username", "subscription_key"
    env_var: str  # e.g. POWER_ASSETS_ERCOT_USERNAME

    def field(self, iso_id: str) -> str:
        """Its field on the `IsoAccounts` resource, e.g. `ercot_username`."""
        return f"{iso_id.lower()}_{self.name}"


class Lister(Protocol):
    def __call__(self, request: DownloadRequest) -> bytes: ...


class AuthSession(Protocol):
    def post_form(
        self, iso: "IsoDefinition", endpoint: str, path: str, form: dict[str, str]
    ) -> bytes:
        """POST a form to one of the ISO's endpoints (e.g. a token service); the response body."""
        ...


class IsoDefinition(abc.ABC):
    """An ISO: time zone, default endpoint, request spacing, datasets and their parsers."""

    id: ClassVar[str]
    name: ClassVar[str]
    timezone: ClassVar[str]
    default_base_url: ClassVar[str]
    # Other hosts of the same ISO, by endpoint name; overridable like the default one.
    extra_base_urls: ClassVar[dict[str, str]] = {}
    min_request_spacing_s: ClassVar[float]
    datasets: ClassVar[dict[str, DatasetSpec]]
    combined: ClassVar[CombinedSources]
    value_bounds: ClassVar[Sequence[ValueBound]]
    # Automation: what the real-time sensor watches (None: no sensor) and when day-ahead publishes.
    realtime: ClassVar[RealtimeFeed | None] = None
    day_ahead: ClassVar[DayAheadSchedule | None] = None
    # The account secrets the ISO uses (none: everything it offers is public).
    secrets: ClassVar[tuple[Secret, ...]] = ()

    def dataset(self, dataset_id: str) -> DatasetSpec:
        try:
            return self.datasets[dataset_id]
        except KeyError:
            raise UnknownDatasetError(
                f"{self.id} has no dataset {dataset_id!r}; it offers {', '.join(self.datasets)}"
            ) from None

    def dataset_on(self, dataset_id: str, day: date) -> DatasetSpec:
        """The dataset as published for market `day`: an ISO whose interval changed over the
        years (PJM's real-time reserve prices, hourly until 2022-08-31) says so here, so the
        day's grid, gaps and fills follow what was published then. Default: `dataset`."""
        return self.dataset(dataset_id)

    def no_latest_interval(self, dataset_id: str) -> UnsupportedDatasetError:
        """The error for a dataset whose files the real-time probe reading cannot handle."""
        return UnsupportedDatasetError(
            f"{self.id} cannot read the newest interval of {dataset_id} files"
        )

    def market_day_bounds(self, day: date) -> tuple[datetime, datetime]:
        return market_day_bounds(self.timezone, day)

    def request_windows(self, dataset_id: str, day: date) -> list[tuple[datetime, datetime]]:
        """Split the market day into request windows (a 23- or 25-hour day gives 23 or 25 hours)."""
        spec = self.dataset(dataset_id)
        start, end = self.market_day_bounds(day)
        if spec.request_window >= timedelta(days=1):
            # A market day is 23-25 hours: a "one day" request is the whole local day, not 24 h.
            return [(start, end)]
        windows, cursor = [], start
        while cursor < end:
            nxt = min(cursor + spec.request_window, end)
            windows.append((cursor, nxt))
            cursor = nxt
        return windows

    def credentials(self, request: DownloadRequest, secrets: Secrets) -> tuple[str, str] | None:
        """HTTP basic-auth credentials for requests that need them, from the account `secrets`.

        Never logged, never stored in metadata. Default: none needed.
        """
        return None

    def unavailable_reason(self, dataset_id: str, secrets: Secrets = NO_SECRETS) -> str | None:
        """Why a dataset cannot be fetched with these account `secrets` (e.g. none configured),
        or None. Stages skip such datasets with this message instead of failing or writing
        nothing."""
        return None

    def unoffered_reason(self, dataset_id: str, day: date, today: date) -> str | None:
        """Why the ISO offers no source at all for this dataset on market `day` (history it
        never published or no longer serves, e.g. MISO's fuel mix before yesterday), or None.
        `today` is the ISO's local date. Such a partition is skipped like an unavailable one:
        told once per run, never failed, never green. Default: every day is offered."""
        return None

    def skip_reason(
        self, dataset_id: str, day: date, today: date, secrets: Secrets = NO_SECRETS
    ) -> str | None:
        """Why the stages skip this dataset on `day`: no account for it, or no source."""
        return self.unavailable_reason(dataset_id, secrets) or self.unoffered_reason(
            dataset_id, day, today
        )

    @abc.abstractmethod
    def plan_day(
        self,
        dataset_id: str,
        day: date,
        lister: "Lister",
        today: date | None = None,
        secrets: Secrets = NO_SECRETS,
    ) -> list[DownloadRequest]:
        """The requests that together fetch one market day of a dataset.

        `lister` performs a listing request (rate-limited like any other) and returns its body,
        for ISOs that must first ask what exists (ERCOT lists a report's documents before it can
        name one); ISOs that can name every file subclass `NamedRequests` instead. `today`
        (ISO-local; default: now) lets an ISO choose between daily files for recent days and
        archives for complete past periods. `secrets` says which accounts are configured (ERCOT
        plans its Public API archive only with one).
        """

    def publication_allowance(self, dataset_id: str) -> timedelta:
        """How long after a market day ends the ISO may still publish the last of its data.

        Past that, the day has closed: a window the ISO still answers "no data" for is missing,
        and the day fails rather than load partially. Before it, the day is in progress.
        """
        return timedelta(hours=3)

    def plan_final_after(self, dataset_id: str, day: date) -> datetime | None:
        """From when no new document can appear for the day, so a listing made later stands.

        Only meaningful for ISOs whose `plan_day` lists documents; None (default): always plan.
        """
        return None

    def auth_headers(
        self, request: DownloadRequest, session: "AuthSession", secrets: Secrets
    ) -> dict[str, str]:
        """Headers that authenticate `request` (e.g. a bearer token), built from `secrets`.

        `session` can POST a token request through the same HTTP client. Default: none.
        """
        return {}

    def forget_auth(self) -> None:
        """Drop cached credentials (a token the server refused); the next request gets new ones."""
        return None

    def dropped_file_day(self, name: str) -> tuple[str, date] | None:
        """(dataset, market day) of a file in a user's bulk archive, from its name alone.

        None when the name is not one of this ISO's data files. Drives drop-folder ingestion.
        """
        return None

    def choose_dropped_files(self, dataset_id: str, day: date, names: list[str]) -> list[str]:
        """Which of the dropped files naming this dataset and day to ingest (default: all)."""
        return names

    def dropped_span_dataset(self, name: str) -> str | None:
        """The dataset of a dropped file whose name says which dataset but not which days (an
        export covering any range, like PJM Data Miner's `da_hrl_lmps.csv`); None otherwise.

        Such files are read (`span_file_days`) to learn their days, and each day gets its own
        rows cut out (`cut_span_day`). Default: the ISO has none.
        """
        return None

    def span_file_days(self, dataset_id: str, path: Path) -> list[date]:
        """The market days a dropped span file holds rows of (reads the file, in bounded memory)."""
        raise NotImplementedError(f"{self.id} has no span files")

    def cut_span_day(self, dataset_id: str, path: Path, day: date, target: Path) -> int:
        """Write the rows of market `day` from span file `path` to `target`, in the file's own
        format (its header and those rows as published); the number of rows written."""
        raise NotImplementedError(f"{self.id} has no span files")

    def explain_refusal(self, status: int, body: str) -> str | None:
        """What an HTTP refusal (4xx other than 429) of this ISO means, in words a user can act
        on (e.g. which setting to fix), or None to report the status and body as they are."""
        return None

    def parse_with_notes(
        self, dataset_id: str, paths: Sequence[Path]
    ) -> tuple[pl.DataFrame, dict[str, int]]:
        """`parse`, plus counts worth reporting (e.g. files lacking a column, rows superseded,
        `PUBLISH_TIME_UNKNOWN` forecast rows whose files do not say when they were issued)."""
        return self.parse(dataset_id, paths), {}

    @abc.abstractmethod
    def check_payload(self, content: bytes, source: str) -> None:
        """Raise IsoErrorResponse (or a subclass) when a response is an error document, not data."""

    @abc.abstractmethod
    def parse(self, dataset_id: str, paths: Iterable[Path]) -> pl.DataFrame:
        """Turn raw files (as served, or extracted) into the dataset's standardized long table."""

    def value_bound(self, kind: DatasetKind, year: int) -> ValueBound:
        for bound in self.value_bounds:
            if bound.kind == kind and bound.first_year <= year <= bound.last_year:
                return bound
        raise LookupError(f"{self.id}: no price bound for {kind} in {year}")


class NamedRequests(IsoDefinition):
    """An ISO whose files can be named without asking the ISO first (CAISO, NYISO, ISO-NE)."""

    @abc.abstractmethod
    def requests_for_day(
        self, dataset_id: str, day: date, today: date | None = None
    ) -> list[DownloadRequest]:
        """The requests that together fetch one market day of a dataset (see `plan_day`)."""

    def plan_day(
        self,
        dataset_id: str,
        day: date,
        lister: "Lister",
        today: date | None = None,
        secrets: Secrets = NO_SECRETS,
    ) -> list[DownloadRequest]:
        return self.requests_for_day(dataset_id, day, today)


@runtime_checkable
class RealtimeProbe(Protocol):
    """Declared by every ISO with a `realtime` feed (the registry checks): how the real-time
    sensor learns the newest published interval without downloading the data."""

    def latest_interval_request(self, now: datetime) -> DownloadRequest:
        """A cheap request whose answer tells the newest published interval of the probe dataset.

        `now` is UTC. The real-time sensor sends it every tick (short timeouts, no retries), so it
        is the smallest answer the ISO offers: one node's last hour (CAISO), the tail of today's
        file by byte range (NYISO, ISO-NE), or the report's document listing (ERCOT: the MIS has
        nothing smaller). Its `latest_interval_end` is read with the response URL as `source`, so
        ISOs whose rows carry no date (ISO-NE) take it from the file name.
        """
        ...

    def latest_interval_end(self, dataset_id: str, content: bytes, source: str) -> datetime | None:
        """UTC end of the newest interval in a response of `dataset_id` (a probe or a data file);
        None when it holds no interval yet. Raises `UnsupportedDatasetError` for a dataset whose
        files the ISO cannot read this way."""
        ...


@runtime_checkable
class PagedResponses(Protocol):
    """Declared by ISOs whose API answers one request in pages (PJM Data Miner 2).

    Stage 1 fetches every page of such a request and keeps them together as one ZIP file (one
    member per page, in order), written only once the last page has arrived: an interrupted
    page sequence never leaves part of a window on disk.
    """

    def pager(self, request: DownloadRequest) -> "Pager | None":
        """A fresh pager for `request` (None: the request is answered in one piece)."""
        ...


class Pager(Protocol):
    """Follows the pages of one request; one instance per attempt at the whole sequence."""

    def next_page(
        self, page: DownloadRequest, content: bytes, source: str
    ) -> DownloadRequest | None:
        """The request for the page after `page` (whose body is `content`), or None after the last.

        Raises `PagesChangedError` when the answer changed while paging (the total moved), so
        the caller starts the sequence again, or `MalformedFileError` for a page that cannot be
        part of a correct sequence.
        """
        ...

    def member_name(self, number: int) -> str:
        """The ZIP member name of page `number` (1-based), e.g. `page_00001.json`."""
        ...


@runtime_checkable
class RequestNarrowing(Protocol):
    """Declared by ISOs whose API can ask for part of a window (CAISO OASIS): a run for today
    then fetches only the intervals it does not hold yet instead of the whole open window."""

    def narrow_request(self, request: DownloadRequest, start: datetime) -> DownloadRequest | None:
        """`request` cut to begin at `start` (UTC, inside its window), or None for a request
        that cannot be cut (a daily file)."""
        ...

    def latest_interval_end(self, dataset_id: str, content: bytes, source: str) -> datetime | None:
        """As `RealtimeProbe.latest_interval_end`: where a kept piece's data stops."""
        ...
