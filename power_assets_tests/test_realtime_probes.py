"""The real-time probes: per ISO, a cheap request in the ISO's real URL shape, the newest interval
read from its answer (a file tail cut mid-line, the whole file, nothing yet, the 25-hour fall-back
day's repeated hour), agreeing with where the parser puts the same rows; CAISO's requests narrowed
to the part of an hour window not fetched yet; and each ISO's automation settings."""

import json
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from power_assets.demo.ercot_fixtures import doc_zip, documents_for_day, settlement_points
from power_assets.demo.ercot_server import FakeErcot
from power_assets.demo.isone_fixtures import DEMO_LOCATIONS, rt5_lmp_csv
from power_assets.demo.nyiso_fixtures import EXTERNALS, ZONES, nyiso_csv
from power_assets.demo.oasis_fixtures import oasis_error_zip, oasis_zip
from power_assets.errors import (
    IsoErrorResponse,
    IsoNoDataError,
    MalformedFileError,
    UnsupportedDatasetError,
)
from power_assets.isos import (
    DayAheadSchedule,
    RealtimeFeed,
    RequestNarrowing,
    get_iso,
    registered_isos,
)
from power_assets.isos.caiso import Caiso
from power_assets.isos.ercot import PASSWORD_ENV, SUBSCRIPTION_KEY_ENV, USERNAME_ENV, Ercot
from power_assets.isos.isone import Isone
from power_assets.isos.nyiso import Nyiso
from power_assets_tests.samples import require_sample

FALL_BACK = date(2024, 11, 3)  # 25 hours in every US zone
TAIL = 16_384
FIVE = timedelta(minutes=5)


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def _tail(content: bytes) -> bytes:
    """What a server answers to `Range: bytes=-16384`: the whole of a shorter file, else the last
    bytes, which for these tests must begin inside a line."""
    if len(content) <= TAIL:
        return content
    tail = content[-TAIL:]
    assert content[-TAIL - 1 : -TAIL] not in (b"\n", b"\r"), "cut at a line start: not a test"
    return tail


# --- every ISO -------------------------------------------------------------------------------

SETTINGS = {
    "CAISO": (("lmp_rt5", "lmp_rt15"), time(13, 15), time(15, 45),
              ("lmp_da", "as_da", "load_forecast")),
    "ERCOT": (("lmp_rt5", "lmp_rt15"), time(13, 45), time(16, 15),
              ("lmp_da", "as_da", "load_forecast")),
    "ISONE": (("lmp_rt5", "fuel_mix"), time(13, 45), time(16, 15), ("lmp_da",)),
    "NYISO": (("lmp_rt5", "as_rt", "load", "fuel_mix"), time(11, 15), time(14, 15),
              ("lmp_da", "as_da", "load_forecast")),
    # PJM posts day-ahead results between 12:00 and 13:30 EPT.
    "PJM": (("lmp_rt5",), time(13, 40), time(15, 30), ("lmp_da", "as_da")),
    # MISO posts day-ahead results about 14:00 EST the day before.
    "MISO": (("lmp_rt5", "fuel_mix", "load"), time(14, 30), time(17, 0),
             ("lmp_da", "lmp_da_exante", "as_da")),
    # SPP posts day-ahead results around 14:00 CT (Order 809-era timing; current unverified).
    "SPP": (("lmp_rt5", "as_rt"), time(14, 30), time(17, 0), ("lmp_da", "as_da")),
}  # fmt: skip


@pytest.mark.parametrize("iso_id", sorted(SETTINGS))
def test_each_iso_probes_lmp_rt5_and_refreshes_datasets_it_offers(iso_id):
    iso = get_iso(iso_id)
    datasets, publish, retry, day_ahead = SETTINGS[iso_id]
    assert iso.realtime == RealtimeFeed("lmp_rt5", datasets)
    assert iso.day_ahead == DayAheadSchedule(publish, retry, day_ahead)
    assert iso.realtime.probe_dataset in iso.realtime.datasets
    assert set(iso.realtime.datasets) | set(iso.day_ahead.datasets) <= set(iso.datasets)
    assert iso.day_ahead.publish < iso.day_ahead.retry


def test_every_registered_iso_with_a_sensor_has_a_probe():
    now = _utc(2024, 11, 3, 6, 37, 30)
    for iso in registered_isos():
        if iso.realtime is not None:
            probe = iso.latest_interval_request(now)
            assert probe.iso == iso.id and probe.dataset == iso.realtime.probe_dataset


# --- CAISO -----------------------------------------------------------------------------------

CAISO = Caiso()
# 01:37:30 PST on the fall-back day: the second pass of the repeated hour.
CAISO_NOW = _utc(2024, 11, 3, 9, 37, 30)


def test_caiso_probe_asks_one_hub_for_the_last_hour_of_5_minute_prices():
    probe = CAISO.latest_interval_request(CAISO_NOW)
    url = probe.url("http://oasis.caiso.com/oasisapi")
    assert url == (
        "http://oasis.caiso.com/oasisapi/SingleZip?resultformat=6&queryname=PRC_INTVL_LMP"
        "&version=3&market_run_id=RTM&startdatetime=20241103T08:35-0000"
        "&enddatetime=20241103T09:40-0000&node=TH_NP15_GEN-APND"
    )
    assert "grp_type" not in _query(url)
    assert (probe.dataset, probe.window_start, probe.window_end) == (
        "lmp_rt5", _utc(2024, 11, 3, 8, 35), _utc(2024, 11, 3, 9, 40),
    )  # fmt: skip
    assert probe.file_name == "PRC_INTVL_LMP_RTM_TH_NP15_GEN-APND_20241103T0835Z_20241103T0940Z.zip"


def test_caiso_probe_answer_in_the_repeated_hour_gives_the_second_pass_instant():
    # OASIS has published up to the interval ending 01:35 PST (09:35 UTC).
    published = _utc(2024, 11, 3, 9, 35)
    answer = oasis_zip(
        "PRC_INTVL_LMP", _utc(2024, 11, 3, 8, 35), published, nodes=["TH_NP15_GEN-APND"]
    )
    assert CAISO.latest_interval_end("lmp_rt5", answer, "probe") == published


@pytest.mark.parametrize(("dataset", "query"), [("lmp_rt5", "PRC_INTVL_LMP"),
                                                ("lmp_rt15", "PRC_RTPD_LMP")])  # fmt: skip
def test_caiso_all_node_hour_answers_give_their_last_interval_end(dataset, query):
    answer = oasis_zip(query, _utc(2024, 11, 3, 9), _utc(2024, 11, 3, 9, 45))
    assert CAISO.latest_interval_end(dataset, answer, "piece") == _utc(2024, 11, 3, 9, 45)


def test_caiso_no_data_is_none_and_other_oasis_errors_raise():
    when = _utc(2024, 11, 3, 9)
    assert CAISO.latest_interval_end("lmp_rt5", oasis_error_zip(when=when), "probe") is None
    with pytest.raises(IsoErrorResponse) as raised:
        CAISO.latest_interval_end(
            "lmp_rt5", oasis_error_zip("1001", "Missing required parameter", when=when), "probe"
        )
    assert not isinstance(raised.value, IsoNoDataError)
    with pytest.raises(MalformedFileError):
        CAISO.latest_interval_end("lmp_rt5", b"<html>Service Unavailable</html>", "probe")


def test_caiso_outlook_datasets_have_no_latest_interval():
    with pytest.raises(UnsupportedDatasetError, match="CAISO cannot read the newest interval"):
        CAISO.latest_interval_end("fuel_mix", b"Time,Solar\n00:00,0\n", "fuelsource.csv")


def test_caiso_real_oasis_zips_give_their_exact_last_interval_end(samples):
    cases = {
        # PRC_LMP DAM, all AP nodes, intervals starting 2020-01-02T00:00..23:00Z.
        ("lmp_da", "temp.zip"): _utc(2020, 1, 3),
        # A legacy XML data report (no CSV inside).
        ("load_forecast", "SLD_FCST.zip"): _utc(2016, 5, 21, 7),
    }
    for (dataset, name), expected in cases.items():
        path = require_sample(f"caiso/{name}")
        assert CAISO.latest_interval_end(dataset, path.read_bytes(), str(path)) == expected


def _rt5_hour(start: datetime):
    (request,) = [
        r for r in CAISO.requests_for_day("lmp_rt5", FALL_BACK) if r.window_start == start
    ]
    return request


def test_caiso_narrowed_request_starts_later_in_the_same_hour_under_its_own_name():
    request = _rt5_hour(_utc(2024, 11, 3, 9))
    piece = CAISO.narrow_request(request, _utc(2024, 11, 3, 9, 35))
    query = _query(piece.url("http://oasis.caiso.com/oasisapi"))
    assert query["startdatetime"] == "20241103T09:35-0000"
    assert query["enddatetime"] == "20241103T10:00-0000"
    assert query["grp_type"] == "ALL_APNODES" and query["queryname"] == "PRC_INTVL_LMP"
    assert (piece.window_start, piece.window_end) == (_utc(2024, 11, 3, 9, 35), request.window_end)
    assert (
        piece.file_name == "PRC_INTVL_LMP_RTM_20241103T0900Z_20241103T1000Z__from20241103T0935.zip"
    )
    # Every start gets its own file, none the unnarrowed request's.
    names = {
        CAISO.narrow_request(request, request.window_start + k * FIVE).file_name for k in range(12)
    }
    assert len(names) == 12 and request.file_name not in names


def test_caiso_narrows_rt15_hours_but_not_daily_or_outlook_requests():
    (rt15,) = [
        r for r in CAISO.requests_for_day("lmp_rt15", FALL_BACK)
        if r.window_start == _utc(2024, 11, 3, 9)
    ]  # fmt: skip
    piece = CAISO.narrow_request(rt15, _utc(2024, 11, 3, 9, 30))
    assert _query(piece.url("http://x"))["startdatetime"] == "20241103T09:30-0000"
    for dataset in ("lmp_da", "as_da", "load_forecast", "fuel_mix"):
        request = CAISO.requests_for_day(dataset, FALL_BACK)[0]
        assert CAISO.narrow_request(request, request.window_start) is None, dataset


def test_caiso_narrowing_refuses_starts_outside_the_window_or_off_the_5_minute_grid():
    request = _rt5_hour(_utc(2024, 11, 3, 9))
    for start in (_utc(2024, 11, 3, 8, 55), _utc(2024, 11, 3, 10), _utc(2024, 11, 3, 9, 2)):
        with pytest.raises(ValueError):
            CAISO.narrow_request(request, start)


def test_only_caiso_declares_request_narrowing():
    narrowing = {iso.id for iso in registered_isos() if isinstance(iso, RequestNarrowing)}
    assert narrowing == {"CAISO"}


# --- ERCOT -----------------------------------------------------------------------------------

ERCOT = Ercot()
SCED_POINTS = settlement_points(2)


@pytest.fixture(scope="module")
def fall_back_docs():
    return documents_for_day(FALL_BACK, SCED_POINTS)


def _listing(docs, now: datetime) -> bytes:
    fake = FakeErcot(docs, now=now)
    answer = fake.handle("GET", "/misapp/servlets/IceDocListJsonWS?reportTypeId=12300", {})
    assert answer.status == 200
    return answer.body


def test_ercot_probe_is_the_mis_listing_planning_makes_for_sced_lmps(monkeypatch):
    for name in (USERNAME_ENV, PASSWORD_ENV, SUBSCRIPTION_KEY_ENV):
        monkeypatch.delenv(name, raising=False)
    now = _utc(2024, 11, 3, 7, 37, 30)
    probe = ERCOT.latest_interval_request(now)
    assert probe.url("https://www.ercot.com") == (
        "https://www.ercot.com/misapp/servlets/IceDocListJsonWS?reportTypeId=12300"
    )
    listed = []

    def lister(request):
        listed.append(request)
        return b'{"ListDocsByRptTypeRes": {"DocumentList": []}}'

    with pytest.raises(IsoNoDataError):
        ERCOT.plan_day("lmp_rt5", FALL_BACK, lister, today=FALL_BACK)
    assert listed == [probe]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (_utc(2024, 11, 3, 6, 37, 30), _utc(2024, 11, 3, 6, 40)),  # 01:37 CDT, first pass
        (_utc(2024, 11, 3, 7, 37, 30), _utc(2024, 11, 3, 7, 40)),  # 01:37 CST, second pass
        (_utc(2024, 11, 3, 18, 1), _utc(2024, 11, 3, 18)),  # the 12:55 run posts at 12:56:15
    ],
)
def test_ercot_newest_sced_document_gives_its_interval_end(fall_back_docs, now, expected):
    assert ERCOT.latest_interval_end("lmp_rt5", _listing(fall_back_docs, now), "listing") == (
        expected
    )


def test_ercot_interval_end_agrees_with_where_the_parser_puts_the_document(
    fall_back_docs, tmp_path
):
    now = _utc(2024, 11, 3, 7, 37, 30)
    posted = [d for d in fall_back_docs if d.report_type_id == 12300 and d.posted <= now]
    # Through UTC: Central times compare by wall clock, which misorders the repeated hour.
    newest = max(posted, key=lambda d: d.posted.astimezone(UTC))
    assert newest.friendly_name.startswith("LMPSROSNODENP6788_20241103_0135")
    path = tmp_path / newest.constructed_name
    path.write_bytes(doc_zip(newest))
    parsed = ERCOT.parse("lmp_rt5", [path])
    latest = ERCOT.latest_interval_end("lmp_rt5", _listing(fall_back_docs, now), "listing")
    assert parsed.get_column("interval_end").unique().to_list() == [latest]


def test_ercot_listing_without_a_sced_csv_document_is_none(fall_back_docs):
    nothing_yet = _listing(fall_back_docs, _utc(2024, 11, 1))
    assert ERCOT.latest_interval_end("lmp_rt5", nothing_yet, "listing") is None
    body = json.loads(_listing(fall_back_docs, _utc(2024, 11, 3, 7, 37, 30)))
    entries = body["ListDocsByRptTypeRes"]["DocumentList"]
    xml_only = [e for e in entries if e["Document"]["ConstructedName"].endswith("_xml.zip")]
    assert xml_only and len(xml_only) < len(entries)
    body["ListDocsByRptTypeRes"]["DocumentList"] = xml_only
    assert ERCOT.latest_interval_end("lmp_rt5", json.dumps(body).encode(), "listing") is None


def test_ercot_error_answers_to_the_probe_raise():
    with pytest.raises(MalformedFileError):
        ERCOT.latest_interval_end("lmp_rt5", b"<html>maintenance</html>", "listing")


# --- NYISO -----------------------------------------------------------------------------------

NYISO = Nyiso()
NYISO_ROWS_PER_INTERVAL = len(ZONES) + len(EXTERNALS)


def _nyiso_published(until: datetime, day: date = FALL_BACK, **variants) -> bytes:
    """Today's realtime_zone.csv as written up to the interval ending at `until`."""
    lines = nyiso_csv("realtime", day, "_zone", **variants).splitlines(keepends=True)
    start = NYISO.market_day_bounds(day)[0]
    intervals = int((until - start) / FIVE)
    return b"".join(lines[: 1 + intervals * NYISO_ROWS_PER_INTERVAL])


def test_nyiso_probe_asks_for_the_tail_of_todays_realtime_zone_file():
    # 22:30 EST on 2024-11-03 is already 2024-11-04 in UTC.
    probe = NYISO.latest_interval_request(_utc(2024, 11, 4, 3, 30))
    assert probe.url("http://mis.nyiso.com/public") == (
        "http://mis.nyiso.com/public/csv/realtime/20241103realtime_zone.csv"
    )
    assert dict(probe.headers) == {"Range": "bytes=-16384"}
    assert probe.method == "GET" and probe.dataset == "lmp_rt5"
    assert (probe.window_start, probe.window_end) == NYISO.market_day_bounds(FALL_BACK)
    assert probe.file_name == "20241103realtime_zone_tail.csv"


@pytest.mark.parametrize(
    "until",
    [
        _utc(2024, 11, 3, 5, 35),  # 01:35 EDT, first pass
        _utc(2024, 11, 3, 6, 35),  # 01:35 EST, second pass
        _utc(2024, 11, 3, 6, 0),  # 01:00 EST: the wall time of 01:00 EDT again
        _utc(2024, 11, 3, 20, 15),
    ],
)
@pytest.mark.parametrize("time_zone_column", [False, True])
def test_nyiso_tail_and_whole_file_give_the_newest_interval_end(until, time_zone_column):
    whole = _nyiso_published(until, time_zone_column=time_zone_column)
    source = "http://mis.nyiso.com/public/csv/realtime/20241103realtime_zone.csv"
    assert NYISO.latest_interval_end("lmp_rt5", _tail(whole), source) == until
    assert NYISO.latest_interval_end("lmp_rt5", whole, source) == until


def test_nyiso_tail_in_the_second_pass_holds_the_first_pass_and_reads_as_est():
    whole = _nyiso_published(_utc(2024, 11, 3, 6, 35))  # 01:35 EST
    tail = _tail(whole)
    assert len(whole) > TAIL and b'"11/03/2024 01:55:00"' in tail  # 01:55 EDT, then back
    assert NYISO.latest_interval_end("lmp_rt5", tail, "tail") == _utc(2024, 11, 3, 6, 35)


def test_nyiso_interval_end_agrees_with_the_parser(tmp_path):
    until = _utc(2024, 11, 3, 6, 35)
    path = tmp_path / "20241103realtime_zone.csv"
    path.write_bytes(_nyiso_published(until))
    parsed = NYISO.parse("lmp_rt5", [path])
    assert parsed.get_column("interval_end").max() == until


def test_nyiso_irregular_rtd_stamp_fills_the_interval_it_falls_in():
    # An off-grid RTD run at 01:37:48 EST, after the clock went back: interval 01:35-01:40 EST.
    whole = _nyiso_published(_utc(2024, 11, 3, 6, 35))
    whole += b'"11/03/2024 01:37:48","CAPITL",61757,25.10,1.02,0.00\r\n'
    assert NYISO.latest_interval_end("lmp_rt5", _tail(whole), "tail") == _utc(2024, 11, 3, 6, 40)


def test_nyiso_half_written_last_line_is_not_an_interval():
    whole = _nyiso_published(_utc(2024, 11, 3, 6, 35))
    growing = whole + b'"11/03/2024 01:40:00","CAP'
    assert NYISO.latest_interval_end("lmp_rt5", _tail(growing), "t") == _utc(2024, 11, 3, 6, 35)


def test_nyiso_file_without_intervals_yet_is_none():
    header_only = _nyiso_published(NYISO.market_day_bounds(FALL_BACK)[0])
    assert header_only.count(b"\n") == 1
    assert NYISO.latest_interval_end("lmp_rt5", header_only, "probe") is None
    assert NYISO.latest_interval_end("lmp_rt5", b"", "probe") is None


def test_nyiso_real_realtime_file_and_its_tail(samples):
    path = require_sample("nyiso/lmp.csv")
    content = path.read_bytes()
    # Its last rows are stamped 02/18/2016 00:45:00 (EST, interval end).
    expected = _utc(2016, 2, 18, 5, 45)
    assert NYISO.latest_interval_end("lmp_rt5", content, str(path)) == expected
    assert NYISO.latest_interval_end("lmp_rt5", content[-700:], str(path)) == expected


# --- ISO-NE ----------------------------------------------------------------------------------

ISONE = Isone()
ISONE_SOURCE = (
    "https://www.iso-ne.com/static-transform/csv/histRpts/5min-rt-prelim/"
    "lmp_5min_20241103_00-04.csv"
)


def _isone_published(until: datetime, trailer: bool = False, day: date = FALL_BACK) -> bytes:
    """The 00-04 file of `day` as written up to the interval ending at `until`."""
    lines = rt5_lmp_csv(day, "00-04").splitlines(keepends=True)
    head = [line for line in lines if line.startswith((b'"C"', b'"H"'))]
    data = [line for line in lines if line.startswith(b'"D"')]
    block_start = ISONE.market_day_bounds(day)[0]
    rows = data[: int((until - block_start) / FIVE) * len(DEMO_LOCATIONS)]
    end = [f'"T","{len(rows)} lines"\r\n'.encode()] if trailer else []
    return b"".join([*head, *rows, *end])


def test_isone_probe_asks_for_the_tail_of_the_open_4_hour_block():
    probe = ISONE.latest_interval_request(_utc(2024, 11, 3, 6, 37, 30))  # 01:37 EST
    assert probe.url("https://www.iso-ne.com") == ISONE_SOURCE
    assert dict(probe.headers) == {"Range": "bytes=-16384"}
    # The fall-back day's first block runs five real hours.
    assert (probe.window_start, probe.window_end) == (_utc(2024, 11, 3, 4), _utc(2024, 11, 3, 9))
    noon = ISONE.latest_interval_request(_utc(2024, 11, 3, 17, 2))  # 12:02 EST
    assert noon.url("https://www.iso-ne.com").endswith("/lmp_5min_20241103_12-16.csv")
    assert noon.file_name == "lmp_5min_20241103_12-16_tail.csv"


@pytest.mark.parametrize(
    "until",
    [
        _utc(2024, 11, 3, 5, 40),  # interval 01:35-01:40 EDT, first pass
        _utc(2024, 11, 3, 6, 40),  # interval 01:35-01:40 EST, second pass
        _utc(2024, 11, 3, 6, 5),  # interval 01:00-01:05 EST, the first wall time repeated
        _utc(2024, 11, 3, 8, 15),
    ],
)
@pytest.mark.parametrize("trailer", [False, True])
def test_isone_tail_and_whole_file_give_the_newest_interval_end(until, trailer):
    whole = _isone_published(until, trailer)
    assert ISONE.latest_interval_end("lmp_rt5", _tail(whole), ISONE_SOURCE) == until
    assert ISONE.latest_interval_end("lmp_rt5", whole, ISONE_SOURCE) == until


def test_isone_tail_in_the_second_pass_reads_as_est():
    whole = _isone_published(_utc(2024, 11, 3, 6, 40))  # interval 01:35-01:40 EST
    assert len(whole) > TAIL
    latest = ISONE.latest_interval_end("lmp_rt5", _tail(whole), ISONE_SOURCE)
    assert latest == _utc(2024, 11, 3, 6, 40)


def test_isone_interval_end_agrees_with_the_parser(tmp_path):
    until = _utc(2024, 11, 3, 6, 40)
    path = tmp_path / "lmp_5min_20241103_00-04.csv"
    path.write_bytes(_isone_published(until, trailer=True))
    assert ISONE.parse("lmp_rt5", [path]).get_column("interval_end").max() == until


def test_isone_file_without_data_records_is_none():
    empty_block = _isone_published(ISONE.market_day_bounds(FALL_BACK)[0], trailer=True)
    assert b'"D"' not in empty_block
    assert ISONE.latest_interval_end("lmp_rt5", empty_block, ISONE_SOURCE) is None
    assert ISONE.latest_interval_end("lmp_rt5", b"", ISONE_SOURCE) is None


def test_isone_tail_needs_the_file_name_for_its_date():
    whole = _isone_published(_utc(2024, 11, 3, 6, 40))
    with pytest.raises(MalformedFileError, match="lmp_5min_YYYYMMDD_HH-HH"):
        ISONE.latest_interval_end("lmp_rt5", whole, "probe")


def test_probe_tails_parse_from_kept_files_too(tmp_path):
    # Stage code may pass the kept file's path rather than the URL as the source.
    path = tmp_path / "lmp_5min_20241103_00-04_tail.csv"
    path.write_bytes(_tail(_isone_published(_utc(2024, 11, 3, 8, 15))))
    assert ISONE.latest_interval_end("lmp_rt5", path.read_bytes(), str(path)) == _utc(
        2024, 11, 3, 8, 15
    )


# --- the 23-hour spring-forward day, every ISO -------------------------------------------------

SPRING = date(2024, 3, 10)  # 02:00-03:00 local does not exist


def test_caiso_probe_answer_just_after_spring_forward():
    published = _utc(2024, 3, 10, 10, 5)  # 03:05 PDT; 02:00 PST was 10:00 UTC
    answer = oasis_zip("PRC_INTVL_LMP", _utc(2024, 3, 10, 9), published, nodes=["TH_NP15_GEN-APND"])
    assert CAISO.latest_interval_end("lmp_rt5", answer, "probe") == published


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (_utc(2024, 3, 10, 8, 1), _utc(2024, 3, 10, 8)),  # 01:55 CST run: ends 03:00 CDT
        (_utc(2024, 3, 10, 8, 7), _utc(2024, 3, 10, 8, 10)),  # 03:05 CDT run: ends 03:10 CDT
    ],
)
def test_ercot_newest_sced_document_across_spring_forward(now, expected):
    docs = documents_for_day(SPRING, SCED_POINTS)
    assert ERCOT.latest_interval_end("lmp_rt5", _listing(docs, now), "listing") == expected


@pytest.mark.parametrize("until", [_utc(2024, 3, 10, 7), _utc(2024, 3, 10, 7, 5)])
def test_nyiso_tail_just_after_spring_forward(until):
    # 01:55-02:00 EST ends at 07:00 UTC, printed 03:00 EDT; the next ends 03:05 EDT.
    whole = _nyiso_published(until, day=SPRING)
    source = "http://mis.nyiso.com/public/csv/realtime/20240310realtime_zone.csv"
    assert NYISO.latest_interval_end("lmp_rt5", _tail(whole), source) == until
    assert NYISO.latest_interval_end("lmp_rt5", whole, source) == until


@pytest.mark.parametrize("until", [_utc(2024, 3, 10, 7), _utc(2024, 3, 10, 7, 5)])
def test_isone_tail_just_after_spring_forward(until):
    whole = _isone_published(until, day=SPRING)
    source = ISONE_SOURCE.replace("20241103", "20240310")
    assert ISONE.latest_interval_end("lmp_rt5", whole, source) == until
    if len(whole) > TAIL:
        assert ISONE.latest_interval_end("lmp_rt5", _tail(whole), source) == until
