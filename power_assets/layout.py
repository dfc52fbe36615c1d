"""The on-disk layout of every stage: one function per kind of path, nothing else.

    data/{ISO}/raw_downloads/{dataset}/{date}/     responses as received + sidecar JSON + manifest
    data/{ISO}/csv_files/{dataset}/{date}/         extracted files + metadata.json
    data/{ISO}/raw_parquet/{dataset}/{date}.parquet  standardized long table
    data/{ISO}/flattened/{dataset}/{date}.parquet    one column per location
    data/{ISO}/combined/{product}/daily/{date}.parquet, monthly/{YYYY-MM}.parquet, yearly/{YYYY}.parquet

Per-day files under a per-dataset folder let DuckDB and polars scan every partition of every ISO as
one dataset with a glob such as `data/*/raw_parquet/lmp_da/*.parquet`.
"""

from dataclasses import dataclass
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class Layout:
    root: Path

    def iso_dir(self, iso: str) -> Path:
        return self.root / iso

    def raw_downloads(self, iso: str, dataset: str, day: date) -> Path:
        return self.root / iso / "raw_downloads" / dataset / day.isoformat()

    def csv_files(self, iso: str, dataset: str, day: date) -> Path:
        return self.root / iso / "csv_files" / dataset / day.isoformat()

    def raw_parquet(self, iso: str, dataset: str, day: date) -> Path:
        return self.root / iso / "raw_parquet" / dataset / f"{day.isoformat()}.parquet"

    def flattened(self, iso: str, dataset: str, day: date) -> Path:
        return self.root / iso / "flattened" / dataset / f"{day.isoformat()}.parquet"

    def combined_daily(self, iso: str, product: str, day: date) -> Path:
        return self.root / iso / "combined" / product / "daily" / f"{day.isoformat()}.parquet"

    def combined_monthly(self, iso: str, product: str, month: date) -> Path:
        return self.root / iso / "combined" / product / "monthly" / f"{month:%Y-%m}.parquet"

    def combined_yearly(self, iso: str, product: str, year: int) -> Path:
        return self.root / iso / "combined" / product / "yearly" / f"{year}.parquet"

    def raw_parquet_glob(self, dataset: str) -> str:
        return str(self.root / "*" / "raw_parquet" / dataset / "*.parquet")

    def locks(self) -> Path:
        return self.root / ".locks"

    def rejected(self, path: Path) -> Path:
        """Where a result that failed a blocking check is kept for inspection, out of readers'
        globs (`*/raw_parquet/{dataset}/*.parquet` does not descend into `_rejected/`)."""
        return path.parent / "_rejected" / path.name
