"""power_assets: US electricity market data as a Dagster asset graph.

`parse_file` and `open_warehouse` (a read-only DuckDB connection that waits for writers instead of
failing) are importable without loading Dagster; the Dagster definitions live in
`power_assets.definitions`.
"""

import warnings

from power_assets.parsing import parse_file
from power_assets.store.reader import reader as open_warehouse

# The project uses a few Dagster APIs still marked beta or preview (multi-partition mappings,
# partitioned asset checks) on purpose; Dagster warns about each use, in every process that loads
# the definitions (CLI, workers, the UI). Only those warnings, and only where this package's own
# code makes them, are silenced: a user's code, and real warnings, still show.
warnings.filterwarnings(
    "ignore",
    message=r".* is currently in (beta|preview)",
    module=r"power_assets(\.|$)",
)


__all__ = ["open_warehouse", "parse_file"]
