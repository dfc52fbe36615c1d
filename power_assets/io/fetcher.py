"""One ISO's requests over one shared `httpx.Client`: retries (tenacity), backoff, request spacing,
the request deadline, and redaction of secrets from every message.

What is retried and how long a request may take are decided here; which URL to ask and what the
answer means are not (the ISO modules and stages decide that). The Dagster resource that owns one
fetcher per ISO is `power_assets.io.http.IsoHttpClient`.
"""

import logging
import random
import time
from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import httpx
import tenacity

from power_assets.errors import DownloadError, IsoRateLimitedError
from power_assets.io.deadline import (
    DEFAULT_REQUEST_DEADLINE_S,
    BodyDeadlinePassed,
    Deadline,
    gave_up,
    read_within,
)

logger = logging.getLogger("power_assets.http")

USER_AGENT = "power_assets/0.1"
_SECRET_MARKERS = ("key", "token", "password", "secret")
# Jitter is a fraction of the backoff so that parallel workers retrying together drift apart
# without materially lengthening the wait. (tenacity's wait_exponential_jitter adds an absolute
# amount instead, which would dwarf short backoffs and vanish in long ones.)
_JITTER_FRACTION = 0.1


class Spacer(Protocol):
    """Waits for the ISO's next request turn (`power_assets.io.spacing.RequestSpacer`)."""

    def wait_turn(self) -> None: ...


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
    at_once: bool = False  # retried without backoff (credentials were just refreshed)


class _Retry(Exception):
    """Raised out of an attempt so that tenacity retries it; carries the failure."""

    def __init__(self, failure: _Failure):
        super().__init__(failure.error)
        self.failure = failure


class _NotSent(Exception):
    """The deadline passed before the next attempt could be sent."""


class _Unauthorized(Exception):
    """HTTP 401: credentials missing, wrong, or a token that expired early."""


@dataclass
class _Progress:
    """What one request has done so far: for its backoff, its stop and its final error."""

    deadline: Deadline
    made: int = 0  # attempts actually sent
    reauthorized: bool = False
    last: _Failure = field(default_factory=lambda: _Failure("no attempt made", None, None))


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


def _failure_of(retry_state: tenacity.RetryCallState) -> _Failure:
    assert retry_state.outcome is not None  # tenacity asks for a wait only after an attempt
    error = retry_state.outcome.exception()
    assert isinstance(error, _Retry)  # only _Retry is retried
    return error.failure


class HttpFetcher:
    """Requests with retries for one ISO, over one shared `httpx.Client`.

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
        spacer: Spacer,
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
        self._exponential = tenacity.wait_exponential(multiplier=backoff_base_s, max=backoff_max_s)
        self._timeout = httpx.Timeout(timeout_s, connect=connect_timeout_s)
        self._client = httpx.Client(
            timeout=self._timeout,
            follow_redirects=True,
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            transport=transport,
        )

    def get(
        self,
        url: str,
        *,
        payload_check: Callable[[bytes, str], None] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        method: str = "GET",
        body: bytes | None = None,
        form: Mapping[str, str] | None = None,
        headers_factory: Callable[[], Mapping[str, str]] | None = None,
        on_unauthorized: Callable[[], None] | None = None,
        raise_refusals: bool = True,
        explain_refusal: Callable[[int, str], str | None] | None = None,
    ) -> FetchResult:
        """GET (or `method` with `body` or a `form`) `url`, retrying transient failures;
        `payload_check(content, url)` vets 2xx bodies.

        The payload check is given the redacted URL as its source, since it ends up in messages.
        `headers_factory` is called per attempt (a bearer token may be refreshed between retries);
        after a 401, `on_unauthorized` (drop a cached token) is called and the request retried once.
        A `form` holds secrets: messages then name transport errors by type only. With
        `explain_refusal(status, body)` may word a refusal (4xx) in terms the user can act on. With
        `raise_refusals` false, an answer that is neither 2xx nor retried is returned, not raised,
        so that the caller can word the refusal itself.
        """
        safe_url = redact_url(url)
        attempts = self.max_retries + 1
        progress = _Progress(Deadline(self.deadline_s, self._clock))

        def attempt() -> FetchResult:
            # Credentials first: a token POST takes a request turn of its own, so the turn taken
            # next is the one this request is sent on.
            sent = dict(headers or {})
            if headers_factory is not None:
                sent.update(headers_factory())
            # Queueing for the ISO's request spacing is our own politeness, not the server being
            # slow: with many workers behind one ISO it could use up the deadline before anything
            # is sent and then wrongly report the ISO as not answering. So it does not count.
            with progress.deadline.paused():
                self.spacer.wait_turn()
            if progress.deadline.expired():
                raise _NotSent
            progress.made += 1
            request = self._client.build_request(
                method,
                url,
                headers=sent or None,
                content=body,
                data=dict(form) if form is not None else None,
                timeout=progress.deadline.cap(self._timeout),
            )
            secret = form is not None
            try:
                outcome = self._attempt(
                    request, url, auth, payload_check, progress, secret, raise_refusals,
                    explain_refusal,
                )  # fmt: skip
            except _Unauthorized as exc:
                # No second try when it could not be sent (no attempt left): say 401 now.
                if on_unauthorized is None or progress.reauthorized or progress.made >= attempts:
                    said = explain_refusal(401, str(exc)) if explain_refusal else None
                    raise DownloadError(
                        f"{self.iso_id}: {safe_url}: HTTP 401: {said or exc}", status=401
                    ) from None
                on_unauthorized()
                progress.reauthorized = True
                outcome = _Failure("HTTP 401 (credentials refreshed)", None, None, at_once=True)
            if isinstance(outcome, _Failure):
                progress.last = outcome
                raise _Retry(outcome)
            return outcome

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Retry),
            stop=tenacity.stop_any(
                tenacity.stop_after_attempt(attempts),
                # The next attempt could not start before the deadline: stop now.
                lambda state: state.upcoming_sleep >= progress.deadline.remaining(),
            ),
            wait=self._backoff,
            sleep=lambda seconds: self._sleep(float(seconds)),
            before_sleep=lambda state: self._log_retry(state, safe_url, attempts),
            retry_error_callback=lambda state: None,  # gave up: the error is raised below
        )
        try:
            result = retrying(attempt)
        except _NotSent:
            result = None
        if result is not None:
            return result
        # Fewer attempts than allowed, or the last one ran out the clock: the deadline ended it.
        expired = progress.made < attempts or progress.deadline.expired()
        last = progress.last
        error = gave_up(
            self.iso_id,
            safe_url,
            progress.made,
            last.error,
            answered=last.answered,
            deadline_s=self.deadline_s if expired else None,
        )
        raise error from (None if form is not None else last.exc)

    def _backoff(self, retry_state: tenacity.RetryCallState) -> float:
        """Delay before the next attempt: exponential from `backoff_base_s` plus jitter, never
        shorter than the server's Retry-After, at most `backoff_max_s`."""
        failure = _failure_of(retry_state)
        if failure.at_once:
            return 0.0
        delay = self._exponential(retry_state)
        delay += self._rng.uniform(0, _JITTER_FRACTION * delay)
        if failure.retry_after is not None:
            delay = max(delay, failure.retry_after)
        return min(delay, self.backoff_max_s)

    def _log_retry(
        self, retry_state: tenacity.RetryCallState, safe_url: str, attempts: int
    ) -> None:
        failure = _failure_of(retry_state)
        if failure.at_once:
            return  # refreshed credentials: nothing failed that an operator needs to hear about
        logger.warning(
            "%s %s: attempt %d of %d failed (%s); retrying in %.1f s",
            self.iso_id,
            safe_url,
            retry_state.attempt_number,
            attempts,
            failure.error,
            retry_state.upcoming_sleep,
        )

    def _attempt(
        self,
        request: httpx.Request,
        url: str,
        auth: tuple[str, str] | None,
        payload_check: Callable[[bytes, str], None] | None,
        progress: _Progress,
        secret: bool,
        raise_refusals: bool,
        explain_refusal: Callable[[int, str], str | None] | None = None,
    ) -> "FetchResult | _Failure":
        """One request: the result, a retryable failure, or a raised non-retryable error.

        The body is streamed, so reading it stops at the deadline however slowly bytes arrive.
        """
        safe_url = redact_url(url)
        deadline = progress.deadline
        try:
            with closing(self._client.send(request, auth=auth, stream=True)) as response:
                status = response.status_code
                if status == 429 or status >= 500:
                    retry_after = None
                    if status in (429, 503):
                        retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    return _Failure(f"HTTP {status}", None, retry_after)
                if status == 401 and raise_refusals:
                    snippet = read_within(response, deadline, limit=200)
                    raise _Unauthorized(snippet.decode("utf-8", errors="replace"))
                if not 200 <= status < 300 and raise_refusals:
                    limit = 2000 if explain_refusal else 200
                    snippet = read_within(response, deadline, limit=limit)
                    text = snippet.decode("utf-8", errors="replace")
                    said = explain_refusal(status, text) if explain_refusal else None
                    raise DownloadError(
                        f"{self.iso_id}: {safe_url}: HTTP {status}: {said or repr(text)}",
                        status=status,
                    )
                content = read_within(response, deadline)
        except httpx.TransportError as exc:
            error = type(exc).__name__ if secret else f"{type(exc).__name__}: {exc}"
            return _Failure(error.replace(url, safe_url), exc, None, answered=False)
        except BodyDeadlinePassed as exc:
            return _Failure(str(exc), exc, None, answered=False)
        except httpx.HTTPError as exc:  # e.g. too many redirects: retrying will not help
            if secret:
                raise DownloadError(f"{self.iso_id}: {safe_url}: {type(exc).__name__}") from None
            raise DownloadError(f"{self.iso_id}: {safe_url}: {type(exc).__name__}: {exc}") from exc
        if payload_check is not None and 200 <= status < 300:
            try:
                payload_check(content, safe_url)
            except IsoRateLimitedError as exc:  # its message repeats the URL; keep the log short
                return _Failure(f"ISO error {exc.code}: {exc.description}", exc, None)
        return FetchResult(
            url=url,
            status_code=status,
            content=content,
            fetched_at=datetime.now(UTC),
            attempts=progress.made,
            content_type=response.headers.get("Content-Type"),
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "HttpFetcher":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
