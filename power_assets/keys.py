"""Every name Dagster sees, built in one place: asset keys, check keys, job, op, schedule and
sensor names, run keys, run tags and partition keys.

Market-day partitions are two-dimensional (`date` x `iso`); Dagster sorts the dimensions by name, so
a key reads `2024-11-03|CAISO`. `partition_key` builds one and `parse_partition_key` reads one back,
with an error that says what the form is when the text is not one; `check_partition_range` says
whether a range of them is one we run. Nothing else formats or splits these strings
(`power_assets_tests/test_keys_in_one_place.py` fails when something does): users see these names
and their instances store them, so a misspelt copy elsewhere would silently match nothing.
"""

from dataclasses import dataclass
from datetime import date, datetime

import dagster as dg

from power_assets.errors import PowerAssetsError

# The market-day stages of a dataset, in the order data flows through them.
STAGES = ("raw_download", "raw_csv", "raw_parquet", "flattened", "warehouse")
COMBINED_PRODUCTS = ("da_as_hourly", "da_as_rt_hourly", "da_as_rt_native")
ROLLUP_PERIODS = ("monthly", "yearly")

# The op that runs every market-day asset a run selects, and the run config that makes it fetch
# kept responses again.
MARKET_DAY_OP = "market_day_stages"
FORCE_DOWNLOAD_RUN_CONFIG = {"ops": {MARKET_DAY_OP: {"config": {"force_download": True}}}}

DATE_DIMENSION = "date"
ISO_DIMENSION = "iso"
PARTITION_FORM = "{date}|{ISO}"
PARTITION_EXAMPLE = "2024-11-03|CAISO"
# Run tag naming the ISO a run talks to; dagster.yaml limits runs per value of it.
ISO_TAG = "power_assets/iso"
TRIGGER_TAG = "power_assets/trigger"
# Run tag of a real-time run: the end of the newest interval the ISO had published when requested.
PUBLISHED_THROUGH_TAG = "power_assets/published_through"
# The job, and the schedule that runs it, of the real-time freshness checks.
FRESHNESS_JOB = "realtime_freshness"
# Dagster records the dimensions of a multi-partition key as these event tags.
_DIMENSION_TAG = "dagster/partition/{}"


class PartitionKeyError(PowerAssetsError, ValueError):
    """A partition key (or range) that is not of the form `{date}|{ISO}`."""


# Asset keys are `{stage}/{name}`: the UI's lineage graph labels a node with the last part of its
# key inside a box for its group, and each stage is its group, so `raw_parquet/lmp_da` reads
# "lmp_da" in the "raw_parquet" box, whole, where `raw_parquet__lmp_da` was cut in the middle.


def stage_key(stage: str, dataset: str) -> dg.AssetKey:
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; stages are {', '.join(STAGES)}")
    return dg.AssetKey([stage, dataset])


def asset_group(key: dg.AssetKey) -> str:
    """The group (a box in the lineage graph) of a stage, combined or roll-up asset: its stage."""
    return key.path[0]


def stage_keys(datasets, stages=STAGES) -> list[dg.AssetKey]:
    """Every stage asset (download through DuckDB, by default) of these datasets."""
    return [stage_key(stage, dataset) for dataset in datasets for stage in stages]


def combined_key(product: str) -> dg.AssetKey:
    if product not in COMBINED_PRODUCTS:
        raise ValueError(f"unknown combined product {product!r}")
    return dg.AssetKey(["combined", product])


def rollup_key(period: str, product: str) -> dg.AssetKey:
    if period not in ROLLUP_PERIODS or product not in COMBINED_PRODUCTS:
        raise ValueError(f"unknown roll-up {period!r} of {product!r}")
    return dg.AssetKey([f"combined_{period}", product])


def rollup_op_name(period: str) -> str:
    """The op that builds every roll-up file of a period (`monthly_rollups`, `yearly_rollups`)."""
    if period not in ROLLUP_PERIODS:
        raise ValueError(f"unknown roll-up period {period!r}")
    return f"{period}_rollups"


def rollup_job_name(period: str) -> str:
    """The job of a period's roll-ups (`monthly_rollup`, `yearly_rollup`)."""
    if period not in ROLLUP_PERIODS:
        raise ValueError(f"unknown roll-up period {period!r}")
    return f"{period}_rollup"


def check_key(asset: dg.AssetKey, name: str) -> dg.AssetCheckKey:
    return dg.AssetCheckKey(asset, name)


def realtime_feed_key(iso_id: str) -> dg.AssetKey:
    """The external asset an ISO's freshness check hangs on: its real-time data as in DuckDB."""
    return dg.AssetKey(["realtime_feed", iso_id])


def freshness_check_name(iso_id: str) -> str:
    return f"realtime_fresh__{iso_id}"


def freshness_check_key(iso_id: str) -> dg.AssetCheckKey:
    return check_key(realtime_feed_key(iso_id), freshness_check_name(iso_id))


def daily_job_name(iso_id: str) -> str:
    """The one-click job of an ISO: every market-day asset of the datasets it offers."""
    return f"daily_pipeline__{iso_id}"


def realtime_job_name(iso_id: str) -> str:
    return f"realtime__{iso_id}"


def realtime_sensor_name(iso_id: str) -> str:
    return f"realtime__{iso_id}"


def day_ahead_job_name(iso_id: str) -> str:
    return f"day_ahead__{iso_id}"


def day_ahead_schedule_name(iso_id: str) -> str:
    return f"day_ahead__{iso_id}"


# Run keys: Dagster launches one run per key, so a tick repeated (or re-evaluated with a lost
# cursor) never runs the same work twice.


def realtime_run_key(iso_id: str, day: date, what: str) -> str:
    """A real-time run of one market day: `what` is the newest interval's stamp, or `closing`."""
    return f"realtime:{iso_id}:{day.isoformat()}:{what}"


def day_ahead_run_key(iso_id: str, day: date, attempt: str) -> str:
    """A day-ahead run of `day`; `attempt` is `first` or `retry`."""
    return f"day_ahead:{iso_id}:{day.isoformat()}:{attempt}"


def freshness_run_key(tick: datetime) -> str:
    return f"freshness:{tick:%Y%m%dT%H%M}"


@dataclass(frozen=True, order=True)
class MarketPartition:
    """One partition of a market-day (or month, or year) asset: an ISO and the day it starts."""

    iso: str
    day: date

    @property
    def key(self) -> dg.MultiPartitionKey:
        return partition_key(self.day, self.iso)

    @property
    def event_tags(self) -> dict[str, str]:
        """The tags Dagster puts on events of a multi-partition key, so per-dimension views work."""
        return {
            _DIMENSION_TAG.format(DATE_DIMENSION): self.day.isoformat(),
            _DIMENSION_TAG.format(ISO_DIMENSION): self.iso,
        }


def partition_key(day: date, iso_id: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({DATE_DIMENSION: day.isoformat(), ISO_DIMENSION: iso_id})


def parse_partition_key(key: str | dg.MultiPartitionKey) -> MarketPartition:
    """(ISO, day) of a partition key; a key in any other form is an error saying what the form is."""
    if isinstance(key, dg.MultiPartitionKey):
        dims = key.keys_by_dimension
        day_text, iso = dims.get(DATE_DIMENSION, ""), dims.get(ISO_DIMENSION, "")
    else:
        day_text, _, iso = str(key).partition("|")
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        day = None
    if day is not None and day.isoformat() != day_text:
        day = None  # Python 3.11 also reads 20241103 and 2024-W44-7: keys are YYYY-MM-DD only
    if day is None or not iso or "|" in iso:
        raise PartitionKeyError(
            f"partition key {str(key)!r} is not of the form {PARTITION_FORM} "
            f"(e.g. {PARTITION_EXAMPLE}: the ISO-local market day, then the ISO id)"
        )
    return MarketPartition(iso, day)


def key_parts(text: str) -> list[str]:
    """The non-empty parts, stripped, of a text meant as a partition key that is not one (for a
    message saying what was meant, see partition_hints.py)."""
    return [part.strip() for part in text.split("|") if part.strip()]


RANGE_RULE = (
    f"a range is the days of one ISO ({PARTITION_EXAMPLE}...2024-11-30|CAISO) or the ISOs of one "
    f"day ({PARTITION_EXAMPLE}...2024-11-03|NYISO), from the earlier key to the later one; run one "
    "range per ISO (ranges of different ISOs run in parallel)"
)


def check_partition_range(start: str, end: str) -> tuple[MarketPartition, MarketPartition]:
    """The two ends of a `{date}|{ISO}...{date}|{ISO}` range, or an error naming the rule.

    Dagster reads a multi-partition range as a rectangle (every ISO between the two ends, on every
    day between them), so `2024-01-01|NYISO...2024-01-31|CAISO` selects nothing and
    `2024-01-01|CAISO...2024-01-31|NYISO` all four ISOs: neither is what its writer meant, so both
    are refused, as is a range whose later end comes first. A range that varies one dimension is
    what a backfill launched from the UI hands a run (Dagster splits a backfill by ISO, or by day
    when it has fewer days than ISOs).
    """
    first, last = parse_partition_key(start), parse_partition_key(end)
    problem = None
    if first.iso != last.iso and first.day != last.day:
        problem = f"it spans several days and several ISOs ({first.iso} to {last.iso})"
    elif first.day > last.day:
        problem = "its first date is after its last"
    elif first.iso > last.iso:
        problem = f"its ISOs are in reverse order ({first.iso} after {last.iso})"
    if problem:
        raise PartitionKeyError(f"partition range {start}...{end}: {problem}; {RANGE_RULE}")
    return first, last


def partition_range(iso_id: str, first: date, last: date) -> str:
    """The days `first` to `last` of one ISO as `dagster asset materialize --partition-range`
    takes them (`2024-11-01|PJM...2024-11-07|PJM`); a range against RANGE_RULE is an error."""
    start, end = str(partition_key(first, iso_id)), str(partition_key(last, iso_id))
    check_partition_range(start, end)
    return f"{start}...{end}"
