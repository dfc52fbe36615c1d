"""Stage-1 steps: `raw_download/{dataset}` (responses as received) and `raw_csv/{dataset}`
(extracted files), one pair per dataset offered by any registered ISO.
"""

from power_assets.assets.steps import Step, StepEnv, StepOutcome, dataset_stage
from power_assets.isos import IsoDefinition, registered_datasets
from power_assets.keys import MarketPartition
from power_assets.stages.raw import download_day, extract_day


def raw_download_step(dataset_id: str) -> Step:
    def work(env: StepEnv, iso: IsoDefinition, partition: MarketPartition) -> StepOutcome:
        assert env.iso_http is not None
        result = download_day(
            iso, dataset_id, partition.day, env.iso_http, env.layout,
            force=env.force_download, log=env.log.warning, clock=env.now,
            fetch_kept=env.mirror.pull if env.mirror is not None else None,
        )  # fmt: skip
        return StepOutcome(
            {
                "source": result.source,
                "files": len(result.ok),
                "fetched": result.fetched,
                "reused": len(result.ok) - result.fetched,
                "no_data_windows": len(result.no_data),
                "bytes": sum(r.bytes or 0 for r in result.ok),
                **result.coverage(),
                "folder": str(env.layout.raw_downloads(iso.id, dataset_id, partition.day)),
            }
        )

    return dataset_stage(
        "raw_download",
        dataset_id,
        reads=None,
        description=f"Responses for {dataset_id} exactly as the ISO served them, with URL, fetch "
        "time, size and sha256 in a sidecar JSON; data/{ISO}/raw_downloads/.",
        work=work,
        kinds=frozenset({"httpx"}),
    )


def raw_csv_step(dataset_id: str) -> Step:
    def work(env: StepEnv, iso: IsoDefinition, partition: MarketPartition) -> StepOutcome:
        result = extract_day(iso.id, dataset_id, partition.day, env.layout, spans=iso)
        # Locations are only known once parsed: see raw_parquet/* for them.
        return StepOutcome(
            {
                "files": len(result.files),
                "rows": result.data_rows,
                "bytes": result.total_bytes,
                **result.coverage(),
                "folder": str(result.folder),
            }
        )

    return dataset_stage(
        "raw_csv",
        dataset_id,
        reads="raw_download",
        description=f"{dataset_id} responses extracted (nested ZIP, gzip, tar) into "
        "data/{ISO}/csv_files/ with a metadata.json tracing every file to its response.",
        work=work,
    )


def raw_steps() -> list[Step]:
    return [
        build(dataset_id)
        for dataset_id in registered_datasets()
        for build in (raw_download_step, raw_csv_step)
    ]
