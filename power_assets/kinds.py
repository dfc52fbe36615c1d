"""What each kind of dataset (LMP, AS price and quantity, load, load forecast, fuel mix) means to the stages.

One table, one place: the pandera model, the key that must be unique, the column a row is
"located" by (node, region, area, fuel), the numeric columns checked against bounds, the column
that fills the flattened table, and the DuckDB table. Stages look kinds up here instead of
branching on them.
"""

from dataclasses import dataclass

import pandera.polars as pa
import polars as pl

from power_assets.isos.base import DatasetKind
from power_assets.schemas import (
    AS_PRICE_KEY,
    AS_QUANTITY_KEY,
    FUEL_MIX_KEY,
    LMP_KEY,
    LOAD_FORECAST_KEY,
    LOAD_KEY,
    AsPriceSchema,
    AsQuantitySchema,
    FuelMixSchema,
    LmpSchema,
    LoadForecastSchema,
    LoadSchema,
)

SERIES_SEPARATOR = "__"


@dataclass(frozen=True)
class KindSpec:
    model: type[pa.DataFrameModel]
    key: list[str]
    location: str  # what one flattened column stands for
    value: str  # the value a flattened cell holds
    bounded: list[str]  # columns checked against the ISO's bounds table
    table: str  # DuckDB table
    # Columns naming one flattened series, joined by SERIES_SEPARATOR (default: `location`).
    series: tuple[str, ...] = ()
    # What an empty value published by the ISO means (see EMPTY_VALUES_RULE): True for prices,
    # where an empty cell fails the day; False where it is kept as null and counted.
    value_required: bool = False

    @property
    def columns(self) -> list[str]:
        return list(self.model.to_schema().columns)

    @property
    def series_columns(self) -> tuple[str, ...]:
        return self.series or (self.location,)

    def series_name(self) -> pl.Expr:
        """The flattened column name of a row: location, or e.g. region__product for AS prices."""
        if len(self.series_columns) == 1:
            return pl.col(self.location)
        return pl.concat_str(*self.series_columns, separator=SERIES_SEPARATOR)


KINDS: dict[DatasetKind, KindSpec] = {
    DatasetKind.LMP: KindSpec(
        LmpSchema, LMP_KEY, "location", "lmp",
        ["lmp", "energy", "congestion", "loss", "ghg"], "lmp", value_required=True,
    ),
    DatasetKind.AS_PRICE: KindSpec(
        AsPriceSchema, AS_PRICE_KEY, "region", "price", ["price"], "as_price",
        ("region", "product"), value_required=True,
    ),
    DatasetKind.AS_QUANTITY: KindSpec(
        AsQuantitySchema, AS_QUANTITY_KEY, "region", "mw", ["mw"], "as_quantity",
        ("region", "product", "quantity_type"),
    ),
    DatasetKind.LOAD: KindSpec(LoadSchema, LOAD_KEY, "area", "load_mw", ["load_mw"], "load"),
    DatasetKind.LOAD_FORECAST: KindSpec(
        LoadForecastSchema, LOAD_FORECAST_KEY, "area", "load_mw", ["load_mw"], "load_forecast",
    ),
    DatasetKind.FUEL_MIX: KindSpec(FuelMixSchema, FUEL_MIX_KEY, "fuel", "mw", ["mw"], "fuel_mix"),
}  # fmt: skip


EMPTY_VALUES_RULE = """\
What a value the ISO published as empty (an empty cell, parsed as null) means, per kind:

- A price (LMP `lmp`, AS `price`) is never empty in a good file: the day fails its blocking
  `values_within_bounds` check with the rows listed, and goes no further.
- An LMP component (`energy`, `congestion`, `loss`, `ghg`) that the ISO does not publish for the
  dataset is null in every row (ERCOT publishes none; only CAISO has `ghg`): that is not a missing
  value. One published empty in some rows is kept as null and counted by the `no_missing_values`
  check, which warns; the LMP of those rows is there.
- A quantity (`load_mw`, fuel-mix `mw`, AS quantity `mw`) published empty is kept as null (the ISO
  reported no value, which is not zero) and counted by `no_missing_values`, which warns.
"""


def kind_spec(kind: DatasetKind) -> KindSpec:
    return KINDS[kind]
