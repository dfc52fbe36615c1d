"""The battery every registered ISO runs (the `BaseTestISO` idea): each ISO declares only its facts.

A new ISO joins `FACTS` below and gets, for free: market-day length on both DST days, request
windows and planned requests tiling those days, value bounds for every kind and year it offers,
refusal of empty, HTML and error answers, its own "no data" answer read as no data, and the
real-time probe contract. The facts are written from the ISO's published documents (time zone,
DST dates, error bodies as the ISO sends them), never read from the ISO's module.
"""

import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest

from power_assets.demo.ercot_fixtures import documents_for_day, settlement_points
from power_assets.demo.ercot_server import FakeErcot
from power_assets.errors import (
    DownloadError,
    IsoErrorResponse,
    IsoNoDataError,
    PowerAssetsError,
)
from power_assets.io.http import IsoHttpClient
from power_assets.isos import DownloadRequest, IsoDefinition, get_iso, registered_isos

Planner = Callable[[IsoDefinition, str, date], list[DownloadRequest]]


@dataclass(frozen=True)
class IsoFacts:
    timezone: str
    spring_forward: date  # a day with 23 local hours (or 24 for an ISO on fixed standard time)
    fall_back: date
    dst_hours: tuple[int, int] = (23, 25)
    # (answer body, URL path it answers) as the ISO sends "no data" / an error, under HTTP 200.
    no_data: tuple[bytes, str] | None = None
    error: tuple[bytes, str] | None = None
    # Plans a day's requests; default `plan_day` with a lister that must not be called.
    planner: Callable[[], AbstractContextManager[Planner]] | None = None


def _no_listing(request: DownloadRequest) -> bytes:
    raise AssertionError(f"{request.iso} should not need a listing to plan {request.dataset}")


@contextmanager
def _direct() -> Iterator[Planner]:
    yield lambda iso, dataset, day: iso.plan_day(dataset, day, _no_listing, date(2026, 1, 1))


@contextmanager
def _ercot_mis() -> Iterator[Planner]:
    days = [date(2024, 3, 9) + timedelta(days=i) for i in range(3)]
    days += [date(2024, 11, 2) + timedelta(days=i) for i in range(3)]
    points = settlement_points(2)
    docs = [doc for day in days for doc in documents_for_day(day, points, sced=True)]
    with FakeErcot(docs, now=datetime(2024, 11, 6, tzinfo=UTC)) as fake, _client(fake) as client:

        def plan(iso: IsoDefinition, dataset: str, day: date) -> list[DownloadRequest]:
            lister = lambda request: client.fetch(iso, request).content  # noqa: E731
            return iso.plan_day(dataset, day, lister, date(2024, 11, 5))

        yield plan


@contextmanager
def _client(fake: FakeErcot) -> Iterator[IsoHttpClient]:
    with tempfile.TemporaryDirectory() as locks:
        client = IsoHttpClient(
            base_urls={"ERCOT": fake.base_url, "ERCOT:api": fake.api_base_url},
            min_spacing_s={"ERCOT": 0.0}, max_retries=1, backoff_base_s=0.01, lock_dir=locks,
        )  # fmt: skip
        try:
            yield client
        finally:
            client.close()


@contextmanager
def _miso_morning_after() -> Iterator[Planner]:
    """MISO's public API serves only today and yesterday: plan each day the morning after, when
    its real-time results are still preliminary (the final file answers 404)."""

    def not_final_yet(request: DownloadRequest) -> bytes:
        raise DownloadError(
            f"MISO: https://iso.example/{request.path}: HTTP 404: 'not found'", status=404
        )

    yield lambda iso, dataset, day: iso.plan_day(
        dataset, day, not_final_yet, day + timedelta(days=1)
    )


@contextmanager
def _spp_portal() -> Iterator[Planner]:
    """SPP plans every day from its file browser's listings: a fake portal serving both DST
    days (and the days before them, whose MTLF vintages forecast them)."""
    from power_assets.demo.spp_server import FakeSpp

    days = [date(2024, 3, 9), date(2024, 3, 10), date(2024, 11, 2), date(2024, 11, 3)]
    with FakeSpp(days) as fake, tempfile.TemporaryDirectory() as locks:
        client = IsoHttpClient(
            base_urls={"SPP": fake.base_url}, min_spacing_s={"SPP": 0.0}, max_retries=1,
            backoff_base_s=0.01, lock_dir=locks,
        )  # fmt: skip
        try:

            def plan(iso: IsoDefinition, dataset: str, day: date) -> list[DownloadRequest]:
                lister = lambda request: client.fetch(iso, request).content  # noqa: E731
                return iso.plan_day(dataset, day, lister, date(2024, 12, 1))

            yield plan
        finally:
            client.close()


FACTS: dict[str, IsoFacts] = {
    "CAISO": IsoFacts(
        "America/Los_Angeles", date(2024, 3, 10), date(2024, 11, 3),
        # OASIS answers an error as XML (inside the ZIP, or bare): code 1000 is "no data".
        no_data=(b'<?xml version="1.0" encoding="UTF-8"?><OASISReport xmlns="http://www.caiso.com/'
                 b'soa/OASISReport_v1.xsd"><MessagePayload><RTO><ERROR><ERR_CODE>1000</ERR_CODE>'
                 b"<ERR_DESC>No data returned for the specified selection</ERR_DESC></ERROR>"
                 b"</RTO></MessagePayload></OASISReport>", "/oasisapi/SingleZip"),
        error=(b'<?xml version="1.0" encoding="UTF-8"?><OASISReport xmlns="http://www.caiso.com/'
               b'soa/OASISReport_v1.xsd"><MessagePayload><RTO><ERROR><ERR_CODE>1002</ERR_CODE>'
               b"<ERR_DESC>Invalid Query Name</ERR_DESC></ERROR></RTO></MessagePayload>"
               b"</OASISReport>", "/oasisapi/SingleZip"),
    ),
    "ERCOT": IsoFacts(
        "America/Chicago", date(2024, 3, 10), date(2024, 11, 3),
        error=(b'{"code": 401, "message": "Access denied due to invalid subscription key."}',
               "/api/public-reports/archive/np4-190-cd"),
        planner=_ercot_mis,
    ),
    "ISONE": IsoFacts(
        "America/New_York", date(2024, 3, 10), date(2024, 11, 3),
        no_data=(b"No data exists for this period.\n", "/static-transform/csv/histRpts/da-lmp/x.csv"),
        # The web services answer a refused query with a JSON error body.
        error=(b'{"error":"Bad Request","status":400}', "/api/v1.1/genfuelmix/day/20241103"),
    ),
    "PJM": IsoFacts(
        "America/New_York", date(2024, 3, 10), date(2024, 11, 3),
        # Data Miner 2 answers an empty selection with totalRows 0, and a refused query with an
        # errors list (PJM Data Miner API guide).
        no_data=(b'{"links":[{"rel":"self","href":"https://api.pjm.com/api/v1/da_hrl_lmps?RowCount'
                 b'=50000&StartRow=1"}],"items":[],"searchSpecification":{"rowCount":50000,'
                 b'"order":"Asc","startRow":1,"isActiveMetadata":true,"fields":[],"filters":[]},'
                 b'"totalRows":0}', "/api/v1/da_hrl_lmps"),
        error=(b'{"errors":[{"field":"","message":"The API request contains invalid attribute(s) '
               b'for archived data","detail":""}]}', "/api/v1/da_hrl_lmps"),
    ),
    "NYISO": IsoFacts(
        "America/New_York", date(2024, 3, 10), date(2024, 11, 3),
        no_data=(b"<html><head><title>404 Not Found</title></head><body>Not Found</body></html>",
                 "/public/csv/damlbmp/20240310damlbmp_zone.csv"),
    ),
    "MISO": IsoFacts(
        # Fixed EST (UTC-5) all year: 24 hours on both DST days.
        "Etc/GMT+5", date(2024, 3, 10), date(2024, 11, 3), dst_hours=(24, 24),
        # The public API's gateway answers a refused call with a JSON message.
        error=(b'{"statusCode": 500, "message": "Internal server error"}', "/api/FuelMix/Today"),
        planner=_miso_morning_after,
    ),
    "SPP": IsoFacts(
        # SPP's file browser answers a missing file with a bare 404 (no body to read).
        "America/Chicago", date(2024, 3, 10), date(2024, 11, 3), planner=_spp_portal,
    ),
}  # fmt: skip

ISOS = sorted(iso.id for iso in registered_isos())


def facts(iso_id: str) -> IsoFacts:
    return FACTS[iso_id]


def test_every_registered_iso_declares_its_facts():
    assert sorted(FACTS) == ISOS


@pytest.mark.parametrize("iso_id", ISOS)
def test_market_days_have_23_and_25_hours_on_dst_days(iso_id):
    iso, known = get_iso(iso_id), facts(iso_id)
    assert iso.timezone == known.timezone
    hours = []
    for day in (known.spring_forward, known.fall_back):
        start, end = iso.market_day_bounds(day)
        assert start.tzinfo is not None and end.tzinfo is not None
        hours.append((end - start) / timedelta(hours=1))
    assert tuple(hours) == known.dst_hours


def _tiles(windows: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> bool:
    cursor = start
    for window_start, window_end in sorted(set(windows)):
        if window_start > cursor or window_end <= window_start:
            return False
        cursor = max(cursor, window_end)
    return cursor >= end and min(w[0] for w in windows) == start


@pytest.mark.parametrize("iso_id", ISOS)
def test_request_windows_tile_the_dst_days(iso_id):
    iso, known = get_iso(iso_id), facts(iso_id)
    for day in (known.spring_forward, known.fall_back):
        start, end = iso.market_day_bounds(day)
        for dataset in iso.datasets:
            windows = iso.request_windows(dataset, day)
            assert _tiles(windows, start, end), (dataset, day, windows)
            assert all(later[0] == earlier[1] for earlier, later in pairwise(windows))


@pytest.mark.parametrize("iso_id", ISOS)
def test_planned_requests_cover_the_dst_days_and_nothing_else(iso_id):
    iso, known = get_iso(iso_id), facts(iso_id)
    with (known.planner or _direct)() as plan:
        for day in (known.spring_forward, known.fall_back):
            start, end = iso.market_day_bounds(day)
            for dataset in iso.datasets:
                requests = plan(iso, dataset, day)
                assert requests, (dataset, day)
                assert {(r.iso, r.dataset) for r in requests} == {(iso.id, dataset)}
                windows = [(r.window_start, r.window_end) for r in requests]
                assert all(start <= a < b <= end for a, b in windows), (dataset, day, windows)
                assert _tiles(windows, start, end), (dataset, day, windows)
                # One kept response per request (or one member of a shared archive per request).
                names = [(r.file_name, r.member) for r in requests]
                assert len(names) == len(set(names)), (dataset, day, names)
                for request in requests:
                    url = request.url("https://iso.example")
                    assert url.startswith("https://iso.example/"), url


@pytest.mark.parametrize("iso_id", ISOS)
def test_value_bounds_cover_every_kind_offered_in_every_year(iso_id):
    iso = get_iso(iso_id)
    for kind in {spec.kind for spec in iso.datasets.values()}:
        for year in range(2019, datetime.now(UTC).year + 2):
            bound = iso.value_bound(kind, year)
            assert bound.minimum < bound.maximum and bound.reason.strip(), (kind, year)


@pytest.mark.parametrize("iso_id", ISOS)
@pytest.mark.parametrize(
    "body",
    [b"", b"   \r\n", b"<!DOCTYPE html><html><body>Site maintenance</body></html>"],
    ids=["empty", "blank", "html"],
)
def test_empty_and_html_answers_are_never_data(iso_id, body):
    iso = get_iso(iso_id)
    with (facts(iso_id).planner or _direct)() as plan:
        day = facts(iso_id).fall_back
        sources = {
            plan(iso, dataset, day)[0].url("https://iso.example") for dataset in iso.datasets
        }
    for source in sorted(sources):
        with pytest.raises(PowerAssetsError) as raised:
            iso.check_payload(body, source)
        assert source in str(raised.value)


# ISOs that answer "no data" (or an error) with an HTTP status only have nothing to check here.
@pytest.mark.parametrize("iso_id", [i for i in ISOS if i in FACTS and FACTS[i].no_data])
def test_the_isos_no_data_answer_reads_as_no_data(iso_id):
    body, path = facts(iso_id).no_data
    with pytest.raises(IsoNoDataError):
        get_iso(iso_id).check_payload(body, f"https://iso.example{path}")


@pytest.mark.parametrize("iso_id", [i for i in ISOS if i in FACTS and FACTS[i].error])
def test_the_isos_error_answer_is_an_error_not_no_data(iso_id):
    body, path = facts(iso_id).error
    with pytest.raises(IsoErrorResponse) as raised:
        get_iso(iso_id).check_payload(body, f"https://iso.example{path}")
    assert not isinstance(raised.value, IsoNoDataError)


@pytest.mark.parametrize("iso_id", ISOS)
def test_realtime_probe_contract(iso_id):
    iso, known = get_iso(iso_id), facts(iso_id)
    if iso.realtime is None:
        pytest.skip(f"{iso_id} has no real-time sensor")
    assert iso.realtime.probe_dataset in iso.realtime.datasets
    assert set(iso.realtime.datasets) <= set(iso.datasets)
    for day in (known.spring_forward, known.fall_back):
        start, _ = iso.market_day_bounds(day)
        for hours in (1.5, 2.5, 12):  # inside and just after the DST change, and midday
            now = start + timedelta(hours=hours)
            request = iso.latest_interval_request(now)
            assert request.iso == iso.id
            assert iso.dataset(request.dataset).id == iso.realtime.probe_dataset
            assert request.url("https://iso.example").startswith("https://iso.example/")
            assert request.window_start <= now, (now, request)


@pytest.mark.parametrize("iso_id", ISOS)
def test_automation_and_combined_products_name_offered_datasets(iso_id):
    iso = get_iso(iso_id)
    used = [iso.combined.day_ahead, iso.combined.real_time]
    used += [iso.combined.ancillary] if iso.combined.ancillary else []
    used += list(iso.day_ahead.datasets) if iso.day_ahead else []
    assert set(used) <= set(iso.datasets)
