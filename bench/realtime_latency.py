"""Tick-to-queryable latency of the real-time path, with Dagster's default (multiprocess) executor.

A fake OASIS publishes one 5-minute interval of `--nodes` nodes per step, by a clock this script
moves. Each step: the `realtime__CAISO` sensor ticks (CAISO's real 5 s request spacing), and the run
it requests is executed as the daemon would launch it (`execute_job`, multiprocess executor, a
persistent instance), then DuckDB is asked for the new interval. Printed per step: the time from
the tick to the interval being queryable, the run's wall time and the data work inside it (sum of
the steps' `data_seconds`), so the orchestration share is measured in the same run. Step 0 catches
up on the morning so far; later steps alternate Dagster's default executor (multiprocess, one
process per step) with the in-process executor as the baseline measured in the same run.

    python3 tasks.py bench latency [--nodes 500] [--steps 7]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
PACIFIC = ZoneInfo("America/Los_Angeles")


def _data_seconds(result) -> float:
    total = 0.0
    for event in result.all_events:
        if event.event_type_value != "ASSET_MATERIALIZATION":
            continue
        metadata = event.event_specific_data.materialization.metadata
        value = metadata.get("data_seconds") or metadata.get("total_data_seconds")
        total += float(getattr(value, "value", value) or 0.0)
    return total


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--steps", type=int, default=7)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="power_assets_latency_"))
    home = work / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        (ROOT / "power_assets" / "dagster_instance.yaml").read_text()
    )
    os.environ.update(
        DAGSTER_HOME=str(home),
        POWER_ASSETS_DATA_DIR=str(work / "data"),
        POWER_ASSETS_DUCKDB_PATH=str(work / "data" / "power.duckdb"),
    )

    import dagster as dg
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    from power_assets import open_warehouse
    from power_assets.automation.realtime import build_realtime_sensor
    from power_assets.definitions import build_defs
    from power_assets.demo.oasis_server import FakeOasis
    from power_assets.io.http import IsoHttpClient
    from power_assets.isos import get_iso
    from power_assets.resources import ClockResource, StorageResource

    caiso = get_iso("CAISO")
    nodes = [f"BENCH_NODE_{i:05d}-APND" for i in range(args.nodes - 1)] + ["TH_NP15_GEN-APND"]
    now = datetime(2024, 11, 4, 10, 2, tzinfo=PACIFIC)
    with FakeOasis(generate=True, nodes=nodes, now=now) as oasis:
        os.environ["POWER_ASSETS_CAISO_BASE_URL"] = oasis.base_url
        defs = build_defs()
        sensor = defs.get_repository_def().get_sensor_def(build_realtime_sensor(caiso).name)
        recon = ReconstructableRepository.for_module(
            "power_assets.definitions", "defs", working_directory=str(ROOT)
        ).get_reconstructable_job("realtime__CAISO")
        cursor = None
        rows = []
        with dg.DagsterInstance.get() as instance:
            for step in range(args.steps):
                oasis.now = now
                if step:
                    # In production ticks are 30 s apart; here the next tick follows the last
                    # run at once, so first let CAISO's 5 s request spacing pass, or the probe
                    # rightly skips ("spaced for running downloads"). Not counted as latency.
                    time.sleep(caiso.min_request_spacing_s + 0.5)
                resources = {
                    "iso_http": IsoHttpClient(),
                    "clock": ClockResource(frozen_at=now.isoformat()),
                    "storage": StorageResource(),
                }
                tick_started = time.monotonic()
                with dg.build_sensor_context(
                    cursor=cursor, instance=instance, resources=resources, definitions=defs
                ) as context:
                    tick = sensor.evaluate_tick(context)
                cursor = tick.cursor or cursor
                probe_s = time.monotonic() - tick_started
                if len(tick.run_requests) != 1:
                    # A step without its run would report the previous step's figures.
                    raise SystemExit(
                        f"step {step} ({now:%H:%M} Pacific): the sensor requested "
                        f"{len(tick.run_requests)} runs, not 1: {tick.skip_message}"
                    )
                for request in tick.run_requests:
                    day, iso_id = request.partition_key.split("|")
                    executor = "in_process" if step and step % 2 == 0 else "multiprocess"
                    run_started = time.monotonic()
                    with dg.execute_job(
                        recon,
                        instance=instance,
                        asset_selection=list(request.asset_selection),
                        tags={
                            **request.tags,
                            "dagster/partition": request.partition_key,
                            "dagster/partition/date": day,
                            "dagster/partition/iso": iso_id,
                        },
                        run_config={
                            "resources": {"clock": {"config": {"frozen_at": now.isoformat()}}},
                            "execution": {"config": {executor: {}}},
                        },
                    ) as result:
                        assert result.success, "the real-time run failed"
                        run_s = time.monotonic() - run_started
                        data_s = _data_seconds(result)
                newest_end = now.astimezone(ZoneInfo("UTC")).replace(second=0)
                with open_warehouse(os.environ["POWER_ASSETS_DUCKDB_PATH"]) as con:
                    newest = con.execute(
                        "SELECT max(interval_end) FROM lmp WHERE iso='CAISO' AND dataset='lmp_rt5'"
                    ).fetchone()[0]
                queryable_s = time.monotonic() - tick_started
                assert newest is not None and newest <= newest_end + timedelta(minutes=5)
                rows.append((step, executor, probe_s, run_s, data_s, queryable_s, newest))
                now += timedelta(minutes=5)
    print(f"CAISO real-time path, {args.nodes} nodes, 5 s request spacing")
    for step, executor, probe_s, run_s, data_s, queryable_s, newest in rows:
        what = "catch-up" if step == 0 else executor
        print(
            f"  step {step} ({what:>12}): tick {probe_s:4.2f} s, run {run_s:6.2f} s (data work "
            f"{data_s:5.2f} s), tick -> queryable {queryable_s:6.2f} s, newest ends {newest:%H:%M}Z"
        )
    for executor in ("multiprocess", "in_process"):
        steady = [r for r in rows[1:] if r[1] == executor]
        if not steady:
            continue
        latencies = [r[5] for r in steady]
        share = sum(r[4] for r in steady) / sum(r[3] for r in steady)
        print(
            f"{executor:>12}: tick -> queryable median {statistics.median(latencies):5.1f} s, "
            f"max {max(latencies):5.1f} s (target <= 60 s); data work / run wall {share:4.0%}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
