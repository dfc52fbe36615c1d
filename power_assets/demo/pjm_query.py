"""Data Miner 2 query semantics over the fake's generated PJM rows.

What belongs here: how a Data Miner query selects rows of `pjm_fixtures`' generator: datetime
filters (`AtoB`, both ends inclusive, on naive `_utc` or New York wall-time `_ept` columns, so
the fall-back day's 01:00 hour matches twice), `;`-separated value filters with `*` wildcards,
`row_is_current` / `version_nbr`, the default range, the 366-day limit, sorting, and the paging
of a selection (`select`, `Selection`, `page`, `items`; `export_range` writes a range as
`pjm_fixtures.csv_export`), plus `QueryError` for a query Data Miner refuses. Rows are generated a page at a time, never all at once unless sorted on a non-slot
column. No HTTP (`pjm_server` serves pages) and no values (the columns, nodes, time helpers and
value functions live in `pjm_fixtures`, which never imports this module).
"""

import bisect
import contextlib
import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fnmatch import fnmatchcase

from power_assets.demo.pjm_fixtures import (
    COLUMNS,
    EASTERN,
    FIXED_NODES,
    FORECAST_AREAS,
    FUELS,
    HIST_VINTAGES,
    HOUR,
    INST_AREAS,
    INST_LOAD_DAYS,
    LMP_FEEDS,
    LOAD_AREAS,
    RESERVE_PRODUCTS,
    TIME_COLUMN,
    VERSIONED,
    LmpSlot,
    Node,
    csv_export,
    ept_day,
    ept_midnight,
    ept_text,
    feed_slots,
    forecast_load_mw,
    fuel_mw,
    hist_vintages,
    inst_load_mw,
    lmp_slot,
    lmp_values,
    load_mw,
    node_factors,
    pnodes,
    reserve_values,
    seven_day_vintage,
    slot_step,
    utc_text,
)

MAX_RANGE = timedelta(days=366)
MAX_SORTED_ROWS = 1_000_000  # sorting on other than the UTC slot materializes every row


class QueryError(ValueError):
    """A query Data Miner refuses (HTTP 400); `field` names the offending parameter."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field, self.message = field, message


_FORMATS = ("%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%d %H:%M", "%m/%d/%Y", "%Y-%m-%d")  # fmt: skip
_RANGE = re.compile(r"(.+?)\s*to\s*(.+)", re.IGNORECASE)


def parse_datetime(value: str) -> datetime:
    """A Data Miner datetime (`11/03/2024 00:00`, `2024-11-03T00:00`; a fraction of a second
    is dropped) as a naive datetime."""
    text = re.sub(r"\.\d+$", "", value.strip())
    for fmt in _FORMATS:
        with contextlib.suppress(ValueError):
            return datetime.strptime(text, fmt)
    raise ValueError(f"not a Data Miner datetime: {value!r}")


@dataclass(frozen=True)
class DateFilter:
    """`<column>=AtoB` (both ends inclusive; one value: exactly A) on a naive `_utc` or `_ept`
    column: EPT compares New York wall times, so 01:00-01:59 of the fall-back day matches twice."""

    column: str
    low: datetime
    high: datetime

    @property
    def local(self) -> bool:
        return self.column.endswith("_ept")

    def naive(self, instant: datetime) -> datetime:
        return instant.astimezone(EASTERN if self.local else UTC).replace(tzinfo=None)

    def matches(self, instant: datetime) -> bool:
        return self.low <= self.naive(instant) <= self.high

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """UTC instants enclosing every match (with an hour of slack either side for EPT)."""
        if not self.local:
            return self.low.replace(tzinfo=UTC), self.high.replace(tzinfo=UTC)
        low = self.low.replace(tzinfo=EASTERN).astimezone(UTC) - HOUR
        return low, self.high.replace(tzinfo=EASTERN, fold=1).astimezone(UTC) + HOUR


def date_filters(feed: str, filters: Mapping[str, str]) -> list[DateFilter]:
    """The datetime filters among `filters` (names case-insensitive) on the feed's slot column."""
    out = []
    for name, value in filters.items():
        column = name.lower()
        if column in (f"{TIME_COLUMN[feed]}_utc", f"{TIME_COLUMN[feed]}_ept"):
            found = _RANGE.fullmatch(value.strip())
            try:
                ends = (found[1], found[2]) if found else (value, value)
                out.append(DateFilter(column, *map(parse_datetime, ends)))
            except ValueError as exc:
                raise QueryError(str(exc), column) from None
    return out


def _entities(feed: str, nodes: Iterable[Node]) -> list[dict]:
    """The static columns of the rows of one slot (keys starting with _ are not columns)."""
    if feed in LMP_FEEDS:
        keys = ["pnode_id", "pnode_name", "voltage", "equipment", "type", "zone"]
        keys = [*keys[:2], "type"] if feed == "rt_unverified_fivemin_lmps" else keys
        return [{k: getattr(node, k) for k in keys} for node in nodes]
    if feed in RESERVE_PRODUCTS:
        return [
            {"locale": locale, "service": service} for locale, service in RESERVE_PRODUCTS[feed]
        ]
    if feed == "hrl_load_metered":
        return [dict(zip(("nerc_region", "mkt_region", "zone", "load_area"), a, strict=True))
                for a in LOAD_AREAS]  # fmt: skip
    if feed == "gen_by_fuel":
        return [{"fuel_type": fuel, "is_renewable": r} for fuel, (_, r) in FUELS.items()]
    if feed == "load_frcstd_hist":
        return [{"_vintage": v, "forecast_area": a} for v in range(len(HIST_VINTAGES))
                for a in FORECAST_AREAS]  # fmt: skip
    return [{"area": a} for a in INST_AREAS] if feed == "inst_load" else [
        {"forecast_area": a} for a in FORECAST_AREAS]  # fmt: skip


def _matches(value: object, wanted: str) -> bool:
    """A Data Miner value filter: `;`-separated alternatives, `*` wildcards, any case."""
    text = str(value).upper()
    return any(fnmatchcase(text, w.strip().upper()) for w in wanted.split(";"))


def _slot_context(feed: str, slot: datetime) -> dict:
    """What every row of one slot shares: its time columns and slot-wide values."""
    base, end = TIME_COLUMN[feed], slot + slot_step(feed, slot)
    ctx: dict = {f"{base}_utc": utc_text(slot), f"{base}_ept": ept_text(slot)}
    ending = "forecast_datetime_ending" if feed == "load_frcstd_7_day" else "datetime_ending"
    ctx |= {f"{ending}_utc": utc_text(end), f"{ending}_ept": ept_text(end)}
    if feed in LMP_FEEDS:
        ctx["_lmp"] = lmp_slot(feed, slot)
    elif feed == "gen_by_fuel":
        ctx["_total"] = sum(fuel_mw(f, slot) for f in FUELS)
    return ctx


def _row(feed: str, slot: datetime, ctx: dict, entity: dict, version: int) -> dict:
    """One item: every column of the feed in PJM's order."""
    if feed in LMP_FEEDS:  # the bulk of any benchmark: built directly in column order
        s: LmpSlot = ctx["_lmp"]
        row = {"datetime_beginning_utc": ctx["datetime_beginning_utc"],
               "datetime_beginning_ept": ctx["datetime_beginning_ept"], **entity}  # fmt: skip
        row |= lmp_values(feed, entity["pnode_id"], s, version or 1)
        if feed == "rt_unverified_fivemin_lmps":
            case = f"{ctx['datetime_beginning_ept'][:10]}_RTD_{s.ordinal % 9973:04d}"
            return row | {"occ_check": 0, "ref_caseid_used_multi_interval": case}
        return row | {"row_is_current": version != 1, "version_nbr": max(version, 1)}
    d = ctx | entity
    if feed in RESERVE_PRODUCTS:
        d |= reserve_values(feed, entity["locale"], entity["service"], slot)
    elif feed == "hrl_load_metered":
        d |= {"mw": load_mw(entity["load_area"], slot), "is_verified": True}
    elif feed == "inst_load":
        d["instantaneous_load"] = inst_load_mw(entity["area"], slot)
    elif feed == "gen_by_fuel":
        mw = fuel_mw(entity["fuel_type"], slot)
        d |= {"mw": mw, "fuel_percentage_of_total": round(mw / ctx["_total"], 4)}
    else:
        hist = feed == "load_frcstd_hist"
        evaluated = hist_vintages(slot)[entity["_vintage"]] if hist else ctx["_vintage"]
        prefix = "evaluated_at_" if hist else "evaluated_at_datetime_"
        d |= {f"{prefix}utc": utc_text(evaluated), f"{prefix}ept": ept_text(evaluated),
              "forecast_load_mw": forecast_load_mw(entity["forecast_area"], slot, evaluated)}  # fmt: skip
    return {c: d[c] for c in COLUMNS[feed]}


class Selection:
    """The rows a query selects, in answer order, generated a page at a time: only the slots and
    each slot's row layout are materialized (all rows only when sorted on a non-slot column).

    A layout lists (entity, version): version 0 = never revised (version_nbr 1, current),
    1 = superseded, 2 = the current revision."""

    def __init__(self, feed: str, slots: list[datetime], layouts: list[list[tuple[dict, int]]],
                 slot_layouts: list[int], extra: dict):  # fmt: skip
        self.feed, self._layouts, self._extra = feed, layouts, extra
        self._index(slots, slot_layouts)
        self._materialized: list[dict] | None = None

    def _index(self, slots: list[datetime], slot_layouts: list[int]) -> None:
        self.slots, self._slot_layouts = slots, slot_layouts
        self._ends = list(itertools.accumulate(len(self._layouts[k]) for k in slot_layouts))

    def __len__(self) -> int:
        if self._materialized is not None:
            return len(self._materialized)
        return self._ends[-1] if self._ends else 0

    def rows(self, start: int = 0, count: int | None = None) -> list[dict]:
        """Rows [start, start + count) (0-based)."""
        stop = len(self) if count is None else min(start + count, len(self))
        if self._materialized is not None:
            return self._materialized[start:stop]
        out: list[dict] = []
        k, position = bisect.bisect_right(self._ends, start), start
        while position < stop:
            slot, layout = self.slots[k], self._layouts[self._slot_layouts[k]]
            first = position - (self._ends[k] - len(layout))
            ctx = _slot_context(self.feed, slot) | self._extra
            for entity, version in layout[first : first + stop - position]:
                out.append(_row(self.feed, slot, ctx, entity, version))
            position, k = self._ends[k], k + 1
        return out

    def sort(self, column: str, descending: bool) -> None:
        """Order by a column (stable); on the UTC slot column without generating any row."""
        if column not in COLUMNS[self.feed]:
            raise QueryError(f"{column} is not a field of {self.feed}", "sort")
        if column == f"{TIME_COLUMN[self.feed]}_utc" and self._materialized is None:
            if descending:
                self._index(self.slots[::-1], self._slot_layouts[::-1])
            return
        if len(self) > MAX_SORTED_ROWS:
            raise QueryError(f"sorting more than {MAX_SORTED_ROWS} rows is not supported", "sort")
        key = lambda row: (row[column] is None, row[column])  # noqa: E731
        self._materialized = sorted(self.rows(), key=key, reverse=descending)


def select(
    feed: str, filters: Mapping[str, str] | None = None, *, nodes: Iterable[Node] | None = None,
    window: DateFilter | None = None, now: datetime | None = None, today: date | None = None,
    published: Callable[[datetime], bool] | None = None,
) -> Selection:  # fmt: skip
    """The rows of `feed` matching Data Miner `filters` (names case-insensitive: datetime ranges
    on the feed's slot column, `;`-separated values with `*` wildcards on any entity column,
    `row_is_current`, `version_nbr`) and `window`, ordered by slot, entity, version.

    `published(slot)` keeps only published slots. `now` picks the load_frcstd_7_day vintage and
    its days (None: the real clock). `today` (New York) limits inst_load to its last
    INST_LOAD_DAYS days (None: unlimited). Without any datetime filter or `window` the range is
    yesterday to tomorrow (New York days around `today`, or the real today), except for
    load_frcstd_7_day (its vintage's seven days)."""
    filters = {k.lower(): v for k, v in (filters or {}).items()}
    dates = date_filters(feed, filters) + ([window] if window else [])
    entities = _entities(feed, pnodes() if nodes is None else nodes)
    versions: dict[str, str] = {}
    for name, value in filters.items():
        if name in (f"{TIME_COLUMN[feed]}_utc", f"{TIME_COLUMN[feed]}_ept"):
            continue
        if name in ("row_is_current", "version_nbr") and feed in VERSIONED:
            versions[name] = value
        elif name in _entities(feed, FIXED_NODES[:1])[0]:
            entities = [e for e in entities if _matches(e[name], value)]
        elif name in COLUMNS[feed]:
            raise QueryError(f"filtering on {name} is not supported by the fake", name)
        else:
            raise QueryError(f"{name} is not a field of {feed}", name)
    center = today or datetime.now(EASTERN).date()
    low, high = ept_midnight(center - timedelta(days=1)), ept_midnight(center + timedelta(days=2))
    if dates or feed == "load_frcstd_7_day":  # the 7-day feed: its vintage's days by default
        low, high = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
    for d in dates:
        low, high = max(low, d.utc_bounds()[0]), min(high, d.utc_bounds()[1])
    extra = {}
    if feed == "load_frcstd_7_day":
        clock = now or datetime.now(UTC)
        extra["_vintage"], current = seven_day_vintage(clock), ept_day(clock)
        low = max(low, ept_midnight(current))
        high = min(high, ept_midnight(current + timedelta(days=7)) - HOUR)
    if feed == "inst_load" and today is not None:
        low = max(low, ept_midnight(today - timedelta(days=INST_LOAD_DAYS)))
    if high - low > MAX_RANGE + 2 * HOUR:
        raise QueryError("The date range must not exceed 366 days (the fake's wording)")
    slots = [s for s in feed_slots(feed, low, high) if all(d.matches(s) for d in dates)]
    slots = slots if published is None else [s for s in slots if published(s)]
    layouts = [[(e, 0) for e in entities]]
    if feed in VERSIONED:  # the layout of revised slots: revised nodes twice
        pairs = [[(e, 1), (e, 2)] if node_factors(e["pnode_id"])[2] else [(e, 0)]
                 for e in entities]  # fmt: skip
        layouts.append([p for two in pairs for p in two])
    layouts = [[r for r in rows if _version_ok(r[1], versions)] for rows in layouts]
    revised = [int(lmp_slot(feed, s).revised) if feed in VERSIONED else 0 for s in slots]
    return Selection(feed, slots, layouts, revised, extra)


def _version_ok(version: int, wanted: Mapping[str, str]) -> bool:
    current, number = version != 1, max(version, 1)
    return _matches(current, wanted.get("row_is_current", "*")) and _matches(
        number, wanted.get("version_nbr", "*"))  # fmt: skip


def items(
    feed: str, start: datetime, end: datetime, filters: Mapping[str, str] | None = None, *,
    nodes: Iterable[Node] | None = None, now: datetime | None = None,
) -> list[dict]:  # fmt: skip
    """Every row of `feed` whose slot lies in [start, end) (aware), once published."""
    column, last = f"{TIME_COLUMN[feed]}_utc", end.astimezone(UTC) - timedelta(microseconds=1)
    window = DateFilter(
        column, start.astimezone(UTC).replace(tzinfo=None), last.replace(tzinfo=None)
    )
    return select(feed, filters, nodes=nodes, window=window, now=now).rows()


def page(
    feed: str, filters: Mapping[str, str] | None, start_row: int, row_count: int, **kwargs
) -> tuple[int, list[dict]]:
    """(totalRows, items) of one Data Miner page: rows start_row.. (1-based) of the query;
    `kwargs` as for `select`."""
    selection = select(feed, filters, **kwargs)
    return len(selection), selection.rows(start_row - 1, row_count)


# -- Data Miner CSV export of a range ----------------------------------------------------------


def export_range(
    feed: str, start: datetime, end: datetime, filters: Mapping[str, str] | None = None, **kwargs
) -> bytes:
    """The CSV export of every row of `feed` in [start, end) (kwargs as for `items`)."""
    return csv_export(items(feed, start, end, filters, **kwargs), feed)
