"""The Dagster instance settings shipped in the repo: per-ISO run limits, and no pool slots."""

import importlib.util
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dagster as dg

from power_assets.automation.selection import ISO_TAG
from power_assets.definitions import build_defs

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = PROJECT_ROOT / "power_assets" / "dagster_instance.yaml"


def _instance(tmp_path: Path) -> dg.DagsterInstance:
    shutil.copy(TEMPLATE, tmp_path / "dagster.yaml")
    return dg.DagsterInstance.from_config(str(tmp_path))


def test_runs_of_one_iso_are_limited_while_different_isos_run_in_parallel(tmp_path):
    with _instance(tmp_path) as instance:
        config = instance.get_concurrency_config()
        limits = config.run_queue_config.tag_concurrency_limits
        per_iso = [limit for limit in limits if limit["key"] == ISO_TAG]
        assert per_iso == [
            {"key": ISO_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 2}
        ]
        assert config.run_queue_config.max_concurrent_runs >= 4  # one per ISO at least


def test_every_automated_job_tags_its_runs_with_the_iso():
    defs = build_defs()
    for job in defs.get_repository_def().get_all_jobs():
        if job.name.startswith(("realtime__", "day_ahead__", "daily_pipeline__")):
            assert job.tags[ISO_TAG] == job.name.split("__")[1]


def test_no_asset_waits_for_a_pool_slot_a_dead_run_could_hold():
    # DuckDB writers take the database's file lock for one transaction instead (store/warehouse):
    # a killed process releases a file lock, while Dagster keeps a dead run's pool slot.
    graph = build_defs().resolve_asset_graph()
    assert all(not graph.get(key).pools for key in graph.get_all_asset_keys())


# -- tasks.py creates the instance's storage before anything runs --------------------------------


def _tasks_module():
    spec = importlib.util.spec_from_file_location("tasks", PROJECT_ROOT / "tasks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tasks_creates_the_instance_storage_so_two_first_runs_cannot_race(tmp_path):
    home = tmp_path / "home"
    tasks = _tasks_module()
    # Two tasks.py commands starting together on a fresh home: both prepare it, once.
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda _: tasks.prepare_dagster_home(home, Path(sys.executable)), range(2)))
    for database in ("history/runs.db", "history/runs/index.db", "schedules/schedules.db"):
        assert (home / database).is_file(), database
    assert (home / "dagster.yaml").read_text() == TEMPLATE.read_text()

    # Then two first runs at once (partitions that need no network) both succeed.
    dagster = Path(sys.executable).with_name("dagster")
    env = {**os.environ, "DAGSTER_HOME": str(home), "POWER_ASSETS_DATA_DIR": str(tmp_path / "d")}
    runs = [
        subprocess.Popen(
            [
                str(dagster),
                "asset",
                "materialize",
                "-m",
                "power_assets.definitions",
                "--select",
                "raw_download/as_rt",
                "--partition",
                f"2024-03-1{n}|CAISO",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for n in (0, 1)
    ]
    outputs = [run.communicate(timeout=180)[0].decode() for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs[0][-2000:] + outputs[1][-2000:]
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert len(instance.get_runs()) == 2
