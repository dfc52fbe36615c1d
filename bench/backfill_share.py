"""Orchestration share of a single-run backfill: 31 ERCOT days from a local bulk archive.

A 31-day ERCOT bulk archive (ZIP of daily ZIPs of document ZIPs, as users keep them) is written to
a drop folder; the `daily_pipeline__ERCOT` job then runs for datasets lmp_da, as_da, lmp_rt15 and load
(every stage, the DuckDB store and the combined daily files they feed) over
`2024-01-01|ERCOT...2024-01-31|ERCOT` as ONE run (single-run backfill tags, in-process executor),
twice: the first run ingests the archive, the re-run finds everything in place.

Per run: wall time, the sum of every (asset, partition)'s `data_seconds` (time spent inside that
partition's own work, recorded by the runner in its materialization), their ratio (target >= 70 %),
the event-log records written, and the assets whose partitions took the most data time. A silent
fake ERCOT stands in for the network and must receive no request.

The time outside the data work is mostly Dagster's event log: one ASSET_MATERIALIZATION_PLANNED
and one ASSET_MATERIALIZATION record per asset and partition, each committed on its own by the
SQLite storage; `--in-memory` runs the same against an in-memory instance for comparison.

    python3 tasks.py bench backfill [--nodes N] [--in-memory]
"""

import argparse
import os
import resource
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from power_assets.definitions import build_defs
from power_assets.demo.ercot_fixtures import bulk_archive, settlement_points
from power_assets.demo.ercot_server import FakeErcot
from power_assets.io.http import IsoHttpClient
from power_assets.keys import combined_key, daily_job_name, stage_keys
from power_assets.resources import StorageResource
from power_assets.stages.drop import drop_env_var

FIRST, LAST = date(2024, 1, 1), date(2024, 1, 31)
DATASETS = ("lmp_da", "as_da", "lmp_rt15", "load")
STAGES = ("raw_download", "raw_csv", "raw_parquet", "flattened", "warehouse")
COMBINED = ("da_as_hourly", "da_as_rt_hourly", "da_as_rt_native")
TARGET_SHARE = 0.70
TOP_ASSETS = 5
DAYS = [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]


@dataclass(frozen=True)
class StepTime:
    step: str
    seconds: float  # from its STEP_START event to its STEP_SUCCESS or STEP_FAILURE event
    data_seconds: float


@dataclass(frozen=True)
class RunTime:
    label: str
    success: bool
    wall_s: float
    steps: list[StepTime]
    events: dict[str, int]  # event-log records the run wrote, by Dagster event type
    assets: dict[str, float]  # data seconds by asset, over every partition

    @property
    def data_s(self) -> float:
        return sum(s.data_seconds for s in self.steps)

    @property
    def in_steps_s(self) -> float:
        return sum(s.seconds for s in self.steps)


def selection() -> list[dg.AssetKey]:
    return [*stage_keys(DATASETS, STAGES), *(combined_key(product) for product in COMBINED)]


def data_seconds(materializations: list[dg.AssetMaterialization]) -> float:
    """The data time of these materializations: each partition records its own `data_seconds`."""
    return sum(
        float(m.metadata["data_seconds"].value)
        for m in materializations
        if "data_seconds" in m.metadata
    )


def timed_run(label: str, defs: dg.Definitions, instance: dg.DagsterInstance) -> RunTime:
    job = defs.resolve_job_def(daily_job_name("ERCOT"))
    started = time.perf_counter()
    result = job.execute_in_process(
        instance=instance,
        asset_selection=selection(),
        raise_on_error=False,
        tags={
            "dagster/asset_partition_range_start": f"{FIRST}|ERCOT",
            "dagster/asset_partition_range_end": f"{LAST}|ERCOT",
        },
    )
    wall = time.perf_counter() - started
    materialized: dict[str, list[dg.AssetMaterialization]] = defaultdict(list)
    by_asset: dict[str, list[dg.AssetMaterialization]] = defaultdict(list)
    starts: dict[str, float] = {}
    ends: dict[str, float] = {}
    events: dict[str, int] = defaultdict(int)
    for record in instance.all_logs(result.run_id):
        event = record.dagster_event
        events[event.event_type_value if event else "LOG_MESSAGE"] += 1
        if event is None or event.step_key is None:
            continue
        if event.is_step_start:
            starts[event.step_key] = record.timestamp
        elif event.is_step_success or event.is_step_failure:
            ends[event.step_key] = record.timestamp
        elif event.is_step_materialization:
            materialization = event.step_materialization_data.materialization
            materialized[event.step_key].append(materialization)
            by_asset[materialization.asset_key.to_user_string()].append(materialization)
    steps = [
        StepTime(step, ends[step] - began, data_seconds(materialized[step]))
        for step, began in starts.items()
        if step in ends
    ]
    assets = {asset: data_seconds(found) for asset, found in by_asset.items()}
    return RunTime(label, result.success, wall, steps, dict(events), assets)


def report(runs: list[RunTime], archive_mb: float, nodes: int, storage: str) -> None:
    """Print one line per run, its event-log records, then the assets with the most data time."""
    print(
        f"input: {(LAST - FIRST).days + 1} ERCOT market days ({FIRST}..{LAST}), datasets "
        f"{', '.join(DATASETS)} + {len(COMBINED)} combined products, {nodes} resource nodes; "
        f"bulk archive {archive_mb:.1f} MB; {storage} Dagster instance"
    )
    width = max(len(run.label) for run in runs)
    for run in runs:
        share = run.data_s / run.wall_s
        verdict = "ok" if share >= TARGET_SHARE else "BELOW TARGET"
        print(
            f"{run.label:<{width}} : wall {run.wall_s:7.1f} s, data {run.data_s:7.1f} s, "
            f"share {share:6.1%} (target >= {TARGET_SHARE:.0%}: {verdict}); "
            f"{len(run.steps)} steps, {run.wall_s - run.in_steps_s:5.1f} s outside steps"
            + ("" if run.success else ", RUN FAILED")
        )
    for run in runs:
        total = sum(run.events.values())
        busiest = sorted(run.events.items(), key=lambda item: item[1], reverse=True)[:4]
        print(
            f"{run.label:<{width}} : {total} event-log records "
            f"({', '.join(f'{count} {kind}' for kind, count in busiest)}); "
            f"non-data time {(run.wall_s - run.data_s) / total * 1000:.1f} ms per record"
        )
    for run in runs:
        print(f"top {TOP_ASSETS} assets by data time, {run.label}:")
        ranked = sorted(run.assets.items(), key=lambda item: item[1], reverse=True)
        asset_width = max(len(asset) for asset, _ in ranked[:TOP_ASSETS])
        for asset, seconds in ranked[:TOP_ASSETS]:
            print(f"  {asset:<{asset_width}} : data {seconds:6.2f} s over {len(DAYS)} partitions")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mb:.0f} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--nodes",
        type=int,
        default=1000,
        help="settlement points per price file (ERCOT has ~1,000)",
    )
    parser.add_argument(
        "--in-memory",
        action="store_true",
        help="an in-memory Dagster instance instead of a SQLite one (as DAGSTER_HOME has): "
        "shows what the event-log storage costs",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, FakeErcot([]) as silent:
        root = Path(tmp)
        archive = bulk_archive(
            DAYS, settlement_points(args.nodes), root / "drop" / "ercot_2024_01.zip", sced=False
        )
        os.environ[drop_env_var("ERCOT")] = str(archive.parent)
        defs = build_defs(
            resources={
                "storage": StorageResource(data_dir=str(root / "data")),
                "iso_http": IsoHttpClient(
                    base_urls={"ERCOT": silent.base_url}, lock_dir=str(root / "locks")
                ),
                "warehouse": DuckDBResource(database=str(root / "data" / "power.duckdb")),
            }
        )
        (root / "dagster_home").mkdir()
        with (
            dg.DagsterInstance.ephemeral()
            if args.in_memory
            else dg.DagsterInstance.local_temp(str(root / "dagster_home"))
        ) as instance:
            runs = [
                timed_run("first run (ingest)", defs, instance),
                timed_run("re-run", defs, instance),
            ]
        storage = "in-memory" if args.in_memory else "SQLite"
        report(runs, archive.stat().st_size / 1e6, args.nodes, storage)
        if silent.requests:
            print(f"unexpected: {len(silent.requests)} request(s) reached the fake ERCOT")
            return 1
    return 0 if all(run.success for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
