"""Which assets a run of one ISO materializes, and the jobs that hold them.

Every stage asset spans all ISOs (the partition picks one), so a job per ISO and purpose is only an
asset selection of the datasets that ISO offers; the run's partition key (`{date}|{ISO}`) chooses
the day. Each job carries the ISO's tag, so run limits apply and a partition of another ISO is
refused before any work starts.
"""

import inspect
from collections.abc import Iterable

import dagster as dg

from power_assets import keys
from power_assets.isos import DATASET_IDS, IsoDefinition
from power_assets.keys import ISO_TAG, TRIGGER_TAG, combined_key, stage_keys

__all__ = ["ISO_TAG", "TRIGGER_TAG", "AssetJob", "stage_keys"]

# What `dg.define_asset_job` returns: a job whose assets are resolved when `Definitions` loads.
# Dagster exports the function but not the name of its return type, so the type is read off the
# public function's signature instead of being imported from `dagster._core`.
AssetJob = inspect.signature(dg.define_asset_job).return_annotation


def realtime_combined_keys() -> list[dg.AssetKey]:
    """Daily combined products that carry real-time prices (they also read today's DA + AS)."""
    return [combined_key("da_as_rt_hourly"), combined_key("da_as_rt_native")]


def realtime_job_name(iso: IsoDefinition) -> str:
    return keys.realtime_job_name(iso.id)


def day_ahead_job_name(iso: IsoDefinition) -> str:
    return keys.day_ahead_job_name(iso.id)


def realtime_sensor_name(iso: IsoDefinition) -> str:
    return keys.realtime_sensor_name(iso.id)


def daily_keys(iso: IsoDefinition) -> list[dg.AssetKey]:
    """Every market-day asset that can hold data of this ISO: its datasets' stages, combined files."""
    offered = [dataset for dataset in DATASET_IDS if dataset in iso.datasets]
    return [*stage_keys(offered), *(combined_key(p) for p in keys.COMBINED_PRODUCTS)]


def daily_job(iso: IsoDefinition) -> AssetJob:
    return _iso_job(
        keys.daily_job_name(iso.id),
        iso,
        daily_keys(iso),
        f"Every market-day stage of {iso.id}'s datasets, from download to DuckDB and the combined "
        "daily files, for the selected days (one day, or a range as one run).",
    )


def _iso_job(
    name: str, iso: IsoDefinition, asset_keys: list[dg.AssetKey], description: str, **options
) -> AssetJob:
    return dg.define_asset_job(
        name,
        selection=dg.AssetSelection.assets(*asset_keys),
        description=description,
        tags={ISO_TAG: iso.id},
        **options,
    )


def realtime_job(iso: IsoDefinition) -> AssetJob:
    assert iso.realtime is not None
    selected = stage_keys(iso.realtime.datasets)
    if iso.combined.real_time in iso.realtime.datasets:
        selected += realtime_combined_keys()
    return _iso_job(
        realtime_job_name(iso),
        iso,
        selected,
        f"{iso.id} real-time datasets for today's market day, every stage; requested by the "
        "realtime sensor whenever the ISO publishes a new interval.",
        # One process, whatever executor the other jobs use (POWER_ASSETS_EXECUTOR): a five-minute
        # update is small and latency-bound; a subprocess, a Celery task or a pod would spend more
        # time starting than working (see bench/realtime_latency.py).
        executor_def=dg.in_process_executor,
    )


def day_ahead_job(iso: IsoDefinition) -> AssetJob:
    assert iso.day_ahead is not None
    selected = stage_keys(iso.day_ahead.datasets)
    if iso.combined.ancillary in (None, *iso.day_ahead.datasets):
        # ISO-NE's AS prices are real-time reserve prices: its DA+AS file cannot exist the day before.
        selected.append(combined_key("da_as_hourly"))
    return _iso_job(
        day_ahead_job_name(iso),
        iso,
        selected,
        f"{iso.id} day-ahead datasets for tomorrow, every stage; run by the day-ahead schedule "
        "after the market publishes.",
    )


def automation_jobs(isos: Iterable[IsoDefinition]) -> list[AssetJob]:
    jobs = []
    for iso in isos:
        jobs.append(daily_job(iso))
        if iso.realtime is not None:
            jobs.append(realtime_job(iso))
        if iso.day_ahead is not None:
            jobs.append(day_ahead_job(iso))
    return jobs
