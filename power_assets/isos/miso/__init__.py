"""MISO: market reports and the public API, and the `Miso` definition that ties them together.

- `definition`: the `Miso` class (datasets, bounds, schedules), which source serves a day,
  payload checks, dispatch, drop-folder names and the real-time probe; the only module importing
  the parsers and `sources`.
- `sources`: file names and API paths per dataset and day, the weekly 5-minute archive, where
  history lives when nothing covers a day.
- `reports`: hourly LMP and ASM MCP CSVs; `load_report`: the df_al workbook (load and MTLF);
  `public_api`: FuelMix, RealTimeTotalLoad, GetRealTimeFiveMinExPost and the weekly 5MIN_LMP CSV.
- `weekly`: the weekly 5MIN_LMP archive as a span file (its days, one day cut out);
  `pricing_report`: the daily hub-LMP workbooks of the monthly archives before 2023.
- `common`: the fixed-EST clock and number casting every parser shares.
"""

from power_assets.isos.miso.definition import Miso

__all__ = ["Miso"]
