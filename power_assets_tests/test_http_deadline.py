"""An ISO that does not answer costs one request deadline, then the rest of the run fails fast.

Every server here is a loopback one that misbehaves on purpose: it accepts connections and never
answers, trickles a body one byte at a time, answers 503 before it answers 200, or answers 404. The
server counts the connections that reach it, so "fails without touching the network" is checked
where it would show.
"""

import io
import re
import threading
import time
import zipfile
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pytest

from power_assets.demo.loopback import LoopbackServer, QuietHandler
from power_assets.errors import DownloadError
from power_assets.io.http import IsoHttpClient
from power_assets.isos.caiso import Caiso
from power_assets.isos.ercot import Ercot
from power_assets.isos.nyiso import Nyiso
from power_assets.keys import daily_job_name
from power_assets_tests.e2e_support import loopback_defs

DEADLINE_S, TIMEOUT_S = 1.5, 0.5
# The CAISO day-ahead LMP query of a market day: midnight to midnight Pacific, in UTC.
CAISO_QUERY = (
    "SingleZip?resultformat=6&queryname=PRC_LMP&version=12&market_run_id=DAM"
    "&startdatetime={}&enddatetime={}&grp_type=ALL_APNODES"
)
CAISO_WINDOWS = {
    date(2024, 3, 9): ("20240309T08:00-0000", "20240310T08:00-0000"),
    date(2024, 3, 10): ("20240310T08:00-0000", "20240311T07:00-0000"),  # DST begins: 23 hours
}
FAIL_FAST = "the remaining requests to CAISO in this run fail fast; run again once it answers"


def _oasis_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("PRC_LMP.csv", "INTERVALSTARTTIME_GMT\n")
    return buffer.getvalue()


class _Handler(QuietHandler):
    def handle(self) -> None:  # once per connection, before any request is read
        self.server.fake.connected()  # type: ignore[attr-defined]
        super().handle()

    def do_GET(self) -> None:
        fake: MisbehavingIso = self.server.fake  # type: ignore[attr-defined]
        fake._log_request(self.path)
        behaviour = self.path.split("/")[1]
        if behaviour == "hang" and fake.hanging:
            fake.released.wait()
        elif behaviour in ("trickle", "trickle-then-stall"):
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            sent = 0
            while not fake.released.wait(0.2):
                if behaviour == "trickle-then-stall" and sent == 5:
                    continue  # silence, with the connection open
                self.wfile.write(b"P")
                self.wfile.flush()
                sent += 1
        elif behaviour in ("busy", "flaky") and (behaviour == "busy" or fake.take_503()):
            self.reply(503, "text/plain", b"busy", headers=[("Retry-After", "1")])
        elif behaviour in ("flaky", "hang"):
            self.reply(200, "application/zip", _oasis_zip())
        else:
            self.reply(404, "text/plain", b"no such file")

    do_POST = do_GET  # the token service; a hung one never reads the form


class MisbehavingIso(LoopbackServer):
    """Misbehaves according to the first path segment: /hang (while `hanging`; then 200),
    /trickle, /trickle-then-stall, /busy (always 503), /flaky (503 `failures` times, then 200),
    anything else 404. 200s carry a small OASIS ZIP."""

    handler = _Handler
    thread_name = "misbehaving-iso"

    def __init__(self, failures: int = 2) -> None:
        self._init_loopback()
        self.released = threading.Event()
        self.hanging = True
        self.connections = 0
        self._failures_left = failures

    def connected(self) -> None:
        with self._lock:
            self.connections += 1

    def take_503(self) -> bool:
        with self._lock:
            self._failures_left -= 1
            return self._failures_left >= 0

    def stop(self) -> None:
        self.released.set()  # let the handlers that never answer end
        super().stop()

    def url(self, behaviour: str) -> str:
        return f"http://127.0.0.1:{self.port}/{behaviour}"


def _client(tmp_path, base_urls: dict[str, str], **settings) -> IsoHttpClient:
    options = {
        "base_urls": base_urls,
        "request_deadline_s": DEADLINE_S,
        "timeout_s": TIMEOUT_S,
        "connect_timeout_s": TIMEOUT_S,
        "backoff_base_s": 0.05,
        "backoff_max_s": 0.1,
        "min_spacing_s": {"CAISO": 0.0, "NYISO": 0.0},
        "lock_dir": str(tmp_path / "locks"),
    }
    return IsoHttpClient(**{**options, **settings})


def _caiso_day(day: date):
    return Caiso().requests_for_day("lmp_da", day)[0]


def _caiso_url(base: str, day: date) -> str:
    return f"{base}/{CAISO_QUERY.format(*CAISO_WINDOWS[day])}"


def _seconds_between(first: datetime, last: datetime) -> set[str]:
    """Every HH:MM:SS from `first` to `last`, as a fail-fast message stamps its cause."""
    stamps, moment = set(), first.replace(microsecond=0)
    while moment <= last:
        stamps.add(f"{moment:%H:%M:%S}Z")
        moment += timedelta(seconds=1)
    return stamps


def test_a_hung_iso_costs_one_deadline_then_fails_fast_without_a_connection(tmp_path):
    with MisbehavingIso() as iso:
        client = _client(tmp_path, {"CAISO": iso.url("hang"), "NYISO": iso.url("missing")})
        march_9 = _caiso_url(iso.url("hang"), date(2024, 3, 9))

        before = datetime.now(UTC)
        started = time.monotonic()
        with pytest.raises(DownloadError) as hung:
            client.fetch(Caiso(), _caiso_day(date(2024, 3, 9)))
        elapsed = time.monotonic() - started
        after = datetime.now(UTC)

        assert DEADLINE_S - 0.1 <= elapsed < DEADLINE_S + 2.0
        cause = str(hung.value)
        assert cause.startswith(f"CAISO did not answer {march_9} within 1.5 s (")
        assert re.search(r"\(\d attempts; last error: ReadTimeout", cause), cause
        connections = iso.connections
        assert connections >= 2  # it was retried within the deadline

        started = time.monotonic()
        with pytest.raises(DownloadError) as skipped:
            client.fetch(Caiso(), _caiso_day(date(2024, 3, 10)))
        # Skipped at once: no connection (checked below), and no second deadline waited out.
        assert time.monotonic() - started < DEADLINE_S
        message = str(skipped.value)
        stamp = re.search(r" at (\d\d:\d\d:\d\dZ); ", message)
        assert stamp is not None and stamp[1] in _seconds_between(before, after), message
        march_10 = _caiso_url(iso.url("hang"), date(2024, 3, 10))
        assert message == (
            f"not requested: {cause} at {stamp[1]}; {FAIL_FAST} (skipped: {march_10})"
        )
        time.sleep(0.1)  # a connection made anyway would have arrived by now
        assert iso.connections == connections

        nyiso_day = Nyiso().requests_for_day("lmp_da", date(2024, 3, 9))[0]
        with pytest.raises(DownloadError, match="HTTP 404") as other:
            client.fetch(Nyiso(), nyiso_day)
        assert "fail fast" not in str(other.value)
        assert iso.connections == connections + 1
        assert iso.requests[-1] == "/missing/csv/damlbmp/20240301damlbmp_zone_csv.zip"


def test_a_body_trickling_in_forever_fails_at_the_deadline(tmp_path):
    with MisbehavingIso() as iso:
        client = _client(tmp_path, {"CAISO": iso.url("trickle")})
        started = time.monotonic()
        with pytest.raises(DownloadError) as caught:
            client.fetch(Caiso(), _caiso_day(date(2024, 3, 9)))
        elapsed = time.monotonic() - started
        assert DEADLINE_S - 0.1 <= elapsed < DEADLINE_S + 2.0
        url = _caiso_url(iso.url("trickle"), date(2024, 3, 9))
        message = str(caught.value)
        assert message.startswith(f"CAISO did not answer {url} within 1.5 s (1 attempt; ")
        assert "the body was still arriving at the deadline" in message
        with pytest.raises(DownloadError, match="fail fast"):
            client.fetch(Caiso(), _caiso_day(date(2024, 3, 10)))
        assert iso.connections == 1


def test_a_body_that_trickles_then_stalls_ends_at_the_deadline_not_a_read_timeout_later(
    tmp_path,
):
    # Each read may wait 6 s, so reads alone would fail about 1.0 + 6 s in; the deadline is
    # 1.5 s. The bound leaves a loaded machine 3 s of slack and still tells the two apart.
    with MisbehavingIso() as iso:
        client = _client(tmp_path, {"CAISO": iso.url("trickle-then-stall")}, timeout_s=6.0)
        started = time.monotonic()
        with pytest.raises(DownloadError, match="did not answer"):
            client.fetch(Caiso(), _caiso_day(date(2024, 3, 9)))
        assert time.monotonic() - started < DEADLINE_S + 3.0


def test_503s_that_end_in_an_answer_succeed_and_do_not_trip_fail_fast(tmp_path):
    with MisbehavingIso(failures=2) as iso:
        client = _client(
            tmp_path, {"CAISO": iso.url("flaky")}, request_deadline_s=10.0, backoff_max_s=2.0
        )
        started = time.monotonic()
        result = client.fetch(Caiso(), _caiso_day(date(2024, 3, 9)))
        assert time.monotonic() - started >= 2.0  # Retry-After: 1, twice, beats 0.05 s backoff
        assert (result.status_code, result.attempts) == (200, 3)
        assert client.fetch(Caiso(), _caiso_day(date(2024, 3, 10))).attempts == 1
        assert len(iso.requests) == 4


def test_503s_cut_short_by_the_deadline_fail_without_tripping_fail_fast(tmp_path):
    with MisbehavingIso() as iso:
        client = _client(tmp_path, {"CAISO": iso.url("busy")}, backoff_max_s=2.0)
        url = _caiso_url(iso.url("busy"), date(2024, 3, 9))
        with pytest.raises(DownloadError) as caught:
            client.fetch(Caiso(), _caiso_day(date(2024, 3, 9)))
        # Retry-After: 1 fits once in 1.5 s; a second one would outlast the deadline.
        assert str(caught.value) == (
            f"CAISO: {url}: no usable answer within 1.5 s (2 attempts; last error: HTTP 503)"
        )
        with pytest.raises(DownloadError, match="HTTP 503"):
            client.fetch(Caiso(), _caiso_day(date(2024, 3, 10)))
        assert len(iso.requests) == 4


def test_a_404_does_not_trip_fail_fast(tmp_path):
    with MisbehavingIso() as iso:
        client = _client(tmp_path, {"CAISO": iso.url("missing")})
        for day in (date(2024, 3, 9), date(2024, 3, 10)):
            with pytest.raises(DownloadError) as caught:
                client.fetch(Caiso(), _caiso_day(day))
            url = _caiso_url(iso.url("missing"), day)
            assert str(caught.value) == f"CAISO: {url}: HTTP 404: 'no such file'"
        assert len(iso.requests) == 2


def test_a_token_service_that_does_not_answer_fails_its_iso_fast_and_keeps_the_form_secret(
    tmp_path,
):
    with MisbehavingIso() as iso:
        client = _client(tmp_path, {"ERCOT:token": iso.url("hang")}, request_deadline_s=0.5)
        form = {"username": "someone", "password": "s3cret-pw"}
        started = time.monotonic()
        with pytest.raises(DownloadError) as hung:
            client.post_form(Ercot(), "token", "token", form)
        assert time.monotonic() - started < 0.5 + 1.0
        token_url = f"http://127.0.0.1:{iso.port}/hang/token"
        assert str(hung.value) == (
            f"ERCOT did not answer {token_url} within 0.5 s (1 attempt; last error: ReadTimeout)"
        )
        with pytest.raises(DownloadError) as skipped:
            client.post_form(Ercot(), "token", "token", form)
        assert str(skipped.value).startswith(f"not requested: {hung.value} at ")
        for message in (str(hung.value), str(skipped.value)):
            assert "s3cret-pw" not in message
        assert iso.connections == 1


def _run_range(defs: dg.Definitions, instance: dg.DagsterInstance):
    return defs.resolve_job_def(daily_job_name("CAISO")).execute_in_process(
        instance=instance,
        asset_selection=[dg.AssetKey.from_user_string("raw_download/lmp_da")],
        raise_on_error=False,
        tags={
            "dagster/asset_partition_range_start": "2024-03-09|CAISO",
            "dagster/asset_partition_range_end": "2024-03-11|CAISO",
        },
    )


@pytest.mark.e2e
def test_a_backfill_against_a_hung_iso_pays_one_deadline_for_the_whole_range(tmp_path):
    deadline_s = 2.0
    with dg.instance_for_test() as instance, MisbehavingIso() as iso:
        base = iso.url("hang")
        defs = loopback_defs(
            tmp_path,
            {"CAISO": base},
            request_deadline_s=deadline_s,
            timeout_s=TIMEOUT_S,
            max_retries=5,
        )
        started = time.monotonic()
        failed = _run_range(defs, instance)
        elapsed = time.monotonic() - started
        connections = iso.connections

        iso.hanging = False  # the ISO answers again: the next run asks, and gets its data
        answered = _run_range(defs, instance)
        assert answered.success
        assert iso.connections == connections + 3

    assert not failed.success
    assert elapsed < deadline_s + 10
    failure = next(e for e in failed.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.event_specific_data.error.message
    assert (
        "3 asset partition(s) failed in 3 partition(s) "
        "(2024-03-09|CAISO, 2024-03-10|CAISO, 2024-03-11|CAISO)"
    ) in message
    reasons = {
        line.split(" ", 2)[1]: line.split(": ", 1)[1]
        for line in message.splitlines()
        if line.startswith("- ")
    }
    assert sorted(reasons) == ["2024-03-09|CAISO", "2024-03-10|CAISO", "2024-03-11|CAISO"]
    march_9 = _caiso_url(base, date(2024, 3, 9))
    cause = reasons["2024-03-09|CAISO"]
    attempts = re.fullmatch(
        re.escape(f"CAISO did not answer {march_9} within 2 s (")
        + r"(\d) attempts; last error: ReadTimeout: timed out\)",
        cause,
    )
    assert attempts is not None, cause
    assert connections == int(attempts[1])  # every attempt was on day one; later days sent none
    for key in ("2024-03-10|CAISO", "2024-03-11|CAISO"):
        assert reasons[key].startswith(f"not requested: {cause} at "), reasons[key]
        assert FAIL_FAST in reasons[key]
