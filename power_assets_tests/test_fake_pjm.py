"""Behaviour of the fake PJM Data Miner 2: generated rows in PJM's JSON shape, and the loopback
server's paging, filters, key check, archive rules, publication clock and faults.

Expectations come from the generator's pure value functions or are written out literally (UTC
hours of the DST days, PJM's error texts), not from the server's own code paths."""

import csv
import io
import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from power_assets.demo.pjm_fixtures import (
    COLUMNS,
    HIST_VINTAGES,
    RESERVE_PRODUCTS,
    csv_export,
    fuel_mw,
    fuel_percentage,
    inst_load_mw,
    is_revised,
    lmp_components,
    load_mw,
    pnodes,
    reserve_values,
)
from power_assets.demo.pjm_query import items, page
from power_assets.demo.pjm_server import FakeDataMiner

KEY = "test-key-not-secret"
NOW = datetime(2024, 11, 4, 15, 7, tzinfo=UTC)  # 10:07 EST on Monday 2024-11-04
EPT_DAY = "{:%m/%d/%Y} 00:00to{:%m/%d/%Y} 23:59"


def hours(start: datetime, count: int) -> list[datetime]:
    return [start + timedelta(hours=k) for k in range(count)]


def naive(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%S")


@pytest.fixture
def fake():
    with FakeDataMiner(subscription_key=KEY, now=NOW) as server:
        yield server


@pytest.fixture
def client(fake):
    with httpx.Client(base_url=fake.base_url, headers={"Ocp-Apim-Subscription-Key": KEY}) as c:
        yield c


def get(client: httpx.Client, feed: str, **params) -> dict:
    response = client.get(f"/{feed}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def day_filter(day: datetime) -> str:
    return EPT_DAY.format(day, day)


# -- paging and links ---------------------------------------------------------------------------


def test_paging_returns_every_row_once_and_links_like_pjm(fake, client):
    nodes = pnodes(8)
    body = get(client, "da_hrl_lmps", rowCount=50, startRow=1,
               datetime_beginning_ept="07/01/2024 00:00to07/01/2024 23:59")  # fmt: skip
    expected = set()
    for start in hours(datetime(2024, 7, 1, 4, tzinfo=UTC), 24):  # 00:00 EDT = 04:00 UTC
        for node in nodes:
            versions = (1, 2) if is_revised("da_hrl_lmps", node.pnode_id, start) else (1,)
            expected |= {(naive(start), node.pnode_id, v) for v in versions}
    assert body["totalRows"] == len(expected) > 24 * 8  # some revised pairs
    seen, pages = [], 0
    while True:
        pages += 1
        links = {link["rel"]: link["href"] for link in body["links"]}
        self_query = parse_qsl(urlsplit(links["self"]).query)
        assert [k for k, _ in self_query[:4]] == [
            "RowCount",
            "Order",
            "StartRow",
            "IsActiveMetadata",
        ]
        assert dict(self_query)["StartRow"] == str(1 + 50 * (pages - 1))
        assert links["metadata"] == f"{fake.base_url}/da_hrl_lmps/metadata"
        assert body["searchSpecification"]["startRow"] == 1 + 50 * (pages - 1)
        seen += [
            (i["datetime_beginning_utc"], i["pnode_id"], i["version_nbr"]) for i in body["items"]
        ]
        if "next" not in links:
            break
        assert links["next"].startswith(f"{fake.base_url}/da_hrl_lmps?")
        assert dict(parse_qsl(urlsplit(links["next"]).query))["StartRow"] == str(1 + 50 * pages)
        body = client.get(links["next"]).json()
    assert pages == -(-len(expected) // 50)
    assert len(seen) == len(set(seen)) and set(seen) == expected


def test_links_use_the_host_the_request_came_to_and_the_log_keeps_lower_case_params(fake, client):
    response = client.get("/gen_by_fuel", params={"RowCount": 5, "Fields": "mw"},
                          headers={"Host": "proxy.example:8443"})  # fmt: skip
    hrefs = [link["href"] for link in response.json()["links"]]
    assert all(h.startswith("http://proxy.example:8443/api/v1/gen_by_fuel") for h in hrefs)
    (entry,) = fake.requests
    assert (entry.feed, entry.params, entry.key_present, entry.status) == (
        "gen_by_fuel", {"rowcount": "5", "fields": "mw"}, True, 200)  # fmt: skip
    assert isinstance(entry.time, float)


def test_items_carry_every_column_in_pjm_order_and_the_pure_values(client):
    body = get(client, "da_hrl_lmps", rowCount=500,
               datetime_beginning_ept="07/01/2024 00:00to07/01/2024 23:59")  # fmt: skip
    first = body["items"][0]
    assert list(first) == [
        "datetime_beginning_utc", "datetime_beginning_ept", "pnode_id", "pnode_name", "voltage",
        "equipment", "type", "zone", "system_energy_price_da", "total_lmp_da",
        "congestion_price_da", "marginal_loss_price_da", "row_is_current", "version_nbr",
    ]  # fmt: skip
    assert first["datetime_beginning_utc"] == "2024-07-01T04:00:00"
    assert first["datetime_beginning_ept"] == "2024-07-01T00:00:00"
    for item in body["items"]:
        start = datetime.fromisoformat(item["datetime_beginning_utc"]).replace(tzinfo=UTC)
        values = lmp_components("da_hrl_lmps", item["pnode_id"], start, item["version_nbr"])
        assert {k: item[k] for k in values} == values
        parts = values["system_energy_price_da"] + values["congestion_price_da"]
        assert abs(item["total_lmp_da"] - parts - values["marginal_loss_price_da"]) < 2e-6


def test_hubs_and_zones_are_named_as_pjm_names_them(client):
    body = get(client, "da_hrl_lmps", pnode_id="1;51217;51288;51291", row_is_current="TRUE",
               datetime_beginning_ept="07/01/2024 00:00to07/01/2024 00:00")  # fmt: skip
    names = {(i["pnode_id"], i["pnode_name"], i["type"]) for i in body["items"]}
    assert names == {(1, "PJM-RTO", "ZONE"), (51217, "EASTERN HUB", "HUB"),
                     (51288, "WESTERN HUB", "HUB"), (51291, "AECO", "ZONE")}  # fmt: skip
    assert get(client, "da_hrl_lmps", type="HUB", row_is_current="TRUE",
               datetime_beginning_ept="07/01/2024 00:00")["totalRows"] == 2  # fmt: skip


def test_end_of_a_datetime_filter_is_inclusive_in_both_forms(client):
    for value in ("07/01/2024 00:00to07/01/2024 02:00", "2024-07-01T00:00to2024-07-01T02:00"):
        body = get(client, "rt_hrl_lmps", pnode_id="51217", row_is_current="TRUE",
                   datetime_beginning_ept=value)  # fmt: skip
        stamps = [i["datetime_beginning_ept"] for i in body["items"]]
        assert stamps == ["2024-07-01T00:00:00", "2024-07-01T01:00:00", "2024-07-01T02:00:00"]
    body = get(client, "rt_hrl_lmps", pnode_id="51217", row_is_current="TRUE",
               datetime_beginning_utc="2024-07-01T04:00to2024-07-01T05:00")  # fmt: skip
    assert [i["datetime_beginning_utc"] for i in body["items"]] == [
        "2024-07-01T04:00:00", "2024-07-01T05:00:00"]  # fmt: skip


@pytest.mark.parametrize(
    ("day", "first_utc", "count"),
    [(datetime(2024, 11, 3), datetime(2024, 11, 3, 4, tzinfo=UTC), 25),
     (datetime(2024, 3, 10), datetime(2024, 3, 10, 5, tzinfo=UTC), 23)],
)  # fmt: skip
def test_ept_day_filter_gives_every_hour_of_the_dst_days(client, day, first_utc, count):
    body = get(client, "da_hrl_lmps", row_is_current="TRUE", pnode_id="51288;1", rowCount=100,
               datetime_beginning_ept=day_filter(day))  # fmt: skip
    assert body["totalRows"] == 2 * count
    by_node = [i for i in body["items"] if i["pnode_id"] == 51288]
    assert [i["datetime_beginning_utc"] for i in by_node] == [
        naive(h) for h in hours(first_utc, count)
    ]
    local = [i["datetime_beginning_ept"][11:13] for i in by_node]
    if count == 25:  # 01:00 twice (EDT, then EST), as PJM writes the naive EPT column
        assert local[:4] == ["00", "01", "01", "02"]
    else:
        assert "02" not in local and local[:3] == ["00", "01", "03"]
    # Archived by 2024-11-04 (older than 186 days): only type may narrow it; two hubs.
    five = get(client, "rt_fivemin_hrl_lmps", row_is_current="TRUE", type="HUB",
               rowCount=500, datetime_beginning_ept=day_filter(day))  # fmt: skip
    assert five["totalRows"] == count * 12 * 2


# -- key, errors and faults ----------------------------------------------------------------------


def test_missing_or_wrong_key_is_refused_with_401_and_never_logged(fake):
    url = f"{fake.base_url}/da_hrl_lmps"
    missing = httpx.get(url)
    wrong = httpx.get(url, headers={"Ocp-Apim-Subscription-Key": "wrong"})
    assert missing.status_code == wrong.status_code == 401
    assert missing.json() == {"statusCode": 401, "message": (
        "Access denied due to missing subscription key. Make sure to include subscription key "
        "when making requests to an API.")}  # fmt: skip
    assert "invalid subscription key" in wrong.json()["message"]
    assert [(r.key_present, r.status) for r in fake.requests] == [(False, 401), (True, 401)]
    assert KEY not in repr(fake.requests) and "wrong" not in repr(fake.requests)


def test_row_count_limit_unknown_feed_and_unknown_field(client):
    too_many = client.get("/da_hrl_lmps", params={"rowCount": 50_001})
    assert too_many.status_code == 400 and too_many.json()["errors"][0]["message"]
    assert client.get("/no_such_feed").status_code == 404
    assert client.get("/da_hrl_lmps", params={"no_such_field": "1"}).status_code == 400
    assert client.get("/da_hrl_lmps", params={"fields": "pnode_id,nope"}).status_code == 400


ARCHIVED_DAY = "01/02/2022 00:00to01/02/2022 23:59"  # over 731 days before 2024-11-04


@pytest.mark.parametrize(
    ("feed", "params", "message"),
    [
        ("da_hrl_lmps", {"datetime_beginning_ept": ARCHIVED_DAY, "pnode_id": "51217"},
         "The API request contains invalid attribute(s) for archived data"),
        ("rt_hrl_lmps", {"datetime_beginning_ept": ARCHIVED_DAY, "sort": "pnode_id"},
         "The API request contains invalid attribute(s) for archived data"),
        ("da_hrl_lmps", {"datetime_beginning_ept": "11/01/2022 00:00to11/30/2022 23:59"},
         "Date range in the API request spans over archived and standard data"),
        ("rt_fivemin_hrl_lmps", {"datetime_beginning_ept": "04/30/2024 00:00to05/02/2024 23:59"},
         "Date range in the API request spans over archived and standard data"),
        ("da_hrl_lmps", {"datetime_beginning_utc": "2021-12-31T00:00to2022-01-01T05:00"},
         "Date range in the API request for archived data must stay within one calendar year (UTC)"),
        # New York's 31 December ends at 05:00 UTC on 1 January: a UTC year boundary.
        ("da_hrl_lmps", {"datetime_beginning_ept": "12/31/2021 00:00to12/31/2021 23:59"},
         "Date range in the API request for archived data must stay within one calendar year (UTC)"),
    ],
)  # fmt: skip
def test_archive_rules_answer_pjms_400s(client, feed, params, message):
    response = client.get(f"/{feed}", params=params)
    assert response.status_code == 400
    assert response.json() == {"errors": [{"field": "", "message": message, "detail": ""}]}


def test_archived_rows_come_with_the_allowed_attributes_only(client):
    body = get(client, "da_hrl_lmps", datetime_beginning_ept=ARCHIVED_DAY, type="HUB",
               row_is_current="TRUE", version_nbr="1", fields="pnode_id,total_lmp_da")  # fmt: skip
    assert body["totalRows"] == 24 * 2 and set(body["items"][0]) == {"pnode_id", "total_lmp_da"}
    assert "Order=" not in body["links"][0]["href"]  # following its links never breaks the rules
    five = get(client, "rt_fivemin_hrl_lmps", datetime_beginning_ept="04/01/2024 00:00")
    assert five["totalRows"] == len(pnodes(8)) + sum(
        is_revised("rt_fivemin_hrl_lmps", n.pnode_id, datetime(2024, 4, 1, 4, tzinfo=UTC))
        for n in pnodes(8)
    )


def test_faults_429_500_and_dropped_connections(fake, client):
    fake.fail_next(2, 429)
    fake.fail_next(1, 500, feed="gen_by_fuel")
    first, second = client.get("/inst_load"), client.get("/inst_load")
    assert first.status_code == second.status_code == 429
    assert first.headers["Retry-After"] == "0"
    assert client.get("/inst_load").status_code == 200
    assert client.get("/gen_by_fuel").status_code == 500
    assert client.get("/gen_by_fuel").status_code == 200
    fake.drop_next(1, feed="hrl_load_metered")
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/hrl_load_metered")
    assert client.get("/hrl_load_metered").status_code == 200
    assert [r.status for r in fake.requests] == [429, 429, 200, 500, 200, 0, 200]


def test_total_rows_drift_changes_total_after_the_first_page(fake, client):
    params = {"rowCount": 10, "datetime_beginning_ept": "07/01/2024 00:00to07/01/2024 23:59"}
    total = get(client, "gen_by_fuel", **params)["totalRows"]
    fake.total_rows_drift = 3
    assert get(client, "gen_by_fuel", **params)["totalRows"] == total
    assert get(client, "gen_by_fuel", startRow=11, **params)["totalRows"] == total + 3


# -- query features ------------------------------------------------------------------------------


def test_fields_subset_in_the_order_asked(client):
    body = get(client, "rt_unverified_fivemin_lmps", fields="total_lmp_rt,pnode_id,datetime_beginning_utc",
               datetime_beginning_ept="11/04/2024 08:00to11/04/2024 08:10")  # fmt: skip
    assert all(
        list(i) == ["total_lmp_rt", "pnode_id", "datetime_beginning_utc"] for i in body["items"]
    )
    assert body["searchSpecification"]["fields"] == [
        "total_lmp_rt",
        "pnode_id",
        "datetime_beginning_utc",
    ]
    assert "Fields=total_lmp_rt%2Cpnode_id%2Cdatetime_beginning_utc" in body["links"][0]["href"]


def test_query_parameter_names_are_case_insensitive(client):
    body = get(client, "gen_by_fuel", ROWCOUNT=3, STARTROW=2,
               Datetime_Beginning_EPT="07/01/2024 00:00to07/01/2024 23:59")  # fmt: skip
    assert len(body["items"]) == 3 and body["totalRows"] == 24 * 10
    assert [i["fuel_type"] for i in body["items"]] == ["Gas", "Hydro", "Multiple Fuels"]


def test_sort_desc_with_one_row_returns_the_latest_published_interval(fake, client):
    fake.publish_lag = timedelta(minutes=2)  # now - lag = 15:05 UTC
    unverified = get(client, "rt_unverified_fivemin_lmps", sort="datetime_beginning_utc",
                     order="Desc", rowCount=1, datetime_beginning_ept=day_filter(NOW))  # fmt: skip
    assert [i["datetime_beginning_utc"] for i in unverified["items"]] == ["2024-11-04T15:00:00"]
    fuel = get(client, "gen_by_fuel", sort="datetime_beginning_utc", order="Desc", rowCount=1)
    assert fuel["items"][0]["datetime_beginning_utc"] == "2024-11-04T14:00:00"
    assert fuel["searchSpecification"]["order"] == "Desc"


def test_unpublished_rows_answer_total_rows_zero(fake, client):
    tomorrow = {"datetime_beginning_ept": "11/05/2024 00:00to11/05/2024 23:59"}
    body = get(client, "da_hrl_lmps", **tomorrow)
    assert (body["totalRows"], body["items"]) == (0, [])
    assert [link["rel"] for link in body["links"]] == ["self", "metadata"]
    fake.now = datetime(2024, 11, 4, 13, 30, tzinfo=fake.clock_timezone)  # 13:30 EST on D-1
    assert get(client, "da_hrl_lmps", row_is_current="TRUE", **tomorrow)["totalRows"] == 24 * 8
    yesterday = {"datetime_beginning_ept": "11/03/2024 00:00to11/03/2024 23:59"}
    fake.now = datetime(2024, 11, 4, 9, 59, tzinfo=fake.clock_timezone)  # verified at 10:00
    assert get(client, "rt_hrl_lmps", **yesterday)["totalRows"] == 0
    fake.now = datetime(2024, 11, 4, 10, 0, tzinfo=fake.clock_timezone)
    assert get(client, "rt_hrl_lmps", row_is_current="TRUE", **yesterday)["totalRows"] == 25 * 8


def test_superseded_versions_precede_their_current_revision(client):
    body = get(client, "rt_fivemin_hrl_lmps", rowCount=5000,
               datetime_beginning_ept="07/01/2024 00:00to07/01/2024 05:59")  # fmt: skip
    superseded = [i for i in body["items"] if not i["row_is_current"]]
    assert superseded and all(i["version_nbr"] == 1 for i in superseded)
    for old in superseded:
        at = datetime.fromisoformat(old["datetime_beginning_utc"]).replace(tzinfo=UTC)
        assert is_revised("rt_fivemin_hrl_lmps", old["pnode_id"], at)
        (new,) = [i for i in body["items"] if i["pnode_id"] == old["pnode_id"]
                  and i["datetime_beginning_utc"] == old["datetime_beginning_utc"] and i is not old]  # fmt: skip
        assert new["row_is_current"] and new["version_nbr"] == 2
        assert new["total_lmp_rt"] != old["total_lmp_rt"]
        assert (
            new["total_lmp_rt"]
            == lmp_components("rt_fivemin_hrl_lmps", old["pnode_id"], at)["total_lmp_rt"]
        )
    current = get(client, "rt_fivemin_hrl_lmps", row_is_current="TRUE", rowCount=1,
                  datetime_beginning_ept="07/01/2024 00:00to07/01/2024 05:59")  # fmt: skip
    assert current["totalRows"] == 6 * 12 * 8


# -- the other feeds ----------------------------------------------------------------------------


def test_reserve_market_results_is_hourly_before_september_2022_then_five_minute():
    def count(day: datetime) -> int:
        return len(items("reserve_market_results", day, day + timedelta(days=1)))

    products = len(RESERVE_PRODUCTS["reserve_market_results"])
    assert count(datetime(2022, 8, 31, 4, tzinfo=UTC)) == 24 * products
    assert count(datetime(2022, 9, 1, 4, tzinfo=UTC)) == 288 * products
    row = items("reserve_market_results", datetime(2022, 9, 1, 4, tzinfo=UTC),
                datetime(2022, 9, 1, 4, 5, tzinfo=UTC), {"service": "REG"})[0]  # fmt: skip
    assert (row["datetime_ending_utc"], row["datetime_ending_ept"]) == (
        "2022-09-01T04:05:00",
        "2022-09-01T00:05:00",
    )
    at = datetime(2022, 9, 1, 4, tzinfo=UTC)
    assert row | reserve_values("reserve_market_results", "PJM_RTO", "REG", at) == row
    assert row["reg_ccp"] is not None and row["reg_pcp"] is not None


def test_inst_load_samples_at_off_grid_seconds_for_the_last_30_days_only(client):
    body = get(
        client, "inst_load", area="PJM RTO", rowCount=500, datetime_beginning_ept=day_filter(NOW)
    )
    stamps = [
        datetime.fromisoformat(i["datetime_beginning_utc"]).replace(tzinfo=UTC)
        for i in body["items"]
    ]
    assert stamps and all(s.second != 0 for s in stamps) and stamps[-1] <= NOW
    assert len({s.replace(second=0, minute=s.minute // 5 * 5) for s in stamps}) == len(stamps)
    for item, stamp in zip(body["items"], stamps, strict=True):
        assert item["instantaneous_load"] == inst_load_mw("PJM RTO", stamp)
    old = get(client, "inst_load", datetime_beginning_ept="09/15/2024 00:00to09/15/2024 23:59")
    assert old["totalRows"] == 0


def test_seven_day_forecast_holds_one_vintage_covering_today_and_six_days(client):
    body = get(client, "load_frcstd_7_day", forecast_area="RTO_COMBINED", rowCount=500)
    assert {i["evaluated_at_datetime_utc"] for i in body["items"]} == {"2024-11-04T14:45:00"}
    starts = [i["forecast_datetime_beginning_ept"] for i in body["items"]]
    assert starts[0] == "2024-11-04T00:00:00" and starts[-1] == "2024-11-10T23:00:00"
    assert len(starts) == 7 * 24


def test_forecast_history_keeps_every_vintage_of_each_hour(client):
    body = get(client, "load_frcstd_hist", forecast_area="DOM", rowCount=500,
               forecast_hour_beginning_ept="11/03/2024 00:00to11/03/2024 23:59")  # fmt: skip
    assert body["totalRows"] == 25 * len(HIST_VINTAGES) >= 50
    first_hour = [i["evaluated_at_ept"] for i in body["items"][: len(HIST_VINTAGES)]]
    assert first_hour == ["2024-11-02T06:45:00", "2024-11-02T17:45:00"]


def test_load_and_fuel_rows_match_their_value_functions(client):
    load = get(
        client, "hrl_load_metered", load_area="AE", datetime_beginning_ept="07/01/2024 00:00"
    )
    assert load["items"][0]["mw"] == load_mw("AE", datetime(2024, 7, 1, 4, tzinfo=UTC))
    assert load["items"][0]["is_verified"] is True
    fuel = get(client, "gen_by_fuel", datetime_beginning_utc="2024-07-01T16:00", rowCount=20)
    at = datetime(2024, 7, 1, 16, tzinfo=UTC)
    assert {i["fuel_type"]: i["mw"] for i in fuel["items"]} == {
        f: fuel_mw(f, at) for f in ("Coal", "Gas", "Hydro", "Multiple Fuels", "Nuclear", "Oil",
                                    "Other Renewables", "Solar", "Storage", "Wind")}  # fmt: skip
    assert fuel["items"][7]["fuel_percentage_of_total"] == fuel_percentage("Solar", at)
    assert [i["is_renewable"] for i in fuel["items"]] == [False, False, True, False, False, False,
                                                          True, True, False, True]  # fmt: skip


# -- generator -----------------------------------------------------------------------------------


@pytest.mark.parametrize("feed", list(COLUMNS))
def test_every_feed_answers_its_columns_with_naive_datetimes(client, feed):
    body = get(client, feed, rowCount=3)
    assert body["totalRows"] > 0, feed
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
    for item in body["items"]:
        assert list(item) == list(COLUMNS[feed])
        assert all(stamp.fullmatch(v) for k, v in item.items() if k.endswith(("_utc", "_ept")))


def test_a_page_deep_in_a_ten_thousand_node_day_is_generated_alone():
    nodes = pnodes(10_000)
    total, rows = page("da_hrl_lmps", {"datetime_beginning_ept": "07/01/2024 00:00to07/01/2024 23:59",
                                       "row_is_current": "TRUE"}, 25_001, 3, nodes=nodes)  # fmt: skip
    assert total == 240_000
    assert [(r["datetime_beginning_utc"], r["pnode_id"]) for r in rows] == [
        ("2024-07-01T06:00:00", nodes[5000 + k].pnode_id) for k in range(3)]  # fmt: skip


def test_csv_export_writes_pjms_export_format(samples):
    with (samples / "pjm" / "da_hrl_lmps.csv").open(newline="") as handle:
        real = list(csv.reader(handle))
    ours_bytes = csv_export(items("da_hrl_lmps", datetime(2024, 11, 3, 4, tzinfo=UTC),
                                  datetime(2024, 11, 3, 8, tzinfo=UTC)), "da_hrl_lmps")  # fmt: skip
    ours = list(csv.reader(io.StringIO(ours_bytes.decode(), newline="")))
    assert ours[0] == real[0] == list(COLUMNS["da_hrl_lmps"])
    assert ours_bytes.endswith(b"\r\n") and b"\r\n" in ours_bytes
    stamp = re.compile(r"\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d\d:\d\d [AP]M")
    for row in (real[1], ours[1]):
        assert stamp.fullmatch(row[0]) and stamp.fullmatch(row[1]) and row[12] in ("True", "False")
    hours_seen = list(dict.fromkeys((row[0], row[1]) for row in ours[1:]))
    assert hours_seen == [  # the fall-back day's 01:00 twice, as the export writes EPT
        ("11/3/2024 4:00:00 AM", "11/3/2024 12:00:00 AM"), ("11/3/2024 5:00:00 AM", "11/3/2024 1:00:00 AM"),
        ("11/3/2024 6:00:00 AM", "11/3/2024 1:00:00 AM"), ("11/3/2024 7:00:00 AM", "11/3/2024 2:00:00 AM"),
    ]  # fmt: skip
    assert {row[4] for row in ours[1:] if row[2] == "51217"} == {""}  # nulls are empty cells


def test_answer_shape_matches_a_real_data_miner_page(samples, client):
    real = json.loads((samples / "pjm" / "da_hrl_lmps_2026-06-09.json").read_text())
    ours = get(client, "da_hrl_lmps", rowCount=600, type="ZONE",
               fields="datetime_beginning_utc,pnode_id,pnode_name,type,total_lmp_da",
               datetime_beginning_ept="2024-07-01T00:00to2024-07-01T23:59")  # fmt: skip
    assert list(ours) == list(real) == ["links", "items", "searchSpecification", "totalRows"]
    assert list(ours["searchSpecification"]) == list(real["searchSpecification"])
    real_self, our_self = (parse_qsl(urlsplit(x["links"][0]["href"]).query) for x in (real, ours))
    assert [k for k, _ in our_self] == [k for k, _ in real_self]
    assert [set(i) for i in ours["items"][:1]] == [set(i) for i in real["items"][:1]]


def test_module_serves_until_interrupted_and_prints_its_base_url():
    process = subprocess.Popen([sys.executable, "-m", "power_assets.demo.pjm_server",
                                "--subscription-key", KEY], stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        line = process.stdout.readline().strip()
        assert line.startswith("POWER_ASSETS_PJM_BASE_URL=http://127.0.0.1:")
        base = line.partition("=")[2]
        response = httpx.get(f"{base}/gen_by_fuel", headers={"Ocp-Apim-Subscription-Key": KEY})
        assert response.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
