"""What the columns of PJM's Data Miner 2 feeds mean, and the standardized tables built from them.

What belongs here: per feed, which of its published columns are read, under which internal name
and type, which are required, and which tell it apart from the other feeds of its dataset; per
dataset, turning the rows of its feed(s) into the standardized long table (markets, intervals,
row versions, node names, AS products, averaging of instantaneous load). Reading JSON pages and
CSV exports, and turning their text into typed columns, lives in `parsing`.

Every builder receives, per feed, the typed frames of its files ("canonical" frames: the internal
column names below, absent optional columns as typed nulls) and works on one lazy frame.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from power_assets.schemas import (
    AS_PRICE_COLUMNS,
    FUEL_MIX_COLUMNS,
    LMP_COLUMNS,
    LOAD_COLUMNS,
    LOAD_FORECAST_COLUMNS,
)

ISO = "PJM"
# reserve_market_results is hourly until 2022-08-31 and 5-minute from 2022-09-01 (00:00 EPT,
# i.e. 04:00 UTC); PJM never serves both in one query, so the row's own start tells which.
AS_RT_FIVE_MINUTE_FROM = datetime(2022, 9, 1, 4, 0, tzinfo=UTC)
# PJM reserve service codes to standardized products; an unknown code is kept as its own product
# (and counted). PR is PJM's Primary Reserve (10-minute, synchronized or not).
AS_PRODUCTS = {"REG": "REG", "SR": "SPIN_10", "PR": "PRIMARY_10", "30MIN": "OPERATING_30"}
# reserve_market_results prices REG twice more: capability (reg_ccp) and performance (reg_pcp).
REG_COMPONENTS = (
    ("reg_ccp", "REG_CAPABILITY", "REG_CCP"),
    ("reg_pcp", "REG_PERFORMANCE", "REG_PCP"),
)
LOCATION_TYPE_UNKNOWN = "UNKNOWN"
FORECAST_TYPE = "7_DAY"

# Column kinds: how `parsing` turns a published value into the internal column's type.
TIME = "time"  # naive UTC text -> Datetime("us", "UTC")
TEXT = "text"  # -> Utf8
ID = "id"  # integer or text -> Utf8
NUMBER = "number"  # number or numeric text -> Float64
FLAG = "flag"  # JSON boolean or "True"/"False" text -> Boolean

DTYPES: dict[str, pl.DataType] = {
    TIME: pl.Datetime("us", "UTC"),
    TEXT: pl.Utf8(),
    ID: pl.Utf8(),
    NUMBER: pl.Float64(),
    FLAG: pl.Boolean(),
}


@dataclass(frozen=True)
class Column:
    """One published column read from a feed: PJM's name, the internal name, its kind."""

    source: str
    name: str
    kind: str
    required: bool = False


@dataclass(frozen=True)
class Feed:
    """The columns read from one Data Miner feed. `markers` are columns only this feed has among
    the feeds of its dataset: they identify a file that does not name its feed (a CSV export)."""

    name: str
    columns: tuple[Column, ...]
    markers: frozenset[str] = frozenset()

    @property
    def required(self) -> list[str]:
        return [column.source for column in self.columns if column.required]


def _lmp_feed(name: str, suffix: str, *, verified: bool) -> Feed:
    columns = [
        Column("datetime_beginning_utc", "start", TIME, True),
        Column("pnode_id", "pnode_id", ID, True),
        Column("pnode_name", "name", TEXT, True),
        Column("type", "type", TEXT),
        Column(f"total_lmp_{suffix}", "lmp", NUMBER, True),
        Column(f"congestion_price_{suffix}", "congestion", NUMBER),
        Column(f"marginal_loss_price_{suffix}", "loss", NUMBER),
    ]
    if verified:
        columns += [
            Column(f"system_energy_price_{suffix}", "energy", NUMBER),
            Column("row_is_current", "current", FLAG),
        ]
        markers = {f"system_energy_price_{suffix}", "row_is_current", "version_nbr"}
    else:
        markers = {"occ_check", "ref_caseid_used_multi_interval"}
    return Feed(name, tuple(columns), frozenset(markers))


_START = Column("datetime_beginning_utc", "start", TIME, True)
_RESERVES = (
    _START,
    Column("locale", "region", TEXT, True),
    Column("service", "service", TEXT, True),
    Column("mcp", "price", NUMBER, True),
)

FEEDS: dict[str, Feed] = {
    feed.name: feed
    for feed in (
        _lmp_feed("da_hrl_lmps", "da", verified=True),
        _lmp_feed("rt_hrl_lmps", "rt", verified=True),
        _lmp_feed("rt_fivemin_hrl_lmps", "rt", verified=True),
        _lmp_feed("rt_unverified_fivemin_lmps", "rt", verified=False),
        Feed("da_reserve_market_results", _RESERVES),
        Feed(
            "reserve_market_results",
            (
                *_RESERVES,
                Column("reg_ccp", "reg_ccp", NUMBER),
                Column("reg_pcp", "reg_pcp", NUMBER),
            ),
        ),
        Feed(
            "hrl_load_metered",
            (
                _START,
                Column("load_area", "area", TEXT, True),
                Column("mw", "mw", NUMBER, True),
                Column("is_verified", "verified", FLAG),
            ),
            frozenset({"load_area", "is_verified"}),
        ),
        Feed(
            "inst_load",
            (
                _START,
                Column("area", "area", TEXT, True),
                Column("instantaneous_load", "mw", NUMBER, True),
            ),
            frozenset({"instantaneous_load"}),
        ),
        Feed(
            "load_frcstd_7_day",
            (
                Column("evaluated_at_datetime_utc", "publish", TIME, True),
                Column("forecast_area", "area", TEXT, True),
                Column("forecast_datetime_beginning_utc", "start", TIME, True),
                Column("forecast_datetime_ending_utc", "end", TIME),
                Column("forecast_load_mw", "mw", NUMBER, True),
            ),
            frozenset({"evaluated_at_datetime_utc", "forecast_datetime_beginning_utc"}),
        ),
        Feed(
            "load_frcstd_hist",
            (
                Column("evaluated_at_utc", "publish", TIME, True),
                Column("forecast_area", "area", TEXT, True),
                Column("forecast_hour_beginning_utc", "start", TIME, True),
                Column("forecast_load_mw", "mw", NUMBER, True),
            ),
            frozenset({"evaluated_at_utc", "forecast_hour_beginning_utc"}),
        ),
        Feed(
            "gen_by_fuel",
            (_START, Column("fuel_type", "fuel", TEXT, True), Column("mw", "mw", NUMBER, True)),
        ),
    )
}

# The feeds each dataset reads (see the design of `feeds`: which feed serves which day).
DATASET_FEEDS: dict[str, tuple[str, ...]] = {
    "lmp_da": ("da_hrl_lmps",),
    "lmp_rt_hourly": ("rt_hrl_lmps",),
    "lmp_rt5": ("rt_fivemin_hrl_lmps", "rt_unverified_fivemin_lmps"),
    "as_da": ("da_reserve_market_results",),
    "as_rt": ("reserve_market_results",),
    "load": ("hrl_load_metered", "inst_load"),
    "load_forecast": ("load_frcstd_7_day", "load_frcstd_hist"),
    "fuel_mix": ("gen_by_fuel",),
}
# LMP feed -> (standardized market, interval).
LMP_MARKETS = {
    "da_hrl_lmps": ("DAM", "1h"),
    "rt_hrl_lmps": ("RTH", "1h"),
    "rt_fivemin_hrl_lmps": ("RT5M", "5m"),
    "rt_unverified_fivemin_lmps": ("RT5M_PRELIM", "5m"),
}

Notes = dict[str, int]
Parts = Mapping[str, Sequence[pl.DataFrame]]  # feed -> canonical frames of its files


def empty_canonical(feed: Feed) -> pl.DataFrame:
    return pl.DataFrame(schema={column.name: DTYPES[column.kind] for column in feed.columns})


def _lazy(parts: Parts, feed: str) -> pl.LazyFrame:
    frames = list(parts.get(feed, ())) or [empty_canonical(FEEDS[feed])]
    return pl.concat([frame.lazy() for frame in frames], how="vertical")


def _feeds(parts: Parts, dataset_id: str) -> list[str]:
    """The dataset's feeds that have files, or its first feed (an empty table) if none has."""
    present = [feed for feed in DATASET_FEEDS[dataset_id] if parts.get(feed)]
    return present or [DATASET_FEEDS[dataset_id][0]]


def _interval(start: pl.Expr, every: str | pl.Expr) -> list[pl.Expr]:
    # Some feeds stamp hh:mm:01; the interval is the one the stamp falls in (UTC, so no DST).
    floored = start.dt.truncate(every)
    return [floored.alias("interval_start"), floored.dt.offset_by(every).alias("interval_end")]


def _collect(frame: pl.LazyFrame, counts: dict[str, pl.Expr]) -> tuple[pl.DataFrame, Notes]:
    """Collect a table that still holds helper columns, and the named counts over it."""
    table, totals = pl.collect_all([frame, frame.select(**counts)])
    return table, {name: int(totals[name][0] or 0) for name in counts}


def lmp_table(parts: Parts, dataset_id: str) -> tuple[pl.DataFrame, Notes]:
    """LMP rows: superseded versions dropped, names that two nodes share made unique."""
    frames, superseded = [], []
    for feed in _feeds(parts, dataset_id):
        market, every = LMP_MARKETS[feed]
        frame = _lazy(parts, feed)
        if "current" in frame.collect_schema():
            # A row whose row_is_current is false was replaced by a later version_nbr.
            stale = pl.col("current").eq(False).fill_null(False)
            superseded.append(frame.select(stale.sum().alias("n")))
            frame = frame.filter(~stale)
        if "energy" not in frame.collect_schema():
            # The unverified feed publishes no energy component: total minus its other parts.
            energy = pl.col("lmp") - pl.col("congestion") - pl.col("loss")
            frame = frame.with_columns(energy.alias("energy"))
        frames.append(
            frame.select(
                *_interval(pl.col("start"), every),
                pl.lit(ISO).alias("iso"),
                pl.lit(market).alias("market"),
                "name",
                "pnode_id",
                # `type` absent from the file is a null column here, like a null value.
                pl.col("type").fill_null(LOCATION_TYPE_UNKNOWN).alias("location_type"),
                "lmp",
                "energy",
                "congestion",
                "loss",
                pl.lit(None, pl.Float64).alias("ghg"),
            )
        )
    rows = pl.concat(frames, how="vertical")
    # PJM names are not unique keys: two nodes may share a pnode_name. Then both get their id.
    pairs, *counts = pl.collect_all([rows.select("name", "pnode_id").unique(), *superseded])
    shared = pairs.group_by("name").agg(pl.len().alias("ids")).filter(pl.col("ids") > 1)["name"]
    named_with_id = pl.col("name").is_in(shared.implode())
    table = rows.with_columns(
        pl.when(named_with_id)
        .then(pl.format("{} ({})", "name", "pnode_id"))
        .otherwise(pl.col("name"))
        .alias("location"),
        pl.col("pnode_id").alias("location_id"),
        pl.lit(None, pl.Utf8).alias("baa"),
    )
    notes = {"rows_superseded": sum(int(count["n"][0] or 0) for count in counts)}
    if len(shared):
        table, extra = _collect(table, {"rows_named_with_pnode_id": named_with_id.sum()})
        notes.update(extra)
    else:
        table = table.collect()
    return table.select(LMP_COLUMNS), notes


def as_table(parts: Parts, dataset_id: str) -> tuple[pl.DataFrame, Notes]:
    """AS prices: one row per locale, service and interval, plus REG's two component prices."""
    frames = []
    for feed in _feeds(parts, dataset_id):
        frame = _lazy(parts, feed)
        if dataset_id == "as_da":
            market, every = pl.lit("DAM"), pl.lit("1h")
        else:
            five_minute = pl.col("start") >= AS_RT_FIVE_MINUTE_FROM
            market = pl.when(five_minute).then(pl.lit("RT5M")).otherwise(pl.lit("RTH"))
            every = pl.when(five_minute).then(pl.lit("5m")).otherwise(pl.lit("1h"))
        timing = [*_interval(pl.col("start"), every), market.alias("market")]
        frame = frame.with_columns(*timing, pl.lit(ISO).alias("iso"))
        frames.append(
            frame.with_columns(
                pl.col("service")
                .replace_strict(AS_PRODUCTS, default=pl.col("service"))
                .alias("product"),
                pl.col("service").alias("iso_product"),
                pl.col("service").is_in(list(AS_PRODUCTS)).not_().alias("_unmapped"),
            )
        )
        schema = frame.collect_schema()
        for column, product, iso_product in REG_COMPONENTS:
            if column in schema:
                frames.append(
                    frame.filter(
                        (pl.col("service") == "REG") & pl.col(column).is_not_null()
                    ).with_columns(
                        pl.lit(product).alias("product"),
                        pl.lit(iso_product).alias("iso_product"),
                        pl.col(column).alias("price"),
                        pl.lit(False).alias("_unmapped"),
                    )
                )
    columns = [*AS_PRICE_COLUMNS, "_unmapped"]
    rows = pl.concat([frame.select(columns) for frame in frames], how="vertical")
    table, notes = _collect(rows, {"rows_unmapped_product": pl.col("_unmapped").sum()})
    return table.select(AS_PRICE_COLUMNS), _nonzero(notes)


def load_table(parts: Parts, dataset_id: str) -> tuple[pl.DataFrame, Notes]:
    """Hourly load: metered rows as they are; instantaneous samples averaged per UTC hour."""
    frames, notes = [], {}
    for feed in _feeds(parts, dataset_id):
        frame = _lazy(parts, feed)
        if feed == "inst_load":
            counts = frame.select(pl.len().alias("instantaneous_samples"))
            frame = (
                frame.with_columns(pl.col("start").dt.truncate("1h"))
                .group_by("area", "start")
                .agg(pl.col("mw").mean())
                .sort("area", "start")
            )
        else:
            stale = pl.col("verified").eq(False).fill_null(False)
            counts = frame.select(stale.sum().alias("rows_not_verified"))
        # In-memory, as polars 1 collected by default: polars 2's default streaming engine may
        # give the hourly means a different last bit.
        table, totals = pl.collect_all([frame, counts], engine="in-memory")
        notes.update({name: int(totals[name][0]) for name in totals.columns})
        frames.append(
            table.select(
                *_interval(pl.col("start"), "1h"),
                pl.lit(ISO).alias("iso"),
                "area",
                pl.col("mw").alias("load_mw"),
            )
        )
    return pl.concat(frames, how="vertical").select(LOAD_COLUMNS), _nonzero(notes)


def load_forecast_table(parts: Parts, dataset_id: str) -> tuple[pl.DataFrame, Notes]:
    """Seven-day load forecasts, every vintage (evaluated-at instant) kept."""
    frames = []
    for feed in _feeds(parts, dataset_id):
        frame = _lazy(parts, feed)
        start, end = _interval(pl.col("start"), "1h")
        if "end" in frame.collect_schema():
            # Round, not floor: an ending stamped a second early or late is still that hour.
            end = pl.coalesce(pl.col("end").dt.round("1h"), end).alias("interval_end")
        frames.append(
            frame.select(
                start,
                end,
                pl.lit(ISO).alias("iso"),
                "area",
                pl.lit(FORECAST_TYPE).alias("forecast_type"),
                pl.col("publish").alias("publish_time"),
                pl.col("mw").alias("load_mw"),
            )
        )
    return pl.concat(frames, how="vertical").collect().select(LOAD_FORECAST_COLUMNS), {}


def fuel_mix_table(parts: Parts, dataset_id: str) -> tuple[pl.DataFrame, Notes]:
    """Hourly generation by fuel type."""
    frame = _lazy(parts, "gen_by_fuel").select(
        *_interval(pl.col("start"), "1h"), pl.lit(ISO).alias("iso"), "fuel", "mw"
    )
    return frame.collect().select(FUEL_MIX_COLUMNS), {}


def _nonzero(notes: Notes) -> Notes:
    return {name: count for name, count in notes.items() if count}


BUILDERS: dict[str, Callable[[Parts, str], tuple[pl.DataFrame, Notes]]] = {
    "lmp_da": lmp_table,
    "lmp_rt_hourly": lmp_table,
    "lmp_rt5": lmp_table,
    "as_da": as_table,
    "as_rt": as_table,
    "load": load_table,
    "load_forecast": load_forecast_table,
    "fuel_mix": fuel_mix_table,
}
