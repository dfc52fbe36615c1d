"""A partition key Dagster's own command line refuses gets one paragraph saying what is wrong with
it, instead of a traceback through Dagster's internals.

`dagster asset materialize --partition 2024-11-03 ...` (or `CAISO|2024-11-03`, `2024-11-03|caiso`,
a day before the first market day) fails inside Dagster with `DagsterInvalidSubsetError`
before any step runs, and the error names neither the `{date}|{ISO}` form, nor the ISO ids, nor
the dates. Dagster's CLI imports `power_assets.definitions` before it checks the key, so the hook
`install()` puts in place there is ready when that error escapes: it prints what is wrong with
the key and how to write it, and leaves every other exception to the hook before it (Python's
traceback). The `power-assets` command validates its arguments itself (cli/backfill.py).
"""

import sys
from datetime import UTC, date, datetime, timedelta
from types import TracebackType

import dagster as dg

from power_assets.keys import (
    PARTITION_EXAMPLE,
    PARTITION_FORM,
    PartitionKeyError,
    check_partition_range,
    key_parts,
    parse_partition_key,
    partition_key,
)

# Dagster's message quotes the key between backticks: "...the passed partition key `X` or ...".
_KEY_MARK = "partition key `"


def explain_partition_key(
    text: str, iso_ids: list[str], first_day: date, range_text: str | None = None
) -> str:
    """What is wrong with partition key `text` (or, when Dagster refused a range, `range_text`:
    Dagster quotes only its first key), and the key meant where it can be guessed."""
    last_day = datetime.now(UTC).date() + timedelta(days=1)
    rule = (
        f"keys are {PARTITION_FORM} (e.g. {PARTITION_EXAMPLE}): the ISO-local market day from "
        f"{first_day} to {last_day}, then the ISO id in capitals ({', '.join(iso_ids)})"
    )

    def valid(day: date | None, iso: str) -> str | None:
        if day is None or iso not in iso_ids or not first_day <= day <= last_day:
            return None
        return str(partition_key(day, iso))

    def problem(key_text: str) -> str | None:
        stripped = key_text.strip()
        try:
            key = parse_partition_key(stripped)
        except PartitionKeyError:
            day = _date_in(stripped)
            rest = [part.upper() for part in key_parts(stripped)]
            others = [p for p in rest if day is None or p != day.isoformat()]
            meant = valid(day, others[0]) if len(others) == 1 else None
            if meant and not stripped.startswith(day.isoformat()):
                return f"partition key {key_text!r}: the date comes first ({meant})"
            if meant:
                return f"partition key {key_text!r} is not of the form {PARTITION_FORM} ({meant}?)"
            if day is not None and not others:
                return f"partition key {key_text!r} names no ISO ({valid(day, iso_ids[0])}, ...)"
            return f"partition key {key_text!r} is not of the form {PARTITION_FORM}"
        if key.iso.upper() in iso_ids and key.iso not in iso_ids:
            meant = valid(key.day, key.iso.upper())
            return (
                f"partition key {key_text!r}: ISO ids are upper case ({meant or key.iso.upper()})"
            )
        if key.iso not in iso_ids:
            return f"partition key {key_text!r}: unknown ISO {key.iso!r}"
        if not first_day <= key.day <= last_day:
            return f"partition key {key_text!r}: {key.day} has no partition"
        return None

    if range_text is not None:
        ends = range_text.split("...")
        found = [p for p in (problem(end) for end in ends) if p] if len(ends) == 2 else []
        if len(ends) != 2:
            found = [f"partition range {range_text!r} is not two keys joined by '...'"]
        if found:
            return "; ".join(found) + f"; {rule}"
        try:
            check_partition_range(ends[0].strip(), ends[1].strip())
        except PartitionKeyError as exc:
            return str(exc)
    found = problem(text)
    if found:
        return f"{found}; {rule}"
    return (
        f"partition key {text!r} is not one of the selected assets' partitions; {rule}; "
        "monthly and yearly roll-ups (combined_monthly/*, combined_yearly/*) take the first day "
        "of their month or year (2024-11-01|CAISO, 2024-01-01|CAISO)"
    )


def _date_in(text: str) -> date | None:
    """The first part of `text` (split at any character that is no digit or dash) that is a
    date, if one is."""
    for part in "".join(c if c.isdigit() or c == "-" else " " for c in text).split():
        try:
            return date.fromisoformat(part)
        except ValueError:
            continue
    return None


def _range_argument() -> str | None:
    """The `--partition-range` value of this command line, if it has one."""
    for number, argument in enumerate(sys.argv):
        if argument == "--partition-range" and number + 1 < len(sys.argv):
            return sys.argv[number + 1]
        if argument.startswith("--partition-range="):
            return argument.split("=", 1)[1]
    return None


def _refused_key(exc: BaseException) -> str | None:
    message = str(exc)
    if not isinstance(exc, dg.DagsterInvalidSubsetError) or _KEY_MARK not in message:
        return None
    return message.split(_KEY_MARK, 1)[1].split("`", 1)[0]


def install() -> None:
    """Explain refused partition keys on the command line (once per process)."""
    previous = sys.excepthook
    if getattr(previous, "power_assets_hint", False):
        return

    def hook(kind: type[BaseException], exc: BaseException, trace: TracebackType | None) -> None:
        key = _refused_key(exc)
        if key is None:
            previous(kind, exc, trace)
            return
        # Imported here: the hook is installed while the registry is still being imported.
        from power_assets.assets.partitions import FIRST_MARKET_DAY, all_iso_ids

        hint = explain_partition_key(
            key, all_iso_ids(), date.fromisoformat(FIRST_MARKET_DAY), _range_argument()
        )
        print(f"error: {hint}", file=sys.stderr)

    hook.power_assets_hint = True  # type: ignore[attr-defined]
    sys.excepthook = hook
