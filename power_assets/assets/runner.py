"""Running one asset step over every (iso, market day) partition of a run, and reporting it.

A single-run backfill hands one step many partitions. Each partition is processed on its own; if
some fail, the ones that succeeded are still recorded as materialized (so a resumed backfill does
not redo them) and the step then fails naming every failed partition and why.

Each partition's metadata carries `data_seconds`, the time spent in its own work (fetching,
parsing, writing), so what a run spends around that work (orchestration) can be told apart.
"""

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import dagster as dg

from power_assets.assets.partitions import MarketPartition, partitions_of
from power_assets.errors import PowerAssetsError
from power_assets.isos import IsoDefinition, get_iso


@dataclass(frozen=True)
class CheckRule:
    name: str
    description: str
    blocking: bool
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR


@dataclass
class PartitionOutcome:
    metadata: dict[str, Any]
    # check name -> (number of problems, JSON-able detail) for this partition
    findings: dict[str, tuple[int, Any]] = field(default_factory=dict)


def check_specs(asset_key: str, rules: Sequence[CheckRule]) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(r.name, asset=asset_key, description=r.description, blocking=r.blocking)
        for r in rules
    ]


def stage_asset(
    name: str,
    *,
    group: str,
    deps: Sequence[str | dg.AssetDep],
    partitions_def: dg.PartitionsDefinition,
    description: str,
    rules: Sequence[CheckRule] = (),
    kinds: set[str] | None = None,
    pool: str | None = None,
):
    """The decorator every stage asset uses: single-run backfills, checks declared on the asset."""
    return dg.asset(
        name=name,
        group_name=group,
        deps=list(deps),
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        check_specs=check_specs(name, rules) or None,
        kinds=kinds,
        pool=pool,
        description=description,
    )


def run_partitions(
    context: dg.AssetExecutionContext,
    asset_key: str,
    work: Callable[[IsoDefinition, MarketPartition], PartitionOutcome],
    rules: Sequence[CheckRule] = (),
    dataset_id: str | None = None,
) -> Iterator[dg.MaterializeResult | dg.AssetMaterialization]:
    outcomes: dict[str, PartitionOutcome] = {}
    failures: dict[str, str] = {}
    skipped: dict[str, str] = {}
    for partition in partitions_of(context):
        iso = get_iso(partition.iso)
        if dataset_id and dataset_id not in iso.datasets:
            note = f"{iso.id} does not offer {dataset_id}; nothing to do"
            outcomes[partition.key] = PartitionOutcome({"offered": False, "note": note})
            continue
        reason = iso.unavailable_reason(dataset_id) if dataset_id else None
        if reason:
            # Recorded (and logged) as skipped, with no file written, so the rest of the graph
            # (e.g. combined files without AS prices) still runs; re-materialize once possible.
            skipped[partition.key] = reason
            outcomes[partition.key] = PartitionOutcome({"skipped": reason})
            continue
        started = time.perf_counter()
        try:
            outcome = work(iso, partition)
        except PowerAssetsError as exc:
            context.log.error(f"{asset_key} {partition.key}: {exc}")
            failures[partition.key] = str(exc)
            continue
        data_seconds = round(time.perf_counter() - started, 3)
        outcomes[partition.key] = PartitionOutcome(
            {**outcome.metadata, "data_seconds": data_seconds}, outcome.findings
        )
    for reason in sorted(set(skipped.values())):
        keys = sorted(k for k, r in skipped.items() if r == reason)
        context.log.warning(
            f"{asset_key}: skipped {len(keys)} partition(s) ({keys[0]}...): {reason}"
        )
    if failures:
        for key, outcome in outcomes.items():
            yield dg.AssetMaterialization(asset_key, partition=key, metadata=outcome.metadata)
        raise dg.Failure(
            description=f"{asset_key}: {len(failures)} of {len(failures) + len(outcomes)} "
            f"partition(s) failed: "
            + "; ".join(f"{key}: {reason}" for key, reason in sorted(failures.items())),
            metadata={"failed_partitions": sorted(failures)},
        )
    yield dg.MaterializeResult(
        metadata=summarize(outcomes), check_results=[evaluate(r, outcomes) for r in rules]
    )


def summarize(outcomes: dict[str, PartitionOutcome]) -> dict[str, Any]:
    """One partition: its own metadata. Several: totals, overall coverage and a per-partition table."""
    if len(outcomes) == 1:
        return next(iter(outcomes.values())).metadata
    rows = [{"partition": key, **outcome.metadata} for key, outcome in sorted(outcomes.items())]
    summary: dict[str, Any] = {"partitions": len(rows)}
    numeric = [k for k, v in rows[0].items() if isinstance(v, int) and not isinstance(v, bool)]
    for name in numeric:
        summary[f"total_{name}"] = sum(r.get(name, 0) for r in rows)
    for name in [k for k, v in rows[0].items() if isinstance(v, float)]:
        if all(isinstance(r.get(name), float) for r in rows):
            summary[f"total_{name}"] = round(sum(r[name] for r in rows), 3)
    firsts = [r["first_interval"] for r in rows if r.get("first_interval") not in (None, "none")]
    lasts = [r["last_interval"] for r in rows if r.get("last_interval") not in (None, "none")]
    if firsts:
        summary["first_interval"] = min(firsts)
        summary["last_interval"] = max(lasts)
    columns = list(rows[0])
    table = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    table += ["| " + " | ".join(str(r.get(c, "")) for c in columns) + " |" for r in rows[:400]]
    summary["per_partition"] = dg.MetadataValue.md("\n".join(table))
    return summary


def evaluate(rule: CheckRule, outcomes: dict[str, PartitionOutcome]) -> dg.AssetCheckResult:
    failing = {
        key: o.findings[rule.name]
        for key, o in sorted(outcomes.items())
        if o.findings.get(rule.name, (0, None))[0] > 0
    }
    metadata: dict[str, Any] = {
        "partitions_checked": len(outcomes),
        "partitions_failing": len(failing),
        "problems": sum(count for count, _ in failing.values()),
    }
    if failing:
        metadata["details"] = dg.MetadataValue.json(
            {key: _jsonable(detail) for key, (_, detail) in list(failing.items())[:20]}
        )
    return dg.AssetCheckResult(
        check_name=rule.name, passed=not failing, severity=rule.severity, metadata=metadata
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
