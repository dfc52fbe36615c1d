"""Day-ahead schedules (first tick and retry) and the real-time freshness checks."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from power_assets.automation import freshness
from power_assets.automation.day_ahead import build_day_ahead_schedule
from power_assets.automation.freshness import (
    DEFAULT_MAX_LAG,
    evaluate_freshness,
    max_lag,
    running_realtime_isos,
)
from power_assets.automation.selection import ISO_TAG, day_ahead_job_name
from power_assets.definitions import build_defs
from power_assets.demo.oasis_server import FakeOasis
from power_assets.isos import get_iso, registered_isos
from power_assets.resources import ClockResource
from power_assets_tests.e2e_support import loopback_defs

CAISO = get_iso("CAISO")
PACIFIC = ZoneInfo("America/Los_Angeles")
UTC = ZoneInfo("UTC")


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


DEFS = build_defs()


def _tick(iso, instance, local_time: datetime):
    schedule = DEFS.get_repository_def().get_schedule_def(build_day_ahead_schedule(iso).name)
    with dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=local_time,
        resources={"clock": ClockResource(frozen_at=local_time.isoformat())},
        repository_def=DEFS.get_repository_def(),
    ) as context:
        return schedule.evaluate_tick(context)


def _store(instance, key: str, partition: str, metadata=None) -> None:
    instance.report_runless_asset_event(
        dg.AssetMaterialization(key, partition=partition, metadata=metadata or {})
    )


@pytest.mark.parametrize("iso", registered_isos(), ids=lambda iso: iso.id)
def test_first_tick_materializes_tomorrow_after_the_market_publishes(iso, instance):
    plan = iso.day_ahead
    zone = ZoneInfo(iso.timezone)
    tick = datetime(2024, 11, 2, plan.publish.hour, plan.publish.minute, tzinfo=zone)
    result = _tick(iso, instance, tick)
    (request,) = result.run_requests
    # Tomorrow of 2024-11-02 is the 25-hour fall-back day.
    assert request.partition_key == f"2024-11-03|{iso.id}"
    assert request.tags[ISO_TAG] == iso.id
    assert request.run_key.endswith(":first")


def test_retry_tick_skips_when_tomorrow_is_stored_and_runs_when_it_is_not(instance):
    retry = datetime(2024, 11, 2, 15, 45, tzinfo=PACIFIC)
    missing = _tick(CAISO, instance, retry)
    assert [r.run_key for r in missing.run_requests] == ["day_ahead:CAISO:2024-11-03:retry"]
    for dataset in CAISO.day_ahead.datasets:
        _store(instance, f"warehouse/{dataset}", "2024-11-03|CAISO")
    stored = _tick(CAISO, instance, retry)
    assert stored.run_requests == [] and "already stored" in stored.skip_message


def test_schedule_times_are_iso_local_across_dst():
    schedule = build_day_ahead_schedule(CAISO)
    assert schedule.execution_timezone == "America/Los_Angeles"
    assert sorted(schedule.cron_schedule) == ["15 13 * * *", "45 15 * * *"]


def test_day_ahead_run_fails_before_publication_and_the_retry_succeeds(tmp_path, instance):
    """The job the schedule runs, against a fake OASIS that publishes DAM at 13:00 Pacific."""
    day = date(2024, 11, 5)
    with FakeOasis(generate=True) as oasis:
        defs = loopback_defs(tmp_path, {"CAISO": oasis.base_url})
        job = defs.resolve_job_def(day_ahead_job_name(CAISO))

        def run_at(local_time: datetime):
            oasis.now = local_time
            return job.execute_in_process(
                partition_key=f"{day}|CAISO",
                instance=instance,
                raise_on_error=False,
                run_config={
                    "resources": {"clock": {"config": {"frozen_at": local_time.isoformat()}}}
                },
            )

        early = run_at(datetime(2024, 11, 4, 12, 30, tzinfo=PACIFIC))
        assert not early.success
        assert _tick(CAISO, instance, datetime(2024, 11, 4, 15, 45, tzinfo=PACIFIC)).run_requests
        late = run_at(datetime(2024, 11, 4, 15, 45, tzinfo=PACIFIC))
        assert late.success
        assert _tick(CAISO, instance, datetime(2024, 11, 4, 15, 45, tzinfo=PACIFIC)).skip_message


def _fresh(instance, now: datetime):
    return evaluate_freshness(instance, CAISO, now)


def test_freshness_is_red_once_the_newest_interval_is_older_than_the_lag(instance, monkeypatch):
    monkeypatch.delenv("POWER_ASSETS_REALTIME_MAX_LAG_MINUTES", raising=False)
    monkeypatch.delenv("POWER_ASSETS_CAISO_REALTIME_MAX_LAG_MINUTES", raising=False)
    assert max_lag(CAISO) == DEFAULT_MAX_LAG == timedelta(minutes=30)
    now = datetime(2024, 11, 4, 18, 0, tzinfo=UTC)
    assert _fresh(instance, now).passed is False  # nothing stored at all

    # The newest stored 5-minute interval starts 17:40Z, so it ended 17:45Z: 15 minutes ago.
    _store(
        instance,
        "warehouse/lmp_rt5",
        "2024-11-04|CAISO",
        {"last_interval": "2024-11-04T17:40:00+00:00"},
    )
    fresh = _fresh(instance, now)
    assert fresh.passed is True
    assert fresh.metadata["lag_minutes"].value == 15.0
    assert _fresh(instance, now + timedelta(minutes=15)).passed is True
    assert _fresh(instance, now + timedelta(minutes=16)).passed is False

    monkeypatch.setenv("POWER_ASSETS_CAISO_REALTIME_MAX_LAG_MINUTES", "60")
    assert _fresh(instance, now + timedelta(minutes=40)).passed is True


def test_freshness_reads_yesterday_just_after_local_midnight(instance):
    # 00:10 Pacific on 2024-11-05: nothing stored for the new day yet; yesterday ended 23:55 local.
    _store(
        instance,
        "warehouse/lmp_rt5",
        "2024-11-04|CAISO",
        {"last_interval": "2024-11-05T07:50:00+00:00"},
    )
    now = datetime(2024, 11, 5, 0, 10, tzinfo=PACIFIC)
    assert _fresh(instance, now).passed is True


def test_a_bad_lag_setting_is_named(monkeypatch):
    monkeypatch.setenv("POWER_ASSETS_REALTIME_MAX_LAG_MINUTES", "half an hour")
    with pytest.raises(ValueError, match="POWER_ASSETS_REALTIME_MAX_LAG_MINUTES"):
        max_lag(CAISO)


def test_no_sensor_running_means_no_iso_is_watched(instance):
    assert running_realtime_isos(instance, registered_isos()) == []


def test_freshness_schedule_checks_only_isos_whose_sensor_runs(instance, monkeypatch):
    schedule = DEFS.get_repository_def().get_schedule_def("realtime_freshness")

    def tick():
        with dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=datetime(2024, 11, 4, 18, 0, tzinfo=UTC),
            repository_def=DEFS.get_repository_def(),
        ) as context:
            return schedule.evaluate_tick(context)

    assert "no real-time sensor is running" in tick().skip_message
    monkeypatch.setattr(freshness, "running_realtime_isos", lambda _instance, _isos: ["ERCOT"])
    (request,) = tick().run_requests
    assert [key.name for key in request.asset_check_keys] == ["realtime_fresh__ERCOT"]
    assert request.asset_selection == []
