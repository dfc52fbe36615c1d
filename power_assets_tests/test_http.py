"""Behaviour of the HTTP layer: retries, backoff, Retry-After, spacing, redaction, the resource.

No test touches the network: responses come from `httpx.MockTransport`, and waiting is recorded by
a fake sleep instead of spent, except in the one test that spaces real processes.
"""

import io
import itertools
import logging
import multiprocessing
import random
import threading
import time
import zipfile
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import dagster as dg
import httpx
import pytest

from power_assets.errors import (
    DownloadError,
    IsoErrorResponse,
    IsoNoDataError,
    IsoRateLimitedError,
)
from power_assets.io.http import HttpFetcher, IsoHttpClient, redact_url
from power_assets.io.spacing import RequestSpacer
from power_assets.isos.caiso import Caiso

URL = "https://iso.test/api/data?date=2024-01-01"


class SleepRecorder:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class FakeClock:
    """A clock whose sleep advances it, so waits are recorded and visible to later reads."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class CountingSpacer:
    def __init__(self) -> None:
        self.calls = 0

    def wait_turn(self) -> None:
        self.calls += 1


class Script:
    """A MockTransport handler answering from a list: Responses are returned, exceptions raised."""

    def __init__(self, *steps: httpx.Response | Exception) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        return step

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def make_fetcher(script: Script, **overrides) -> HttpFetcher:
    options = {
        "iso_id": "TEST",
        "timeout_s": 30.0,
        "connect_timeout_s": 5.0,
        "max_retries": 3,
        "backoff_base_s": 1.0,
        "backoff_max_s": 60.0,
        "spacer": CountingSpacer(),
        "transport": script.transport,
        "sleep": SleepRecorder(),
        "rng": random.Random(0),
    }
    return HttpFetcher(**{**options, **overrides})


def oasis_zip(member: str = "PRC_LMP.csv", body: bytes = b"INTERVALSTARTTIME_GMT\n") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(member, body)
    return buffer.getvalue()


# --- HttpFetcher: retries ---


def test_retries_a_503_then_returns_the_successful_response():
    script = Script(
        httpx.Response(503),
        httpx.Response(503),
        httpx.Response(200, content=b"data", headers={"Content-Type": "application/zip"}),
    )
    sleep, spacer = SleepRecorder(), CountingSpacer()
    before = datetime.now(UTC)
    result = make_fetcher(script, sleep=sleep, spacer=spacer).get(URL)
    assert (result.content, result.status_code, result.attempts) == (b"data", 200, 3)
    assert result.url == URL
    assert result.content_type == "application/zip"
    assert result.fetched_at.tzinfo is UTC and result.fetched_at >= before
    assert len(script.requests) == 3
    assert len(sleep.delays) == 2
    assert spacer.calls == 3  # the spacer is consulted before every attempt, retries included


def test_backoff_doubles_per_retry_with_small_jitter_and_is_capped():
    sleep = SleepRecorder()
    fetcher = make_fetcher(
        Script(httpx.Response(500)),
        sleep=sleep,
        max_retries=4,
        backoff_base_s=1.0,
        backoff_max_s=5.0,
    )
    with pytest.raises(DownloadError):
        fetcher.get(URL)
    assert len(sleep.delays) == 4
    for delay, base in zip(sleep.delays[:3], (1.0, 2.0, 4.0), strict=True):
        assert base <= delay <= base * 1.1
    assert sleep.delays[3] == 5.0


def test_honours_retry_after_seconds_on_429():
    sleep = SleepRecorder()
    script = Script(httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200))
    result = make_fetcher(script, sleep=sleep, backoff_base_s=0.5).get(URL)
    assert result.attempts == 2
    assert len(sleep.delays) == 1
    assert 7.0 <= sleep.delays[0] < 7.5


def test_honours_retry_after_http_date_on_503():
    sleep = SleepRecorder()
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=45), usegmt=True)
    script = Script(httpx.Response(503, headers={"Retry-After": when}), httpx.Response(200))
    make_fetcher(script, sleep=sleep, backoff_base_s=0.5).get(URL)
    assert len(sleep.delays) == 1
    assert 43.0 <= sleep.delays[0] <= 45.0


def test_retry_after_is_capped_at_backoff_max():
    sleep = SleepRecorder()
    script = Script(httpx.Response(429, headers={"Retry-After": "3600"}), httpx.Response(200))
    make_fetcher(script, sleep=sleep, backoff_max_s=60.0).get(URL)
    assert sleep.delays == [60.0]


def test_gives_up_after_max_retries_naming_url_and_attempt_count():
    script, sleep = Script(httpx.Response(503)), SleepRecorder()
    with pytest.raises(DownloadError) as caught:
        make_fetcher(script, sleep=sleep, max_retries=2).get(URL)
    message = str(caught.value)
    assert URL in message
    assert "3 attempts" in message
    assert "HTTP 503" in message
    assert len(script.requests) == 3
    assert len(sleep.delays) == 2  # no pointless wait after the final attempt


def test_404_fails_at_once_without_retry_quoting_the_start_of_the_body():
    script, sleep = Script(httpx.Response(404, content=b"N" * 500)), SleepRecorder()
    with pytest.raises(DownloadError) as caught:
        make_fetcher(script, sleep=sleep).get(URL)
    message = str(caught.value)
    assert URL in message and "404" in message
    assert "N" * 200 in message and "N" * 201 not in message
    assert len(script.requests) == 1
    assert sleep.delays == []


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("read timed out"),
        httpx.RemoteProtocolError("peer closed connection"),
    ],
    ids=["connect", "timeout", "protocol"],
)
def test_transport_errors_are_retried(error):
    script, sleep = Script(error, httpx.Response(200, content=b"ok")), SleepRecorder()
    result = make_fetcher(script, sleep=sleep).get(URL)
    assert (result.content, result.attempts) == (b"ok", 2)
    assert len(sleep.delays) == 1


def test_transport_error_on_every_attempt_is_named_in_the_download_error():
    script = Script(httpx.ConnectError("connection refused"))
    with pytest.raises(DownloadError, match=r"2 attempts.*ConnectError: connection refused"):
        make_fetcher(script, max_retries=1).get(URL)


def test_follows_redirects_and_sends_user_agent_and_configured_timeouts():
    script = Script(
        httpx.Response(302, headers={"Location": "https://mirror.test/data"}),
        httpx.Response(200, content=b"moved"),
    )
    result = make_fetcher(script, timeout_s=30.0, connect_timeout_s=5.0).get(URL)
    assert result.content == b"moved"
    assert [str(r.url) for r in script.requests] == [URL, "https://mirror.test/data"]
    first = script.requests[0]
    assert first.headers["User-Agent"] == "power_assets/0.1"
    assert first.extensions["timeout"] == {
        "connect": 5.0,
        "read": 30.0,
        "write": 30.0,
        "pool": 30.0,
    }


# --- HttpFetcher: payload checks ---


def test_rate_limited_payload_is_retried():
    script = Script(httpx.Response(200, content=b"throttled"), httpx.Response(200, content=b"data"))
    seen: list[tuple[bytes, str]] = []

    def check(content: bytes, source: str) -> None:
        seen.append((content, source))
        if content == b"throttled":
            raise IsoRateLimitedError(source, "429", "slow down")

    sleep = SleepRecorder()
    result = make_fetcher(script, sleep=sleep).get(URL, payload_check=check)
    assert (result.content, result.attempts) == (b"data", 2)
    assert seen == [(b"throttled", URL), (b"data", URL)]
    assert len(sleep.delays) == 1


@pytest.mark.parametrize("error_type", [IsoNoDataError, IsoErrorResponse])
def test_no_data_and_error_payloads_propagate_without_retry(error_type):
    script, sleep = Script(httpx.Response(200, content=b"<error/>")), SleepRecorder()

    def check(content: bytes, source: str) -> None:
        raise error_type(source, "1000", "no data")

    with pytest.raises(error_type) as caught:
        make_fetcher(script, sleep=sleep).get(URL, payload_check=check)
    assert type(caught.value) is error_type
    assert len(script.requests) == 1
    assert sleep.delays == []


# --- Redaction ---


def test_secrets_in_query_strings_and_headers_never_reach_the_log(caplog):
    url = "https://api.test/v1/lmp?api_key=abc123&Auth_Token=tok456&date=2024-01-01&PassWord=pw789"
    script = Script(httpx.Response(503))
    fetcher = make_fetcher(script, max_retries=1, headers={"Authorization": "Bearer hdr000"})
    with (
        caplog.at_level(logging.WARNING, logger="power_assets.http"),
        pytest.raises(DownloadError) as caught,
    ):
        fetcher.get(url)
    assert script.requests[0].url.params["api_key"] == "abc123"  # the request itself is intact
    records = [r for r in caplog.records if r.name == "power_assets.http"]
    assert len(records) == 1 and records[0].levelno == logging.WARNING
    for text in (caplog.text, str(caught.value)):
        assert "api_key=***" in text and "Auth_Token=***" in text and "PassWord=***" in text
        assert "date=2024-01-01" in text
        for secret in ("abc123", "tok456", "pw789", "hdr000"):
            assert secret not in text


def test_redact_url_masks_passwords_and_keeps_other_parameters_verbatim():
    assert redact_url("https://u:pw@h.test/p?t=1%3A2&secretThing=x") == (
        "https://u:***@h.test/p?t=1%3A2&secretThing=***"
    )
    assert redact_url(URL) == URL


# --- RequestSpacer ---


def test_consecutive_requests_wait_out_the_min_spacing(tmp_path):
    clock = FakeClock()
    spacer = RequestSpacer("CAISO", 5.0, tmp_path, clock=clock.time, sleep=clock.sleep)
    spacer.wait_turn()
    spacer.wait_turn()
    assert clock.sleeps == [pytest.approx(5.0)]
    clock.now += 2.0
    spacer.wait_turn()
    assert clock.sleeps[1:] == [pytest.approx(3.0)]


def test_spacing_holds_across_spacer_instances_sharing_the_lock_dir(tmp_path):
    clock = FakeClock()
    first = RequestSpacer("CAISO", 5.0, tmp_path, clock=clock.time, sleep=clock.sleep)
    second = RequestSpacer("CAISO", 5.0, tmp_path, clock=clock.time, sleep=clock.sleep)
    other_iso = RequestSpacer("PJM", 5.0, tmp_path, clock=clock.time, sleep=clock.sleep)
    first.wait_turn()
    clock.now += 1.0
    second.wait_turn()
    assert clock.sleeps == [pytest.approx(4.0)]
    other_iso.wait_turn()  # spacing is per ISO
    assert len(clock.sleeps) == 1


def test_zero_spacing_neither_waits_nor_touches_the_lock_dir(tmp_path):
    clock = FakeClock()
    spacer = RequestSpacer("CAISO", 0.0, tmp_path / "locks", clock=clock.time, sleep=clock.sleep)
    spacer.wait_turn()
    spacer.wait_turn()
    assert clock.sleeps == []
    assert not (tmp_path / "locks").exists()


def test_a_start_time_in_the_future_delays_by_at_most_one_spacing(tmp_path):
    clock = FakeClock()
    (tmp_path / "CAISO.spacing").write_text(repr(clock.now + 3_600))  # clock stepped backwards
    RequestSpacer("CAISO", 5.0, tmp_path, clock=clock.time, sleep=clock.sleep).wait_turn()
    assert clock.sleeps == [pytest.approx(5.0)]


def _request_twice(lock_dir: str, queue) -> None:
    spacer = RequestSpacer("CAISO", 0.3, Path(lock_dir))
    for _ in range(2):
        spacer.wait_turn()
        queue.put(time.time())


def test_spacing_holds_across_real_processes(tmp_path):
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    workers = [context.Process(target=_request_twice, args=(str(tmp_path), queue)) for _ in "ab"]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=5)
        assert worker.exitcode == 0
    starts = sorted(queue.get(timeout=1) for _ in range(4))
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    # Starts are stamped just after wait_turn returns, so allow a few ms of scheduling noise.
    assert min(gaps) >= 0.29, gaps


def test_spacing_holds_across_threads_of_one_process(tmp_path):
    starts: list[float] = []

    def request() -> None:
        RequestSpacer("CAISO", 0.15, tmp_path).wait_turn()
        starts.append(time.time())

    threads = [threading.Thread(target=request) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    gaps = [later - earlier for earlier, later in itertools.pairwise(sorted(starts))]
    assert len(gaps) == 2 and min(gaps) >= 0.14, gaps


# --- IsoHttpClient resource ---


def test_base_url_precedence_is_config_then_env_var_then_iso_default(monkeypatch):
    caiso = Caiso()
    monkeypatch.delenv("POWER_ASSETS_CAISO_BASE_URL", raising=False)
    assert IsoHttpClient().base_url(caiso) == Caiso.default_base_url
    monkeypatch.setenv("POWER_ASSETS_CAISO_BASE_URL", "http://env.test/oasisapi")
    assert IsoHttpClient().base_url(caiso) == "http://env.test/oasisapi"
    configured = IsoHttpClient(base_urls={"CAISO": "http://config.test/oasisapi"})
    assert configured.base_url(caiso) == "http://config.test/oasisapi"
    other = IsoHttpClient(base_urls={"PJM": "http://pjm.test"})
    assert other.base_url(caiso) == "http://env.test/oasisapi"


def test_spacing_for_prefers_the_configured_override():
    caiso = Caiso()
    assert IsoHttpClient().spacing_for(caiso) == Caiso.min_request_spacing_s == 5.0
    assert IsoHttpClient(min_spacing_s={"CAISO": 0.5}).spacing_for(caiso) == 0.5


def test_default_lock_dir_is_under_the_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("POWER_ASSETS_DATA_DIR", str(tmp_path))
    fetcher = IsoHttpClient().fetcher(Caiso())
    assert fetcher.spacer.path == tmp_path / ".locks" / "CAISO.spacing"
    assert IsoHttpClient(lock_dir="/x/y").resolved_lock_dir() == Path("/x/y")


def test_fetch_uses_the_resolved_base_url_and_retries_the_oasis_throttle_page(tmp_path):
    script = Script(
        httpx.Response(200, content=b"<html>OASIS Acceptable Use Policy violation</html>"),
        httpx.Response(200, content=oasis_zip()),
    )
    sleep = SleepRecorder()
    client = (
        IsoHttpClient(
            base_urls={"CAISO": "http://mirror.test/oasisapi"},
            lock_dir=str(tmp_path),
            min_spacing_s={"CAISO": 0.0},
        )
        .with_transport(script.transport)
        .with_sleep(sleep)
    )
    request = Caiso().requests_for_day("lmp_da", date(2024, 1, 1))[0]
    result = client.fetch(Caiso(), request)
    assert result.attempts == 2
    assert result.url == request.url("http://mirror.test/oasisapi")
    assert str(script.requests[0].url).startswith("http://mirror.test/oasisapi/SingleZip?")
    assert script.requests[0].url.params["queryname"] == "PRC_LMP"
    assert len(sleep.delays) == 1


def test_fetch_propagates_caiso_no_data_without_retry(tmp_path):
    error_xml = (
        b"<OASISReport><MessagePayload><RTO><ERROR><ERR_CODE>1000</ERR_CODE>"
        b"<ERR_DESC>No data returned for the specified selection</ERR_DESC>"
        b"</ERROR></RTO></MessagePayload></OASISReport>"
    )
    script = Script(httpx.Response(200, content=oasis_zip("INVALID_REQUEST.xml", error_xml)))
    client = IsoHttpClient(lock_dir=str(tmp_path), min_spacing_s={"CAISO": 0.0}).with_transport(
        script.transport
    )
    request = Caiso().requests_for_day("lmp_da", date(2024, 1, 1))[0]
    with pytest.raises(IsoNoDataError, match="No data returned"):
        client.fetch(Caiso(), request)
    assert len(script.requests) == 1


def test_fetcher_is_cached_per_iso_and_with_transport_returns_an_independent_copy(tmp_path):
    first, second = (
        Script(httpx.Response(200, content=b"a")),
        Script(httpx.Response(200, content=b"b")),
    )
    base = IsoHttpClient(lock_dir=str(tmp_path), min_spacing_s={"CAISO": 0.0})
    client_a = base.with_transport(first.transport)
    client_b = client_a.with_transport(second.transport)
    caiso = Caiso()
    assert client_a.fetcher(caiso) is client_a.fetcher(caiso)
    assert client_a.fetcher(caiso) is not client_b.fetcher(caiso)
    assert client_a.fetcher(caiso).get(URL).content == b"a"
    assert client_b.fetcher(caiso).get(URL).content == b"b"
    assert client_b.timeout_s == base.timeout_s


@pytest.mark.e2e
def test_injected_transport_and_sleep_survive_dagster_rebuilding_the_resource(tmp_path):
    script = Script(httpx.Response(503), httpx.Response(200, content=oasis_zip()))
    sleep = SleepRecorder()
    client = (
        IsoHttpClient(
            # An unresolvable host, so a lost transport fails fast instead of reaching OASIS.
            base_urls={"CAISO": "http://oasis.invalid/oasisapi"},
            lock_dir=str(tmp_path),
            min_spacing_s={"CAISO": 0.0},
            max_retries=2,
        )
        .with_transport(script.transport)
        .with_sleep(sleep)
    )

    @dg.asset
    def fetched(http: IsoHttpClient) -> int:
        request = Caiso().requests_for_day("lmp_da", date(2024, 1, 1))[0]
        return http.fetch(Caiso(), request).attempts

    result = dg.materialize([fetched], resources={"http": client})
    assert result.success
    assert result.output_for_node("fetched") == 2
    assert len(script.requests) == 2
    assert len(sleep.delays) == 1
