"""Synthetic ERCOT documents: report CSVs, MIS document ZIPs and users' bulk archives.

What belongs here: the deterministic generator of ERCOT payloads the pipeline reads (DAM and
real-time settlement point prices, SCED LMPs, DAM AS clearing prices, actual load by weather zone,
the seven-day load forecast), the documents one market day produces as ERCOT posts them (report
type, friendly and constructed `cdr.` names, post times), and bulk archives nested like the ones
users already hold. No HTTP: `ercot_server` serves these.

The numbers are invented (a daily shape plus hashed per-location offsets and noise) and exposed as
pure functions (`price`, `mcpc`, `actual_load`, `load_forecast`) so tests can compute the expected
value of any row. Formats follow the real files: `MM/DD/YYYY` dates, hour ending "01:00".."24:00"
(the spring-forward day skips 02:00; the fall-back day repeats it with DSTFlag "Y" on the second,
standard-time, occurrence), DAM prices written with a leading space, trailing zeros dropped.
"""

import io
import math
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from power_assets.demo.ercot_disclosure_fixtures import disclosure_doc
from power_assets.demo.ercot_documents import (
    ACTUAL_LOAD,
    DAM_AS,
    DAM_SPP,
    LOAD_FORECAST,
    RT_SPP,
    SCED_LMP,
    ErcotDoc,
    doc_zip,
    make_doc,
)
from power_assets.demo.synthetic import local_day_bounds, seed, unit, zip_members

TIMEZONE = "America/Chicago"
CENTRAL = ZoneInfo(TIMEZONE)
UTC = ZoneInfo("UTC")
HOUR, FIFTEEN_MINUTES, FIVE_MINUTES = (timedelta(minutes=m) for m in (60, 15, 5))

HUBS = (
    ("HB_BUSAVG", "SH"), ("HB_HOUSTON", "HU"), ("HB_NORTH", "HU"), ("HB_PAN", "HU"),
    ("HB_SOUTH", "HU"), ("HB_WEST", "HU"), ("HB_HUBAVG", "AH"),
)  # fmt: skip
LOAD_ZONES = (
    "LZ_AEN", "LZ_CPS", "LZ_HOUSTON", "LZ_LCRA", "LZ_NORTH", "LZ_RAYBN", "LZ_SOUTH", "LZ_WEST",
)  # fmt: skip
AS_PRODUCTS = ("REGUP", "REGDN", "RRS", "NSPIN", "ECRS")
WEATHER_ZONES = ("COAST", "EAST", "FAR_WEST", "NORTH", "NORTH_C", "SOUTHERN", "SOUTH_C", "WEST")
FORECAST_ZONES = ("North", "South", "West", "Houston")
# `price` markets (the dataset ids they feed) and the interval each one prices.
MARKETS = {"lmp_da": HOUR, "lmp_rt15": FIFTEEN_MINUTES, "lmp_rt5": FIVE_MINUTES}


_AS_BASE = {"REGUP": 6.0, "REGDN": 3.0, "RRS": 4.0, "NSPIN": 2.5, "ECRS": 5.0}
_ZONE_LOAD = {
    "COAST": 13000, "EAST": 1700, "FAR_WEST": 5500, "NORTH": 1100, "NORTH_C": 14000,
    "SOUTHERN": 3800, "SOUTH_C": 7600, "WEST": 1400,
}  # fmt: skip
_FORECAST_LOAD = {"North": 15000, "South": 12000, "West": 8800, "Houston": 12500}


# -- locations and the market day ----------------------------------------------------------------


def settlement_points(n_resource_nodes: int = 20) -> list[tuple[str, str]]:
    """(name, type) of every settlement point a real-time SPP file lists: hubs, each load zone
    twice (LZ and the energy-weighted LZEW), then `RN0001_RN`... resource nodes."""
    zones = [(zone, kind) for zone in LOAD_ZONES for kind in ("LZ", "LZEW")]
    nodes = [(f"RN{i:04d}_RN", "RN") for i in range(1, n_resource_nodes + 1)]
    return [*HUBS, *zones, *nodes]


def _named(points: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Points of the files without a type column: one row per name (no LZEW), sorted by name."""
    return sorted((name, kind) for name, kind in points if kind != "LZEW")


@dataclass(frozen=True)
class MarketHour:
    """One hour of an ERCOT market day as the files label it."""

    start_utc: datetime
    hour_ending: int
    repeated: bool  # the second, standard-time 01:00-02:00 of the fall-back day

    @property
    def dst_flag(self) -> str:
        return "Y" if self.repeated else "N"


def market_hours(day: date) -> list[MarketHour]:
    """The 23, 24 or 25 hours of market day `day`, labelled as ERCOT labels them.

    Labels go by position, not wall-clock arithmetic: the spring-forward day runs HE 1, 3, 4 ...
    24; the fall-back day HE 1, 2, 2 (DSTFlag Y), 3 ... 24.
    """
    start, end = local_day_bounds(TIMEZONE, day)
    count = int((end - start) / HOUR)
    hours = []
    for k in range(count):
        if count == 23:
            label = 1 if k == 0 else k + 2
        elif count == 25:
            label = k + 1 if k < 2 else max(k, 2)
        else:
            label = k + 1
        hours.append(MarketHour(start + k * HOUR, label, count == 25 and k == 2))
    return hours


def _hour(day: date, hour_ending: int, repeated: bool) -> MarketHour:
    for hour in market_hours(day):
        if (hour.hour_ending, hour.repeated) == (hour_ending, repeated):
            return hour
    raise ValueError(f"{day}: ERCOT has no hour ending {hour_ending} (repeated={repeated})")


# -- the numbers ------------------------------------------------------------------------------


def _shape(hour: float) -> float:
    """Daily shape by local clock hour: night trough, morning ramp, evening peak (about 0.7-1.3)."""
    return (
        0.7
        + 0.55 * math.exp(-((hour - 17.5) ** 2) / 9.0)
        + 0.2 * math.exp(-((hour - 7.5) ** 2) / 4.0)
    )


def _floor(instant: datetime, step: timedelta) -> datetime:
    if instant.tzinfo is None:
        raise ValueError(f"{instant}: give an aware instant (UTC), not a naive wall time")
    seconds = int(instant.timestamp())
    return datetime.fromtimestamp(seconds - seconds % int(step.total_seconds()), UTC)


def _local_hour(instant: datetime) -> float:
    local = instant.astimezone(CENTRAL)
    return local.hour + local.minute / 60


def price(location: str, interval_start_utc: datetime, market: str, point_type: str = "") -> float:
    """The generated price of `location` for the interval starting at `interval_start_utc`.

    `market` is a key of MARKETS: "lmp_da" (hourly DAM SPP), "lmp_rt15" (15-minute RT SPP),
    "lmp_rt5" (SCED LMP; a run is priced at its 5-minute mark, the seconds dropped). The instant is
    floored to the market's interval. `point_type` "LZEW" prices the energy-weighted twin of a
    load zone a few cents off the LZ row. Some resource nodes go negative overnight.
    """
    if market not in MARKETS:
        raise KeyError(f"unknown market {market!r}; known: {', '.join(MARKETS)}")
    start = _floor(interval_start_utc, MARKETS[market])
    hour, salt, minute = _local_hour(start), seed(location), int(start.timestamp()) // 60
    offset = ((salt % 801) - 400) / 100
    value = 20.0 + 16.0 * _shape(hour) + (offset / 4 if location.startswith("HB_") else offset)
    if market == "lmp_rt15":
        value += -1.5 + 6.0 * unit(minute, salt % 9973)
    elif market == "lmp_rt5":
        value += -2.0 + 8.0 * unit(minute, salt % 9973, 5)
    if location.endswith("_RN") and salt % 5 == 0 and 2 <= hour < 6:
        value -= 45.0  # curtailed wind behind a constraint
    if point_type == "LZEW":
        value += 0.01 + 0.02 * unit(minute, salt % 97)
    return round(value, 2)


def mcpc(product: str, interval_start_utc: datetime) -> float:
    """The generated DAM ancillary service clearing price of `product` for one hour."""
    if product not in _AS_BASE:
        raise KeyError(f"unknown AS product {product!r}; known: {', '.join(AS_PRODUCTS)}")
    start = _floor(interval_start_utc, HOUR)
    noise = 0.8 + 0.4 * unit(int(start.timestamp()) // 3600, seed(product) % 9973)
    return round(_AS_BASE[product] * _shape(_local_hour(start)) * noise, 2)


def _cents(value: float) -> int:
    return round(value * 100)


def actual_load(zone: str, interval_start_utc: datetime) -> float:
    """Generated actual load (MW) of a weather zone for one hour; "TOTAL" is their sum."""
    if zone == "TOTAL":
        return sum(_cents(actual_load(z, interval_start_utc)) for z in WEATHER_ZONES) / 100
    if zone not in _ZONE_LOAD:
        raise KeyError(f"unknown weather zone {zone!r}; known: {', '.join(WEATHER_ZONES)}")
    start = _floor(interval_start_utc, HOUR)
    noise = 0.97 + 0.06 * unit(int(start.timestamp()) // 3600, seed(zone) % 9973)
    return round(_ZONE_LOAD[zone] * _shape(_local_hour(start)) * noise, 2)


def load_forecast(zone: str, interval_start_utc: datetime, issued: datetime) -> float:
    """Generated forecast load (MW) of a forecast zone for one hour, as issued at `issued`
    (aware); "SystemTotal" is the zones' sum. Each vintage differs, so tests can tell them apart."""
    if zone == "SystemTotal":
        return (
            sum(_cents(load_forecast(z, interval_start_utc, issued)) for z in FORECAST_ZONES) / 100
        )
    if zone not in _FORECAST_LOAD:
        raise KeyError(f"unknown forecast zone {zone!r}; known: {', '.join(FORECAST_ZONES)}")
    start = _floor(interval_start_utc, HOUR)
    issued_local = issued.astimezone(CENTRAL)
    lead_days = (start.astimezone(CENTRAL).date() - issued_local.date()).days
    drift = 1.0 + 0.01 * lead_days + 0.002 * issued_local.hour
    return round(_FORECAST_LOAD[zone] * _shape(_local_hour(start)) * drift, 2)


# -- CSV builders -----------------------------------------------------------------------------


def _num(value: float) -> str:
    """A value written like ERCOT writes it: up to two decimals, trailing zeros dropped."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _mdy(day: date) -> str:
    return f"{day:%m/%d/%Y}"


def _csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    lines = [",".join(header), *(",".join(row) for row in rows)]
    return ("\r\n".join(lines) + "\r\n").encode()


def dam_spp_csv(day: date, points: Sequence[tuple[str, str]]) -> bytes:
    """NP4-190-CD for market day `day`: one row per hour and settlement point (no LZEW rows, no
    type column), prices with ERCOT's leading space."""
    rows = [
        (_mdy(day), f"{hour.hour_ending:02d}:00", name,
         f" {_num(price(name, hour.start_utc, 'lmp_da', kind))}", hour.dst_flag)
        for hour in market_hours(day)
        for name, kind in _named(points)
    ]  # fmt: skip
    header = ("DeliveryDate", "HourEnding", "SettlementPoint", "SettlementPointPrice", "DSTFlag")
    return _csv(header, rows)


def rt_spp_csv(
    day: date, hour_ending: int, interval: int, repeated: bool, points: Sequence[tuple[str, str]]
) -> bytes:
    """NP6-905-CD for one 15-minute interval (1..4) of an hour of market day `day`."""
    if not 1 <= interval <= 4:
        raise ValueError(f"DeliveryInterval is 1..4, not {interval}")
    start = _hour(day, hour_ending, repeated).start_utc + (interval - 1) * FIFTEEN_MINUTES
    flag = "Y" if repeated else "N"
    rows = [
        (_mdy(day), str(hour_ending), str(interval), name, kind,
         _num(price(name, start, "lmp_rt15", kind)), flag)
        for name, kind in sorted(points)
    ]  # fmt: skip
    header = (
        "DeliveryDate", "DeliveryHour", "DeliveryInterval", "SettlementPointName",
        "SettlementPointType", "SettlementPointPrice", "DSTFlag",
    )  # fmt: skip
    return _csv(header, rows)


def localize(wall: datetime, repeated: bool) -> datetime:
    """The UTC instant of a naive Central wall time; `repeated` picks the second (CST) occurrence
    of a fall-back wall time. Raises for wall times the spring-forward day skips."""
    aware = wall.replace(tzinfo=CENTRAL, fold=1 if repeated else 0)
    instant = aware.astimezone(UTC)
    back = instant.astimezone(CENTRAL)
    if back.replace(tzinfo=None) != wall:
        raise ValueError(f"{wall}: this wall time does not exist in {TIMEZONE}")
    if repeated and back.fold != 1:
        raise ValueError(f"{wall}: only a fall-back 01:xx wall time can be the repeated one")
    return instant


def sced_lmp_csv(run_local: datetime, repeated: bool, points: Sequence[tuple[str, str]]) -> bytes:
    """NP6-788-CD for one SCED run at naive Central wall time `run_local`."""
    run = localize(run_local, repeated)
    rows = [
        (f"{run_local:%m/%d/%Y %H:%M:%S}", "Y" if repeated else "N", name,
         _num(price(name, run, "lmp_rt5", kind)))
        for name, kind in _named(points)
    ]  # fmt: skip
    return _csv(("SCEDTimestamp", "RepeatedHourFlag", "SettlementPoint", "LMP"), rows)


def dam_as_csv(day: date) -> bytes:
    """NP4-188-CD for market day `day`: one row per hour and AS product."""
    rows = [
        (_mdy(day), f"{hour.hour_ending:02d}:00", product,
         _num(mcpc(product, hour.start_utc)), hour.dst_flag)
        for hour in market_hours(day)
        for product in AS_PRODUCTS
    ]  # fmt: skip
    return _csv(("DeliveryDate", "HourEnding", "AncillaryType", "MCPC", "DSTFlag"), rows)


def actual_load_csv(day: date) -> bytes:
    """NP6-345-CD for operating day `day`: one row per hour, a column per weather zone."""
    zones = (*WEATHER_ZONES, "TOTAL")
    rows = [
        (_mdy(day), f"{hour.hour_ending:02d}:00",
         *(_num(actual_load(zone, hour.start_utc)) for zone in zones), hour.dst_flag)
        for hour in market_hours(day)
    ]  # fmt: skip
    return _csv(("OperDay", "HourEnding", *zones, "DSTFlag"), rows)


def _issue_time(issue_day: date) -> datetime:
    return datetime.combine(issue_day, time(23, 30, 5), tzinfo=CENTRAL)


def load_forecast_csv(
    issue_day: date,
    issued: datetime | None = None,
    *,
    days: int = 8,
    padded_dst_header: bool = False,
) -> bytes:
    """NP3-560-CD issued on `issue_day` (at `issued`, aware; default 23:30 local), covering
    `issue_day` and the following days. Hour ending is written without a leading zero ("1:00")
    as in the real file; `padded_dst_header` writes the real file's "DSTFlag    " header."""
    issued = issued or _issue_time(issue_day)
    zones = (*FORECAST_ZONES, "SystemTotal")
    rows = [
        (_mdy(issue_day + timedelta(days=n)), f"{hour.hour_ending}:00",
         *(_num(load_forecast(zone, hour.start_utc, issued)) for zone in zones), hour.dst_flag)
        for n in range(days)
        for hour in market_hours(issue_day + timedelta(days=n))
    ]  # fmt: skip
    flag = "DSTFlag    " if padded_dst_header else "DSTFlag"
    return _csv(("DeliveryDate", "HourEnding", *zones, flag), rows)


# -- documents ----------------------------------------------------------------------------------


def _second_of(instant: datetime, base: int, parity_step: int) -> timedelta:
    # Both occurrences of a fall-back wall time sit an odd number of UTC hours apart: the hour's
    # parity keeps their post (and SCED run) seconds, hence their names, distinct.
    return timedelta(seconds=base + parity_step * (instant.hour % 2) + (instant.minute // 5) % 4)


def _rt_spp_docs(day: date, points: Sequence[tuple[str, str]]) -> list[ErcotDoc]:
    docs = []
    for hour in market_hours(day):
        for interval in range(1, 5):
            end = hour.start_utc + interval * FIFTEEN_MINUTES
            # Named for the interval's local wall-clock end: the day's last is {D+1}_0000.
            friendly = f"SPPHLZNP6905_{end.astimezone(CENTRAL):%Y%m%d_%H%M}"
            posted = end + timedelta(minutes=2) + _second_of(end, 1, 30)
            csv = rt_spp_csv(day, hour.hour_ending, interval, hour.repeated, points)
            docs.append(make_doc(RT_SPP, friendly, posted, csv))
    return docs


def sced_runs(day: date) -> list[datetime]:
    """The UTC instants of the day's SCED runs: one just after each 5-minute mark (276/288/300)."""
    start, end = local_day_bounds(TIMEZONE, day)
    marks = [start + n * FIVE_MINUTES for n in range(int((end - start) / FIVE_MINUTES))]
    return [mark + _second_of(mark, 12, 5) for mark in marks]


def _sced_docs(day: date, points: Sequence[tuple[str, str]]) -> list[ErcotDoc]:
    docs = []
    for run in sced_runs(day):
        local = run.astimezone(CENTRAL)
        friendly = f"LMPSROSNODENP6788_{local:%Y%m%d_%H%M%S}"
        csv = sced_lmp_csv(local.replace(tzinfo=None), local.fold == 1, points)
        docs.append(make_doc(SCED_LMP, friendly, run + timedelta(minutes=1, seconds=3), csv))
    return docs


def forecast_issue_times(day: date) -> list[datetime]:
    """When the fixture's load forecasts for market day `day` are posted: D-1 09:30 and 23:30;
    the later one is the forecast to use."""
    before = day - timedelta(days=1)
    return [datetime.combine(before, time(9, 30, 5), tzinfo=CENTRAL), _issue_time(before)]


def documents_for_day(
    day: date, points: Sequence[tuple[str, str]] | None = None, *, sced: bool = True
) -> list[ErcotDoc]:
    """Every document ERCOT posts for market day `day`, in posting order.

    DAM SPP and AS on D-1 at 12:30; 92/96/100 RT SPP files, each ~2 minutes after its interval;
    with `sced`, 276/288/300 SCED runs, each posted a minute after it ran; actual load on D+1 at
    04:30; two load forecast vintages on D-1 (09:30 and 23:30).
    """
    points = settlement_points() if points is None else points
    before = day - timedelta(days=1)
    docs = [
        make_doc(DAM_SPP, "DAMSPNP4190", _at(before, 12, 30, 41), dam_spp_csv(day, points)),
        make_doc(DAM_AS, "DAMCPCNP4188", _at(before, 12, 30, 12), dam_as_csv(day)),
        *_rt_spp_docs(day, points),
        *(_sced_docs(day, points) if sced else []),
        make_doc(ACTUAL_LOAD, "ACTUALLOADOFWEATHERZONENP6345",
                 _at(day + timedelta(days=1), 4, 30, 17), actual_load_csv(day)),
        *(make_doc(LOAD_FORECAST, "LFCCONGESTNP3560", issued,
                   load_forecast_csv(before, issued)) for issued in forecast_issue_times(day)),
        disclosure_doc(day),
    ]  # fmt: skip
    return sorted(docs, key=lambda doc: (doc.posted.astimezone(UTC), doc.report_type_id))


def _at(day: date, hour: int, minute: int, second: int) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=CENTRAL)


def bulk_archive(
    days: Iterable[date],
    points: Sequence[tuple[str, str]] | None,
    path: Path,
    *,
    levels: int = 3,
    sced: bool = True,
) -> Path:
    """Write a user's historical archive of `days` to `path` and return it.

    levels=3: a ZIP of daily `{YYYYMMDD}.zip`s, each holding the day's document `_csv.zip`s
    (constructed names), each holding its CSV. levels=2: the daily ZIPs hold the CSVs directly.
    """
    if levels not in (2, 3):
        raise ValueError(f"bulk archives nest 2 or 3 levels, not {levels}")
    days = sorted(days)
    daily = {}
    for day in days:
        docs = documents_for_day(day, points, sced=sced)
        if levels == 3:
            members = {doc.constructed_name: doc_zip(doc) for doc in docs}
        else:
            members = {name: csv for doc in docs for name, csv in doc.members().items()}
        daily[f"{day:%Y%m%d}.zip"] = zip_members(members, datetime.combine(day, time(0)))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        zip_members(daily, datetime.combine(days[-1], time(0)) if days else datetime(2000, 1, 1))
    )
    return path


def read_single_member(content: bytes) -> tuple[str, bytes]:
    """(name, bytes) of the one member of a document ZIP; raises if it holds more or fewer."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = archive.namelist()
        if len(names) != 1:
            raise ValueError(f"a document ZIP holds one file, this one {len(names)}: {names}")
        return names[0], archive.read(names[0])
