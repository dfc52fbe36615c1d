"""Running the selected steps over every partition of a run, one (asset, partition) at a time.

A run may cover one partition or a range (a single-run backfill). Each (asset, partition) is done
and reported on its own:

- it succeeded: an `AssetMaterialization` for that partition, with that partition's own figures
  (rows, locations, first and last interval, source files, data seconds);
- each of its checks: an `AssetCheckEvaluation` for that partition, its offenders as a table;
- a blocking check failed, or its work raised: nothing is materialized for it, its result is set
  aside rather than published, and the assets downstream of it are not run for that partition
  (they are "blocked"), while every other partition goes on through every stage;
- the ISO does not offer the dataset, or the credentials it needs are missing: nothing is
  recorded for it (a partition that cannot hold data is never shown as materialized), and a
  missing credential is reported once per run.

At the end the run fails if anything failed, naming every failed partition, asset and reason.
"""

import time
import traceback
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import dagster as dg

from power_assets.assets.check_target import latest_materialization_target
from power_assets.assets.partition_files import partition_files, shown_path, where_data_lives
from power_assets.assets.steps import Finding, Step, StepEnv
from power_assets.errors import PowerAssetsError
from power_assets.isos import IsoDefinition, get_iso
from power_assets.keys import (
    ISO_TAG,
    PARTITION_FORM,
    MarketPartition,
    PartitionKeyError,
    check_key,
    check_partition_range,
    parse_partition_key,
)
from power_assets.stages.drop import find_dropped

MAX_REASON_CHARS = 600  # a failure names its cause; it never quotes a whole file
MAX_LISTED_FAILURES = 40
NEEDS_UNAVAILABLE = "their inputs cannot hold data here (for the reasons above)"


class Status(StrEnum):
    MATERIALIZED = "materialized"
    FAILED = "failed"
    BLOCKED = "blocked"
    NOT_OFFERED = "not offered"
    UNAVAILABLE = "unavailable"


@dataclass
class Ledger:
    """What happened to every (asset, partition) of the run."""

    status: dict[tuple[dg.AssetKey, MarketPartition], Status] = field(default_factory=dict)
    failures: list[tuple[MarketPartition, dg.AssetKey, str]] = field(default_factory=list)
    blocked: dict[tuple[MarketPartition, dg.AssetKey], list[dg.AssetKey]] = field(
        default_factory=dict
    )
    # why a partition cannot hold data (not published by the ISO, credentials missing here) ->
    # the datasets and partitions it applies to
    unavailable: dict[str, tuple[set[str], set[MarketPartition]]] = field(default_factory=dict)

    def failed(self, partition: MarketPartition, key: dg.AssetKey, reason: str) -> None:
        self.status[key, partition] = Status.FAILED
        self.failures.append((partition, key, _short(reason)))

    def counts(self) -> Counter:
        return Counter(self.status.values())


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 3] + "..."


def partitions_of(context: dg.AssetExecutionContext) -> list[MarketPartition]:
    """Every (ISO, day) of the run, by ISO then day. A range that is not one ISO's days or one
    day's ISOs, or a partition of another ISO than the run's job, is an error before any work."""
    if context.has_partition_key_range:
        check_partition_range(context.partition_key_range.start, context.partition_key_range.end)
    partitions = sorted(parse_partition_key(key) for key in context.partition_keys)
    job_iso = context.run.tags.get(ISO_TAG)
    strays = sorted({p.iso for p in partitions if job_iso and p.iso != job_iso})
    if strays:
        raise PartitionKeyError(
            f"this run belongs to {job_iso} (its job or tag {ISO_TAG}={job_iso}) but its partitions "
            f"name {', '.join(strays)}; use {PARTITION_FORM} keys of {job_iso}"
        )
    return partitions


def run_steps(
    context: dg.AssetExecutionContext, steps: Iterable[Step], env: StepEnv
) -> Iterator[dg.AssetMaterialization | dg.AssetCheckEvaluation]:
    steps = list(steps)
    by_key = {step.key: step for step in steps}
    selected_keys = set(context.selected_asset_keys)
    selected = [step for step in steps if step.key in selected_keys]
    selected_checks = set(context.selected_asset_check_keys)
    partitions = partitions_of(context)
    ledger = Ledger()
    for partition in partitions:
        try:
            iso = get_iso(partition.iso)
        except PowerAssetsError as exc:
            for step in selected:
                ledger.failed(partition, step.key, str(exc))
            context.log.error(f"{partition.key}: {exc}")
            continue
        for step in selected:
            yield from _run_one(context, step, iso, partition, env, ledger, selected_checks, by_key)
    _report(context, ledger, len(partitions), len(selected))


def _run_one(
    context: dg.AssetExecutionContext,
    step: Step,
    iso: IsoDefinition,
    partition: MarketPartition,
    env: StepEnv,
    ledger: Ledger,
    selected_checks: set[dg.AssetCheckKey],
    by_key: Mapping[dg.AssetKey, Step],
) -> Iterator[dg.AssetMaterialization | dg.AssetCheckEvaluation]:
    slot = (step.key, partition)
    if step.dataset is not None:
        if step.dataset not in iso.datasets:
            status, reason = Status.NOT_OFFERED, f"{iso.id} does not publish {step.dataset}"
        else:
            status = Status.UNAVAILABLE
            reason = env.skip_reason(iso, step.dataset, partition.day)
            if reason and find_dropped(env.layout, iso, step.dataset, partition.day):
                reason = None  # the user's own files of the day stand in for the account
        if reason:
            # Never a materialization (that would say the data is there); told once per run.
            ledger.status[slot] = status
            datasets, partitions = ledger.unavailable.setdefault(reason, (set(), set()))
            datasets.add(step.dataset)
            partitions.add(partition)
            return
    without = [
        up
        for up in step.upstream(iso)
        if ledger.status.get((up, partition)) in (Status.UNAVAILABLE, Status.NOT_OFFERED)
        and up not in step.optional_upstream(iso)
    ]
    if without:
        # Its inputs cannot hold data in this partition, so neither can it: not a failure.
        ledger.status[slot] = Status.UNAVAILABLE
        assets, partitions = ledger.unavailable.setdefault(NEEDS_UNAVAILABLE, (set(), set()))
        assets.add(step.key.to_user_string())
        partitions.add(partition)
        return
    blockers = [
        up
        for up in step.upstream(iso)
        if ledger.status.get((up, partition)) in (Status.FAILED, Status.BLOCKED)
    ]
    if blockers:
        ledger.status[slot] = Status.BLOCKED
        ledger.blocked[partition, step.key] = blockers
        return
    started = time.perf_counter()
    try:
        # with the files on an object store: fetched first, sent back before anything is recorded
        with partition_files(step, by_key, env, iso, partition):
            outcome = step.work(env, iso, partition)
            failing = [
                rule
                for rule in step.rules
                if rule.blocking and outcome.findings.get(rule.name, _CLEAN).problems > 0
            ]
            aside = None
            if failing:
                aside = shown_path(outcome.set_aside(), env) if outcome.set_aside else None
            elif outcome.publish is not None:
                outcome.publish()
    except Exception as exc:  # one partition's failure must not stop the others
        message = str(exc) if isinstance(exc, PowerAssetsError) else f"{type(exc).__name__}: {exc}"
        ledger.failed(partition, step.key, message)
        detail = "" if isinstance(exc, PowerAssetsError) else "\n" + traceback.format_exc(limit=8)
        context.log.error(f"{step.key.to_user_string()} {partition.key}: {_short(message)}{detail}")
        return
    seconds = round(time.perf_counter() - started, 3)
    if not failing:
        ledger.status[slot] = Status.MATERIALIZED
        yield dg.AssetMaterialization(
            asset_key=step.key,
            partition=partition.key,
            metadata={**where_data_lives(outcome.metadata, env), "data_seconds": seconds},
            tags=partition.event_tags,
        )
    if step.rules:
        # The evaluations name the materialization they judged (the one just recorded, or for a
        # rejected result the one readers still see), so the UI shows them as current.
        target = latest_materialization_target(context.instance, step.key, str(partition.key))
        for rule in step.rules:
            finding = outcome.findings.get(rule.name)
            if finding is None or check_key(step.key, rule.name) not in selected_checks:
                continue
            yield _evaluation(step, rule, partition, finding, aside, target)
    if failing:
        names = ", ".join(f"{r.name} ({outcome.findings[r.name].summary})" for r in failing)
        where = f"; the rejected result is kept at {aside}" if aside else ""
        ledger.failed(partition, step.key, f"blocking check failed: {names}{where}")
        context.log.error(
            f"{step.key.to_user_string()} {partition.key}: blocking check failed: {names}{where}"
        )


_CLEAN = Finding(0, "")


def _evaluation(step, rule, partition, finding: Finding, aside, target) -> dg.AssetCheckEvaluation:
    metadata = {"problems": finding.problems, **finding.figures}
    if finding.problems:
        metadata["details"] = dg.MetadataValue.md(finding.markdown())
    if aside is not None:
        metadata["rejected_file"] = dg.MetadataValue.path(str(aside))
    return dg.AssetCheckEvaluation(
        asset_key=step.key,
        check_name=rule.name,
        passed=finding.problems == 0,
        severity=rule.severity,
        blocking=rule.blocking,
        partition=partition.key,
        target_materialization_data=target,
        description=finding.summary,
        metadata=metadata,
    )


def _report(context, ledger: Ledger, partitions: int, assets: int) -> None:
    counts = ledger.counts()
    context.log.info(
        f"{partitions} partition(s) x {assets} asset(s): "
        + ", ".join(f"{counts[s]} {s}" for s in Status if counts[s])
    )
    # Datasets' own reasons first, then the steps that need them.
    for reason, (datasets, affected) in sorted(
        ledger.unavailable.items(), key=lambda item: (item[0] == NEEDS_UNAVAILABLE, item[0])
    ):
        scope = "" if reason == NEEDS_UNAVAILABLE else "every selected stage, "
        context.log.warning(
            f"not materialized: {', '.join(sorted(datasets))} ({scope}"
            f"{len(affected)} partition(s)): {reason}"
        )
    if not ledger.failures:
        return
    lines = [
        f"- {partition.key} {key.to_user_string()}: {reason}"
        for partition, key, reason in sorted(ledger.failures, key=lambda f: f[0])
    ]
    blocked_by_partition: dict[MarketPartition, list[str]] = {}
    for partition, key in sorted(ledger.blocked, key=lambda slot: slot[0]):  # stable: flow order
        blocked_by_partition.setdefault(partition, []).append(key.to_user_string())
    lines += [
        f"- {partition.key} not run (upstream failed): {', '.join(keys)}"
        for partition, keys in blocked_by_partition.items()
    ]
    failed_partitions = sorted({str(p.key) for p, _, _ in ledger.failures})
    shown = lines[:MAX_LISTED_FAILURES]
    if len(lines) > len(shown):
        shown.append(f"- ... and {len(lines) - len(shown)} more")
    raise dg.Failure(
        description=f"{len(ledger.failures)} asset partition(s) failed in "
        f"{len(failed_partitions)} partition(s) ({', '.join(failed_partitions[:10])}"
        f"{', ...' if len(failed_partitions) > 10 else ''}); the other partitions went on:\n"
        + "\n".join(shown),
        metadata={
            "failed_partitions": failed_partitions,
            "failed": dg.MetadataValue.md("\n".join(shown)),
        },
    )
