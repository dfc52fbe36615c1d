"""power_assets: US electricity market data as a Dagster asset graph.

`parse_file` and `open_warehouse` (a read-only DuckDB connection that waits for writers instead of
failing) are importable without loading Dagster; the Dagster definitions live in
`power_assets.definitions`.
"""

from power_assets.parsing import parse_file
from power_assets.store.reader import reader as open_warehouse

__all__ = ["open_warehouse", "parse_file"]
