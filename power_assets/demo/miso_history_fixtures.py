"""Generated MISO history archives (before the daily CSVs of 2023), in MISO's layouts.

What belongs here: the monthly pricing-report archives `{YYYYMM}_{da|rt}_pr_xls.zip` (one BIFF8
`.xls` per day, hub LMPs only) with deterministic values (`hub_lmp`), written the way third-party
readers of the real files describe them: a title, `Market Date:  MM/DD/YYYY`, a `Pricing Results`
line, a header row `, MISO System, Arkansas Hub, ...` (on row 15 in the DA report, row 12 in
the RT one), then `Hour  01` .. `Hour  24`. The RT member is named for its publication day, the
day after the market day it holds. Nothing here imports the parsers.
"""

from datetime import date, datetime, timedelta

from power_assets.demo.miso_fixtures import xls_workbook
from power_assets.demo.synthetic import bump, unit, zip_members

HUB_LABELS = ("MISO System", "Arkansas Hub", "Illinois Hub", "Indiana Hub", "Louisiana Hub",
              "Michigan Hub", "Minnesota Hub", "MS.HUB", "Texas Hub")  # fmt: skip
TITLES = {"da": "Day-Ahead Pricing Report", "rt": "Real-Time Pricing Report"}
_HEADER_ROW = {"da": 14, "rt": 11}  # 0-based: the two reports' preambles differ in length


def hub_lmp(market: str, label: str, day: date, he: int) -> float:
    """The LMP ($/MWh, two decimals) of a hub column in hour ending `he` of EST market `day`."""
    return round(20 + 35 * bump(he, 17, 19) + 15 * unit(market, label, day.toordinal(), he), 2)


def pricing_report(market: str, day: date, missing_hours: tuple[int, ...] = ()) -> bytes:
    """One day's `_pr.xls` for market day `day`; `missing_hours` are written as 0.0 at every
    column, MISO's mark of a missing hour."""
    header = _HEADER_ROW[market]
    rows: list[list] = [[None] for _ in range(header + 25)]
    rows[0] = [TITLES[market]]
    rows[1] = [f"Market Date:  {day:%m/%d/%Y}"]
    rows[4] = ["Pricing Results"]
    rows[header] = [None, *HUB_LABELS]
    for he in range(1, 25):
        values = [0.0 if he in missing_hours else hub_lmp(market, label, day, he)
                  for label in HUB_LABELS]  # fmt: skip
        rows[header + he] = [f"Hour  {he:02d}", *values]
    return xls_workbook(rows)


def member_name(market: str, day: date) -> str:
    """The member holding market `day`: DA named for the day, RT for the day after."""
    named = day + timedelta(days=1 if market == "rt" else 0)
    return f"{named:%Y%m%d}_{market}_pr.xls"


def monthly_pricing_zip(market: str, year: int, month: int, missing: dict | None = None) -> bytes:
    """`{YYYYMM}_{market}_pr_xls.zip`: the members named for the days of that month (RT's first
    member holds the last market day of the month before). `missing` maps a market day to hours
    written as 0.0."""
    first = date(year, month, 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    shift = timedelta(days=1 if market == "rt" else 0)
    members = {}
    named = first
    while named <= last:
        day = named - shift
        members[member_name(market, day)] = pricing_report(
            market, day, (missing or {}).get(day, ())
        )
        named += timedelta(days=1)
    return zip_members(members, datetime(last.year, last.month, last.day))
