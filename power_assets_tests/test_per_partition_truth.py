"""Every market day tells its own truth when work runs as a range.

A fake OASIS serves three days (the 23-hour 2024-03-10 among them) and publishes one absurd price
on one of them. One `dagster asset materialize --partition-range` run, as the README gives it,
takes them through every stage into DuckDB. The two good days must reach DuckDB with their own
figures in their own partitions' metadata, the bad day must stop at its stage with its check
failed for that partition, and the run must fail naming it. Fixing the cause and re-running only
that day turns its check green.
"""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import httpx
import polars as pl
import pytest

from power_assets.demo.oasis_fixtures import DEMO_NODES, Faults
from power_assets.demo.oasis_server import FakeOasis

pytestmark = pytest.mark.e2e

PROJECT_ROOT = Path(__file__).resolve().parents[1]
GOOD_DAYS = {date(2024, 3, 9): 24, date(2024, 3, 10): 23}  # market day -> its hours
BAD_DAY = date(2024, 3, 11)
FIRST, LAST = date(2024, 3, 9), BAD_DAY
ABSURD = 9_999_999.0  # $/MWh: far beyond any bound CAISO could publish
CHAIN = [
    f"{stage}/lmp_da"
    for stage in ("raw_download", "raw_csv", "raw_parquet", "flattened", "warehouse")
]
BOUNDS_CHECK = dg.AssetCheckKey(dg.AssetKey.from_user_string("raw_parquet/lmp_da"), "values_within_bounds")


def _key(day: date) -> str:
    return f"{day.isoformat()}|CAISO"  # the form the README documents, written out literally


def _env(root: Path, base_url: str) -> dict[str, str]:
    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "POWER_ASSETS_DATA_DIR": str(root / "data"),
        "POWER_ASSETS_CAISO_BASE_URL": base_url,
        # Nothing may reach a real ISO: the others point at a closed loopback port.
        **{
            f"POWER_ASSETS_{iso}_BASE_URL": "http://127.0.0.1:9"
            for iso in ("ERCOT", "ISONE", "NYISO")
        },
    }


def _materialize(root: Path, base_url: str, *partition_args: str, config=None):
    dagster = Path(sys.executable).with_name("dagster")
    run_config = {"resources": {"iso_http": {"config": {"min_spacing_s": {"CAISO": 0.0}}}}}
    run_config.update(config or {})
    return subprocess.run(
        [
            str(dagster), "asset", "materialize", "-m", "power_assets.definitions",
            "--select", ",".join(CHAIN), *partition_args,
            "--config-json", json.dumps(run_config),
        ],
        cwd=PROJECT_ROOT, env=_env(root, base_url), capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _materialized_metadata(instance: dg.DagsterInstance, asset: str) -> dict[str, dict]:
    """The latest materialization's metadata of each partition of an asset, by partition key."""
    records = instance.fetch_materializations(dg.AssetKey.from_user_string(asset), limit=100).records
    latest: dict[str, dict] = {}
    for record in records:  # newest first
        materialization = record.asset_materialization
        latest.setdefault(
            materialization.partition,
            {name: value.value for name, value in materialization.metadata.items()},
        )
    return latest


def _check_status(instance: dg.DagsterInstance, check: dg.AssetCheckKey) -> dict[str, str]:
    """What the UI's partition view shows for a check: the last evaluation of each partition, and
    that it judged the partition's latest materialization (the one readers see)."""
    infos = instance.event_log_storage.get_asset_check_partition_info([check])
    assert all(info.is_current for info in infos)
    return {info.partition_key: info.latest_execution_status.value for info in infos}


def _rows_by_day(root: Path) -> dict[date, int]:
    with duckdb.connect(str(root / "data" / "power.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT market_date, count(*) FROM lmp WHERE iso = 'CAISO' AND dataset = 'lmp_da' "
            "GROUP BY ALL"
        ).fetchall()
    return dict(rows)


def _rejected(root: Path) -> Path:
    return root / "data" / "CAISO" / "raw_parquet" / "lmp_da" / "_rejected" / f"{BAD_DAY}.parquet"


def _assert_each_day_tells_its_own_truth(root: Path, instance: dg.DagsterInstance) -> None:
    data = root / "data" / "CAISO"
    good = {_key(day) for day in GOOD_DAYS}
    # Downloads and extraction of every day succeeded; the bad day stops at its check.
    for asset in CHAIN[:2]:
        assert instance.get_materialized_partitions(dg.AssetKey.from_user_string(asset)) == {*good, _key(BAD_DAY)}, (
            asset
        )
    for asset in CHAIN[2:]:
        assert instance.get_materialized_partitions(dg.AssetKey.from_user_string(asset)) == good, asset

    # Each partition's metadata holds its own figures, read here from the files and DuckDB.
    parquet = _materialized_metadata(instance, "raw_parquet/lmp_da")
    stored = _materialized_metadata(instance, "warehouse/lmp_da")
    in_duckdb = _rows_by_day(root)
    for day, hours in GOOD_DAYS.items():
        frame = pl.read_parquet(data / "raw_parquet" / "lmp_da" / f"{day}.parquet")
        assert frame.height == hours * len(DEMO_NODES)
        assert parquet[_key(day)]["rows"] == frame.height
        assert stored[_key(day)]["rows"] == frame.height == in_duckdb[day]
    assert BAD_DAY not in in_duckdb
    assert not (data / "raw_parquet" / "lmp_da" / f"{BAD_DAY}.parquet").exists()
    assert not (data / "flattened" / "lmp_da" / f"{BAD_DAY}.parquet").exists()
    assert pl.read_parquet(_rejected(root))["lmp"].max() == ABSURD

    # The check's verdict is per market day, and the failing day's is readable as it stands.
    assert _check_status(instance, BOUNDS_CHECK) == {
        _key(FIRST): "SUCCEEDED",
        _key(date(2024, 3, 10)): "SUCCEEDED",
        _key(BAD_DAY): "FAILED",
    }
    failed = _latest_evaluation(instance, BOUNDS_CHECK, _key(BAD_DAY))
    details = failed.metadata["details"].value
    assert "1 row(s) outside" in failed.description
    assert "9999999" in details and "| interval_start |" in details
    assert failed.metadata["rejected_file"].value == str(_rejected(root))


def _latest_evaluation(
    instance: dg.DagsterInstance, check: dg.AssetCheckKey, partition: str
) -> dg.AssetCheckEvaluation:
    history = instance.event_log_storage.get_asset_check_execution_history(check, limit=50)
    for record in history:  # newest first
        if record.partition == partition and record.event is not None:
            evaluation = record.event.dagster_event.event_specific_data
            if isinstance(evaluation, dg.AssetCheckEvaluation):
                return evaluation
    raise AssertionError(f"no evaluation of {check} for {partition}")


def test_a_cli_range_with_one_bad_day_loads_the_good_days_and_names_the_bad_one(tmp_path):
    spoiled = {BAD_DAY: {"PRC_LMP": Faults(absurd_price=ABSURD)}}
    with FakeOasis(day_faults=spoiled) as oasis:
        ran = _materialize(
            tmp_path, oasis.base_url, "--partition-range", f"{_key(FIRST)}...{_key(LAST)}"
        )
        output = ran.stdout + ran.stderr
        assert ran.returncode != 0, output[-3000:]
        assert (
            f"{_key(BAD_DAY)} raw_parquet/lmp_da: blocking check failed: values_within_bounds"
            in output
        )
        for day in GOOD_DAYS:
            assert f"{_key(day)} raw_parquet/lmp_da" not in output

        with dg.DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
            _assert_each_day_tells_its_own_truth(tmp_path, instance)

        # The ISO corrects its publication; re-running only that day turns its check green.
        oasis.day_faults.clear()
        fixed = _materialize(
            tmp_path, oasis.base_url, "--partition", _key(BAD_DAY),
            config={"ops": {"market_day_stages": {"config": {"force_download": True}}}},
        )  # fmt: skip
        assert fixed.returncode == 0, (fixed.stdout + fixed.stderr)[-3000:]
    with dg.DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
        assert _check_status(instance, BOUNDS_CHECK)[_key(BAD_DAY)] == "SUCCEEDED"
        assert instance.get_materialized_partitions(dg.AssetKey.from_user_string("warehouse/lmp_da")) == {
            _key(day) for day in (*GOOD_DAYS, BAD_DAY)
        }
    assert _rows_by_day(tmp_path)[BAD_DAY] == 24 * len(DEMO_NODES)
    assert not _rejected(tmp_path).exists()


@pytest.mark.parametrize(
    ("start", "end", "problem"),
    [
        ("2024-03-09|NYISO", "2024-03-11|CAISO", "it spans several days and several ISOs"),
        ("2024-03-11|CAISO", "2024-03-09|CAISO", "its first date is after its last"),
    ],
)
def test_a_range_across_isos_or_reversed_is_refused_before_any_work(tmp_path, start, end, problem):
    with FakeOasis() as oasis:
        ran = _materialize(tmp_path, oasis.base_url, "--partition-range", f"{start}...{end}")
        assert oasis.requests == []
    output = ran.stdout + ran.stderr
    assert ran.returncode != 0
    assert f"partition range {start}...{end}: {problem}" in output
    assert "a range is the days of one ISO (2024-11-03|CAISO...2024-11-30|CAISO)" in output
    assert "IndexError" not in output
    assert not (tmp_path / "data").exists()


# -- the same range as a backfill launched from the UI -------------------------------------------

LAUNCH_BACKFILL = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}"""
BACKFILL_STATUS = """
query Status($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { status }
  }
}"""
FINISHED = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def _dagster_dev(root: Path, base_url: str) -> Iterator[str]:
    """`dagster dev` (webserver and daemon) on this project, as `tasks.py ui` starts it."""
    port = _free_port()
    env = _env(root, base_url)
    shutil.copy(
        PROJECT_ROOT / "power_assets" / "dagster_instance.yaml",
        root / "dagster_home" / "dagster.yaml",
    )
    dagster = Path(sys.executable).with_name("dagster")
    with (root / "dev.log").open("w") as log:
        process = subprocess.Popen(
            [str(dagster), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, (root / "dev.log").read_text()[-3000:]
            try:
                if httpx.get(f"{url}/server_info", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "dagster dev did not come up"
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _graphql(url: str, query: str, variables: dict) -> dict:
    answer = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables}, timeout=60)
    answer.raise_for_status()
    body = answer.json()
    assert "errors" not in body, body
    return body["data"]


def test_a_ui_backfill_with_one_bad_day_loads_the_good_days_and_names_the_bad_one(tmp_path):
    spoiled = {BAD_DAY: {"PRC_LMP": Faults(absurd_price=ABSURD)}}
    with FakeOasis(day_faults=spoiled) as oasis, _dagster_dev(tmp_path, oasis.base_url) as url:
        launched = _graphql(
            url,
            LAUNCH_BACKFILL,
            {
                "params": {
                    "assetSelection": [{"path": asset.split("/")} for asset in CHAIN],
                    "partitionNames": [_key(day) for day in (*GOOD_DAYS, BAD_DAY)],
                    "runConfigData": {
                        "resources": {"iso_http": {"config": {"min_spacing_s": {"CAISO": 0.0}}}}
                    },
                }
            },
        )["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        backfill_id = launched["backfillId"]
        deadline = time.monotonic() + 300
        while True:
            status = _graphql(url, BACKFILL_STATUS, {"id": backfill_id})
            status = status["partitionBackfillOrError"]["status"]
            if status in FINISHED:
                break
            assert time.monotonic() < deadline, f"backfill still {status}"
            time.sleep(1)
    assert status in {"COMPLETED_FAILED", "FAILED"}, status

    with dg.DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
        _assert_each_day_tells_its_own_truth(tmp_path, instance)
        runs = instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
        assert [run.status for run in runs] == [dg.DagsterRunStatus.FAILURE]
        failures = [
            entry.dagster_event.event_specific_data.error.message
            for entry in instance.all_logs(runs[0].run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
        ]
        assert len(failures) == 1
        assert f"{_key(BAD_DAY)} raw_parquet/lmp_da: blocking check failed" in failures[0]
