"""Generated MISO payloads in MISO's published formats, for the fake MISO and the tests.

What belongs here: deterministic values (`lmp`, `mcp`, `actual_load`, `forecast_load`, `fuel_mw`,
`five_minute_lmp`) and the files carrying them, written the way MISO writes them: hour-ending
report CSVs with their preamble (numbers like `.92`), the two-table ASM MCP CSV, the df_al load
workbook (header repeated above each day, a label row per day, a disclaimer), the weekly
5MIN_LMP ZIP, and the public API's JSON. Nothing here imports the parsers: the formats are
written out from MISO's files (see ../shared/samples/miso) so a parser bug cannot agree with
itself.

Times are EST (UTC-5) all year, as MISO's are. The df_al workbook is a real BIFF8 .xls written
with xlwt (a test extra, imported only when a workbook is generated).
"""

import csv
import io
import json
from datetime import date, datetime, timedelta, timezone

from power_assets.demo.synthetic import bump, unit, zip_members

EST = timezone(timedelta(hours=-5), "EST")
NODES = (
    ("ILLINOIS.HUB", "Hub"), ("INDIANA.HUB", "Hub"), ("MICHIGAN.HUB", "Hub"),
    ("AMIL.EDWARDS2", "Gennode"), ("EES.ARKANSAS", "Loadzone"),
)  # fmt: skip
# (MCP code as MISO writes it in the report CSVs) for the MISO-wide and zonal tables.
MCP_TYPES = ("GENREGMCP", "GENSPINMCP", "GENSUPPMCP", "DEMREGMCP", "DEMSPINMCP", "DEMSUPPMCP",
             "STRMCP")  # fmt: skip
ZONES = (1, 2, 3)
LOAD_AREAS = ("LRZ1", "LRZ2_7", "LRZ3_5", "LRZ4", "LRZ6", "LRZ8_9_10", "MISO")
FUELS = ("Coal", "Natural Gas", "Nuclear", "Wind", "Solar", "Storage")
DISCLAIMER = "MISO MAKES NO REPRESENTATIONS OR WARRANTIES OF ANY KIND."
TITLES = {
    "da_expost_lmp": "Day Ahead Market ExPost LMPs", "da_exante_lmp": "Day Ahead Market ExAnte LMPs", "rt_lmp_final": "Real-Time Market Final LMPs",
    "rt_lmp_prelim": "Real-Time Market Preliminary LMPs",
    "asm_expost_damcp": "Dayahead Market MCPs.", "asm_rtmcp_final": "Real Time Final Market MCPs.",
    "asm_rtmcp_prelim": "Real Time Preliminary Market MCPs.",
}  # fmt: skip


def miso_number(value: float) -> str:
    """A number as MISO writes it: up to two decimals, no trailing zeros, no leading zero."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    if text.startswith("0."):
        return text[1:]
    if text.startswith("-0."):
        return "-" + text[2:]
    return "0" if text in ("", "-0") else text


def lmp(report: str, node: str, day: date, he: int) -> dict[str, float]:
    """LMP, MCC and MLC ($/MWh, two decimals) of a node in hour ending `he` of an EST day."""
    base = 25 + 40 * bump(he, 18, 20) + 10 * unit(report, node, day.toordinal(), he)
    mcc = round(8 * unit(node, "mcc", report, day.toordinal(), he) - 4, 2)
    mlc = round(3 * unit(node, "mlc", report, day.toordinal(), he) - 1.5, 2)
    return {"LMP": round(base + mcc + mlc, 2), "MCC": mcc, "MLC": mlc}


def mcp(report: str, region: str, code: str, day: date, he: int) -> float:
    """An ASM MCP ($/MW), regulation above spin above supplemental."""
    scale = {"REG": 12.0, "SPI": 3.0, "SUP": 1.0, "STR": 0.8}[
        code.replace("GEN", "").replace("DEM", "")[:3]
    ]
    return round(scale * (0.5 + unit(report, region, code[3:], day.toordinal(), he)), 2)


def actual_load(area: str, day: date, he: int) -> float:
    peak = 60_000 if area == "MISO" else 9_000
    return round(peak * (0.8 + 0.3 * bump(he, 17, 30)) + 100 * unit(area, day.toordinal(), he), 2)


def forecast_load(area: str, day: date, he: int, published: date) -> float:
    """MTLF of `area` for hour `he` of `day`, as forecast in the df_al of `published`."""
    return float(
        round(actual_load(area, day, he) * (0.97 + 0.06 * unit(area, published.toordinal(), he)))
    )


def fuel_mw(fuel: str, start: datetime) -> float:
    """MW of a fuel in the 5-minute interval starting `start` (aware); storage may be negative."""
    minute = start.astimezone(EST)
    hour = minute.hour + minute.minute / 60
    if fuel == "Storage":
        return float(round(400 * unit(fuel, int(start.timestamp())) - 250))
    size = {"Coal": 25_000, "Natural Gas": 28_000, "Nuclear": 11_000, "Wind": 9_000, "Solar": 4_000}
    return float(
        round(
            size[fuel]
            * (0.6 + 0.4 * bump(hour, 15, 30))
            * (0.9 + 0.1 * unit(fuel, int(start.timestamp())))
        )
    )


def five_minute_lmp(node: str, start: datetime) -> dict[str, float]:
    """5-minute ex-post LMP, MLC, MCC of `node` for the interval starting `start` (aware)."""
    stamp = int(start.timestamp())
    mcc = round(6 * unit(node, "c5", stamp) - 3, 2)
    mlc = round(2 * unit(node, "l5", stamp) - 1, 2)
    return {"LMP": round(30 + 20 * unit(node, stamp) + mcc + mlc, 2), "MCC": mcc, "MLC": mlc}


def five_minute_load(start: datetime) -> float:
    return float(round(70_000 + 5_000 * unit("load5", int(start.timestamp()))))


def day_starts(day: date, step: timedelta) -> list[datetime]:
    """Every interval start of an EST day (24 hours, DST or not), as aware EST datetimes."""
    first = datetime(day.year, day.month, day.day, tzinfo=EST)
    return [first + step * k for k in range(int(timedelta(days=1) / step))]


def _csv(rows: list[list[str]], newline: str = "\n") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=newline).writerows(rows)
    return buffer.getvalue().encode()


def lmp_csv(report: str, day: date) -> bytes:
    """`YYYYMMDD_{report}.csv` for an LMP report: preamble, header, LMP/MCC/MLC rows per node."""
    hours = [f"HE {n}" for n in range(1, 25)]
    rows = [[TITLES[report]], [f"{day:%m/%d/%Y}"], [], ["", "", "", "All Hours-Ending are Eastern Standard Time (EST)"],
            ["Node", "Type", "Value", *hours]]  # fmt: skip
    for value in ("LMP", "MCC", "MLC"):
        for node, kind in NODES:
            prices = [miso_number(lmp(report, node, day, he)[value]) for he in range(1, 25)]
            rows.append([node, kind, value, *prices])
    return _csv(rows)


def asm_csv(report: str, day: date) -> bytes:
    """An ASM MCP CSV: MISO-wide table, blank lines, zonal table (CRLF for the RT files)."""
    hours = [f" HE {n}" for n in range(1, 25)]
    newline = "\r\n" if "rtmcp" in report else "\n"
    rows = [[TITLES[report]], [f"{day:%m/%d/%Y}", "", "All Hours-Ending are Eastern Standard Time (EST)"],
            [], ["", "", "MCP Type", *hours]]  # fmt: skip
    rows += [["MISO Wide", "-", code, *(miso_number(mcp(report, "MISO", code, day, he)) for he in range(1, 25))]
             for code in MCP_TYPES]  # fmt: skip
    rows += [[], [], ["Pnode", "Zone", "MCP Type", *hours]]
    rows += [
        [f"ZONE{zone}.RSV", f"Zone {zone}", code,
         *(miso_number(mcp(report, f"Zone {zone}", code, day, he)) for he in range(1, 25))]
        for zone in ZONES for code in MCP_TYPES
    ]  # fmt: skip
    return _csv(rows, newline)


Cell = str | int | float | datetime | None


def df_al_rows(published: date) -> list[list[Cell]]:
    """The cells of a df_al sheet published on `published`, typed as MISO's .xls types them
    (dates as date cells, hours and MW as numbers, labels as text): actuals of the day before,
    MTLF of that day through published+5. The header sits on row 7 (as since 2026-04-27) for
    files from that date, on row 5 before; it is repeated above every market day."""
    header: list[Cell] = ["Market Day", "HourEnding"]
    for area in LOAD_AREAS:
        header += [f"{area} MTLF (MWh)", f"{area} ActualLoad (MWh)"]
    first = published - timedelta(days=1)
    midnight = datetime(published.year, published.month, published.day)
    rows: list[list[Cell]] = [["FORECASTED AND "], ["ACTUAL LOAD REPORT"]]
    if published >= date(2026, 4, 27):
        rows += [[None], [None]]
    rows += [["Published Date:", midnight],
             ["Reporting Period:", midnight - timedelta(days=1), "through", midnight + timedelta(days=5)]]  # fmt: skip
    for offset in range(7):
        day = first + timedelta(days=offset)
        rows += [header, [f"{day:%B %d, %Y}"]]
        for he in range(1, 25):
            row: list[Cell] = [datetime(day.year, day.month, day.day), he]
            for area in LOAD_AREAS:
                actual = actual_load(area, day, he) if day == first else None
                row += [forecast_load(area, day, he, published), actual]
            rows.append(row)
    rows.append([DISCLAIMER])
    return rows


def xls_workbook(rows: list[list[Cell]]) -> bytes:
    """A BIFF8 .xls with one sheet, `Sheet1`, holding `rows` (None leaves a cell empty; dates
    get a date format, as MISO's do). xlwt is imported here only: importing this module, or
    serving anything but a df_al file, does not need it."""
    import xlwt  # a test extra: only generating a workbook needs it

    book = xlwt.Workbook()
    sheet = book.add_sheet("Sheet1")
    as_date = xlwt.easyxf(num_format_str="yyyy-mm-dd hh:mm:ss")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, datetime):
                sheet.write(r, c, value, as_date)
            elif value is not None:
                sheet.write(r, c, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def df_al(published: date) -> bytes:
    """`YYYYMMDD_df_al.xls` as MISO publishes it: a BIFF8 workbook."""
    return xls_workbook(df_al_rows(published))


def weekly_five_minute_zip(published: date) -> bytes:
    """`{published}_5MIN_LMP.zip`: the Monday-Sunday week ending 8 days before, one CSV."""
    first = published - timedelta(days=14)
    rows = [["Real-Time 5 Minute Ex-Post LMPs"], [f"{first:%m/%d/%Y} - {first + timedelta(days=6):%m/%d/%Y}"], [],
            ["All times are Eastern Standard Time (EST)"], ["MKTHOUR_EST", "PNODENAME", "LMP", "CON_LMP", "LOSS_LMP"]]  # fmt: skip
    for offset in range(7):
        for start in day_starts(first + timedelta(days=offset), timedelta(minutes=5)):
            for node, _ in NODES:
                price = five_minute_lmp(node, start)
                rows.append([f"{start:%m/%d/%Y %H:%M}", node, miso_number(price["LMP"]),
                             miso_number(price["MCC"]), miso_number(price["MLC"])])  # fmt: skip
    rows += [[], ["MISO MAKES NO REPRESENTATIONS OR WARRANTIES."]]
    name = f"{published:%Y%m%d}_5MIN_LMP.csv"
    return zip_members({name: _csv(rows)}, datetime(published.year, published.month, published.day))


def five_minute_api(day: date, until: datetime | None, *, last_only: bool = False) -> bytes:
    """GetRealTimeFiveMinExPost: every node's intervals of `day` ended by `until` (all if None)."""
    starts = [
        s
        for s in day_starts(day, timedelta(minutes=5))
        if until is None or s + timedelta(minutes=5) <= until
    ]
    if last_only:
        starts = starts[-1:]
    data = [[f"{s:%Y-%m-%dT%H:%M:%S}", node, miso_number(p["LMP"]), miso_number(p["MLC"]), miso_number(p["MCC"])]
            for s in starts for node, _ in NODES for p in [five_minute_lmp(node, s)]]  # fmt: skip
    return json.dumps(
        {"headers": ["INTERVAL", "CPNODE", "LMP", "MLC", "MCC"], "data": data}
    ).encode()


def fuel_mix_api(day: date, until: datetime | None) -> bytes:
    starts = [
        s
        for s in day_starts(day, timedelta(minutes=5))
        if until is None or s + timedelta(minutes=5) <= until
    ]
    items = [
        {"INTERVALEST": f"{s:%Y-%m-%d} {s:%I:%M:%S %p}".replace(" 0", " ", 1), "CATEGORY": fuel,
         "ACT": str(int(fuel_mw(fuel, s))), "FUEL_CATEGORY": f"{fuel}  ({int(fuel_mw(fuel, s)):,} MW)"}
        for s in starts for fuel in FUELS
    ]  # fmt: skip
    last = starts[-1] if starts else datetime(day.year, day.month, day.day, tzinfo=EST)
    total = sum(int(fuel_mw(f, last)) for f in FUELS)
    ref = f"{last:%d-%b-%Y} - Interval {last:%H:%M} EST"
    return json.dumps({"RefId": ref, "TotalMW": str(total), "Fuel": {"Type": items}}).encode()


def total_load_api(day: date, until: datetime | None) -> bytes:
    starts = [s for s in day_starts(day, timedelta(minutes=5)) if until is None or s <= until]
    loads = [
        {"Load": {"Time": f"{s:%H:%M}", "Value": str(int(five_minute_load(s)))}} for s in starts
    ]
    ref = f"{day:%d-%b-%Y} - Interval {(starts[-1] if starts else day_starts(day, timedelta(hours=1))[0]):%H:%M} EST"
    return json.dumps({"LoadInfo": {"RefId": ref, "ClearedMW": [], "MediumTermLoadForecast": [],
                                    "FiveMinTotalLoad": loads}}).encode()  # fmt: skip


EXCHANGE_RELABELLED = date(2026, 5, 6)  # Data Exchange labels 5-minute intervals by start since


def exchange_rows(day: date, served: date, version: str = "Final") -> list[dict]:
    """Data Exchange `real-time/{day}/lmp-expost?preliminaryFinal={version}&timeResolution=5min`
    rows, as served on `served`: stamped by interval END before 2026-05-06, by START since
    (MISO's correction, applied to historical dates too), interval by interval, node by node;
    each row says `preliminaryFinal` (`Preliminary` or `Final`)."""
    shift = timedelta(minutes=5) if served < EXCHANGE_RELABELLED else timedelta(0)
    rows = []
    for start in day_starts(day, timedelta(minutes=5)):
        label = start + shift
        for node, _ in NODES:
            price = five_minute_lmp(node, start)
            rows.append({
                "timeInterval": {
                    "resolution": "5min", "start": f"{label:%Y-%m-%d %H:%M:%S}.000",
                    "end": f"{label + timedelta(minutes=5):%Y-%m-%d %H:%M:%S}.000",
                    "value": f"{label:%Y-%m-%dT%H:%M:%S}",
                },
                "preliminaryFinal": version, "node": node, "lmp": price["LMP"],
                "mcc": price["MCC"], "mec": round(price["LMP"] - price["MCC"] - price["MLC"], 2),
                "mlc": price["MLC"],
            })  # fmt: skip
    return rows


def exchange_page(rows: list[dict], number: int, size: int) -> bytes:
    """Page `number` (1-based) of `rows`, `size` rows a page, with Data Exchange's page block."""
    pages = max(1, -(-len(rows) // size))
    chunk = rows[(number - 1) * size : number * size]
    page = {"pageNumber": number, "pageSize": size, "totalElements": len(rows),
            "totalPages": pages, "lastPage": number >= pages}  # fmt: skip
    return json.dumps({"data": chunk, "page": page}).encode()
