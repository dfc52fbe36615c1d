"""Standardized long tables shared by every ISO, as pandera models, plus their column orders.

A parser's output must validate against one of these models before it is written; the stage-2
parquet files, the DuckDB tables and the checks all rely on these exact names and types.
"""

from typing import Annotated

import pandera.polars as pa
import polars as pl

from power_assets.errors import MalformedFileError

UtcInstant = Annotated[pl.Datetime, "us", "UTC"]


class _IntervalModel(pa.DataFrameModel):
    interval_start: UtcInstant
    interval_end: UtcInstant
    iso: pl.Utf8
    market: pl.Utf8

    @pa.dataframe_check(error="interval_end must be after interval_start")
    @classmethod
    def end_after_start(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("interval_end") > pl.col("interval_start"))


class LmpSchema(_IntervalModel):
    """Locational marginal prices: one row per location and interval, in $/MWh.

    `location_id` is the ISO's own id of the location when it publishes one (PJM pnode_id,
    NYISO PTID, ISO-NE location id, SPP pnode), null otherwise (CAISO, ERCOT, MISO); names can
    be reused over the years, ids identify the node. `baa` is the balancing authority where the
    ISO names one per row (SPP's 2026 files). Neither is part of LMP_KEY.
    """

    location: pl.Utf8
    location_type: pl.Utf8
    # The ISO's own id of the location when it publishes one (PJM pnode_id, NYISO PTID,
    # ISO-NE location id), as text; null otherwise (CAISO, ERCOT). Not part of LMP_KEY.
    location_id: pl.Utf8 = pa.Field(nullable=True)
    # The balancing authority a row's location belongs to, where the ISO names one in its files
    # (SPP from 2026: SPP or SWPW, its western RTO expansion); null otherwise.
    baa: pl.Utf8 = pa.Field(nullable=True)
    lmp: pl.Float64 = pa.Field(nullable=True)
    energy: pl.Float64 = pa.Field(nullable=True)
    congestion: pl.Float64 = pa.Field(nullable=True)
    loss: pl.Float64 = pa.Field(nullable=True)
    # CAISO's greenhouse-gas component; null for ISOs that have none.
    ghg: pl.Float64 = pa.Field(nullable=True)

    class Config:
        strict = True
        ordered = True


class AsPriceSchema(_IntervalModel):
    """Ancillary-service clearing prices: one row per region, product and interval, in $/MW."""

    region: pl.Utf8
    product: pl.Utf8  # standardized product name, e.g. REG_UP, SPIN
    iso_product: pl.Utf8  # the ISO's own code, e.g. RU, SR
    price: pl.Float64 = pa.Field(nullable=True)

    class Config:
        strict = True
        ordered = True


class AsQuantitySchema(_IntervalModel):
    """Ancillary-service quantities: one row per region, product, quantity type and interval, MW.

    `quantity_type` says which quantity, e.g. "cleared" (awarded in the market) or
    "self_arranged" (provided by load-serving entities outside it).
    """

    region: pl.Utf8
    product: pl.Utf8
    iso_product: pl.Utf8
    quantity_type: pl.Utf8
    mw: pl.Float64 = pa.Field(nullable=True)

    class Config:
        strict = True
        ordered = True


class _AreaIntervalModel(pa.DataFrameModel):
    interval_start: UtcInstant
    interval_end: UtcInstant
    iso: pl.Utf8

    @pa.dataframe_check(error="interval_end must be after interval_start")
    @classmethod
    def end_after_start(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("interval_end") > pl.col("interval_start"))


class LoadSchema(_AreaIntervalModel):
    """Actual load: one row per area (zone, or the ISO total) and interval, in MW."""

    area: pl.Utf8
    load_mw: pl.Float64 = pa.Field(nullable=True)

    class Config:
        strict = True
        ordered = True


class LoadForecastSchema(_AreaIntervalModel):
    """Load forecasts for the intervals of a market day, every vintage kept.

    `forecast_type` is the ISO's name for the forecast run (e.g. CAISO's 7DA, 2DA, DAM; NYISO's
    ISO forecast), `publish_time` when that forecast was issued (UTC). `publish_time` is null
    only from `parse_file` on a file that does not say it (a renamed CAISO SLD_FCST CSV); the
    pipeline refuses a null key column.
    """

    area: pl.Utf8
    forecast_type: pl.Utf8
    publish_time: UtcInstant = pa.Field(nullable=True)
    load_mw: pl.Float64 = pa.Field(nullable=True)

    class Config:
        strict = True
        ordered = True


class FuelMixSchema(_AreaIntervalModel):
    """Generation by fuel: one row per fuel and interval, in MW (storage and imports may be < 0)."""

    fuel: pl.Utf8
    mw: pl.Float64 = pa.Field(nullable=True)

    class Config:
        strict = True
        ordered = True


LMP_COLUMNS: list[str] = list(LmpSchema.to_schema().columns)
AS_PRICE_COLUMNS: list[str] = list(AsPriceSchema.to_schema().columns)
AS_QUANTITY_COLUMNS: list[str] = list(AsQuantitySchema.to_schema().columns)
LOAD_COLUMNS: list[str] = list(LoadSchema.to_schema().columns)
LOAD_FORECAST_COLUMNS: list[str] = list(LoadForecastSchema.to_schema().columns)
FUEL_MIX_COLUMNS: list[str] = list(FuelMixSchema.to_schema().columns)

# Key columns: one row per key in a correct table (what the duplicate check and DuckDB enforce).
LMP_KEY = ["iso", "market", "location", "interval_start"]
AS_PRICE_KEY = ["iso", "market", "region", "product", "interval_start"]
AS_QUANTITY_KEY = ["iso", "market", "region", "product", "quantity_type", "interval_start"]
LOAD_KEY = ["iso", "area", "interval_start"]
LOAD_FORECAST_KEY = ["iso", "area", "forecast_type", "publish_time", "interval_start"]
FUEL_MIX_KEY = ["iso", "fuel", "interval_start"]


def validate_standardized(frame: pl.DataFrame, model: type[pa.DataFrameModel], source: str) -> None:
    """Validate against a model; the error names the source file(s) and the failing column.

    pandera asks polars a score of small questions (a column's nulls, its type, a row check),
    each collected with the default engine: polars 2's streaming engine sets each one up at a
    cost that doubles the whole validation, so they are asked of the in-memory engine (polars
    1's default; the answers do not depend on the engine). The setting is polars' process-wide
    one, restored on the way out; no other query runs in these few milliseconds of a stage.
    """
    try:
        with pl.Config(engine_affinity="in-memory"):
            model.validate(frame, lazy=True)
    except (pa.errors.SchemaError, pa.errors.SchemaErrors) as exc:
        raise MalformedFileError(
            f"{source}: standardized table fails {model.__name__}: {exc}"
        ) from exc
