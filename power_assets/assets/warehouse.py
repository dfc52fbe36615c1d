"""Warehouse loading steps: `warehouse/{dataset}` replaces one market day of a dataset in its table
(`lmp`, `as_price`, `load`, ...) from its standardized parquet, idempotently, in one transaction:
in the DuckDB file by default, in PostgreSQL when `warehouse.url` is set (`store.postgres`).
"""

from power_assets.assets import pages
from power_assets.assets.steps import Step, StepEnv, StepOutcome, dataset_stage
from power_assets.isos import IsoDefinition, registered_datasets
from power_assets.keys import MarketPartition, stage_key
from power_assets.stages.standardize import coverage, read_standardized
from power_assets.store import postgres
from power_assets.store.warehouse import (
    TABLES,
    WarehouseResource,
    database_path,
    load_partition,
    writer,
)


def _iso(instant) -> str:
    return instant.isoformat() if instant is not None else "none"


def warehouse_step(dataset_id: str) -> Step:
    def work(env: StepEnv, iso: IsoDefinition, partition: MarketPartition) -> StepOutcome:
        assert env.warehouse is not None
        spec = iso.dataset(dataset_id)
        source = env.layout.raw_parquet(iso.id, dataset_id, partition.day)
        stats = coverage(read_standardized(source), spec.kind)
        url = env.warehouse.postgres_url() if isinstance(env.warehouse, WarehouseResource) else ""
        if url:
            with postgres.connect(url) as con:
                postgres.ensure_schema(con)
                report = postgres.load_partition(
                    con, spec.kind, source, iso=iso.id, dataset=dataset_id,
                    market_date=partition.day,
                )  # fmt: skip
            where = postgres.redacted(url)
        else:
            # The file is held only for this partition's transaction, so other writers (and
            # readers) get their turn between partitions of a long backfill.
            for_what = f"{stage_key('warehouse', dataset_id).to_user_string()} {partition.key}"
            with writer(env.warehouse, for_what=for_what, log=env.log.info) as con:
                report = load_partition(
                    con, spec.kind, source, iso=iso.id, dataset=dataset_id,
                    market_date=partition.day,
                )  # fmt: skip
            where = str(database_path(env.warehouse))
        return StepOutcome(
            {
                "table": TABLES[spec.kind].name,
                "rows": report.inserted,
                "rows_replaced": report.deleted,
                "locations": stats["locations"],
                "first_interval": _iso(stats["first_interval"]),
                "last_interval": _iso(stats["last_interval"]),
                "database": where,
                **pages.warehouse_page(report.inserted, spec.kind),
            }
        )

    return dataset_stage(
        "warehouse",
        dataset_id,
        reads="raw_parquet",
        description=f"{dataset_id} rows in the DuckDB store, replaced per market day so "
        "re-materializing never duplicates a row.",
        work=work,
        kinds=frozenset({"duckdb"}),
    )


def warehouse_steps() -> list[Step]:
    return [warehouse_step(dataset_id) for dataset_id in registered_datasets()]
