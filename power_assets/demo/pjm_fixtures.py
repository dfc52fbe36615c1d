"""Synthetic PJM Data Miner 2 rows, exactly shaped like the API's JSON items.

What belongs here: the deterministic generator of PJM feed values (every feed's columns in PJM's
order, the nodes, slot instants, naive `_utc` / `_ept` texts), the pure functions that give each
generated value (for tests computing expectations without a parser) and the CSV export format.
Which rows a Data Miner query selects, and their paging (`select`, `page`, `items`,
`export_range`), live in `pjm_query`, which builds rows from this module; this module never
imports it. No HTTP: `pjm_server` serves the rows.

The numbers are invented (daily shapes plus deterministic noise), never taken from PJM data. The
*formats* follow PJM: naive `YYYY-MM-DDTHH:MM:SS` strings, `_utc` in UTC and `_ept` in New York
wall time (the fall-back day repeats 01:00, the spring-forward day skips 02:00); LMP rows of a
(node, hour) that PJM revised appear twice, version 1 superseded (`row_is_current` False) and
version 2 current; `reserve_market_results` is hourly before 2022-09-01 and 5-minute from then;
`inst_load` samples at off-grid seconds. Column names are written out literally, never imported
from the parser.
"""

import csv
import functools
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from power_assets.demo.synthetic import bump, seed, unit

TIMEZONE = "America/New_York"
EASTERN = ZoneInfo(TIMEZONE)
HOUR, FIVE_MINUTES = timedelta(hours=1), timedelta(minutes=5)


def _lmp_columns(m: str) -> tuple[str, ...]:
    return (
        "datetime_beginning_utc", "datetime_beginning_ept", "pnode_id", "pnode_name", "voltage",
        "equipment", "type", "zone", f"system_energy_price_{m}", f"total_lmp_{m}",
        f"congestion_price_{m}", f"marginal_loss_price_{m}", "row_is_current", "version_nbr",
    )  # fmt: skip


_RESERVE = (
    "datetime_beginning_utc", "datetime_beginning_ept", "datetime_ending_utc",
    "datetime_ending_ept", "locale", "service", "mcp", "mcp_capped", "as_req_mw", "total_mw",
    "as_mw", "ss_mw", "ircmwt2", "dsr_as_mw", "nsr_mw",
)  # fmt: skip
# Every feed's columns in PJM's order (reserve_market_results' four extra columns are appended:
# their position among the others is this fake's choice).
COLUMNS: dict[str, tuple[str, ...]] = {
    "da_hrl_lmps": _lmp_columns("da"),
    "rt_hrl_lmps": _lmp_columns("rt"),
    "rt_fivemin_hrl_lmps": _lmp_columns("rt"),
    "rt_unverified_fivemin_lmps": (
        "datetime_beginning_utc", "datetime_beginning_ept", "pnode_id", "pnode_name", "type",
        "total_lmp_rt", "congestion_price_rt", "marginal_loss_price_rt", "occ_check",
        "ref_caseid_used_multi_interval",
    ),
    "da_reserve_market_results": _RESERVE,
    "reserve_market_results": (*_RESERVE, "reg_ccp", "reg_pcp", "tier1_mw", "regd_mw"),
    "hrl_load_metered": (
        "datetime_beginning_utc", "datetime_beginning_ept", "nerc_region", "mkt_region", "zone",
        "load_area", "mw", "is_verified",
    ),
    "inst_load": ("datetime_beginning_utc", "datetime_beginning_ept", "area", "instantaneous_load"),
    "load_frcstd_7_day": (
        "evaluated_at_datetime_utc", "evaluated_at_datetime_ept", "forecast_datetime_beginning_utc",
        "forecast_datetime_beginning_ept", "forecast_datetime_ending_utc",
        "forecast_datetime_ending_ept", "forecast_area", "forecast_load_mw",
    ),
    "load_frcstd_hist": (
        "evaluated_at_utc", "evaluated_at_ept", "forecast_hour_beginning_utc",
        "forecast_hour_beginning_ept", "forecast_area", "forecast_load_mw",
    ),
    "gen_by_fuel": (
        "datetime_beginning_utc", "datetime_beginning_ept", "fuel_type", "mw",
        "fuel_percentage_of_total", "is_renewable",
    ),
}  # fmt: skip
FEEDS = tuple(COLUMNS)
# The column (without _utc/_ept) a feed's datetime filter applies to: each row's "slot".
TIME_COLUMN = dict.fromkeys(FEEDS, "datetime_beginning") | {
    "load_frcstd_7_day": "forecast_datetime_beginning",
    "load_frcstd_hist": "forecast_hour_beginning",
}
VERSIONED = ("da_hrl_lmps", "rt_hrl_lmps", "rt_fivemin_hrl_lmps")
LMP_FEEDS = (*VERSIONED, "rt_unverified_fivemin_lmps")
FIVE_MINUTE_FEEDS = ("rt_fivemin_hrl_lmps", "rt_unverified_fivemin_lmps")
RESERVE_FIVE_MINUTE_FROM = datetime(2022, 9, 1, 4, tzinfo=UTC)  # 2022-09-01 00:00 EDT
ARCHIVE_DAYS = {"da_hrl_lmps": 731, "rt_hrl_lmps": 731, "rt_fivemin_hrl_lmps": 186}
INST_LOAD_DAYS = 30  # inst_load keeps about the last 30 days
# One (node, interval) pair in about 25 is revised: a quarter of the nodes, every 6th interval.
REVISED_NODE_SHARE, REVISION_PERIOD = 0.25, 6
# Load forecast vintages: the 7-day one is evaluated every 30 minutes (at :15 and :45); the
# history keeps two per forecast hour, made on the eve of its EPT day at these local times.
SEVEN_DAY_EVERY, SEVEN_DAY_PHASE = timedelta(minutes=30), timedelta(minutes=15)
HIST_VINTAGES = (time(6, 45), time(17, 45))


@dataclass(frozen=True)
class Node:
    """A pricing node as the LMP feeds describe it (None: an empty column)."""

    pnode_id: int
    pnode_name: str
    voltage: str | None = None
    equipment: str | None = None
    type: str = "GEN"
    zone: str | None = None


FIXED_NODES = (
    Node(1, "PJM-RTO", type="ZONE"), Node(51217, "EASTERN HUB", type="HUB"),
    Node(51288, "WESTERN HUB", type="HUB"), Node(51291, "AECO", type="ZONE"),
)  # fmt: skip
DEFAULT_NODE_COUNT = 8
_ZONES = ("AECO", "BGE", "DPL", "PECO", "PEPCO", "DOM", "AEP", "COMED")
_VOLTAGES = ("13 KV", "34 KV", "69 KV", "138 KV", "230 KV")


def pnodes(count: int = DEFAULT_NODE_COUNT) -> list[Node]:
    """The first `count` nodes (the two hubs and two zones first, then invented GEN and LOAD
    buses with ids 2,000,000 + 37k), sorted by pnode_id as PJM lists them."""
    generated = []
    for k in range(max(count - len(FIXED_NODES), 0)):
        kind = "GEN" if k % 2 == 0 else "LOAD"
        voltage, equipment = (
            _VOLTAGES[k % 5],
            f"UNIT{k % 4 + 1}" if kind == "GEN" else f"LD{k % 3 + 1}",
        )
        name = f"DEMO{k:05d} {voltage} {equipment}"
        generated.append(Node(2_000_000 + 37 * k, name, voltage, equipment, kind, _ZONES[k % 8]))
    return sorted([*FIXED_NODES[:count], *generated], key=lambda n: n.pnode_id)


RESERVE_PRODUCTS = {  # (locale, service), in the order rows of one interval are listed
    "da_reserve_market_results": [("MAD", "PR"), ("MAD", "SR"), ("PJM_RTO", "30MIN"),
                                  ("PJM_RTO", "PR"), ("PJM_RTO", "SR")],
    "reserve_market_results": [("MAD", "PR"), ("MAD", "SR"), ("PJM_RTO", "30MIN"),
                               ("PJM_RTO", "PR"), ("PJM_RTO", "REG"), ("PJM_RTO", "SR")],
}  # fmt: skip
_MCP_BASE = {"REG": 18.0, "SR": 4.0, "PR": 1.5, "30MIN": 0.4}
LOAD_AREAS = [  # (nerc_region, mkt_region, zone, load_area)
    ("RFC", "MIDATL", "AE", "AE"), ("RFC", "MIDATL", "BC", "BC"), ("RFC", "MIDATL", "PE", "PECO"),
    ("RFC", "WEST", "AEP", "AEPAPT"), ("RFC", "WEST", "CE", "CE"), ("SERC", "SOUTH", "DOM", "DOM"),
]  # fmt: skip
INST_AREAS = ["AE", "DOM", "MID_ATLANTIC_REGION", "PJM RTO", "SOUTHERN_REGION", "WESTERN_REGION"]
FORECAST_AREAS = ["AEP", "DOM", "MID_ATLANTIC_REGION", "RTO_COMBINED", "SOUTHERN_REGION",
                  "WESTERN_REGION"]  # fmt: skip
FUELS = {  # fuel_type -> (typical MW, is_renewable), in PJM's alphabetical listing order
    "Coal": (17000.0, False), "Gas": (46000.0, False), "Hydro": (2200.0, True),
    "Multiple Fuels": (1000.0, False), "Nuclear": (32900.0, False), "Oil": (850.0, False),
    "Other Renewables": (660.0, True), "Solar": (3000.0, True), "Storage": (40.0, False),
    "Wind": (3000.0, True),
}  # fmt: skip
_AREA_SIZE = {"PJM RTO": 90_000.0, "RTO_COMBINED": 90_000.0}


# -- time ---------------------------------------------------------------------------------------


def utc_text(instant: datetime) -> str:
    """A `_utc` column value: `2024-11-03T05:00:00`."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def ept_text(instant: datetime) -> str:
    """An `_ept` column value: New York wall time, naive (the fall-back 01:00 hour twice)."""
    return instant.astimezone(EASTERN).strftime("%Y-%m-%dT%H:%M:%S")


def ept_day(instant: datetime) -> date:
    return instant.astimezone(EASTERN).date()


def ept_midnight(day: date) -> datetime:
    """UTC instant of New York midnight starting `day` (kept here, not taken from the pipeline)."""
    return datetime(day.year, day.month, day.day, tzinfo=EASTERN).astimezone(UTC)


def slot_step(feed: str, instant: datetime) -> timedelta:
    """Length of the interval starting at `instant` (reserve_market_results: 1 h, then 5 min)."""
    if feed in FIVE_MINUTE_FEEDS or feed == "inst_load":
        return FIVE_MINUTES
    if feed == "reserve_market_results" and instant >= RESERVE_FIVE_MINUTE_FROM:
        return FIVE_MINUTES
    return HOUR


def _grid(low: datetime, high: datetime, step: timedelta) -> list[datetime]:
    """Multiples of `step` since the epoch in [low, high]."""
    s = int(step.total_seconds())
    first, last = math.ceil(low.timestamp() / s) * s, math.floor(high.timestamp() / s) * s
    return [datetime.fromtimestamp(t, UTC) for t in range(first, last + 1, s)]


def inst_load_sample(interval_start: datetime) -> datetime:
    """The inst_load sample inside the 5-minute interval: 17 to 41 seconds past its start."""
    t = int(interval_start.timestamp())
    return interval_start + timedelta(seconds=17 + int(24 * unit(t // 300, 21)))


def seven_day_vintage(now: datetime) -> datetime:
    """evaluated_at (UTC) of the load_frcstd_7_day vintage current at `now`: the latest :15/:45."""
    step, phase = int(SEVEN_DAY_EVERY.total_seconds()), int(SEVEN_DAY_PHASE.total_seconds())
    t = (int(now.timestamp()) - phase) // step * step + phase
    return datetime.fromtimestamp(t, UTC)


def hist_vintages(forecast_hour: datetime) -> list[datetime]:
    """evaluated_at (UTC) of every load_frcstd_hist vintage of a forecast hour, oldest first."""
    eve = ept_day(forecast_hour) - timedelta(days=1)
    return [datetime.combine(eve, t, tzinfo=EASTERN).astimezone(UTC) for t in HIST_VINTAGES]


def feed_slots(feed: str, low: datetime, high: datetime) -> list[datetime]:
    """Every slot instant of `feed` in [low, high] (UTC, inclusive), ascending: interval starts;
    for inst_load the sample instants; for the forecasts the forecast hours."""
    if feed == "inst_load":
        starts = _grid(low - FIVE_MINUTES, high, FIVE_MINUTES)
        return [s for s in map(inst_load_sample, starts) if low <= s <= high]
    if feed == "reserve_market_results":
        cut = RESERVE_FIVE_MINUTE_FROM
        return _grid(low, min(high, cut - FIVE_MINUTES), HOUR) + _grid(max(low, cut), high,
                                                                       FIVE_MINUTES)  # fmt: skip
    return _grid(low, high, slot_step(feed, low))


# -- values ------------------------------------------------------------------------------------


def _hour(instant: datetime) -> float:
    local = instant.astimezone(EASTERN)
    return local.hour + local.minute / 60


@dataclass(frozen=True)
class LmpSlot:
    """What every LMP row of one interval shares (the query module builds rows from it)."""

    ordinal: int  # intervals since the epoch: the seed of interval-level noise
    energy: float
    shape: float
    revised: bool


def lmp_slot(feed: str, instant: datetime) -> LmpSlot:
    """The slot-wide LMP values of the interval of `feed` starting at `instant` (UTC)."""
    hour, step = _hour(instant), int(slot_step(feed, instant).total_seconds())
    ordinal, salt = int(instant.timestamp()) // step, FEEDS.index(feed)
    energy = 32.0 + 28.0 * bump(hour, 18.5, 5.0) + 8.0 * bump(hour, 8.0, 3.0)
    energy += 4.0 * math.sin(ept_day(instant).toordinal() * 0.7) - 6.0 * bump(hour, 13.0, 8.0)
    if feed != "da_hrl_lmps":
        energy += (unit(ordinal, salt) - 0.5) * 12.0
    revised = feed in VERSIONED and ordinal % REVISION_PERIOD == 1
    return LmpSlot(ordinal, round(energy, 2), bump(hour, 18.0, 6.0), revised)


@functools.cache
def node_factors(pnode_id: int) -> tuple[float, float, bool]:
    """(congestion factor, loss factor, revisable) of a node: cached, the hot path of a page."""
    return unit(pnode_id, 1) - 0.5, unit(pnode_id, 2) - 0.5, unit(pnode_id, 11) < REVISED_NODE_SHARE


def is_revised(feed: str, pnode_id: int, instant: datetime) -> bool:
    """Whether PJM published a superseded version 1 and a current version 2 for this pair."""
    return lmp_slot(feed, instant).revised and node_factors(pnode_id)[2]


_NAMES = {m: (f"system_energy_price_{m}", f"total_lmp_{m}", f"congestion_price_{m}",
              f"marginal_loss_price_{m}") for m in ("da", "rt")}  # fmt: skip


def lmp_values(feed: str, pnode_id: int, s: LmpSlot, version: int) -> dict[str, float]:
    """The price columns of one node's row of slot `s` (version 1 of a revised pair: the
    superseded values); `lmp_components` is the same from an instant."""
    energy_name, total_name, congestion_name, loss_name = _NAMES[
        "da" if feed == "da_hrl_lmps" else "rt"
    ]
    digits = 2 if feed == "rt_unverified_fivemin_lmps" else 6  # the unverified feed has cents
    factor, loss_factor, revisable = node_factors(pnode_id)
    congestion = factor * 6.0 * (1.0 + s.shape) + unit(pnode_id, s.ordinal, FEEDS.index(feed)) - 0.5
    if version == 1 and s.revised and revisable:
        congestion += 0.5 + 2.0 * unit(pnode_id, s.ordinal, 13)  # what the revision corrected
    congestion = round(congestion, digits)
    loss = round(loss_factor * 0.08 * s.energy, digits)
    out = {energy_name: s.energy} if digits == 6 else {}
    out[total_name] = round(s.energy + congestion + loss, digits)
    out[congestion_name], out[loss_name] = congestion, loss
    return out


def lmp_components(
    feed: str, pnode_id: int, instant: datetime, version: int | None = None
) -> dict[str, float]:
    """The price columns of one LMP row, keyed by the feed's column names (rt_unverified has no
    energy column). `version` None: the current one (2 where revised, else 1); 1 of a revised
    pair is the superseded row, whose congestion (and total) differ."""
    s = lmp_slot(feed, instant.astimezone(UTC))
    current = 2 if is_revised(feed, pnode_id, instant) else 1
    if version not in (None, 1, current):
        raise ValueError(f"{feed} has no version {version} for node {pnode_id} at {instant}")
    return lmp_values(feed, pnode_id, s, version or current)


def reserve_values(feed: str, locale: str, service: str, instant: datetime) -> dict:
    """The value columns of one reserve row (None where the column does not apply)."""
    hour, t = _hour(instant), int(instant.timestamp()) // 300
    scarce = bump(hour, 18.0, 4.0)
    jitter = unit(t, seed(locale), seed(service), FEEDS.index(feed))
    mcp = (
        0.0 if service == "30MIN" and jitter < 0.6 else _MCP_BASE[service] * (0.5 + scarce + jitter)
    )
    mcp = round(mcp * (1.2 if locale == "MAD" else 1.0), 2)
    req = {"REG": 525.0, "SR": 1650.0, "PR": 2400.0, "30MIN": 3800.0}[service]
    total = round(req * (1.05 + 0.2 * jitter), 1)
    out = {
        "mcp": mcp, "mcp_capped": min(mcp, 1000.0), "as_req_mw": req, "total_mw": total,
        "as_mw": round(total * 0.7, 1), "ss_mw": round(total * 0.1, 1),
        "ircmwt2": round(total * 0.05, 1) if service == "SR" else 0.0,
        "dsr_as_mw": round(40.0 * jitter, 1), "nsr_mw": round(total * 0.15, 1) if service != "REG" else 0.0,
    }  # fmt: skip
    if feed == "reserve_market_results":
        reg = service == "REG"
        out |= {
            "reg_ccp": round(mcp * 0.8, 2) if reg else None,
            "reg_pcp": round(mcp * 0.2, 2) if reg else None,
            "tier1_mw": round(total * 0.3, 1) if service == "SR" else None,
            "regd_mw": round(total * 0.4, 1) if reg else None,
        }
    return out


def reserve_mcp(feed: str, locale: str, service: str, instant: datetime) -> float:
    """The `mcp` of one reserve row."""
    return reserve_values(feed, locale, service, instant)["mcp"]


def _load_shape(instant: datetime) -> float:
    hour = _hour(instant)
    return 0.75 + 0.25 * bump(hour, 18.0, 12.0) + 0.05 * bump(hour, 8.0, 4.0)


def load_mw(load_area: str, instant: datetime) -> float:
    """hrl_load_metered `mw` of a load area for the hour starting at `instant`."""
    size = 2000.0 + 10000.0 * unit(load_area, 1)
    return round(size * _load_shape(instant) + 50.0 * unit(load_area, int(instant.timestamp())), 3)


def inst_load_mw(area: str, sample: datetime) -> float:
    """inst_load `instantaneous_load` of an area at a sample instant."""
    size = _AREA_SIZE.get(area, 3000.0 + 30000.0 * unit(area, 3))
    return round(size * _load_shape(sample) + 80.0 * unit(area, int(sample.timestamp()), 4), 3)


def forecast_load_mw(area: str, forecast_hour: datetime, evaluated_at: datetime) -> int:
    """forecast_load_mw of one area and hour as forecast at `evaluated_at` (whole MW)."""
    size = _AREA_SIZE.get(area, 3000.0 + 30000.0 * unit(area, 5))
    drift = unit(seed(area), int(forecast_hour.timestamp()), int(evaluated_at.timestamp())) - 0.5
    return round(size * (_load_shape(forecast_hour) + 0.03 * drift))


def fuel_mw(fuel: str, instant: datetime) -> float:
    """gen_by_fuel `mw` of a fuel for the hour starting at `instant` (Storage may be negative)."""
    typical, _ = FUELS[fuel]
    hour, t = _hour(instant), int(instant.timestamp()) // 3600
    if fuel == "Solar":
        return float(round(typical * bump(hour, 12.5, 9.0) + 28.0))
    if fuel == "Storage":
        return float(
            round(typical * (bump(hour, 18.0, 3.0) - bump(hour, 3.0, 6.0) + unit(t, 7) - 0.5))
        )
    return float(
        round(typical * (0.85 + 0.15 * bump(hour, 18.0, 20.0) + 0.05 * unit(t, seed(fuel))))
    )


def fuel_percentage(fuel: str, instant: datetime) -> float:
    """gen_by_fuel `fuel_percentage_of_total`: the fuel's share of the hour's total MW."""
    return round(fuel_mw(fuel, instant) / sum(fuel_mw(f, instant) for f in FUELS), 4)


# -- Data Miner CSV export ---------------------------------------------------------------------


def export_datetime(text: str) -> str:
    """`2025-05-01T16:00:00` as the CSV export writes it: `5/1/2025 4:00:00 PM`."""
    v = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S")
    return f"{v.month}/{v.day}/{v.year} {v.hour % 12 or 12}:{v:%M:%S} {'AM' if v.hour < 12 else 'PM'}"  # fmt: skip


def _cell(column: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str) and column.endswith(("_utc", "_ept")):
        return export_datetime(value)
    if isinstance(value, float) and "e" in repr(value):  # 5e-06 is written out in full
        return f"{value:.6f}"
    return str(value)  # booleans as True/False


def csv_export(rows: Iterable[dict], feed: str) -> bytes:
    """A Data Miner CSV export of `rows` (items of `feed`): header, then one line per row, CRLF;
    datetimes as `5/1/2025 4:00:00 AM`, booleans True/False, nulls empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS[feed])
    writer.writerows([_cell(c, row[c]) for c in COLUMNS[feed]] for row in rows)
    return buffer.getvalue().encode()
