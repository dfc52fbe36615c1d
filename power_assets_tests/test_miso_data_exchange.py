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
        "?preliminaryFinal=Preliminary&timeResolution=5min&pageNumber=1"
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


def test_preliminary_until_the_day_is_six_days_old_then_final():
    # Real-time results are final 3-5 days after the day: Preliminary until the day's end plus
    # 5 days (not final before then, so a later run asks again), Final from then on.
    keyed, day = {"pricing_key": "k"}, date(2024, 11, 3)
    (early,) = MISO.plan_day("lmp_rt5", day, _never, date(2024, 11, 8), keyed)
    assert dict(early.params)["preliminaryFinal"] == "Preliminary"
    assert early.final_from == datetime(2024, 11, 9, 5, tzinfo=UTC)  # 2024-11-09 00:00 EST
    (late,) = MISO.plan_day("lmp_rt5", day, _never, date(2024, 11, 9), keyed)
    assert dict(late.params)["preliminaryFinal"] == "Final"
    assert late.final_from == late.window_end == _midnight(date(2024, 11, 4))
    assert late.file_name != early.file_name  # both versions are kept apart


def _literal_page(rows: list[tuple[str, str, str, float]]) -> bytes:
    """A page in Data Exchange's published layout, written out: (start, version, node, lmp)."""
    items = ",".join(
        f'{{"timeInterval": {{"resolution": "5min", "start": "{start}", "end": "x", '
        f'"value": "{start}"}}, "preliminaryFinal": "{version}", "node": "{node}", '
        f'"lmp": {lmp}, "mcc": 1.0, "mec": {lmp - 1.5}, "mlc": 0.5}}'
        for start, version, node, lmp in rows
    )
    page = (
        f'"page": {{"pageNumber": 1, "pageSize": 5000, "totalElements": {len(rows)}, '
        '"totalPages": 1, "lastPage": true}'
    )
    return ('{"data": [' + items + "], " + page + "}").encode()


def _whole_day(version: str, node: str = "ALTW.WELLS1") -> list[tuple[str, str, str, float]]:
    day = datetime(2024, 11, 3)
    return [(f"{day + timedelta(minutes=5 * k):%Y-%m-%d %H:%M:%S}.000", version, node, 20.0 + k)
            for k in range(288)]  # fmt: skip


def test_preliminary_rows_are_their_own_market_and_versions_are_never_mixed(tmp_path):
    path = tmp_path / "page_00001.json"
    path.write_bytes(_literal_page(_whole_day("Preliminary")))
    frame = parse_files("MISO", "lmp_rt5", [path])
    assert set(frame["market"]) == {"RT5M_PRELIM"} and frame.height == 288
    path.write_bytes(_literal_page(_whole_day("Final")))
    assert set(parse_files("MISO", "lmp_rt5", [path])["market"]) == {"RT5M"}
    # One answer holding both versions of the same intervals: refused, never counted twice.
    path.write_bytes(_literal_page(_whole_day("Final") + _whole_day("Preliminary")[:3]))
    with pytest.raises(MalformedFileError, match=r"page_00001\.json.*Final, Preliminary"):
        parse_files("MISO", "lmp_rt5", [path])


def test_rows_of_the_other_version_than_asked_are_refused(tmp_path):
    # Kept as the pager keeps them: the pages of one answer in a ZIP named for the request.
    import zipfile

    (request,) = MISO.plan_day(
        "lmp_rt5", date(2024, 11, 3), _never, date(2024, 11, 10), {"pricing_key": "k"}
    )
    assert dict(request.params)["preliminaryFinal"] == "Final"
    path = tmp_path / request.file_name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("page_00001.json", _literal_page(_whole_day("Preliminary")))
    with pytest.raises(MalformedFileError, match="Preliminary where Final was asked for"):
        parse_files("MISO", "lmp_rt5", [path])


def test_a_node_and_interval_twice_in_an_answer_is_refused(tmp_path):
    rows = _whole_day("Final")
    path = tmp_path / "page_00001.json"
    path.write_bytes(_literal_page([*rows, rows[40]]))
    with pytest.raises(
        MalformedFileError,
        match=r"data\[40\]: node 'ALTW.WELLS1' at "
        r"2024-11-03 03:20:00.000 appears more than once",
    ):
        parse_files("MISO", "lmp_rt5", [path])


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
