"""Behaviour of the fake ERCOT: generated documents in ERCOT's formats and naming, and the loopback
server answering the MIS servlets, the B2C token service and the Public API archive."""

import io
import re
import zipfile
from collections import Counter
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import httpx
import polars as pl
import pytest

from power_assets.demo.ercot_disclosure_fixtures import AS_DISCLOSURE
from power_assets.demo.ercot_fixtures import (
    ACTUAL_LOAD,
    CENTRAL,
    DAM_AS,
    DAM_SPP,
    FORECAST_ZONES,
    LOAD_FORECAST,
    RT_SPP,
    SCED_LMP,
    UTC,
    WEATHER_ZONES,
    actual_load,
    actual_load_csv,
    bulk_archive,
    dam_as_csv,
    dam_spp_csv,
    doc_zip,
    documents_for_day,
    forecast_issue_times,
    load_forecast,
    load_forecast_csv,
    market_hours,
    mcpc,
    price,
    read_single_member,
    rt_spp_csv,
    sced_lmp_csv,
    settlement_points,
)
from power_assets.demo.ercot_server import CLIENT_ID, FakeErcot
from power_assets.isos.ercot.reports import REPORTS, parse_document_name, select_documents

SPRING_FORWARD, FALL_BACK, SUMMER = date(2024, 3, 10), date(2024, 11, 3), date(2024, 7, 1)
DAYS = [(SUMMER, 24), (SPRING_FORWARD, 23), (FALL_BACK, 25)]
POINTS = settlement_points(4)
REPORT_OF = {
    "lmp_da": DAM_SPP, "lmp_rt15": RT_SPP, "lmp_rt5": SCED_LMP, "as_da": DAM_AS,
    "load": ACTUAL_LOAD, "load_forecast": LOAD_FORECAST,
}  # fmt: skip


def frame(content: bytes) -> pl.DataFrame:
    """A CSV as strings, exactly as written (spaces and all)."""
    return pl.read_csv(content, infer_schema=False)


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture(scope="module")
def around_fall_back() -> dict:
    """The documents of the fall-back day and of the days either side, by market day."""
    days = [FALL_BACK - timedelta(days=1), FALL_BACK, FALL_BACK + timedelta(days=1)]
    return {day: documents_for_day(day, POINTS) for day in days}


@pytest.fixture(scope="module")
def fall_back_docs(around_fall_back) -> list:
    return around_fall_back[FALL_BACK]


# -- locations, hours and values -----------------------------------------------------------------


def test_settlement_points_are_hubs_then_each_load_zone_as_lz_and_lzew_then_resource_nodes():
    points = settlement_points(3)
    assert points[:7] == [
        ("HB_BUSAVG", "SH"), ("HB_HOUSTON", "HU"), ("HB_NORTH", "HU"), ("HB_PAN", "HU"),
        ("HB_SOUTH", "HU"), ("HB_WEST", "HU"), ("HB_HUBAVG", "AH"),
    ]  # fmt: skip
    assert Counter(kind for _, kind in points) == {
        "SH": 1,
        "HU": 5,
        "AH": 1,
        "LZ": 8,
        "LZEW": 8,
        "RN": 3,
    }
    assert {name for name, kind in points if kind == "LZ"} == {
        name for name, kind in points if kind == "LZEW"
    }
    assert points[-3:] == [("RN0001_RN", "RN"), ("RN0002_RN", "RN"), ("RN0003_RN", "RN")]


@pytest.mark.parametrize(
    ("day", "labels"),
    [
        (SUMMER, [(n, False) for n in range(1, 25)]),
        (SPRING_FORWARD, [(1, False), *((n, False) for n in range(3, 25))]),
        (FALL_BACK, [(1, False), (2, False), (2, True), *((n, False) for n in range(3, 25))]),
    ],
)
def test_market_hours_are_labelled_by_hour_ending_with_the_repeated_hour_flagged(day, labels):
    hours = market_hours(day)
    assert [(h.hour_ending, h.repeated) for h in hours] == labels
    assert hours[0].start_utc == datetime(day.year, day.month, day.day, tzinfo=CENTRAL)
    steps = {b.start_utc - a.start_utc for a, b in pairwise(hours)}
    assert steps == {timedelta(hours=1)}


def test_prices_are_deterministic_rounded_and_differ_by_location_time_and_market():
    t = datetime(2024, 7, 1, 22, tzinfo=UTC)
    assert price("HB_NORTH", t, "lmp_da") == price("HB_NORTH", t, "lmp_da")
    assert round(price("HB_NORTH", t, "lmp_rt15"), 2) == price("HB_NORTH", t, "lmp_rt15")
    assert price("HB_NORTH", t, "lmp_da") != price("HB_WEST", t, "lmp_da")
    assert price("HB_NORTH", t, "lmp_da") != price("HB_NORTH", t + timedelta(hours=5), "lmp_da")
    assert len({price("HB_NORTH", t, m) for m in ("lmp_da", "lmp_rt15", "lmp_rt5")}) == 3
    # Within one interval the price does not move: a SCED run is priced at its 5-minute mark.
    assert price("LZ_AEN", t + timedelta(seconds=17), "lmp_rt5") == price("LZ_AEN", t, "lmp_rt5")
    with pytest.raises(KeyError, match="unknown market"):
        price("HB_NORTH", t, "RTM")
    with pytest.raises(ValueError, match="aware"):
        price("HB_NORTH", datetime(2024, 7, 1, 22), "lmp_da")


def test_lzew_is_priced_a_few_cents_off_its_load_zone():
    t = datetime(2024, 7, 1, 22, 15, tzinfo=UTC)
    for zone in ("LZ_AEN", "LZ_WEST"):
        lz, lzew = price(zone, t, "lmp_rt15", "LZ"), price(zone, t, "lmp_rt15", "LZEW")
        assert 0.01 <= round(lzew - lz, 2) <= 0.03


def test_some_resource_nodes_clear_negative_overnight():
    night = datetime(2024, 7, 1, 8, tzinfo=UTC)  # 03:00 CDT
    assert min(price(f"RN{i:04d}_RN", night, "lmp_da") for i in range(1, 21)) < 0


# -- CSV builders -------------------------------------------------------------------------------


@pytest.mark.parametrize(("day", "hours"), DAYS)
def test_dam_spp_has_a_row_per_hour_and_named_point_with_ercots_leading_space(day, hours):
    rows = frame(dam_spp_csv(day, POINTS))
    named = {name for name, kind in POINTS if kind != "LZEW"}
    assert rows.columns == [
        "DeliveryDate", "HourEnding", "SettlementPoint", "SettlementPointPrice", "DSTFlag",
    ]  # fmt: skip
    assert rows.height == hours * len(named)
    assert set(rows["SettlementPoint"]) == named
    assert rows["SettlementPointPrice"].str.starts_with(" ").all()
    assert rows["DeliveryDate"].unique().to_list() == [f"{day:%m/%d/%Y}"]
    expected_labels = [f"{h.hour_ending:02d}:00" for h in market_hours(day)]
    assert rows["HourEnding"].unique(maintain_order=True).to_list() == sorted(
        set(expected_labels), key=expected_labels.index
    )
    assert rows.filter(pl.col("DSTFlag") == "Y").height == (len(named) if hours == 25 else 0)


def test_dam_spp_prices_are_the_price_function_at_the_hour_start():
    rows = frame(dam_spp_csv(FALL_BACK, POINTS))
    repeated = market_hours(FALL_BACK)[2]
    row = rows.filter(
        (pl.col("HourEnding") == "02:00")
        & (pl.col("DSTFlag") == "Y")
        & (pl.col("SettlementPoint") == "HB_HOUSTON")
    )
    assert float(row["SettlementPointPrice"].item()) == price(
        "HB_HOUSTON", repeated.start_utc, "lmp_da"
    )
    assert repeated.start_utc == datetime(2024, 11, 3, 7, tzinfo=UTC)  # 01:00 CST


def test_rt_spp_interval_lists_every_point_with_its_type_and_lzew_beside_lz():
    rows = frame(rt_spp_csv(FALL_BACK, 2, 3, True, POINTS))
    assert rows.height == len(POINTS)
    assert set(zip(rows["SettlementPointName"], rows["SettlementPointType"], strict=True)) == set(
        POINTS
    )
    assert set(rows["DeliveryHour"]) == {"2"} and set(rows["DeliveryInterval"]) == {"3"}
    assert set(rows["DSTFlag"]) == {"Y"}
    start = datetime(2024, 11, 3, 7, 30, tzinfo=UTC)  # 01:30 CST, the second 01:30
    lzew = rows.filter(
        (pl.col("SettlementPointName") == "LZ_WEST") & (pl.col("SettlementPointType") == "LZEW")
    )
    assert float(lzew["SettlementPointPrice"].item()) == price("LZ_WEST", start, "lmp_rt15", "LZEW")


def test_rt_spp_refuses_hours_the_day_does_not_have():
    with pytest.raises(ValueError, match="no hour ending 2"):
        rt_spp_csv(SPRING_FORWARD, 2, 1, False, POINTS)
    with pytest.raises(ValueError, match="no hour ending 2"):
        rt_spp_csv(SUMMER, 2, 1, True, POINTS)


def test_sced_stamps_runs_with_seconds_and_flags_the_repeated_hour():
    first = frame(sced_lmp_csv(datetime(2024, 11, 3, 1, 5, 17), False, POINTS))
    second = frame(sced_lmp_csv(datetime(2024, 11, 3, 1, 5, 17), True, POINTS))
    assert first.columns == ["SCEDTimestamp", "RepeatedHourFlag", "SettlementPoint", "LMP"]
    assert set(first["SCEDTimestamp"]) == {"11/03/2024 01:05:17"}
    assert set(first["RepeatedHourFlag"]) == {"N"} and set(second["RepeatedHourFlag"]) == {"Y"}
    assert first.height == len([p for p in POINTS if p[1] != "LZEW"])
    cst = datetime(2024, 11, 3, 7, 5, tzinfo=UTC)
    hub = second.filter(pl.col("SettlementPoint") == "HB_PAN")
    assert float(hub["LMP"].item()) == price("HB_PAN", cst, "lmp_rt5")
    assert first["LMP"].to_list() != second["LMP"].to_list()
    with pytest.raises(ValueError, match="does not exist"):
        sced_lmp_csv(datetime(2024, 3, 10, 2, 30, 15), False, POINTS)


@pytest.mark.parametrize(("day", "hours"), DAYS)
def test_dam_as_has_five_products_per_hour(day, hours):
    rows = frame(dam_as_csv(day))
    assert rows.height == 5 * hours
    assert set(rows["AncillaryType"]) == {"REGUP", "REGDN", "RRS", "NSPIN", "ECRS"}
    first = rows.row(0, named=True)
    assert float(first["MCPC"]) == mcpc(first["AncillaryType"], market_hours(day)[0].start_utc)


@pytest.mark.parametrize(("day", "hours"), DAYS)
def test_actual_load_has_a_row_per_hour_and_total_is_the_sum_of_weather_zones(day, hours):
    rows = frame(actual_load_csv(day))
    assert rows.columns == ["OperDay", "HourEnding", *WEATHER_ZONES, "TOTAL", "DSTFlag"]
    assert rows.height == hours
    values = rows.select(pl.col([*WEATHER_ZONES, "TOTAL"]).cast(pl.Float64))
    assert (
        values.select(pl.sum_horizontal(WEATHER_ZONES)).to_series() - values["TOTAL"]
    ).abs().max() < 0.005
    start = market_hours(day)[-1].start_utc
    assert values["COAST"][-1] == actual_load("COAST", start)


def test_load_forecast_covers_eight_days_and_vintages_differ():
    early, late = forecast_issue_times(FALL_BACK)
    issue_day = FALL_BACK - timedelta(days=1)
    a, b = frame(load_forecast_csv(issue_day, early)), frame(load_forecast_csv(issue_day, late))
    assert a.height == 8 * 24 + 1  # the fall-back day inside the range has 25 hours
    assert a["DeliveryDate"].unique(maintain_order=True).to_list()[0] == "11/02/2024"
    assert a["DeliveryDate"].unique().len() == 8
    assert a["HourEnding"][0] == "1:00"  # no leading zero, like the real file
    assert a["North"].to_list() != b["North"].to_list()
    hour = market_hours(FALL_BACK)[5]
    row = b.filter((pl.col("DeliveryDate") == "11/03/2024") & (pl.col("HourEnding") == "5:00"))
    assert float(row["North"].item()) == load_forecast("North", hour.start_utc, late)
    totals = b.select(pl.col([*FORECAST_ZONES, "SystemTotal"]).cast(pl.Float64))
    assert (
        totals.select(pl.sum_horizontal(FORECAST_ZONES)).to_series() - totals["SystemTotal"]
    ).abs().max() < 0.005


def test_load_forecast_can_reproduce_the_padded_dstflag_header():
    header = load_forecast_csv(SUMMER, padded_dst_header=True).split(b"\r\n", 1)[0]
    assert header.endswith(b",DSTFlag    ")
    assert load_forecast_csv(SUMMER).split(b"\r\n", 1)[0].endswith(b",DSTFlag")


# -- documents ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "rt15", "sced"), [(SUMMER, 96, 288), (SPRING_FORWARD, 92, 276), (FALL_BACK, 100, 300)]
)
def test_a_market_day_posts_the_right_number_of_documents_per_report(day, rt15, sced):
    counts = Counter(doc.report_type_id for doc in documents_for_day(day, POINTS))
    assert counts == {
        DAM_SPP: 1, DAM_AS: 1, RT_SPP: rt15, SCED_LMP: sced, ACTUAL_LOAD: 1, LOAD_FORECAST: 2,
        AS_DISCLOSURE: 1,
    }  # fmt: skip
    without = Counter(d.report_type_id for d in documents_for_day(day, POINTS, sced=False))
    assert SCED_LMP not in without


def test_document_names_parse_as_ercots_and_agree_with_the_document(fall_back_docs):
    for doc in fall_back_docs:
        parsed = parse_document_name(doc.constructed_name)
        assert parsed is not None, doc.constructed_name
        assert parsed.report_type_id == doc.report_type_id and parsed.is_csv
        # The name carries Central wall clock: the same instant, except in the repeated hour,
        # where a bare name cannot say which pass it was and reads as one of the two.
        assert parsed.posted.astimezone(doc.posted.tzinfo).replace(tzinfo=None) == (
            doc.posted.replace(tzinfo=None)
        )
        if doc.posted.dst() or doc.posted.hour != 1:
            assert parsed.posted == doc.posted.astimezone(UTC)
        assert doc.friendly_name == f"{parsed.friendly}_csv"
        assert doc.constructed_name.endswith(f".{doc.friendly_name}.zip")
        if doc.report_type_id == AS_DISCLOSURE:  # a ZIP of 2d_*.csv files, not cdr-named
            assert doc.csv_name.startswith("2d_") and doc.extra
            continue
        assert doc.csv_name == doc.constructed_name.removesuffix("_csv.zip") + ".csv"
        assert parse_document_name(doc.csv_name) == parsed
        assert doc.posted.tzinfo is not None


def test_documents_are_posted_when_ercot_posts_them(fall_back_docs):
    by_report = {}
    for doc in fall_back_docs:
        by_report.setdefault(doc.report_type_id, []).append(doc)
    day_before = FALL_BACK - timedelta(days=1)
    assert by_report[DAM_SPP][0].posted.date() == day_before
    assert by_report[DAM_SPP][0].posted.hour == 12
    assert by_report[ACTUAL_LOAD][0].posted.date() == FALL_BACK + timedelta(days=1)
    assert [d.posted for d in by_report[LOAD_FORECAST]] == forecast_issue_times(FALL_BACK)
    rt = by_report[RT_SPP]
    assert rt[-1].friendly_name == "SPPHLZNP6905_20241104_0000_csv"
    assert rt[0].friendly_name == "SPPHLZNP6905_20241103_0015_csv"
    assert rt[0].posted - datetime(2024, 11, 3, 0, 15, tzinfo=CENTRAL) < timedelta(minutes=3)
    names = Counter(d.friendly_name for d in rt)
    assert {n for n, c in names.items() if c == 2} == {
        f"SPPHLZNP6905_20241103_01{m}_csv" for m in ("00", "15", "30", "45")
    }


def test_document_ids_and_names_are_unique_and_stable_across_days():
    docs = [
        d
        for day in (FALL_BACK, FALL_BACK + timedelta(days=1))
        for d in documents_for_day(day, POINTS)
    ]
    assert len({d.doc_id for d in docs}) == len(docs)
    assert len({d.constructed_name for d in docs}) == len(docs)
    assert [d.doc_id for d in documents_for_day(FALL_BACK, POINTS)] == [
        d.doc_id for d in docs[: len(documents_for_day(FALL_BACK, POINTS))]
    ]


@pytest.mark.parametrize("dataset", sorted(REPORT_OF))
def test_the_report_table_selects_exactly_the_documents_of_the_day(dataset, around_fall_back):
    generated = around_fall_back
    everything = [doc for docs in generated.values() for doc in docs]
    report = REPORTS[dataset]
    chosen = {
        d.doc_id
        for d in everything
        if report.covers(parse_document_name(d.constructed_name), FALL_BACK)
    }
    expected = {d.doc_id for d in generated[FALL_BACK] if d.report_type_id == REPORT_OF[dataset]}
    assert chosen == expected and chosen


def test_the_report_table_picks_the_late_load_forecast_vintage(fall_back_docs):
    pairs = [(parse_document_name(d.constructed_name), d) for d in fall_back_docs]
    ((_, chosen),) = select_documents(REPORTS["load_forecast"], FALL_BACK, pairs)
    assert chosen.posted == forecast_issue_times(FALL_BACK)[-1]


def test_rt_documents_hold_their_interval_and_sced_documents_their_run(fall_back_docs):
    rt = [d for d in fall_back_docs if d.report_type_id == RT_SPP]
    last = frame(rt[-1].csv)
    assert set(last["DeliveryHour"]) == {"24"} and set(last["DeliveryInterval"]) == {"4"}
    sced = [d for d in fall_back_docs if d.report_type_id == SCED_LMP]
    flags = Counter(frame(d.csv)["RepeatedHourFlag"][0] for d in sced)
    assert flags == {"N": 288, "Y": 12}
    stamps = [frame(d.csv)["SCEDTimestamp"][0] for d in sced]
    assert all(s.endswith(tuple(f":{n:02d}" for n in range(10, 30))) for s in stamps)


def test_doc_zip_holds_exactly_the_csv_under_its_csv_name(fall_back_docs):
    doc = fall_back_docs[0]
    assert read_single_member(doc_zip(doc)) == (doc.csv_name, doc.csv)
    assert doc_zip(doc) == doc_zip(doc)


@pytest.mark.parametrize("levels", [3, 2])
def test_bulk_archive_nests_daily_zips_of_documents(tmp_path: Path, levels):
    days = [SPRING_FORWARD, SPRING_FORWARD + timedelta(days=1)]
    path = bulk_archive(days, POINTS, tmp_path / "ercot_2024.zip", levels=levels, sced=False)
    outer = unzip(path.read_bytes())
    assert sorted(outer) == ["20240310.zip", "20240311.zip"]
    daily = unzip(outer["20240310.zip"])
    docs = documents_for_day(SPRING_FORWARD, POINTS, sced=False)
    assert len(daily) == sum(len(d.members()) if levels == 2 else 1 for d in docs)
    doc = docs[5]
    if levels == 3:
        assert read_single_member(daily[doc.constructed_name]) == (doc.csv_name, doc.csv)
    else:
        assert daily[doc.csv_name] == doc.csv
    with pytest.raises(ValueError, match="2 or 3"):
        bulk_archive(days, POINTS, tmp_path / "x.zip", levels=4)


# -- the server ---------------------------------------------------------------------------------

USER, PASSWORD, KEY = "trader@example.com", "s3cret", "key-123"


@pytest.fixture
def fake(fall_back_docs):
    with FakeErcot(
        fall_back_docs, username=USER, password=PASSWORD, subscription_key=KEY
    ) as server:
        yield server


def token_form(username: str = USER, password: str = PASSWORD) -> dict[str, str]:
    return {
        "username": username, "password": password, "grant_type": "password",
        "scope": f"openid {CLIENT_ID} offline_access", "client_id": CLIENT_ID,
        "response_type": "id_token",
    }  # fmt: skip


def get_token(server: FakeErcot, *, in_query: bool = False, **form: str) -> str:
    fields = {**token_form(), **form}
    where = {"params": fields} if in_query else {"data": fields}
    response = httpx.post(f"{server.token_base_url}/token", timeout=10, **where)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def credentials(token: str | None, key: str | None = KEY) -> dict[str, str]:
    headers = {"Ocp-Apim-Subscription-Key": key, "Authorization": f"Bearer {token}"}
    return {k: v for k, v in headers.items() if v is not None and v != "Bearer None"}


def api_get(server: FakeErcot, path: str, token: str | None, key: str | None = KEY, **params):
    url = f"{server.api_base_url}{path}"
    return httpx.get(url, params=params, headers=credentials(token, key), timeout=10)


def mis_list(server: FakeErcot, report_type_id: int) -> list[dict[str, str]]:
    url = f"{server.base_url}/misapp/servlets/IceDocListJsonWS"
    body = httpx.get(url, params={"reportTypeId": report_type_id}, timeout=10).json()
    return [entry["Document"] for entry in body["ListDocsByRptTypeRes"]["DocumentList"]]


def mis_download(server: FakeErcot, doc_id: object) -> httpx.Response:
    url = f"{server.base_url}/misdownload/servlets/mirDownload"
    return httpx.get(url, params={"doclookupId": doc_id}, timeout=10)


def test_mis_lists_documents_newest_first_with_xml_twins_and_downloads_the_csv_zip(
    fake, fall_back_docs
):
    entries = mis_list(fake, RT_SPP)
    csvs = [e for e in entries if e["FriendlyName"].endswith("_csv")]
    xmls = [e for e in entries if e["FriendlyName"].endswith("_xml")]
    assert len(csvs) == len(xmls) == 100
    assert {e["DocID"] for e in csvs}.isdisjoint({e["DocID"] for e in xmls})
    published = [datetime.fromisoformat(e["PublishDate"]) for e in csvs]
    assert published == sorted(published, reverse=True)
    newest = csvs[0]
    assert newest["ConstructedName"].endswith("SPPHLZNP6905_20241104_0000_csv.zip")
    assert newest["ReportTypeID"] == str(RT_SPP) and newest["PublishDate"].endswith("-06:00")
    download = mis_download(fake, newest["DocID"])
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    doc = next(d for d in fall_back_docs if str(d.doc_id) == newest["DocID"])
    assert read_single_member(download.content) == (doc.csv_name, doc.csv)
    assert int(newest["ContentSize"]) == len(download.content)
    assert read_single_member(mis_download(fake, xmls[0]["DocID"]).content)[0].endswith(".xml")


def test_mis_answers_404_html_for_unknown_documents_and_paths(fake):
    missing = mis_download(fake, 1)
    assert missing.status_code == 404 and "html" in missing.headers["content-type"]
    assert httpx.get(f"{fake.base_url}/misapp/other", timeout=10).status_code == 404
    assert [r.status for r in fake.requests] == [404, 404]


def test_mis_retention_lists_only_recent_documents_and_hides_unposted_ones(fall_back_docs):
    older = documents_for_day(FALL_BACK - timedelta(days=10), POINTS, sced=False)
    with FakeErcot([*older, *fall_back_docs], mis_retention_days=7) as server:

        def listed(report: int) -> list[str]:
            entries = mis_list(server, report)
            return [e["ConstructedName"] for e in entries if e["FriendlyName"].endswith("_csv")]

        server.now = datetime(2024, 11, 4, 12, tzinfo=CENTRAL)
        dam = [d for d in [*older, *fall_back_docs] if d.report_type_id == DAM_SPP]
        assert listed(DAM_SPP) == [dam[1].constructed_name]
        assert mis_download(server, dam[0].doc_id).status_code == 404
        server.now = datetime(2024, 11, 3, 6, 0, tzinfo=CENTRAL)
        # 00:00 CDT to 06:00 CST is seven hours; the file ending at 06:00 is not posted yet.
        assert len(listed(RT_SPP)) == 7 * 4 - 1
        # The fake's clock is an instant: 01:30 CDT comes before the files posted at 01:xx CST.
        server.now = datetime(2024, 11, 3, 1, 30, tzinfo=CENTRAL)
        assert len(listed(RT_SPP)) == 5
        server.now = datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=CENTRAL)
        assert len(listed(RT_SPP)) == 9  # every CDT file, then those posted 01:02 and 01:17 CST
        with pytest.raises(ValueError, match="aware"):
            server.now = datetime(2024, 11, 3, 1, 30)


def test_token_service_issues_a_new_token_per_call_from_form_or_query(fake):
    first, second = get_token(fake), get_token(fake, in_query=True)
    assert first != second and fake.tokens_issued == 2
    body = httpx.post(f"{fake.token_base_url}/token", data=token_form(), timeout=10).json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == "3600"
    assert body["id_token"] == body["access_token"] and body["refresh_token"]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"password": "wrong"}, "invalid_grant"),
        ({"username": "someone@else"}, "invalid_grant"),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        ({"client_id": "nope"}, "unauthorized_client"),
        ({"scope": ""}, "invalid_request"),
    ],
)
def test_token_service_refuses_bad_requests_with_a_400_json_error(fake, change, error):
    form = {**token_form(), **change}
    response = httpx.post(f"{fake.token_base_url}/token", data=form, timeout=10)
    assert response.status_code == 400 and response.json()["error"] == error
    assert fake.tokens_issued == 0


def test_api_needs_the_subscription_key_and_a_live_bearer_token(fake):
    token, product = get_token(fake), "/archive/np4-190-cd"
    assert api_get(fake, product, token).status_code == 200
    assert api_get(fake, product, token, key=None).status_code == 401
    assert api_get(fake, product, token, key="other").status_code == 401
    assert api_get(fake, product, None).status_code == 401
    assert api_get(fake, product, "made-up").status_code == 401
    fake.now += timedelta(seconds=3599)
    assert api_get(fake, product, token).status_code == 200
    fake.now += timedelta(seconds=2)
    expired = api_get(fake, product, token)
    assert expired.status_code == 401 and "expired" in expired.json()["message"]
    assert api_get(fake, product, get_token(fake)).status_code == 200


def test_archive_listing_filters_by_post_time_window_and_paginates(fake, fall_back_docs):
    token = get_token(fake)
    window = {"postDatetimeFrom": "2024-11-03T00:00:00", "postDatetimeTo": "2024-11-03T03:00:00"}
    expected = [
        d for d in fall_back_docs
        if d.report_type_id == RT_SPP
        and datetime(2024, 11, 3) <= d.posted.replace(tzinfo=None) <= datetime(2024, 11, 3, 3)
    ]  # fmt: skip
    assert len(expected) == 15  # posted 00:17 .. 02:47, the 01:xx hour twice
    pages = [
        api_get(fake, "/archive/NP6-905-CD", token, size=4, page=page, **window).json()
        for page in (1, 2, 3, 4, 5)
    ]
    assert [p["_meta"]["currentPage"] for p in pages] == [1, 2, 3, 4, 5]
    assert {(p["_meta"]["totalRecords"], p["_meta"]["totalPages"]) for p in pages} == {(15, 4)}
    assert [len(p["archives"]) for p in pages] == [4, 4, 4, 3, 0]
    assert pages[0]["product"]["emilId"] == "NP6-905-CD"
    assert pages[0]["product"]["reportTypeId"] == RT_SPP
    seen = [archive for p in pages for archive in p["archives"]]
    assert [a["docId"] for a in seen] == [
        d.doc_id for d in sorted(expected, key=lambda d: d.posted.astimezone(UTC), reverse=True)
    ]
    newest = seen[0]
    assert newest["friendlyName"] == "SPPHLZNP6905_20241103_0245_csv"
    assert re.fullmatch(r"2024-11-03T02:47:\d\d\.000", newest["postDatetime"])  # wall, no offset
    href = newest["_links"]["endpoint"]["href"]
    assert href == f"{fake.api_base_url}/archive/np6-905-cd?download={newest['docId']}"
    single = httpx.get(href, headers=credentials(token), timeout=10)
    doc = next(d for d in fall_back_docs if d.doc_id == newest["docId"])
    assert read_single_member(single.content) == (doc.csv_name, doc.csv)


def test_archive_listing_rejects_bad_parameters_and_unknown_products(fake):
    token, product = get_token(fake), "/archive/np6-905-cd"
    assert api_get(fake, product, token, postDatetimeFrom="yesterday").status_code == 400
    assert api_get(fake, product, token, size=0).status_code == 400
    assert api_get(fake, "/archive/np9-999-xx", token).status_code == 404
    assert api_get(fake, product, token, download=1).status_code == 404


def test_archive_download_answers_a_zip_of_document_zips(fake, fall_back_docs):
    token = get_token(fake)
    wanted = [d for d in fall_back_docs if d.report_type_id == SCED_LMP][:3]

    def download(emil: str) -> httpx.Response:
        url = f"{fake.api_base_url}/archive/{emil}/download"
        body = {"docIds": [d.doc_id for d in wanted]}
        return httpx.post(url, json=body, headers=credentials(token), timeout=10)

    response = download("np6-788-cd")
    assert response.status_code == 200
    members = unzip(response.content)
    assert sorted(members) == sorted(d.constructed_name for d in wanted)
    for doc in wanted:
        assert read_single_member(members[doc.constructed_name]) == (doc.csv_name, doc.csv)
    wrong_product = download("np4-190-cd")
    assert wrong_product.status_code == 404 and str(wanted[0].doc_id) in wrong_product.text


def test_every_nth_api_request_is_throttled_with_retry_after(fall_back_docs):
    with FakeErcot(fall_back_docs, subscription_key=KEY, throttle_every=3) as server:
        token = get_token(server, username=server.username, password=server.password)
        answers = [api_get(server, "/archive/np4-188-cd", token) for _ in range(6)]
        assert [r.status_code for r in answers] == [200, 200, 429, 200, 200, 429]
        assert answers[2].headers["Retry-After"] == "1"
        assert answers[2].json()["statusCode"] == 429


def test_the_request_log_shows_what_was_asked_and_with_which_credentials(fake):
    token = get_token(fake)
    for _ in range(2):
        api_get(fake, "/archive/np3-560-cd", token, postDatetimeFrom="2024-11-02T00:00:00")
    httpx.get(f"{fake.base_url}/robots.txt", timeout=10)
    log = fake.requests
    assert [(r.method, r.service, r.status) for r in log] == [
        ("POST", "token", 200), ("GET", "api", 200), ("GET", "api", 200), ("GET", "other", 404),
    ]  # fmt: skip
    assert log[1].path == "/api/public-reports/archive/np3-560-cd"
    assert log[1].query == {"postDatetimeFrom": "2024-11-02T00:00:00"}
    assert log[1].headers == {"Authorization": f"Bearer {token}", "Ocp-Apim-Subscription-Key": KEY}
    assert fake.tokens_issued == 1
    assert not [r for r in log if r.service == "mis"]


def test_the_archive_lists_both_load_forecast_vintages_newest_first(fake):
    body = api_get(fake, "/archive/np3-560-cd", get_token(fake)).json()
    assert [a["postDatetime"] for a in body["archives"]] == [
        "2024-11-02T23:30:05.000", "2024-11-02T09:30:05.000",
    ]  # fmt: skip
    assert body["_meta"]["totalPages"] == 1 and body["_meta"]["pageSize"] == 1000
