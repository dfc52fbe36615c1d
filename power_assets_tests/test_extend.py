"""A user's own asset downstream of the stages gets the partition's data as polars frames."""

from datetime import date

import dagster as dg
import polars as pl
import pytest

from power_assets.definitions import build_defs
from power_assets.demo.pjm_server import FakeDataMiner
from power_assets.extend import STAGE_FRAMES, market_day_partitions
from power_assets.io.http import IsoHttpClient
from power_assets.isos.pjm import SUBSCRIPTION_KEY_ENV
from power_assets.keys import stage_keys
from power_assets.resources import StorageResource
from power_assets.store.warehouse import WarehouseResource

DAY = date(2024, 11, 3)  # 25 hours
KEY = f"{DAY}|PJM"
received: dict[str, pl.DataFrame] = {}


@dg.asset(
    partitions_def=market_day_partitions(),
    ins={
        "da": dg.AssetIn(["flattened", "lmp_da"], input_manager_key=STAGE_FRAMES),
        "rt": dg.AssetIn(["flattened", "lmp_rt_hourly"], input_manager_key=STAGE_FRAMES),
    },
)
def da_rt_spread(da: pl.DataFrame, rt: pl.DataFrame) -> dg.MaterializeResult:
    received.update(da=da, rt=rt)
    nodes = [c for c in da.columns if c in rt.columns and da.schema[c].is_numeric()]
    spread = da.select(nodes) - rt.select(nodes)
    return dg.MaterializeResult(metadata={"mean_spread": float(spread.mean().mean_horizontal()[0])})


@dg.asset(
    partitions_def=market_day_partitions(),
    ins={"raw": dg.AssetIn(["raw_download", "lmp_da"], input_manager_key=STAGE_FRAMES)},
)
def wants_raw_files(raw: pl.DataFrame) -> None: ...


@pytest.mark.e2e
def test_a_downstream_asset_receives_the_partitions_frames(tmp_path, monkeypatch):
    monkeypatch.setenv(SUBSCRIPTION_KEY_ENV, "extend-key")
    received.clear()
    with FakeDataMiner(subscription_key="extend-key") as fake, dg.instance_for_test() as inst:
        defs = build_defs(
            resources={
                "storage": StorageResource(data_dir=str(tmp_path / "data")),
                "iso_http": IsoHttpClient(
                    base_urls={"PJM": fake.base_url}, min_spacing_s={"PJM": 0.0},
                    lock_dir=str(tmp_path / "locks"),
                ),
                "warehouse": WarehouseResource(database=str(tmp_path / "power.duckdb")),
            },
            assets=[da_rt_spread, wants_raw_files],
        )  # fmt: skip
        job = defs.resolve_implicit_global_asset_job_def()
        stages = stage_keys(
            ["lmp_da", "lmp_rt_hourly"], ("raw_download", "raw_csv", "raw_parquet", "flattened")
        )
        assert job.execute_in_process(
            partition_key=KEY, instance=inst, asset_selection=stages, raise_on_error=False
        ).success
        # its own run, once the stages have the day (see power_assets.extend)
        result = job.execute_in_process(
            partition_key=KEY, instance=inst, asset_selection=[da_rt_spread.key],
            raise_on_error=False,
        )  # fmt: skip
        assert result.success
        refused = job.execute_in_process(
            partition_key=KEY, instance=inst, asset_selection=[wants_raw_files.key],
            raise_on_error=False,
        )  # fmt: skip
    folder = tmp_path / "data" / "PJM" / "flattened"
    assert received["da"].equals(pl.read_parquet(folder / "lmp_da" / f"{DAY}.parquet"))
    assert received["rt"].equals(pl.read_parquet(folder / "lmp_rt_hourly" / f"{DAY}.parquet"))
    assert received["da"].height == 25
    (event,) = [
        e for e in result.get_asset_materialization_events() if e.asset_key == da_rt_spread.key
    ]
    assert event.partition == KEY
    assert not refused.success
    failure = next(e for e in refused.all_events if e.is_step_failure)
    assert "raw_download/lmp_da is not a table file" in str(failure.step_failure_data.error)
