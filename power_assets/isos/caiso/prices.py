"""CAISO OASIS price reports (PRC_LMP, PRC_INTVL_LMP, PRC_RTPD_LMP, PRC_AS) to standardized rows.

What belongs here: reading the price reports' files (ZIPs as served, extracted CSVs, legacy
`OASISReport` XML) and turning their long rows (one per LMP component or AS product) into the
LMP and AS price tables. How these reports are requested and told apart from error documents is
`oasis`'s business.
"""

import io
import zipfile
from collections.abc import Iterable
from pathlib import Path
from xml.etree import ElementTree

import polars as pl

from power_assets.errors import MalformedFileError, SchemaDriftError
from power_assets.isos.base import DatasetKind, DatasetSpec
from power_assets.isos.caiso.oasis import (
    GMT_FORMAT,
    OASIS_QUERIES,
    OasisQuery,
    raise_if_error_document,
)
from power_assets.isos.headers import header_line
from power_assets.schemas import AS_PRICE_COLUMNS, LMP_COLUMNS

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


def parse_prices(iso_id: str, spec: DatasetSpec, paths: Iterable[Path]) -> pl.DataFrame:
    """The files of one OASIS price dataset (`lmp_*` or `as_da`) as LMP or AS price rows."""
    query = OASIS_QUERIES[spec.id]
    frames = [frame for path in paths for frame in _read_oasis_file(path, query, spec.kind)]
    if not frames:
        raise MalformedFileError(f"{iso_id} {spec.id}: no data files to parse")
    long = pl.concat(frames, how="vertical")
    if spec.kind is DatasetKind.LMP:
        return _standardize_lmp(long, iso_id, spec.market, _describe(paths))
    return _standardize_as(long, iso_id, spec.market, _describe(paths))


def _describe(paths: Iterable[Path]) -> str:
    names = [str(p) for p in paths]
    return names[0] if len(names) == 1 else f"{names[0]} (+{len(names) - 1} more files)"


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
        raise_if_error_document(content, source)
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
        # CAISO publishes node names only, no separate node id.
        pl.lit(None, pl.Utf8).alias("location_id"),
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
