"""One Celery worker against two: a 20-day drop-folder backfill, chunked, on the real servers.

A 20-day ERCOT bulk archive (ZIP of daily ZIPs of document ZIPs, as users keep them; `--nodes`
settlement points) sits in a drop folder; `python -m power_assets.scale.backfill` runs
`2024-01-01..2024-01-20` for lmp_da, as_da, lmp_rt15 and load, every stage into a PostgreSQL
warehouse, in chunks of `--chunk-days` days (each chunk a `dagster asset materialize` range run in a
PostgreSQL Dagster instance, its one step on a Celery worker, Redis as broker). The same backfill
runs with one worker and with two (`--concurrency 1` each), each time from nothing (new instance
and warehouse databases, new data folder), and the same launcher settings. A silent fake ERCOT
stands in for the network and must receive no request.

Printed per setting: wall time; time inside the steps (STEP_START to STEP_SUCCESS, summed, and per
worker); the data seconds the runner records per (asset, partition); and the rest, which is the
chunk runs' own start-up in the launcher's processes (each `dagster asset materialize` imports the
definitions and creates its run) and Celery hand-over. Then the speed-up of two workers over one.
This machine has 2 cores, shared by the workers and the launcher's run processes, so 2x is the
ceiling and the run processes eat into it.

    python3 tasks.py bench scale [--nodes N] [--chunk-days N] [--parallel P]

Needs PostgreSQL (`--postgres`, an admin URL; databases pa_bench_* are created and dropped) and
Redis (`--redis`, a database number this benchmark flushes).
"""

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import psycopg2

from power_assets import settings
from power_assets.demo.ercot_fixtures import bulk_archive, settlement_points
from power_assets.demo.ercot_server import FakeErcot
from power_assets.stages.drop import drop_env_var
from power_assets.store.postgres import dsn

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
FIRST = date(2024, 1, 1)
DAYS = [FIRST + timedelta(days=n) for n in range(20)]
DATASETS = ("lmp_da", "as_da", "lmp_rt15", "load")


@dataclass
class Outcome:
    workers: int
    wall_s: float
    runs: int
    failed_runs: int
    in_steps_s: float
    data_s: float
    by_worker: dict[str, float]
    cpu_busy: float  # share of the machine's CPU time in use during the backfill


def cpu_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, from /proc/stat: the workers, the
    launcher's run processes and the PostgreSQL and Redis servers alike."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


@contextlib.contextmanager
def database(admin_url: str) -> Iterator[str]:
    name = f"pa_bench_{uuid.uuid4().hex[:10]}"
    con = psycopg2.connect(dsn(admin_url))
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with con.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.close()


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


@contextlib.contextmanager
def workers(count: int, env: dict[str, str], logs: Path) -> Iterator[None]:
    """`count` workers started with the documented command, one step at a time each."""
    started = []
    for n in range(1, count + 1):
        out = open(logs / f"w{n}.log", "wb")  # noqa: SIM115 - closed with the worker below
        command = [
            str(BIN / "dagster-celery"), "worker", "start", "-y", str(ROOT / "deploy" / "celery.yaml"),
            "-A", "dagster_celery.app", "--name", f"w{n}", "--", "--concurrency", "1",
        ]  # fmt: skip
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        started.append((process, out, logs / f"w{n}.log"))
    try:
        for process, _, log in started:
            deadline = time.monotonic() + 120
            while " ready." not in log.read_text(errors="replace"):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"worker did not start:\n{log.read_text()[-2000:]}")
                time.sleep(0.3)
        yield
    finally:
        for process, out, _ in started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 15)
            process.wait(30)
            out.close()


def measure(home: Path) -> tuple[int, int, float, float, dict[str, float]]:
    """Runs, failed runs, seconds inside steps, data seconds, and step seconds per worker."""
    in_steps, data, failed = 0.0, 0.0, 0
    by_worker: dict[str, float] = defaultdict(float)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs()
        for run in runs:
            failed += not run.is_success
            began, worker = None, "?"
            for record in instance.all_logs(run.run_id):
                event = record.dagster_event
                if event is None:
                    continue
                if event.is_step_start:
                    began = record.timestamp
                elif event.event_type == dg.DagsterEventType.ENGINE_EVENT and event.engine_event_data:
                    named = event.engine_event_data.metadata.get("Celery worker")
                    worker = str(named.value).split("@")[0] if named else worker
                elif event.is_step_materialization:
                    found = event.step_materialization_data.materialization.metadata
                    data += float(found["data_seconds"].value) if "data_seconds" in found else 0.0
                elif (event.is_step_success or event.is_step_failure) and began is not None:
                    in_steps += record.timestamp - began
                    by_worker[worker] += record.timestamp - began
    return len(runs), failed, in_steps, data, dict(by_worker)


def backfill(count: int, args, archive: Path, ercot_url: str, root: Path) -> Outcome:
    base = {k: v for k, v in os.environ.items() if not k.startswith("POWER_ASSETS_")}
    home = root / f"home_{count}"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    logs = root / f"logs_{count}"
    logs.mkdir()
    flush_redis(args.redis)
    with database(args.postgres) as instance_url, database(args.postgres) as warehouse_url:
        env = {
            **base,
            "PATH": f"{BIN}{os.pathsep}{base.get('PATH', '')}",
            "DAGSTER_HOME": str(home),
            settings.INSTANCE_DATABASE_URL_ENV: instance_url,
            settings.WAREHOUSE_URL_ENV: warehouse_url,
            settings.DATA_DIR_ENV: str(root / f"data_{count}"),
            settings.EXECUTOR_ENV: "celery",
            settings.CELERY_BROKER_ENV: args.redis,
            settings.CELERY_BACKEND_ENV: args.redis,
            settings.base_url_env_var("ERCOT"): ercot_url,
            drop_env_var("ERCOT"): str(archive.parent),
        }
        with workers(count, env, logs):
            started, cpu_before = time.perf_counter(), cpu_jiffies()
            launched = subprocess.run(
                [
                    sys.executable, "-m", "power_assets.scale.backfill", "ERCOT",
                    str(DAYS[0]), str(DAYS[-1]), "--chunk-days", str(args.chunk_days),
                    "--parallel", str(args.parallel), "--retries", "0",
                    *[arg for d in DATASETS for arg in ("--dataset", d)],
                    "--log-dir", str(logs / "chunks"),
                ],
                env=env, cwd=ROOT, capture_output=True, text=True,
            )  # fmt: skip
            wall, cpu_after = time.perf_counter() - started, cpu_jiffies()
            cpu_busy = (cpu_after[0] - cpu_before[0]) / max(1, cpu_after[1] - cpu_before[1])
        if launched.returncode != 0:
            print(launched.stdout[-2000:], launched.stderr[-2000:], file=sys.stderr)
        os.environ[settings.INSTANCE_DATABASE_URL_ENV] = instance_url
        runs, failed, in_steps, data, by_worker = measure(home)
    return Outcome(count, wall, runs, failed, in_steps, data, by_worker, cpu_busy)


def report(outcomes: list[Outcome], args, archive_mb: float) -> None:
    print(
        f"input: {len(DAYS)} ERCOT days ({DAYS[0]}..{DAYS[-1]}) from a {archive_mb:.1f} MB drop "
        f"archive, {args.nodes} settlement points, datasets {', '.join(DATASETS)}; chunks of "
        f"{args.chunk_days} days, {args.parallel} chunk runs at once; {os.cpu_count()} cores"
    )
    for o in outcomes:
        busy = ", ".join(f"{w} {s:.1f} s" for w, s in sorted(o.by_worker.items()))
        print(
            f"{o.workers} worker(s): wall {o.wall_s:6.1f} s | inside steps {o.in_steps_s:6.1f} s "
            f"({busy}) | data {o.data_s:6.1f} s | CPU busy {o.cpu_busy:5.1%} | {o.runs} runs"
            + (f", {o.failed_runs} FAILED" if o.failed_runs else "")
        )
    one, two = outcomes
    print(
        f"speed-up with two workers: {one.wall_s / two.wall_s:.2f}x (ceiling 2x on 2 cores); "
        f"outside the steps (run start-up in the launcher's processes, hand-over): "
        f"{max(0.0, one.wall_s - one.in_steps_s):.1f} s of one worker's wall, "
        f"steps' own time beyond their data work: {one.in_steps_s - one.data_s:.1f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=300)
    parser.add_argument("--chunk-days", type=int, default=5)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument(
        "--postgres", default="postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, FakeErcot([]) as silent:
        root = Path(tmp)
        archive = bulk_archive(
            DAYS, settlement_points(args.nodes), root / "drop" / "ercot_2024_01.zip", sced=False
        )
        outcomes = [backfill(n, args, archive, silent.base_url, root) for n in (1, 2)]
        report(outcomes, args, archive.stat().st_size / 1e6)
        if silent.requests:
            print(f"unexpected: {len(silent.requests)} request(s) reached the fake ERCOT")
            return 1
    return 0 if all(o.failed_runs == 0 and o.runs for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
