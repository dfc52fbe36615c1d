"""HTTP downloads from ISO endpoints: retries, backoff, request spacing, and the Dagster resource.

Everything that touches the network belongs here, and nothing else does: the ISO modules build
`DownloadRequest`s and check payloads, stages decide what to fetch, and this module only performs
GETs politely (one shared client per ISO, a minimum spacing between requests that holds across
threads and processes) and turns transport failures into `DownloadError`s that name the URL.
How long a request may take, and failing fast once an ISO has not answered, live in `deadline`.
"""

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import closing
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
from power_assets.io.deadline import (
    DEFAULT_REQUEST_DEADLINE_S,
    BodyDeadlinePassed,
    Deadline,
    FailFast,
    gave_up,
    read_within,
)
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
    answered: bool = True  # False: no answer at all (a timeout, a refused or dropped connection)


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
    A request (attempts, backoff, body) ends within `deadline_s`; when the ISO did not answer it
    raises `NoAnswerError`.
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
        deadline_s: float = DEFAULT_REQUEST_DEADLINE_S,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.iso_id = iso_id
        self.max_retries = max(0, max_retries)
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.spacer = spacer
        self.deadline_s = deadline_s
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._timeout = httpx.Timeout(timeout_s, connect=connect_timeout_s)
        self._client = httpx.Client(
            timeout=self._timeout,
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
        deadline = Deadline(self.deadline_s, self._clock)
        failure = _Failure("no attempt made", None, None)
        reauthorized = False
        made = 0
        for attempt in range(1, attempts + 1):
            # Queueing for the ISO's request spacing is our own politeness, not the server being
            # slow: with many workers behind one ISO it could use up the deadline before anything
            # is sent and then wrongly report the ISO as not answering. So it does not count.
            with deadline.paused():
                self.spacer.wait_turn()
            sent = dict(headers or {})
            if headers_factory is not None:
                sent.update(headers_factory())
            if deadline.expired():
                break
            made = attempt
            request = self._client.build_request(
                method, url, headers=sent or None, content=body, timeout=deadline.cap(self._timeout)
            )
            try:
                outcome = self._attempt(request, url, auth, payload_check, attempt, deadline)
            except _Unauthorized as exc:
                if on_unauthorized is None or reauthorized:
                    raise DownloadError(f"{self.iso_id}: {safe_url}: HTTP 401: {exc}") from None
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
            if delay >= deadline.remaining():
                break  # the next attempt could not start before the deadline: stop now
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
        # Fewer attempts than allowed, or the last one ran out the clock: the deadline ended it.
        within = self.deadline_s if made < attempts or deadline.expired() else None
        error = gave_up(
            self.iso_id, safe_url, made, failure.error, answered=failure.answered, deadline_s=within
        )
        raise error from failure.exc

    def _attempt(
        self,
        request: httpx.Request,
        url: str,
        auth: tuple[str, str] | None,
        payload_check: Callable[[bytes, str], None] | None,
        attempt: int,
        deadline: Deadline,
    ) -> "FetchResult | _Failure":
        """One request: the result, a retryable failure, or a raised non-retryable error.

        The body is streamed, so reading it stops at the deadline however slowly bytes arrive.
        """
        safe_url = redact_url(url)
        try:
            with closing(self._client.send(request, auth=auth, stream=True)) as response:
                status = response.status_code
                if status == 429 or status >= 500:
                    retry_after = None
                    if status in (429, 503):
                        retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    return _Failure(f"HTTP {status}", None, retry_after)
                if status == 401:
                    snippet = read_within(response, deadline, limit=200)
                    raise _Unauthorized(snippet.decode("utf-8", errors="replace"))
                if not 200 <= status < 300:
                    snippet = read_within(response, deadline, limit=200)
                    text = snippet.decode("utf-8", errors="replace")
                    raise DownloadError(f"{self.iso_id}: {safe_url}: HTTP {status}: {text!r}")
                content = read_within(response, deadline)
        except httpx.TransportError as exc:
            error = f"{type(exc).__name__}: {exc}".replace(url, safe_url)
            return _Failure(error, exc, None, answered=False)
        except BodyDeadlinePassed as exc:
            return _Failure(str(exc), exc, None, answered=False)
        except httpx.HTTPError as exc:  # e.g. too many redirects: retrying will not help
            raise DownloadError(f"{self.iso_id}: {safe_url}: {type(exc).__name__}: {exc}") from exc
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

    def post_form_once(self, url: str, form: Mapping[str, str]) -> tuple[int, bytes]:
        """One POST of `form` (no retries) within the deadline: (status, body).

        Raises `NoAnswerError` if the ISO did not answer. The form holds secrets, so no message
        quotes it, nor the transport error's text (only its type).
        """
        safe_url = redact_url(url)
        deadline = Deadline(self.deadline_s, self._clock)
        try:
            with self._client.stream(
                "POST", url, data=dict(form), timeout=deadline.cap(self._timeout)
            ) as response:
                return response.status_code, read_within(response, deadline)
        except (httpx.TransportError, BodyDeadlinePassed) as exc:
            within = self.deadline_s if deadline.expired() else None
            error = type(exc).__name__
            raise gave_up(
                self.iso_id, safe_url, 1, error, answered=False, deadline_s=within
            ) from None
        except httpx.HTTPError as exc:
            raise DownloadError(f"{self.iso_id}: {safe_url}: {type(exc).__name__}") from None

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
    request_deadline_s: float = DEFAULT_REQUEST_DEADLINE_S
    """Most seconds one request (`fetch`, `post_form`) may take: every attempt, the backoff between
    them and the reading of the body, but not queueing for the ISO's request spacing. Must exceed
    the transfer time of the largest download. An ISO that does not answer within it fails the
    rest of the run's requests to it at once."""
    # Per-ISO base URL, keyed by ISO id; beats the environment variable and the ISO's default.
    base_urls: dict[str, str] = {}
    # Per-ISO override of IsoDefinition.min_request_spacing_s, keyed by ISO id.
    min_spacing_s: dict[str, float] = {}
    # Directory of the spacing lock files; default `<data dir>/.locks`.
    lock_dir: str | None = None

    _fetchers: dict[str, HttpFetcher] = PrivateAttr(default_factory=dict)
    _fetchers_lock: Any = PrivateAttr(default_factory=threading.Lock)
    # ISOs that did not answer in this run (the resource is initialized per run).
    _fail_fast: FailFast = PrivateAttr(default_factory=FailFast)
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
                    deadline_s=self.request_deadline_s,
                )
                self._fetchers[iso.id] = fetcher
            return fetcher

    def fetch(self, iso: IsoDefinition, request: DownloadRequest) -> FetchResult:
        """`request` from `iso`, or a `DownloadError` at once if `iso` did not answer earlier."""
        url = request.url(self.base_url(iso, request.endpoint))
        session = _AuthSession(self)
        with self._fail_fast.guard(iso.id, redact_url(url)):
            return self.fetcher(iso).get(
                url,
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
            deadline_s=min(self.request_deadline_s, timeout_s),  # a trickle cannot hold a tick
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
        with self._fail_fast.guard(iso.id, redact_url(url)):
            status, content = self.fetcher(iso).post_form_once(url, form)
        if not 200 <= status < 300:
            raise DownloadError(
                f"{iso.id}: {redact_url(url)}: HTTP {status} from the token service "
                "(check the configured username and password)"
            )
        return content

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
        self._fail_fast.clear()  # what this run learned about unanswering ISOs ends with it

    def _copy_with(self, **injected: Any) -> "IsoHttpClient":
        clone = self.model_copy()
        # model_copy shares private values shallowly; the clone needs its own fetchers.
        clone._fetchers = {}
        clone._fetchers_lock = threading.Lock()
        clone._fail_fast = FailFast()
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
