"""Which MISO source serves a day: report names, preliminary until final, the public API for today
and yesterday, the weekly 5-minute archive, clear errors where MISO offers nothing; drop-folder
names and the real-time probe."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from power_assets.demo import miso_fixtures as gen
from power_assets.errors import DownloadError, IsoNoDataError
from power_assets.isos import get_iso

MISO = get_iso("MISO")
TODAY = date(2024, 11, 20)


def _never(request):
    raise AssertionError(f"no listing expected for {request.path}")


def _plan(dataset, day, lister=_never, today=TODAY):
    return MISO.plan_day(dataset, day, lister, today)


def test_daily_reports_are_named_by_market_day_and_cover_it_in_est():
    (request,) = _plan("lmp_da", date(2024, 3, 10))
    assert request.url("https://r") == "https://r/20240310_da_expost_lmp.csv"
    assert request.window_start == datetime(2024, 3, 10, 5, tzinfo=UTC)
    assert request.window_end - request.window_start == timedelta(hours=24)
    assert _plan("as_da", date(2024, 11, 3))[0].path == "20241103_asm_expost_damcp.csv"
    assert _plan("lmp_da_exante", date(2024, 11, 3))[0].path == "20241103_da_exante_lmp.csv"
    assert MISO.dropped_file_day("20241103_da_exante_lmp.csv") == (
        "lmp_da_exante", date(2024, 11, 3),
    )  # fmt: skip
    assert _plan("as_rt", date(2024, 11, 3))[0].path == "20241103_asm_rtmcp_final.csv"


def test_days_before_the_daily_csvs_come_from_the_monthly_pricing_archives():
    # DA: the member named for the market day, in that month's archive.
    (da,) = _plan("lmp_da", date(2022, 12, 31))
    assert (da.path, da.member, da.shared) == ("202212_da_pr_xls.zip", "20221231_da_pr.xls", True)
    assert da.url("https://r") == "https://r/202212_da_pr_xls.zip"
    assert da.window_start == datetime(2022, 12, 31, 5, tzinfo=UTC)
    assert da.final_after == datetime(2023, 1, 1, 5, tzinfo=UTC)
    # RT: the member is named for the publication day, the day after: a month's last day is
    # in the next month's archive.
    (rt,) = _plan("lmp_rt_hourly", date(2021, 2, 28))
    assert (rt.path, rt.member) == ("202103_rt_pr_xls.zip", "20210301_rt_pr.xls")
    (rt,) = _plan("lmp_rt_hourly", date(2015, 1, 1))
    assert (rt.path, rt.member) == ("201501_rt_pr_xls.zip", "20150102_rt_pr.xls")
    assert MISO.dropped_file_day("20210301_rt_pr.xls") == ("lmp_rt_hourly", date(2021, 2, 28))
    assert MISO.dropped_file_day("20210228_da_pr.xls") == ("lmp_da", date(2021, 2, 28))


def test_days_no_archive_covers_fail_saying_where_history_is():
    with pytest.raises(IsoNoDataError, match=r"2015-01-01.*POWER_ASSETS_MISO_DROP_DIR"):
        _plan("lmp_da", date(2014, 12, 31))
    with pytest.raises(IsoNoDataError, match=r"2023-01-01.*202212_da_pr_xls.zip.*not as_da"):
        _plan("as_da", date(2022, 12, 31))
    with pytest.raises(IsoNoDataError, match=r"202212_da_pr_xls.zip"):
        _plan("lmp_da_exante", date(2022, 12, 31))


def test_recent_real_time_days_use_the_preliminary_file_until_the_final_exists():
    day = TODAY - timedelta(days=2)
    asked = []

    def missing(request):
        asked.append(request.path)
        raise DownloadError(f"MISO: https://r/{request.path}: HTTP 404: 'not found'", status=404)

    (prelim,) = _plan("lmp_rt_hourly", day, missing)
    assert prelim.path == "20241118_rt_lmp_prelim.csv"
    assert asked == ["20241118_rt_lmp_final.csv"]
    # Not final before the final file is planned without asking (7 days after the day's end),
    # so a run in between asks for the final file again instead of keeping the preliminary.
    assert prelim.final_from == datetime(2024, 11, 26, 5, tzinfo=UTC)
    assert _plan("lmp_rt_hourly", date(2024, 11, 18), today=date(2024, 11, 26))[0].path == (
        "20241118_rt_lmp_final.csv"
    )
    assert _plan("as_rt", day, lambda r: b"x")[0].path == "20241118_asm_rtmcp_final.csv"
    # Past the preliminary window the final file is planned without asking.
    assert _plan("lmp_rt_hourly", TODAY - timedelta(days=30))[0].path.endswith("_rt_lmp_final.csv")

    def broken(request):
        raise DownloadError("MISO: https://r/x: HTTP 500 after 3 attempts")

    with pytest.raises(DownloadError, match="500"):
        _plan("lmp_rt_hourly", day, broken)

    # Only the status counts, never the text: a 403 whose body quotes "HTTP 404" is no 404.
    def forbidden(request):
        raise DownloadError("MISO: https://r/x: HTTP 403: 'see the HTTP 404 page'", status=403)

    with pytest.raises(DownloadError, match="403"):
        _plan("lmp_rt_hourly", day, forbidden)


def test_the_http_client_says_404_by_status_and_the_preliminary_file_serves(tmp_path):
    import httpx

    from power_assets.io.http import IsoHttpClient

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("_final.csv"):
            return httpx.Response(404, content=b"<html>404 - File or directory not found.</html>")
        return httpx.Response(200, content=gen.lmp_csv("rt_lmp_prelim", date(2024, 11, 18)))

    client = IsoHttpClient(
        base_urls={"MISO": "http://miso.test/marketreports"}, lock_dir=str(tmp_path),
        min_spacing_s={"MISO": 0.0},
    ).with_transport(httpx.MockTransport(answer))  # fmt: skip
    final = MISO.plan_day("lmp_rt_hourly", date(2024, 11, 20), _never, TODAY)[0]
    with pytest.raises(DownloadError) as caught:
        client.fetch(MISO, replace(final, path="20241118_rt_lmp_final.csv"))
    assert caught.value.status == 404
    (request,) = MISO.plan_day(
        "lmp_rt_hourly", date(2024, 11, 18), lambda r: client.fetch(MISO, r).content, TODAY
    )
    assert request.path == "20241118_rt_lmp_prelim.csv"


def test_five_minute_prices_today_yesterday_and_from_the_weekly_archive():
    assert _plan("lmp_rt5", TODAY)[0].path == "MarketPricing/GetRealTimeFiveMinExPost/Rolling"
    (yesterday,) = _plan("lmp_rt5", TODAY - timedelta(days=1))
    assert yesterday.path.endswith("/Previous") and yesterday.endpoint == "public_api"
    (weekly,) = _plan("lmp_rt5", date(2024, 11, 3))  # a Sunday: its week's ZIP is 2024-11-11's
    assert (weekly.path, weekly.shared, weekly.member) == ("20241111_5MIN_LMP.zip", True, None)
    with pytest.raises(IsoNoDataError, match=r"20241125_5MIN_LMP\.zip.*2024-11-25"):
        _plan("lmp_rt5", date(2024, 11, 15))


def test_fuel_mix_and_todays_load_come_from_the_public_api():
    assert _plan("fuel_mix", TODAY)[0].path == "FuelMix/Today"
    assert _plan("fuel_mix", TODAY - timedelta(days=1))[0].path == "FuelMix/Yesterday"
    with pytest.raises(IsoNoDataError, match="today and yesterday only"):
        _plan("fuel_mix", TODAY - timedelta(days=2))
    assert _plan("load", TODAY)[0].path == "RealTimeTotalLoad"
    assert _plan("load", date(2024, 11, 3))[0].path == "20241104_df_al.xls"


def test_every_forecast_vintage_published_before_the_day_is_planned():
    # D-5 .. D: the file of D+1 is stamped 00:00 EST of D+1, after every hour of D.
    paths = [r.path for r in _plan("load_forecast", date(2024, 11, 3))]
    assert paths == [f"202410{d}_df_al.xls" for d in (29, 30, 31)] + [
        f"2024110{d}_df_al.xls" for d in (1, 2, 3)
    ]
    assert [r.path for r in _plan("load_forecast", TODAY + timedelta(days=2))] == [
        f"202411{d}_df_al.xls" for d in (17, 18, 19, 20)
    ]
    # Nothing published yet: no request for a file that does not exist, a clear answer instead.
    with pytest.raises(IsoNoDataError, match=r"published on 2024-11-25 \(today is 2024-11-20"):
        _plan("load_forecast", TODAY + timedelta(days=10))


def test_dropped_report_names():
    assert MISO.dropped_file_day("20240310_da_expost_lmp.csv") == ("lmp_da", date(2024, 3, 10))
    assert MISO.dropped_file_day("x/20241103_rt_lmp_prelim.csv") == (
        "lmp_rt_hourly", date(2024, 11, 3),
    )  # fmt: skip
    assert MISO.dropped_file_day("20241104_df_al.xls") == ("load", date(2024, 11, 3))
    assert MISO.dropped_file_day("20241104_unknown_report.csv") is None
    names = ["20241103_rt_lmp_prelim.csv", "20241103_rt_lmp_final.csv"]
    assert MISO.choose_dropped_files("lmp_rt_hourly", date(2024, 11, 3), names) == names[1:]


def test_the_probe_asks_for_the_current_interval_and_reads_its_end():
    now = datetime(2024, 11, 3, 6, 30, tzinfo=UTC)  # 01:30 EST
    request = MISO.latest_interval_request(now)
    assert request.path == "MarketPricing/GetRealTimeFiveMinExPost/Current"
    assert request.window_start == datetime(2024, 11, 3, 5, tzinfo=UTC)
    body = gen.five_minute_api(date(2024, 11, 3), now, last_only=True)
    assert MISO.latest_interval_end("lmp_rt5", body, "https://api/Current") == now
    assert (
        MISO.latest_interval_end("fuel_mix", gen.fuel_mix_api(date(2024, 11, 3), now), "x") == now
    )


def test_days_without_a_keyless_source_are_skipped_with_where_the_history_is():
    today = date(2024, 11, 20)
    # Monthly archives hold 2015-2022 LMPs: offered; ASM prices before 2023 and LMPs before
    # 2015 have no source; fuel mix only today and yesterday.
    assert MISO.unoffered_reason("lmp_da", date(2022, 6, 1), today) is None
    assert "drop it into" in MISO.unoffered_reason("lmp_da", date(2014, 12, 31), today)
    assert "not as_da" in MISO.unoffered_reason("as_da", date(2022, 12, 31), today)
    assert MISO.unoffered_reason("as_da", date(2023, 1, 1), today) is None
    assert MISO.unoffered_reason("fuel_mix", date(2024, 11, 19), today) is None
    assert "today and yesterday only" in MISO.unoffered_reason("fuel_mix", date(2024, 11, 18), today)
    assert MISO.unoffered_reason("lmp_rt5", date(2024, 1, 1), today) is None  # weekly ZIPs
