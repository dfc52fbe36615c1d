"""Synthetic CAISO OASIS responses: CSVs, ZIPs and error documents in OASIS's real formats.

What belongs here: the deterministic generator of OASIS payloads (PRC_LMP, PRC_INTVL_LMP,
PRC_RTPD_LMP, PRC_AS) and the fault knobs that make them bad in controlled ways. Nothing here does
I/O or HTTP; the loopback server in `oasis_server` serves these bytes.

The data is invented: prices come from a cheap formula (a daily shape plus a per-node offset, with
deterministic noise for real time), never from recorded CAISO data. The *format* follows OASIS:
the exact header per report, one row per LMP component (or AS product and region), UTC interval
columns, `OPR_DT`/`OPR_HR`/`OPR_INTERVAL` in Pacific time (OPR_HR counts the local day's hours in
order, so 1..23 on the spring-forward day and 1..25 on the fall-back day), values with at most five
decimals and no trailing zeros, rows grouped by node and component with a running `GROUP` number
and unsorted within each group.
"""

import io
import math
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from power_assets.demo.synthetic import bump, local_day_bounds, unit

PACIFIC = ZoneInfo("America/Los_Angeles")
UTC = ZoneInfo("UTC")

DEMO_NODES = [
    "TH_NP15_GEN-APND", "TH_SP15_GEN-APND", "TH_ZP26_GEN-APND",
    "DLAP_PGAE-APND", "DLAP_SCE-APND", "DLAP_SDGE-APND",
    "SNDBAR_7_UNITS-APND", "OKMTN_2_SOLAR1-APND",
]  # fmt: skip
AS_REGIONS = ["AS_CAISO", "AS_CAISO_EXP", "AS_NP26", "AS_NP26_EXP", "AS_SP26", "AS_SP26_EXP"]
# ANC_TYPE -> XML_DATA_ITEM (the price sits in the MW column).
AS_ITEMS = {
    "NR": "NS_CLR_PRC", "RD": "RD_CLR_PRC", "RMD": "RMD_CLR_PRC",
    "RMU": "RMU_CLR_PRC", "RU": "RU_CLR_PRC", "SR": "SP_CLR_PRC",
}  # fmt: skip
# LMP_TYPE -> XML_DATA_ITEM, in the order OASIS groups them (alphabetical by LMP_TYPE).
LMP_ITEMS = {
    "LMP": "LMP_PRC", "MCC": "LMP_CONG_PRC", "MCE": "LMP_ENE_PRC",
    "MCL": "LMP_LOSS_PRC", "MGHG": "LMP_GHG_PRC",
}  # fmt: skip
INTERVALS = {
    "PRC_LMP": timedelta(hours=1), "PRC_INTVL_LMP": timedelta(minutes=5),
    "PRC_RTPD_LMP": timedelta(minutes=15), "PRC_AS": timedelta(hours=1),
}  # fmt: skip


@dataclass(frozen=True)
class OasisReport:
    """One OASIS report as OASIS serves it (resultformat=6), written out from its interface
    specification rather than taken from the parser, so a parser that misreads it fails."""

    queryname: str
    version: str
    market_run_id: str
    value_column: str
    header: str
    selection: tuple[tuple[str, str], ...] = (("grp_type", "ALL_APNODES"),)


_TIME_COLUMNS = "INTERVALSTARTTIME_GMT,INTERVALENDTIME_GMT,OPR_DT,OPR_HR"
_NODE_COLUMNS = (
    "NODE_ID_XML,NODE_ID,NODE,MARKET_RUN_ID,LMP_TYPE,XML_DATA_ITEM,PNODE_RESMRID,GRP_TYPE,POS"
)
QUERIES: dict[str, OasisReport] = {
    report.queryname: report
    for report in (
        OasisReport("PRC_LMP", "12", "DAM", "MW",
                    f"{_TIME_COLUMNS},OPR_INTERVAL,{_NODE_COLUMNS},MW,GROUP"),
        # Real-time reports put OPR_INTERVAL after the value.
        OasisReport("PRC_INTVL_LMP", "3", "RTM", "VALUE",
                    f"{_TIME_COLUMNS},{_NODE_COLUMNS},VALUE,OPR_INTERVAL,GROUP"),
        OasisReport("PRC_RTPD_LMP", "3", "RTPD", "PRC",
                    f"{_TIME_COLUMNS},{_NODE_COLUMNS},PRC,OPR_INTERVAL,GROUP"),
        OasisReport("PRC_AS", "12", "DAM", "MW",
                    f"{_TIME_COLUMNS},OPR_INTERVAL,OPR_TYPE,ANC_TYPE,ANC_REGION,MARKET_RUN_ID,"
                    "XML_DATA_ITEM,MW,GROUP", (("anc_type", "ALL"), ("anc_region", "ALL"))),
    )
}  # fmt: skip
# OASIS's startdatetime/enddatetime parameter format (UTC).
OASIS_TIME_FORMAT = "%Y%m%dT%H:%M-0000"
# AS base prices ($/MW) and a mild regional multiplier.
_AS_BASE = {"RU": 11.0, "RD": 7.5, "SR": 5.0, "NR": 1.5, "RMU": 0.25, "RMD": 0.18}
_AS_REGION_FACTOR = {"AS_CAISO": 1.0, "AS_NP26": 1.06, "AS_SP26": 0.97}
_UNITS = 100_000  # values are kept as integer hundred-thousandths: exact sums, exact formatting
_SALT = {"PRC_LMP": 0, "PRC_INTVL_LMP": 1, "PRC_RTPD_LMP": 2, "PRC_AS": 3}

THROTTLE_HTML = (
    b"<html><body><p>CAISO Acceptable Use Policy Violation. "
    b"Please retry your request after 5 seconds.</p></body></html>"
)

_ERROR_XML = """<?xml version="1.0" encoding="UTF-8"?>
<m:OASISReport xmlns:m="http://www.caiso.com/soa/OASISReport_v1.xsd">
<m:MessageHeader>
\t<m:TimeDate>{time_date}</m:TimeDate>
\t<m:Source>OASIS</m:Source>
\t<m:Version>v20131201</m:Version>
</m:MessageHeader>
<m:MessagePayload>
<m:RTO>
<m:name>CAISO</m:name>
<m:DISCLAIMER_ITEM>
<m:DISCLAIMER>The contents of these pages are subject to change without notice. Decisions based \
on information contained within the California ISO's web site are the visitor's sole \
responsibility.</m:DISCLAIMER>
</m:DISCLAIMER_ITEM>
<m:ERROR>
<m:ERR_CODE>{code}</m:ERR_CODE>
<m:ERR_DESC>{desc}</m:ERR_DESC>
</m:ERROR>

</m:RTO>
</m:MessagePayload>
</m:OASISReport>
"""


@dataclass
class Faults:
    """Ways to make a generated response bad, for tests of the pipeline's checks.

    `drop_nodes` limits `drop_intervals` to those nodes (AS: those regions); None means all.
    `absurd_price` replaces the value of one LMP row (AS: one row) with that number;
    `empty_price` leaves that value empty, as an ISO's file may.
    """

    duplicate_rows: int = 0
    drop_intervals: list[datetime] = field(default_factory=list)
    drop_nodes: list[str] | None = None
    absurd_price: float | None = None
    empty_price: bool = False
    extra_column: str | None = None
    missing_column: str | None = None


def _energy(hour: float, day_number: int) -> float:
    """System energy price by local clock hour: morning ramp, solar trough, evening peak."""
    peaks = 24.0 * bump(hour, 19.0, 5.0) + 7.0 * bump(hour, 7.5, 3.0)
    return 38.0 + peaks - 15.0 * bump(hour, 12.5, 10.0) + 4.0 * math.sin(day_number * 0.9)


def _instants(queryname: str, start: datetime, end: datetime) -> list[datetime]:
    step = INTERVALS[queryname]
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    cursor = epoch + math.ceil((start - epoch) / step) * step
    out = []
    while cursor < end:
        out.append(cursor)
        cursor += step
    return out


def _gmt(instant: datetime) -> str:
    return f"{instant:%Y-%m-%dT%H:%M:%S}-00:00"


_INTERVAL_SCHEMA = {
    "idx": pl.Int64, "start_us": pl.Int64, "gmt_start": pl.String, "gmt_end": pl.String,
    "opr_dt": pl.String, "opr_hr": pl.Int64, "opr_interval": pl.Int64,
    "t_seed": pl.Int64, "energy": pl.Float64, "cong_scale": pl.Float64, "hour": pl.Float64,
}  # fmt: skip
_INTERVAL_KEYS = list(_INTERVAL_SCHEMA)[:7]


def _interval_table(queryname: str, start: datetime, end: datetime) -> pl.DataFrame:
    """One row per interval: GMT strings, OPR_DT/OPR_HR/OPR_INTERVAL and system-wide values."""
    step, salt = INTERVALS[queryname], _SALT[queryname]
    real_time = step < timedelta(hours=1)
    midnights: dict[date, datetime] = {}
    rows = []
    for idx, instant in enumerate(_instants(queryname, start, end)):
        local = instant.astimezone(PACIFIC)
        trading_day = local.date()
        if trading_day not in midnights:
            midnights[trading_day] = local_day_bounds("America/Los_Angeles", trading_day)[0]
        offset = instant - midnights[trading_day]  # OPR_HR counts the local day's hours in order
        minutes = int(instant.timestamp()) // 60
        hour = float(local.hour)
        energy = _energy(hour, trading_day.toordinal())
        if real_time:  # RT = DA shape +- noise, with a rare price spike
            noise, spike = unit(minutes, salt), unit(minutes, salt, 7)
            energy += (noise - 0.5) * 12.0 + (90.0 + 160.0 * noise if spike < 0.01 else 0.0)
        rows.append((
            idx, minutes * 60_000_000, _gmt(instant), _gmt(instant + step),
            trading_day.isoformat(), offset // timedelta(hours=1) + 1,
            (offset % timedelta(hours=1)) // step + 1 if real_time else 0,
            minutes % 1_000_003, energy, 4.0 + 7.0 * bump(hour, 18.0, 6.0), hour,
        ))  # fmt: skip
    return pl.DataFrame(rows, schema=_INTERVAL_SCHEMA, orient="row")


def _node_table(nodes: Sequence[str]) -> pl.DataFrame:
    ordered = sorted(set(nodes))
    seeds = [zlib.crc32(n.encode()) for n in ordered]
    return pl.DataFrame(
        {
            "node": ordered,
            "node_rank": list(range(len(ordered))),
            "node_seed": [s % 1_000_003 for s in seeds],
            "cong_factor": [(s % 2001) / 1000 - 1.0 for s in seeds],
            "loss_factor": [((s >> 11) % 1001 / 1000 - 0.5) * 0.08 for s in seeds],
            "ghg": [1.1 + (s >> 21) % 100 / 100 if (s >> 7) % 4 == 0 else 0.0 for s in seeds],
        },
        schema_overrides={"node_rank": pl.Int64, "node_seed": pl.Int64, "ghg": pl.Float64},
    )


def _to_units(expr: pl.Expr) -> pl.Expr:
    return (expr * _UNITS).round(0).cast(pl.Int64)


def _format_units(column: str) -> pl.Expr:
    """Integer hundred-thousandths as OASIS writes numbers: `-0.5901`, `38.1371`, `0`."""
    magnitude = pl.col(column).abs()
    fraction = (magnitude % _UNITS).cast(pl.String).str.zfill(5).str.strip_chars_end("0")
    return pl.concat_str(
        pl.when(pl.col(column) < 0).then(pl.lit("-")).otherwise(pl.lit("")),
        (magnitude // _UNITS).cast(pl.String),
        pl.when(fraction == "").then(pl.lit("")).otherwise(pl.lit(".") + fraction),
    )


def format_value(value: float) -> str:
    """One number as OASIS writes it (five decimals at most, no trailing zeros)."""
    if not math.isfinite(value):
        return str(value)
    units = round(value * _UNITS)
    whole, fraction = divmod(abs(units), _UNITS)
    digits = f"{fraction:05d}".rstrip("0")
    return f"{'-' if units < 0 else ''}{whole}{'.' + digits if digits else ''}"


def _shuffle_key() -> pl.Expr:
    return (pl.col("idx") * 7919 + pl.col("GROUP") * 104729) % 10007


def _lmp_rows(queryname: str, intervals: pl.DataFrame, nodes: Sequence[str]) -> pl.DataFrame:
    query = QUERIES[queryname]
    node_table = _node_table(nodes)
    real_time = queryname != "PRC_LMP"
    salt = _SALT[queryname] * 613
    noise = ((pl.col("node_seed") * 7919 + pl.col("t_seed") * 104729 + salt) % 10007) / 10007 - 0.5
    congestion = pl.col("cong_factor") * pl.col("cong_scale")
    if real_time:
        congestion = congestion + noise * 4.0
    components = (
        intervals.lazy()
        .join(node_table.lazy(), how="cross")
        .with_columns(
            _to_units(pl.col("energy")).alias("MCE"),
            _to_units(congestion).alias("MCC"),
            _to_units(pl.col("loss_factor") * pl.col("energy")).alias("MCL"),
            _to_units(pl.col("ghg")).alias("MGHG"),
        )
        .with_columns((pl.col("MCE") + pl.col("MCC") + pl.col("MCL") + pl.col("MGHG")).alias("LMP"))
    )
    type_rank = {code: rank for rank, code in enumerate(LMP_ITEMS)}
    long = components.unpivot(
        on=list(LMP_ITEMS),
        index=[*_INTERVAL_KEYS, "node", "node_rank"],
        variable_name="LMP_TYPE",
        value_name="units",
    )
    node = pl.col("node")
    frame = long.with_columns(
        pl.col("gmt_start").alias("INTERVALSTARTTIME_GMT"),
        pl.col("gmt_end").alias("INTERVALENDTIME_GMT"),
        pl.col("opr_dt").alias("OPR_DT"),
        pl.col("opr_hr").alias("OPR_HR"),
        pl.col("opr_interval").alias("OPR_INTERVAL"),
        node.alias("NODE_ID_XML"),
        node.alias("NODE_ID"),
        node.alias("NODE"),
        pl.lit(query.market_run_id).alias("MARKET_RUN_ID"),
        pl.col("LMP_TYPE").replace_strict(LMP_ITEMS).alias("XML_DATA_ITEM"),
        node.alias("PNODE_RESMRID"),
        pl.lit("ALL_APNODES").alias("GRP_TYPE"),
        pl.lit(0).alias("POS"),
        _format_units("units").alias(query.value_column),
        (
            pl.col("node_rank") * len(LMP_ITEMS)
            + pl.col("LMP_TYPE").replace_strict(type_rank, return_dtype=pl.Int64)
            + 1
        ).alias("GROUP"),
        node.alias("_key"),
    )
    return frame.sort("GROUP", _shuffle_key()).collect()


def _as_rows(
    intervals: pl.DataFrame, anc_types: Sequence[str] | None, regions: Sequence[str] | None
) -> pl.DataFrame:
    types = sorted(anc_types or AS_ITEMS)
    regions = sorted(regions or AS_REGIONS)
    products = pl.DataFrame(
        {
            "ANC_TYPE": [t for t in types for _ in regions],
            "ANC_REGION": [r for _ in types for r in regions],
            "base": [
                _AS_BASE[t] * _AS_REGION_FACTOR[r.removesuffix("_EXP")]
                for t in types
                for r in regions
            ],
            "GROUP": list(range(1, len(types) * len(regions) + 1)),
        },
        schema_overrides={"GROUP": pl.Int64},
    )
    hour = pl.col("hour")
    shape = (
        1.0
        + 0.8 * (-((hour - 19.0) ** 2) / 6.0).exp()
        + 0.3 * (-((hour - 7.0) ** 2) / 4.0).exp()
        + ((pl.col("t_seed") * 31 + pl.col("GROUP") * 17) % 101) / 500.0
    )
    frame = (
        intervals.lazy()
        .join(products.lazy(), how="cross")
        .with_columns(_to_units(pl.col("base") * shape).alias("units"))
        .with_columns(
            pl.col("gmt_start").alias("INTERVALSTARTTIME_GMT"),
            pl.col("gmt_end").alias("INTERVALENDTIME_GMT"),
            pl.col("opr_dt").alias("OPR_DT"),
            pl.col("opr_hr").alias("OPR_HR"),
            pl.col("opr_interval").alias("OPR_INTERVAL"),
            pl.lit("PRC").alias("OPR_TYPE"),
            pl.lit(QUERIES["PRC_AS"].market_run_id).alias("MARKET_RUN_ID"),
            pl.col("ANC_TYPE").replace_strict(AS_ITEMS).alias("XML_DATA_ITEM"),
            _format_units("units").alias("MW"),
            pl.col("ANC_REGION").alias("_key"),
            pl.lit("LMP").alias("LMP_TYPE"),  # every AS row may carry the absurd price
        )
    )
    return frame.sort("GROUP", _shuffle_key()).collect()


def _apply_faults(frame: pl.DataFrame, value_column: str, faults: Faults) -> pl.DataFrame:
    if faults.drop_intervals:
        drops = [int(t.timestamp()) * 1_000_000 for t in faults.drop_intervals]
        hit = pl.col("start_us").is_in(drops)
        if faults.drop_nodes is not None:
            hit = hit & pl.col("_key").is_in(faults.drop_nodes)
        frame = frame.filter(~hit)
    if (faults.absurd_price is not None or faults.empty_price) and frame.height:
        target = frame.with_row_index("_row").filter(pl.col("LMP_TYPE") == "LMP")["_row"]
        spoiled = "" if faults.empty_price else format_value(faults.absurd_price)
        if len(target):
            frame = frame.with_columns(
                pl.when(pl.int_range(pl.len()) == target[0])
                .then(pl.lit(spoiled))
                .otherwise(pl.col(value_column))
                .alias(value_column)
            )
    if faults.duplicate_rows:
        frame = pl.concat([frame, frame.head(faults.duplicate_rows)])
    return frame


def oasis_csv(
    queryname: str,
    start: datetime,
    end: datetime,
    *,
    nodes: Sequence[str] = DEMO_NODES,
    faults: Faults | None = None,
    anc_types: Sequence[str] | None = None,
    anc_regions: Sequence[str] | None = None,
) -> bytes:
    """The CSV OASIS would answer for `queryname` over the UTC window [start, end).

    `anc_types`/`anc_regions` narrow PRC_AS (default: all); `nodes` is the APNode list for LMPs.
    """
    if queryname not in QUERIES:
        raise KeyError(f"no generator for OASIS report {queryname!r}; known: {', '.join(QUERIES)}")
    columns = QUERIES[queryname].header.split(",")
    intervals = _interval_table(queryname, start, end)
    if queryname == "PRC_AS":
        frame = _as_rows(intervals, anc_types, anc_regions)
    else:
        frame = _lmp_rows(queryname, intervals, nodes)
    faults = faults or Faults()
    frame = _apply_faults(frame, QUERIES[queryname].value_column, faults)
    if faults.extra_column:
        frame = frame.with_columns(pl.lit("").alias(faults.extra_column))
        columns = [*columns, faults.extra_column]
    if faults.missing_column:
        columns = [c for c in columns if c != faults.missing_column]
    body = frame.select(columns).write_csv(include_header=False, line_terminator="\n")
    return (",".join(columns) + "\n" + body).encode()


def _trading_dates(queryname: str, start: datetime, end: datetime) -> tuple[date, date]:
    instants = _instants(queryname, start, end) or [start.astimezone(UTC)]
    return instants[0].astimezone(PACIFIC).date(), instants[-1].astimezone(PACIFIC).date()


def publish_time(queryname: str, start: datetime, end: datetime) -> datetime:
    """A deterministic, plausible publication instant (UTC): DAM the afternoon before, RT just
    after the window."""
    jitter = zlib.crc32(f"{queryname}{start.isoformat()}".encode()) % 600
    if INTERVALS[queryname] >= timedelta(hours=1):
        first, _ = _trading_dates(queryname, start, end)
        eve = datetime.combine(first - timedelta(days=1), datetime.min.time(), tzinfo=PACIFIC)
        return (eve + timedelta(hours=13)).astimezone(UTC) + timedelta(seconds=jitter)
    return end.astimezone(UTC) + timedelta(seconds=90 + jitter % 60)


def oasis_member_name(queryname: str, start: datetime, end: datetime) -> str:
    """The CSV name OASIS gives, e.g. `20200101_20200101_PRC_LMP_DAM_20200630_22_50_44_v1.csv`
    (first and last trading date covered, report, market run, publication time, version)."""
    first, last = _trading_dates(queryname, start, end)
    published = publish_time(queryname, start, end)
    run = QUERIES[queryname].market_run_id
    return f"{first:%Y%m%d}_{last:%Y%m%d}_{queryname}_{run}_{published:%Y%m%d_%H_%M_%S}_v1.csv"


def zip_single(member: str, content: bytes, when: datetime) -> bytes:
    """A ZIP holding one deflated member, byte-for-byte reproducible for the same inputs."""
    info = zipfile.ZipInfo(member, date_time=when.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 0  # MS-DOS, as OASIS writes them; also keeps bytes platform-independent
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(info, content)
    return buffer.getvalue()


def oasis_zip(
    queryname: str,
    start: datetime,
    end: datetime,
    *,
    nodes: Sequence[str] = DEMO_NODES,
    faults: Faults | None = None,
    anc_types: Sequence[str] | None = None,
    anc_regions: Sequence[str] | None = None,
) -> bytes:
    """`oasis_csv` zipped and named as OASIS serves it."""
    content = oasis_csv(
        queryname, start, end, nodes=nodes, faults=faults, anc_types=anc_types,
        anc_regions=anc_regions,
    )  # fmt: skip
    member = oasis_member_name(queryname, start, end)
    return zip_single(member, content, publish_time(queryname, start, end))


def error_xml(code: str, desc: str, when: datetime | None = None) -> bytes:
    """OASIS's error document (`OASISReport` with `ERR_CODE`/`ERR_DESC`)."""
    when = (when or datetime.now(UTC)).astimezone(UTC)
    stamp = f"{when:%Y-%m-%dT%H:%M:%S}.{when.microsecond // 1000:03d}Z"
    return _ERROR_XML.format(time_date=stamp, code=code, desc=desc).encode()


def oasis_error_zip(
    code: str = "1000",
    desc: str = "No data returned for the specified selection",
    member: str = "INVALID_REQUEST.xml",
    *,
    when: datetime | None = None,
) -> bytes:
    """A ZIP holding OASIS's error XML; `when` fixes the time stamp (default: now)."""
    when = (when or datetime.now(UTC)).astimezone(UTC)
    return zip_single(member, error_xml(code, desc, when), when)
