"""SPP's drop folders: a yearly archive (`/{YYYY}/{YYYY}.zip`, as SPP rolls up its years) holding
daily files is matched by member name, and a day is loaded from it with no request to SPP; a
dropped day with both a daily RTBM file and 5-minute files keeps the daily file only."""

import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest

from power_assets.demo import spp_fixtures as fx
from power_assets.isos import get_iso
from power_assets.layout import Layout
from power_assets.parsing import parse_files
from power_assets.stages.drop import drop_env_var
from power_assets.stages.raw import download_day

FALL = date(2024, 11, 3)


class NoHttp:
    """Stage 1 must not request anything for a day served by a drop folder."""

    def __getattr__(self, name: str):
        raise AssertionError(f"drop-folder day used http.{name}")


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Layout:
    monkeypatch.delenv(drop_env_var("SPP"), raising=False)
    return Layout(tmp_path / "data")


def yearly_zip(path: Path, members: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def test_a_day_comes_from_the_dropped_yearly_archive(layout: Layout) -> None:
    places = fx.locations(3)
    hours = fx.interval_ends(FALL, timedelta(hours=1))
    fives = fx.interval_ends(FALL, timedelta(minutes=5))
    daily = fx.lmp_csv("RTBM", fives, places, FALL, daily=True)
    yearly_zip(
        layout.iso_dir("SPP") / "raw_downloads" / "archives" / "2024.zip",
        {
            "2024/11/By_Day/DA-LMP-SL-202411030100.csv": fx.lmp_csv("DAM", hours, places, FALL),
            "2024/11/By_Day/RTBM-LMP-DAILY-SL-20241103.csv": daily,
            "2024/11/By_Interval/03/RTBM-LMP-SL-202411030005.csv": fx.lmp_csv(
                "RTBM", fives[:1], places, FALL
            ),
            "2024/11/By_Day/DA-LMP-SL-202411040100.csv": b"another day",
        },
    )
    spp = get_iso("SPP")
    da = download_day(spp, "lmp_da", FALL, NoHttp(), layout)
    assert da.source == "drop_folder"
    assert [r.file_name for r in da.records] == ["DA-LMP-SL-202411030100.csv"]
    rt = download_day(spp, "lmp_rt5", FALL, NoHttp(), layout)
    assert [r.file_name for r in rt.records] == ["RTBM-LMP-DAILY-SL-20241103.csv"]
    kept = layout.raw_downloads("SPP", "lmp_rt5", FALL) / "RTBM-LMP-DAILY-SL-20241103.csv"
    assert kept.read_bytes() == daily  # bytes unchanged
    frame = parse_files("SPP", "lmp_rt5", [kept])
    assert frame.height == 300 * 3
