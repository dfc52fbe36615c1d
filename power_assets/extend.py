"""Your own assets downstream of any stage, receiving the partition's data as a polars frame.

The stages write their results as files (one parquet per ISO and market day), not through an IO
manager, so a downstream asset reads them with the `stage_frames` input manager, which finds the
partition's file of the upstream asset where the data lives (a folder, or the object store):

    import dagster as dg
    import polars as pl
    from power_assets.definitions import build_defs
    from power_assets.extend import STAGE_FRAMES, market_day_partitions

    @dg.asset(
        partitions_def=market_day_partitions(),
        ins={
            "da": dg.AssetIn(["flattened", "lmp_da"], input_manager_key=STAGE_FRAMES),
            "rt": dg.AssetIn(["flattened", "lmp_rt_hourly"], input_manager_key=STAGE_FRAMES),
        },
    )
    def da_rt_spread(da: pl.DataFrame, rt: pl.DataFrame) -> dg.MaterializeResult:
        ...

    defs = build_defs(assets=[da_rt_spread])

Materialize such an asset in a run of its own, after the stages it reads (a schedule, a sensor, an
automation condition, or by hand): the stages record each partition's materialization themselves
rather than through op outputs, so in the same run Dagster would skip the downstream step.

Frames come from `raw_parquet/*` (the standardized long table), `flattened/*` (one column per
location) and `combined/*` (the daily combined files). The raw stages are folders of files as
received and `warehouse/*` is a table (read it with `open_warehouse()`): asking for those is an
error saying so. Why not dagster-polars' IO managers: they write and read their own paths
(`base_dir/asset_key/partition.parquet`), while these files live where the stages put them.
"""

import functools
from pathlib import Path

import dagster as dg
import polars as pl

from power_assets.assets.market_day import market_day_steps
from power_assets.assets.partitions import all_iso_ids
from power_assets.assets.partitions import market_day_partitions as _partitions
from power_assets.assets.steps import Step
from power_assets.errors import PowerAssetsError
from power_assets.isos import get_iso
from power_assets.keys import parse_partition_key
from power_assets.resources import StorageResource

# The resource key of the input manager (`dg.AssetIn(..., input_manager_key=STAGE_FRAMES)`).
STAGE_FRAMES = "stage_frames"


def market_day_partitions() -> dg.MultiPartitionsDefinition:
    """The stages' partitions (market day x ISO): a downstream asset uses the same ones."""
    return _partitions(all_iso_ids())


class StageFrameLoader(dg.ConfigurableIOManager):
    """Loads an upstream stage's file for the downstream asset's partition as a polars frame.
    It only reads: the stages write their own files."""

    storage: dg.ResourceDependency[StorageResource]

    def handle_output(self, context: dg.OutputContext, obj: object) -> None:
        raise PowerAssetsError(
            f"{STAGE_FRAMES} only reads the stages' files; give {context.asset_key.to_user_string()} "
            "another IO manager to store what it returns"
        )

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        upstream = context.asset_key
        partition = parse_partition_key(context.asset_partition_key)
        path = _stage_file(self.storage, upstream, partition)
        mirror = self.storage.mirror()
        if mirror is not None:
            mirror.pull([path])
        if not path.is_file():
            raise PowerAssetsError(
                f"{upstream.to_user_string()} has no file for {partition.key}: materialize it "
                "for that partition first"
            )
        return pl.read_parquet(path)


@functools.cache
def _steps_by_key() -> dict[dg.AssetKey, Step]:
    return {step.key: step for step in market_day_steps()}


def _stage_file(storage: StorageResource, key: dg.AssetKey, partition) -> Path:
    step = _steps_by_key().get(key)
    name = key.to_user_string()
    if step is None:
        raise PowerAssetsError(f"{name} is not a market-day stage of power_assets")
    files = step.writes(storage.layout(), get_iso(partition.iso), partition)
    if not files or files[0].suffix != ".parquet":
        raise PowerAssetsError(
            f"{name} is not a table file (raw stages are folders of files as received, "
            "warehouse/* is a table: read it with power_assets.open_warehouse())"
        )
    return files[0]  # the published file (the second, when there is one, is where rejects go)
