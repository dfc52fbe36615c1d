"""The chunked backfill launcher: how a range is cut, what each chunk runs, what a wrong argument
says, and how failed chunks are retried and reported. Nothing here starts Dagster: the chunk
command is replaced by a small Python process where a run is needed."""

import sys
from datetime import date
from pathlib import Path

import pytest

from power_assets.keys import PartitionKeyError, partition_range
from power_assets.scale import backfill
from power_assets.scale.backfill import Chunk, chunk_command, parse_args, split_chunks

D = date.fromisoformat
PJM_LMP_DA = (
    "raw_download/lmp_da,raw_csv/lmp_da,raw_parquet/lmp_da,flattened/lmp_da,warehouse/lmp_da"
)


def test_each_iso_gets_its_own_consecutive_chunks_taken_in_turn():
    chunks = split_chunks(["PJM", "CAISO"], D("2024-01-01"), D("2024-01-07"), 3)
    assert [str(c) for c in chunks] == [
        "PJM 2024-01-01..2024-01-03",
        "CAISO 2024-01-01..2024-01-03",
        "PJM 2024-01-04..2024-01-06",
        "CAISO 2024-01-04..2024-01-06",
        "PJM 2024-01-07..2024-01-07",
        "CAISO 2024-01-07..2024-01-07",
    ]
    assert [c.days for c in chunks] == [3, 3, 3, 3, 1, 1]


def test_the_last_chunk_is_what_is_left():
    chunks = split_chunks(["ERCOT"], D("2024-02-27"), D("2024-03-04"), 4)  # leap year
    assert chunks == [
        Chunk("ERCOT", D("2024-02-27"), D("2024-03-01")),
        Chunk("ERCOT", D("2024-03-02"), D("2024-03-04")),
    ]


def test_a_range_shorter_than_a_chunk_is_one_chunk_and_one_day_is_one_day():
    assert split_chunks(["NYISO"], D("2024-01-01"), D("2024-01-05"), 30) == [
        Chunk("NYISO", D("2024-01-01"), D("2024-01-05"))
    ]
    assert split_chunks(["NYISO"], D("2024-01-01"), D("2024-01-01"), 7) == [
        Chunk("NYISO", D("2024-01-01"), D("2024-01-01"))
    ]


def test_dst_days_are_just_dates():
    spring = split_chunks(["PJM"], D("2024-03-09"), D("2024-03-11"), 1)
    assert [c.first for c in spring] == [D("2024-03-09"), D("2024-03-10"), D("2024-03-11")]
    fall = split_chunks(["CAISO"], D("2024-11-01"), D("2024-11-07"), 7)
    assert fall == [Chunk("CAISO", D("2024-11-01"), D("2024-11-07"))]
    assert fall[0].days == 7  # 2024-11-03 has 25 hours; it is still one day


def test_a_chunk_needs_a_day():
    with pytest.raises(ValueError, match="at least 1"):
        split_chunks(["PJM"], D("2024-01-01"), D("2024-01-02"), 0)


def test_a_chunk_runs_its_range_of_the_selected_assets():
    command = chunk_command(Chunk("PJM", D("2024-11-01"), D("2024-11-07")), ("lmp_da",))
    assert command[:6] == [sys.executable, "-m", "dagster", "asset", "materialize", "-m"]
    assert command[6:] == [
        "power_assets.definitions",
        "--select",
        PJM_LMP_DA,
        "--partition-range",
        "2024-11-01|PJM...2024-11-07|PJM",
    ]


def test_every_dataset_means_the_isos_datasets_and_the_combined_files():
    selected = chunk_command(Chunk("PJM", D("2024-11-01"), D("2024-11-01")), None)[8].split(",")
    assert selected[:5] == PJM_LMP_DA.split(",")
    assert "warehouse/fuel_mix" in selected
    assert "raw_download/lmp_rt15" not in selected  # PJM does not publish it
    assert selected[-3:] == [
        "combined/da_as_hourly",
        "combined/da_as_rt_hourly",
        "combined/da_as_rt_native",
    ]


def test_chosen_stages_select_only_those_and_no_combined_files():
    chunk = Chunk("PJM", D("2024-11-01"), D("2024-11-01"))
    selected = chunk_command(chunk, ("lmp_da", "load"), ("raw_csv", "raw_download"))[8]
    assert selected.split(",") == [
        "raw_download/lmp_da", "raw_csv/lmp_da", "raw_download/load", "raw_csv/load",
    ]  # fmt: skip
    every_dataset = chunk_command(chunk, None, ("warehouse",))[8].split(",")
    assert all(key.startswith("warehouse/") for key in every_dataset)
    request, _ = parse_args(["PJM", "2024-11-01", "2024-11-01", "--stage", "warehouse"])
    assert request.stages == ("warehouse",)


def test_the_range_helper_refuses_what_dagster_would_misread():
    assert partition_range("NYISO", D("2024-01-01"), D("2024-01-31")) == (
        "2024-01-01|NYISO...2024-01-31|NYISO"
    )
    with pytest.raises(PartitionKeyError, match="first date is after its last"):
        partition_range("NYISO", D("2024-01-31"), D("2024-01-01"))


def test_isos_are_case_insensitive_and_every_dataset_is_all():
    request, log_dir = parse_args(["pjm,Caiso,PJM", "2024-11-01", "2024-11-03"])
    assert request.isos == ("PJM", "CAISO")
    assert (request.first, request.last) == (D("2024-11-01"), D("2024-11-03"))
    assert request.datasets is None
    assert (request.chunk_days, request.parallel, request.retries, log_dir) == (7, 2, 1, None)
    chosen, _ = parse_args(
        ["PJM", "2024-11-01", "2024-11-01", "--dataset", "LOAD", "--dataset", "lmp_da"]
    )
    assert chosen.datasets == ("load", "lmp_da")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["PJM,MIS0", "2024-01-01", "2024-01-02"], "unknown ISO 'MIS0'; choose from CAISO, ERCOT, ISONE, MISO, NYISO, PJM, SPP"),
        (["PJM", "2024-1-1", "2024-01-02"], "START '2024-1-1' is not a date; dates are YYYY-MM-DD from 2019-01-01 to "),
        (["PJM", "2024-01-03", "2024-01-02"], "START 2024-01-03 is after END 2024-01-02; dates are YYYY-MM-DD from 2019-01-01"),
        (["PJM", "2018-12-31", "2019-01-02"], "START 2018-12-31 has no partitions; dates are YYYY-MM-DD from 2019-01-01"),
        (["PJM", "2024-01-01", "2099-01-01"], "END 2099-01-01 has no partitions"),
        (["PJM", "2024-01-01", "2024-01-02", "--dataset", "lmp"], "unknown dataset 'lmp'; choose from lmp_da, lmp_da_exante, lmp_rt5, "),
        (["PJM", "2024-01-01", "2024-01-02", "--dataset", "lmp_rt15"], "dataset 'lmp_rt15' is not published by PJM; they publish lmp_da, "),
        (["CAISO,PJM", "2024-01-01", "2024-01-02", "--dataset", "lmp_rt15"], "PJM publishes none of lmp_rt15; it publishes lmp_da, "),
        (["PJM", "2024-01-01", "2024-01-02", "--stage", "parquet"], "unknown stage 'parquet'; choose from raw_download, raw_csv, raw_parquet, flattened, warehouse"),
        (["PJM", "2024-01-01", "2024-01-02", "--chunk-days", "0"], "argument --chunk-days: '0' is not a whole number >= 1"),
        (["PJM", "2024-01-01", "2024-01-02", "--parallel", "two"], "argument --parallel: 'two' is not a whole number >= 1"),
        (["PJM", "2024-01-01"], "the following arguments are required: END"),
    ],
)  # fmt: skip
def test_a_wrong_argument_gets_one_line_and_exit_2(argv, message, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with pytest.raises(SystemExit) as exit_:
        sys.exit(backfill.main(argv))
    assert exit_.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("backfill: error: ")
    assert message in lines[0]


def test_without_a_dagster_home_or_with_a_bad_executor_nothing_starts(
    capsys, monkeypatch, tmp_path
):
    argv = ["PJM", "2024-01-01", "2024-01-02", "--log-dir", str(tmp_path / "logs")]
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert backfill.main(argv) == 2
    assert "DAGSTER_HOME is not set" in capsys.readouterr().err
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("POWER_ASSETS_EXECUTOR", "spark")
    assert backfill.main(argv) == 2
    assert "valid values: multiprocess, in_process, celery, k8s" in capsys.readouterr().err
    assert not (tmp_path / "logs").exists()


# A stand-in for `dagster asset materialize`: records when it ran, fails where told to.
STAND_IN = """
import pathlib, sys, time
out, name, fail_times = pathlib.Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
attempt = len(list(out.glob(name + ".*"))) + 1
start = time.time(); time.sleep(0.4)
(out / f"{name}.{attempt}").write_text(f"{start} {time.time()}")
sys.exit(1 if attempt <= fail_times else 0)
"""


def _stand_in(monkeypatch, out: Path, failures: dict[str, int]) -> None:
    def command(chunk: Chunk, datasets, stages=None):
        name = f"{chunk.iso}_{chunk.first}"
        return [sys.executable, "-c", STAND_IN, str(out), name, str(failures.get(name, 0))]

    monkeypatch.setattr(backfill, "chunk_command", command)


def test_chunks_run_p_at_once_and_a_failure_is_retried(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.delenv("POWER_ASSETS_EXECUTOR", raising=False)
    out = tmp_path / "ran"
    out.mkdir()
    _stand_in(monkeypatch, out, {"PJM_2024-01-02": 1})  # fails once, then succeeds
    argv = ["PJM", "2024-01-01", "2024-01-04", "--chunk-days", "1", "--parallel", "2"]
    assert backfill.main([*argv, "--log-dir", str(tmp_path / "logs")]) == 0
    stdout = capsys.readouterr().out.splitlines()
    assert stdout[0].startswith("4 chunks of up to 1 days, 2 at once, executor in_process")
    assert sum(line.startswith("start  ") for line in stdout) == 5
    assert sum(line.startswith("ok     ") for line in stdout) == 4
    [failed] = [line for line in stdout if line.startswith("failed ")]
    assert failed.startswith("failed PJM 2024-01-02..2024-01-02 in ")
    assert " s (exit 1); log " in failed
    spans = [tuple(map(float, p.read_text().split())) for p in out.iterdir()]
    most = max(sum(s <= start < e for s, e in spans) for start, _ in spans)
    assert most == 2  # two at once, never three


def test_a_chunk_failing_every_attempt_is_named_and_the_exit_is_1(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    out = tmp_path / "ran"
    out.mkdir()
    _stand_in(monkeypatch, out, {"CAISO_2024-01-03": 99})
    argv = ["CAISO,PJM", "2024-01-01", "2024-01-04", "--chunk-days", "2", "--retries", "2"]
    assert backfill.main([*argv, "--log-dir", str(tmp_path / "logs")]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines()[-1] == "failed chunks: CAISO 2024-01-03..2024-01-04"
    assert len(list(out.glob("CAISO_2024-01-03.*"))) == 3  # the first try and two retries
    assert sorted(p.name for p in (tmp_path / "logs").iterdir())[:3] == [
        "CAISO_2024-01-01_2024-01-02.1.log",
        "CAISO_2024-01-03_2024-01-04.1.log",
        "CAISO_2024-01-03_2024-01-04.2.log",
    ]
