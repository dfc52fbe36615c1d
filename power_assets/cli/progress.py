"""What a backfill shows while it runs, and its summary at the end.

What belongs here: reading a run's event stream as it is written (each (asset, partition)
materialized, failed, or a check that did not pass) and showing it. On a terminal that is one
line per chunk, rewritten in place (`PJM 2024-11-01..2024-11-07: 23/40 steps, 2 failed`), plus a
line per failure; elsewhere (a pipe, a log file, a test) one line per finished (asset, partition)
and the chunk's line at its end. Starting the runs is `backfill.py`'s.

The runner (`assets/runner.py`) records a success as an `AssetMaterialization` of that partition
and a failure as an ERROR log line `{asset} {partition}: {reason}`; a partition that cannot hold
data (not published, credentials missing) gets neither, only one WARNING per run saying why.
"""

import logging
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    import dagster as dg

LISTED = 20  # lines of each kind in the summary; the rest are counted
# The error Dagster fails a run's step with when the process gets SIGINT (Ctrl-C) during it.
INTERRUPTED = "DagsterExecutionInterruptedError"
_CLEAR = "\r\x1b[K"


class Display:
    """Permanent lines, and on a terminal one live line kept below them."""

    def __init__(self, stream: TextIO | None = None, live: bool | None = None):
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty() if live is None else live
        self._shown = ""

    def line(self, text: str) -> None:
        if self._shown:
            self.stream.write(_CLEAR)
        self.stream.write(text + "\n")
        if self._shown:
            self.stream.write(self._shown)
        self.stream.flush()

    def status(self, text: str) -> None:
        if self.live and text != self._shown:
            self._shown = text
            self.stream.write(_CLEAR + text)
            self.stream.flush()

    def end_status(self) -> None:
        if self._shown:
            self.stream.write(_CLEAR)
            self.stream.flush()
            self._shown = ""


@dataclass
class ChunkProgress:
    """One run (one ISO's chunk of days), fed by its events as Dagster stores them."""

    label: str
    assets: list[str]
    partitions: list[str]
    display: Display
    run_id: str = ""
    materialized: set[tuple[str, str]] = field(default_factory=set)
    failed: dict[tuple[str, str], str] = field(default_factory=dict)
    checks: list[tuple[str, str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    run_error: str = ""
    success: bool | None = None
    seconds: float = 0.0
    interrupted: bool = False  # Ctrl-C: Dagster ends the run as failed, and returns

    def __post_init__(self) -> None:
        # The runner's failure lines start with "{asset} {partition}: "; only planned slots count.
        self._slots = {f"{a} {p}": (a, p) for a in self.assets for p in self.partitions}
        self._began = time.monotonic()
        self._broken = False

    @property
    def planned(self) -> int:
        return len(self._slots)

    @property
    def not_run(self) -> int:
        return self.planned - len(self.materialized) - len(self.failed)

    def line(self) -> str:
        done = len(self.materialized) + len(self.failed)
        return f"{self.label}: {done}/{self.planned} steps, {len(self.failed)} failed"

    def on_event(self, entry: "dg.EventLogEntry") -> None:
        """Dagster calls this for every event of the run, in the run's thread; it must not raise."""
        if self._broken:
            return
        try:
            self._take(entry)
        except Exception as exc:  # the display must never fail the run it watches
            self._broken = True
            self.display.line(f"  (progress display stopped: {type(exc).__name__}: {exc})")

    def _take(self, entry: "dg.EventLogEntry") -> None:
        import dagster as dg

        event = entry.dagster_event
        if event is None:
            self._log_line(entry.level, entry.user_message or "")
            return
        kind = event.event_type
        if kind == dg.DagsterEventType.ASSET_MATERIALIZATION and event.asset_key:
            slot = (event.asset_key.to_user_string(), event.partition or "")
            self.materialized.add(slot)
            if not self.display.live:
                self.display.line(f"  ok      {slot[1]} {slot[0]}")
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if isinstance(evaluation, dg.AssetCheckEvaluation) and not evaluation.passed:
                self.checks.append((
                    evaluation.partition or "", evaluation.asset_key.to_user_string(),
                    evaluation.check_name, evaluation.description or "",
                ))  # fmt: skip
        elif kind == dg.DagsterEventType.STEP_FAILURE and event.step_failure_data:
            error = event.step_failure_data.error
            if error is not None:
                self.interrupted |= error.cls_name == INTERRUPTED
                self.run_error = self.run_error or _first_line(error.message)
        elif kind == dg.DagsterEventType.RUN_FAILURE:
            self.run_error = self.run_error or _first_line(entry.user_message or "")
        else:
            return
        self.display.status(self.line())

    def _log_line(self, level: int, message: str) -> None:
        if level >= logging.ERROR:
            head, _, reason = message.partition(": ")
            slot = self._slots.get(head)
            if slot is not None and slot not in self.failed:
                self.failed[slot] = _first_line(reason)
                self.display.line(f"  failed  {slot[1]} {slot[0]}: {self.failed[slot]}")
                self.display.status(self.line())
        elif level == logging.WARNING and message not in self.notes:
            self.notes.append(message)

    def finish(self, success: bool) -> None:
        self.success, self.seconds = success, time.monotonic() - self._began
        self.display.end_status()
        extra = f", {self.not_run} not run" if self.not_run else ""
        outcome = "succeeded" if success else "FAILED"
        self.display.line(
            f"{self.line()}{extra} (run {self.run_id[:8]} {outcome}, {self.seconds:.1f} s)"
        )


def _first_line(text: str) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else ""


def _listed(display: Display, title: str, lines: list[str]) -> None:
    if not lines:
        return
    display.line(title)
    for text in lines[:LISTED]:
        display.line(f"  {text}")
    if len(lines) > LISTED:
        display.line(f"  ... and {len(lines) - LISTED} more")


def summarize(chunks: list[ChunkProgress], display: Display, seconds: float) -> bool:
    """Print what every run did; True when every run succeeded and no partition failed."""
    materialized = sum(len(c.materialized) for c in chunks)
    failed = [
        f"{partition} {asset}: {reason}"
        for c in chunks
        for (asset, partition), reason in sorted(c.failed.items(), key=lambda i: i[0][::-1])
    ]
    not_run = sum(c.not_run for c in chunks)
    display.line(
        f"summary: {len(chunks)} run(s) in {seconds:.1f} s; {materialized} materialized, "
        f"{len(failed)} failed, {not_run} not run (asset, partition) steps"
    )
    _listed(display, "failed:", failed)
    if not_run:
        display.line(
            f"not run: {not_run} step(s) whose data is unavailable here or whose upstream step "
            "failed (see the lines above and below)"
        )
    _listed(display, "unavailable and other warnings:", [n for c in chunks for n in c.notes])
    _listed(
        display,
        "checks that did not pass (power-assets status lists them all):",
        [f"{p} {a} {check}: {text}" for c in chunks for p, a, check, text in c.checks],
    )
    unexplained = [c for c in chunks if c.success is False and not c.failed]
    _listed(
        display,
        "runs that failed before any partition did:",
        [
            f"{c.label} (run {c.run_id}): {c.run_error or 'see the run in the UI'}"
            for c in unexplained
        ],
    )
    return not failed and all(c.success for c in chunks)
