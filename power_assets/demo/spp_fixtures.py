"""Synthetic SPP Marketplace files, shaped like the file browser's CSVs, and their listings.

What belongs here: the deterministic generator of every SPP file this project reads (DA and RTBM
LMPs by settlement location, DA and RTBM reserve MCPs, hourly load, MTLF vintages, GenMix), the
pure functions that give each generated value (for tests computing expectations without a
parser), file names and folders. No HTTP: `spp_server` serves these files.

The numbers are invented (daily shapes plus deterministic noise), never taken from SPP data. The
*formats* follow SPP's files as recorded in the shared samples and reference: `Interval` is the
Central wall time and `GMTIntervalEnd` the UTC time of the interval END, both `MM/DD/YYYY
HH:MM:SS`; local `02:00:00` appears twice on the fall-back day; files from BAA_FROM carry
`BAA` after `GMTIntervalEnd` (rows `SPP` and `SWPW`); RTBM daily files say `GMT Interval`,
`Settlement Location Name`, `PNODE Name` with space-padded values; hourly load is wide (UTC
`MarketHour`, leading spaces in zone headers) until 2026-03-23 and long after; GenMix is
`GMT MKT Interval` (ISO, `Z`) with market and self columns per fuel and SPP's blank rows on the
2024 DST days. Column names are written out literally, never imported from the parser.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from power_assets.demo.synthetic import local_day_bounds, seed, unit

TIMEZONE = "America/Chicago"
CENTRAL = ZoneInfo(TIMEZONE)
HOUR, FIVE_MINUTES = timedelta(hours=1), timedelta(minutes=5)
BAA_FROM = date(2026, 4, 1)  # files from here add the BAA column (SWPW joined in April 2026)
LONG_LOAD_FROM = date(2026, 3, 24)  # hourly load turned from wide to long on this day
RESERVE_ZONES = ("1", "2", "3", "4", "5", "SPP")
DA_PRODUCTS = ("RegUP", "RegDN", "Spin", "Supp", "RampUP", "RampDN", "UncUP")
RT_PRODUCTS = ("RegUPService", "RegDNService", "RegUpMile", "RegDNMile", "RampUP", "RampDN",
               "Spin", "Supp", "UncUP")  # fmt: skip
LOAD_ZONES = ("CSWS", "EDE", "GRDA", "KCPL", "NPPD", "OKGE", "SPS", "WR")
FUELS = ("Coal", "Diesel Fuel Oil", "Hydro", "Natural Gas", "Nuclear", "Solar", "Wind", "Other")
# GenMix: SPP's own (uneven) headers, with leading spaces; "Gas Self" as SPP writes it.
GENMIX_COLUMNS = tuple(
    f"{fuel} {kind}" if not (fuel == "Natural Gas" and kind == "Self") else "Gas Self"
    for fuel in FUELS
    for kind in ("Market", "Self")
)
# SPP's blank GenMix stamps on the 2024 DST days (real GenMix_2024.csv, see shared samples).
GENMIX_BLANK = (
    (datetime(2024, 3, 10, 8, 0, tzinfo=UTC), datetime(2024, 3, 10, 11, 35, tzinfo=UTC)),
    (datetime(2024, 11, 3, 6, 0, tzinfo=UTC), datetime(2024, 11, 3, 6, 55, tzinfo=UTC)),
)
MTLF_AHEAD = timedelta(days=7)
MTLF_BEHIND = timedelta(hours=24)


@dataclass(frozen=True)
class Location:
    name: str  # settlement location
    pnode: str
    baa: str = "SPP"


def locations(count: int = 6) -> list[Location]:
    """The two hubs, an interface, then settlement locations; the last one is SWPW's."""
    fixed = [Location("SPPNORTH_HUB", "SPPNORTH_H"), Location("SPPSOUTH_HUB", "SPPSOUTH_H"),
             Location("AECI", "AECI_PN"), Location("AEC", "SOUC")]  # fmt: skip
    more = [Location(f"SL_{n:03d}", f"PN_{n:03d}") for n in range(max(0, count - len(fixed) - 1))]
    return [*fixed[: max(0, count - 1)], *more, Location("AVA", "AVA_PN", "SWPW")][:count]


# -- values (pure) ----------------------------------------------------------------------------


def _shape(end: datetime) -> float:
    local = (end - FIVE_MINUTES).astimezone(CENTRAL)
    hour = local.hour + local.minute / 60
    return (
        0.7 + 0.5 * math.exp(-((hour - 17.5) ** 2) / 8.0) + 0.2 * math.exp(-((hour - 8) ** 2) / 4)
    )


def _key(end: datetime) -> int:
    return int(end.timestamp()) // 300


def lmp_parts(market: str, location: str, end: datetime) -> dict[str, float]:
    """MEC, MCC, MLC and LMP (= their sum) of a location at an interval END (UTC), exactly as
    written (4 decimals, from whole ten-thousandths)."""
    mec = round(1e4 * (24.0 * _shape(end) + (6.0 * (unit(_key(end), seed(market)) - 0.5))))
    mcc = round(1e4 * 9.0 * (unit(seed(location), _key(end)) - 0.6))
    mlc = round(1e4 * 0.8 * (unit(_key(end), seed(location) % 7919) - 0.5))
    return {"MEC": mec / 1e4, "MCC": mcc / 1e4, "MLC": mlc / 1e4, "LMP": (mec + mcc + mlc) / 1e4}


def mcp(market: str, zone: str, product: str, end: datetime) -> float:
    """A reserve clearing price ($/MW, 2 decimals); some are 0 as in SPP's files."""
    if unit(_key(end), seed(zone + product)) < 0.1:
        return 0.0
    base = 2.0 + 10.0 * unit(seed(product), 17) + (3.0 if market == "RTBM" else 0.0)
    return round(100 * base * _shape(end) * (0.8 + 0.4 * unit(_key(end), seed(zone)))) / 100


def zone_load(zone: str, end: datetime) -> float:
    """Hourly load of a control zone (MW, 3 decimals)."""
    return round(1000 * (1500 + 300 * (seed(zone) % 7)) * _shape(end)) / 1000


def mtlf(baa: str, end: datetime, issued: datetime) -> float:
    """The MTLF (MW, 1 decimal) for the hour ending `end`, as issued at `issued`."""
    size = 2500.0 if baa == "SWPW" else 30000.0
    return round(10 * size * _shape(end) * (0.97 + 0.06 * unit(_key(end), _key(issued)))) / 10


def fuel_mw(column: str, end: datetime) -> float:
    """GenMix MW of a `{fuel} Market|Self` column at an interval END (1 decimal; Other Market
    is sometimes slightly negative, as in SPP's files)."""
    if column == "Other Market":
        return round(10 * 20 * (unit(_key(end), 3) - 0.5)) / 10
    return round(10 * (200 + 2000 * unit(seed(column), 1)) * _shape(end)) / 10


def genmix_blank(end: datetime) -> bool:
    return any(first <= end <= last for first, last in GENMIX_BLANK)


# -- time -------------------------------------------------------------------------------------


def interval_ends(day: date, step: timedelta) -> list[datetime]:
    """UTC ends of every interval of the Central market day (23/24/25 hours)."""
    start, end = local_day_bounds(TIMEZONE, day)
    count = int((end - start) / step)
    return [start + step * (n + 1) for n in range(count)]


def _local(end: datetime, step: timedelta) -> str:
    """SPP's local `Interval`: the Central wall time of the end, except the interval ending at
    the fall-back instant (07:00 UTC, 01:00 CST), which SPP writes as its start's wall time plus
    the step (`02:00:00`): local 02:00 then appears twice, GMT 07:00 and 08:00 (the reference's
    record of real 2025 DA-MCP files). Spring stays 01:00 -> 03:00."""
    wall_end = end.astimezone(CENTRAL).replace(tzinfo=None)
    wall_start = (end - step).astimezone(CENTRAL).replace(tzinfo=None)
    local = wall_end if wall_end > wall_start else wall_start + step
    return local.strftime("%m/%d/%Y %H:%M:%S")


def _gmt(end: datetime) -> str:
    return end.astimezone(UTC).strftime("%m/%d/%Y %H:%M:%S")


def _stamp_name(prefix: str, end: datetime) -> str:
    """`{prefix}-{local YYYYMMDDHHMM}[d].csv`: `d` marks the repeated hour's CST pass."""
    local = end.astimezone(CENTRAL)
    earlier = (end - HOUR).astimezone(CENTRAL)
    repeated = abs(local.utcoffset()) > abs(earlier.utcoffset())
    return f"{prefix}-{local:%Y%m%d%H%M}{'d' if repeated else ''}.csv"


def _csv(rows: Sequence[Sequence[str]]) -> bytes:
    return ("\n".join(",".join(row) for row in rows) + "\n").encode()


# -- files ------------------------------------------------------------------------------------


def lmp_csv(market: str, ends: Sequence[datetime], places: Sequence[Location], day: date,
            *, daily: bool = False) -> bytes:  # fmt: skip
    """LMPs of `places` at `ends`: the DA/interval layout, or the RTBM daily layout (`daily`)."""
    baa = day >= BAA_FROM
    step = HOUR if market == "DAM" else FIVE_MINUTES
    if daily:
        header = ["Interval", " GMT Interval", " Settlement Location Name", " PNODE Name",
                  " LMP", " MLC", " MCC", " MEC"]  # fmt: skip
    else:
        header = ["Interval", "GMTIntervalEnd", "Settlement Location", "Pnode", "LMP", "MLC",
                  "MCC", "MEC"]  # fmt: skip
    if baa:
        header.insert(2, "BAA")
    rows = [header]
    for end in ends:
        for place in places:
            parts = lmp_parts(market, place.name, end)
            names = [f" {place.name:<20}", f" {place.pnode:<20}"] if daily else [place.name,
                                                                                  place.pnode]  # fmt: skip
            values = [f"{parts[k]:.4f}" for k in ("LMP", "MLC", "MCC", "MEC")]
            row = [_local(end, step), _gmt(end), *names, *values]
            if baa:
                row.insert(2, place.baa)
            rows.append(row)
    return _csv(rows)


def mcp_csv(market: str, ends: Sequence[datetime], day: date) -> bytes:
    """Reserve MCPs by zone: DA-MCP or RTBM-MCP layout."""
    products = DA_PRODUCTS if market == "DAM" else RT_PRODUCTS
    header = ["Interval", "GMTIntervalEnd", "Reserve Zone", *products]
    baa = day >= BAA_FROM and market == "RTBM"
    step = HOUR if market == "DAM" else FIVE_MINUTES
    if baa:
        header.insert(2, "BAA")
    rows = [header]
    for end in ends:
        for zone in RESERVE_ZONES:
            row = [_local(end, step), _gmt(end), zone,
                   *(f"{mcp(market, zone, p, end):.2f}" for p in products)]  # fmt: skip
            if baa:
                row.insert(2, "SPP")
            rows.append(row)
    return _csv(rows)


def hourly_load_csv(day: date) -> bytes:
    """DAILY_HOURLY_LOAD: wide before LONG_LOAD_FROM, long from it; UTC hour ends."""
    ends = interval_ends(day, HOUR)
    if day >= LONG_LOAD_FROM:
        rows = [["Market Hour", "Balancing Area Name", "Control Zone Name", "Forecast Area Type",
                 "Load MW"]]  # fmt: skip
        rows += [[_gmt(end), "SPP", zone, "CF", f"{zone_load(zone, end):.3f}"]
                 for end in ends for zone in LOAD_ZONES]  # fmt: skip
        return _csv(rows)
    rows = [["MarketHour", *(f" {zone}" for zone in LOAD_ZONES)]]
    rows += [[_gmt(end), *(f"{zone_load(zone, end):.3f}" for zone in LOAD_ZONES)] for end in ends]
    return _csv(rows)


def mtlf_csv(issued: datetime) -> bytes:
    """One MTLF vintage issued at `issued` (UTC, on the hour): past 24 hours with the averaged
    actual and no forecast, then 7 days of forecast with no actual."""
    baas = ("SPP", "SWPW") if issued.astimezone(CENTRAL).date() >= BAA_FROM else ("SPP",)
    header = ["Interval", "GMTIntervalEnd", "MTLF", "Averaged Actual"]
    if len(baas) > 1:
        header.insert(2, "BAA")
    rows = [header]
    end = issued - MTLF_BEHIND + HOUR
    while end <= issued + MTLF_AHEAD:
        for baa in baas:
            past = end <= issued
            forecast = "" if past else f"{mtlf(baa, end, issued):.1f}"
            actual = f"{mtlf(baa, end, end):.1f}" if past else ""
            row = [_local(end, HOUR), _gmt(end), forecast, actual]
            if len(baas) > 1:
                row.insert(2, baa)
            rows.append(row)
        end += HOUR
    return _csv(rows)


def genmix_csv(days: Sequence[date], until: datetime | None = None) -> bytes:
    """GenMix rows (5-minute, interval END in UTC) of `days`, up to `until`; blank where SPP
    left its 2024 DST-day rows blank."""
    rows = [["GMT MKT Interval", *(f" {c}" for c in GENMIX_COLUMNS), " Load"]]
    for day in sorted(days):
        for end in interval_ends(day, FIVE_MINUTES):
            if until is not None and end > until:
                break
            stamp = end.strftime("%Y-%m-%dT%H:%M:%SZ")
            if genmix_blank(end):
                rows.append([stamp, *([""] * (len(GENMIX_COLUMNS) + 1))])
                continue
            values = [f"{fuel_mw(c, end):.1f}" for c in GENMIX_COLUMNS]
            rows.append([stamp, *values, f"{30000 * _shape(end):.3f}"])
    return _csv(rows)


# -- names and folders ------------------------------------------------------------------------


def da_lmp_path(day: date) -> str:
    return f"/{day:%Y}/{day:%m}/By_Day/DA-LMP-SL-{day:%Y%m%d}0100.csv"


def da_mcp_path(day: date) -> str:
    return f"/{day:%Y}/{day:%m}/DA-MCP-{day:%Y%m%d}0100.csv"


def rt_daily_path(product: str, day: date) -> str:
    prefix = "RTBM-LMP-DAILY-SL" if product == "lmp" else "RTBM-MCP-DAILY"
    return f"/{day:%Y}/{day:%m}/By_Day/{prefix}-{day:%Y%m%d}.csv"


def rt_interval_path(product: str, end: datetime) -> str:
    """The 5-minute file of the interval ending `end`, in the folder of its START date."""
    start_day = (end - FIVE_MINUTES).astimezone(CENTRAL).date()
    prefix = "RTBM-LMP-SL" if product == "lmp" else "RTBM-MCP"
    return f"/{start_day:%Y}/{start_day:%m}/By_Interval/{start_day:%d}/{_stamp_name(prefix, end)}"


def hourly_load_path(day: date) -> str:
    return f"/{day:%Y}/DAILY_HOURLY_LOAD-{day:%Y%m%d}.csv"


def mtlf_path(issued: datetime) -> str:
    """SPP names an hourly MTLF vintage by its issue hour; on the fall-back day the hour after
    `0100` (06:00Z) is `0200` (07:00Z, 02:00 CDT as it would have been) and the next `0200d`
    (08:00Z, 02:00 CST), as gridstatus's recorded 2025-11-02 files show."""
    local = issued.astimezone(CENTRAL)
    name = f"OP-MTLF-{local:%Y%m%d%H%M}.csv"
    if abs(local.utcoffset()) > abs((issued - HOUR).astimezone(CENTRAL).utcoffset()):
        name = f"OP-MTLF-{(local + HOUR).replace(tzinfo=None):%Y%m%d%H%M}.csv"  # 07:00Z
    elif abs(local.utcoffset()) > abs((issued - 2 * HOUR).astimezone(CENTRAL).utcoffset()):
        name = f"OP-MTLF-{local:%Y%m%d%H%M}d.csv"  # 08:00Z
    return f"/{local:%Y}/{local:%m}/{local:%d}/{name}"


def genmix_path(year: int) -> str:
    return f"/GenMix_{year}.csv"


def mtlf_issues(day: date) -> list[datetime]:
    """The UTC instants the hourly MTLF vintages of a Central day are issued (23/24/25)."""
    start, end = local_day_bounds(TIMEZONE, day)
    return [start + HOUR * n for n in range(int((end - start) / HOUR))]
