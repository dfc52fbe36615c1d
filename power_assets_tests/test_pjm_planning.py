"""PJM's planning and answers: which feed a day is asked from, the archive rules (no filters but
dates, one UTC year per query), the verified/unverified choice for 5-minute LMPs, the pager, and
PJM's refusals worded into what to do. Requests go to the fake Data Miner 2 on loopback; the
expected query strings are written out as PJM documents them."""

import json
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from power_assets.accounts import IsoAccounts
from power_assets.demo.pjm_server import FakeDataMiner
from power_assets.errors import (
    DownloadError,
    IsoErrorResponse,
    IsoNoDataError,
    MalformedFileError,
    PagesChangedError,
)
from power_assets.io.http import IsoHttpClient
from power_assets.isos import get_iso
from power_assets.isos.base import DownloadRequest
from power_assets.isos.pjm import KEY_HEADER, SUBSCRIPTION_KEY_ENV

PJM = get_iso("PJM")
KEY = "planning-test-key"
TODAY = date(2026, 12, 6)


def _query(request: DownloadRequest) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(request.url("https://api.pjm.com/api/v1")).query))


def _no_listing(request: DownloadRequest) -> bytes:
    raise AssertionError(f"no listing expected, got {request.path}")


@pytest.fixture
def client(tmp_path):
    with FakeDataMiner(subscription_key=KEY, now=datetime(2026, 12, 6, 12, tzinfo=UTC)) as fake:
        http = IsoHttpClient(
            base_urls={"PJM": fake.base_url}, min_spacing_s={"PJM": 0.0}, max_retries=1,
            backoff_base_s=0.01, lock_dir=str(tmp_path / "locks"),
            accounts=IsoAccounts(pjm_subscription_key=KEY),
        )  # fmt: skip
        try:
            yield fake, http
        finally:
            http.close()


def test_a_recent_day_is_asked_with_fields_and_an_inclusive_ept_day():
    (request,) = PJM.plan_day("lmp_da", date(2026, 11, 1), _no_listing, TODAY)
    assert request.path == "da_hrl_lmps" and request.needs_auth
    query = _query(request)
    assert query["datetime_beginning_ept"] == "11/01/2026 00:00to11/01/2026 23:59"
    assert query["rowCount"] == "50000" and query["startRow"] == "1"
    assert query["fields"].split(",") == [
        "datetime_beginning_utc", "datetime_beginning_ept", "pnode_id", "pnode_name", "type",
        "system_energy_price_da", "total_lmp_da", "congestion_price_da", "marginal_loss_price_da",
        "row_is_current", "version_nbr",
    ]  # fmt: skip
    # 2026-11-01 is the fall-back day: 25 hours from 04:00 UTC.
    assert (request.window_start, request.window_end) == (
        datetime(2026, 11, 1, 4, tzinfo=UTC), datetime(2026, 11, 2, 5, tzinfo=UTC)
    )  # fmt: skip


@pytest.mark.parametrize(
    ("dataset", "day", "archived"),
    [
        ("lmp_da", TODAY - timedelta(days=731), False),
        ("lmp_da", TODAY - timedelta(days=732), True),
        ("lmp_rt_hourly", TODAY - timedelta(days=800), True),
        ("lmp_rt5", TODAY - timedelta(days=187), True),
        ("lmp_rt_hourly", TODAY - timedelta(days=731), False),
    ],
)
def test_archived_days_carry_only_the_date_filter(dataset, day, archived):
    requests = PJM.plan_day(dataset, day, _no_listing, TODAY)
    for request in requests:
        query = _query(request)
        filters = set(query) - {"rowCount", "startRow"}
        if archived:
            assert filters == {"datetime_beginning_ept"}, query
        else:
            assert "fields" in query, query


def test_only_lmp_feeds_are_ever_archived():
    from power_assets.isos.pjm.feeds import FEEDS, is_archived

    old = TODAY - timedelta(days=2000)
    archived = {name for name, feed in FEEDS.items() if is_archived(feed, old, TODAY)}
    assert archived == {"da_hrl_lmps", "rt_hrl_lmps", "rt_fivemin_hrl_lmps"}


def test_an_archived_december_31_is_asked_in_two_utc_years_that_pjm_accepts(client):
    _fake, http = client
    day = date(2022, 12, 31)
    requests = PJM.plan_day("lmp_da", day, _no_listing, TODAY)
    assert [_query(r)["datetime_beginning_ept"] for r in requests] == [
        "12/31/2022 00:00to12/31/2022 18:59",  # 05:00-23:59 UTC on Dec 31
        "12/31/2022 19:00to12/31/2022 23:59",  # 00:00-04:59 UTC on Jan 1
    ]
    assert len({r.file_name for r in requests}) == 2
    for request in requests:
        body = json.loads(http.fetch(PJM, request).content)
        years = {item["datetime_beginning_utc"][:4] for item in body["items"]}
        assert len(years) == 1
    # Asked whole, the same day crosses the UTC New Year, which archived queries may not.
    whole = PJM.plan_day("lmp_da", day, _no_listing, date(2023, 6, 1))[0]
    assert "fields" in _query(whole)
    archived_whole = DownloadRequest(
        "PJM", "lmp_da", "da_hrl_lmps",
        (("rowCount", "50000"), ("startRow", "1"),
         ("datetime_beginning_ept", "12/31/2022 00:00to12/31/2022 23:59")),
        "x.zip", requests[0].window_start, requests[1].window_end, needs_auth=True,
    )  # fmt: skip
    with pytest.raises(DownloadError, match="HTTP 400"):
        http.fetch(PJM, archived_whole)


def test_pjms_archive_refusals_are_worded_into_what_to_do(client):
    fake, http = client
    archived = date(2023, 3, 1)
    (request,) = PJM.plan_day("lmp_da", archived, _no_listing, TODAY)
    with_node = DownloadRequest(
        **{**request.__dict__, "params": (*request.params, ("pnode_id", "51217"))}
    )
    with pytest.raises(DownloadError) as refused:
        http.fetch(PJM, with_node)
    assert "PJM has archived this data" in str(refused.value)
    assert "invalid attribute(s) for archived data" in str(refused.value)
    cutoff = fake.today - timedelta(days=731)
    spanning = DownloadRequest(**{**request.__dict__, "params": (
        ("rowCount", "50000"), ("startRow", "1"),
        ("datetime_beginning_ept", f"{cutoff - timedelta(days=2):%m/%d/%Y} 00:00to{cutoff + timedelta(days=2):%m/%d/%Y} 23:59"),
    )})  # fmt: skip
    with pytest.raises(DownloadError, match="straddles PJM's archive cutoff"):
        http.fetch(PJM, spanning)


def test_a_wrong_key_is_refused_naming_the_variable_never_the_key(tmp_path):
    with FakeDataMiner(subscription_key=KEY) as fake:
        http = IsoHttpClient(
            base_urls={"PJM": fake.base_url}, min_spacing_s={"PJM": 0.0}, max_retries=0,
            lock_dir=str(tmp_path), accounts=IsoAccounts(pjm_subscription_key="sekrit-wrong"),
        )  # fmt: skip
        (request,) = PJM.plan_day("lmp_da", date(2026, 11, 2), _no_listing, TODAY)
        with pytest.raises(DownloadError) as refused:
            http.fetch(PJM, request)
        http.close()
    message = str(refused.value)
    assert "HTTP 401" in message and SUBSCRIPTION_KEY_ENV in message
    assert "sekrit-wrong" not in message
    assert [r.key_present for r in fake.requests] == [True]


def test_the_key_goes_in_pjms_header_and_a_missing_key_names_the_variable():
    assert PJM.auth_headers(None, None, {"subscription_key": "abc"}) == {KEY_HEADER: "abc"}
    assert KEY_HEADER == "Ocp-Apim-Subscription-Key"
    assert PJM.auth_headers(None, None, {}) == {}
    reason = PJM.unavailable_reason("lmp_da", {})
    assert SUBSCRIPTION_KEY_ENV in reason
    assert PJM.unavailable_reason("lmp_da", {"subscription_key": "abc"}) is None


def test_five_minute_prices_come_verified_once_pjm_holds_the_days_last_interval(client):
    _fake, http = client
    listed: list[dict[str, str]] = []

    def lister(request: DownloadRequest) -> bytes:
        listed.append(_query(request))
        return http.fetch(PJM, request).content

    # The fake posts verified days at 10:00 EPT the next day: at 07:00 EST on Dec 6 (its now),
    # Dec 4 is verified, Dec 5 is not.
    verified = PJM.plan_day("lmp_rt5", date(2026, 12, 4), lister, TODAY)
    assert [r.path for r in verified] == ["rt_fivemin_hrl_lmps"]
    assert listed[-1]["rowCount"] == "1"
    assert listed[-1]["datetime_beginning_ept"] == "12/04/2026 23:55to12/04/2026 23:59"
    unverified = PJM.plan_day("lmp_rt5", date(2026, 12, 5), lister, TODAY)
    assert {r.path for r in unverified} == {"rt_unverified_fivemin_lmps"}
    assert len(unverified) == 24  # hour by hour, each standing 15 minutes after its end
    assert all(r.final_after == r.window_end + timedelta(minutes=15) for r in unverified)
    # Today is never verified: no listing is made for it.
    before = len(listed)
    assert len(PJM.plan_day("lmp_rt5", TODAY, lister, TODAY)) == 24
    assert len(listed) == before


def test_past_days_come_from_history_feeds_and_today_from_current_ones():
    past, now = date(2026, 12, 1), TODAY
    paths = {ds: PJM.plan_day(ds, past, _no_listing, TODAY)[0].path
             for ds in ("load", "load_forecast", "fuel_mix")}  # fmt: skip
    assert paths == {"load": "hrl_load_metered", "load_forecast": "load_frcstd_hist",
                     "fuel_mix": "gen_by_fuel"}  # fmt: skip
    assert PJM.plan_day("load", now, _no_listing, TODAY)[0].path == "inst_load"
    forecast = PJM.plan_day("load_forecast", now, _no_listing, TODAY)[0]
    assert forecast.path == "load_frcstd_7_day"
    assert (
        _query(forecast)["forecast_datetime_beginning_ept"] == "12/06/2026 00:00to12/06/2026 23:59"
    )


def _page(start: int, count: int, total: int) -> tuple[DownloadRequest, bytes]:
    request = DownloadRequest(
        "PJM", "lmp_da", "da_hrl_lmps", (("rowCount", str(count)), ("startRow", str(start))),
        "x.zip", datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC),
    )  # fmt: skip
    rows = max(0, min(count, total - start + 1))
    body = {"links": [], "items": [{"n": i} for i in range(rows)], "totalRows": total}
    return request, json.dumps(body).encode()


def test_the_pager_follows_start_row_until_the_total_and_refuses_a_moving_total():
    pager = PJM.pager(None)
    request, body = _page(1, 100, 250)
    second = pager.next_page(request, body, "p1")
    assert dict(second.params)["startRow"] == "101"
    third = pager.next_page(*_page(101, 100, 250), "p2")
    assert dict(third.params)["startRow"] == "201"
    assert pager.next_page(*_page(201, 100, 250), "p3") is None
    moving = PJM.pager(None)
    moving.next_page(*_page(1, 100, 250), "p1")
    with pytest.raises(PagesChangedError, match="totalRows went from 250 to 260"):
        moving.next_page(*_page(101, 100, 260), "p2")
    short = PJM.pager(None)
    request, _ = _page(1, 100, 250)
    with pytest.raises(PagesChangedError, match="holds 99 rows, not 100"):
        short.next_page(request, json.dumps({"items": [{}] * 99, "totalRows": 250}).encode(), "p")
    with pytest.raises(MalformedFileError, match="not a Data Miner 2 page"):
        PJM.pager(None).next_page(request, b"<html>", "p")
    assert PJM.pager(None).member_name(3) == "page_00003.json"


def test_answers_are_told_apart_data_no_data_errors_and_html():
    big = b'{"links":[],"items":[' + b'{"a":1},' * 200_000 + b'{"a":1}],"totalRows":200001}'
    PJM.check_payload(big, "big")  # data: returns
    with pytest.raises(IsoNoDataError):
        PJM.check_payload(b'{"links":[],"items":[],"searchSpecification":{},"totalRows":0}', "s")
    with pytest.raises(IsoErrorResponse, match="invalid attribute"):
        PJM.check_payload(
            b'{"errors":[{"field":"","message":"The API request contains invalid attribute(s) '
            b'for archived data","detail":""}]}', "s",
        )  # fmt: skip
    with pytest.raises(IsoNoDataError):
        PJM.check_payload(b'{"errors":[{"message":"No data found"}]}', "s")
    with pytest.raises(MalformedFileError, match="HTML"):
        PJM.check_payload(b"<html><body>Service Unavailable</body></html>", "s")


def test_the_last_page_ends_exactly_on_the_total():
    pager = PJM.pager(None)
    assert dict(pager.next_page(*_page(1, 100, 200), "p1").params)["startRow"] == "101"
    assert pager.next_page(*_page(101, 100, 200), "p2") is None


def test_verified_and_metered_answers_are_fetched_again_while_pjm_may_still_post():
    day = date(2026, 11, 20)
    end = PJM.market_day_bounds(day)[1]
    settles = {
        ds: PJM.plan_day(ds, day, _no_listing, TODAY)[0].final_after
        for ds in ("lmp_da", "lmp_rt_hourly", "as_rt", "load", "fuel_mix", "load_forecast")
    }
    assert settles == {
        "lmp_da": None,  # final at the end of its window
        "lmp_rt_hourly": end + timedelta(days=4),
        "as_rt": end + timedelta(days=4),
        "load": end + timedelta(days=4),
        "fuel_mix": end + timedelta(hours=3),
        "load_forecast": end + timedelta(days=1),
    }


def test_real_time_reserve_prices_were_hourly_until_2022_08_31():
    before, after = (
        PJM.dataset_on("as_rt", date(2022, 8, 31)),
        PJM.dataset_on("as_rt", date(2022, 9, 1)),
    )
    assert (before.interval, before.market) == (timedelta(hours=1), "RTH")
    assert (after.interval, after.market) == (timedelta(minutes=5), "RT5M")
    assert PJM.dataset_on("lmp_da", date(2020, 1, 1)) == PJM.dataset("lmp_da")


def _not_verified(request: DownloadRequest) -> bytes:
    raise IsoNoDataError(request.path, "no-data", "totalRows 0")


@pytest.mark.parametrize("day", [date(2024, 3, 10), date(2024, 11, 3), date(2024, 12, 31)])
@pytest.mark.parametrize("age", [0, 1, 200, 800])
def test_every_request_of_a_day_is_kept_under_its_own_name(day, age):
    # The fall-back day's first and last hours both start at 04:00 UTC (EDT, then EST).
    for dataset in PJM.datasets:
        requests = PJM.plan_day(dataset, day, _not_verified, day + timedelta(days=age))
        names = [r.file_name for r in requests]
        assert len(names) == len(set(names)), (dataset, names)
        start, end = PJM.market_day_bounds(day)
        assert min(r.window_start for r in requests) == start
        assert max(r.window_end for r in requests) == end


def test_every_feed_planned_for_a_dataset_is_one_its_parser_reads():
    from power_assets.isos.pjm.feeds import CURRENT_FEEDS, HISTORY_FEEDS
    from power_assets.isos.pjm.parsing_tables import DATASET_FEEDS

    for dataset in PJM.datasets:
        assert {HISTORY_FEEDS[dataset], CURRENT_FEEDS[dataset]} <= set(DATASET_FEEDS[dataset])
