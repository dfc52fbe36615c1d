"""Which materialization a check evaluation judged: the one Dagster name used that it does not export.

`dg.AssetCheckEvaluation` documents a `target_materialization_data` argument, but its type
(`AssetCheckEvaluationTargetMaterializationData`) is not exported from `dagster`, and no public
route records the same thing. Measured with Dagster 1.13 on a range run of three partitions:

- An evaluation without it, yielded right after its partition's `AssetMaterialization` in the same
  step, is stored with no target; the UI's per-partition check status
  (`AssetCheckPartitionInfo.is_current`: target storage id == the partition's latest
  materialization) then shows 3 of 3 partitions as not current. With it: 3 of 3 current.
- The public `AssetCheckResult` finds the target itself, but only for a run of one partition key:
  in a range run it resolves no partition, and a second result for the same check in one step is
  refused ("returned an output ... multiple times").

So the private import stays, here alone (`power_assets_tests/test_keys_in_one_place.py` allows it
in this module only); `power_assets_tests/test_per_partition_truth.py` proves the UI behaviour.
"""

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)


def latest_materialization_target(
    instance: dg.DagsterInstance, key: dg.AssetKey, partition: str
) -> AssetCheckEvaluationTargetMaterializationData | None:
    """The partition's latest materialization, as `AssetCheckEvaluation` names its target; None
    when the partition was never materialized."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition]), limit=1
    ).records
    if not records:
        return None
    return AssetCheckEvaluationTargetMaterializationData(
        storage_id=records[0].storage_id,
        run_id=records[0].run_id,
        timestamp=records[0].timestamp,
    )
