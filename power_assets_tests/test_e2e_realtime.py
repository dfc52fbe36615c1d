"""A morning of five-minute publications, end to end: fake ISO clock → sensor tick → run → DuckDB.

For every ISO the fake publishes an interval every five minutes; each tick of the real-time sensor
that sees a new interval runs the real-time job for today's partition with the pipeline clock at the
same instant. After every run the DuckDB table must hold each published interval exactly once, and
at the end it must equal a single fresh materialization of the whole morning.
"""

import time
from datetime import timedelta

import dagster as dg
import pytest

from power_assets.automation.realtime import RealtimeCursor
from power_assets.automation.selection import realtime_job_name
from power_assets.isos import get_iso
from power_assets.isos.pjm import SUBSCRIPTION_KEY_ENV
from power_assets_tests.e2e_support import loopback_defs, query
from power_assets_tests.test_realtime_sensor import DAY, NEXT, PJM_KEY, Ticker, fake_iso, local

PUBLICATIONS = 6


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


def _run(defs, instance, request, now):
    iso_id = request.tags["power_assets/iso"]
    job = defs.resolve_job_def(realtime_job_name(get_iso(iso_id)))
    return job.execute_in_process(
        partition_key=request.partition_key,
        asset_selection=request.asset_selection,
        instance=instance,
        tags=request.tags,
        run_config={"resources": {"clock": {"config": {"frozen_at": now.isoformat()}}}},
        raise_on_error=False,
    )


def _stored(root, iso_id: str, dataset: str) -> list[tuple]:
    return query(
        root,
        """SELECT location, interval_start, interval_end, lmp, energy, congestion, loss
           FROM lmp WHERE iso = ? AND dataset = ? ORDER BY location, interval_start""",
        [iso_id, dataset],
    )


@pytest.mark.parametrize("iso_id", ["CAISO", "ERCOT", "ISONE", "NYISO", "PJM"])
def test_a_morning_of_publications_lands_in_duckdb_exactly_once(
    iso_id, tmp_path, instance, monkeypatch
):
    monkeypatch.setenv(SUBSCRIPTION_KEY_ENV, PJM_KEY)
    iso = get_iso(iso_id)
    probe = iso.realtime.probe_dataset
    with fake_iso(iso_id) as (fake, urls):
        defs = loopback_defs(tmp_path, urls)
        ticker = Ticker(iso_id, fake, urls, tmp_path, instance)
        now = local(iso_id, DAY, 6, 2)
        runs, latencies = 0, []
        for step in range(PUBLICATIONS + 1):
            tick_started = time.monotonic()
            result = ticker.tick(now)
            for request in result.run_requests:
                outcome = _run(defs, instance, request, now)
                assert outcome.success, [
                    e.message for e in outcome.all_events if e.event_type_value == "STEP_FAILURE"
                ]
                runs += 1
                # Each run evaluates its stages' own checks; freshness has its own schedule.
                checks = {e.check_name for e in outcome.get_asset_check_evaluations()}
                assert {"no_duplicate_keys", "no_interval_gaps", "grid_complete"} <= checks
                assert not any(name.startswith("realtime_fresh") for name in checks)
            if result.run_requests:
                latencies.append(time.monotonic() - tick_started)
            # A second tick at the same instant is harmless: nothing new, no run.
            assert ticker.tick(now).run_requests == []
            rows = _stored(tmp_path, iso_id, probe)
            keys = [(r[0], r[1]) for r in rows]
            assert len(keys) == len(set(keys)), f"duplicate intervals after step {step}"
            newest = max(r[2] for r in rows)
            assert newest == RealtimeCursor.parse(ticker.cursor).last_interval_end
            now += timedelta(minutes=5)
        assert runs == PUBLICATIONS + 1
        per_location = {}
        for location, *_ in _stored(tmp_path, iso_id, probe):
            per_location[location] = per_location.get(location, 0) + 1
        # 06:00 local plus one interval per publication, from midnight: every one present.
        first_tick = local(iso_id, DAY, 6, 2)
        day_start = iso.market_day_bounds(DAY)[0]
        newest = RealtimeCursor.parse(ticker.cursor).last_interval_end
        expected = int((newest - day_start) / iso.dataset(probe).interval)
        assert set(per_location.values()) == {expected}
        assert newest >= first_tick + timedelta(minutes=5 * PUBLICATIONS) - timedelta(minutes=10)
        print(
            f"{iso_id}: {runs} runs, tick-to-queryable {min(latencies):.1f}-{max(latencies):.1f} s"
        )

        # The incrementally built day equals one fresh materialization of the same morning.
        fresh_root = tmp_path / "fresh"
        fresh = loopback_defs(fresh_root, urls)
        final = now - timedelta(minutes=5)
        with dg.instance_for_test() as other:
            request = dg.RunRequest(
                partition_key=f"{DAY}|{iso_id}",
                asset_selection=[dg.AssetKey([s, probe]) for s in _STAGES],
                tags={"power_assets/iso": iso_id},
            )
            assert _run(fresh, other, request, final).success
        assert _stored(fresh_root, iso_id, probe) == _stored(tmp_path, iso_id, probe)


_STAGES = ("raw_download", "raw_csv", "raw_parquet", "flattened", "warehouse")


def test_caiso_runs_fetch_only_the_intervals_not_yet_kept(tmp_path, instance):
    with fake_iso("CAISO") as (fake, urls):
        defs = loopback_defs(tmp_path, urls)
        ticker = Ticker("CAISO", fake, urls, tmp_path, instance)
        now = local("CAISO", DAY, 10, 2)
        for _ in range(3):
            for request in ticker.tick(now).run_requests:
                before = len(fake.requests)
                assert _run(defs, instance, request, now).success
                asked = [
                    r.params["startdatetime"]
                    for r in fake.requests[before:]
                    if r.params.get("queryname") == "PRC_INTVL_LMP" and "grp_type" in r.params
                ]
            now += timedelta(minutes=5)
        # The third run (10:12 local) asks only from the end of what the second run kept
        # (the interval ending 10:05 local = 18:05Z), not from the start of the hour or the day.
        assert asked == ["20241104T18:05-0000"]


def test_across_midnight_the_old_day_ends_complete_and_the_new_day_starts(tmp_path, instance):
    iso = get_iso("CAISO")
    with fake_iso("CAISO") as (fake, urls):
        defs = loopback_defs(tmp_path, urls)
        ticker = Ticker("CAISO", fake, urls, tmp_path, instance)
        # Ticks ten minutes apart (a daemon that fell behind): at 00:07 the newest interval is
        # already the new day's, so only the old day's closing run can fetch 23:55-24:00.
        for now in (
            local("CAISO", DAY, 23, 47),
            local("CAISO", DAY, 23, 57),
            local("CAISO", NEXT, 0, 7),
        ):
            for request in ticker.tick(now).run_requests:
                assert _run(defs, instance, request, now).success
    counts = dict(
        query(
            tmp_path,
            """SELECT market_date::VARCHAR, count(*) FROM lmp
               WHERE iso = 'CAISO' AND dataset = 'lmp_rt5' AND location = 'TH_NP15_GEN-APND'
               GROUP BY ALL""",
        )
    )
    # The whole old day (288 intervals, the last ending at midnight) and the new day's first.
    assert counts == {str(DAY): 288, str(NEXT): 1}
    newest = query(tmp_path, "SELECT max(interval_end) FROM lmp WHERE dataset = 'lmp_rt5'")[0][0]
    assert newest == iso.market_day_bounds(NEXT)[0] + timedelta(minutes=5)
