"""`power-assets backfill ISO START END`: a range of market days, run in this process.

What belongs here: turning checked arguments into runs and running them one after another, each
(ISO, chunk of days) one run of the ISO's daily job (`daily_job_name(iso)`) in the project's
instance, restricted to the chosen datasets and stages and tagged as a single-run backfill of its
range (`dagster/asset_partition_range_start|end`, what a UI backfill gives a run), so the UI shows
it as any other. The arguments are checked by `scale/backfill.py`'s parsers (the chunked,
multi-process launcher shares them); what the runs show while they go is `progress.py`'s.

The runs execute in this process (Dagster's in-process executor, whatever POWER_ASSETS_EXECUTOR
says): no process per step re-importing the definitions. Like `dagster asset materialize`, they
start at once rather than through the instance's run queue; use the chunked launcher
(`python -m power_assets.scale.backfill`) to spread big ranges over Celery workers.
"""

import time
import uuid
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from power_assets.cli.progress import ChunkProgress, Display, summarize
from power_assets.scale.backfill import (
    Chunk,
    parse_datasets,
    parse_days,
    parse_isos,
    parse_stages,
    selection,
    split_chunks,
)

if TYPE_CHECKING:
    import dagster as dg

# Dagster's tags of a run that covers a range of partitions (as a single-run backfill's runs do).
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
TRIGGER = "cli_backfill"  # the value of keys.TRIGGER_TAG on these runs
# The console logger would print every DEBUG event of the run; the progress display replaces it.
# The instance still stores every event, so the UI shows the whole run.
INTERRUPTED = 130  # the shell's status for a command ended by Ctrl-C
SILENT_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@dataclass(frozen=True)
class BackfillRequest:
    isos: tuple[str, ...]
    first: date
    last: date
    datasets: tuple[str, ...] | None  # None: every dataset, and the combined daily files
    stages: tuple[str, ...] | None  # None: every stage
    chunk_days: int
    force_download: bool = False

    def describe(self) -> str:
        what = ", ".join(self.datasets) if self.datasets else "every dataset"
        if self.stages:
            what += f"; stages {', '.join(self.stages)}"
        return f"{','.join(self.isos)} {self.first}..{self.last} ({what})"


def parse_request(
    iso_text: str,
    start: str,
    end: str,
    datasets: list[str] | None,
    stages: list[str] | None,
    chunk_days: int,
    force_download: bool = False,
) -> BackfillRequest:
    """The backfill asked for; `scale.backfill.UsageError` (one line naming the valid values)
    for an unknown ISO, dataset or stage, or a date outside the partitions."""
    isos = parse_isos(iso_text)
    first, last = parse_days(start, end)
    return BackfillRequest(
        isos, first, last, parse_datasets(datasets, isos), parse_stages(stages), chunk_days,
        force_download,
    )  # fmt: skip


def asset_keys(
    iso: str, datasets: tuple[str, ...] | None, stages: tuple[str, ...] | None
) -> list["dg.AssetKey"]:
    """The keys `scale.backfill.selection` names (one selection rule for both launchers)."""
    from power_assets.isos import DATASET_IDS
    from power_assets.keys import COMBINED_PRODUCTS, combined_key, stage_keys

    known = [*stage_keys(DATASET_IDS), *(combined_key(p) for p in COMBINED_PRODUCTS)]
    by_name = {key.to_user_string(): key for key in known}
    return [by_name[name] for name in selection(iso, datasets, stages)]


def run_tags(chunk: Chunk) -> dict[str, str]:
    from power_assets.keys import TRIGGER_TAG, partition_range

    # partition_range refuses a range that is not one ISO's days; its ends are the keys.
    start, end = partition_range(chunk.iso, chunk.first, chunk.last).split("...")
    return {RANGE_START_TAG: start, RANGE_END_TAG: end, TRIGGER_TAG: TRIGGER}


def run_config(force_download: bool) -> dict:
    from power_assets.keys import FORCE_DOWNLOAD_RUN_CONFIG

    return {**SILENT_CONSOLE, **(FORCE_DOWNLOAD_RUN_CONFIG if force_download else {})}


def run_backfill(
    request: BackfillRequest, instance: "dg.DagsterInstance", display: Display | None = None
) -> int:
    """Every chunk as a run in `instance`, in order; 0 when every partition succeeded, 1 when
    any failed (or a run failed before its partitions), 130 when interrupted (Ctrl-C ends the
    run in progress as failed, and no further chunk starts)."""
    from datetime import timedelta

    from power_assets.definitions import defs
    from power_assets.keys import daily_job_name, partition_key

    display = display or Display()
    chunks = split_chunks(request.isos, request.first, request.last, request.chunk_days)
    display.line(
        f"backfill {request.describe()}: {len(chunks)} run(s) of up to {request.chunk_days} "
        f"day(s), in this process, instance {instance.root_directory}"
    )
    began, done = time.monotonic(), []
    for chunk in chunks:
        keys = asset_keys(chunk.iso, request.datasets, request.stages)
        days = [chunk.first + timedelta(days=k) for k in range(chunk.days)]
        progress = ChunkProgress(
            str(chunk),
            [key.to_user_string() for key in keys],
            [str(partition_key(day, chunk.iso)) for day in days],
            display,
            run_id=str(uuid.uuid4()),
        )
        job = defs.resolve_job_def(daily_job_name(chunk.iso))
        display.line(
            f"{chunk}: run {progress.run_id} of {job.name}, {progress.planned} (asset, partition) steps"
        )
        # Dagster calls the listener as it stores each event of the run, in this thread.
        instance.add_event_listener(progress.run_id, progress.on_event)
        done.append(progress)
        display.status(progress.line())
        try:
            result = job.execute_in_process(
                run_config=run_config(request.force_download),
                instance=instance,
                asset_selection=keys,
                run_id=progress.run_id,
                tags=run_tags(chunk),
                raise_on_error=False,
            )
        except KeyboardInterrupt:
            progress.interrupted = True
            progress.finish(False)
        else:
            progress.finish(result.success)
        if progress.interrupted:
            left = chunks[len(done) :]
            display.line(
                f"interrupted: run {progress.run_id} stopped"
                + (f"; not started: {', '.join(str(c) for c in left)}" if left else "")
            )
            summarize(done, display, time.monotonic() - began)
            return INTERRUPTED
    return 0 if summarize(done, display, time.monotonic() - began) else 1
