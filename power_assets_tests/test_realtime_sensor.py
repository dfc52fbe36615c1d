"""The real-time sensors, per ISO, against loopback fakes that publish by a settable clock.

Each tick is evaluated with `build_sensor_context`, the pipeline clock pinned to the fake's clock.
"""

import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from power_assets.accounts import IsoAccounts
from power_assets.automation.realtime import RealtimeCursor, build_realtime_sensor
from power_assets.automation.selection import ISO_TAG
from power_assets.definitions import build_defs
from power_assets.demo.ercot_fixtures import documents_for_day, settlement_points
from power_assets.demo.ercot_server import FakeErcot
from power_assets.demo.isone_server import FakeIsone
from power_assets.demo.miso_server import FakeMiso
from power_assets.demo.nyiso_server import FakeNyiso
from power_assets.demo.oasis_server import FakeOasis
from power_assets.demo.pjm_server import FakeDataMiner
from power_assets.demo.spp_server import FakeSpp
from power_assets.io.http import IsoHttpClient
from power_assets.io.spacing import RequestSpacer
from power_assets.isos import get_iso
from power_assets.resources import ClockResource, StorageResource

DAY = date(2024, 11, 4)
NEXT = DAY + timedelta(days=1)
ISOS = ["CAISO", "ERCOT", "ISONE", "MISO", "NYISO", "PJM", "SPP"]
PJM_KEY = "realtime-test-pjm-key"
DEFS = build_defs()  # run requests are resolved against the real asset graph


@contextmanager
def fake_iso(iso_id: str) -> Iterator[tuple[object, dict[str, str]]]:
    """A started fake of the ISO (clock off until a tick sets it) and the base URLs for it."""
    if iso_id == "CAISO":
        with FakeOasis(generate=True) as fake:
            yield fake, {"CAISO": fake.base_url}
    elif iso_id == "ERCOT":
        points = settlement_points(2)
        docs = [doc for day in (DAY, NEXT) for doc in documents_for_day(day, points)]
        with FakeErcot(docs) as fake:
            yield fake, {"ERCOT": fake.base_url}
    elif iso_id == "ISONE":
        with FakeIsone() as fake:
            yield fake, {"ISONE": fake.base_url, "ISONE:webservices": fake.webservices_base_url}
    elif iso_id == "PJM":
        with FakeDataMiner(subscription_key=PJM_KEY) as fake:
            yield fake, {"PJM": fake.base_url}
    elif iso_id == "MISO":
        with FakeMiso() as fake:
            yield fake, {"MISO": fake.base_url, "MISO:public_api": fake.api_url}
    elif iso_id == "SPP":
        with FakeSpp([DAY, NEXT]) as fake:
            yield fake, {"SPP": fake.base_url}
    else:
        with FakeNyiso() as fake:
            yield fake, {"NYISO": fake.base_url}


def local(iso_id: str, day: date, hour: int, minute: int) -> datetime:
    zone = ZoneInfo(get_iso(iso_id).timezone)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


class Ticker:
    """Evaluates one ISO's sensor the way the daemon does, carrying the cursor between ticks."""

    def __init__(self, iso_id, fake, base_urls, tmp_path, instance, spacing: float = 0.0):
        self.iso = get_iso(iso_id)
        self.fake = fake
        self.sensor = DEFS.get_repository_def().get_sensor_def(build_realtime_sensor(self.iso).name)
        self.client = IsoHttpClient(
            base_urls=base_urls,
            min_spacing_s={iso_id: spacing},
            lock_dir=str(tmp_path / "locks"),
            accounts=IsoAccounts(pjm_subscription_key=PJM_KEY),
        )
        self.storage = StorageResource(data_dir=str(tmp_path / "data"))
        self.instance = instance
        self.cursor: str | None = None

    def tick(self, now: datetime):
        self.fake.now = now
        resources = {
            "iso_http": self.client,
            "clock": ClockResource(frozen_at=now.isoformat()),
            "storage": self.storage,
        }
        with dg.build_sensor_context(
            cursor=self.cursor, instance=self.instance, resources=resources, definitions=DEFS
        ) as context:
            result = self.sensor.evaluate_tick(context)
        if result.cursor is not None:
            self.cursor = result.cursor
        return result

    @property
    def seen(self) -> datetime | None:
        return RealtimeCursor.parse(self.cursor).last_interval_end


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


@pytest.mark.parametrize("iso_id", ISOS)
def test_a_new_interval_requests_one_run_and_a_quiet_tick_none(iso_id, tmp_path, instance):
    with fake_iso(iso_id) as (fake, urls):
        ticker = Ticker(iso_id, fake, urls, tmp_path, instance)
        first = ticker.tick(local(iso_id, DAY, 10, 7))
        assert len(first.run_requests) == 1
        request = first.run_requests[0]
        assert request.partition_key == f"{DAY}|{iso_id}"
        assert request.tags[ISO_TAG] == iso_id
        seen = ticker.seen
        assert seen is not None
        # ERCOT's newest SCED run (10:05:xx) prices the interval still under way, 10:05-10:10.
        assert local(iso_id, DAY, 9, 50) <= seen <= local(iso_id, DAY, 10, 10)

        # Thirty seconds later nothing new is published: no run, cursor untouched.
        quiet = ticker.tick(local(iso_id, DAY, 10, 7) + timedelta(seconds=30))
        assert quiet.run_requests == []
        assert "nothing new" in quiet.skip_message
        assert ticker.seen == seen


@pytest.mark.parametrize("iso_id", ISOS)
def test_each_new_five_minute_interval_requests_exactly_one_run(iso_id, tmp_path, instance):
    with fake_iso(iso_id) as (fake, urls):
        ticker = Ticker(iso_id, fake, urls, tmp_path, instance)
        ticker.tick(local(iso_id, DAY, 10, 7))
        keys, ends = set(), [ticker.seen]
        for step in range(1, 4):
            result = ticker.tick(local(iso_id, DAY, 10, 7) + timedelta(minutes=5 * step))
            assert len(result.run_requests) == 1, result.skip_message
            keys.add(result.run_requests[0].run_key)
            ends.append(ticker.seen)
        assert len(keys) == 3
        assert [b - a for a, b in itertools.pairwise(ends)] == [timedelta(minutes=5)] * 3


@pytest.mark.parametrize("iso_id", ISOS)
def test_midnight_closes_the_old_market_day_and_moves_to_the_new_one(iso_id, tmp_path, instance):
    with fake_iso(iso_id) as (fake, urls):
        ticker = Ticker(iso_id, fake, urls, tmp_path, instance)
        ticker.tick(local(iso_id, DAY, 23, 52))
        assert RealtimeCursor.parse(ticker.cursor).market_day == DAY
        result = ticker.tick(local(iso_id, NEXT, 0, 7))
        partitions = [r.partition_key for r in result.run_requests]
        assert partitions == [f"{DAY}|{iso_id}", f"{NEXT}|{iso_id}"]
        assert result.run_requests[0].run_key.endswith(":closing")
        assert RealtimeCursor.parse(ticker.cursor).market_day == NEXT
        # The closing run refreshes every real-time dataset of the old day.
        closing_keys = {key.to_user_string() for key in result.run_requests[0].asset_selection}
        iso = get_iso(iso_id)
        assert {f"warehouse/{d}" for d in iso.realtime.datasets} <= closing_keys


def test_the_same_tick_repeated_asks_for_the_same_run_key(tmp_path, instance):
    with fake_iso("CAISO") as (fake, urls):
        ticker = Ticker("CAISO", fake, urls, tmp_path, instance)
        ticker.tick(local("CAISO", DAY, 10, 2))
        before = ticker.cursor
        once = ticker.tick(local("CAISO", DAY, 10, 7))
        ticker.cursor = before  # the daemon died before saving the cursor: the tick runs again
        twice = ticker.tick(local("CAISO", DAY, 10, 7))
        assert [r.run_key for r in once.run_requests] == [r.run_key for r in twice.run_requests]


def test_cursor_round_trips_through_json():
    cursor = RealtimeCursor(datetime(2024, 11, 3, 9, 5, tzinfo=ZoneInfo("UTC")), date(2024, 11, 3))
    assert RealtimeCursor.parse(cursor.serialize()) == cursor
    assert RealtimeCursor.parse(None) == RealtimeCursor()


def test_an_unreachable_iso_skips_the_tick_quickly_and_keeps_the_cursor(tmp_path, instance):
    with fake_iso("CAISO") as (fake, urls):
        ticker = Ticker("CAISO", fake, urls, tmp_path, instance)
        ticker.tick(local("CAISO", DAY, 10, 7))
        seen = ticker.seen
    # The fake is stopped: nothing listens on its port any more.
    started = time.monotonic()
    result = ticker.tick(local("CAISO", DAY, 10, 12))
    # Refused at once and not retried; 20 s is slack for a loaded machine, far below what
    # retries with backoff and read timeouts would add up to.
    assert time.monotonic() - started < 20
    assert result.run_requests == [] and "probe failed" in result.skip_message
    assert ticker.seen == seen


def test_a_tick_does_not_queue_behind_running_downloads(tmp_path, instance):
    with fake_iso("CAISO") as (fake, urls):
        ticker = Ticker("CAISO", fake, urls, tmp_path, instance, spacing=30.0)
        # A download in another run has just taken CAISO's turn; the next is 30 s away.
        RequestSpacer("CAISO", 30.0, tmp_path / "locks").wait_turn()
        started = time.monotonic()
        result = ticker.tick(local("CAISO", DAY, 10, 7))
        assert time.monotonic() - started < 20  # not the 30 s it would wait for its turn
        assert result.run_requests == [] and "spaced" in result.skip_message
        assert not fake.requests


def test_early_in_the_day_only_datasets_that_can_have_data_are_run(tmp_path, instance):
    with fake_iso("CAISO") as (fake, urls):
        ticker = Ticker("CAISO", fake, urls, tmp_path, instance)
        early = ticker.tick(local("CAISO", DAY, 0, 7)).run_requests[-1]
        later = ticker.tick(local("CAISO", DAY, 10, 7)).run_requests[-1]
    early_keys = {k.to_user_string() for k in early.asset_selection}
    later_keys = {k.to_user_string() for k in later.asset_selection}
    # The first 15-minute interval ends at 00:15: at 00:07 there is nothing to fetch for it.
    assert "warehouse/lmp_rt5" in early_keys and "warehouse/lmp_rt15" not in early_keys
    assert {"warehouse/lmp_rt5", "warehouse/lmp_rt15"} <= later_keys
    # Without today's DA+AS combined file there is nothing to combine real time with yet.
    assert not any(k.startswith("combined/") for k in later_keys)


def test_an_iso_without_its_account_is_not_probed(tmp_path, instance):
    with fake_iso("PJM") as (fake, urls):
        ticker = Ticker("PJM", fake, urls, tmp_path, instance)
        ticker.client = ticker.client.model_copy(update={"accounts": IsoAccounts()})
        result = ticker.tick(local("PJM", DAY, 10, 7))
        assert result.run_requests == []
        assert "not probing" in result.skip_message
        assert "POWER_ASSETS_PJM_SUBSCRIPTION_KEY" in result.skip_message
        assert fake.requests == []  # no 401 every 30 s
