"""Synthetic NYISO MIS files: daily CSVs and monthly `_csv.zip` archives in NYISO's formats.

What belongs here: the deterministic generator of NYISO payloads for every MIS folder the pipeline
reads (damlbmp, realtime, rtlbmp with `_zone`/`_gen`; damasp, rtasp, pal, isolf, rtfuelmix), the
format variants seen in real files (truncated `($/MWH` and `Gen MWh` headers, a leading empty line,
with or without a "Time Zone" column) and fault knobs. No I/O or HTTP: `nyiso_server` serves these.

The numbers are invented (a daily shape plus per-location offsets, hashed noise for real time),
never copied from NYISO. The format follows MIS: local `MM/DD/YYYY HH:MM[:SS]` stamps, hourly files
stamped at the hour start, 5-minute realtime/rtasp/rtfuelmix files stamped at interval ends (00:05
of the day through 00:00 of the next), pal at 00:00-23:55, isolf six days from its date; on the
fall-back day the 01:xx stamps repeat (labelled EDT then EST where the file has "Time Zone"), on
the spring-forward day there are no 02:xx stamps. LBMP = energy + losses - published congestion.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from power_assets.demo.synthetic import local_day_bounds, seed, unit, zip_members

EASTERN = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")
HOUR, FIVE_MINUTES = timedelta(hours=1), timedelta(minutes=5)

ZONES = {
    "CAPITL": 61757, "CENTRL": 61754, "DUNWOD": 61760, "GENESE": 61753, "HUD VL": 61758,
    "LONGIL": 61762, "MHK VL": 61756, "MILLWD": 61759, "N.Y.C.": 61761, "NORTH": 61755,
    "WEST": 61752,
}  # fmt: skip
EXTERNALS = {"H Q": 61844, "NPX": 61845, "O H": 61846, "PJM": 61847}
# Invented generator buses (names and PTIDs are not NYISO's).
GENERATORS = {
    "DEMO CC_1": 323001, "DEMO HYDRO_2": 323002, "DEMO PEAKER_3": 323003,
    "DEMO STEAM_4": 323004, "DEMO WIND_5": 323005,
}  # fmt: skip
FUELS = (
    "Dual Fuel", "Natural Gas", "Nuclear", "Other Fossil Fuels", "Other Renewables", "Wind",
    "Hydro",
)  # fmt: skip
ISOLF_COLUMNS = (
    "Capitl", "Centrl", "Dunwod", "Genese", "Hud Vl", "Longil", "Mhk Vl", "Millwd", "N.Y.C.",
    "North", "West",
)  # fmt: skip
AS_COLUMNS = (
    "10 Min Spinning Reserve ($/MWHr)", "10 Min Non-Synchronous Reserve ($/MWHr)",
    "30 Min Operating Reserve ($/MWHr)", "NYCA Regulation Capacity ($/MWHr)",
)  # fmt: skip
MOVEMENT_COLUMN = "NYCA Regulation Movement ($/MW)"
LBMP_COLUMNS = (
    "LBMP ($/MWHr)",
    "Marginal Cost Losses ($/MWHr)",
    "Marginal Cost Congestion ($/MWHr)",
)
_AS_BASE = (6.0, 3.5, 1.75, 9.5)  # cents come from these $/MW bases
_ZONE_LOAD = {
    "CAPITL": 1300, "CENTRL": 1700, "DUNWOD": 650, "GENESE": 1000, "HUD VL": 1050,
    "LONGIL": 2100, "MHK VL": 850, "MILLWD": 320, "N.Y.C.": 5400, "NORTH": 560, "WEST": 1700,
}  # fmt: skip
_FUEL_MW = (3200, 2900, 3300, 15, 260, 900, 3000)
_DOWNSTATE = frozenset({"N.Y.C.", "LONGIL", "DUNWOD", "MILLWD"})


@dataclass(frozen=True)
class MisFolder:
    """One MIS folder's file shape: interval and label, columns, stamp style, days per file."""

    interval: timedelta
    end_labelled: bool
    layout: str  # lbmp, asp, pal, isolf, fuelmix
    time_zone: bool  # the real files carry a "Time Zone" column
    seconds: bool  # stamps written with :SS
    quoted: bool = True
    days: int = 1
    suffixes: tuple[str, ...] = ("",)


_LOC = ("_zone", "_gen")
FOLDERS = {
    "damlbmp": MisFolder(HOUR, False, "lbmp", False, False, suffixes=_LOC),
    "realtime": MisFolder(FIVE_MINUTES, True, "lbmp", False, True, suffixes=_LOC),
    "rtlbmp": MisFolder(HOUR, False, "lbmp", False, False, suffixes=_LOC),
    "damasp": MisFolder(HOUR, False, "asp", True, False),
    "rtasp": MisFolder(FIVE_MINUTES, True, "asp", True, True),
    "pal": MisFolder(FIVE_MINUTES, False, "pal", True, True),
    "isolf": MisFolder(HOUR, False, "isolf", False, False, days=6),
    "rtfuelmix": MisFolder(FIVE_MINUTES, True, "fuelmix", True, True, quoted=False),
}


@dataclass
class Faults:
    """Ways to make a generated file bad, for tests of the pipeline's checks.

    `drop_intervals` are UTC interval starts left out (for `drop_names` only, when given);
    `absurd_value` replaces the first value cell; `missing_column` is a header as written.
    """

    duplicate_rows: int = 0
    drop_intervals: list[datetime] = field(default_factory=list)
    drop_names: list[str] | None = None
    absurd_value: float | None = None
    extra_column: str | None = None
    missing_column: str | None = None


def daily_name(folder: str, day: date, suffix: str = "") -> str:
    return f"{day:%Y%m%d}{folder}{suffix}.csv"


def monthly_name(folder: str, month: date, suffix: str = "") -> str:
    return f"{month:%Y%m}01{folder}{suffix}_csv.zip"


def _shape(hour: float) -> float:
    """Daily shape by local clock hour: night trough, morning ramp, evening peak (about 0.6-1.4)."""
    return (
        0.7
        + 0.5 * math.exp(-((hour - 18.5) ** 2) / 8.0)
        + 0.25 * math.exp(-((hour - 8.0) ** 2) / 4.0)
    )


def _money(cents: int) -> str:
    return f"{'-' if cents < 0 else ''}{abs(cents) // 100}.{abs(cents) % 100:02d}"


@dataclass(frozen=True)
class _Stamp:
    interval_start: datetime  # UTC
    wall: str
    tz: str
    hour: float  # local clock hour of the interval start, for the value shapes
    minute_key: int


def _stamps(spec: MisFolder, day: date, irregular: Sequence[datetime] = ()) -> list[_Stamp]:
    start = local_day_bounds("America/New_York", day)[0]
    end = local_day_bounds("America/New_York", day + timedelta(days=spec.days - 1))[1]
    fmt = "%m/%d/%Y %H:%M:%S" if spec.seconds else "%m/%d/%Y %H:%M"
    instants, cursor = [], start
    while cursor < end:
        instants.append((cursor, cursor + spec.interval if spec.end_labelled else cursor))
        cursor += spec.interval
    for extra in irregular:  # irregular RTD stamps: placed in time order after their neighbour
        extra = extra.astimezone(UTC)
        instants.append((extra - spec.interval, extra))
    instants.sort(key=lambda pair: pair[1])
    stamps = []
    for interval_start, stamp in instants:
        local, local_start = stamp.astimezone(EASTERN), interval_start.astimezone(EASTERN)
        stamps.append(
            _Stamp(
                interval_start,
                local.strftime(fmt),
                local.tzname() or "",
                local_start.hour + local_start.minute / 60,
                int(stamp.timestamp()) // 60,
            )
        )
    return stamps


def _lbmp_rows(spec: MisFolder, suffix: str, stamp: _Stamp, salt: int) -> list[list]:
    names = GENERATORS if suffix == "_gen" else {**ZONES, **EXTERNALS}
    energy = round(100 * (28.0 * _shape(stamp.hour) + 4.0 * math.sin(stamp.minute_key / 1440)))
    if spec.interval < HOUR:
        energy += round(900 * (unit(stamp.minute_key, salt) - 0.5))
    rows = []
    for name in sorted(names):
        salt = seed(name)
        loss = round(energy * ((salt % 1001) / 1000 - 0.45) * 0.08)
        published = 0  # NYISO writes congestion with the opposite sign: negative when it adds
        if name in _DOWNSTATE and stamp.hour >= 16 and stamp.hour < 21:
            published = -round(150 + 700 * unit(salt % 9973, stamp.minute_key))
        lbmp = energy + loss - published
        rows.append([name, names[name], _money(lbmp), _money(loss), _money(published)])
    return rows


def _asp_rows(stamp: _Stamp, real_time: bool) -> list[list]:
    rows = []
    for rank, zone in enumerate(sorted(ZONES)):
        factor = 1.0 + (0.4 if zone in _DOWNSTATE else 0.0) + 0.02 * rank
        noise = 1.0 + (0.3 * unit(stamp.minute_key, rank) if real_time else 0.0)
        values = [_money(round(100 * b * factor * _shape(stamp.hour) * noise)) for b in _AS_BASE]
        if real_time:
            values.append(_money(round(10 + 5 * unit(stamp.minute_key, 7))))
        rows.append([zone, ZONES[zone], *values])
    return rows


def _pal_rows(stamp: _Stamp) -> list[list]:
    rows = []
    for zone in sorted(ZONES):
        tenths = round(10 * _ZONE_LOAD[zone] * _shape(stamp.hour) * (0.98 + 0.04 * unit(
            stamp.minute_key, seed(zone) % 9973)))  # fmt: skip
        rows.append([zone, ZONES[zone], f"{tenths // 10}.{tenths % 10}"])
    return rows


def _fuel_rows(stamp: _Stamp) -> list[list]:
    rows = []
    for fuel, base in zip(FUELS, _FUEL_MW, strict=True):
        scale = 1.0 if fuel == "Nuclear" else _shape(stamp.hour) * (0.95 + 0.1 * unit(
            stamp.minute_key, seed(fuel) % 9973))  # fmt: skip
        rows.append([fuel, f"{round(base * scale)}.0"])
    return rows


def _isolf_row(stamp: _Stamp, day: date) -> list:
    # Each vintage differs a little, so forecasts of one hour published on different days differ.
    drift = 1.0 + 0.01 * ((stamp.interval_start.date() - day).days)
    zones = [round(_ZONE_LOAD[c.upper()] * _shape(stamp.hour) * drift) for c in ISOLF_COLUMNS]
    return [*zones, sum(zones)]


def _header(spec: MisFolder, folder: str, tz: bool, old_headers: bool) -> list[str]:
    time = ["Time Stamp", *(["Time Zone"] if tz else [])]
    if spec.layout == "lbmp":
        values = [c.replace("($/MWHr)", "($/MWH") for c in LBMP_COLUMNS] if old_headers else []
        return [*time, "Name", "PTID", *(values or LBMP_COLUMNS)]
    if spec.layout == "asp":
        movement = [MOVEMENT_COLUMN] if folder == "rtasp" else []
        return [*time, "Name", "PTID", *AS_COLUMNS, *movement]
    if spec.layout == "pal":
        return [*time, "Name", "PTID", "Load"]
    if spec.layout == "fuelmix":
        return [*time, "Fuel Category", "Gen MWh" if old_headers else "Gen MW"]
    return [*time, *ISOLF_COLUMNS, "NYISO"]


def nyiso_csv(
    folder: str,
    day: date,
    suffix: str = "",
    *,
    faults: Faults | None = None,
    time_zone_column: bool | None = None,
    old_headers: bool = False,
    leading_blank_line: bool = False,
    irregular: Sequence[datetime] = (),
    published_until: datetime | None = None,
) -> bytes:
    """The daily CSV NYISO would publish as `{YYYYMMDD}{folder}{suffix}.csv`.

    `time_zone_column` overrides whether a "Time Zone" column is written (default: as the real
    format); `old_headers` writes `($/MWH` / `Gen MWh`; `irregular` adds off-grid RTD stamps
    (UTC instants) to 5-minute end-labelled files; `published_until` (aware) keeps only the
    intervals ending at or before it, as a file still being written through the day.
    """
    if folder not in FOLDERS:
        raise KeyError(f"no generator for NYISO folder {folder!r}; known: {', '.join(FOLDERS)}")
    spec = FOLDERS[folder]
    if suffix not in spec.suffixes:
        raise ValueError(f"{folder} files take suffix {spec.suffixes}, not {suffix!r}")
    faults = faults or Faults()
    tz = spec.time_zone if time_zone_column is None else time_zone_column
    header = _header(spec, folder, tz, old_headers)
    salt = seed(folder + suffix)
    dropped = {t.astimezone(UTC) for t in faults.drop_intervals}
    rows: list[list] = []
    stamps = _stamps(spec, day, irregular)
    if published_until is not None:
        stamps = [s for s in stamps if s.interval_start + spec.interval <= published_until]
    for stamp in stamps:
        if spec.layout == "lbmp":
            body = _lbmp_rows(spec, suffix, stamp, salt)
        elif spec.layout == "asp":
            body = _asp_rows(stamp, folder == "rtasp")
        elif spec.layout == "pal":
            body = _pal_rows(stamp)
        elif spec.layout == "fuelmix":
            body = _fuel_rows(stamp)
        else:
            body = [_isolf_row(stamp, day)]
        for row in body:
            if stamp.interval_start in dropped and (
                faults.drop_names is None or row[0] in faults.drop_names
            ):
                continue
            rows.append([stamp.wall, *([stamp.tz] if tz else []), *row])
    # The first value cell: after the stamp (and zone label), then name and PTID where present.
    value_at = (2 if tz else 1) + {"fuelmix": 1, "isolf": 0}.get(spec.layout, 2)
    if faults.absurd_value is not None and rows:
        rows[0][value_at] = f"{faults.absurd_value:.2f}"
    rows.extend([list(r) for r in rows[: faults.duplicate_rows]])
    if faults.extra_column:
        header = [*header, faults.extra_column]
        rows = [[*r, ""] for r in rows]
    if faults.missing_column:
        cut = header.index(faults.missing_column)
        header = header[:cut] + header[cut + 1 :]
        rows = [r[:cut] + r[cut + 1 :] for r in rows]
    text = _format(header, rows, spec.quoted, tz)
    return (("\r\n" if leading_blank_line else "") + text).encode()


def _format(header: list[str], rows: list[list], quoted: bool, tz: bool) -> str:
    def cell(value: object, text_column: bool) -> str:
        return f'"{value}"' if quoted and text_column else str(value)

    # Stamp, zone label and names are text; numbers (PTID, values) are never quoted.
    text_columns = {0, 1, 2} if tz else {0, 1}
    if "Fuel Category" in header:
        text_columns = {header.index("Fuel Category"), 0, *({1} if tz else set())}
    if "NYISO" in header:
        text_columns = {0}
    lines = [",".join(f'"{h}"' if quoted else h for h in header)]
    lines += [",".join(cell(v, i in text_columns) for i, v in enumerate(row)) for row in rows]
    return "\r\n".join(lines) + "\r\n"


def nyiso_month_zip(
    folder: str,
    month: date,
    suffix: str = "",
    *,
    skip_days: Sequence[date] = (),
    faults: Faults | None = None,
    published_until: datetime | None = None,
    **variants: bool,
) -> bytes:
    """The monthly archive `{YYYYMM01}{folder}{suffix}_csv.zip`: the month's daily CSVs but
    `skip_days`, each cut at `published_until` as `nyiso_csv` cuts it."""
    first = month.replace(day=1)
    next_month = (first + timedelta(days=32)).replace(day=1)
    members = {}
    day = first
    while day < next_month:
        if day not in skip_days:
            members[daily_name(folder, day, suffix)] = nyiso_csv(
                folder, day, suffix, faults=faults, published_until=published_until, **variants
            )
        day += timedelta(days=1)
    return zip_members(members, datetime.combine(next_month, datetime.min.time()))
