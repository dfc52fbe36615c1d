"""A backfill cut into runs that can go to several workers at once.

    python -m power_assets.scale.backfill ISO[,ISO...] START END [--chunk-days N] [--parallel P]
        [--dataset D ...] [--stage S ...] [--retries R] [--log-dir DIR]

Every market-day stage runs inside one op (`market_day_stages`, one step per run), so a run of
30 days is one step on one worker however many workers there are. This launcher splits the range
into chunks (per ISO, N consecutive days) and runs each chunk as its own
`dagster asset materialize --partition-range` run, at most P at once: every chunk is a run in the
instance of $DAGSTER_HOME, and with POWER_ASSETS_EXECUTOR=celery its step goes to whichever Celery
worker is free. A failed chunk is run again up to R times (re-runs are idempotent: kept responses
are reused and the warehouse replaces each day). The exit status is 0 only when every chunk
succeeded; otherwise the last line names the failed chunks.

Size chunks so that one runs well within the Celery visibility timeout (six hours by default, see
`scale/executors.py`): a step still running when it passes is started again on another worker.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import chain, zip_longest
from pathlib import Path

from power_assets import settings

# The ISO registry, the key helpers and Dagster are imported where used: `split_chunks` and
# `--help` need none of them.

USAGE_ERROR = 2


class UsageError(ValueError):
    """A wrong argument; its message is the one line the user sees."""


@dataclass(frozen=True, order=True)
class Chunk:
    """The days `first` to `last` (inclusive) of one ISO: one run."""

    iso: str
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def __str__(self) -> str:
        return f"{self.iso} {self.first}..{self.last}"


def split_chunks(isos: Sequence[str], first: date, last: date, chunk_days: int) -> list[Chunk]:
    """Each ISO's days from `first` to `last` in runs of `chunk_days` (the last one may be
    shorter), taken in turn across ISOs (first chunk of each ISO, then the second, ...).

    Taking ISOs in turn matters: requests to one ISO are spaced across every process, so chunks of
    one ISO running together mostly wait on each other, while chunks of different ISOs do not.
    Days are calendar dates, so DST days are ordinary members of a chunk.
    """
    if chunk_days < 1:
        raise ValueError(f"chunk_days must be at least 1, not {chunk_days}")
    per_iso = []
    for iso in isos:
        chunks, day = [], first
        while day <= last:
            end = min(day + timedelta(days=chunk_days - 1), last)
            chunks.append(Chunk(iso, day, end))
            day = end + timedelta(days=1)
        per_iso.append(chunks)
    return [chunk for chunk in chain.from_iterable(zip_longest(*per_iso)) if chunk is not None]


@dataclass(frozen=True)
class Backfill:
    isos: tuple[str, ...]
    first: date
    last: date
    datasets: tuple[str, ...] | None  # None: every dataset, and the combined files
    chunk_days: int
    parallel: int
    retries: int
    stages: tuple[str, ...] | None = None  # None: every stage


def parse_isos(text: str) -> tuple[str, ...]:
    from power_assets.isos import registered_isos

    known = [iso.id for iso in registered_isos()]
    chosen: list[str] = []
    for name in (part.strip().upper() for part in text.split(",")):
        if name not in known:
            raise UsageError(f"unknown ISO {name or text!r}; choose from {', '.join(known)}")
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen)


def parse_days(start: str, end: str) -> tuple[date, date]:
    with warnings.catch_warnings():  # Dagster's beta notes on import would break the one line
        warnings.simplefilter("ignore")
        from power_assets.assets.partitions import FIRST_MARKET_DAY

    # The last day with partitions is tomorrow in UTC (assets/partitions.py).
    earliest, latest = date.fromisoformat(FIRST_MARKET_DAY), datetime.now(UTC).date() + timedelta(1)
    valid = f"dates are YYYY-MM-DD from {earliest} to {latest}, START not after END"
    days = []
    for what, text in (("START", start), ("END", end)):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise UsageError(f"{what} {text!r} is not a date; {valid}") from None
        if not earliest <= day <= latest:
            raise UsageError(f"{what} {day} has no partitions; {valid}")
        days.append(day)
    if days[0] > days[1]:
        raise UsageError(f"START {days[0]} is after END {days[1]}; {valid}")
    return days[0], days[1]


def parse_datasets(names: Sequence[str] | None, isos: Sequence[str]) -> tuple[str, ...] | None:
    from power_assets.isos import get_iso, registered_datasets

    if not names:
        return None
    known = list(registered_datasets())
    offered = [d for d in known if any(d in get_iso(iso).datasets for iso in isos)]
    chosen: list[str] = []
    for name in (n.strip().lower() for n in names):
        if name not in known:
            raise UsageError(f"unknown dataset {name!r}; choose from {', '.join(known)}")
        if name not in offered:
            raise UsageError(
                f"dataset {name!r} is not published by {', '.join(isos)}; they publish "
                f"{', '.join(offered)}"
            )
        if name not in chosen:
            chosen.append(name)
    for iso in isos:  # an ISO's chunks would select nothing
        own = [d for d in known if d in get_iso(iso).datasets]
        if not set(chosen) & set(own):
            raise UsageError(
                f"{iso} publishes none of {', '.join(chosen)}; it publishes {', '.join(own)}"
            )
    return None if set(chosen) == set(offered) else tuple(chosen)


def parse_stages(names: Sequence[str] | None) -> tuple[str, ...] | None:
    """The chosen stages (`raw_download` ... `warehouse`), or None for all of them."""
    if not names:
        return None
    from power_assets.keys import STAGES

    for name in names:
        if name not in STAGES:
            raise UsageError(f"unknown stage {name!r}; choose from {', '.join(STAGES)}")
    return tuple(stage for stage in STAGES if stage in names)


def selection(
    iso_id: str, datasets: tuple[str, ...] | None, stages: tuple[str, ...] | None = None
) -> list[str]:
    """Asset keys (as `--select` takes them) of the ISO's chosen datasets and stages; with every
    dataset and stage (None), the combined daily files too."""
    from power_assets.isos import get_iso, registered_datasets
    from power_assets.keys import COMBINED_PRODUCTS, STAGES, combined_key, stage_keys

    offered = [d for d in registered_datasets() if d in get_iso(iso_id).datasets]
    chosen = offered if datasets is None else [d for d in offered if d in datasets]
    keys = stage_keys(chosen, [stage for stage in STAGES if stage in (stages or STAGES)])
    if datasets is None and stages is None:
        keys += [combined_key(product) for product in COMBINED_PRODUCTS]
    return [key.to_user_string() for key in keys]


def chunk_command(
    chunk: Chunk, datasets: tuple[str, ...] | None, stages: tuple[str, ...] | None = None
) -> list[str]:
    from power_assets.keys import partition_range

    return [
        sys.executable, "-m", "dagster", "asset", "materialize",
        "-m", "power_assets.definitions",
        "--select", ",".join(selection(chunk.iso, datasets, stages)),
        "--partition-range", partition_range(chunk.iso, chunk.first, chunk.last),
    ]  # fmt: skip


class Launcher:
    """Runs chunks as subprocesses, P at once, each retried up to R times; one line per event."""

    def __init__(self, backfill: Backfill, log_dir: Path):
        self.backfill, self.log_dir = backfill, log_dir
        self._say_lock = threading.Lock()
        # Guards _stop and _running together, so no chunk starts after an interrupt was passed on.
        self._lock = threading.Lock()
        self._stop = False
        self._running: set[subprocess.Popen] = set()

    def say(self, line: str, stream=None) -> None:
        with self._say_lock:
            print(line, file=stream or sys.stdout, flush=True)

    def run_chunk(self, chunk: Chunk) -> bool:
        command = chunk_command(chunk, self.backfill.datasets, self.backfill.stages)
        attempts = self.backfill.retries + 1
        for attempt in range(1, attempts + 1):
            log = self.log_dir / f"{chunk.iso}_{chunk.first}_{chunk.last}.{attempt}.log"
            began = time.monotonic()
            with log.open("wb") as out, self._lock:
                if self._stop:
                    return False
                self.say(f"start  {chunk} ({chunk.days} d) attempt {attempt}/{attempts}")
                # Same environment: the run lands in $DAGSTER_HOME with the caller's settings. A
                # session of its own, so a Ctrl-C reaches it once, passed on by `run`.
                process = subprocess.Popen(
                    command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                )
                self._running.add(process)
            code = process.wait()
            with self._lock:
                self._running.discard(process)
            seconds = time.monotonic() - began
            if code == 0:
                self.say(f"ok     {chunk} in {seconds:.1f} s")
                return True
            self.say(f"failed {chunk} in {seconds:.1f} s (exit {code}); log {log}")
        return False

    def run(self) -> list[Chunk]:
        """Every chunk; the ones that failed (after their retries) or never ran."""
        b = self.backfill
        chunks = split_chunks(b.isos, b.first, b.last, b.chunk_days)
        self.say(
            f"{len(chunks)} chunks of up to {b.chunk_days} days, {b.parallel} at once, "
            f"executor {settings.executor_name()}; "
            f"logs in {self.log_dir}"
        )
        pool = ThreadPoolExecutor(max_workers=b.parallel)
        futures = {chunk: pool.submit(self.run_chunk, chunk) for chunk in chunks}
        try:
            while not all(f.done() for f in futures.values()):
                time.sleep(0.2)
        except KeyboardInterrupt:
            # Start nothing new and let running chunks end their runs (Dagster marks a run
            # interrupted by SIGINT as canceled, and revokes its Celery tasks).
            with self._lock:
                self._stop = True
                self.say("interrupted: stopping the running chunks", sys.stderr)
                for process in self._running:
                    process.send_signal(signal.SIGINT)
        pool.shutdown(wait=True, cancel_futures=True)
        return [c for c, f in futures.items() if f.cancelled() or not f.result()]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not usage + message
        print(f"backfill: error: {message}", file=sys.stderr)
        sys.exit(USAGE_ERROR)


def _count(minimum: int):
    def parse(text: str) -> int:
        if not text.strip().isdigit() or int(text) < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= {minimum}")
        return int(text)

    return parse


def parse_args(argv: Sequence[str] | None = None) -> tuple[Backfill, Path | None]:
    """The backfill asked for, or UsageError (bad values) / SystemExit 2 (bad syntax)."""
    parser = _Parser(
        prog="python -m power_assets.scale.backfill", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("isos", metavar="ISO[,ISO...]")
    parser.add_argument("start", metavar="START", help="first market day, YYYY-MM-DD")
    parser.add_argument("end", metavar="END", help="last market day, YYYY-MM-DD (included)")
    parser.add_argument("--chunk-days", metavar="N", type=_count(1), default=7, help="(7)")
    parser.add_argument(
        "--parallel", metavar="P", type=_count(1), default=2, help="runs at once (2)"
    )
    parser.add_argument("--dataset", metavar="D", action="append", help="repeat; default: all")
    parser.add_argument("--stage", metavar="S", action="append", help="repeat; default: all")
    parser.add_argument("--retries", metavar="R", type=_count(0), default=1, help="per chunk (1)")
    parser.add_argument("--log-dir", metavar="DIR", type=Path, help="default: a new temp folder")
    args = parser.parse_args(argv)
    isos = parse_isos(args.isos)
    first, last = parse_days(args.start, args.end)
    datasets = parse_datasets(args.dataset, isos)
    backfill = Backfill(
        isos, first, last, datasets, args.chunk_days, args.parallel, args.retries,
        parse_stages(args.stage),
    )  # fmt: skip
    return backfill, args.log_dir


def main(argv: Sequence[str] | None = None) -> int:
    try:
        backfill, log_dir = parse_args(argv)
        settings.executor_name()  # a bad value would fail every chunk as it loads
        if not os.environ.get("DAGSTER_HOME"):
            raise UsageError(
                "DAGSTER_HOME is not set; every chunk is a run in that instance (with Celery, "
                "the one its workers use)"
            )
    except ValueError as exc:  # UsageError, or the executor setting's own message
        print(f"backfill: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="power_assets_backfill_"))
    log_dir.mkdir(parents=True, exist_ok=True)
    failed = Launcher(backfill, log_dir).run()
    if failed:
        print(f"failed chunks: {', '.join(str(c) for c in sorted(failed))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
