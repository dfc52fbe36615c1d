"""MISO market reports (`docs.misoenergy.org/marketreports/`) in CSV: hourly LMPs and ASM MCPs.

What belongs here: reading the wide hour-ending CSVs into standardized long tables.

- LMP files (`YYYYMMDD_da_expost_lmp.csv`, `_da_exante_lmp.csv`, `_rt_lmp_final.csv`,
  `_rt_lmp_prelim.csv`): a preamble (title, `MM/DD/YYYY`, blank, `,,,All Hours-Ending are Eastern
  Standard Time (EST)`), then `Node,Type,Value,HE 1..HE 24` with three rows per node (Value LMP,
  MCC, MLC). MISO publishes no energy component; it is LMP - MCC - MLC.
- ASM MCP files (`_asm_expost_damcp.csv`, `_asm_rtmcp_final.csv`, ...): two tables in one file,
  the MISO-wide MCPs (`,,MCP Type,HE 1..`, rows `MISO Wide,-,GENREGMCP,..`) and the zonal ones
  (`Pnode,Zone,MCP Type,HE 1..`), separated by blank lines.

Header rows are found by their content, not their line number: the preamble's length is not
something MISO promises. HE n of market day D is [n-1, n) EST.

Lines are split into fields by polars string operations, never in a Python loop over lines.
MISO's report CSVs quote nothing: fields are split at every comma and a field's surrounding
quotes and spaces are stripped (a quoted field holding a comma, which MISO never writes, shows
as a line with too many fields and is refused naming it).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePath

import polars as pl

from power_assets.errors import MalformedFileError, SchemaDriftError, excerpt
from power_assets.isos.miso.common import HOUR, ISO, decode, hour_ending_start, numbers, require
from power_assets.schemas import AS_PRICE_COLUMNS, LMP_COLUMNS

HOURS = [f"HE {n}" for n in range(1, 25)]
_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})")
# Markets by the file's name (its report id), then by its title when the file was renamed.
_MARKET_BY_NAME = {
    "da_expost_lmp": "DAM", "da_exante_lmp": "DAM_EXANTE",
    "rt_lmp_final": "RTH", "rt_lmp_prelim": "RTH_PRELIM",
    "asm_expost_damcp": "DAM", "asm_exante_damcp": "DAM_EXANTE",
    "asm_rtmcp_final": "RTH", "asm_rtmcp_prelim": "RTH_PRELIM",
}  # fmt: skip
LMP_VALUES = {"LMP": "lmp", "MCC": "congestion", "MLC": "loss"}
# MISO's ASM MCP codes -> the common product names. MISO prices generation and demand
# resources separately (the same value in practice), so demand-side MCPs keep their own names;
# Supplemental is MISO's 10-minute non-spinning reserve; STR its short-term (30-minute) reserve.
AS_PRODUCTS = {
    "GENREGMCP": "REGULATION", "GENSPINMCP": "SPIN", "GENSUPPMCP": "NON_SPIN",
    "DEMREGMCP": "REGULATION_DEMAND", "DEMSPINMCP": "SPIN_DEMAND",
    "DEMSUPPMCP": "NON_SPIN_DEMAND", "STRMCP": "SHORT_TERM_RESERVE",
    "RCPUPMCP": "RAMP_UP", "RCPDOWNMCP": "RAMP_DOWN", "RAMPUPMCP": "RAMP_UP",
    "RAMPDOWNMCP": "RAMP_DOWN",
}  # fmt: skip
MISO_WIDE = "MISO"


@dataclass(frozen=True)
class Table:
    """One header row of a report (its fields as keys) and its data lines: `line` (number in
    the file) and `fields` (a list of stripped texts)."""

    header: list[str]
    rows: pl.DataFrame


# A header test: an expression on `keys`, the list of a line's fields as `_key` makes them.
HeaderTest = Callable[[pl.Expr], pl.Expr]


def report_market(source: str, title: str) -> str:
    """The market of a report, from its file name (`20240310_da_expost_lmp.csv` -> DAM), else
    from its title line (a renamed file)."""
    name = PurePath(source.split("!")[-1]).name.lower()
    for report, market in _MARKET_BY_NAME.items():
        if report in name:
            return market
    lowered = title.lower().replace("-", " ")
    day_ahead = "day ahead" in lowered or "dayahead" in lowered
    if day_ahead or "real time" in lowered:
        base = "DAM" if day_ahead else "RTH"
        if "ex ante" in lowered or "exante" in lowered:
            return f"{base}_EXANTE"
        return f"{base}_PRELIM" if "prelim" in lowered else base
    raise MalformedFileError(
        f"{source}: cannot tell the market: the name is no MISO report id and the title "
        f"{excerpt(title)} names neither the day-ahead nor the real-time market"
    )


def _keys(fields: pl.Expr) -> pl.Expr:
    """`_key` of every field of a list column."""
    return fields.list.eval(
        pl.element().str.replace_all(r"\s+", " ").str.strip_chars().str.to_uppercase()
    )


def split_tables(
    content: bytes, source: str, is_header: HeaderTest
) -> tuple[date, str, list[Table]]:
    """(market day from the preamble, title line, tables): a table starts at each line for
    which `is_header(keys)` holds and runs to the next one; blank lines are skipped."""
    text = decode(content, source)
    lines = (
        pl.Series("text", [text]).str.split("\n").explode().str.strip_chars_end("\r")
        .to_frame().with_row_index("line", offset=1)
        .with_columns(pl.col("line").cast(pl.Int64))
    )  # fmt: skip
    require(text.strip() != "", source, "empty file")
    title = lines["text"][0].strip().strip(",")
    fields = (
        pl.col("text")
        .str.split(",")
        .list.eval(pl.element().str.strip_chars().str.strip_chars('"').str.strip_chars())
    )
    marked = (
        lines.with_columns(fields.alias("fields"))
        .filter(pl.col("fields").list.eval(pl.element() != "").list.any())
        .with_columns(is_header(_keys(pl.col("fields"))).fill_null(False).alias("header"))
        .with_columns(pl.col("header").cum_sum().alias("table"))
    )
    preamble = marked.filter(pl.col("table") == 0)
    dated = preamble.filter(pl.col("fields").list.first().str.contains(_DATE.pattern)).head(1)
    require(dated.height == 1, source, "no market date (MM/DD/YYYY) before the first table")
    first = dated["fields"][0][0]
    month, dom, year = (int(g) for g in _DATE.match(first).groups())  # type: ignore[union-attr]
    try:
        day = date(year, month, dom)
    except ValueError:
        raise MalformedFileError(
            f"{source}: line {dated['line'][0]}: {excerpt(first)} is no date"
        ) from None
    headers = marked.filter(pl.col("header"))
    require(
        headers.height > 0, source, "no header row (Node,Type,Value,HE 1.. or ..MCP Type,HE 1..)"
    )
    body = marked.filter(~pl.col("header") & (pl.col("table") > 0))
    tables = [
        Table(
            headers.select(_keys(pl.col("fields")))[n, 0].to_list(),
            body.filter(pl.col("table") == n + 1).select("line", "fields"),
        )
        for n in range(headers.height)  # one per header row, a handful per file
    ]
    return day, title, tables


def _hours_of(table: Table, first: int, source: str) -> None:
    found = [h.replace(" ", "") for h in table.header[first:]]
    wanted = [h.replace(" ", "") for h in HOURS]
    if found != wanted:
        missing = [h for h in wanted if h not in found]
        unexpected = [h for h in found if h not in wanted]
        raise SchemaDriftError(source, missing, unexpected or ["(hours out of order)"])


def _frame(table: Table, names: list[str], source: str) -> pl.DataFrame:
    width = len(table.header)
    short = table.rows.filter(pl.col("fields").list.len() != width)
    if short.height:
        raise MalformedFileError(
            f"{source}: line {short['line'][0]}: {short['fields'][0].len()} fields where the "
            f"header has {width} ({short.height} such line(s))"
        )
    return table.rows.select(
        *(pl.col("fields").list.get(i).alias(name) for i, name in enumerate(names)), "line"
    )


def _long_hours(frame: pl.DataFrame, ids: list[str], day: date, source: str) -> pl.DataFrame:
    """Wide HE columns to rows with `interval_start`/`interval_end` (UTC) and `value`."""
    typed = numbers(frame, HOURS, source, row_of="line")
    long = typed.unpivot(index=[*ids, "line"], on=HOURS, variable_name="he", value_name="value")
    start = hour_ending_start(pl.lit(day), pl.col("he").str.strip_prefix("HE ").cast(pl.Int64))
    return long.with_columns(start.alias("interval_start")).with_columns(
        (pl.col("interval_start") + HOUR).alias("interval_end")
    )


def lmp_table(content: bytes, source: str) -> pl.DataFrame:
    """A MISO hourly LMP CSV (DA ex-post/ex-ante, RT final/prelim) as the standardized LMP table."""
    day, title, tables = split_tables(content, source, lambda keys: keys.list.first() == "NODE")
    require(len(tables) == 1, source, f"{len(tables)} `Node,Type,Value` headers; expected one")
    (table,) = tables
    if table.header[:3] != ["NODE", "TYPE", "VALUE"]:
        raise SchemaDriftError(source, ["Node", "Type", "Value"], table.header[:3])
    _hours_of(table, 3, source)
    frame = _frame(table, ["location", "location_type", "value_kind", *HOURS], source)
    kinds = frame.get_column("value_kind").str.to_uppercase()
    unknown = (~kinds.is_in(list(LMP_VALUES))).arg_true()
    if len(unknown):
        row = int(unknown[0])
        raise MalformedFileError(
            f"{source}: line {frame['line'][row]}: Value {excerpt(frame['value_kind'][row])} is "
            f"none of {', '.join(LMP_VALUES)}"
        )
    frame = frame.with_columns(kinds.replace_strict(LMP_VALUES).alias("value_kind"))
    long = _long_hours(frame, ["location", "location_type", "value_kind"], day, source)
    keys = ["location", "interval_start", "value_kind"]
    repeated = long.filter(pl.len().over(keys) > 1)
    if repeated.height:
        first = repeated.row(0, named=True)
        raise MalformedFileError(
            f"{source}: line {first['line']}: {first['location']} has {first['value_kind']} "
            f"more than once"
        )
    wide = long.pivot(
        on="value_kind", index=["location", "location_type", "interval_start", "interval_end"],
        values="value",
    )  # fmt: skip
    for column in LMP_VALUES.values():
        if column not in wide.columns:
            wide = wide.with_columns(pl.lit(None, pl.Float64).alias(column))
    market = report_market(source, title)
    return wide.with_columns(
        pl.lit(ISO).alias("iso"),
        pl.lit(market).alias("market"),
        pl.lit(None, pl.Utf8).alias("location_id"),
        pl.lit(None, pl.Utf8).alias("baa"),
        (pl.col("lmp") - pl.col("congestion") - pl.col("loss")).alias("energy"),
        pl.lit(None, pl.Float64).alias("ghg"),
    ).select(LMP_COLUMNS)


def _is_asm_header(keys: pl.Expr) -> pl.Expr:
    squeezed = keys.list.eval(pl.element().str.replace_all(" ", "") == "HE1").list.any()
    return keys.list.contains("MCP TYPE") & squeezed


def as_product(code: pl.Expr) -> pl.Expr:
    """MISO's MCP code (GENREGMCP, StrMcp, ...) to the common product; unknown codes stay."""
    normalized = code.str.to_uppercase().str.replace_all(" ", "")
    return normalized.replace(AS_PRODUCTS)


def as_table(content: bytes, source: str) -> pl.DataFrame:
    """A MISO ASM MCP CSV (both tables) as the standardized AS price table: region `MISO` for
    the MISO-wide MCPs, `Zone n` for the zonal ones; `iso_product` keeps MISO's code."""
    day, title, tables = split_tables(content, source, _is_asm_header)
    frames = []
    for table in tables:
        position = table.header.index("MCP TYPE")
        _hours_of(table, position + 1, source)
        names = [f"_c{i}" for i in range(position)] + ["iso_product", *HOURS]
        frame = _frame(table, names, source)
        if "ZONE" in table.header[:position]:
            zone = frame.get_column(f"_c{table.header.index('ZONE')}").str.extract(r"(\d+)")
            bad = zone.is_null().arg_true()
            if len(bad):
                raise MalformedFileError(
                    f"{source}: line {frame['line'][int(bad[0])]}: no zone number in the Zone column"
                )
            region = ("Zone " + zone).alias("region")
        else:
            label = frame.get_column("_c0").str.to_uppercase()
            region = label.replace({"MISO WIDE": MISO_WIDE}).alias("region")
        frames.append(frame.with_columns(region).select("region", "iso_product", "line", *HOURS))
    require(bool(frames), source, "no MCP table")
    wide = pl.concat(frames)
    long = _long_hours(wide, ["region", "iso_product"], day, source)
    return long.with_columns(
        pl.lit(ISO).alias("iso"),
        pl.lit(report_market(source, title)).alias("market"),
        as_product(pl.col("iso_product")).alias("product"),
        pl.col("value").alias("price"),
    ).select(AS_PRICE_COLUMNS)


def report_day(name: str) -> date | None:
    """The date a report's name starts with (`20240310_...`), or None."""
    found = re.match(r"(\d{8})_", PurePath(name).name)
    if found is None:
        return None
    try:
        return datetime.strptime(found[1], "%Y%m%d").date()
    except ValueError:
        return None
