"""power_assets: US electricity market data as a Dagster asset graph.

`parse_file` is importable without loading Dagster; the Dagster definitions live in
`power_assets.definitions`.
"""

from power_assets.parsing import parse_file

__all__ = ["parse_file"]
