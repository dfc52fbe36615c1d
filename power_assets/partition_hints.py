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
    parse_partition_key,
    partition_key,
)

# Dagster's message quotes the key between backticks: "...the passed partition key `X` or ...".
_KEY_MARK = "partition key `"


def explain_partition_key(text: str, iso_ids: list[str], first_day: date) -> str:
    """What is wrong with partition key `text`, and the key meant where it can be guessed."""
    last_day = datetime.now(UTC).date() + timedelta(days=1)
    rule = (
        f"keys are {PARTITION_FORM} (e.g. {PARTITION_EXAMPLE}): the ISO-local market day from "
        f"{first_day} to {last_day}, then the ISO id in capitals ({', '.join(iso_ids)})"
    )
    try:
        key = parse_partition_key(text)
    except PartitionKeyError:
        day = _date_in(text)
        if day is not None and not text.startswith(day.isoformat()):
            iso = text.replace(day.isoformat(), "").strip("|").upper() or iso_ids[0]
            meant = partition_key(day, iso)
            return f"partition key {text!r}: the date comes first ({meant}); {rule}"
        if day is not None:
            meant = partition_key(day, iso_ids[0])
            return f"partition key {text!r} names no ISO ({meant}, ...); {rule}"
        return f"partition key {text!r} is not of the form {PARTITION_FORM}; {rule}"
    if key.iso.upper() in iso_ids and key.iso not in iso_ids:
        meant = partition_key(key.day, key.iso.upper())
        return f"partition key {text!r}: ISO ids are upper case ({meant}); {rule}"
    if key.iso not in iso_ids:
        return f"partition key {text!r}: unknown ISO {key.iso!r}; {rule}"
    if not first_day <= key.day <= last_day:
        return f"partition key {text!r}: {key.day} has no partition; {rule}"
    return f"partition key {text!r} is not one this asset has; {rule}"


def _date_in(text: str) -> date | None:
    """The first part of `text` (split at any character that is no digit or dash) that is a
    date, if one is."""
    for part in "".join(c if c.isdigit() or c == "-" else " " for c in text).split():
        try:
            return date.fromisoformat(part)
        except ValueError:
            continue
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

        hint = explain_partition_key(key, all_iso_ids(), date.fromisoformat(FIRST_MARKET_DAY))
        print(f"error: {hint}", file=sys.stderr)

    hook.power_assets_hint = True  # type: ignore[attr-defined]
    sys.excepthook = hook
