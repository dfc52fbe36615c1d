"""HTTP downloads from ISO endpoints: retries, backoff, request spacing, and the Dagster resource.

Everything that touches the network belongs here, and nothing else does: the ISO modules build
`DownloadRequest`s and check payloads, stages decide what to fetch, and this module only performs
GETs politely (one shared client per ISO, a minimum spacing between requests that holds across
threads and processes) and turns transport failures into `DownloadError`s that name the URL.
"""

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import dagster as dg
import httpx
from pydantic import PrivateAttr

from power_assets import settings
from power_assets.errors import DownloadError, IsoRateLimitedError
from power_assets.io.spacing import RequestSpacer
from power_assets.isos.base import DownloadRequest, IsoDefinition

logger = logging.getLogger("power_assets.http")

USER_AGENT = "power_assets/0.1"
_SECRET_MARKERS = ("key", "token", "password", "secret")
# Jitter is a fraction of the backoff so that parallel workers retrying together drift apart
# without materially lengthening the wait.
_JITTER_FRACTION = 0.1


@dataclass(frozen=True)
class FetchResult:
    """A successful response: the body and how it was obtained."""

    url: str  # as requested (before redirects)
    status_code: int
    content: bytes
    fetched_at: datetime  # UTC, when the final successful response arrived
    attempts: int
    content_type: str | None


@dataclass(frozen=True)
class _Failure:
    """A failed attempt that may be retried."""

    error: str
    exc: BaseException | None
    retry_after: float | None


def redact_url(url: str) -> str:
    """`url` with the values of secret-looking query parameters and any password replaced by ***.

    Only the secret values change; the rest of the query is kept byte for byte so a log line can
    still be matched against the request.
    """
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, host = netloc.rpartition("@")
        netloc = f"{userinfo.partition(':')[0]}:***@{host}"
    pieces = []
    for piece in parts.query.split("&") if parts.query else []:
        name, sep, _value = piece.partition("=")
        if sep and any(marker in unquote_plus(name).lower() for marker in _SECRET_MARKERS):
            piece = f"{name}=***"
        pieces.append(piece)
    return urlunsplit((parts.scheme, netloc, parts.path, "&".join(pieces), parts.fragment))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if unusable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; an obsolete form may parse as naive
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class _Unauthorized(Exception):
    """HTTP 401: credentials missing, wrong, or a token that expired early."""


class HttpFetcher:
    """GETs with retries for one ISO, over one shared `httpx.Client`.

    Retried: transport errors, HTTP 429 and 5xx, and `IsoRateLimitedError` from the payload check.
    Other 4xx and non-2xx answers fail at once; other payload errors propagate unchanged.
    """

    def __init__(
        self,
        *,
        iso_id: str,
        timeout_s: float,
        connect_timeout_s: float,
        max_retries: int,
        backoff_base_s: float,
        backoff_max_s: float,
        spacer: RequestSpacer,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ):
        self.iso_id = iso_id
        self.max_retries = max(0, max_retries)
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.spacer = spacer
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
            follow_redirects=True,
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            transport=transport,
        )

    def backoff(self, retry: int, retry_after: float | None = None) -> float:
        """Delay before retry number `retry` (0-based), honouring a server's Retry-After."""
        delay = min(self.backoff_max_s, self.backoff_base_s * 2**retry)
        delay += self._rng.uniform(0, _JITTER_FRACTION * delay)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return min(delay, self.backoff_max_s)

    def get(
        self,
        url: str,
        *,
        payload_check: Callable[[bytes, str], None] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        method: str = "GET",
        body: bytes | None = None,
        headers_factory: Callable[[], Mapping[str, str]] | None = None,
        on_unauthorized: Callable[[], None] | None = None,
    ) -> FetchResult:
        """GET (or POST `body` to) `url`, retrying transient failures; `payload_check(content,
        url)` vets 2xx bodies.

        The payload check is given the redacted URL as its source, since it ends up in messages.
        `headers_factory` is called per attempt (a bearer token may be refreshed between retries);
        after a 401, `on_unauthorized` (drop a cached token) is called and the request retried once.
        """
        safe_url = redact_url(url)
        attempts = self.max_retries + 1
        failure = _Failure("no attempt made", None, None)
        reauthorized = False
        for attempt in range(1, attempts + 1):
            self.spacer.wait_turn()
            sent = dict(headers or {})
            if headers_factory is not None:
                sent.update(headers_factory())
            try:
                outcome = self._attempt(
                    url, safe_url, payload_check, attempt, sent or None, auth, method, body
                )
            except _Unauthorized as exc:
                if on_unauthorized is None or reauthorized:
                    raise DownloadError(f"{safe_url}: HTTP 401: {exc}") from None
                on_unauthorized()
                reauthorized = True
                failure = _Failure("HTTP 401 (credentials refreshed)", None, None)
                continue
            if isinstance(outcome, FetchResult):
                return outcome
            failure = outcome
            if attempt == attempts:
                break
            delay = self.backoff(attempt - 1, failure.retry_after)
            logger.warning(
                "%s %s: attempt %d of %d failed (%s); retrying in %.1f s",
                self.iso_id,
                safe_url,
                attempt,
                attempts,
                failure.error,
                delay,
            )
            self._sleep(delay)
        raise DownloadError(
            f"{safe_url}: giving up after {attempts} attempts; last error: {failure.error}"
        ) from failure.exc

    def _attempt(
        self,
        url: str,
        safe_url: str,
        payload_check: Callable[[bytes, str], None] | None,
        attempt: int,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        method: str = "GET",
        body: bytes | None = None,
    ) -> "FetchResult | _Failure":
        """One request: the result, a retryable failure, or a raised non-retryable error."""
        try:
            response = self._client.request(method, url, headers=headers, auth=auth, content=body)
        except httpx.TransportError as exc:
            return _Failure(f"{type(exc).__name__}: {exc}".replace(url, safe_url), exc, None)
        except httpx.HTTPError as exc:  # e.g. too many redirects: retrying will not help
            raise DownloadError(f"{safe_url}: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if status == 429 or status >= 500:
            retry_after = None
            if status in (429, 503):
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return _Failure(f"HTTP {status}", None, retry_after)
        if status == 401:
            raise _Unauthorized(response.content[:200].decode("utf-8", errors="replace"))
        if not 200 <= status < 300:
            snippet = response.content[:200].decode("utf-8", errors="replace")
            raise DownloadError(f"{safe_url}: HTTP {status}: {snippet!r}")
        content = response.content
        if payload_check is not None:
            try:
                payload_check(content, safe_url)
            except IsoRateLimitedError as exc:  # its message repeats the URL; keep the log short
                return _Failure(f"ISO error {exc.code}: {exc.description}", exc, None)
        return FetchResult(
            url=url,
            status_code=status,
            content=content,
            fetched_at=datetime.now(UTC),
            attempts=attempt,
            content_type=response.headers.get("Content-Type"),
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "HttpFetcher":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


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
    # Per-ISO base URL, keyed by ISO id; beats the environment variable and the ISO's default.
    base_urls: dict[str, str] = {}
    # Per-ISO override of IsoDefinition.min_request_spacing_s, keyed by ISO id.
    min_spacing_s: dict[str, float] = {}
    # Directory of the spacing lock files; default `<data dir>/.locks`.
    lock_dir: str | None = None

    _fetchers: dict[str, HttpFetcher] = PrivateAttr(default_factory=dict)
    _fetchers_lock: Any = PrivateAttr(default_factory=threading.Lock)
    _transport: httpx.BaseTransport | None = PrivateAttr(default=None)
    _sleep: Callable[[float], None] = PrivateAttr(default=time.sleep)

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
        return Path(self.lock_dir) if self.lock_dir else settings.data_dir() / ".locks"

    def fetcher(self, iso: IsoDefinition) -> HttpFetcher:
        """The fetcher for `iso`, created once per resource instance and shared by its threads."""
        with self._fetchers_lock:
            fetcher = self._fetchers.get(iso.id)
            if fetcher is None:
                spacer = RequestSpacer(
                    iso.id, self.spacing_for(iso), self.resolved_lock_dir(), sleep=self._sleep
                )
                fetcher = HttpFetcher(
                    iso_id=iso.id,
                    timeout_s=self.timeout_s,
                    connect_timeout_s=self.connect_timeout_s,
                    max_retries=self.max_retries,
                    backoff_base_s=self.backoff_base_s,
                    backoff_max_s=self.backoff_max_s,
                    spacer=spacer,
                    transport=self._transport,
                    sleep=self._sleep,
                )
                self._fetchers[iso.id] = fetcher
            return fetcher

    def fetch(self, iso: IsoDefinition, request: DownloadRequest) -> FetchResult:
        session = _AuthSession(self)
        return self.fetcher(iso).get(
            request.url(self.base_url(iso, request.endpoint)),
            payload_check=iso.check_payload,
            headers=dict(request.headers) or None,
            auth=iso.credentials(request) if request.needs_auth else None,
            method=request.method,
            body=request.json_body.encode() if request.json_body is not None else None,
            headers_factory=(
                (lambda: iso.auth_headers(request, session)) if request.needs_auth else None
            ),
            on_unauthorized=iso.forget_auth if request.needs_auth else None,
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
        spacer = RequestSpacer(iso.id, self.spacing_for(iso), self.resolved_lock_dir())
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
            transport=self._transport,
        )
        session = _AuthSession(self)
        with fetcher:
            return fetcher.get(
                request.url(self.base_url(iso, request.endpoint)),
                headers=dict(request.headers) or None,
                auth=iso.credentials(request) if request.needs_auth else None,
                headers_factory=(
                    (lambda: iso.auth_headers(request, session)) if request.needs_auth else None
                ),
            )

    def post_form(
        self, iso: IsoDefinition, endpoint: str, path: str, form: dict[str, str]
    ) -> bytes:
        """POST a form (a token request) to one of the ISO's endpoints; the response body.

        The form holds secrets: errors name the URL and the status, never the form.
        """
        url = f"{self.base_url(iso, endpoint).rstrip('/')}/{path.lstrip('/')}"
        client = self.fetcher(iso)._client
        try:
            response = client.post(url, data=form)
        except httpx.HTTPError as exc:
            raise DownloadError(f"{redact_url(url)}: {type(exc).__name__}") from None
        if not 200 <= response.status_code < 300:
            raise DownloadError(
                f"{redact_url(url)}: HTTP {response.status_code} from the token service "
                "(check the configured username and password)"
            )
        return response.content

    def with_transport(self, transport: httpx.BaseTransport) -> "IsoHttpClient":
        """A copy whose fetchers send through `transport` (tests use `httpx.MockTransport`)."""
        return self._copy_with(transport=transport)

    def with_sleep(self, sleep: Callable[[float], None]) -> "IsoHttpClient":
        """A copy that waits (backoff and spacing) by calling `sleep`, e.g. a recorder in tests."""
        return self._copy_with(sleep=sleep)

    def close(self) -> None:
        with self._fetchers_lock:
            for fetcher in self._fetchers.values():
                fetcher.close()
            self._fetchers.clear()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self.close()

    def _copy_with(self, **injected: Any) -> "IsoHttpClient":
        clone = self.model_copy()
        # model_copy shares private values shallowly; the clone needs its own fetchers.
        clone._fetchers = {}
        clone._fetchers_lock = threading.Lock()
        clone._transport = injected.get("transport", self._transport)
        clone._sleep = injected.get("sleep", self._sleep)
        return clone

    def _with_updated_values(self, values: Mapping[str, Any] | None) -> "IsoHttpClient":
        # Dagster rebuilds the resource from its config fields when a run starts, which would drop
        # the private injected transport and sleep; carry them over to the rebuilt instance.
        out = super()._with_updated_values(values)
        assert isinstance(out, IsoHttpClient)
        out._transport, out._sleep = self._transport, self._sleep
        return out
