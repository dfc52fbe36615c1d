"""CAISO OASIS: request building, error-document detection and parsers for LMP and AS prices.

OASIS answers every `SingleZip` query with a ZIP. Data comes as one CSV (resultformat=6) or, in
files from before CSV output existed, as an `OASISReport` XML; errors and "no data" come as an XML
document holding `ERR_CODE`/`ERR_DESC`. Rows carry UTC start/end columns, so times are never
ambiguous, whatever the DST state of the Pacific market day.
"""

import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import ClassVar
from xml.etree import ElementTree

import polars as pl

from power_assets.errors import (
    IsoErrorResponse,
    IsoNoDataError,
    IsoRateLimitedError,
    MalformedFileError,
    SchemaDriftError,
)
from power_assets.isos import caiso_extra as extra
from power_assets.isos import caiso_realtime as realtime
from power_assets.isos.base import (
    CombinedSources,
    DatasetKind,
    DatasetSpec,
    DayAheadSchedule,
    DownloadRequest,
    IntervalLabel,
    IsoDefinition,
    RealtimeFeed,
    ValueBound,
)
from power_assets.isos.headers import header_line
from power_assets.schemas import AS_PRICE_COLUMNS, LMP_COLUMNS

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

# LMP_TYPE (CSV) and XML_DATA_ITEM / DATA_ITEM (XML) values, to standardized component columns.
LMP_COMPONENTS = {"LMP": "lmp", "MCE": "energy", "MCC": "congestion", "MCL": "loss", "MGHG": "ghg"}
# Legacy XML reports name the components by XML data item; map them to the CSV's LMP_TYPE codes.
LMP_XML_ITEMS = {
    "LMP_PRC": "LMP",
    "LMP_ENE_PRC": "MCE",
    "LMP_CONG_PRC": "MCC",
    "LMP_LOSS_PRC": "MCL",
    "LMP_GHG_PRC": "MGHG",
}
AS_PRODUCTS = {
    "RU": "REG_UP",
    "RD": "REG_DOWN",
    "SR": "SPIN",
    "NR": "NON_SPIN",
    "RMU": "REG_UP_MILEAGE",
    "RMD": "REG_DOWN_MILEAGE",
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

HOUR, DAY = timedelta(hours=1), timedelta(days=1)

# Drop-folder names: (query, market run) -> dataset. SLD_FCST's hourly runs feed load_forecast.
_DROPPED_DATASETS = {(q.queryname, q.market_run_id): ds for ds, q in OASIS_QUERIES.items()} | {
    ("SLD_FCST", run): "load_forecast" for run in extra.SLD_FCST_RUNS
}
_OASIS_NAME = re.compile(
    r"(?P<start>\d{8})_(?P<end>\d{8})_(?P<report>[A-Za-z0-9_]+?)_\d{8}_\d{2}_\d{2}_\d{2}_v\d+\.csv",
    re.IGNORECASE,
)


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


class Caiso(IsoDefinition):
    id: ClassVar[str] = "CAISO"
    name: ClassVar[str] = "California ISO (OASIS)"
    timezone: ClassVar[str] = "America/Los_Angeles"
    default_base_url: ClassVar[str] = "http://oasis.caiso.com/oasisapi"
    # Today's Outlook (fuel mix, demand) lives on www.caiso.com, not on OASIS.
    extra_base_urls: ClassVar[dict[str, str]] = {"outlook": extra.OUTLOOK_BASE_URL}
    min_request_spacing_s: ClassVar[float] = 5.0
    datasets: ClassVar[dict[str, DatasetSpec]] = {
        "lmp_da": DatasetSpec(
            "lmp_da", DatasetKind.LMP, "DAM", HOUR, IntervalLabel.START,
            "Day-ahead hourly LMP, all AP nodes (PRC_LMP)", request_window=DAY,
        ),
        "lmp_rt5": DatasetSpec(
            "lmp_rt5", DatasetKind.LMP, "RT5M", timedelta(minutes=5), IntervalLabel.START,
            "Real-time 5-minute LMP, all AP nodes (PRC_INTVL_LMP)", request_window=HOUR,
        ),
        "lmp_rt15": DatasetSpec(
            "lmp_rt15", DatasetKind.LMP, "RT15M", timedelta(minutes=15), IntervalLabel.START,
            "Real-time 15-minute (RTPD) LMP, all AP nodes (PRC_RTPD_LMP)", request_window=HOUR,
        ),
        "as_da": DatasetSpec(
            "as_da", DatasetKind.AS_PRICE, "DAM", HOUR, IntervalLabel.START,
            "Day-ahead ancillary-service clearing prices, all regions (PRC_AS)", request_window=DAY,
        ),
        **extra.EXTRA_DATASETS,
    }  # fmt: skip
    combined: ClassVar[CombinedSources] = CombinedSources("lmp_da", "as_da", "lmp_rt5")
    realtime: ClassVar[RealtimeFeed] = RealtimeFeed("lmp_rt5", ("lmp_rt5", "lmp_rt15"))
    day_ahead: ClassVar[DayAheadSchedule] = DayAheadSchedule(
        time(13, 15), time(15, 45), ("lmp_da", "as_da", "load_forecast")
    )
    value_bounds: ClassVar[tuple[ValueBound, ...]] = (
        ValueBound(
            DatasetKind.LMP, 2000, 2100, -3_000.0, 6_000.0,
            "Bid floor -$150 and hard cap $2,000 (FERC 831), widened for congestion, losses and "
            "power-balance penalty pricing at individual nodes",
        ),
        ValueBound(
            DatasetKind.AS_PRICE, 2000, 2100, -1.0, 5_000.0,
            "AS bid cap $250 plus scarcity pricing; AS prices are not negative (-1 allows rounding)",
        ),
        *extra.EXTRA_VALUE_BOUNDS,
    )  # fmt: skip

    def requests_for_day(
        self, dataset_id: str, day: date, today: date | None = None
    ) -> list[DownloadRequest]:
        if dataset_id in extra.EXTRA_DATASETS:
            return extra.extra_requests_for_day(self.id, dataset_id, day, self.market_day_bounds)
        self.dataset(dataset_id)  # UnknownDatasetError for what CAISO does not offer
        return [
            oasis_request(self.id, dataset_id, start, end)
            for start, end in self.request_windows(dataset_id, day)
        ]

    def check_payload(self, content: bytes, source: str) -> None:
        if extra.is_outlook_source(source):
            return extra.check_outlook_payload(content, source)
        if content[:4] != b"PK\x03\x04":
            if b"Acceptable Use Policy" in content[:2048]:
                # OASIS throttles with an HTML page, sometimes under HTTP 200 rather than 429.
                raise IsoRateLimitedError(source, "429", "OASIS acceptable-use throttling page")
            if content.lstrip()[:1] == b"<":
                _raise_if_error_document(content, source)
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
                        _raise_if_error_document(archive.read(name), f"{source}!{name}")
        except zipfile.BadZipFile as exc:
            raise MalformedFileError(f"{source}: corrupt ZIP from OASIS: {exc}") from exc

    def latest_interval_request(self, now: datetime) -> DownloadRequest:
        return realtime.probe_request(self.id, now)

    def latest_interval_end(self, dataset_id: str, content: bytes, source: str) -> datetime | None:
        if self.dataset(dataset_id).id in extra.OUTLOOK_FILES:  # local HH:MM rows, not OASIS
            return super().latest_interval_end(dataset_id, content, source)
        return realtime.latest_end(content, source, self.check_payload)

    def narrow_request(self, request: DownloadRequest, start: datetime) -> DownloadRequest | None:
        return realtime.narrow(request, start)

    def dropped_file_day(self, name: str) -> tuple[str, date] | None:
        """An OASIS CSV covering one market day -> (dataset, day), from its query and market run.

        `20240101_20240101_PRC_LMP_DAM_20240102_10_00_00_v12.csv`: start and end operating
        dates, query, market run, build time, version. Multi-day files are None: their rows
        would have to be split between partitions.
        """
        match = _OASIS_NAME.fullmatch(name.rsplit("/", 1)[-1])
        if match is None or match["start"] != match["end"]:
            return None
        query, _, run = match["report"].upper().rpartition("_")
        dataset = _DROPPED_DATASETS.get((query, run))
        if dataset is None:
            return None
        try:
            return dataset, datetime.strptime(match["start"], "%Y%m%d").date()
        except ValueError:
            return None

    def parse_with_notes(
        self, dataset_id: str, paths: Sequence[Path]
    ) -> tuple[pl.DataFrame, dict[str, int]]:
        frame = self.parse(dataset_id, paths)
        if self.dataset(dataset_id).kind is DatasetKind.LOAD_FORECAST:
            return frame, extra.unknown_publish_times(frame)
        return frame, {}

    def parse(self, dataset_id: str, paths: Iterable[Path]) -> pl.DataFrame:
        if dataset_id in extra.EXTRA_PARSERS:
            return extra.EXTRA_PARSERS[dataset_id](paths)
        spec = self.dataset(dataset_id)
        query = OASIS_QUERIES[spec.id]
        frames = [frame for path in paths for frame in _read_oasis_file(path, query, spec.kind)]
        if not frames:
            raise MalformedFileError(f"{self.id} {dataset_id}: no data files to parse")
        long = pl.concat(frames, how="vertical")
        if spec.kind is DatasetKind.LMP:
            return _standardize_lmp(long, self.id, spec.market, _describe(paths))
        return _standardize_as(long, self.id, spec.market, _describe(paths))


def _describe(paths: Iterable[Path]) -> str:
    names = [str(p) for p in paths]
    return names[0] if len(names) == 1 else f"{names[0]} (+{len(names) - 1} more files)"


def _raise_if_error_document(content: bytes, source: str) -> None:
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


def _read_oasis_file(path: Path, query: OasisQuery, kind: DatasetKind) -> list[pl.DataFrame]:
    """The raw rows of one file (a ZIP as served, or an extracted CSV/XML) in a common layout."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".zip":
        frames = []
        try:
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    frames.extend(_read_member(archive.read(name), f"{path}!{name}", query, kind))
        except zipfile.BadZipFile as exc:
            raise MalformedFileError(f"{path}: not a readable ZIP: {exc}") from exc
        return frames
    if suffix in (".csv", ".xml"):
        return _read_member(path.read_bytes(), str(path), query, kind)
    raise MalformedFileError(f"{path}: CAISO files are .zip, .csv or .xml, not {suffix!r}")


def _read_member(content: bytes, source: str, query: OasisQuery, kind: DatasetKind) -> list:
    if source.lower().endswith(".xml"):
        _raise_if_error_document(content, source)
        return [_read_xml_report(content, source, kind)]
    if source.lower().endswith(".csv"):
        return [_read_csv(content, source, query, kind)]
    return []  # OASIS ZIPs hold nothing else; anything else is not data


def _read_csv(content: bytes, source: str, query: OasisQuery, kind: DatasetKind) -> pl.DataFrame:
    header = header_line(content, source).strip().split(",")
    expected = query.columns
    missing = [c for c in expected if c not in header]
    unexpected = [c for c in header if c not in expected]
    if missing or unexpected:
        raise SchemaDriftError(source, missing, unexpected)
    item_column = "LMP_TYPE" if kind is DatasetKind.LMP else "XML_DATA_ITEM"
    keys = ["NODE"] if kind is DatasetKind.LMP else ["ANC_TYPE", "ANC_REGION"]
    wanted = ["INTERVALSTARTTIME_GMT", "INTERVALENDTIME_GMT", *keys, item_column]
    try:
        frame = pl.read_csv(
            content,
            columns=[*wanted, query.value_column],
            schema_overrides={**dict.fromkeys(wanted, pl.String), query.value_column: pl.Float64},
        )
    except pl.exceptions.PolarsError as exc:
        raise MalformedFileError(
            f"{source}: cannot read CSV (value column {query.value_column!r} must be numeric): {exc}"
        ) from exc
    renames = {
        "INTERVALSTARTTIME_GMT": "start",
        "INTERVALENDTIME_GMT": "end",
        item_column: "item",
        query.value_column: "value",
    }
    if kind is DatasetKind.LMP:
        renames["NODE"] = "location"
    else:
        renames |= {"ANC_TYPE": "iso_product", "ANC_REGION": "region"}
    return frame.rename(renames).with_columns(pl.lit(source).alias("source"))


def _read_xml_report(content: bytes, source: str, kind: DatasetKind) -> pl.DataFrame:
    """Legacy OASISReport XML (pre-CSV files): REPORT_DATA records into the CSV layout.

    Only used for old archives; CSV is the format OASIS serves today.
    """
    if kind is not DatasetKind.LMP:
        raise MalformedFileError(f"{source}: XML reports are supported for LMP datasets only")
    fields = {
        "DATA_ITEM": [], "RESOURCE_NAME": [], "INTERVAL_START_GMT": [],
        "INTERVAL_END_GMT": [], "VALUE": [],
    }  # fmt: skip
    try:
        for _, element in ElementTree.iterparse(io.BytesIO(content)):
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "REPORT_DATA":
                for child in element:
                    name = child.tag.rsplit("}", 1)[-1]
                    if name in fields:
                        fields[name].append(child.text)
                lengths = {len(v) for v in fields.values()}
                if len(lengths) != 1:
                    raise MalformedFileError(f"{source}: REPORT_DATA record lacks a field")
                element.clear()
    except ElementTree.ParseError as exc:
        raise MalformedFileError(f"{source}: unreadable OASIS XML: {exc}") from exc
    items = pl.Series(fields["DATA_ITEM"], dtype=pl.String)
    return pl.DataFrame(
        {
            "start": fields["INTERVAL_START_GMT"],
            "end": fields["INTERVAL_END_GMT"],
            "location": fields["RESOURCE_NAME"],
            "item": items.replace(LMP_XML_ITEMS),
            "value": pl.Series(fields["VALUE"], dtype=pl.String).cast(pl.Float64, strict=False),
        },
        schema_overrides={"start": pl.String, "end": pl.String, "location": pl.String},
    ).with_columns(pl.lit(source).alias("source"))


def _parse_instants(frame: pl.LazyFrame, source: str) -> pl.LazyFrame:
    return frame.with_columns(
        pl.col("start").str.to_datetime(GMT_FORMAT, time_zone="UTC", time_unit="us"),
        pl.col("end").str.to_datetime(GMT_FORMAT, time_zone="UTC", time_unit="us"),
    )


def _collect(frame: pl.LazyFrame, source: str) -> pl.DataFrame:
    try:
        return frame.collect()
    except pl.exceptions.PolarsError as exc:
        raise MalformedFileError(f"{source}: {exc}") from exc


def _check_items(long: pl.DataFrame, known: Iterable[str], column: str, source: str) -> None:
    unknown = sorted(set(long.get_column(column).unique().drop_nulls()) - set(known))
    if unknown:
        raise MalformedFileError(
            f"{source}: unknown {column} value(s) {unknown}; refusing to drop them silently"
        )


def location_type(column: str = "location") -> pl.Expr:
    """CAISO location class from the name: trading hubs, load aggregation points, other APNodes."""
    name = pl.col(column)
    return (
        pl.when(name.str.starts_with("TH_"))
        .then(pl.lit("TRADING_HUB"))
        .when(name.str.starts_with("DLAP_"))
        .then(pl.lit("DLAP"))
        .when(name.str.starts_with("SLAP_"))
        .then(pl.lit("SLAP"))
        .otherwise(pl.lit("APNODE"))
    )


def _standardize_lmp(long: pl.DataFrame, iso: str, market: str, source: str) -> pl.DataFrame:
    """One row per LMP_TYPE becomes one row per node and interval with component columns.

    Duplicate raw rows are kept as duplicate standardized rows (numbered per key) so the duplicate
    check sees them; a pivot that kept the first value would hide them.
    """
    _check_items(long, LMP_COMPONENTS, "item", source)
    keys = ["start", "end", "location"]
    components = [
        pl.col("value").filter(pl.col("item") == code).first().alias(column)
        for code, column in LMP_COMPONENTS.items()
    ]
    pivoted = (
        long.lazy()
        .group_by(keys)
        .agg(*components, (pl.len() > pl.col("item").n_unique()).alias("_repeated"))
        .collect()
    )
    if pivoted.get_column("_repeated").any():
        # Rare: number repeated rows per key so each copy becomes its own standardized row.
        occurrence = pl.int_range(pl.len()).over([*keys, "item"]).alias("occurrence")
        pivoted = (
            long.lazy()
            .with_columns(occurrence)
            .group_by([*keys, "occurrence"])
            .agg(*components)
            .collect()
        )
    pivoted = pivoted.lazy()
    result = _parse_instants(pivoted, source).select(
        pl.col("start").alias("interval_start"),
        pl.col("end").alias("interval_end"),
        pl.lit(iso).alias("iso"),
        pl.lit(market).alias("market"),
        pl.col("location"),
        location_type().alias("location_type"),
        *(pl.col(c) for c in LMP_COMPONENTS.values()),
    )
    out = _collect(result.sort("location", "interval_start"), source)
    return out.select(LMP_COLUMNS)


def _standardize_as(long: pl.DataFrame, iso: str, market: str, source: str) -> pl.DataFrame:
    frame = _parse_instants(long.lazy(), source).select(
        pl.col("start").alias("interval_start"),
        pl.col("end").alias("interval_end"),
        pl.lit(iso).alias("iso"),
        pl.lit(market).alias("market"),
        pl.col("region"),
        pl.col("iso_product")
        .replace_strict(AS_PRODUCTS, default=pl.col("iso_product"))
        .alias("product"),
        pl.col("iso_product"),
        pl.col("value").alias("price"),
    )
    out = _collect(frame.sort("region", "product", "interval_start"), source)
    return out.select(AS_PRICE_COLUMNS)
