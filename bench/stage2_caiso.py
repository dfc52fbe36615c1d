"""Stage-2 benchmark: the real CAISO DAM all-AP-node day, ZIP to standardized table.

Baseline (same run, same bytes): unzip the member and `polars.read_csv` it with default options.
Ours: `power_assets.parse_file("CAISO", "lmp_da", zip)` (drift check, typed read, component pivot,
UTC instants, pandera validation). Each side runs in its own fresh subprocess so peak RSS is its own;
wall time is the median of interleaved repetitions. Prints the ratio; the target is <= 1.5x.

    python3 tasks.py bench [--repeat N] [--zip PATH]

Without ../shared/samples/caiso/temp.zip a synthetic day of 1,700 nodes in the same format is used.
"""

import argparse
import sys
import tempfile
from pathlib import Path

from harness import measure, report

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "samples" / "caiso" / "temp.zip"

WORKER = r"""
import json, resource, sys, time, zipfile, io
import polars as pl
kind, path, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
if kind == "ours":
    from power_assets import parse_file
times = []
for _ in range(repeat):
    t0 = time.perf_counter()
    if kind == "baseline":
        with zipfile.ZipFile(path) as z:
            frame = pl.read_csv(z.read(z.namelist()[0]))
    else:
        frame = parse_file("CAISO", "lmp_da", path)
    times.append(time.perf_counter() - t0)
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"times": times, "rows": frame.height, "peak_mb": peak_mb}))
"""


def _synthetic(directory: Path) -> Path:
    from datetime import date

    from power_assets.demo.oasis_fixtures import oasis_zip
    from power_assets.market_time import market_day_bounds

    nodes = [f"NODE{i:04d}_1_N001-APND" for i in range(1700)]
    path = directory / "synthetic_PRC_LMP_DAM.zip"
    path.write_bytes(
        oasis_zip(
            "PRC_LMP", *market_day_bounds("America/Los_Angeles", date(2020, 1, 2)), nodes=nodes
        )
    )
    return path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5, help="timed repetitions per process")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved process rounds")
    parser.add_argument("--zip", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.zip or (REAL if REAL.is_file() else _synthetic(Path(tmp)))
        summary = measure(WORKER, path, args.rounds, args.repeat)
        print(f"input: {path} ({path.stat().st_size / 1e6:.2f} MB zipped)")
    labels = {"baseline": "baseline unzip + pl.read_csv", "ours": "stage 2 parse_file (lmp_da)"}
    ratio = report(labels, summary)
    print(f"target <= 1.50x -> {'OK' if ratio <= 1.5 else 'OVER'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
