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
    # LMP keys are read as categoricals: the pivot works on their integer codes (see
    # `_pivot_by_position`), which polars assigns while it parses; the table it returns holds
    # text again.
    text = pl.Categorical if kind is DatasetKind.LMP else pl.String
    try:
        frame = pl.read_csv(
            content,
            columns=[*wanted, query.value_column],
            schema_overrides={**dict.fromkeys(wanted, text), query.value_column: pl.Float64},
            # The header check above has refused an empty file already; polars' own check
            # would copy all of `content` (tens of MB for an all-node day) to look at its size.
            raise_if_empty=False,
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
    return frame.rename(renames)


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
    ).with_columns(pl.col(_LMP_TEXT).cast(pl.Categorical))  # as `_read_csv` reads them


def _parse_instants(frame: pl.LazyFrame, source: str) -> pl.LazyFrame:
    return frame.with_columns(
        pl.col("start").str.to_datetime(GMT_FORMAT, time_zone="UTC", time_unit="us"),
        pl.col("end").str.to_datetime(GMT_FORMAT, time_zone="UTC", time_unit="us"),
    )


def _collect(frame: pl.LazyFrame, source: str) -> pl.DataFrame:
    try:
        # In-memory, as polars 1 collected by default: polars 2's default streaming engine may
        # order sort ties (repeated rows) differently.
        return frame.collect(engine="in-memory")
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
    items = long.get_column("item")
    component = _recode(  # each row's index in LMP_COMPONENTS; null for a null or unknown one
        items.to_physical(),
        pl.Series(list(LMP_COMPONENTS), dtype=items.dtype).to_physical(),
        _MAX_SLOTS_PER_ROW * long.height + 4096,
        default=True,
    )
    if component.null_count() > items.null_count():
        _check_items(long, LMP_COMPONENTS, "item", source)
    pivoted = _pivot_by_position(long, component, source)
    if pivoted is None:
        pivoted = _pivot_by_group(long.with_columns(pl.col(_LMP_TEXT).cast(pl.String)), source)
    columns = {
        "interval_start": pl.col("start"),
        "interval_end": pl.col("end"),
        "iso": pl.lit(iso),
        "market": pl.lit(market),
        # CAISO publishes node names only, no separate node id.
        "location_id": pl.lit(None, pl.Utf8),
        "baa": pl.lit(None, pl.Utf8),
    }
    return pivoted.select(columns.get(c, pl.col(c)).alias(c) for c in LMP_COLUMNS)


# The text columns of the long LMP rows, categorical as read (`_read_csv`).
_LMP_TEXT = ["start", "end", "location", "item"]
# `_pivot_by_position` lays out a slot for every (location, start, end) combination it sees; when
# the rows would fill few of them (nodes on different intervals), grouping is the better way.
_MAX_SLOTS_PER_ROW = 2


def _pivot_by_position(
    long: pl.DataFrame, component: pl.Series, source: str
) -> pl.DataFrame | None:
    """`_pivot_by_group`'s result, the fast way (`component`: each row's index in
    LMP_COMPONENTS); None (use `_pivot_by_group`) for no rows, a null key or LMP_TYPE, a
    component repeated for a key, or sparse keys.

    Works on the categorical codes of the key columns. Their distinct values (a few thousand of
    the ~160,000 rows of an all-node day) are put in output order: locations by name, (start,
    end) pairs by instant. A row's output slot is arithmetic on those ranks, and each value is
    scattered to its cell (slot x component). Only distinct values are parsed or sorted; the
    rows themselves are neither grouped nor sorted.
    """
    if not long.height or any(long.get_column(c).null_count() for c in _LMP_TEXT):
        return None
    limit = _MAX_SLOTS_PER_ROW * long.height + 4096  # the largest slot or lookup table built
    location, start, end = (long.get_column(c) for c in ("location", "start", "end"))
    # Locations by name. A categorical's code indexes its text in its categories; those may hold
    # other columns' text too (shared categories), which merely adds slots no row fills.
    texts = location.dtype.categories.to_series()  # polars 2 removed cat.get_categories()
    if len(texts) <= limit // 4:
        locations = pl.DataFrame({"code": pl.int_range(len(texts), eager=True), "location": texts})
    else:  # categories shared with much other data: rank only this column's names
        locations = _distinct(location)
    locations = locations.sort("location").with_columns(location_type().alias("location_type"))
    location_rank = _recode(location.to_physical(), locations.get_column("code"), limit)
    ranked = _interval_ranks(start, end, limit, source)
    if ranked is None:
        return None
    pairs, pair_rank = ranked
    slots = locations.height * pairs.height
    if slots > limit:
        return None
    slot = location_rank * pairs.height + pair_rank

    # One cell per slot and component: cell = slot x 5 + the component's index.
    names = list(LMP_COMPONENTS.values())
    cell = slot * len(names) + component
    filled = _marks(cell, slots * len(names))
    if filled.sum() < long.height:
        return None  # a component twice for one key
    values = pl.repeat(None, slots * len(names), dtype=pl.Float64, eager=True)
    values = values.scatter(cell, long.get_column("value"))
    # The slots some row reached (a node may miss an interval), in order.
    at = filled.reshape((slots, len(names))).arr.any().arg_true()
    pair_at, location_at = at % pairs.height, at // pairs.height
    return pl.DataFrame(
        [
            pairs.get_column("start").gather(pair_at),
            pairs.get_column("end").gather(pair_at),
            locations.get_column("location").gather(location_at),
            locations.get_column("location_type").gather(location_at),
            *(values.gather(at * len(names) + i).alias(n) for i, n in enumerate(names)),
        ]
    )


def _interval_ranks(
    start: pl.Series, end: pl.Series, limit: int, source: str
) -> tuple[pl.DataFrame, pl.Series] | None:
    """The distinct (start, end) pairs as instants, sorted, and each row's pair's rank (UInt32);
    None when starts x ends would exceed `limit` slots.

    Usually each start has one end (an interval's length is fixed): the start alone ranks a row.
    """
    start_code, end_code = start.to_physical(), end.to_physical()
    width = _largest(end_code) + 1
    if (_largest(start_code) + 1) * width >= 2**32:
        start_code = start_code.cast(pl.UInt64)
    first = (start_code * width + end_code).arg_unique()
    pairs = pl.DataFrame([start.gather(first), end.gather(first)])
    try:
        pairs = pairs.select(
            pl.col("start", "end").to_physical().name.suffix("_code"),
            pl.col("start", "end").cast(pl.String).name.suffix("_text"),
            _instant(pl.col("start").cast(pl.String)),
            _instant(pl.col("end").cast(pl.String)),
        ).sort("start", "end", "start_text", "end_text")
    except pl.exceptions.PolarsError as exc:
        raise MalformedFileError(f"{source}: {exc}") from exc
    starts = pairs.get_column("start_code")
    if starts.n_unique() == pairs.height:
        return pairs, _recode(start.to_physical(), starts, limit)
    # Compact codes of each column, then of the pairs.
    start_ids, end_ids = starts.unique(), pairs.get_column("end_code").unique()
    if len(start_ids) * len(end_ids) > limit:
        return None
    per_row, per_pair = (
        _recode(frame_start, start_ids, limit) * len(end_ids) + _recode(frame_end, end_ids, limit)
        for frame_start, frame_end in (
            (start.to_physical(), end.to_physical()),
            (starts, pairs.get_column("end_code")),
        )
    )
    return pairs, _recode(per_row, per_pair, len(start_ids) * len(end_ids))


def _instant(text: pl.Expr) -> pl.Expr:
    return text.str.to_datetime(GMT_FORMAT, time_zone="UTC", time_unit="us")


def _distinct(column: pl.Series) -> pl.DataFrame:
    """The distinct values of a categorical column: `code` (physical) and the text."""
    values = column.gather(column.to_physical().arg_unique())
    return pl.DataFrame({"code": values.to_physical(), column.name: values.cast(pl.String)})


def _recode(
    physical: pl.Series, codes: pl.Series, limit: int, *, default: bool = False
) -> pl.Series:
    """Per element, the i with `codes[i]` equal to it (UInt32); with `default`, null for an
    element that is not in `codes` (without, every element must be).

    A lookup table indexed by code; a hash lookup instead when the codes spread over more than
    `limit` (categories shared with much other data in the process)."""
    index = pl.int_range(len(codes), dtype=pl.UInt32, eager=True)
    largest = _largest(codes, physical) if default else _largest(codes)
    if largest >= limit:
        extra = {"default": None} if default else {}
        return physical.replace_strict(codes, index, return_dtype=pl.UInt32, **extra)
    table = pl.repeat(None, largest + 1, dtype=pl.UInt32, eager=True)
    return table.scatter(codes, index).gather(physical)


def _largest(*columns: pl.Series) -> int:
    """The largest value of integer columns, 0 if they are empty or null."""
    return max(int(column.max() or 0) for column in columns)  # type: ignore[arg-type]


def _marks(slots: pl.Series, size: int) -> pl.Series:
    """`size` booleans, true at the given slots."""
    return pl.repeat(False, size, eager=True).scatter(slots, True)


def _pivot_by_group(long: pl.DataFrame, source: str) -> pl.DataFrame:
    """`_pivot_by_position` for any rows (text keys): by group-by, repeated rows numbered."""
    keys = ["start", "end", "location"]
    components = [
        pl.col("value").filter(pl.col("item") == code).first().alias(column)
        for code, column in LMP_COMPONENTS.items()
    ]
    pivoted = (
        long.lazy()
        .group_by(keys)
        .agg(*components, (pl.len() > pl.col("item").n_unique()).alias("_repeated"))
        .collect(engine="in-memory")  # as polars 1 did (see `_collect`)
    )
    if pivoted.get_column("_repeated").any():
        # Number repeated rows per key so each copy becomes its own standardized row.
        occurrence = pl.int_range(pl.len()).over([*keys, "item"]).alias("occurrence")
        pivoted = (
            long.lazy()
            .with_columns(occurrence)
            .group_by([*keys, "occurrence"])
            .agg(*components)
            .collect(engine="in-memory")  # copies numbered in row order, as polars 1 did
        )
    result = _parse_instants(pivoted.lazy(), source).select(
        "start", "end", "location", location_type().alias("location_type"), *LMP_COMPONENTS.values()
    )
    return _collect(result.sort("location", "start"), source)


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
