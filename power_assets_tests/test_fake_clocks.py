"""The publication clocks of the fake OASIS, NYISO and ISO-NE, and their byte-range tails.

With `now` set, a fake serves only what the real ISO would have published by then: real-time
intervals once they have ended, day-ahead days from the ISO's publication time on the day before.
Everything is asked over real HTTP (httpx against the loopback server), on an ordinary day and on
the 2024-11-03 fall-back day (25 hours, the 01:xx hour twice).
"""

import csv
import io
import json
import zipfile
from datetime import date, datetime, time, timedelta
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import httpx
import polars as pl
import pytest

from power_assets.demo.isone_server import FakeIsone
from power_assets.demo.nyiso_server import FakeNyiso
from power_assets.demo.oasis_server import FakeOasis, oasis_params
from power_assets.market_time import market_day_bounds

EASTERN, PACIFIC = ZoneInfo("America/New_York"), ZoneInfo("America/Los_Angeles")
ORDINARY, FALL_BACK = date(2024, 7, 1), date(2024, 11, 3)
# Intervals ending by 10:05 local: 10 h 5 min of the day, plus the repeated hour on fall-back.
ENDED_BY_1005 = {ORDINARY: 121, FALL_BACK: 133}
WHOLE_DAY = {ORDINARY: 288, FALL_BACK: 300}
DAYS = pytest.mark.parametrize("day", [ORDINARY, FALL_BACK])


def at(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


# -- NYISO ----------------------------------------------------------------------------------------


def nyiso_get(fake: FakeNyiso, folder: str, name: str, **headers: str) -> httpx.Response:
    return httpx.get(f"{fake.base_url}/csv/{folder}/{name}", headers=headers, timeout=10)


def stamps_of(body: bytes, name: str = "CAPITL") -> list[str]:
    """The `Time Stamp` of every row of one location (or fuel), in file order."""
    rows = pl.read_csv(body, infer_schema=False)
    key = "Name" if "Name" in rows.columns else "Fuel Category"
    return rows.filter(pl.col(key) == name)["Time Stamp"].to_list()


@DAYS
def test_nyiso_realtime_file_holds_the_intervals_ended_by_now_and_grows_with_the_clock(day):
    name = f"{day:%Y%m%d}realtime_zone.csv"
    with FakeNyiso(now=at(day, 10, 7, EASTERN)) as fake:
        morning = nyiso_get(fake, "realtime", name)
        fake.now = at(day, 10, 12, EASTERN)
        later = nyiso_get(fake, "realtime", name)
    assert morning.status_code == later.status_code == 200
    stamps = stamps_of(morning.content)
    assert len(stamps) == ENDED_BY_1005[day]
    assert stamps[-1] == f"{day:%m/%d/%Y} 10:05:00"  # realtime stamps the interval end
    assert later.content.startswith(morning.content)
    added = later.content[len(morning.content) :].decode().splitlines()
    assert len(added) == 15  # one interval: 11 zones and 4 external areas
    assert all(line.startswith(f'"{day:%m/%d/%Y} 10:10:00"') for line in added)


def test_nyiso_start_stamped_and_hourly_files_count_an_interval_once_it_has_ended():
    now = at(ORDINARY, 10, 7, EASTERN)
    with FakeNyiso(now=now) as fake:
        pal = stamps_of(nyiso_get(fake, "pal", "20240701pal.csv").content)
        fuel = stamps_of(nyiso_get(fake, "rtfuelmix", "20240701rtfuelmix.csv").content, "Wind")
        hourly = stamps_of(nyiso_get(fake, "rtlbmp", "20240701rtlbmp_zone.csv").content)
    assert pal[-1] == "07/01/2024 10:00:00"  # pal stamps the start: [10:00, 10:05) has ended
    assert fuel[-1] == "07/01/2024 10:05:00"  # rtfuelmix stamps the end
    assert hourly[-1] == "07/01/2024 09:00"  # the 10:00 hour has not ended yet
    assert len(hourly) == 10


def test_nyiso_real_time_file_is_missing_until_its_first_interval_has_ended():
    with FakeNyiso(now=at(ORDINARY, 0, 4, EASTERN)) as fake:
        before = nyiso_get(fake, "realtime", "20240701realtime_zone.csv").status_code
        future = nyiso_get(fake, "realtime", "20240702realtime_zone.csv").status_code
        fake.now = at(ORDINARY, 0, 5, EASTERN)
        first = nyiso_get(fake, "realtime", "20240701realtime_zone.csv")
    assert (before, future) == (404, 404)
    assert first.status_code == 200
    assert stamps_of(first.content) == ["07/01/2024 00:05:00"]


@pytest.mark.parametrize("folder", ["damlbmp", "damasp"])
def test_nyiso_day_ahead_file_appears_whole_at_11_new_york_the_day_before(folder):
    name = f"20240702{folder}{'_zone' if folder == 'damlbmp' else ''}.csv"
    with FakeNyiso(now=at(ORDINARY, 10, 59, EASTERN)) as fake:
        early = nyiso_get(fake, folder, name).status_code
        fake.now = at(ORDINARY, 11, 0, EASTERN)
        published = nyiso_get(fake, folder, name)
    assert early == 404
    assert published.status_code == 200
    assert len(stamps_of(published.content)) == 24


def test_nyiso_load_forecast_file_dated_tomorrow_appears_with_the_day_ahead_market():
    with FakeNyiso(now=at(ORDINARY, 10, 59, EASTERN)) as fake:
        early = nyiso_get(fake, "isolf", "20240702isolf.csv").status_code
        today = nyiso_get(fake, "isolf", "20240701isolf.csv").status_code
        fake.now = at(ORDINARY, 11, 0, EASTERN)
        published = nyiso_get(fake, "isolf", "20240702isolf.csv")
    assert (early, today) == (404, 200)
    assert published.status_code == 200
    assert pl.read_csv(published.content).height == 6 * 24  # whole: six days, hour by hour


def test_nyiso_day_ahead_publication_time_and_lag_are_settable():
    with FakeNyiso(
        now=at(ORDINARY, 10, 7, EASTERN),
        day_ahead_published_at=time(10, 0),
        publish_lag=timedelta(minutes=3),
    ) as fake:
        day_ahead = nyiso_get(fake, "damlbmp", "20240702damlbmp_zone.csv").status_code
        realtime = stamps_of(nyiso_get(fake, "realtime", "20240701realtime_zone.csv").content)
    assert day_ahead == 200
    assert realtime[-1] == "07/01/2024 10:00:00"  # 10:05 + 3 min lag is after 10:07


def test_nyiso_monthly_archive_holds_the_days_published_so_far_cut_like_the_daily_file():
    with FakeNyiso(now=at(FALL_BACK, 10, 7, EASTERN)) as fake:
        archive = nyiso_get(fake, "realtime", "20241101realtime_zone_csv.zip")
        daily = nyiso_get(fake, "realtime", "20241103realtime_zone.csv")
        next_month = nyiso_get(fake, "realtime", "20241201realtime_zone_csv.zip")
    assert archive.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archive.content)) as members:
        assert members.namelist() == [
            "20241101realtime_zone.csv",
            "20241102realtime_zone.csv",
            "20241103realtime_zone.csv",
        ]
        assert members.read("20241103realtime_zone.csv") == daily.content
        assert len(stamps_of(members.read("20241102realtime_zone.csv"))) == 288
    assert next_month.status_code == 404


@DAYS
def test_nyiso_without_clock_serves_every_day_whole(day):
    with FakeNyiso() as fake:
        assert fake.now is None
        body = nyiso_get(fake, "realtime", f"{day:%Y%m%d}realtime_zone.csv").content
        future = nyiso_get(fake, "realtime", "20991231realtime_zone.csv").status_code
    assert len(stamps_of(body)) == WHOLE_DAY[day]
    assert future == 200


def test_nyiso_daily_csv_answers_a_suffix_range_with_its_tail():
    name = "20240701realtime_zone.csv"
    with FakeNyiso(now=at(ORDINARY, 10, 7, EASTERN)) as fake:
        whole = nyiso_get(fake, "realtime", name).content
        tail = nyiso_get(fake, "realtime", name, Range="bytes=-300")
        everything = nyiso_get(fake, "realtime", name, Range=f"bytes=-{len(whole) + 50}")
        other_form = nyiso_get(fake, "realtime", name, Range="bytes=0-99")
        nothing = nyiso_get(fake, "realtime", name, Range="bytes=-0")
        log = fake.requests
    size = len(whole)
    assert tail.status_code == 206
    assert tail.content == whole[-300:]
    assert tail.headers["Content-Range"] == f"bytes {size - 300}-{size - 1}/{size}"
    assert tail.headers["Accept-Ranges"] == "bytes"
    assert everything.status_code == 206
    assert everything.content == whole
    assert everything.headers["Content-Range"] == f"bytes 0-{size - 1}/{size}"
    assert (other_form.status_code, other_form.content) == (200, whole)
    assert (nothing.status_code, nothing.headers["Content-Range"]) == (416, f"bytes */{size}")
    assert [entry.range for entry in log] == [
        None,
        "bytes=-300",
        f"bytes=-{size + 50}",
        "bytes=0-99",
        "bytes=-0",
    ]
    assert [entry.status for entry in log] == [200, 206, 206, 200, 416]


def test_clock_must_be_aware():
    with pytest.raises(ValueError, match="aware"):
        FakeNyiso(now=datetime(2024, 7, 1, 10, 7))
    fake = FakeIsone()
    with pytest.raises(ValueError, match="aware"):
        fake.now = datetime(2024, 7, 1, 10, 7)
    fake.now = datetime(2024, 7, 1, 14, 7, tzinfo=ZoneInfo("UTC"))
    assert fake.now == at(ORDINARY, 10, 7, EASTERN)


# -- ISO-NE ---------------------------------------------------------------------------------------

STATIC = "static-transform/csv/histRpts"


def isone_get(fake: FakeIsone, path: str, **headers: str) -> httpx.Response:
    return httpx.get(f"{fake.base_url}/{STATIC}/{path}", headers=headers, timeout=10)


def records(body: bytes) -> tuple[list[dict[str, str]], int]:
    """The D rows of an ISO Express record file, keyed by the first H line, and the T count."""
    lines = list(csv.reader(io.StringIO(body.decode())))
    header = next(line[1:] for line in lines if line[0] == "H")
    rows = [dict(zip(header, line[1:], strict=True)) for line in lines if line[0] == "D"]
    (trailer,) = [line[1] for line in lines if line[0] == "T"]
    return rows, int(trailer.removesuffix(" lines"))


@DAYS
def test_isone_five_minute_block_holds_the_intervals_ended_by_now(day):
    path = f"5min-rt-prelim/lmp_5min_{day:%Y%m%d}_08-12.csv"
    with FakeIsone(now=at(day, 10, 7, EASTERN)) as fake:
        morning = isone_get(fake, path)
        fake.now = at(day, 10, 12, EASTERN)
        later = isone_get(fake, path)
    rows, trailer = records(morning.content)
    later_rows, later_trailer = records(later.content)
    locations = len({row["Location ID"] for row in rows})
    starts = sorted({row["Local Time"] for row in rows})
    # ISO-NE stamps the interval start: the interval ending 10:05 starts at 10:00.
    assert (starts[0], starts[-1], len(starts)) == ("08:00:00", "10:00:00", 25)
    assert trailer == len(rows)
    assert later_trailer == len(later_rows) == len(rows) + locations
    assert later_rows[: len(rows)] == rows
    assert {row["Local Time"] for row in later_rows[len(rows) :]} == {"10:05:00"}


def test_isone_files_of_blocks_and_days_not_begun_are_missing():
    with FakeIsone(now=at(ORDINARY, 10, 7, EASTERN)) as fake:
        statuses = [
            isone_get(fake, path).status_code
            for path in (
                "5min-rt-prelim/lmp_5min_20240701_12-16.csv",
                "5min-rt-prelim/lmp_5min_20240702_00-04.csv",
                "rt-lmp/lmp_rt_prelim_20240702.csv",
                "rt-lmp/lmp_rt_final_20240701.csv",
            )
        ]
    assert statuses == [404, 404, 404, 404]


def test_isone_fall_back_first_block_counts_the_repeated_hour():
    path = "5min-rt-prelim/lmp_5min_20241103_00-04.csv"
    # 01:30 EST is the second 01:30 of the day: 2 h 30 min of intervals have ended.
    now = datetime(2024, 11, 3, 6, 30, tzinfo=ZoneInfo("UTC"))
    with FakeIsone(now=now) as fake:
        rows, trailer = records(isone_get(fake, path).content)
    hub = [row["Local Time"] for row in rows if row["Location ID"] == "4000"]
    assert len(hub) == trailer // len({row["Location ID"] for row in rows}) == 30
    assert hub[-1] == "01:25:00"
    assert hub.count("01:00:00") == 2


def test_isone_hourly_prelim_grows_by_hour_and_final_waits_for_the_whole_day():
    with FakeIsone(now=at(FALL_BACK, 10, 7, EASTERN)) as fake:
        prelim, trailer = records(isone_get(fake, "rt-lmp/lmp_rt_prelim_20241103.csv").content)
        fake.now = at(date(2024, 11, 4), 0, 0, EASTERN)
        final = isone_get(fake, "rt-lmp/lmp_rt_final_20241103.csv")
    hours = [row["Hour Ending"] for row in prelim if row["Location ID"] == "4000"]
    assert hours == ["01", "02", "02X", "03", "04", "05", "06", "07", "08", "09", "10"]
    assert trailer == len(prelim)
    assert final.status_code == 200
    assert len([r for r in records(final.content)[0] if r["Location ID"] == "4000"]) == 25


def test_isone_day_ahead_file_appears_at_13_30_new_york_the_day_before():
    path = "da-lmp/WW_DALMP_ISO_20240702.csv"
    with FakeIsone(now=at(ORDINARY, 13, 29, EASTERN)) as fake:
        early = isone_get(fake, path).status_code
        fake.now = at(ORDINARY, 13, 30, EASTERN)
        published = isone_get(fake, path)
    assert early == 404
    assert published.status_code == 200
    hours = {row["Hour Ending"] for row in records(published.content)[0]}
    assert len(hours) == 24


def test_isone_genfuelmix_holds_the_snapshots_of_ended_intervals():
    def fuel_mix(fake: FakeIsone, day: date) -> httpx.Response:
        url = f"{fake.webservices_base_url}/genfuelmix/day/{day:%Y%m%d}.json"
        return httpx.get(url, auth=(fake.username, fake.password), timeout=10)

    def entries(response: httpx.Response) -> list[dict]:
        return json.loads(response.content)["GenFuelMixes"]["GenFuelMix"]

    with FakeIsone() as fake:
        whole = entries(fuel_mix(fake, ORDINARY))
        fake.now = at(ORDINARY, 10, 7, EASTERN)
        morning = entries(fuel_mix(fake, ORDINARY))
        future = fuel_mix(fake, date(2024, 7, 2))
    ended = [
        e for e in whole if datetime.fromisoformat(e["BeginDate"]) < at(ORDINARY, 10, 5, EASTERN)
    ]
    assert morning == ended
    assert 0 < len(morning) < len(whole)
    assert json.loads(future.content) == {"GenFuelMixes": ""}


def test_isone_static_csv_answers_a_suffix_range_with_its_tail():
    path = "5min-rt-prelim/lmp_5min_20240701_08-12.csv"
    with FakeIsone(now=at(ORDINARY, 10, 7, EASTERN)) as fake:
        whole = isone_get(fake, path).content
        tail = isone_get(fake, path, Range="bytes=-120")
        (_, entry) = fake.requests
    size = len(whole)
    assert tail.status_code == 206
    assert tail.content == whole[-120:]
    assert tail.content.endswith(f'"T","{records(whole)[1]} lines"\r\n'.encode())
    assert tail.headers["Content-Range"] == f"bytes {size - 120}-{size - 1}/{size}"
    assert tail.headers["Accept-Ranges"] == "bytes"
    assert (entry.range, entry.status) == ("bytes=-120", 206)


@DAYS
def test_isone_without_clock_serves_every_block_whole(day):
    with FakeIsone() as fake:
        rows, _ = records(
            isone_get(fake, f"5min-rt-prelim/lmp_5min_{day:%Y%m%d}_00-04.csv").content
        )
    hub = [row for row in rows if row["Location ID"] == "4000"]
    assert len(hub) == (60 if day == FALL_BACK else 48)


# -- CAISO OASIS ----------------------------------------------------------------------------------

NODE = "TH_NP15_GEN-APND"


def oasis_get(fake: FakeOasis, queryname: str, day: date, **selection: str) -> bytes:
    start, end = market_day_bounds("America/Los_Angeles", day)
    return oasis_send(fake, oasis_params(queryname, start, end, **selection))


def oasis_send(fake: FakeOasis, params: list[tuple[str, str]]) -> bytes:
    response = httpx.get(f"{fake.base_url}/SingleZip", params=params, timeout=10)
    assert response.status_code == 200
    return response.content


def sld_fcst_params(run: str, day: date) -> list[tuple[str, str]]:
    start, end = market_day_bounds("America/Los_Angeles", day)
    window = [
        (k, f"{t:%Y%m%dT%H:%M}-0000") for k, t in (("startdatetime", start), ("enddatetime", end))
    ]
    return [
        ("resultformat", "6"),
        ("queryname", "SLD_FCST"),
        ("version", "1"),
        ("market_run_id", run),
        *window,
    ]


def oasis_member(body: bytes) -> tuple[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        (name,) = archive.namelist()
        return name, archive.read(name)


def interval_starts(body: bytes) -> list[str]:
    """Distinct INTERVALSTARTTIME_GMT of an OASIS data ZIP, sorted."""
    name, content = oasis_member(body)
    assert name.endswith(".csv"), name
    rows = pl.read_csv(content, infer_schema=False)
    return sorted(set(rows["INTERVALSTARTTIME_GMT"]))


def error_code(body: bytes) -> str:
    name, content = oasis_member(body)
    assert name == "INVALID_REQUEST.xml"
    return next(
        e.text for e in ElementTree.fromstring(content).iter() if e.tag.endswith("ERR_CODE")
    )


def gmt(instant: datetime) -> str:
    return f"{instant.astimezone(ZoneInfo('UTC')):%Y-%m-%dT%H:%M:%S}-00:00"


@DAYS
def test_oasis_real_time_prices_hold_the_intervals_ended_by_now(day):
    with FakeOasis(now=at(day, 10, 7, PACIFIC)) as fake:
        morning = interval_starts(oasis_get(fake, "PRC_INTVL_LMP", day, node=NODE))
        fake.now = at(day, 10, 12, PACIFIC)
        later = interval_starts(oasis_get(fake, "PRC_INTVL_LMP", day, node=NODE))
    assert len(morning) == ENDED_BY_1005[day]
    assert morning[-1] == gmt(at(day, 10, 0, PACIFIC))  # the interval ending 10:05
    assert later == [*morning, gmt(at(day, 10, 5, PACIFIC))]


def test_oasis_answers_no_data_for_a_selection_wholly_in_the_future():
    with FakeOasis(now=at(ORDINARY, 10, 7, PACIFIC)) as fake:
        future = oasis_get(fake, "PRC_INTVL_LMP", date(2024, 7, 2), node=NODE)
        rtpd = interval_starts(oasis_get(fake, "PRC_RTPD_LMP", ORDINARY, node=NODE))
    assert error_code(future) == "1000"
    assert rtpd[-1] == gmt(at(ORDINARY, 9, 45, PACIFIC))  # 15-minute: ended at 10:00


def test_oasis_day_ahead_is_published_at_13_pacific_the_day_before():
    tomorrow = date(2024, 7, 2)
    with FakeOasis(now=at(ORDINARY, 12, 59, PACIFIC)) as fake:
        early = [oasis_get(fake, q, tomorrow) for q in ("PRC_LMP", "PRC_AS")]
        forecast_early = oasis_send(fake, sld_fcst_params("DAM", tomorrow))
        fake.now = at(ORDINARY, 13, 0, PACIFIC)
        week_ahead = oasis_send(fake, sld_fcst_params("7DA", date(2024, 7, 8)))
        eight_days_ahead = oasis_send(fake, sld_fcst_params("7DA", date(2024, 7, 9)))
        lmp = oasis_get(fake, "PRC_LMP", tomorrow)
        reserves = oasis_get(fake, "PRC_AS", tomorrow)
        forecast = oasis_send(fake, sld_fcst_params("DAM", tomorrow))
    assert [error_code(body) for body in [*early, forecast_early]] == ["1000"] * 3
    assert len(interval_starts(week_ahead)) == 24  # 7DA: published on 1 July for 8 July
    assert error_code(eight_days_ahead) == "1000"
    assert len(interval_starts(lmp)) == len(interval_starts(reserves)) == 24
    assert len(interval_starts(forecast)) == 24


def test_oasis_day_ahead_window_over_two_days_stops_at_the_unpublished_one():
    with FakeOasis(now=at(ORDINARY, 10, 7, PACIFIC)) as fake:
        start = market_day_bounds("America/Los_Angeles", ORDINARY)[0]
        params = oasis_params("PRC_LMP", start, start + timedelta(days=2))
        body = httpx.get(f"{fake.base_url}/SingleZip", params=params, timeout=10).content
    starts = interval_starts(body)
    assert (len(starts), starts[-1]) == (24, gmt(at(ORDINARY, 23, 0, PACIFIC)))


@DAYS
def test_oasis_without_clock_serves_the_whole_day(day):
    with FakeOasis() as fake:
        starts = interval_starts(oasis_get(fake, "PRC_INTVL_LMP", day, node=NODE))
    assert len(starts) == WHOLE_DAY[day]
