"""The fake SPP file browser itself: SPP's URL shapes, listings, bare 404s, the publication clock,
byte ranges and the maintenance-page knob. Expected names and times are written out by hand."""

from datetime import UTC, date, datetime

import httpx
import pytest

from power_assets.demo.spp_server import FakeSpp

FALL = date(2024, 11, 3)


def listing(fake: FakeSpp, fs: str, path: str) -> list[dict]:
    answer = httpx.get(f"{fake.base_url}/", params={"fsName": fs, "path": path, "type": "folder"})
    assert answer.status_code == 200
    return answer.json()


def download(fake: FakeSpp, fs: str, path: str, **headers: str) -> httpx.Response:
    return httpx.get(f"{fake.base_url}/download/{fs}", params={"path": path}, headers=headers)


@pytest.fixture
def fake():
    with FakeSpp([FALL]) as server:
        yield server


def test_listings_walk_folders_to_files(fake) -> None:
    years = listing(fake, "da-lmp-by-settlement-location", "/")
    assert [e["name"] for e in years] == ["2024"]
    days = listing(fake, "da-lmp-by-settlement-location", "/2024/11/By_Day")
    assert [(e["name"], e["path"]) for e in days] == [
        ("DA-LMP-SL-202411030100.csv", "/2024/11/By_Day/DA-LMP-SL-202411030100.csv")]  # fmt: skip
    assert listing(fake, "da-lmp-by-settlement-location", "/2023") == []
    # SPP's own first call, with an empty path, lists nothing.
    assert listing(fake, "da-mcp", "") == []
    assert httpx.get(f"{fake.base_url}/", params={"fsName": "nope", "path": "/"}).status_code == 404


def test_the_fall_back_days_five_minute_files_carry_d_in_the_repeated_hour(fake) -> None:
    names = [e["name"] for e in listing(fake, "rtbm-lmp-by-location", "/2024/11/By_Interval/03")]
    assert len(names) == 300  # 25 hours; the file ending at midnight starts on the 3rd
    assert names.count("RTBM-LMP-SL-202411030110.csv") == 1
    assert "RTBM-LMP-SL-202411030110d.csv" in names
    assert "RTBM-LMP-SL-202411030100d.csv" in names  # 01:55-02:00 CDT, i.e. ends 01:00 CST
    assert "RTBM-LMP-SL-202411040000.csv" in names
    assert [e["name"] for e in listing(fake, "rtbm-lmp-by-location", "/2024/11/By_Day")] == [
        "RTBM-LMP-DAILY-SL-20241103.csv"]  # fmt: skip


def test_downloads_and_bare_404s(fake) -> None:
    answer = download(fake, "da-mcp", "/2024/11/DA-MCP-202411030100.csv")
    assert answer.status_code == 200
    lines = answer.text.splitlines()
    assert (
        lines[0] == "Interval,GMTIntervalEnd,Reserve Zone,RegUP,RegDN,Spin,Supp,RampUP,RampDN,UncUP"
    )
    assert lines[1].startswith("11/03/2024 01:00:00,11/03/2024 06:00:00,1,")
    # SPP writes the hour ending 07:00 UTC as local 02:00, then 08:00 UTC as 02:00 again.
    assert lines[7].startswith("11/03/2024 02:00:00,11/03/2024 07:00:00,1,")
    assert lines[13].startswith("11/03/2024 02:00:00,11/03/2024 08:00:00,1,")
    assert len(lines) == 1 + 25 * 6
    missing = download(fake, "da-mcp", "/2024/11/DA-MCP-202411040100.csv")
    assert (missing.status_code, missing.content) == (404, b"")
    assert download(fake, "nope", "/x.csv").status_code == 404
    assert [(r.kind, r.status) for r in fake.requests] == [
        ("download", 200), ("download", 404), ("download", 404)]  # fmt: skip


def test_the_clock_publishes_day_ahead_real_time_and_daily_files(fake) -> None:
    fake.now = datetime(2024, 11, 2, 13, 59, tzinfo=fake.clock_timezone)
    assert listing(fake, "da-lmp-by-settlement-location", "/2024/11/By_Day") == []
    fake.now = datetime(2024, 11, 2, 14, 0, tzinfo=fake.clock_timezone)
    assert len(listing(fake, "da-lmp-by-settlement-location", "/2024/11/By_Day")) == 1
    fake.now = datetime(2024, 11, 3, 7, 12, tzinfo=UTC)  # 01:12 CST, the second pass
    names = [e["name"] for e in listing(fake, "rtbm-mcp", "/2024/11/By_Interval/03")]
    assert len(names) == 12 * 2 + 2  # 00:05 CDT through 01:10 CST
    assert "RTBM-MCP-202411030110d.csv" in names and "RTBM-MCP-202411030115d.csv" not in names
    assert listing(fake, "rtbm-mcp", "/2024/11/By_Day") == []
    assert listing(fake, "hourly-load", "/2024") == []
    latest = download(fake, "rtbm-mcp", "/RTBM-MCP-latestInterval.csv").text.splitlines()
    assert latest[1].startswith("11/03/2024 01:10:00,11/03/2024 07:10:00,")
    fake.now = datetime(2024, 11, 4, 10, 0, tzinfo=fake.clock_timezone)
    assert [e["name"] for e in listing(fake, "hourly-load", "/2024")] == [
        "DAILY_HOURLY_LOAD-20241103.csv"]  # fmt: skip
    assert len(listing(fake, "rtbm-mcp", "/2024/11/By_Day")) == 1


def test_byte_ranges_and_maintenance_pages() -> None:
    path = "/RTBM-LMP-SL-latestInterval.csv"
    with FakeSpp([FALL], html_with_200=[path]) as fake:
        page = download(fake, "rtbm-lmp-by-location", path)
        assert page.status_code == 200 and page.text.startswith("<!DOCTYPE html>")
    with FakeSpp([FALL]) as fake:
        whole = download(fake, "rtbm-lmp-by-location", path).content
        tail = download(fake, "rtbm-lmp-by-location", path, Range="bytes=-100")
        assert tail.status_code == 206 and tail.content == whole[-100:]
        assert (
            tail.headers["Content-Range"]
            == f"bytes {len(whole) - 100}-{len(whole) - 1}/{len(whole)}"
        )
        assert fake.requests[-1].range == "bytes=-100"


def test_genmix_year_file_holds_the_served_days_with_spp_blank_rows(fake) -> None:
    text = download(fake, "generation-mix-historical", "/GenMix_2024.csv").text
    header, *rows = text.splitlines()
    assert header.startswith("GMT MKT Interval, Coal Market, Coal Self,")
    assert "Gas Self" in header and header.endswith(" Load")
    assert len(rows) == 300 and rows[0].startswith("2024-11-03T05:05:00Z,")
    blank = [r for r in rows if r.endswith(",,")]
    assert [r.split(",")[0] for r in blank][:1] == ["2024-11-03T06:00:00Z"] and len(blank) == 12
