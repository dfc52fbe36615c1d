"""Stage-2 benchmark: the real CAISO DAM all-AP-node day, ZIP to standardized table.

Baseline (same run, same bytes, same columns): unzip the member and read the five columns the
parser uses (INTERVALSTARTTIME_GMT, INTERVALENDTIME_GMT, NODE, LMP_TYPE, MW; 5 of the file's 16),
typed (text String, MW Float64; nothing inferred), with an ordinary `polars.read_csv(bytes,
columns=..., schema_overrides=...)`: the least it takes to get those columns into a frame. (The
parser reads the text as Categorical, which costs polars about the same.) Ours:
`power_assets.parse_file("CAISO", "lmp_da", zip)` (drift check, typed read, component pivot,
UTC instants, pandera validation).

Each side runs in its own fresh subprocesses so peak RSS is its own. Cold = a process's first
parse (after its imports); warm = its later repetitions; both are medians over interleaved
rounds (`harness.measure_cold_warm`). Prints both ratios; the target is <= 1.2x, cold and warm.
The machine's other load moves single samples by tens of percent: read the medians.

    python3 tasks.py bench caiso [--repeat N] [--rounds N] [--zip PATH]

Without ../shared/samples/caiso/temp.zip a synthetic day of 1,700 nodes in the same format is used.
"""

import argparse
import sys
import tempfile
from pathlib import Path

from harness import measure_cold_warm, report_cold_warm

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "samples" / "caiso" / "temp.zip"

TARGET = 1.2
WORKER = r"""
import json, resource, sys, time, zipfile
import polars as pl
kind, path, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
# The columns `parse_file` reads of PRC_LMP, typed; written out (not imported) here.
TEXT = ["INTERVALSTARTTIME_GMT", "INTERVALENDTIME_GMT", "NODE", "LMP_TYPE"]
TYPES = {**dict.fromkeys(TEXT, pl.String), "MW": pl.Float64}
if kind == "ours":
    from power_assets import parse_file
import_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
times = []
for _ in range(repeat):
    frame = None  # the previous repetition's frame is not kept alive during this one
    t0 = time.perf_counter()
    if kind == "baseline":
        with zipfile.ZipFile(path) as z:
            frame = pl.read_csv(z.read(z.namelist()[0]), columns=list(TYPES), schema_overrides=TYPES)
    else:
        frame = parse_file("CAISO", "lmp_da", path)
    times.append(time.perf_counter() - t0)
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"times": times, "rows": frame.height, "peak_mb": peak_mb, "import_mb": import_mb}))
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=6, help="parses per warm process (>= 2)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved process rounds")
    parser.add_argument("--zip", type=Path, default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.zip or (REAL if REAL.is_file() else _synthetic(Path(tmp)))
        print(f"input: {path} ({path.stat().st_size / 1e6:.2f} MB zipped)", flush=True)
        cold, warm = measure_cold_warm(WORKER, path, args.rounds, args.repeat)
    labels = {
        "baseline": "baseline unzip + typed pl.read_csv (5 columns)",
        "ours": "stage 2 parse_file (lmp_da)",
    }
    report_cold_warm(labels, cold, warm, TARGET)
    return 0


if __name__ == "__main__":
    sys.exit(main())
