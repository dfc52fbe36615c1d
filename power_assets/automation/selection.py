"""Which assets an automated run of one ISO materializes, and the jobs that hold them.

Every stage asset spans all ISOs (the partition picks one), so a job per ISO and purpose is only an
asset selection; the run's partition key (`{date}|{ISO}`) chooses the ISO.
"""

from collections.abc import Iterable

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from power_assets.isos import IsoDefinition

STAGES = ("raw_download", "raw_csv", "raw_parquet", "flattened", "warehouse")
# Run tag naming the ISO a run talks to; dagster.yaml limits runs per value of it.
ISO_TAG = "power_assets/iso"
TRIGGER_TAG = "power_assets/trigger"


def stage_keys(datasets: Iterable[str]) -> list[dg.AssetKey]:
    """Every stage asset (download through DuckDB) of these datasets."""
    return [dg.AssetKey(f"{stage}__{dataset}") for dataset in datasets for stage in STAGES]


def realtime_combined_keys() -> list[dg.AssetKey]:
    """Daily combined products that carry real-time prices (they also read today's DA + AS)."""
    return [dg.AssetKey("combined__da_as_rt_hourly"), dg.AssetKey("combined__da_as_rt_native")]


def realtime_job_name(iso: IsoDefinition) -> str:
    return f"realtime__{iso.id}"


def day_ahead_job_name(iso: IsoDefinition) -> str:
    return f"day_ahead__{iso.id}"


def realtime_sensor_name(iso: IsoDefinition) -> str:
    return f"realtime__{iso.id}"


def _iso_job(
    name: str, iso: IsoDefinition, keys: list[dg.AssetKey], description: str, **options
) -> UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        name,
        selection=dg.AssetSelection.assets(*keys),
        description=description,
        tags={ISO_TAG: iso.id},
        **options,
    )


def realtime_job(iso: IsoDefinition) -> UnresolvedAssetJobDefinition:
    assert iso.realtime is not None
    keys = stage_keys(iso.realtime.datasets)
    if iso.combined.real_time in iso.realtime.datasets:
        keys += realtime_combined_keys()
    return _iso_job(
        realtime_job_name(iso),
        iso,
        keys,
        f"{iso.id} real-time datasets for today's market day, every stage; requested by the "
        "realtime sensor whenever the ISO publishes a new interval.",
        # One process: a five-minute update is small, and a process per step would spend more
        # time importing than working (tick to queryable ~15 s instead of ~35 s; see bench/).
        config={"execution": {"config": {"in_process": {}}}},
    )


def day_ahead_job(iso: IsoDefinition) -> UnresolvedAssetJobDefinition:
    assert iso.day_ahead is not None
    keys = stage_keys(iso.day_ahead.datasets)
    if iso.combined.ancillary in (None, *iso.day_ahead.datasets):
        # ISO-NE's AS prices are real-time reserve prices: its DA+AS file cannot exist the day before.
        keys.append(dg.AssetKey("combined__da_as_hourly"))
    return _iso_job(
        day_ahead_job_name(iso),
        iso,
        keys,
        f"{iso.id} day-ahead datasets for tomorrow, every stage; run by the day-ahead schedule "
        "after the market publishes.",
    )


def automation_jobs(isos: Iterable[IsoDefinition]) -> list[UnresolvedAssetJobDefinition]:
    jobs = []
    for iso in isos:
        if iso.realtime is not None:
            jobs.append(realtime_job(iso))
        if iso.day_ahead is not None:
            jobs.append(day_ahead_job(iso))
    return jobs
