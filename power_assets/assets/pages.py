"""What an asset's page shows about one partition's data: the table's size and columns, a few of
its rows, and for prices and load a summary of the day and figures the UI charts across days.

Every function returns metadata entries for the partition's `AssetMaterialization`:

- `dagster/row_count` and `dagster/column_schema` on every table (raw_parquet, flattened,
  combined, warehouse): the standardized tables' columns come from their pandera model (see
  `model_schema`), the wide tables' from the frame itself (one column per location; a frame with
  more than MAX_LISTED_COLUMNS columns is described by column family, e.g. `da__*`, with counts);
- `preview`: the first PREVIEW_ROWS rows as a markdown table (raw_parquet, flattened);
- prices (LMP, AS prices), on raw_parquet: `price_summary`, per location type (AS: per product)
  the number of locations, min, mean, max, negative and capped prices, as a markdown table; and
  the floats `price_min`, `price_mean`, `price_max`, `hub_price_mean`, `hub_price_max` that the
  Plots tab charts across days;
- prices, on raw_parquet: `day_chart`, the day's hourly prices at the hubs (AS: per product) as
  sparklines in a markdown table (see day_chart.py);
- load, on raw_parquet: `load_mean_mw`, `load_max_mw` of the day's largest area (`load_area`).

All of it is polars expressions over the partition's frame (no loop over rows), a few ms a day.
"""

from collections.abc import Sequence
from datetime import date, datetime
from functools import cache
from typing import Any

import dagster as dg
import polars as pl

from power_assets.isos import IsoDefinition
from power_assets.isos.base import DatasetKind, ValueBound
from power_assets.kinds import SERIES_SEPARATOR, kind_spec
from power_assets.stages.combine import TIME_COLUMNS

# Dagster's table metadata keys (`TableMetadataSet`, not exported by `dagster` itself).
ROW_COUNT = "dagster/row_count"
PARTITION_ROW_COUNT = "dagster/partition_row_count"
COLUMN_SCHEMA = "dagster/column_schema"

PREVIEW_ROWS = 5
PREVIEW_COLUMNS = 8  # of a wide table: the time columns and the first locations
MAX_LISTED_COLUMNS = 200  # a wider table's schema lists column families, not every column
FAMILY_EXAMPLES = 3

# The columns a warehouse table holds besides its model's (`store.warehouse._table`).
WAREHOUSE_COLUMNS = (
    ("dataset", "String", "the dataset the row was loaded from, e.g. lmp_da"),
    ("market_date", "Date", "the ISO-local market day (the partition's date)"),
    ("loaded_at", "Datetime[us, UTC]", "when the market day was loaded"),
)

# How the price summary groups a day's rows, and what it counts in each group.
PRICE_GROUPS = {DatasetKind.LMP: "location_type", DatasetKind.AS_PRICE: "product"}
# Location types that name trading hubs: CAISO TRADING_HUB, PJM and ISO-NE HUB, ERCOT HU (hubs),
# AH (hub average, HB_HUBAVG) and SH (bus average, HB_BUSAVG). NYISO has none: its figures
# then cover every location.
HUB_CODES = ("HU", "AH", "SH")


def is_hub(location_type: pl.Expr) -> pl.Expr:
    return location_type.str.to_uppercase().str.contains("HUB") | location_type.is_in(HUB_CODES)


def type_name(dtype: Any) -> str:
    """A short, stable name of a polars type: `Float64`, `String`, `Datetime[us, UTC]`."""
    if isinstance(dtype, pl.Datetime):
        zone = f", {dtype.time_zone}" if dtype.time_zone else ""
        return f"Datetime[{dtype.time_unit}{zone}]"
    return str(dtype)


# --- table size and columns -----------------------------------------------------------------


@cache
def model_schema(kind: DatasetKind, warehouse: bool = False) -> dg.TableSchema:
    """The columns of a standardized table of `kind`, from its pandera model: names, types,
    nullability, which are the key; with `warehouse`, plus the columns the DuckDB table adds."""
    spec = kind_spec(kind)
    key = ", ".join(spec.key)
    columns = [
        dg.TableColumn(
            name,
            type_name(column.dtype.type),
            description=f"part of the key ({key})" if name in spec.key else None,
            constraints=dg.TableColumnConstraints(nullable=bool(column.nullable)),
        )
        for name, column in spec.model.to_schema().columns.items()
    ]
    if warehouse:
        columns += [
            dg.TableColumn(name, kind_name, description, dg.TableColumnConstraints(nullable=False))
            for name, kind_name, description in WAREHOUSE_COLUMNS
        ]
    unique = f"one row per ({key})"
    return dg.TableSchema(columns, dg.TableConstraints(other=[unique]))


def frame_schema(frame: pl.DataFrame, series: str | None = None) -> dg.TableSchema:
    """The columns of a wide table as they are. Up to MAX_LISTED_COLUMNS every column is listed;
    a wider one lists its time columns and one entry per column family and type: the columns
    named `{prefix}__...` (combined files), or with `series` (e.g. `{location}`) every column
    other than the time columns, each entry saying how many columns it stands for."""
    types = [type_name(t) for t in frame.dtypes]
    if frame.width <= MAX_LISTED_COLUMNS:
        return dg.TableSchema(
            [dg.TableColumn(n, t) for n, t in zip(frame.columns, types, strict=True)]
        )
    names = pl.DataFrame({"name": frame.columns, "type": types})
    is_time = pl.col("name").is_in(TIME_COLUMNS)
    family = (
        pl.lit(series)
        if series is not None
        else pl.when(pl.col("name").str.contains("__", literal=True))
        .then(pl.col("name").str.split("__").list.first() + pl.lit("__*"))
        .otherwise(pl.col("name"))
    )
    families = (
        names.with_columns(pl.when(is_time).then(pl.col("name")).otherwise(family).alias("family"))
        .group_by("family", "type", maintain_order=True)
        .agg(pl.len().alias("count"), pl.col("name").head(FAMILY_EXAMPLES).alias("examples"))
    )
    columns = []
    for row in families.iter_rows(named=True):  # one per family, not per column
        described = None
        if row["family"] not in row["examples"]:
            more = ", …" if row["count"] > len(row["examples"]) else ""
            described = f"{row['count']:,} columns: {', '.join(row['examples'])}{more}"
        columns.append(dg.TableColumn(row["family"], row["type"], description=described))
    return dg.TableSchema(
        columns, dg.TableConstraints(other=[f"{frame.width:,} columns in all (listed by family)"])
    )


def _table(rows: int, schema: dg.TableSchema) -> dict[str, Any]:
    return {
        ROW_COUNT: dg.MetadataValue.int(rows),
        PARTITION_ROW_COUNT: dg.MetadataValue.int(rows),
        COLUMN_SCHEMA: dg.MetadataValue.table_schema(schema),
    }


# --- preview --------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        text = value.isoformat()
    elif isinstance(value, float):
        text = f"{value:.6g}"
    else:
        text = str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(frame: pl.DataFrame) -> str:
    """A small frame (a preview, a summary) as a markdown table."""
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * frame.width]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join(lines)


def preview(frame: pl.DataFrame, max_columns: int | None = None) -> str:
    """The first PREVIEW_ROWS rows (and with `max_columns`, the first columns) as markdown."""
    if frame.is_empty():
        return "no rows"
    shown = frame.head(PREVIEW_ROWS)
    notes = [f"first {shown.height} of {frame.height:,} rows"]
    if max_columns is not None and frame.width > max_columns:
        shown = shown.select(frame.columns[:max_columns])
        notes.append(
            f"first {max_columns} of {frame.width:,} columns ({frame.width - max_columns:,} more)"
        )
    return markdown_table(shown) + "\n\n" + "; ".join(notes)


# --- prices and load ------------------------------------------------------------------------


def _price_groups(frame: pl.DataFrame, kind: DatasetKind, capped_from: float) -> pl.DataFrame:
    """One pass over the day: per location type (AS: product) the locations (AS: regions),
    min, max, sum and count of the prices, and how many are negative and at or above
    `capped_from`. The summary and every figure are read off these few rows."""
    spec = kind_spec(kind)
    value = pl.col(spec.value)
    return (
        frame.group_by(PRICE_GROUPS[kind])
        .agg(
            pl.col(spec.location).n_unique().alias(f"{spec.location}s"),
            value.min().alias("min"),
            value.max().alias("max"),
            value.sum().alias("sum"),
            value.count().alias("count"),
            (value < 0).sum().alias("negative"),
            (value >= capped_from).sum().alias("capped"),
        )
        .sort(PRICE_GROUPS[kind])
    )


def _mean() -> pl.Expr:
    count = pl.col("count").sum()
    return pl.when(count > 0).then(pl.col("sum").sum() / count)


def _summary_of(groups: pl.DataFrame, kind: DatasetKind) -> pl.DataFrame:
    spec = kind_spec(kind)
    return groups.select(
        PRICE_GROUPS[kind],
        f"{spec.location}s",
        "min",
        pl.when(pl.col("count") > 0).then(pl.col("sum") / pl.col("count")).alias("mean"),
        "max",
        "negative",
        "capped",
    )


def _figures_of(groups: pl.DataFrame, kind: DatasetKind) -> dict[str, Any]:
    figures = groups.select(
        pl.col("min").min().alias("price_min"),
        _mean().alias("price_mean"),
        pl.col("max").max().alias("price_max"),
    ).row(0, named=True)
    if kind is DatasetKind.LMP:
        hubs = groups.filter(is_hub(pl.col("location_type")))
        chosen = hubs if hubs.height else groups
        figures.update(
            chosen.select(
                _mean().alias("hub_price_mean"),
                pl.col("max").max().alias("hub_price_max"),
                pl.col("locations").sum().alias("hub_locations"),
            ).row(0, named=True),
            hub_types=", ".join(hubs["location_type"]),
        )
    return figures


def price_summary(frame: pl.DataFrame, kind: DatasetKind, bound: ValueBound) -> pl.DataFrame:
    """Per location type (AS prices: per product): locations (AS: regions), min, mean, max, and
    how many prices are negative and how many at or above the bound's maximum ("capped")."""
    return _summary_of(_price_groups(frame, kind, bound.maximum), kind)


def price_figures(frame: pl.DataFrame, kind: DatasetKind) -> dict[str, Any]:
    """The day's min, mean and max price; for LMPs also the mean and max over the hubs (every
    location where the day has no hub type), how many locations that is and the hub types."""
    return _figures_of(_price_groups(frame, kind, float("inf")), kind)


def load_figures(frame: pl.DataFrame) -> dict[str, Any]:
    """Mean and max load of the day's largest area by mean load: the ISO total where the ISO
    publishes one (CAISO, ISO-NE, ERCOT TOTAL, PJM's `PJM RTO` today), else its largest zone.
    Areas are not summed: some ISOs publish a total beside its parts."""
    areas = (
        frame.group_by("area")
        .agg(pl.col("load_mw").mean().alias("mean"), pl.col("load_mw").max().alias("max"))
        .filter(pl.col("mean").is_not_null())
        .sort(["mean", "area"], descending=[True, False])
    )
    if areas.is_empty():
        return {}
    top = areas.row(0, named=True)
    return {"load_mean_mw": top["mean"], "load_max_mw": top["max"], "load_area": top["area"]}


def _floats(values: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """Float metadata for the figures that exist (a day without values has none)."""
    return {
        name: dg.MetadataValue.float(float(values[name]))
        for name in names
        if values.get(name) is not None
    }


def _summary_markdown(
    summary: pl.DataFrame, kind: DatasetKind, bound: ValueBound, year: int
) -> str:
    unit = "$/MWh" if kind is DatasetKind.LMP else "$/MW"
    heading = (
        f"Prices ({unit}) by {PRICE_GROUPS[kind]}; negative: below 0; capped: at or above "
        f"{bound.maximum:,g}, the upper bound for {year} ({bound.reason})"
    )
    shown = summary.with_columns(pl.col("min", "mean", "max").round(2))
    return heading + "\n\n" + markdown_table(shown)


# --- per stage ------------------------------------------------------------------------------


def standardized_page(
    frame: pl.DataFrame, iso: IsoDefinition, kind: DatasetKind, day: date
) -> dict[str, Any]:
    """raw_parquet: size, the model's columns, a preview; the price summary and figures for
    prices, the load figures for load."""
    page = {
        **_table(frame.height, model_schema(kind)),
        "preview": dg.MetadataValue.md(preview(frame)),
    }
    if frame.is_empty():
        return page
    if kind in PRICE_GROUPS:
        bound = iso.value_bound(kind, day.year)
        groups = _price_groups(frame, kind, bound.maximum)
        page["price_summary"] = dg.MetadataValue.md(
            _summary_markdown(_summary_of(groups, kind), kind, bound, day.year)
        )
        figures = _figures_of(groups, kind)
        page.update(
            _floats(
                figures, ["price_min", "price_mean", "price_max", "hub_price_mean", "hub_price_max"]
            )
        )
        if "hub_locations" in figures:
            page["hub_locations"] = dg.MetadataValue.int(figures["hub_locations"])
            page["hubs"] = figures["hub_types"] or "none: every location"
    elif kind is DatasetKind.LOAD:
        figures = load_figures(frame)
        page.update(_floats(figures, ["load_mean_mw", "load_max_mw"]))
        if figures:
            page["load_area"] = figures["load_area"]
    return page


def flattened_page(frame: pl.DataFrame, kind: DatasetKind) -> dict[str, Any]:
    """flattened: size, the frame's own columns (one per location, named like
    `{location}` or `{region}__{product}`), and a preview of its first PREVIEW_COLUMNS columns."""
    series = SERIES_SEPARATOR.join(f"{{{c}}}" for c in kind_spec(kind).series_columns)
    return {
        **_table(frame.height, frame_schema(frame, series)),
        "preview": dg.MetadataValue.md(preview(frame, PREVIEW_COLUMNS)),
    }


def combined_page(frame: pl.DataFrame) -> dict[str, Any]:
    """combined daily files: size and the frame's own columns (`da__*`, `as__*`, `rt*__*`)."""
    return _table(frame.height, frame_schema(frame))


def warehouse_page(rows: int, kind: DatasetKind) -> dict[str, Any]:
    """warehouse: the partition's rows in its table, and the table's columns."""
    return _table(rows, model_schema(kind, warehouse=True))
