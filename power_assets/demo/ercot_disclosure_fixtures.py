"""Generated ERCOT 2-Day AS Reports (NP3-911-ER) documents: cleared and self-arranged DAM AS MW.

One document per operating day, posted two days later at 03:16, a ZIP of CSVs named
`2d_{report}_{PRODUCT}-{DD-MON-YY}.csv` (the posting day), hours numbered 1..N for an N-hour day
(1..25 on the fall-back day) and no DSTFlag, like the real report; one aggregated offer curve file
is included so readers must skip it.
"""

from dataclasses import replace
from datetime import date, datetime, time, timedelta

from power_assets.demo.ercot_documents import CENTRAL, ErcotDoc, make_doc
from power_assets.demo.synthetic import local_day_bounds

AS_DISCLOSURE = 13057
CLEARED = ("REGUP", "REGDN", "RRSPFR", "ECRSS", "NSPIN")
SELF_ARRANGED = ("REGUP", "NSPIN", "NSPNM")
_TITLES = {"REGUP": "RegUp", "REGDN": "RegDn"}


def as_quantity(product: str, quantity_type: str, interval_start_utc: datetime) -> float:
    """The generated MW of `product` ("cleared" or "self_arranged") in one hour."""
    base = 300.0 if quantity_type == "cleared" else 5.0
    hour = int(interval_start_utc.timestamp()) // 3600
    return round(base + (hour * 37 + sum(map(ord, product))) % 400 / 10, 1)


def _csv(day: date, product: str, quantity_type: str) -> bytes:
    start, end = local_day_bounds("America/Chicago", day)
    hours = int((end - start) / timedelta(hours=1))
    label = "Cleared" if quantity_type == "cleared" else "Self-Arranged"
    lines = [f"Delivery Date,Hour Ending,Total {label} AS - {_TITLES.get(product, product)}"]
    lines += [
        f"{day:%m/%d/%Y},{n},{as_quantity(product, quantity_type, start + timedelta(hours=n - 1)):g}"
        for n in range(1, hours + 1)
    ]
    return ("\n".join(lines) + "\n").encode()


def disclosure_doc(day: date) -> ErcotDoc:
    """The 2-Day AS Reports document for operating day `day`."""
    posted = datetime.combine(day + timedelta(days=2), time(3, 16, 10), tzinfo=CENTRAL)
    stamp = posted.strftime("%d-%b-%y").upper()
    members = [(f"2d_Cleared_DAM_AS_{p}-{stamp}.csv", _csv(day, p, "cleared")) for p in CLEARED] + [
        (f"2d_Self_Arranged_AS_{p}-{stamp}.csv", _csv(day, p, "self_arranged"))
        for p in SELF_ARRANGED
    ]
    offers = f"Delivery Date,Hour Ending,MW Offered,REGUP Offer Price\n{day:%m/%d/%Y},01,41.5,0\n"
    members.append((f"2d_Agg_AS_Offers_REGUP-{stamp}.csv", offers.encode()))
    (first_name, first_csv), *rest = members
    doc = make_doc(AS_DISCLOSURE, "2DAYASREPORTS", posted, first_csv)
    return replace(doc, csv_name=first_name, extra=tuple(rest))
