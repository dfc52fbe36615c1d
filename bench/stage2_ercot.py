"""Stage-2 benchmark: one synthetic ERCOT real-time day, 96 RT SPP files of ~1,000 settlement points.

Baseline (same run, same files, same columns): one `polars.scan_csv` of the 96 files, typed by
a full `schema` of their seven columns, all of which the parser uses (text String,
SettlementPointPrice Float64; nothing inferred), collected: the least it takes to get those
columns of every file into one frame. (`schema_overrides` instead of `schema` is no tight floor:
polars then still infers each file's schema, which costs about half the read again.)

Ours: ERCOT's stage-2 parse of the same 96 files (header check per file, one scan per header,
whitespace stripping, DST-aware UTC instants, LZ/LZEW naming, correction handling) plus pandera
validation, as `raw_parquet/lmp_rt15` does it.

Each side runs in its own fresh subprocesses so peak RSS is its own. Cold = a process's first
parse (after its imports); warm = its later repetitions; both are medians over interleaved
rounds (`harness.measure_cold_warm`). Prints both ratios; the target is <= 1.5x, cold and warm.
The machine's other load moves single samples by tens of percent: read the medians.

    python3 tasks.py bench ercot [--repeat N] [--rounds N] [--points N]
"""

import argparse
import sys
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

from harness import measure_cold_warm, report_cold_warm

TARGET = 1.5
WORKER = r"""
import json, resource, sys, time
from pathlib import Path
import polars as pl
kind, folder, repeat = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
paths = sorted(folder.glob("*.csv"))
# The files' columns, all of which the parse uses, in order and typed; written out (not
# imported) here.
SCHEMA = {"DeliveryDate": pl.String, "DeliveryHour": pl.String, "DeliveryInterval": pl.String,
          "SettlementPointName": pl.String, "SettlementPointType": pl.String,
          "SettlementPointPrice": pl.Float64, "DSTFlag": pl.String}
if kind == "ours":
    from power_assets.isos import get_iso
    from power_assets.schemas import LmpSchema, validate_standardized
    ercot = get_iso("ERCOT")
import_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
times = []
for _ in range(repeat):
    frame = None  # the previous repetition's frame is not kept alive during this one
    t0 = time.perf_counter()
    if kind == "baseline":
        frame = pl.scan_csv(paths, schema=SCHEMA).collect()
    else:
        frame, _notes = ercot.parse_with_notes("lmp_rt15", paths)
        validate_standardized(frame, LmpSchema, str(folder))
    times.append(time.perf_counter() - t0)
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"times": times, "rows": frame.height, "peak_mb": peak_mb, "import_mb": import_mb}))
"""


def write_day(folder: Path, day: date, points: int) -> int:
    """96 RT SPP files in ERCOT's format (cdr names, one per 15-minute interval); their bytes."""
    names = [f"RN{i:04d}_RN" for i in range(points - 24)]
    types = ["RN"] * len(names)
    for zone in ("AEN", "CPS", "HOUSTON", "LCRA", "NORTH", "RAYBN", "SOUTH", "WEST"):
        names += [f"LZ_{zone}", f"LZ_{zone}"]
        types += ["LZ", "LZEW"]
    names += ["HB_HOUSTON", "HB_NORTH", "HB_PAN", "HB_SOUTH", "HB_WEST", "HB_BUSAVG", "HB_HUBAVG"]
    types += ["HU"] * 5 + ["SH", "AH"]
    total = 0
    for hour in range(1, 25):
        for interval in range(1, 5):
            end = datetime.combine(day, datetime.min.time()) + timedelta(
                hours=hour - 1, minutes=15 * interval
            )
            lines = [
                "DeliveryDate,DeliveryHour,DeliveryInterval,SettlementPointName,"
                "SettlementPointType,SettlementPointPrice,DSTFlag"
            ]
            lines += [
                f"{day:%m/%d/%Y},{hour},{interval},{name},{kind},"
                f"{20 + (i * 7 + hour * 13 + interval) % 400 / 10:.2f},N"
                for i, (name, kind) in enumerate(zip(names, types, strict=True))
            ]
            posted = end + timedelta(minutes=2)
            name = (
                f"cdr.00012301.0000000000000000.{posted:%Y%m%d}.{posted:%H%M%S}."
                f"SPPHLZNP6905_{end:%Y%m%d}_{end:%H%M}.csv"
            )
            data = ("\n".join(lines) + "\n").encode()
            (folder / name).write_bytes(data)
            total += len(data)
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=6, help="parses per warm process (>= 2)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved process rounds")
    parser.add_argument("--points", type=int, default=1000, help="settlement points per file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        size = write_day(folder, date(2024, 11, 4), args.points)
        print(f"input: 96 RT SPP files x {args.points} settlement points ({size / 1e6:.2f} MB)")
        cold, warm = measure_cold_warm(WORKER, folder, args.rounds, args.repeat)
    labels = {
        "baseline": "baseline typed pl.scan_csv(96 files, 7 columns)",
        "ours": "stage 2 ERCOT lmp_rt15 + schema",
    }
    report_cold_warm(labels, cold, warm, TARGET)
    return 0


if __name__ == "__main__":
    sys.exit(main())
