"""The Dagster resource for ISO HTTP: base URLs, request spacing per ISO, fail-fast, probes.

Everything that touches the network belongs under `power_assets.io`, and nothing else does: the ISO
modules build `DownloadRequest`s and check payloads, stages decide what to fetch, and this module
hands each ISO one shared `HttpFetcher` (retries, backoff, the request deadline: `io.fetcher`)
behind a minimum spacing between requests that holds across threads and processes
(`io.spacing`). Failing fast once an ISO has not answered lives in `io.deadline`.
"""

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
from pydantic import PrivateAttr

from power_assets import settings
from power_assets.accounts import IsoAccounts
from power_assets.errors import DownloadError
from power_assets.io.deadline import DEFAULT_REQUEST_DEADLINE_S, FailFast
from power_assets.io.fetcher import FetchResult, HttpFetcher, parse_retry_after, redact_url
from power_assets.io.pg_spacing import PostgresSpacer
from power_assets.io.spacing import RequestSpacer
from power_assets.isos.base import DownloadRequest, IsoDefinition, Secrets
from power_assets.layout import Layout

__all__ = [
    "FetchResult",
    "HttpDoubles",
    "HttpFetcher",
    "IsoHttpClient",
    "parse_retry_after",
    "redact_url",
]


@dataclass(frozen=True)
class HttpDoubles:
    """What tests put in place of the network and of waiting: an `httpx` transport (e.g.
    `httpx.MockTransport`) and a sleep (e.g. a recorder). The defaults are the real ones."""

    transport: httpx.BaseTransport | None = None
    sleep: Callable[[float], None] = time.sleep


class _AuthSession:
    """What an ISO may use to obtain credentials: token POSTs through the same client."""

    def __init__(self, client: "IsoHttpClient"):
        self._client = client

    def post_form(
        self, iso: IsoDefinition, endpoint: str, path: str, form: dict[str, str]
    ) -> bytes:
        return self._client.post_form(iso, endpoint, path, form)


class IsoHttpClient(dg.ConfigurableResource):
    """Shared HTTP client for all ISOs."""

    timeout_s: float = 120.0
    connect_timeout_s: float = 10.0
    max_retries: int = 5
    backoff_base_s: float = 2.0
    backoff_max_s: float = 120.0
    request_deadline_s: float = DEFAULT_REQUEST_DEADLINE_S
    """Most seconds one request (`fetch`, `post_form`) may take: every attempt, the backoff between
    them and the reading of the body, but not queueing for the ISO's request spacing. Must exceed
    the transfer time of the largest download. An ISO that does not answer within it fails the
    rest of the run's requests to it at once."""
    # Per-ISO base URL, keyed by ISO id; beats the environment variable and the ISO's default.
    base_urls: dict[str, str] = {}
    # Per-ISO override of IsoDefinition.min_request_spacing_s, keyed by ISO id.
    min_spacing_s: dict[str, float] = {}
    # Root of generated data, as `StorageResource.data_dir` (empty: $POWER_ASSETS_DATA_DIR or
    # ./data); the spacing locks live in its `.locks` unless `lock_dir` says otherwise.
    data_dir: str = ""
    # Directory of the spacing lock files; default `<data_dir>/.locks`.
    lock_dir: str | None = None
    # Test doubles. A resource dependency rather than a private attribute because Dagster builds
    # a new instance from the fields when a run starts (see `with_transport`); None in production.
    doubles: dg.ResourceDependency[HttpDoubles | None] = None
    # The ISO accounts requests that need one are sent with (`default_resources` fills it from
    # the environment through EnvVar); None: read the declared variables when a request asks.
    accounts: IsoAccounts | None = None
    spacing_database_url: str = ""
    """A PostgreSQL URL (`postgresql+psycopg2://...`; `default_resources` passes the Dagster
    instance's, `$POWER_ASSETS_DAGSTER_PG_URL`, as an EnvVar): each ISO's request spacing is then
    kept in that database (`io.pg_spacing`) and holds across hosts. Empty: lock files in
    `lock_dir`, which hold on one machine."""

    _fetchers: dict[str, HttpFetcher] = PrivateAttr(default_factory=dict)
    _secrets: dict[str, Secrets] = PrivateAttr(default_factory=dict)
    _fetchers_lock: Any = PrivateAttr(default_factory=threading.Lock)
    # ISOs that did not answer in this run (the resource is initialized per run).
    _fail_fast: FailFast = PrivateAttr(default_factory=FailFast)

    def base_url(self, iso: IsoDefinition, endpoint: str = "default") -> str:
        """Config `base_urls[iso.id]`, else `$POWER_ASSETS_<ID>_BASE_URL`, else the ISO default.

        Other endpoints of an ISO (a second host) use the key `<ID>:<endpoint>` and the variable
        `POWER_ASSETS_<ID>_<ENDPOINT>_BASE_URL`.
        """
        if endpoint == "default":
            key, env, default = iso.id, settings.base_url_env_var(iso.id), iso.default_base_url
        else:
            key = f"{iso.id}:{endpoint}"
            env = settings.base_url_env_var(f"{iso.id}_{endpoint.upper()}")
            default = iso.extra_base_urls[endpoint]
        if key in self.base_urls:
            return self.base_urls[key]
        return os.environ.get(env) or default

    def spacing_for(self, iso: IsoDefinition) -> float:
        return float(self.min_spacing_s.get(iso.id, iso.min_request_spacing_s))

    def resolved_lock_dir(self) -> Path:
        """`lock_dir` if set, else `.locks` under the data root (`data_dir`)."""
        if self.lock_dir:
            return Path(self.lock_dir)
        root = settings.local_root(self.data_dir) if self.data_dir else settings.data_dir()
        return Layout(root).locks()

    def fetcher(self, iso: IsoDefinition) -> HttpFetcher:
        """The fetcher for `iso`, created once per resource instance and shared by its threads."""
        doubles = self.doubles or HttpDoubles()
        with self._fetchers_lock:
            fetcher = self._fetchers.get(iso.id)
            if fetcher is None:
                spacer = self._spacer(iso, self.spacing_for(iso), sleep=doubles.sleep)
                fetcher = HttpFetcher(
                    iso_id=iso.id,
                    timeout_s=self.timeout_s,
                    connect_timeout_s=self.connect_timeout_s,
                    max_retries=self.max_retries,
                    backoff_base_s=self.backoff_base_s,
                    backoff_max_s=self.backoff_max_s,
                    spacer=spacer,
                    transport=doubles.transport,
                    sleep=doubles.sleep,
                    deadline_s=self.request_deadline_s,
                )
                self._fetchers[iso.id] = fetcher
            return fetcher

    def _spacer(
        self, iso: IsoDefinition, spacing_s: float, sleep: Callable[[float], None] = time.sleep
    ) -> "RequestSpacer | PostgresSpacer":
        """The ISO's request spacing: in the shared database when one is configured, else lock
        files on this machine."""
        url = self.spacing_database_url
        if isinstance(url, dg.EnvVar):  # a resource built by hand, outside a run
            url = url.get_value("") or ""
        if url:
            return PostgresSpacer(iso.id, spacing_s, url, sleep=sleep)
        return RequestSpacer(iso.id, spacing_s, self.resolved_lock_dir(), sleep=sleep)

    def secrets_for(self, iso: IsoDefinition) -> Secrets:
        """The ISO's account secrets, never logged (see `power_assets.accounts`); read once per
        resource instance (Dagster makes one per run), as every step of a run asks."""
        if iso.id not in self._secrets:
            accounts = self.accounts or IsoAccounts.from_environment([iso])
            self._secrets[iso.id] = accounts.secrets_for(iso)
        return self._secrets[iso.id]

    def fetch(self, iso: IsoDefinition, request: DownloadRequest) -> FetchResult:
        """`request` from `iso`, or a `DownloadError` at once if `iso` did not answer earlier."""
        url = request.url(self.base_url(iso, request.endpoint))
        session = _AuthSession(self)
        with self._fail_fast.guard(iso.id, redact_url(url)):
            return self.fetcher(iso).get(
                url,
                payload_check=iso.check_payload,
                headers=dict(request.headers) or None,
                auth=iso.credentials(request, self.secrets_for(iso))
                if request.needs_auth
                else None,
                method=request.method,
                body=request.json_body.encode() if request.json_body is not None else None,
                headers_factory=(
                    (lambda: iso.auth_headers(request, session, self.secrets_for(iso)))
                    if request.needs_auth
                    else None
                ),
                on_unauthorized=iso.forget_auth if request.needs_auth else None,
                explain_refusal=iso.explain_refusal,
            )

    def probe(
        self,
        iso: IsoDefinition,
        request: DownloadRequest,
        *,
        timeout_s: float = 5.0,
        spacing_budget_s: float = 2.0,
    ) -> FetchResult | None:
        """One quick request for a sensor tick: no retries, short timeouts, and None (nothing sent)
        when the ISO's request spacing is held by running downloads for longer than the budget.

        The ISO's spacing still applies, so a probe never pushes an ISO past its rate limit.
        Raises `DownloadError` on any failure; the payload is not checked (it may be a file tail).
        """
        spacer = self._spacer(iso, self.spacing_for(iso))
        if not spacer.try_turn(spacing_budget_s):
            return None
        fetcher = HttpFetcher(
            iso_id=iso.id,
            timeout_s=timeout_s,
            connect_timeout_s=min(timeout_s, self.connect_timeout_s),
            max_retries=0,
            backoff_base_s=0.0,
            backoff_max_s=0.0,
            spacer=RequestSpacer(iso.id, 0.0, self.resolved_lock_dir()),
            transport=(self.doubles or HttpDoubles()).transport,
            deadline_s=min(self.request_deadline_s, timeout_s),  # a trickle cannot hold a tick
        )
        session = _AuthSession(self)
        with fetcher:
            return fetcher.get(
                request.url(self.base_url(iso, request.endpoint)),
                headers=dict(request.headers) or None,
                auth=iso.credentials(request, self.secrets_for(iso))
                if request.needs_auth
                else None,
                headers_factory=(
                    (lambda: iso.auth_headers(request, session, self.secrets_for(iso)))
                    if request.needs_auth
                    else None
                ),
            )

    def post_form(
        self, iso: IsoDefinition, endpoint: str, path: str, form: dict[str, str]
    ) -> bytes:
        """POST a form (a token request) to one of the ISO's endpoints; the response body.

        It goes the way of every request: the ISO's spacing, retries, the deadline, fail-fast.
        The form holds secrets: errors name the URL and the status, never the form.
        """
        url = f"{self.base_url(iso, endpoint).rstrip('/')}/{path.lstrip('/')}"
        with self._fail_fast.guard(iso.id, redact_url(url)):
            result = self.fetcher(iso).get(url, method="POST", form=form, raise_refusals=False)
        if not 200 <= result.status_code < 300:
            raise DownloadError(
                f"{iso.id}: {redact_url(url)}: HTTP {result.status_code} from the token service "
                "(check the configured username and password)",
                status=result.status_code,
            )
        return result.content

    def with_transport(self, transport: httpx.BaseTransport) -> "IsoHttpClient":
        """A copy whose fetchers send through `transport` (tests use `httpx.MockTransport`)."""
        return self.with_doubles(replace(self.doubles or HttpDoubles(), transport=transport))

    def with_sleep(self, sleep: Callable[[float], None]) -> "IsoHttpClient":
        """A copy that waits (backoff and spacing) by calling `sleep`, e.g. a recorder in tests."""
        return self.with_doubles(replace(self.doubles or HttpDoubles(), sleep=sleep))

    def with_doubles(self, doubles: HttpDoubles) -> "IsoHttpClient":
        """A new resource with this one's settings and `doubles`, and fetchers of its own.

        Built from the fields, as Dagster does when a run starts: the doubles are a field (a
        resource dependency), so they reach the instance Dagster builds for the run.
        """
        fields = {name: getattr(self, name) for name in type(self).model_fields}
        return type(self)(**{**fields, "doubles": doubles})

    def close(self) -> None:
        with self._fetchers_lock:
            for fetcher in self._fetchers.values():
                fetcher.close()
            self._fetchers.clear()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self.close()
        self._fail_fast.clear()  # what this run learned about unanswering ISOs ends with it
