"""DuckDB loading assets: `warehouse__{dataset}` replaces one market day of a dataset in the `lmp`
or `as_price` table from its standardized parquet, idempotently.
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from power_assets.assets.partitions import MarketPartition, all_iso_ids, market_day_partitions
from power_assets.assets.runner import PartitionOutcome, run_partitions, stage_asset
from power_assets.isos import IsoDefinition, registered_datasets
from power_assets.resources import StorageResource
from power_assets.stages.standardize import coverage, read_standardized
from power_assets.store.warehouse import TABLES, load_partition, writer

# Serializes DuckDB writers inside one Dagster deployment; the file lock in store.warehouse also
# covers processes outside it.
DUCKDB_POOL = "duckdb_writer"


def _iso(instant) -> str:
    return instant.isoformat() if instant is not None else "none"


def build_warehouse(dataset_id: str) -> dg.AssetsDefinition:
    key = f"warehouse__{dataset_id}"

    @stage_asset(
        key,
        group="warehouse",
        deps=[f"raw_parquet__{dataset_id}"],
        partitions_def=market_day_partitions(all_iso_ids()),
        pool=DUCKDB_POOL,
        kinds={"duckdb"},
        description=f"{dataset_id} rows in the DuckDB store (table lmp or as_price), replaced per "
        "market day so re-materializing never duplicates a row.",
    )
    def warehouse(
        context: dg.AssetExecutionContext, storage: StorageResource, warehouse: DuckDBResource
    ):
        layout = storage.layout()
        with writer(warehouse) as con:

            def work(iso: IsoDefinition, partition: MarketPartition) -> PartitionOutcome:
                spec = iso.dataset(dataset_id)
                source = layout.raw_parquet(iso.id, dataset_id, partition.day)
                stats = coverage(read_standardized(source), spec.kind)
                report = load_partition(
                    con,
                    spec.kind,
                    source,
                    iso=iso.id,
                    dataset=dataset_id,
                    market_date=partition.day,
                )
                return PartitionOutcome(
                    {
                        "table": TABLES[spec.kind].name,
                        "rows": report.inserted,
                        "rows_replaced": report.deleted,
                        "locations": stats["locations"],
                        "first_interval": _iso(stats["first_interval"]),
                        "last_interval": _iso(stats["last_interval"]),
                        "database": str(warehouse.database),
                    }
                )

            yield from run_partitions(context, key, work, dataset_id=dataset_id)

    return warehouse


def warehouse_assets() -> list[dg.AssetsDefinition]:
    return [build_warehouse(dataset_id) for dataset_id in registered_datasets()]
