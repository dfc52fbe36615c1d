"""The fake MISO: MISO's URL shapes, 404 for names MISO would not have, and its publication clock."""

import json
from datetime import date, datetime, timedelta, timezone

import httpx

from power_assets.demo import miso_fixtures as gen
from power_assets.demo.miso_server import FakeMiso

EST = timezone(timedelta(hours=-5))


def _get(url: str) -> httpx.Response:
    return httpx.get(url, timeout=10)


def test_reports_appear_on_miso_s_schedule():
    now = datetime(2024, 11, 4, 9, 0, tzinfo=EST)
    # 09:00 EST on 11-04: the day-ahead file of 11-05 is posted only at 14:00, the final
    # real-time file of 11-03 days later, the weekly archive only on Mondays.
    with FakeMiso(now=now) as fake:
        statuses = {
            name: _get(f"{fake.base_url}/{name}").status_code
            for name in ("20241104_da_expost_lmp.csv", "20241105_da_expost_lmp.csv",
                         "20241103_rt_lmp_prelim.csv", "20241103_rt_lmp_final.csv",
                         "20241104_df_al.xls", "20241111_5MIN_LMP.zip", "20241104_5MIN_LMP.zip",
                         "20241110_5MIN_LMP.zip", "20241103_nonsense.csv")
        }  # fmt: skip
        log = fake.requests
    assert statuses == {
        "20241104_da_expost_lmp.csv": 200, "20241105_da_expost_lmp.csv": 404,
        "20241103_rt_lmp_prelim.csv": 200, "20241103_rt_lmp_final.csv": 404,
        "20241104_df_al.xls": 200, "20241111_5MIN_LMP.zip": 404, "20241104_5MIN_LMP.zip": 200,
        "20241110_5MIN_LMP.zip": 404, "20241103_nonsense.csv": 404,
    }  # fmt: skip
    assert [r.status for r in log] == list(statuses.values())


def test_public_api_serves_today_so_far_and_yesterday_whole():
    now = datetime(2024, 3, 10, 2, 0, tzinfo=EST)
    with FakeMiso(now=now) as fake:
        rolling = _get(f"{fake.api_url}/MarketPricing/GetRealTimeFiveMinExPost/Rolling").json()
        previous = _get(f"{fake.api_url}/MarketPricing/GetRealTimeFiveMinExPost/Previous").json()
        current = _get(f"{fake.api_url}/MarketPricing/GetRealTimeFiveMinExPost/Current").json()
        fuel = _get(f"{fake.api_url}/FuelMix/Yesterday").json()
        missing = _get(f"{fake.api_url}/FuelMix/Tomorrow")
    nodes = len(gen.NODES)
    assert rolling["headers"] == ["INTERVAL", "CPNODE", "LMP", "MLC", "MCC"]
    assert len(rolling["data"]) == 24 * nodes  # 00:00 .. 01:55 EST
    assert len(previous["data"]) == 288 * nodes
    assert {row[0] for row in current["data"]} == {"2024-03-10T01:55:00"}
    assert len(fuel["Fuel"]["Type"]) == 288 * len(gen.FUELS)
    assert fuel["Fuel"]["Type"][0]["INTERVALEST"] == "2024-03-09 12:00:00 AM"
    assert missing.status_code == 404 and "message" in json.loads(missing.content)


def test_the_weekly_archive_covers_the_week_ending_eight_days_before():
    csv_text = gen.weekly_five_minute_zip(date(2024, 11, 11))
    assert csv_text[:2] == b"PK"
    with FakeMiso(now=datetime(2024, 11, 11, 9, tzinfo=EST)) as fake:
        assert _get(f"{fake.base_url}/20241111_5MIN_LMP.zip").content == csv_text
