"""The unit of work the runner isolates: one asset's work for one (ISO, market day).

A `Step` is one asset of the graph (e.g. `raw_parquet/lmp_da`): which ISOs it applies to, which
assets upstream of it must have succeeded for a partition before it runs, the checks its output
must pass, and a `work` function that does one partition. `work` returns a `StepOutcome`: the
partition's own metadata, what each check found, and (for stages with blocking checks) how to
publish the result only once the checks pass, or set it aside when they fail.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from power_assets.io.files import atomic_write_parquet
from power_assets.io.http import IsoHttpClient
from power_assets.io.objects import ObjectMirror
from power_assets.io.pg_leases import PartitionLeases
from power_assets.isos import IsoDefinition
from power_assets.isos.base import NO_SECRETS, Secrets
from power_assets.keys import MarketPartition, asset_group, check_key, stage_key
from power_assets.layout import Layout
from power_assets.stages.raw import shared_files_of

PartitionFiles = Callable[[Layout, IsoDefinition, MarketPartition], tuple[Path, ...]]
LISTED_ROWS = 20  # offending rows shown in a check's table; the count is always complete


@dataclass(frozen=True)
class CheckRule:
    name: str
    description: str
    blocking: bool
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR


@dataclass(frozen=True)
class Finding:
    """What one check found in one partition: a count, a one-line verdict, the first offenders."""

    problems: int
    summary: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    def markdown(self) -> str:
        """The offenders as a short table (at most LISTED_ROWS rows), readable without JSON."""
        if not self.rows:
            return self.summary
        columns = list(self.rows[0])
        lines = [
            self.summary,
            "",
            "| " + " | ".join(columns) + " |",
            "|" + "---|" * len(columns),
        ]
        lines += [
            "| " + " | ".join(_cell(row.get(c)) for c in columns) + " |"
            for row in self.rows[:LISTED_ROWS]
        ]
        if self.problems > LISTED_ROWS and len(self.rows) >= LISTED_ROWS:
            lines.append(f"\n(first {LISTED_ROWS} shown)")
        return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, datetime):
        text = value.isoformat()
    elif isinstance(value, list | tuple):
        text = ", ".join(_cell(v) for v in value)
    else:
        text = "" if value is None else str(value)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= 200 else text[:197] + "..."


@dataclass
class StepOutcome:
    metadata: dict[str, Any]
    findings: dict[str, Finding] = field(default_factory=dict)
    # Make the result visible to readers; called only when no blocking check failed. Stages
    # without checks write directly and leave this None.
    publish: Callable[[], None] | None = None
    # Keep a result that failed a blocking check where readers do not look; returns its path.
    set_aside: Callable[[], Path] | None = None


def published_once_checked(
    frame: pl.DataFrame, final: Path, rejected: Path
) -> dict[str, Callable[..., Any]]:
    """`publish` and `set_aside` for a table written only once its blocking checks pass: to
    `final` (and any older rejected copy removed), or else to `rejected` beside it."""

    def publish() -> None:
        atomic_write_parquet(final, frame)
        rejected.unlink(missing_ok=True)

    def set_aside() -> Path:
        atomic_write_parquet(rejected, frame)
        return rejected

    return {"publish": publish, "set_aside": set_aside}


@dataclass(frozen=True)
class StepEnv:
    """What a step's work may use: the run's resources and settings."""

    layout: Layout
    now: Callable[[], datetime]
    log: Any  # the run's logger
    iso_http: IsoHttpClient | None = None
    warehouse: DuckDBResource | None = None
    force_download: bool = False
    # The object store behind `layout` (None: the layout's folder is where the data lives), and
    # the leases that keep two workers off one partition's files meanwhile.
    mirror: ObjectMirror | None = None
    leases: PartitionLeases | None = None

    def secrets_for(self, iso: IsoDefinition) -> Secrets:
        """The ISO's account secrets, from the run's HTTP client resource."""
        return self.iso_http.secrets_for(iso) if self.iso_http is not None else NO_SECRETS

    def skip_reason(self, iso: IsoDefinition, dataset_id: str, day: date) -> str | None:
        """Why this run skips `dataset_id` of `iso` on `day` (no account, or no source for the
        day as of the ISO's today), or None."""
        today = self.now().astimezone(ZoneInfo(iso.timezone)).date()
        return iso.skip_reason(dataset_id, day, today, self.secrets_for(iso))


@dataclass(frozen=True)
class Step:
    key: dg.AssetKey
    description: str
    work: Callable[[StepEnv, IsoDefinition, MarketPartition], StepOutcome]
    # Asset-level lineage (every ISO's upstream assets), as the graph shows it.
    deps: tuple[dg.AssetKey | dg.AssetDep, ...] = ()
    # The upstream assets whose partition must have succeeded, in this run, for this ISO.
    upstream: Callable[[IsoDefinition], tuple[dg.AssetKey, ...]] = lambda iso: ()
    # Upstream assets the step does without when they cannot hold data here (AS prices without
    # credentials); any other upstream that cannot makes this step unable to hold data too.
    optional_upstream: Callable[[IsoDefinition], tuple[dg.AssetKey, ...]] = lambda iso: ()
    rules: tuple[CheckRule, ...] = ()
    kinds: frozenset[str] = frozenset()
    # The dataset a stage step processes (None for combined products): whether the ISO offers it
    # and whether it can be fetched here (credentials) decide if the partition can hold data.
    dataset: str | None = None
    # The files or folders this step writes for a partition (its own result, and where a result
    # failing a blocking check is set aside), and any it reads besides its upstream steps'
    # `writes`. With the data on an object store, the runner fetches both before the work and
    # sends `writes` back after it (see `runner.partition_files` and io/objects.py).
    writes: PartitionFiles = lambda layout, iso, partition: ()
    reads: PartitionFiles = lambda layout, iso, partition: ()

    @property
    def group(self) -> str:
        """The box the lineage graph draws the asset in: its stage (see keys.asset_group)."""
        return asset_group(self.key)

    def check_keys(self) -> list[dg.AssetCheckKey]:
        return [check_key(self.key, rule.name) for rule in self.rules]


def dataset_stage(
    stage: str,
    dataset_id: str,
    *,
    reads: str | None,
    description: str,
    work: Callable[[StepEnv, IsoDefinition, MarketPartition], StepOutcome],
    rules: tuple[CheckRule, ...] = (),
    kinds: frozenset[str] = frozenset(),
) -> Step:
    """The step of one stage of one dataset; it runs for a partition only once the stage it
    `reads` (of the same dataset) succeeded for that partition in this run."""
    upstream = () if reads is None else (stage_key(reads, dataset_id),)

    def writes(layout: Layout, iso: IsoDefinition, partition: MarketPartition) -> tuple[Path, ...]:
        return _STAGE_FILES[stage](layout, iso.id, dataset_id, partition.day)

    return Step(
        key=stage_key(stage, dataset_id),
        description=description,
        work=work,
        deps=upstream,
        upstream=lambda iso: upstream,
        rules=rules,
        kinds=kinds,
        dataset=dataset_id,
        writes=writes,
    )


def _with_rejected(layout: Layout, path: Path) -> tuple[Path, Path]:
    return path, layout.rejected(path)


# What each stage writes for one (ISO, dataset, day): see `Step.writes`.
_STAGE_FILES: dict[str, Callable[[Layout, str, str, date], tuple[Path, ...]]] = {
    # with the archives shared by many days that the day's manifest names (io/objects.py: the
    # runner asks again once the manifest has arrived)
    "raw_download": lambda layout, iso, dataset, day: (
        layout.raw_downloads(iso, dataset, day),
        *shared_files_of(layout.raw_downloads(iso, dataset, day)),
    ),
    "raw_csv": lambda layout, iso, dataset, day: (layout.csv_files(iso, dataset, day),),
    "raw_parquet": lambda layout, iso, dataset, day: _with_rejected(
        layout, layout.raw_parquet(iso, dataset, day)
    ),
    "flattened": lambda layout, iso, dataset, day: _with_rejected(
        layout, layout.flattened(iso, dataset, day)
    ),
    "warehouse": lambda layout, iso, dataset, day: (),
}
