"""The Dagster instance settings shipped in the repo: per-ISO run limits, and no pool slots."""

import shutil
from pathlib import Path

import dagster as dg

from power_assets.automation.selection import ISO_TAG
from power_assets.definitions import build_defs

TEMPLATE = Path(__file__).resolve().parents[1] / "power_assets" / "dagster_instance.yaml"


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
