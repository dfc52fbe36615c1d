"""CAISO: one module per source of data, and the `Caiso` definition that ties them together.

- `definition`: the `Caiso` class (datasets, value bounds, schedules), request building and
  dispatch to the parsers; the only module that imports the others.
- `oasis`: what every OASIS report shares: time formats, queries and `HEADERS`, request building,
  error documents and payload checks.
- `prices`: the OASIS price reports (LMP, AS prices) parsed into standardized rows.
- `sld_fcst`: the OASIS SLD_FCST load forecasts: requests and parser.
- `outlook`: Today's Outlook fuel mix and demand CSVs (www.caiso.com): requests, check, parsers.
- `realtime`: the real-time probe, the newest interval of an OASIS answer, narrowed requests.

Parsers and the probe import `oasis` at most, never `definition`, so nothing here imports in a
circle.
"""

from power_assets.isos.caiso.definition import Caiso
from power_assets.isos.caiso.oasis import HEADERS

__all__ = ["HEADERS", "Caiso"]
