"""Stage 1: responses kept as received with their provenance, reused only when final and intact,
requests chunked the way OASIS wants, and extraction traced back to each response."""

import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest

from power_assets.demo.oasis_server import FakeOasis
from power_assets.errors import IncompleteDayError, IsoNoDataError, MalformedFileError
from power_assets.io.files import sha256_file
from power_assets.io.http import FetchResult, IsoHttpClient
from power_assets.isos.base import NO_SECRETS
from power_assets.isos.caiso import Caiso
from power_assets.layout import Layout
from power_assets.stages.raw import download_day, extract_day

SPRING = date(2024, 3, 10)
CAISO = Caiso()


@pytest.fixture
def oasis():
    with FakeOasis(generate=True) as server:
        yield server


@pytest.fixture
def http(oasis):
    return IsoHttpClient(base_urls={"CAISO": oasis.base_url}, min_spacing_s={"CAISO": 0.0})


def test_dam_day_is_one_request_for_the_whole_pacific_day(tmp_path, oasis, http):
    download_day(CAISO, "lmp_da", SPRING, http, Layout(tmp_path))
    (request,) = oasis.requests
    assert request.params["queryname"] == "PRC_LMP"
    assert request.params["startdatetime"] == "20240310T08:00-0000"
    assert request.params["enddatetime"] == "20240311T07:00-0000"
    assert request.params["grp_type"] == "ALL_APNODES"


def test_rt5_spring_forward_day_is_23_hourly_requests(tmp_path, oasis, http):
    result = download_day(CAISO, "lmp_rt5", SPRING, http, Layout(tmp_path))
    starts = [r.params["startdatetime"] for r in oasis.requests]
    assert len(starts) == len(result.ok) == 23
    assert starts[0] == "20240310T08:00-0000" and starts[-1] == "20240311T06:00-0000"


def test_kept_response_has_sidecar_with_url_time_size_and_hash(tmp_path, http):
    layout = Layout(tmp_path)
    result = download_day(CAISO, "lmp_da", SPRING, http, layout)
    folder = layout.raw_downloads("CAISO", "lmp_da", SPRING)
    kept = folder / result.ok[0].file_name
    sidecar = json.loads(kept.with_name(kept.name + ".json").read_text())
    assert sidecar["sha256"] == sha256_file(kept)
    assert sidecar["bytes"] == kept.stat().st_size
    assert sidecar["url"].startswith("http://127.0.0.1:") and "queryname=PRC_LMP" in sidecar["url"]
    assert datetime.fromisoformat(sidecar["fetched_at"]).tzinfo is not None
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [f["file_name"] for f in manifest["files"]] == [kept.name]


def test_rerun_reuses_final_responses_but_refetches_tampered_or_forced(tmp_path, oasis, http):
    layout = Layout(tmp_path)
    first = download_day(CAISO, "lmp_da", SPRING, http, layout)
    again = download_day(CAISO, "lmp_da", SPRING, http, layout)
    assert (again.fetched, len(oasis.requests)) == (0, 1)
    kept = layout.raw_downloads("CAISO", "lmp_da", SPRING) / first.ok[0].file_name
    kept.write_bytes(kept.read_bytes()[:-10])  # a truncated file must not be trusted
    assert download_day(CAISO, "lmp_da", SPRING, http, layout).fetched == 1
    assert download_day(CAISO, "lmp_da", SPRING, http, layout, force=True).fetched == 1
    assert len(oasis.requests) == 3


def test_response_fetched_before_its_window_closed_is_fetched_again(tmp_path, oasis, http):
    layout = Layout(tmp_path)
    result = download_day(CAISO, "lmp_da", SPRING, http, layout)
    kept = layout.raw_downloads("CAISO", "lmp_da", SPRING) / result.ok[0].file_name
    sidecar_path = kept.with_name(kept.name + ".json")
    sidecar = json.loads(sidecar_path.read_text())
    sidecar["fetched_at"] = datetime(2024, 3, 10, 12, tzinfo=UTC).isoformat()  # mid-day
    sidecar_path.write_text(json.dumps(sidecar))
    assert download_day(CAISO, "lmp_da", SPRING, http, layout).fetched == 1


def test_day_with_no_published_data_raises_and_writes_no_manifest(tmp_path):
    with FakeOasis(generate=True, unpublished_days={SPRING}) as server:
        http = IsoHttpClient(base_urls={"CAISO": server.base_url}, min_spacing_s={"CAISO": 0.0})
        with pytest.raises(IsoNoDataError, match="CAISO lmp_da 2024-03-10"):
            download_day(CAISO, "lmp_da", SPRING, http, Layout(tmp_path))
    assert not (
        Layout(tmp_path).raw_downloads("CAISO", "lmp_da", SPRING) / "manifest.json"
    ).exists()


class _HalfPublished:
    """Answers the first hours of a day and reports 'no data' for the rest (a day in progress)."""

    def __init__(self, real, hours):
        self.real, self.hours, self.calls = real, hours, 0

    def secrets_for(self, iso):
        return NO_SECRETS

    def fetch(self, iso, request):
        self.calls += 1
        if self.calls > self.hours:
            raise IsoNoDataError(request.file_name, "1000", "No data returned")
        return self.real.fetch(iso, request)


def test_day_in_progress_keeps_published_hours_and_lists_the_rest(tmp_path, http):
    # 13:20Z: the hours from 08:00Z (local midnight) to 13:00Z have begun; 13:00Z is not out yet.
    now = datetime(2024, 3, 10, 13, 20, tzinfo=UTC)
    result = download_day(
        CAISO, "lmp_rt5", SPRING, _HalfPublished(http, 5), Layout(tmp_path), clock=lambda: now
    )
    assert len(result.ok) == 5  # the open 13:00Z hour is asked for and has nothing yet
    assert result.coverage()["last_interval"] == "2024-03-10T13:00:00+00:00"


# -- a closed day the ISO answers "no data" for in some windows ----------------------------------

GONE = [  # two hours of the 23-hour spring day (local 01:00-03:00 PDT is 09:00Z-10:00Z, ...)
    (datetime(2024, 3, 10, 15, tzinfo=UTC), datetime(2024, 3, 10, 16, tzinfo=UTC)),
    (datetime(2024, 3, 10, 20, tzinfo=UTC), datetime(2024, 3, 10, 21, tzinfo=UTC)),
]
SPRING_ENDS = datetime(2024, 3, 11, 7, tzinfo=UTC)  # local midnight PDT


def test_a_closed_day_with_missing_windows_fails_naming_them_and_resumes_with_only_those(tmp_path):
    after = SPRING_ENDS + timedelta(days=2)
    with FakeOasis(generate=True, unpublished_windows=GONE) as server:
        http = IsoHttpClient(base_urls={"CAISO": server.base_url}, min_spacing_s={"CAISO": 0.0})
        with pytest.raises(IncompleteDayError) as failed:
            download_day(CAISO, "lmp_rt5", SPRING, http, Layout(tmp_path), clock=lambda: after)
        message = str(failed.value)
        assert message.startswith("CAISO lmp_rt5 2024-03-10: the market day has closed")
        assert '"no data" for 2 of its 23 window(s)' in message
        assert "2024-03-10T15:00:00+00:00..2024-03-10T16:00:00+00:00" in message
        assert "2024-03-10T20:00:00+00:00..2024-03-10T21:00:00+00:00" in message
        folder = Layout(tmp_path).raw_downloads("CAISO", "lmp_rt5", SPRING)
        assert not (folder / "manifest.json").exists()  # nothing downstream can take it as whole
        assert len(list(folder.glob("*.zip"))) == 21  # what was published is kept

        server.unpublished_windows.clear()  # the ISO publishes the two hours
        before = len(server.requests)
        result = download_day(CAISO, "lmp_rt5", SPRING, http, Layout(tmp_path), clock=lambda: after)
        refetched = sorted(r.params["startdatetime"] for r in server.requests[before:])
    assert refetched == ["20240310T15:00-0000", "20240310T20:00-0000"]
    assert (len(result.ok), len(result.no_data)) == (23, 0)


def test_missing_windows_of_a_day_within_its_publication_allowance_do_not_fail_it(tmp_path):
    soon = SPRING_ENDS + timedelta(hours=1)  # CAISO may still publish the day's last data
    with FakeOasis(generate=True, unpublished_windows=GONE) as server:
        http = IsoHttpClient(base_urls={"CAISO": server.base_url}, min_spacing_s={"CAISO": 0.0})
        result = download_day(CAISO, "lmp_rt5", SPRING, http, Layout(tmp_path), clock=lambda: soon)
    assert (len(result.ok), len(result.no_data)) == (21, 2)


def test_extraction_traces_every_file_to_its_response_and_counts_rows(tmp_path, http):
    layout = Layout(tmp_path)
    download_day(CAISO, "lmp_da", SPRING, http, layout)
    extract = extract_day("CAISO", "lmp_da", SPRING, layout)
    (entry,) = extract.files
    assert entry["path"].endswith(".csv")
    assert entry["source"]["url"].startswith("http://127.0.0.1:")
    assert entry["data_rows"] == 23 * 8 * 5  # hours x nodes x LMP components
    meta = json.loads((layout.csv_files("CAISO", "lmp_da", SPRING) / "metadata.json").read_text())
    assert meta["files"] == extract.files
    # Re-extracting replaces the day folder whole: no stale files survive.
    stale = layout.csv_files("CAISO", "lmp_da", SPRING) / "stale.csv"
    stale.write_text("x")
    extract_day("CAISO", "lmp_da", SPRING, layout)
    assert not stale.exists()


class _CorruptZip:
    """Serves a ZIP whose member fails its CRC: it looks like a ZIP, so it is kept as served."""

    def secrets_for(self, iso):
        return NO_SECRETS

    def fetch(self, iso, request):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr("PRC_LMP.csv", b"INTERVALSTARTTIME_GMT,MW\n" + b"1" * 100)
        broken = buffer.getvalue().replace(b"1" * 100, b"2" * 100)  # same size, wrong CRC
        return FetchResult(
            url="http://127.0.0.1:9/oasisapi/SingleZip?queryname=PRC_LMP",
            status_code=200,
            content=broken,
            fetched_at=datetime(2024, 3, 12, tzinfo=UTC),
            attempts=1,
            content_type="application/x-zip-compressed",
        )


def test_a_kept_response_that_cannot_be_extracted_says_how_to_fetch_it_again(tmp_path):
    download_day(CAISO, "lmp_da", SPRING, _CorruptZip(), Layout(tmp_path))
    with pytest.raises(MalformedFileError) as failed:
        extract_day("CAISO", "lmp_da", SPRING, Layout(tmp_path))
    message = str(failed.value)
    assert "kept from http://127.0.0.1:9/oasisapi/SingleZip?queryname=PRC_LMP" in message
    assert "reused on every run" in message
    assert '{"ops": {"market_day_stages": {"config": {"force_download": true}}}}' in message


def test_the_closed_day_rule_counts_the_25_windows_of_the_fall_back_day(tmp_path):
    fall = date(2024, 11, 3)
    # The second 01:00 (PST) hour: 09:00Z, after the first 01:00 (PDT) at 08:00Z.
    second_one_am = (datetime(2024, 11, 3, 9, tzinfo=UTC), datetime(2024, 11, 3, 10, tzinfo=UTC))
    after = datetime(2024, 11, 6, tzinfo=UTC)
    with FakeOasis(generate=True, unpublished_windows=[second_one_am]) as server:
        http = IsoHttpClient(base_urls={"CAISO": server.base_url}, min_spacing_s={"CAISO": 0.0})
        with pytest.raises(IncompleteDayError) as failed:
            download_day(CAISO, "lmp_rt5", fall, http, Layout(tmp_path), clock=lambda: after)
    assert '"no data" for 1 of its 25 window(s)' in str(failed.value)
    assert "2024-11-03T09:00:00+00:00..2024-11-03T10:00:00+00:00" in str(failed.value)
