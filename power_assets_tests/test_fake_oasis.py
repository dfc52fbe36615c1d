"""Behaviour of the fake CAISO OASIS: generated payloads in OASIS's formats, and the loopback server
that validates requests, serves recordings and simulates throttling, outages and missing days."""

import io
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import httpx
import polars as pl
import pytest

from power_assets.demo.oasis_fixtures import (
    AS_ITEMS,
    AS_REGIONS,
    DEMO_NODES,
    THROTTLE_HTML,
    UTC,
    Faults,
    oasis_csv,
    oasis_zip,
)
from power_assets.demo.oasis_server import (
    RECORDINGS_DIR,
    FakeOasis,
    oasis_params,
    record_demo,
    recording_name,
)
from power_assets.errors import (
    IsoErrorResponse,
    IsoNoDataError,
    IsoRateLimitedError,
    SchemaDriftError,
)
from power_assets.isos.caiso import HEADERS, Caiso
from power_assets.market_time import market_day_bounds

CAISO = Caiso()
SPRING_FORWARD, FALL_BACK = date(2024, 3, 10), date(2024, 11, 3)


def day(d: date) -> tuple[datetime, datetime]:
    return market_day_bounds("America/Los_Angeles", d)


def frame(content: bytes) -> pl.DataFrame:
    """A CSV (or a ZIP holding one) as strings, exactly as written."""
    if content[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            (name,) = archive.namelist()
            assert name.endswith(".csv"), name
            content = archive.read(name)
    return pl.read_csv(content, infer_schema=False)


def error_of(content: bytes) -> tuple[str, str]:
    """(member name, ERR_CODE) of an OASIS error ZIP."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        (name,) = archive.namelist()
        root = ElementTree.fromstring(archive.read(name))
    codes = [e.text for e in root.iter() if e.tag.endswith("ERR_CODE")]
    return name, codes[0]


def get(server: FakeOasis, params: list[tuple[str, str]]) -> httpx.Response:
    return httpx.get(f"{server.base_url}/SingleZip", params=params, timeout=10)


# -- generator ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trading_day", "hours"), [(SPRING_FORWARD, 23), (FALL_BACK, 25), (date(2024, 7, 1), 24)]
)
def test_dam_day_has_one_row_per_local_hour_with_opr_hr_counting_them(trading_day, hours):
    rows = frame(oasis_csv("PRC_LMP", *day(trading_day)))
    assert rows.height == hours * len(DEMO_NODES) * 5
    per_node = rows.group_by("NODE").agg(
        pl.col("INTERVALSTARTTIME_GMT").n_unique().alias("starts"),
        pl.col("OPR_HR").cast(pl.Int64).unique().sort().alias("hours"),
    )
    assert per_node["starts"].to_list() == [hours] * len(DEMO_NODES)
    assert all(h.to_list() == list(range(1, hours + 1)) for h in per_node["hours"])
    assert rows["OPR_DT"].unique().to_list() == [trading_day.isoformat()]
    assert rows["OPR_INTERVAL"].unique().to_list() == ["0"]


def test_fall_back_day_repeats_one_am_as_opr_hr_2_and_3():
    rows = frame(oasis_csv("PRC_LMP", *day(FALL_BACK))).filter(pl.col("LMP_TYPE") == "LMP")
    starts = dict(rows.select("OPR_HR", "INTERVALSTARTTIME_GMT").unique().iter_rows())
    assert starts["2"] == "2024-11-03T08:00:00-00:00"  # 01:00 PDT
    assert starts["3"] == "2024-11-03T09:00:00-00:00"  # 01:00 PST
    assert starts["25"] == "2024-11-04T07:00:00-00:00"


@pytest.mark.parametrize(("queryname", "count"), [("PRC_INTVL_LMP", 12), ("PRC_RTPD_LMP", 4)])
def test_real_time_hour_has_its_intervals(queryname, count):
    start = datetime(2024, 3, 10, 17, tzinfo=UTC)  # 10:00 PDT, HE11 of the 23-hour day
    rows = frame(oasis_csv(queryname, start, start + timedelta(hours=1)))
    assert rows.height == count * len(DEMO_NODES) * 5
    assert rows["INTERVALSTARTTIME_GMT"].n_unique() == count
    assert sorted(rows["OPR_INTERVAL"].cast(pl.Int64).unique()) == list(range(1, count + 1))
    assert rows["OPR_HR"].unique().to_list() == ["10"]


# OASIS headers as OASIS publishes them (PRC_LMP: ISO_REFERENCE.md and the real caiso/temp.zip;
# the real-time reports put the value column, VALUE or PRC, before OPR_INTERVAL), written out
# here so that neither the fake nor the parser can agree with itself on a typo.
OASIS_HEADERS = {
    "PRC_LMP": "INTERVALSTARTTIME_GMT,INTERVALENDTIME_GMT,OPR_DT,OPR_HR,OPR_INTERVAL,NODE_ID_XML,"
    "NODE_ID,NODE,MARKET_RUN_ID,LMP_TYPE,XML_DATA_ITEM,PNODE_RESMRID,GRP_TYPE,POS,MW,GROUP",
    "PRC_INTVL_LMP": "INTERVALSTARTTIME_GMT,INTERVALENDTIME_GMT,OPR_DT,OPR_HR,NODE_ID_XML,NODE_ID,"
    "NODE,MARKET_RUN_ID,LMP_TYPE,XML_DATA_ITEM,PNODE_RESMRID,GRP_TYPE,POS,VALUE,OPR_INTERVAL,GROUP",
    "PRC_RTPD_LMP": "INTERVALSTARTTIME_GMT,INTERVALENDTIME_GMT,OPR_DT,OPR_HR,NODE_ID_XML,NODE_ID,"
    "NODE,MARKET_RUN_ID,LMP_TYPE,XML_DATA_ITEM,PNODE_RESMRID,GRP_TYPE,POS,PRC,OPR_INTERVAL,GROUP",
    "PRC_AS": "INTERVALSTARTTIME_GMT,INTERVALENDTIME_GMT,OPR_DT,OPR_HR,OPR_INTERVAL,OPR_TYPE,"
    "ANC_TYPE,ANC_REGION,MARKET_RUN_ID,XML_DATA_ITEM,MW,GROUP",
}


@pytest.mark.parametrize("queryname", sorted(OASIS_HEADERS))
def test_fake_and_parser_use_the_published_oasis_header(queryname):
    start = datetime(2024, 11, 4, 8, tzinfo=UTC)
    content = oasis_csv(queryname, start, start + timedelta(hours=1))
    assert content.split(b"\n", 1)[0].decode() == OASIS_HEADERS[queryname]
    assert HEADERS[queryname] == OASIS_HEADERS[queryname]
    assert set(HEADERS) == set(OASIS_HEADERS)


@pytest.mark.parametrize(
    ("queryname", "value"), [("PRC_LMP", "MW"), ("PRC_INTVL_LMP", "VALUE"), ("PRC_RTPD_LMP", "PRC")]
)
def test_lmp_is_exactly_the_sum_of_its_components(queryname, value):
    start, end = day(FALL_BACK)
    if queryname != "PRC_LMP":
        end = start + timedelta(hours=1)
    rows = frame(oasis_csv(queryname, start, end))
    assert sorted(rows["LMP_TYPE"].unique()) == ["LMP", "MCC", "MCE", "MCL", "MGHG"]
    sums: dict[tuple[str, str], Decimal] = {}
    lmps: dict[tuple[str, str], Decimal] = {}
    for node, instant, kind, text in rows.select(
        "NODE", "INTERVALSTARTTIME_GMT", "LMP_TYPE", value
    ).iter_rows():
        assert len(text.partition(".")[2]) <= 5 and not text.endswith(".")
        target = lmps if kind == "LMP" else sums
        target[(node, instant)] = target.get((node, instant), Decimal(0)) + Decimal(text)
    assert lmps == sums
    assert any(v != 0 for v in rows.filter(pl.col("LMP_TYPE") == "MCC")[value].cast(pl.Float64))


def test_rows_are_grouped_by_node_and_component_but_unsorted_within_groups():
    rows = frame(oasis_csv("PRC_LMP", *day(date(2024, 7, 1))))
    groups = rows["GROUP"].cast(pl.Int64)
    assert groups.to_list() == sorted(groups.to_list())
    assert groups.n_unique() == len(DEMO_NODES) * 5
    first = rows.filter(pl.col("GROUP") == "1")["INTERVALSTARTTIME_GMT"].to_list()
    assert first != sorted(first)


def test_generation_is_deterministic():
    start, end = day(SPRING_FORWARD)
    assert oasis_zip("PRC_LMP", start, end) == oasis_zip("PRC_LMP", start, end)
    assert oasis_csv("PRC_AS", start, end) == oasis_csv("PRC_AS", start, end)


def test_as_prices_cover_every_region_and_product():
    rows = frame(oasis_csv("PRC_AS", *day(date(2024, 7, 1))))
    assert rows.height == 24 * len(AS_REGIONS) * len(AS_ITEMS)
    pairs = set(rows.select("ANC_TYPE", "XML_DATA_ITEM").unique().iter_rows())
    assert pairs == set(AS_ITEMS.items())
    assert sorted(rows["ANC_REGION"].unique()) == sorted(AS_REGIONS)
    assert rows["MW"].cast(pl.Float64).min() > 0


def test_faults_duplicate_and_drop_rows():
    start, end = day(date(2024, 7, 1))
    dropped = start + timedelta(hours=5)
    faults = Faults(duplicate_rows=3, drop_intervals=[dropped], drop_nodes=["DLAP_SCE-APND"])
    rows = frame(oasis_csv("PRC_LMP", start, end, faults=faults))
    assert rows.height == 24 * len(DEMO_NODES) * 5 - 5 + 3
    assert rows.is_duplicated().sum() == 6
    gone = rows.filter(pl.col("INTERVALSTARTTIME_GMT") == f"{dropped:%Y-%m-%dT%H:%M:%S}-00:00")
    assert "DLAP_SCE-APND" not in gone["NODE"].to_list()
    assert gone["NODE"].n_unique() == len(DEMO_NODES) - 1


def test_fault_absurd_price_replaces_one_lmp_value():
    clean = frame(oasis_csv("PRC_LMP", *day(date(2024, 7, 1))))
    rows = frame(oasis_csv("PRC_LMP", *day(date(2024, 7, 1)), faults=Faults(absurd_price=1e9)))
    assert rows.filter(pl.col("MW") == "1000000000")["LMP_TYPE"].to_list() == ["LMP"]
    assert (rows["MW"] != clean["MW"]).sum() == 1


@pytest.mark.parametrize(
    "faults", [Faults(extra_column="PNODE_TYPE"), Faults(missing_column="XML_DATA_ITEM")]
)
def test_schema_drift_faults_are_caught_by_the_parser(tmp_path, faults):
    path = tmp_path / "drift.zip"
    path.write_bytes(oasis_zip("PRC_LMP", *day(date(2024, 7, 1)), faults=faults))
    with pytest.raises(SchemaDriftError):
        CAISO.parse("lmp_da", [path])


def test_large_node_dam_day_has_every_row():
    # Speed of the generator is the benchmarks' business (bench/), not a unit test's.
    nodes = [f"NODE{i:04d}_1_N001" for i in range(1700)]
    content = oasis_csv("PRC_LMP", *day(date(2024, 7, 1)), nodes=nodes)
    assert content.count(b"\n") == 1 + 1700 * 24 * 5


# -- server ---------------------------------------------------------------------------------------


def test_server_answers_a_real_pipeline_request(tmp_path):
    request = CAISO.requests_for_day("lmp_da", SPRING_FORWARD)[0]
    with FakeOasis() as server:
        response = httpx.get(request.url(server.base_url), timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-zip-compressed"
    assert response.headers["content-disposition"].startswith("inline; filename=20240310_20240310_")
    CAISO.check_payload(response.content, request.url("x"))
    path = tmp_path / request.file_name
    path.write_bytes(response.content)
    parsed = CAISO.parse("lmp_da", [path])
    assert parsed.height == 23 * len(DEMO_NODES)
    assert server.requests[0].params["startdatetime"] == "20240310T08:00-0000"


def test_unpublished_day_answers_no_data_error_zip():
    request = CAISO.requests_for_day("lmp_da", SPRING_FORWARD)[0]
    with FakeOasis(unpublished_days={SPRING_FORWARD}) as server:
        content = httpx.get(request.url(server.base_url), timeout=10).content
    assert error_of(content) == ("INVALID_REQUEST.xml", "1000")
    with pytest.raises(IsoNoDataError):
        CAISO.check_payload(content, "unpublished")


def test_two_hour_all_node_rt5_request_is_refused_with_1018():
    start = datetime(2024, 3, 10, 17, tzinfo=UTC)
    with FakeOasis() as server:
        content = get(server, oasis_params("PRC_INTVL_LMP", start, start + timedelta(hours=2)))
    assert error_of(content.content) == ("INVALID_REQUEST.xml", "1018")
    with pytest.raises(IsoErrorResponse) as caught:
        CAISO.check_payload(content.content, "rt5")
    assert not isinstance(caught.value, IsoNoDataError)


def _with(params: list[tuple[str, str]], **changes: str | None) -> list[tuple[str, str]]:
    kept = [(k, changes.get(k, v)) for k, v in params]
    return [(k, v) for k, v in kept if v is not None]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"queryname": "PRC_NOPE"}, "1005"),
        ({"version": "1"}, "1006"),
        ({"market_run_id": "RTM"}, "1006"),
        ({"startdatetime": "2024-03-10 08:00"}, "1002"),
        ({"enddatetime": None}, "1001"),
        ({"grp_type": None}, "1001"),
        ({"enddatetime": "20240420T07:00-0000"}, "1004"),
    ],
)
def test_invalid_requests_get_oasis_error_zips(changes, code):
    params = oasis_params("PRC_LMP", *day(SPRING_FORWARD))
    with FakeOasis() as server:
        response = get(server, _with(params, **changes))
    assert response.status_code == 200
    assert error_of(response.content) == ("INVALID_REQUEST.xml", code)


def test_recordings_round_trip(tmp_path):
    written = record_demo(tmp_path, [FALL_BACK])
    zips = [p for p in written if p.suffix == ".zip"]
    # lmp_da, as_da, 25 hours each of rt5 and rt15, and 3 SLD_FCST runs; plus 2 Outlook CSVs.
    assert len(zips) == len({p.name for p in zips}) == 2 + 2 * 25 + 3
    assert sorted(p.name for p in written if p.suffix == ".csv") == ["demand.csv", "fuelsource.csv"]
    requests = [CAISO.requests_for_day(ds, FALL_BACK)[-1] for ds in ("lmp_da", "lmp_rt5", "as_da")]
    with FakeOasis(recordings_dir=tmp_path, generate=False) as server:
        for request in requests:
            params = dict(request.params)
            expected = oasis_zip(params["queryname"], request.window_start, request.window_end)
            served = httpx.get(request.url(server.base_url), timeout=10).content
            assert served == expected == (tmp_path / recording_name(request.params)).read_bytes()
        other_day = CAISO.requests_for_day("lmp_da", date(2024, 11, 5))[0]
        missing = httpx.get(other_day.url(server.base_url), timeout=10).content
    assert error_of(missing) == ("INVALID_REQUEST.xml", "1000")


def test_repository_recordings_match_the_generator(tmp_path):
    shipped = sorted(RECORDINGS_DIR.glob("*.zip"))
    assert shipped, "run: python -m power_assets.demo.oasis_server --record ... --days ..."
    written = record_demo(tmp_path, [FALL_BACK, date(2024, 11, 4)])
    fresh = {p.name: p for p in written if p.suffix == ".zip"}
    assert sorted(p.name for p in shipped) == sorted(fresh)
    for path in shipped:
        if path.name.startswith("SLD_FCST"):
            assert path.read_bytes() == fresh[path.name].read_bytes(), path.name
        else:
            assert frame(path.read_bytes()).equals(frame(fresh[path.name].read_bytes())), path.name
    for path in (p for p in written if p.suffix == ".csv"):
        shipped_csv = RECORDINGS_DIR / path.relative_to(tmp_path)
        assert shipped_csv.read_bytes() == path.read_bytes(), path


def test_throttle_every_nth_request_answers_429_html():
    params = oasis_params("PRC_AS", *day(SPRING_FORWARD))
    with FakeOasis(throttle_every=2) as server:
        statuses = [get(server, params) for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 429, 200, 429]
    assert statuses[1].content == THROTTLE_HTML
    assert statuses[1].headers["content-type"].startswith("text/html")
    with pytest.raises(IsoRateLimitedError):
        CAISO.check_payload(statuses[1].content, "throttled")


def test_first_requests_fail_with_503_then_succeed():
    params = oasis_params("PRC_AS", *day(SPRING_FORWARD))
    with FakeOasis(fail_first_with_503=2) as server:
        codes = [get(server, params).status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    assert [r.status for r in server.requests] == codes


def test_requests_are_logged_with_params_and_times():
    with FakeOasis() as server:
        for request in CAISO.requests_for_day("lmp_rt15", SPRING_FORWARD)[:3]:
            httpx.get(request.url(server.base_url), timeout=10)
    logged = server.requests
    assert [r.path for r in logged] == ["/oasisapi/SingleZip"] * 3
    assert [r.params["startdatetime"] for r in logged] == [
        "20240310T08:00-0000",
        "20240310T09:00-0000",
        "20240310T10:00-0000",
    ]
    assert logged[0].params["queryname"] == "PRC_RTPD_LMP"
    assert logged[0].time <= logged[1].time <= logged[2].time


def test_server_faults_apply_to_their_report_only():
    faults = {"PRC_LMP": Faults(extra_column="NEW_COLUMN")}
    with FakeOasis(faults=faults) as server:
        lmp = get(server, oasis_params("PRC_LMP", *day(SPRING_FORWARD))).content
        ancillary = get(server, oasis_params("PRC_AS", *day(SPRING_FORWARD))).content
    assert frame(lmp).columns[-1] == "NEW_COLUMN"
    assert frame(ancillary).columns == HEADERS["PRC_AS"].split(",")


def test_recording_name_matches_the_pipeline_file_name():
    for dataset in ("lmp_da", "lmp_rt5", "lmp_rt15", "as_da"):
        for request in CAISO.requests_for_day(dataset, FALL_BACK):
            assert recording_name(request.params) == request.file_name
    node_query = oasis_params("PRC_LMP", *day(FALL_BACK), node="DLAP_SCE-APND")
    assert recording_name(node_query) != CAISO.requests_for_day("lmp_da", FALL_BACK)[0].file_name


def test_node_selection_limits_the_answer():
    params = oasis_params("PRC_LMP", *day(SPRING_FORWARD), node="DLAP_SCE-APND,TH_SP15_GEN-APND")
    with FakeOasis() as server:
        rows = frame(get(server, params).content)
    assert sorted(rows["NODE"].unique()) == ["DLAP_SCE-APND", "TH_SP15_GEN-APND"]


def test_recordings_directory_is_small():
    assert sum(p.stat().st_size for p in Path(RECORDINGS_DIR).glob("*.zip")) < 2_000_000
