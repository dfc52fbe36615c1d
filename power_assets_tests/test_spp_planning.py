"""Planning an SPP market day from the file browser's listings, the URLs it asks, drop-folder
names, and the real-time probe. Listings are written here as SPP's JSON arrays; expected URLs and
instants are written out by hand."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from power_assets.demo import spp_fixtures as fx
from power_assets.errors import (
    IncompleteDayError,
    IsoNoDataError,
    MalformedFileError,
    UnsupportedDatasetError,
)
from power_assets.isos import get_iso
from power_assets.isos.base import DownloadRequest
from power_assets.parsing import parse_files

BASE = "https://portal.spp.org/file-browser-api"
FALL, SPRING = date(2024, 11, 3), date(2024, 3, 10)
TODAY = date(2024, 12, 1)


class Lister:
    """Answers listings from {(fsName, folder): [names]}; records what was asked."""

    def __init__(self, folders: dict[tuple[str, str], list[str]]):
        self.folders, self.asked = folders, []

    def __call__(self, request: DownloadRequest) -> bytes:
        params = dict(request.params)
        self.asked.append(request.url(BASE))
        names = self.folders.get((params["fsName"], params["path"]), [])
        return json.dumps([{"name": n, "path": f"{params['path']}/{n}"} for n in names]).encode()


@pytest.fixture
def spp():
    return get_iso("SPP")


def test_day_ahead_file_is_fetched_once_listed(spp) -> None:
    lister = Lister({("da-lmp-by-settlement-location", "/2024/11/By_Day"):
                     ["DA-LMP-SL-202411020100.csv", "DA-LMP-SL-202411030100.csv"]})  # fmt: skip
    (request,) = spp.plan_day("lmp_da", FALL, lister, today=TODAY)
    assert lister.asked == [
        f"{BASE}/?fsName=da-lmp-by-settlement-location&path=%2F2024%2F11%2FBy_Day&type=folder"
    ]
    assert request.url(BASE) == (
        f"{BASE}/download/da-lmp-by-settlement-location"
        "?path=%2F2024%2F11%2FBy_Day%2FDA-LMP-SL-202411030100.csv"
    )
    assert request.file_name == "DA-LMP-SL-202411030100.csv"
    # The fall-back day: 05:00 UTC to 06:00 UTC the next day, 25 hours.
    assert (request.window_start, request.window_end) == (
        datetime(2024, 11, 3, 5, tzinfo=UTC), datetime(2024, 11, 4, 6, tzinfo=UTC))  # fmt: skip


def test_a_file_not_listed_is_not_published(spp) -> None:
    with pytest.raises(IsoNoDataError, match=r"SPP as_da 2024-11-03.*not published.*"
                       r"/2024/11 does not list DA-MCP-202411030100\.csv"):  # fmt: skip
        spp.plan_day("as_da", FALL, Lister({}), today=TODAY)
    with pytest.raises(IsoNoDataError, match="more than a day ahead"):
        spp.plan_day("lmp_da", TODAY + timedelta(days=2), Lister({}), today=TODAY)


def test_past_rtbm_day_uses_the_daily_file(spp) -> None:
    lister = Lister({("rtbm-lmp-by-location", "/2024/11/By_Day"):
                     ["RTBM-LMP-DAILY-SL-20241103.csv"]})  # fmt: skip
    (request,) = spp.plan_day("lmp_rt5", FALL, lister, today=TODAY)
    assert dict(request.params)["path"] == "/2024/11/By_Day/RTBM-LMP-DAILY-SL-20241103.csv"


def test_without_a_daily_file_every_listed_interval_file_of_the_day(spp) -> None:
    # Today's folder on the fall-back day: the repeated hour's CST pass carries `d`, one file is
    # missing (as SPP's 2024-11-03), and other products or other days' files are left out.
    names = [fx.rt_interval_path("lmp", end).rsplit("/", 1)[-1]
             for end in fx.interval_ends(FALL, timedelta(minutes=5))]  # fmt: skip
    assert "RTBM-LMP-SL-202411030110d.csv" in names
    names.remove("RTBM-LMP-SL-202411030115.csv")
    lister = Lister({("rtbm-lmp-by-location", "/2024/11/By_Interval/03"):
                     [*names, "RTBM-LMP-B-202411030105.csv", "readme.txt"]})  # fmt: skip
    requests = spp.plan_day("lmp_rt5", FALL, lister, today=FALL)
    assert len(requests) == 300 - 1
    by_name = {r.file_name: r for r in requests}
    second = by_name["RTBM-LMP-SL-202411030110d.csv"]  # 01:05-01:10 CST
    assert (second.window_start, second.window_end) == (
        datetime(2024, 11, 3, 7, 5, tzinfo=UTC), datetime(2024, 11, 3, 7, 10, tzinfo=UTC))  # fmt: skip
    first = by_name["RTBM-LMP-SL-202411030110.csv"]  # 01:05-01:10 CDT
    assert first.window_end == datetime(2024, 11, 3, 6, 10, tzinfo=UTC)
    last = by_name["RTBM-LMP-SL-202411040000.csv"]  # ends at midnight, starts on the 3rd
    assert last.window_end == datetime(2024, 11, 4, 6, tzinfo=UTC)
    assert [r.window_start for r in requests] == sorted(r.window_start for r in requests)


def _interval_names(day: date, missing: set[str] = frozenset()) -> list[str]:
    names = [fx.rt_interval_path("lmp", end).rsplit("/", 1)[-1]
             for end in fx.interval_ends(day, timedelta(minutes=5))]  # fmt: skip
    return [n for n in names if n not in missing]


def test_a_closed_day_missing_interval_files_is_incomplete_not_partial(spp) -> None:
    # 2024-11-03 ended 06:00Z on the 4th; two days' allowance: closed on 2024-12-01. One file
    # SPP never posted (12:00 CST, 18:00Z) and the day's last one (24:00, 06:00Z on the 4th).
    gone = {"RTBM-LMP-SL-202411031200.csv", "RTBM-LMP-SL-202411040000.csv"}
    lister = Lister({("rtbm-lmp-by-location", "/2024/11/By_Interval/03"):
                     _interval_names(FALL, gone)})  # fmt: skip
    with pytest.raises(IncompleteDayError, match=r"SPP lmp_rt5 2024-11-03: .*closed.*"
                       r"2 of its 300 5-minute intervals.*2024-11-03 18:00:00\+00:00.*"
                       r"2024-11-04 06:00:00\+00:00"):  # fmt: skip
        spp.plan_day("lmp_rt5", FALL, lister, today=TODAY)
    # Still open (the day itself, or within the two days after it): what is listed is planned.
    for today in (FALL, FALL + timedelta(days=2)):
        assert len(spp.plan_day("lmp_rt5", FALL, lister, today=today)) == 300 - 2


def test_spp_s_own_2024_11_03_hole_does_not_fail_the_closed_day(spp) -> None:
    # No RTBM files for intervals ending 01:10 CDT ... 01:05 CST (06:10Z..07:05Z): 12 files.
    hole = {f"RTBM-LMP-SL-2024110301{m:02d}.csv" for m in range(10, 60, 5)} | {
        "RTBM-LMP-SL-202411030100d.csv", "RTBM-LMP-SL-202411030105d.csv"}  # fmt: skip
    assert len(hole) == 12
    lister = Lister({("rtbm-lmp-by-location", "/2024/11/By_Interval/03"):
                     _interval_names(FALL, hole)})  # fmt: skip
    requests = spp.plan_day("lmp_rt5", FALL, lister, today=TODAY)
    assert len(requests) == 300 - 12
    # The same gap on another fall-back day is no known hole.
    other = date(2025, 11, 2)
    names = _interval_names(other, {n.replace("20241103", "20251102") for n in hole})
    lister = Lister({("rtbm-mcp", "/2025/11/By_Interval/02"):
                     [n.replace("RTBM-LMP-SL", "RTBM-MCP") for n in names]})  # fmt: skip
    with pytest.raises(IncompleteDayError, match=r"12 of its 300 5-minute intervals"):
        spp.plan_day("as_rt", other, lister, today=TODAY.replace(year=2025))


def test_load_forecast_takes_every_vintage_issued_the_day_before(spp) -> None:
    issues = fx.mtlf_issues(FALL)  # 25 hourly vintages on the fall-back day
    names = [fx.mtlf_path(i).rsplit("/", 1)[-1] for i in issues]
    lister = Lister({("mtlf-vs-actual", "/2024/11/03"): names})
    requests = spp.plan_day("load_forecast", FALL + timedelta(days=1), lister, today=TODAY)
    assert len(requests) == 25
    assert [r.final_after for r in requests] == issues  # final once issued, read from the name
    assert {r.window_start for r in requests} == {datetime(2024, 11, 4, 6, tzinfo=UTC)}


def test_fuel_mix_is_the_shared_yearly_file(spp) -> None:
    lister = Lister({("generation-mix-historical", "/"): ["GenMix_2024.csv", "SPP", "SWPW"]})
    (request,) = spp.plan_day("fuel_mix", SPRING, lister, today=TODAY)
    assert request.shared and request.file_name == "GenMix_2024.csv"
    assert request.url(BASE) == f"{BASE}/download/generation-mix-historical?path=%2FGenMix_2024.csv"
    # Final two days after the day ends (05:00Z on 03-11, CDT), not after the year: a copy
    # fetched since then serves the day, however much SPP has appended to the year since.
    assert request.final_after == datetime(2024, 3, 13, 5, tzinfo=UTC)


def test_hourly_load_and_its_allowance(spp) -> None:
    lister = Lister({("hourly-load", "/2024"): ["DAILY_HOURLY_LOAD-20240310.csv"]})
    (request,) = spp.plan_day("load", SPRING, lister, today=TODAY)
    assert dict(request.params)["path"] == "/2024/DAILY_HOURLY_LOAD-20240310.csv"
    assert spp.publication_allowance("load") == timedelta(days=2)
    assert spp.publication_allowance("lmp_da") == timedelta(hours=3)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("DA-LMP-SL-202411030100.csv", ("lmp_da", FALL)),
        ("2024/2024/11/DA-MCP-202403100100.csv", ("as_da", SPRING)),
        ("RTBM-LMP-DAILY-SL-20241103.csv", ("lmp_rt5", FALL)),
        ("RTBM-MCP-DAILY-20240310.csv", ("as_rt", SPRING)),
        ("RTBM-LMP-SL-202411040000.csv", ("lmp_rt5", FALL)),  # 23:55-24:00 of the 3rd
        ("RTBM-MCP-202411030110d.csv", ("as_rt", FALL)),
        ("DAILY_HOURLY_LOAD-20240310.csv", ("load", SPRING)),
        ("OP-MTLF-202411030100.csv", None),
        ("GenMix_2024.csv", None),
        ("notes.csv", None),
    ],
)
def test_dropped_file_names(spp, name, expected) -> None:
    assert spp.dropped_file_day(name) == expected


def test_a_dropped_daily_file_makes_interval_files_unneeded(spp) -> None:
    names = ["RTBM-LMP-SL-202411030005.csv", "RTBM-LMP-DAILY-SL-20241103.csv"]
    assert spp.choose_dropped_files("lmp_rt5", FALL, names) == ["RTBM-LMP-DAILY-SL-20241103.csv"]
    assert spp.choose_dropped_files("lmp_rt5", FALL, names[:1]) == names[:1]


def test_probe_asks_the_tail_of_the_latest_interval_file(spp) -> None:
    request = spp.latest_interval_request(datetime(2024, 11, 3, 7, 12, 30, tzinfo=UTC))
    assert request.url(BASE) == (
        f"{BASE}/download/rtbm-lmp-by-location?path=%2FRTBM-LMP-SL-latestInterval.csv"
    )
    assert dict(request.headers)["Range"].startswith("bytes=-")
    end = datetime(2024, 11, 3, 7, 10, tzinfo=UTC)
    whole = fx.lmp_csv("RTBM", [end], fx.locations(6), FALL)
    assert spp.latest_interval_end("lmp_rt5", whole, "latest") == end
    tail = whole[-150:]  # the header and the first rows are cut off
    assert spp.latest_interval_end("lmp_rt5", tail, "latest") == end
    assert spp.latest_interval_end("lmp_rt5", whole.splitlines()[0] + b"\n", "latest") is None
    with pytest.raises(UnsupportedDatasetError):
        spp.latest_interval_end("load_forecast", whole, "latest")


def test_a_listing_that_is_no_list_names_the_folder(spp) -> None:
    def html(request: DownloadRequest) -> bytes:
        return b"<html><body>maintenance</body></html>"

    with pytest.raises(MalformedFileError, match=r"SPP da-mcp /2024/11: .*listing is not JSON"):
        spp.plan_day("as_da", FALL, html, today=TODAY)
    with pytest.raises(MalformedFileError, match=r"SPP da-mcp <html>"):
        spp.check_payload(b"<html></html>", "SPP da-mcp <html>")


def test_hourly_load_from_the_monthly_file_where_only_that_is_listed(spp, tmp_path) -> None:
    lister = Lister({("hourly-load", "/2025"): ["HOURLY_LOAD-202511.csv", "2024.zip"]})
    (request,) = spp.plan_day("load", date(2025, 11, 2), lister, today=TODAY.replace(year=2025))
    assert request.shared and dict(request.params)["path"] == "/2025/HOURLY_LOAD-202511.csv"
    assert request.final_after == datetime(2025, 12, 2, 6, tzinfo=UTC)
    # The month's file parses like a daily one; stage 2 keeps the market day's rows.
    days = [fx.hourly_load_csv(date(2025, 11, d)) for d in (1, 2, 3)]
    month = days[0] + b"".join(content.split(b"\n", 1)[1] for content in days[1:])
    path = tmp_path / "HOURLY_LOAD-202511.csv"
    path.write_bytes(month)
    frame = parse_files("SPP", "load", [path])
    assert frame.height == (24 + 25 + 24) * len(fx.LOAD_ZONES)


def test_the_newest_interval_is_read_without_a_python_loop_over_rows(spp, monkeypatch) -> None:
    # House rule: no Python loop over data rows (a whole daily file may be read this way).
    from power_assets.isos.spp import realtime

    monkeypatch.setattr(realtime, "csv", None, raising=False)
    ends = [datetime(2024, 11, 3, 6, 55, tzinfo=UTC) + timedelta(minutes=5) * n for n in range(3)]
    content = fx.lmp_csv("RTBM", ends, fx.locations(3), FALL)
    assert spp.latest_interval_end("lmp_rt5", content, "latest") == ends[-1]
    quoted = content.replace(b"11/03/2024 07:05:00", b'"11/03/2024 07:05:00"')
    assert spp.latest_interval_end("lmp_rt5", quoted, "latest") == ends[-1]
    assert spp.latest_interval_end("lmp_rt5", b"", "latest") is None
