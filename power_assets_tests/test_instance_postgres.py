"""The Dagster instance on PostgreSQL (deploy/dagster.yaml) against the real server: a day's run
and its per-partition materializations and check results are stored there and seen by a second
instance (another process or host would load it the same way); the run queue and per-ISO limits
are the embedded default's."""

import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
import yaml

from power_assets.definitions import build_defs
from power_assets.demo.pjm_server import FakeDataMiner
from power_assets.io.http import IsoHttpClient
from power_assets.isos.pjm import SUBSCRIPTION_KEY_ENV
from power_assets.keys import daily_job_name, stage_keys
from power_assets.resources import StorageResource
from power_assets.store.warehouse import WarehouseResource

ROOT = Path(__file__).resolve().parents[1]
DEPLOYED = ROOT / "deploy" / "dagster.yaml"
EMBEDDED = ROOT / "power_assets" / "dagster_instance.yaml"
DAY = date(2024, 3, 10)


def test_the_deployed_instance_queues_runs_like_the_embedded_one():
    deployed, embedded = yaml.safe_load(DEPLOYED.read_text()), yaml.safe_load(EMBEDDED.read_text())
    assert deployed["concurrency"] == embedded["concurrency"]
    assert deployed["telemetry"] == {"enabled": False}
    assert deployed["storage"] == {
        "postgres": {"postgres_url": {"env": "POWER_ASSETS_DAGSTER_PG_URL"}}
    }


@pytest.mark.e2e
def test_runs_and_materializations_live_in_postgresql(postgres_url, tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOYED, home / "dagster.yaml")
    monkeypatch.setenv("POWER_ASSETS_DAGSTER_PG_URL", postgres_url)
    monkeypatch.setenv(SUBSCRIPTION_KEY_ENV, "instance-test-key")
    key = f"{DAY}|PJM"
    with FakeDataMiner(subscription_key="instance-test-key") as fake:
        defs = build_defs(
            resources={
                "storage": StorageResource(data_dir=str(tmp_path / "data")),
                "iso_http": IsoHttpClient(
                    base_urls={"PJM": fake.base_url}, min_spacing_s={"PJM": 0.0},
                    lock_dir=str(tmp_path / "locks"),
                ),
                "warehouse": WarehouseResource(database=str(tmp_path / "power.duckdb")),
            }
        )  # fmt: skip
        with dg.DagsterInstance.from_config(str(home)) as writer:
            assert type(writer.run_storage).__name__ == "PostgresRunStorage"
            result = defs.resolve_job_def(daily_job_name("PJM")).execute_in_process(
                partition_key=key, instance=writer, asset_selection=stage_keys(["lmp_da"]),
                raise_on_error=False,
            )  # fmt: skip
            assert result.success
            run_id = result.run_id
    # A second instance loaded from the same settings (as the UI, the daemon or a worker on
    # another host would) sees the run, the partition's materialization and its checks.
    with dg.DagsterInstance.from_config(str(home)) as reader:
        run = reader.get_run_by_id(run_id)
        assert run is not None and run.is_success
        materialized = reader.get_materialized_partitions(dg.AssetKey.from_user_string("warehouse/lmp_da"))
        assert materialized == {key}
        record = reader.fetch_materializations(
            dg.AssetRecordsFilter(
                asset_key=dg.AssetKey.from_user_string("raw_parquet/lmp_da"), asset_partitions=[key]
            ),
            limit=1,
        ).records[0]
        assert record.asset_materialization.metadata["rows"].value == 8 * 23
        check = dg.AssetCheckKey(dg.AssetKey.from_user_string("raw_parquet/lmp_da"), "no_duplicate_keys")
        infos = reader.event_log_storage.get_asset_check_partition_info([check])
        assert {i.partition_key: i.latest_execution_status.value for i in infos} == {
            key: "SUCCEEDED"
        }
        assert all(info.is_current for info in infos)
