"""ERCOT documents as ERCOT posts them: report type ids, `cdr.` names, doc ids and ZIPs.

What belongs here: the document record the fake MIS and Public API serve and the rules that name
and number it; no report content (see ercot_fixtures and ercot_disclosure_fixtures, which both
build documents with `make_doc`).
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from power_assets.demo.synthetic import zip_members

CENTRAL = ZoneInfo("America/Chicago")
UTC = ZoneInfo("UTC")

DAM_SPP, DAM_AS, RT_SPP, SCED_LMP, ACTUAL_LOAD, LOAD_FORECAST = (
    12331, 12329, 12301, 12300, 13101, 12311,
)  # fmt: skip
# doc_id = minutes since 2000 * 16 + slot, unique while a report posts at most once a minute;
# slots 8..15 are left for the `_xml` twins the fake MIS lists.
_SLOTS = {DAM_SPP: 0, DAM_AS: 1, RT_SPP: 2, SCED_LMP: 3, ACTUAL_LOAD: 4, LOAD_FORECAST: 5}
XML_TWIN_OFFSET = 8
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ErcotDoc:
    """One document as ERCOT posts it: a `_csv.zip` named `constructed_name` holding `csv`."""

    doc_id: int
    report_type_id: int
    friendly_name: str  # ends with `_csv`, e.g. SPPHLZNP6905_20240101_0015_csv
    constructed_name: str  # cdr.{report:08}.0000000000000000.{YYYYMMDD}.{HHMMSS}.{friendly}.zip
    posted: datetime  # aware, America/Chicago
    csv_name: str  # the constructed name ending `.csv` instead of `_csv.zip`
    csv: bytes
    # Further CSVs of a multi-file document (the 2-Day AS Reports), (name, bytes).
    extra: tuple[tuple[str, bytes], ...] = ()

    def members(self) -> dict[str, bytes]:
        return {self.csv_name: self.csv, **dict(self.extra)}


def doc_zip(doc: ErcotDoc) -> bytes:
    """The document's ZIP as downloaded from MIS or the Public API: one CSV named csv_name."""
    return zip_members(doc.members(), doc.posted.replace(tzinfo=None))


def make_doc(report_type_id: int, friendly: str, posted: datetime, csv: bytes) -> ErcotDoc:
    """A document of `report_type_id` posted at `posted` (aware); `friendly` without `_csv`."""
    local = posted.astimezone(CENTRAL)
    stem = f"cdr.{report_type_id:08d}.0000000000000000.{local:%Y%m%d}.{local:%H%M%S}.{friendly}"
    minutes = int((posted - _EPOCH).total_seconds()) // 60
    return ErcotDoc(
        doc_id=minutes * 16 + _SLOTS.get(report_type_id, 6),
        report_type_id=report_type_id,
        friendly_name=f"{friendly}_csv",
        constructed_name=f"{stem}_csv.zip",
        posted=local,
        csv_name=f"{stem}.csv",
        csv=csv,
    )
