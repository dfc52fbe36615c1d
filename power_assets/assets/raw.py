"""Stage-1 assets: `raw_download__{dataset}` (responses as received) and `raw_csv__{dataset}`
(extracted files), one pair per dataset offered by any registered ISO.
"""

import dagster as dg

from power_assets.assets.partitions import MarketPartition, all_iso_ids, market_day_partitions
from power_assets.assets.runner import PartitionOutcome, run_partitions, stage_asset
from power_assets.io.http import IsoHttpClient
from power_assets.isos import IsoDefinition, registered_datasets
from power_assets.resources import ClockResource, StorageResource
from power_assets.stages.raw import download_day, extract_day


class DownloadConfig(dg.Config):
    force_download: bool = False
    """Fetch again even when a complete response for a closed window is already on disk."""


def build_raw_download(dataset_id: str) -> dg.AssetsDefinition:
    key = f"raw_download__{dataset_id}"

    @stage_asset(
        key,
        group="raw",
        deps=[],
        partitions_def=market_day_partitions(all_iso_ids()),
        kinds={"httpx"},
        description=f"Responses for {dataset_id} exactly as the ISO served them, with URL, fetch "
        "time, size and sha256 in a sidecar JSON; data/{ISO}/raw_downloads/.",
    )
    def raw_download(
        context: dg.AssetExecutionContext,
        config: DownloadConfig,
        storage: StorageResource,
        iso_http: IsoHttpClient,
        clock: ClockResource,
    ):
        layout = storage.layout()

        def work(iso: IsoDefinition, partition: MarketPartition) -> PartitionOutcome:
            result = download_day(
                iso, dataset_id, partition.day, iso_http, layout,
                force=config.force_download, log=context.log.warning, clock=clock.now,
            )  # fmt: skip
            return PartitionOutcome(
                {
                    "source": result.source,
                    "files": len(result.ok),
                    "fetched": result.fetched,
                    "reused": len(result.ok) - result.fetched,
                    "no_data_windows": len(result.no_data),
                    "bytes": sum(r.bytes or 0 for r in result.ok),
                    **result.coverage(),
                    "folder": str(layout.raw_downloads(iso.id, dataset_id, partition.day)),
                }
            )

        yield from run_partitions(context, key, work, dataset_id=dataset_id)

    return raw_download


def build_raw_csv(dataset_id: str) -> dg.AssetsDefinition:
    key = f"raw_csv__{dataset_id}"

    @stage_asset(
        key,
        group="raw",
        deps=[f"raw_download__{dataset_id}"],
        partitions_def=market_day_partitions(all_iso_ids()),
        description=f"{dataset_id} responses extracted (nested ZIP, gzip, tar) into "
        "data/{ISO}/csv_files/ with a metadata.json tracing every file to its response.",
    )
    def raw_csv(context: dg.AssetExecutionContext, storage: StorageResource):
        layout = storage.layout()

        def work(iso: IsoDefinition, partition: MarketPartition) -> PartitionOutcome:
            result = extract_day(iso.id, dataset_id, partition.day, layout)
            # Locations are only known once parsed: see raw_parquet__* for them.
            return PartitionOutcome(
                {
                    "files": len(result.files),
                    "rows": result.data_rows,
                    "bytes": result.total_bytes,
                    **result.coverage(),
                    "folder": str(result.folder),
                }
            )

        yield from run_partitions(context, key, work, dataset_id=dataset_id)

    return raw_csv


def raw_assets() -> list[dg.AssetsDefinition]:
    return [
        build(dataset_id)
        for dataset_id in registered_datasets()
        for build in (build_raw_download, build_raw_csv)
    ]
