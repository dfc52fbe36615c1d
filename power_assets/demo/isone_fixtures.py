"""Synthetic ISO-NE responses: ISO Express record-format CSVs and web-services JSON.

What belongs here: the deterministic generator of ISO-NE payloads (day-ahead and real-time hourly
LMP CSVs, the six 5-minute LMP CSVs of a day, genfuelmix, hourlysysload and fiveminutereserveprice
JSON) and the fault knobs that make them bad in controlled ways. No I/O, no HTTP: `isone_server`
serves these bytes.

The numbers are invented (a daily shape plus per-location offsets and deterministic noise), never
taken from ISO-NE data. The *formats* follow ISO-NE: "C"/"H"/"D"/"T" records with strings quoted and
numbers bare, `Date` as MM/DD/YYYY and `Hour Ending` "01".."24" with no "02" on the spring-forward
day and "02" then "02X" on the fall-back day; 5-minute files by local `Local Time` (the fall-back
day's 01:00-01:55 twice, with no marker); JSON `BeginDate` as local time with its UTC offset;
genfuelmix snapshots at irregular times, Solar only in daylight and Other now and then. Each
generator takes `published_until` (aware; None: the whole day) and then keeps only the intervals
ended by it, as a report still growing through its day.
"""

import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from power_assets.demo.synthetic import bump, local_day_bounds, unit

# ISO-NE's format, written out as ISO Express publishes it (not taken from the parser).
TIMEZONE = "America/New_York"
EASTERN = ZoneInfo(TIMEZONE)
# The six 5-minute LMP files of a day, by local clock hours.
RT5_BLOCKS = ("00-04", "04-08", "08-12", "12-16", "16-20", "20-24")
HOURLY_LMP_COLUMNS = [
    "Date", "Hour Ending", "Location ID", "Location Name", "Location Type",
    "Locational Marginal Price", "Energy Component", "Congestion Component",
    "Marginal Loss Component",
]  # fmt: skip
RT5_LMP_COLUMNS = [
    "Location ID", "Local Time", "Energy Component", "Congestion Component", "Loss Component", "LMP",
]  # fmt: skip
# The hub and the eight load zones: (Location ID, Location Name, Location Type).
ISO_NE_ZONES = [
    ("4000", ".H.INTERNAL_HUB", "HUB"), ("4001", ".Z.MAINE", "LOAD ZONE"),
    ("4002", ".Z.NEWHAMPSHIRE", "LOAD ZONE"), ("4003", ".Z.VERMONT", "LOAD ZONE"),
    ("4004", ".Z.CONNECTICUT", "LOAD ZONE"), ("4005", ".Z.RHODEISLAND", "LOAD ZONE"),
    ("4006", ".Z.SEMASS", "LOAD ZONE"), ("4007", ".Z.WCMASS", "LOAD ZONE"),
    ("4008", ".Z.NEMASSBOST", "LOAD ZONE"),
]  # fmt: skip


def rt5_windows(day: date) -> list[tuple[datetime, datetime]]:
    """UTC spans of the six 5-minute files: local 00:00, 04:00, ... 24:00 on the wall clock, so
    on the DST days the 00-04 file spans 3 or 5 real hours."""
    midnight = local_day_bounds(TIMEZONE, day)[1]
    edges = [
        datetime(day.year, day.month, day.day, hour, tzinfo=EASTERN) for hour in range(0, 24, 4)
    ]
    utc = [edge.astimezone(UTC) for edge in edges] + [midnight]
    return list(itertools.pairwise(utc))


FIVE_MINUTES = timedelta(minutes=5)
# (Location ID, Location Name, Location Type): hub, the eight load zones and a few invented nodes.
DEMO_LOCATIONS: list[tuple[str, str, str]] = [
    *ISO_NE_ZONES,
    ("10501", "UN.DEMO_GEN1 13.8DG1", "NETWORK NODE"),
    ("10502", "LD.DEMO_LOAD  115", "NETWORK NODE"),
    ("4011", ".I.DEMO_TIE 345 1", "EXT. NODE"),
]
RESERVE_ZONES = [(7000, "ROS"), (7001, "SWCT"), (7002, "CT"), (7003, "NEMABSTN")]
# Fuel category -> (rollup, typical MW); Solar follows the sun, Other is only sometimes reported.
FUELS = {
    "Natural Gas": ("Natural Gas", 6500.0), "Nuclear": ("Nuclear", 3300.0),
    "Hydro": ("Hydro", 600.0), "Wind": ("Renewables", 700.0), "Solar": ("Renewables", 1500.0),
    "Wood": ("Renewables", 170.0), "Refuse": ("Renewables", 310.0),
    "Landfill Gas": ("Renewables", 4.0), "Other": ("Other", 3.0),
    "Pumped Storage": ("Hydro", -150.0),
}  # fmt: skip
REPORT_TITLES = {
    "da": "Day-Ahead Energy Market Hourly LMP Report",
    "rt_final": "Real-Time Energy Market Hourly Final LMP Report",
    "rt_prelim": "Real-Time Energy Market Hourly Preliminary LMP Report",
}
NO_DATA_BODY = b"No data exists for this period.\n"
MAINTENANCE_HTML = (
    b"<!DOCTYPE html><html><head><title>ISO Express</title></head><body><h1>ISO Express is "
    b"temporarily unavailable for scheduled maintenance.</h1></body></html>"
)


@dataclass
class Faults:
    """Ways to make a generated response bad, for tests of the pipeline's checks.

    `drop_intervals` are UTC interval starts; `drop_locations` limits them to those location
    names (AS: reserve zones, fuel mix: fuels); None means all. `absurd_price` replaces one value
    (LMP, reserve price, GenMw or Load). `wrong_trailer` adds that many to a CSV's trailer count.
    """

    duplicate_rows: int = 0
    drop_intervals: list[datetime] = field(default_factory=list)
    drop_locations: list[str] | None = None
    absurd_price: float | None = None
    extra_column: str | None = None
    missing_column: str | None = None
    wrong_trailer: int = 0


def _energy(local: datetime) -> float:
    """System energy price by local clock time: morning ramp, midday dip, evening peak."""
    hour = local.hour + local.minute / 60
    peaks = 30.0 * bump(hour, 18.5, 5.0) + 9.0 * bump(hour, 8.0, 3.0)
    return 35.0 + peaks - 8.0 * bump(hour, 13.0, 8.0) + 5.0 * math.sin(local.toordinal() * 0.7)


def _price(instant: datetime, loc_id: str, real_time: bool) -> tuple[float, float, float, float]:
    """(lmp, energy, congestion, loss) rounded to cents; lmp is exactly their sum."""
    local = instant.astimezone(EASTERN)
    energy = _energy(local)
    if real_time:
        energy += (unit(int(instant.timestamp()) // 60, 3) - 0.5) * 10.0
    congestion = (unit(loc_id, 1) - 0.5) * 4.0 * (1.0 + bump(local.hour, 18.0, 6.0))
    loss = (unit(loc_id, 2) - 0.5) * 0.06 * energy
    energy, congestion, loss = round(energy, 2), round(congestion, 2), round(loss, 2)
    return round(energy + congestion + loss, 2), energy, congestion, loss


def hour_labels(day: date) -> list[tuple[str, datetime]]:
    """(Hour Ending label, UTC start) of every hour of the market day, in order."""
    start, end = local_day_bounds(TIMEZONE, day)
    hours = int((end - start) / timedelta(hours=1))
    labels = [f"{n:02d}" for n in range(1, 25)]
    if hours == 23:
        labels.remove("02")
    elif hours == 25:
        labels.insert(2, "02X")
    return [(label, start + timedelta(hours=k)) for k, label in enumerate(labels)]


def _fmt(value: float | str) -> str:
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    return f"{value + 0.0:.2f}"  # + 0.0 turns -0.0 into 0.0


def record_file(
    comments: Sequence[str], header: Sequence[str], rows: Sequence[Sequence[float | str]],
    *, types: Sequence[str] | None = None, trailer_delta: int = 0,
) -> bytes:  # fmt: skip
    """An ISO Express record-format file: strings quoted, numbers bare, trailer = data lines."""
    lines = [f'"C",{_fmt(c)}' for c in comments]
    lines.append('"H",' + ",".join(_fmt(h) for h in header))
    if types is not None:
        lines.append('"H",' + ",".join(_fmt(t) for t in types))
    lines.extend('"D",' + ",".join(_fmt(v) for v in row) for row in rows)
    lines.append(f'"T","{len(rows) + trailer_delta} lines"')
    return ("\r\n".join(lines) + "\r\n").encode()


def _apply(rows: list[dict], faults: Faults, value_key: str, key: str) -> list[dict]:
    """Drop, corrupt and duplicate rows (dicts holding `_start`, `key` and `value_key`)."""
    drops = {t.astimezone(UTC) for t in faults.drop_intervals}
    rows = [
        r for r in rows
        if not (r["_start"] in drops
                and (faults.drop_locations is None or r[key] in faults.drop_locations))
    ]  # fmt: skip
    if faults.absurd_price is not None and rows:
        rows[0] = {**rows[0], value_key: faults.absurd_price}
    return rows + rows[: faults.duplicate_rows]


def _published(rows: list[dict], interval: timedelta, until: datetime | None) -> list[dict]:
    """The rows whose interval (from `_start`) has ended by `until`; all of them for None."""
    return rows if until is None else [r for r in rows if r["_start"] + interval <= until]


def _columns(columns: Sequence[str], faults: Faults) -> list[str]:
    out = [c for c in columns if c != faults.missing_column]
    return [*out, faults.extra_column] if faults.extra_column else out


def hourly_lmp_csv(
    day: date, report: str = "da", *, locations: Sequence[tuple[str, str, str]] = DEMO_LOCATIONS,
    faults: Faults | None = None, published_until: datetime | None = None,
) -> bytes:  # fmt: skip
    """WW_DALMP_ISO (report "da") or lmp_rt_final / lmp_rt_prelim ("rt_final"/"rt_prelim")."""
    faults = faults or Faults()
    rows = []
    for label, start in hour_labels(day):
        for loc_id, name, kind in locations:
            lmp, energy, congestion, loss = _price(start, loc_id, report != "da")
            rows.append({
                "_start": start, "Date": f"{day:%m/%d/%Y}", "Hour Ending": label,
                "Location ID": loc_id, "Location Name": name, "Location Type": kind,
                "Locational Marginal Price": lmp, "Energy Component": energy,
                "Congestion Component": congestion, "Marginal Loss Component": loss,
            })  # fmt: skip
    rows = _published(rows, timedelta(hours=1), published_until)
    rows = _apply(rows, faults, "Locational Marginal Price", "Location Name")
    columns = _columns(HOURLY_LMP_COLUMNS, faults)
    prefix = {"da": "WW_DALMP_ISO_", "rt_final": "lmp_rt_final_", "rt_prelim": "lmp_rt_prelim_"}
    comments = [
        REPORT_TITLES[report], f"Filename: {prefix[report]}{day:%Y%m%d}.csv",
        f"Report for {day:%m/%d/%Y}", f"Report generated {day - timedelta(days=1):%m/%d/%Y} 13:30:00",
    ]  # fmt: skip
    types = ["Date", "String", "Number", "String", "String", "Number", "Number", "Number", "Number"]
    return record_file(
        comments, columns, [[r.get(c, "") for c in columns] for r in rows],
        types=types if len(columns) == len(types) else None, trailer_delta=faults.wrong_trailer,
    )  # fmt: skip


def rt5_lmp_csv(
    day: date, block: str, *, locations: Sequence[tuple[str, str, str]] = DEMO_LOCATIONS,
    faults: Faults | None = None, published_until: datetime | None = None,
) -> bytes:  # fmt: skip
    """lmp_5min_{YYYYMMDD}_{block}.csv: every 5-minute interval of the local 4-hour block, all
    locations per interval, `Local Time` the local wall-clock interval start."""
    faults = faults or Faults()
    start, end = rt5_windows(day)[RT5_BLOCKS.index(block)]
    rows, instant = [], start
    while instant < end:
        for loc_id, name, _ in locations:
            lmp, energy, congestion, loss = _price(instant, loc_id, True)
            rows.append({
                "_start": instant, "_name": name, "Location ID": loc_id,
                "Local Time": f"{instant.astimezone(EASTERN):%H:%M:%S}", "LMP": lmp,
                "Energy Component": energy, "Congestion Component": congestion,
                "Loss Component": loss,
            })  # fmt: skip
        instant += FIVE_MINUTES
    rows = _published(rows, FIVE_MINUTES, published_until)
    rows = _apply(rows, faults, "LMP", "_name")
    columns = _columns(RT5_LMP_COLUMNS, faults)
    comments = [
        "Five-Minute Real-Time Preliminary LMP Report", f"Filename: lmp_5min_{day:%Y%m%d}_{block}.csv",
        f"Report for {day:%m/%d/%Y}", f"Hours {block}",
    ]  # fmt: skip
    return record_file(
        comments,
        columns,
        [[r.get(c, "") for c in columns] for r in rows],
        trailer_delta=faults.wrong_trailer,
    )


def _local_iso(instant: datetime) -> str:
    """`2024-11-03T01:08:35.000-04:00`, as the web services write BeginDate."""
    return instant.astimezone(EASTERN).isoformat(timespec="milliseconds")


def _json(wrapper: str, record: str, rows: list[dict], faults: Faults) -> bytes:
    out = []
    for row in rows:
        item = {k: v for k, v in row.items() if not k.startswith("_")}
        item.pop(faults.missing_column or "", None)
        if faults.extra_column:
            item[faults.extra_column] = 0
        out.append(item)
    return json.dumps({wrapper: {record: out}}, separators=(",", ":")).encode()


def snapshot_times(day: date) -> list[datetime]:
    """Irregular genfuelmix snapshot instants (UTC): every 1.5 to 11 minutes, odd seconds."""
    start, end = local_day_bounds(TIMEZONE, day)
    instant = start + timedelta(seconds=int(30 + 400 * unit(day.toordinal(), 0)))
    out = []
    while instant < end:
        out.append(instant)
        instant += timedelta(seconds=int(90 + 570 * unit(int(instant.timestamp()), 5)))
    return out


def genfuelmix_json(
    day: date, faults: Faults | None = None, published_until: datetime | None = None
) -> bytes:
    """genfuelmix/day/{YYYYMMDD}: one record per fuel per snapshot, snapshots at irregular times
    (a snapshot counts as published with the 5-minute interval it falls in)."""
    faults = faults or Faults()
    rows = []
    for instant in snapshot_times(day):
        local = instant.astimezone(EASTERN)
        hour = local.hour + local.minute / 60
        for fuel, (rollup, typical) in FUELS.items():
            if fuel == "Solar" and not 7 <= hour < 18:
                continue
            if fuel == "Other" and unit(int(instant.timestamp()), 9) < 0.2:
                continue
            shape = bump(hour, 12.5, 9.0) if fuel == "Solar" else 0.8 + 0.3 * bump(hour, 18, 20)
            rows.append({
                "_start": instant.replace(second=0, minute=instant.minute // 5 * 5),
                "BeginDate": _local_iso(instant), "GenMw": round(typical * shape),
                "FuelCategoryRollup": rollup, "FuelCategory": fuel,
                "MarginalFlag": "Y" if fuel == "Natural Gas" else "N",
            })  # fmt: skip
    rows = _published(rows, FIVE_MINUTES, published_until)
    rows = _apply(rows, faults, "GenMw", "FuelCategory")
    return _json("GenFuelMixes", "GenFuelMix", rows, faults)


def hourlysysload_json(
    day: date, faults: Faults | None = None, published_until: datetime | None = None
) -> bytes:
    """hourlysysload/day/{YYYYMMDD}: one system-total record per hour (NEPOOL AREA)."""
    faults = faults or Faults()
    rows = []
    for _, start in hour_labels(day):
        local = start.astimezone(EASTERN)
        load = 11_000 + 4_000 * bump(local.hour, 18.0, 12.0) + 300 * unit(day.toordinal(), 1)
        ard = 20 + 300 * bump(local.hour, 3.0, 6.0)
        rows.append({
            "_start": start, "BeginDate": _local_iso(start),
            "Location": {"@LocId": "32", "$": "NEPOOL AREA"}, "Load": round(load, 3),
            "NativeLoad": round(load - ard, 3), "ArdDemand": round(ard, 3), "_name": "NEPOOL AREA",
        })  # fmt: skip
    rows = _published(rows, timedelta(hours=1), published_until)
    rows = _apply(rows, faults, "Load", "_name")
    return _json("HourlySystemLoads", "HourlySystemLoad", rows, faults)


def reserve_price_json(
    day: date, faults: Faults | None = None, published_until: datetime | None = None
) -> bytes:
    """fiveminutereserveprice/final/day/{YYYYMMDD}: every 5 minutes, each reserve zone; a few
    BeginDates carry a stray second as the real service's do."""
    faults = faults or Faults()
    start, end = local_day_bounds(TIMEZONE, day)
    rows, instant = [], start
    while instant < end:
        stamp = instant + timedelta(seconds=1 if unit(int(instant.timestamp()), 4) < 0.05 else 0)
        scarce = bump(instant.astimezone(EASTERN).hour, 18.0, 4.0)
        for zone_id, zone in RESERVE_ZONES:
            row = {"_start": instant, "BeginDate": _local_iso(stamp), "ReserveZoneId": zone_id,
                   "ReserveZoneName": zone}  # fmt: skip
            if zone == "ROS":
                row |= {"TenMinSpinRequirement": 480, "Total10MinRequirement": 1550}
            tmor = round(2.0 * scarce * unit(int(instant.timestamp()), zone_id), 2)
            row |= {
                "Total30MinRequirement": 2360 if zone == "ROS" else 700,
                "TmsrDesignatedMw": 190.5, "TmnsrDesignatedMw": 2400.0, "TmorDesignatedMw": 650.0,
                "TmsrClearingPrice": round(tmor + 4.0 * scarce + 0.5, 2),
                "TmnsrClearingPrice": tmor, "TmorClearingPrice": tmor,
            }  # fmt: skip
            rows.append(row)
        instant += FIVE_MINUTES
    rows = _published(rows, FIVE_MINUTES, published_until)
    rows = _apply(rows, faults, "TmsrClearingPrice", "ReserveZoneName")
    return _json("FiveMinReservePrices", "FiveMinReservePrice", rows, faults)
