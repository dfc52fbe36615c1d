"""Backfills that survive being killed: temporaries of dead writers are swept, a killed CLI backfill
resumes without re-fetching what it already kept and ends where an uninterrupted one does, and an
ISO outage mid-backfill fails only its own partition. Per-partition `data_seconds` is recorded.
"""

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from power_assets import open_warehouse
from power_assets.demo.oasis_fixtures import DEMO_NODES, PACIFIC
from power_assets.demo.oasis_server import FakeOasis, parse_oasis_time
from power_assets.io.files import (
    atomic_path,
    atomic_write_bytes,
    sweep_stale_temporaries,
    temporary_dir,
)
from power_assets.io.http import IsoHttpClient
from power_assets.isos.caiso import Caiso
from power_assets.keys import daily_job_name
from power_assets.layout import Layout
from power_assets.stages.raw import download_day, extract_day
from power_assets_tests.e2e_support import loopback_defs

PROJECT_ROOT = Path(__file__).resolve().parents[1]
FIRST, LAST = date(2024, 3, 8), date(2024, 3, 13)  # includes the 23-hour 2024-03-10
DAYS = [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
LMP_DA_CHAIN = [
    f"{stage}/lmp_da"
    for stage in ("raw_download", "raw_csv", "raw_parquet", "flattened", "warehouse")
]
# The instance settings tasks.py writes (the warehouse pool admits one writer at a time).
INSTANCE_YAML = "telemetry:\n  enabled: false\nconcurrency:\n  pools:\n    default_limit: 1\n"
# Names a run may leave in the data folder that are not temporaries.
EXPECTED_HIDDEN = {".locks", ".drop_index.json"}


def _dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def live_pid():
    """The pid of another process that runs for the whole test."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield child.pid
    child.kill()
    child.wait()


# -- temporaries carry their writer's pid and are swept once it is gone --------------------------


def test_atomic_writes_name_their_temporary_after_the_writing_process(tmp_path):
    final = tmp_path / "day.parquet"
    with atomic_path(final) as tmp:
        assert tmp.parent == tmp_path
        assert tmp.name.startswith(f".day.parquet.{os.getpid()}.") and tmp.name.endswith(".part")
        tmp.write_bytes(b"whole")
    assert final.read_bytes() == b"whole"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["day.parquet"]


def test_sweep_removes_a_dead_writers_temporaries_and_keeps_a_live_ones(tmp_path, live_pid):
    dead = _dead_pid()
    dead_file = tmp_path / f".day.parquet.{dead}.k3x_9abc.part"
    dead_staging = tmp_path / f".day.parquet.{dead}.q1w2e3r4"
    dead_members = tmp_path / f".day.parquet.{dead}.members.q1w2e3r4"
    dead_retired = tmp_path / f".day.parquet.{dead}.old"
    live_file = tmp_path / f".day.parquet.{live_pid}.k3x_9abc.part"
    own_file = tmp_path / f".day.parquet.{os.getpid()}.k3x_9abc.part"
    for path in (dead_file, live_file, own_file):
        path.write_bytes(b"half")
    for folder in (dead_staging, dead_members, dead_retired):
        (folder / "inner").mkdir(parents=True)
        (folder / "inner" / "file.csv").write_text("a,b\n")

    removed = sweep_stale_temporaries(tmp_path, "day.parquet")

    assert sorted(removed) == sorted([dead_file, dead_staging, dead_members, dead_retired])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live_file.name, own_file.name])


def test_sweep_leaves_files_that_only_look_like_temporaries(tmp_path):
    dead = _dead_pid()
    lookalikes = [
        ".day.parquet.backup",
        ".day.parquet.k3x_9abc.part",  # the pid-less form: no way to tell whether its writer runs
        f".day.parquet.{dead}.notes.txt",
        f".day.parquet.{dead}.part",
        f"day.parquet.{dead}.k3x_9abc.part",  # not hidden
        f".day.parquet2.{dead}.k3x_9abc.part",  # another final name
        f".day.{dead}.k3x_9abc.part",  # a shorter final name's temporary
    ]
    for name in lookalikes:
        (tmp_path / name).write_bytes(b"mine")

    assert sweep_stale_temporaries(tmp_path, "day.parquet") == []
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(lookalikes)


def test_the_next_writer_of_a_file_sweeps_what_a_killed_writer_left(tmp_path, live_pid):
    final = tmp_path / "manifest.json"
    abandoned = tmp_path / f".manifest.json.{_dead_pid()}.abcd1234.part"
    in_progress = tmp_path / f".manifest.json.{live_pid}.abcd1234.part"
    abandoned.write_bytes(b'{"half')
    in_progress.write_bytes(b'{"half')

    atomic_write_bytes(final, b"{}")

    assert not abandoned.exists()
    assert in_progress.exists()


def test_extracting_a_day_sweeps_a_killed_extractions_staging_and_retired_folders(
    tmp_path, live_pid
):
    layout = Layout(tmp_path)
    with FakeOasis(generate=True) as oasis:
        http = IsoHttpClient(base_urls={"CAISO": oasis.base_url}, min_spacing_s={"CAISO": 0.0})
        download_day(Caiso(), "lmp_da", FIRST, http, layout)
    extract_day("CAISO", "lmp_da", FIRST, layout)
    final = layout.csv_files("CAISO", "lmp_da", FIRST)
    dead = _dead_pid()
    left_by_kill = [
        final.with_name(f".{FIRST}.{dead}.a1b2c3d4"),
        final.with_name(f".{FIRST}.{dead}.members.a1b2c3d4"),
        final.with_name(f".{FIRST}.{dead}.old"),
    ]
    still_running = final.with_name(f".{FIRST}.{live_pid}.a1b2c3d4")
    for folder in (*left_by_kill, still_running):
        folder.mkdir()
        (folder / "partial.csv").write_text("a,b\n1,")

    extract_day("CAISO", "lmp_da", FIRST, layout)

    assert sorted(p.name for p in final.parent.iterdir()) == sorted(
        [FIRST.isoformat(), still_running.name]
    )
    assert (final / "metadata.json").is_file()


# -- an ISO outage mid-backfill ------------------------------------------------------------------


def _requested_days(requests) -> set[date]:
    return {
        parse_oasis_time(r.params["startdatetime"]).astimezone(PACIFIC).date() for r in requests
    }


def _run_range(defs: dg.Definitions, instance: dg.DagsterInstance):
    return defs.resolve_job_def(daily_job_name("CAISO")).execute_in_process(
        instance=instance,
        asset_selection=[dg.AssetKey.from_user_string(key) for key in LMP_DA_CHAIN],
        raise_on_error=False,
        tags={
            "dagster/asset_partition_range_start": f"{FIRST}|CAISO",
            "dagster/asset_partition_range_end": f"{LAST}|CAISO",
        },
    )


def test_an_outage_fails_only_its_day_and_the_rerun_fetches_only_that_day(tmp_path):
    outage = date(2024, 3, 11)
    with dg.instance_for_test() as instance, FakeOasis(unpublished_days={outage}) as oasis:
        defs = loopback_defs(tmp_path, {"CAISO": oasis.base_url})

        failed = _run_range(defs, instance)

        assert not failed.success
        failure = next(e for e in failed.all_events if e.event_type_value == "STEP_FAILURE")
        message = failure.event_specific_data.error.message
        assert f"{outage}|CAISO raw_download/lmp_da:" in message
        assert "1 asset partition(s) failed in 1 partition(s)" in message
        assert f"{outage}|CAISO not run (upstream failed): raw_csv/lmp_da" in message
        # Every other day went on through every stage, each with its own figures.
        for key in LMP_DA_CHAIN:
            assert instance.get_materialized_partitions(dg.AssetKey.from_user_string(key)) == {
                f"{d}|CAISO" for d in DAYS if d != outage
            }, key
        kept = _materializations(failed, "raw_download/lmp_da")
        assert all(isinstance(m.metadata["data_seconds"].value, float) for m in kept)

        oasis.unpublished_days.clear()  # the ISO publishes the day
        before = len(oasis.requests)
        resumed = _run_range(defs, instance)

        assert resumed.success
        assert _requested_days(oasis.requests[before:]) == {outage}
        parquet = _materializations(resumed, "raw_parquet/lmp_da")
        assert {m.partition for m in parquet} == {f"{d}|CAISO" for d in DAYS}
        assert all(m.metadata["data_seconds"].value > 0 for m in parquet)


def _materializations(result, key: str) -> list[dg.AssetMaterialization]:
    return [
        e.materialization
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey.from_user_string(key)
    ]


# -- a CLI backfill killed mid-way, then resumed -------------------------------------------------


def _cli_env(root: Path, base_url: str) -> dict[str, str]:
    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(INSTANCE_YAML)
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "POWER_ASSETS_DATA_DIR": str(root / "data"),
        "POWER_ASSETS_DUCKDB_PATH": str(root / "data" / "power.duckdb"),
        "POWER_ASSETS_CAISO_BASE_URL": base_url,
    }


def _materialize(
    root: Path,
    base_url: str,
    *,
    spacing_s: float,
    days: tuple[date, date] = (FIRST, LAST),
    **http: object,
) -> subprocess.Popen:
    """`dagster asset materialize` over the range, as the README runs it, in its own session,
    with the given request spacing (and other `iso_http` settings).

    Its output goes to `root/cli.log` (a pipe nobody reads while it runs would stall it).
    """
    dagster = Path(sys.executable).with_name("dagster")
    settings = {"min_spacing_s": {"CAISO": spacing_s}, **http}
    config = {"resources": {"iso_http": {"config": settings}}}
    first, last = days
    env = _cli_env(root, base_url)  # creates `root` too
    with (root / "cli.log").open("a") as log:
        return subprocess.Popen(
            [
                str(dagster), "asset", "materialize", "-m", "power_assets.definitions",
                "--select", ",".join(LMP_DA_CHAIN),
                "--partition-range", f"{first}|CAISO...{last}|CAISO",
                "--config-json", json.dumps(config),
            ],
            cwd=PROJECT_ROOT, env=env, start_new_session=True,
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip


def _finish(process: subprocess.Popen, root: Path, timeout_s: float = 120) -> None:
    process.wait(timeout=timeout_s)
    assert process.returncode == 0, (root / "cli.log").read_text()[-4000:]


def _manifests(data: Path) -> set[date]:
    folder = data / "CAISO" / "raw_downloads" / "lmp_da"
    return {date.fromisoformat(p.parent.name) for p in folder.glob("*/manifest.json")}


def _unreadable(data: Path) -> list[str]:
    """Final files (not temporaries) that do not read whole as what their name says."""
    bad = []
    for path in sorted(p for p in data.rglob("*") if p.is_file() and not p.name.startswith(".")):
        try:
            if path.suffix == ".parquet":
                pl.read_parquet(path)
            elif path.suffix == ".json":
                json.loads(path.read_text())
            elif path.suffix == ".zip":
                with zipfile.ZipFile(path) as archive:
                    corrupt = archive.testzip()
                if corrupt is not None:
                    raise zipfile.BadZipFile(f"member {corrupt} fails its CRC")
        except Exception as exc:  # whatever stops a reader is what this looks for
            bad.append(f"{path.relative_to(data)}: {exc}")
    return bad


def _temporaries(data: Path) -> list[str]:
    return sorted(
        str(p.relative_to(data)) for p in data.rglob(".*") if p.name not in EXPECTED_HIDDEN
    )


def _end_state(data: Path) -> tuple[dict[str, pl.DataFrame], list[tuple]]:
    frames = {
        str(p.relative_to(data)): pl.read_parquet(p)
        for stage in ("raw_parquet", "flattened")
        for p in sorted((data / "CAISO" / stage).rglob("*.parquet"))
    }
    with duckdb.connect(str(data / "power.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT * EXCLUDE (loaded_at) FROM lmp ORDER BY ALL").fetchall()
    return frames, rows


def test_a_killed_cli_backfill_resumes_without_refetching_and_ends_like_an_uninterrupted_one(
    tmp_path,
):
    killed_root, reference_root = tmp_path / "killed", tmp_path / "reference"
    data = killed_root / "data"
    with FakeOasis() as oasis, FakeOasis() as reference_oasis:
        reference = _materialize(reference_root, reference_oasis.base_url, spacing_s=0.0)
        # Spaced requests make the downloads last a few seconds, so the kill lands among them.
        backfill = _materialize(killed_root, oasis.base_url, spacing_s=0.4)
        deadline = time.monotonic() + 60
        while len(_manifests(data)) < 2:
            if backfill.poll() is not None:
                log = (killed_root / "cli.log").read_text()[-4000:]
                pytest.fail(f"the backfill ended before the kill:\n{log}")
            assert time.monotonic() < deadline, "the backfill never downloaded two days"
            time.sleep(0.02)
        os.killpg(backfill.pid, signal.SIGKILL)  # the CLI and its step processes
        backfill.wait()
        done_before_kill = _manifests(data)
        assert 2 <= len(done_before_kill) < len(DAYS)
        assert _unreadable(data) == []
        # What a kill mid-write leaves, where the next writers of those names will look.
        killed = backfill.pid
        day = min(done_before_kill)
        staging = data / "CAISO/csv_files/lmp_da" / f".{day}.{killed}.abcd1234"
        staging.mkdir(parents=True)
        half_written = [
            data / "CAISO/raw_downloads/lmp_da" / str(day) / f".manifest.json.{killed}.abcd1234.part",
            data / "CAISO/raw_parquet/lmp_da" / f".{day}.parquet.{killed}.abcd1234.part",
            staging / "PRC_LMP_DAM.csv",
        ]  # fmt: skip
        for path in half_written:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"half")
        requests_before_resume = len(oasis.requests)

        _finish(_materialize(killed_root, oasis.base_url, spacing_s=0.4), killed_root)
        _finish(reference, reference_root)
        refetched = _requested_days(oasis.requests[requests_before_resume:])

    assert refetched == set(DAYS) - done_before_kill
    assert _unreadable(data) == []
    assert _temporaries(data) == []
    resumed_frames, resumed_rows = _end_state(data)
    reference_frames, reference_rows = _end_state(reference_root / "data")
    assert sorted(resumed_frames) == sorted(reference_frames)
    assert len(resumed_frames) == 2 * len(DAYS)
    for name, frame in reference_frames.items():
        assert frame.equals(resumed_frames[name]), name
    assert resumed_rows == reference_rows and resumed_rows


# -- permissions follow the umask -----------------------------------------------------------------


@pytest.fixture
def team_umask():
    """A team sharing a data folder: group members may read and write (umask 002)."""
    previous = os.umask(0o002)
    yield
    os.umask(previous)


def test_files_and_folders_follow_the_umask_so_a_team_can_share_the_data(tmp_path, team_umask):
    atomic_write_bytes(tmp_path / "kept.zip", b"zip")
    staging = temporary_dir(tmp_path, "2024-03-10")
    assert (tmp_path / "kept.zip").stat().st_mode & 0o777 == 0o664
    assert staging.stat().st_mode & 0o777 == 0o775
    os.umask(0o077)  # and a private umask keeps them private
    atomic_write_bytes(tmp_path / "private.zip", b"zip")
    assert (tmp_path / "private.zip").stat().st_mode & 0o777 == 0o600


# -- killed while loading DuckDB, against an ISO that throttles and fails ------------------------

STORM_DAYS = [date(2024, 3, 9), date(2024, 3, 10), date(2024, 3, 11)]


def _storm_backfill(root: Path, base_url: str) -> subprocess.Popen:
    """The README's range command over three days, 3 s between requests (a day's downloads then
    start well after the previous day's DuckDB load), quick retries."""
    days = (STORM_DAYS[0], STORM_DAYS[-1])
    return _materialize(
        root, base_url, spacing_s=3.0, days=days, backoff_base_s=0.05, backoff_max_s=0.2
    )


def _days_in_duckdb(database: Path) -> dict[date, int]:
    if not database.exists():
        return {}
    with open_warehouse(database, wait_s=30) as con:
        tables = {t for (t,) in con.execute("SHOW TABLES").fetchall()}
        if "lmp" not in tables:
            return {}
        return dict(con.execute("SELECT market_date, count(*) FROM lmp GROUP BY ALL").fetchall())


def test_a_backfill_killed_while_loading_duckdb_resumes_with_every_row_once(tmp_path):
    data = tmp_path / "data"
    database = data / "power.duckdb"
    log = tmp_path / "cli.log"
    with FakeOasis(throttle_every=4, fail_first_with_503=2) as oasis:
        backfill = _storm_backfill(tmp_path, oasis.base_url)
        deadline = time.monotonic() + 90
        while not _days_in_duckdb(database):  # the first day is loaded ...
            assert backfill.poll() is None, log.read_text()[-4000:]
            assert time.monotonic() < deadline, "the first day never reached DuckDB"
            time.sleep(0.05)
        # ... then a reader holds the store, so the next day's load waits inside its warehouse
        # step (saying so), and the backfill is killed there.
        with open_warehouse(database) as reader:
            waiting = f"warehouse/lmp_da {STORM_DAYS[1]}|CAISO waits"
            while waiting not in log.read_text():
                assert backfill.poll() is None, log.read_text()[-4000:]
                assert time.monotonic() < deadline, f"no {waiting!r} in the log"
                time.sleep(0.05)
            assert "is held by reader pid" in log.read_text()
            os.killpg(backfill.pid, signal.SIGKILL)
            backfill.wait()
            assert reader.execute("SELECT count(*) FROM lmp").fetchone()[0] > 0
        loaded_before = _days_in_duckdb(database)
        assert set(loaded_before) == {STORM_DAYS[0]}

        started = time.monotonic()
        _finish(_storm_backfill(tmp_path, oasis.base_url), tmp_path, timeout_s=240)
        resumed_in = time.monotonic() - started
        answered = [r for r in oasis.requests if r.status == 200]
        throttled = [r for r in oasis.requests if r.status in (429, 503)]

    assert resumed_in < 180
    assert throttled  # the storm happened, and was ridden out
    # Nothing downloaded twice: one answer per day's request over both runs.
    starts = sorted(r.params["startdatetime"] for r in answered)
    assert starts == ["20240309T08:00-0000", "20240310T08:00-0000", "20240311T07:00-0000"]
    # Every row exactly once: each day's own hours (24, the 23-hour spring day, 24) x nodes.
    nodes = len(DEMO_NODES)
    assert _days_in_duckdb(database) == {
        STORM_DAYS[0]: 24 * nodes, STORM_DAYS[1]: 23 * nodes, STORM_DAYS[2]: 24 * nodes
    }  # fmt: skip
    for day in STORM_DAYS:
        frame = pl.read_parquet(data / "CAISO" / "raw_parquet" / "lmp_da" / f"{day}.parquet")
        assert frame.height == _days_in_duckdb(database)[day]
    assert _temporaries(data) == []
