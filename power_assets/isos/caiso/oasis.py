"""CAISO OASIS, what every OASIS report shares: time formats, queries, requests, error documents.

What belongs here: how a dataset is asked of OASIS (`OASIS_QUERIES`, `oasis_request`), the headers
OASIS serves for the price reports (`HEADERS`), and telling data from errors in an answer
(`check_oasis_payload`, `raise_if_error_document`). Parsers of the reports live beside it:
`prices` (LMP and AS prices), `sld_fcst` (load forecasts).

OASIS answers every `SingleZip` query with a ZIP. Data comes as one CSV (resultformat=6) or, in
files from before CSV output existed, as an `OASISReport` XML; errors and "no data" come as an XML
document holding `ERR_CODE`/`ERR_DESC`. Rows carry UTC start/end columns, so times are never
ambiguous, whatever the DST state of the Pacific market day.
"""

import io
import zipfile
from dataclasses import dataclass
from datetime import datetime
from xml.etree import ElementTree

from power_assets.errors import (
    IsoErrorResponse,
    IsoNoDataError,
    IsoRateLimitedError,
    MalformedFileError,
)
from power_assets.isos.base import DownloadRequest

GMT_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
OASIS_TIME_FORMAT = "%Y%m%dT%H:%M-0000"

# OASIS error codes with a meaning other than "the request was wrong": 1000 is "no data for the
# selection"; 1015 is "download still being prepared, ask again later".
NO_DATA_CODES = frozenset({"1000"})
RETRY_LATER_CODES = frozenset({"1015"})

# Headers as OASIS serves them (resultformat=6); real-time reports put OPR_INTERVAL after the value.
_C = "INTERVALSTARTTIME_GMT,INTERVALENDTIME_GMT,OPR_DT,OPR_HR"
_NODE = "NODE_ID_XML,NODE_ID,NODE,MARKET_RUN_ID,LMP_TYPE,XML_DATA_ITEM,PNODE_RESMRID,GRP_TYPE,POS"
HEADERS = {
    "PRC_LMP": f"{_C},OPR_INTERVAL,{_NODE},MW,GROUP",
    "PRC_INTVL_LMP": f"{_C},{_NODE},VALUE,OPR_INTERVAL,GROUP",
    "PRC_RTPD_LMP": f"{_C},{_NODE},PRC,OPR_INTERVAL,GROUP",
    "PRC_AS": f"{_C},OPR_INTERVAL,OPR_TYPE,ANC_TYPE,ANC_REGION,MARKET_RUN_ID,XML_DATA_ITEM,MW,GROUP",
}


@dataclass(frozen=True)
class OasisQuery:
    """How one dataset is asked of OASIS and what its CSV looks like."""

    queryname: str
    version: str
    market_run_id: str
    value_column: str  # MW for DAM (also for AS prices, in $/MW), VALUE for RTM, PRC for RTPD
    selection: tuple[tuple[str, str], ...]

    @property
    def columns(self) -> list[str]:
        return HEADERS[self.queryname].split(",")


def _lmp_query(queryname: str, version: str, run: str, value: str) -> OasisQuery:
    return OasisQuery(queryname, version, run, value, (("grp_type", "ALL_APNODES"),))


OASIS_QUERIES: dict[str, OasisQuery] = {
    "lmp_da": _lmp_query("PRC_LMP", "12", "DAM", "MW"),
    "lmp_rt5": _lmp_query("PRC_INTVL_LMP", "3", "RTM", "VALUE"),
    "lmp_rt15": _lmp_query("PRC_RTPD_LMP", "3", "RTPD", "PRC"),
    "as_da": OasisQuery("PRC_AS", "12", "DAM", "MW", (("anc_type", "ALL"), ("anc_region", "ALL"))),
}


def oasis_request(
    iso_id: str,
    dataset_id: str,
    start: datetime,
    end: datetime,
    selection: tuple[tuple[str, str], ...] | None = None,
) -> DownloadRequest:
    """One SingleZip request of an OASIS price dataset for the UTC window [start, end).

    `selection` replaces the dataset's default one (all AP nodes, all AS regions), e.g. one node.
    """
    query = OASIS_QUERIES[dataset_id]
    return DownloadRequest(
        iso=iso_id,
        dataset=dataset_id,
        path="SingleZip",
        params=(
            ("resultformat", "6"),
            ("queryname", query.queryname),
            ("version", query.version),
            ("market_run_id", query.market_run_id),
            ("startdatetime", start.strftime(OASIS_TIME_FORMAT)),
            ("enddatetime", end.strftime(OASIS_TIME_FORMAT)),
            *(query.selection if selection is None else selection),
        ),
        file_name=f"{query.queryname}_{query.market_run_id}_"
        f"{start:%Y%m%dT%H%M}Z_{end:%Y%m%dT%H%M}Z.zip",
        window_start=start,
        window_end=end,
    )


def check_oasis_payload(content: bytes, source: str) -> None:
    """Raise unless `content` is an OASIS ZIP of data: the error an error document (bare or in
    the ZIP) describes, IsoRateLimitedError for the throttling page, else MalformedFileError."""
    if content[:4] != b"PK\x03\x04":
        if b"Acceptable Use Policy" in content[:2048]:
            # OASIS throttles with an HTML page, sometimes under HTTP 200 rather than 429.
            raise IsoRateLimitedError(source, "429", "OASIS acceptable-use throttling page")
        if content.lstrip()[:1] == b"<":
            raise_if_error_document(content, source)
        raise MalformedFileError(
            f"{source}: OASIS should answer a ZIP; got {len(content)} bytes starting "
            f"{content[:40]!r}"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
            if not names:
                raise MalformedFileError(f"{source}: OASIS ZIP is empty")
            for name in names:
                if name.lower().endswith(".xml"):
                    raise_if_error_document(archive.read(name), f"{source}!{name}")
    except zipfile.BadZipFile as exc:
        raise MalformedFileError(f"{source}: corrupt ZIP from OASIS: {exc}") from exc


def raise_if_error_document(content: bytes, source: str) -> None:
    """Raise the error an OASIS error XML describes; return quietly for an XML data report."""
    if b"ERR_CODE" not in content[:65536]:
        return
    try:
        root = ElementTree.fromstring(content)
    except ElementTree.ParseError as exc:
        raise MalformedFileError(f"{source}: unreadable OASIS error XML: {exc}") from exc
    code = desc = ""
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "ERR_CODE":
            code = (element.text or "").strip()
        elif tag == "ERR_DESC":
            desc = (element.text or "").strip()
    if code in NO_DATA_CODES:
        raise IsoNoDataError(source, code, desc or "no data for the selection")
    if code in RETRY_LATER_CODES:
        raise IsoRateLimitedError(source, code, desc or "too many requests")
    raise IsoErrorResponse(source, code or "unknown", desc or "OASIS returned an error document")
