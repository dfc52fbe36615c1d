"""Monthly archives that serve many market days: fetched once, reused by every day of the month,
and each day extracts only its own member."""

import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from power_assets.errors import MalformedFileError
from power_assets.isos.base import (
    NO_SECRETS,
    CombinedSources,
    DatasetKind,
    DatasetSpec,
    DownloadRequest,
    IntervalLabel,
    NamedRequests,
)
from power_assets.layout import Layout
from power_assets.stages.raw import download_day, extract_day


class MonthlyIso(NamedRequests):
    id = "TESTISO"
    name = "test"
    timezone = "America/New_York"
    default_base_url = "http://127.0.0.1:9/"
    min_request_spacing_s = 0.0
    datasets = {
        "load": DatasetSpec(
            "load", DatasetKind.LOAD, "RT", timedelta(hours=1), IntervalLabel.START, "test"
        )
    }
    combined = CombinedSources("x", None, "y")
    value_bounds = ()

    def requests_for_day(self, dataset_id, day, today=None):
        start, end = self.market_day_bounds(day)
        first = day.replace(day=1)
        return [
            DownloadRequest(
                self.id, dataset_id, f"{first:%Y%m}.zip", (), f"{first:%Y%m%d}load_csv.zip",
                start, end, shared=True, member=f"{day:%Y%m%d}load.csv",
                final_after=datetime(2024, 12, 1, 5, tzinfo=UTC),
            )
        ]  # fmt: skip

    def check_payload(self, content, source):
        return None

    def parse(self, dataset_id, paths):
        raise NotImplementedError


@dataclass
class Result:
    url: str
    content: bytes
    fetched_at: datetime


class MonthArchive:
    def __init__(self):
        self.calls = 0

    def secrets_for(self, iso):
        return NO_SECRETS

    def fetch(self, iso, request):
        self.calls += 1
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for n in range(1, 31):
                archive.writestr(f"202411{n:02d}load.csv", f"day,{n}\n")
        return Result("http://test/" + request.path, buffer.getvalue(), datetime.now(UTC))


def test_a_month_of_days_fetches_the_archive_once_and_extracts_only_each_day(tmp_path):
    layout, fetcher, iso = Layout(tmp_path), MonthArchive(), MonthlyIso()
    for n in (1, 2, 3, 30):
        download_day(iso, "load", date(2024, 11, n), fetcher, layout)
        extract = extract_day(iso.id, "load", date(2024, 11, n), layout)
        (entry,) = extract.files
        assert entry["path"].endswith(f"202411{n:02d}load.csv")
        assert (extract.folder / entry["path"]).read_text() == f"day,{n}\n"
        assert (
            entry["source"]["window_start"]
            == iso.market_day_bounds(date(2024, 11, n))[0].isoformat()
        )
    assert fetcher.calls == 1
    shared = tmp_path / "TESTISO" / "raw_downloads" / "load" / "_shared"
    assert sorted(p.name for p in shared.iterdir()) == [
        "20241101load_csv.zip",
        "20241101load_csv.zip.json",
    ]


def test_missing_member_is_a_named_error(tmp_path):
    layout, iso = Layout(tmp_path), MonthlyIso()
    download_day(iso, "load", date(2024, 11, 5), MonthArchive(), layout)
    manifest = tmp_path / "TESTISO" / "raw_downloads" / "load" / "2024-11-05" / "manifest.json"
    manifest.write_text(manifest.read_text().replace("20241105load.csv", "20241199load.csv"))
    with pytest.raises(MalformedFileError, match=r"20241199load\.csv not found"):
        extract_day(iso.id, "load", date(2024, 11, 5), layout)
