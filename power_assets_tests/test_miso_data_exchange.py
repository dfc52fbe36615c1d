"""MISO Data Exchange for 5-minute LMPs with the optional pricing key: planning (only the days
between yesterday and the weekly archive, only with the key), pages, both interval labellings
(end before 2026-05-06, start since) on DST days, and the key kept out of URLs."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from power_assets.demo import miso_fixtures as gen
from power_assets.errors import IsoNoDataError, MalformedFileError, PagesChangedError
from power_assets.isos import get_iso
from power_assets.parsing import parse_files

MISO = get_iso("MISO")
KEY_ENV = "POWER_ASSETS_MISO_PRICING_KEY"  # written out: the name users set
DST_DAYS = (date(2024, 3, 10), date(2024, 11, 3))
BEFORE, AFTER = date(2026, 5, 5), date(2026, 5, 6)  # serving dates either side of the relabel


def _never(request):
    raise AssertionError(f"no listing expected for {request.path}")


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 5, tzinfo=UTC)  # 00:00 EST


def _pages(tmp_path, rows: list[dict], size: int) -> list:
    total = -(-len(rows) // size)
    paths = []
    for number in range(1, total + 1):
        path = tmp_path / f"page_{number:05d}.json"
        path.write_bytes(gen.exchange_page(rows, number, size))
        paths.append(path)
    return paths


def test_with_the_key_the_days_before_the_weekly_archive_come_from_data_exchange():
    today = date(2024, 11, 6)
    keyed = {"pricing_key": "k-123"}
    (request,) = MISO.plan_day("lmp_rt5", date(2024, 11, 3), _never, today, keyed)
    assert request.endpoint == "data_exchange" and request.needs_auth
    assert request.url("https://apim.misoenergy.org/pricing/v1") == (
        "https://apim.misoenergy.org/pricing/v1/real-time/2024-11-03/lmp-expost"
        "?timeResolution=5min&pageNumber=1"
    )
    assert "k-123" not in repr(request)
    assert (request.window_start, request.window_end) == (
        _midnight(date(2024, 11, 3)), _midnight(date(2024, 11, 4)),
    )  # fmt: skip
    # Yesterday stays on the public API, a day whose weekly archive is out on the archive.
    (yesterday,) = MISO.plan_day("lmp_rt5", today - timedelta(days=1), _never, today, keyed)
    assert yesterday.path.endswith("/Previous")
    (weekly,) = MISO.plan_day("lmp_rt5", date(2024, 10, 20), _never, today, keyed)
    assert weekly.path == "20241028_5MIN_LMP.zip"
    # Without the key the gap day is not offered, and the message names the variable.
    with pytest.raises(IsoNoDataError, match=KEY_ENV):
        MISO.plan_day("lmp_rt5", date(2024, 11, 3), _never, today)
    assert MISO.unavailable_reason("lmp_rt5") is None  # the key is optional


def test_the_key_travels_in_the_header_and_a_refusal_names_the_variable():
    (request,) = MISO.plan_day(
        "lmp_rt5", date(2024, 11, 3), _never, date(2024, 11, 6), {"pricing_key": "k-123"}
    )
    assert MISO.auth_headers(request, None, {"pricing_key": "k-123"}) == {
        "Ocp-Apim-Subscription-Key": "k-123"
    }
    said = MISO.explain_refusal(401, '{"statusCode": 401, "message": "Access denied"}')
    assert KEY_ENV in said and "k-123" not in said
    assert MISO.pager(request) is not None
    assert (
        MISO.pager(MISO.plan_day("lmp_da", date(2024, 11, 3), _never, date(2024, 11, 6))[0]) is None
    )


def test_the_pager_follows_page_numbers_and_refuses_a_moving_total():
    (request,) = MISO.plan_day(
        "lmp_rt5", date(2024, 3, 10), _never, date(2024, 3, 13), {"pricing_key": "k"}
    )
    rows = gen.exchange_rows(date(2024, 3, 10), BEFORE)
    pager = MISO.pager(request)
    second = pager.next_page(request, gen.exchange_page(rows, 1, 1000), "p1")
    assert dict(second.params)["pageNumber"] == "2"
    assert pager.next_page(second, gen.exchange_page(rows, 2, 1000), "p2") is None
    moved = MISO.pager(request)
    moved.next_page(request, gen.exchange_page(rows, 1, 1000), "p1")
    with pytest.raises(PagesChangedError, match="totalElements"):
        moved.next_page(second, gen.exchange_page(rows[:-5], 2, 1000), "p2")


@pytest.mark.parametrize("served", [BEFORE, AFTER])
@pytest.mark.parametrize("day", DST_DAYS)
def test_both_labellings_give_288_interval_starts_on_dst_days(tmp_path, day, served):
    rows = gen.exchange_rows(day, served)
    first = json.loads(gen.exchange_page(rows, 1, 10))["data"][0]["timeInterval"]["start"]
    assert first == f"{day} 00:{'05' if served == BEFORE else '00'}:00.000"  # as served
    frame = parse_files("MISO", "lmp_rt5", _pages(tmp_path, rows, 500))
    starts = sorted(set(frame["interval_start"]))
    assert starts == [_midnight(day) + timedelta(minutes=5 * k) for k in range(288)]
    assert frame.height == 288 * len(gen.NODES) and set(frame["market"]) == {"RT5M"}
    at = _midnight(day) + timedelta(hours=2, minutes=35)  # 02:35 EST
    (row,) = frame.filter(location="INDIANA.HUB", interval_start=at).iter_rows(named=True)
    want = gen.five_minute_lmp("INDIANA.HUB", at)
    assert (row["lmp"], row["congestion"], row["loss"]) == (want["LMP"], want["MCC"], want["MLC"])
    assert row["energy"] == round(want["LMP"] - want["MCC"] - want["MLC"], 2)
    assert row["interval_end"] == at + timedelta(minutes=5)


def test_rows_that_show_neither_labelling_are_refused(tmp_path):
    rows = gen.exchange_rows(DST_DAYS[0], AFTER)
    middle = rows[len(gen.NODES) * 10 : len(gen.NODES) * 20]  # 00:50 .. 01:35, no midnight
    path = tmp_path / "page_00001.json"
    path.write_bytes(gen.exchange_page(middle, 1, 1000))
    with pytest.raises(MalformedFileError, match=r"page_00001\.json.*2026-05-06"):
        parse_files("MISO", "lmp_rt5", [path])


def test_a_bad_number_names_the_page_and_row(tmp_path):
    rows = gen.exchange_rows(DST_DAYS[1], AFTER)
    rows[3] = {**rows[3], "lmp": "n/a"}
    path = tmp_path / "page_00001.json"
    path.write_bytes(gen.exchange_page(rows, 1, 5000))
    with pytest.raises(MalformedFileError, match=r"page_00001\.json data\[3\]: 'lmp'"):
        parse_files("MISO", "lmp_rt5", [path])
