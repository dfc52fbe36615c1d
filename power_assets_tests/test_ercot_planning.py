"""How ERCOT's market days are planned and fetched: documents chosen by the day they cover, the
MIS before the Public API, the token kept and refreshed, and clear errors when nothing can serve
a day."""

from datetime import UTC, date, datetime, timedelta

import pytest

from power_assets.demo.ercot_fixtures import documents_for_day, settlement_points
from power_assets.demo.ercot_server import FakeErcot
from power_assets.errors import IsoErrorResponse, IsoNoDataError, MalformedFileError
from power_assets.io.http import IsoHttpClient
from power_assets.isos import get_iso
from power_assets.isos.ercot import PASSWORD_ENV, SUBSCRIPTION_KEY_ENV, USERNAME_ENV, Ercot
from power_assets.isos.ercot.reports import REPORTS, parse_document_name

DAY = date(2024, 11, 4)
POINTS = settlement_points(2)


@pytest.fixture
def docs():
    return [d for day in (DAY - timedelta(days=1), DAY, DAY + timedelta(days=1))
            for d in documents_for_day(day, POINTS, sced=False)]  # fmt: skip


def _client(fake: FakeErcot, tmp_path) -> IsoHttpClient:
    return IsoHttpClient(
        base_urls={"ERCOT": fake.base_url, "ERCOT:api": fake.api_base_url,
                   "ERCOT:token": fake.token_base_url},
        min_spacing_s={"ERCOT": 0.0}, max_retries=2, backoff_base_s=0.01,
        lock_dir=str(tmp_path / "locks"),
    )  # fmt: skip


def _plan(ercot: Ercot, client: IsoHttpClient, dataset: str, day: date = DAY):
    return ercot.plan_day(
        dataset,
        day,
        lambda r: client.fetch(ercot, r).content,
        today=date(2026, 1, 1),
        secrets=client.secrets_for(ercot),
    )


def _names(requests) -> list[str]:
    return [r.file_name for r in requests]


def test_mis_documents_are_chosen_by_the_day_they_cover_not_the_day_posted(docs, tmp_path):
    ercot = Ercot()
    with FakeErcot(docs) as fake:
        client = _client(fake, tmp_path)
        dam = _names(_plan(ercot, client, "lmp_da"))
        rt = _names(_plan(ercot, client, "lmp_rt15"))
        forecast = _names(_plan(ercot, client, "load_forecast"))
        actual = _names(_plan(ercot, client, "load"))
    # The DAM for 2024-11-04 posts on 2024-11-03; never its XML twin.
    assert len(dam) == 1 and ".20241103." in dam[0] and dam[0].endswith("_csv.zip")
    # 96 intervals: 00:15 ... and the one ending 24:00, named for 00:00 of the next day.
    assert len(rt) == 96
    assert any("SPPHLZNP6905_20241105_0000" in n for n in rt)
    assert not any("SPPHLZNP6905_20241104_0000" in n for n in rt)
    # Only the last forecast issued before the day; actual load posts the day after.
    assert len(forecast) == 1 and ".20241103.2330" in forecast[0]
    assert len(actual) == 1 and ".20241105." in actual[0]


def test_days_gone_from_the_mis_need_the_api_and_the_error_says_so(docs, tmp_path, monkeypatch):
    for name in (USERNAME_ENV, PASSWORD_ENV, SUBSCRIPTION_KEY_ENV):
        monkeypatch.delenv(name, raising=False)
    later = datetime(2025, 6, 1, tzinfo=UTC)
    with (
        FakeErcot(docs, mis_retention_days=3, now=later) as fake,
        pytest.raises(IsoNoDataError) as raised,
    ):
        _plan(Ercot(), _client(fake, tmp_path), "lmp_da")
    message = str(raised.value)
    assert all(v in message for v in (USERNAME_ENV, PASSWORD_ENV, SUBSCRIPTION_KEY_ENV))
    assert "raw_downloads" in message


def test_api_archive_batches_the_day_into_one_post_and_reuses_its_token(
    docs, tmp_path, monkeypatch
):
    ercot = Ercot()
    later = datetime(2025, 6, 1, tzinfo=UTC)
    with FakeErcot(docs, mis_retention_days=3, now=later) as fake:
        monkeypatch.setenv(USERNAME_ENV, fake.username)
        monkeypatch.setenv(PASSWORD_ENV, fake.password)
        monkeypatch.setenv(SUBSCRIPTION_KEY_ENV, fake.subscription_key)
        client = _client(fake, tmp_path)
        requests = _plan(ercot, client, "lmp_rt15")
        assert [(r.method, r.endpoint) for r in requests] == [("POST", "api")]
        assert requests[0].json_body.count(",") == 95  # 96 docIds
        body = client.fetch(ercot, requests[0]).content
        assert body[:4] == b"PK\x03\x04"
        _plan(ercot, client, "lmp_da")
        assert fake.tokens_issued == 1
        # The server expires the token early (clock jump): a 401, a new token, a retry.
        fake.now = later + timedelta(hours=2)
        _plan(ercot, client, "as_da")
        assert fake.tokens_issued == 2
        assert any(r.status == 401 for r in fake.requests)


def test_token_is_refreshed_before_it_expires(monkeypatch):
    ercot, posts, clock = Ercot(), [], [1_000.0]

    class Session:
        def post_form(self, iso, endpoint, path, form):
            posts.append((endpoint, path, form["grant_type"], form["client_id"]))
            return f'{{"id_token": "t{len(posts)}", "expires_in": "3600"}}'.encode()

    monkeypatch.setattr("power_assets.isos.ercot.api.time.time", lambda: clock[0])
    secrets = {"username": "u", "password": "p", "subscription_key": "k"}
    headers = ercot.auth_headers(None, Session(), secrets)
    assert headers == {"Ocp-Apim-Subscription-Key": "k", "Authorization": "Bearer t1"}
    clock[0] += 3000  # 10 minutes of validity left: reused
    assert ercot.auth_headers(None, Session(), secrets)["Authorization"] == "Bearer t1"
    clock[0] += 400  # under 5 minutes left: refreshed before it can expire mid-request
    assert ercot.auth_headers(None, Session(), secrets)["Authorization"] == "Bearer t2"
    assert posts[0][:3] == ("token", "token", "password")


def test_error_documents_and_html_pages_are_not_data():
    ercot = get_iso("ERCOT")
    with pytest.raises(MalformedFileError, match="HTML page"):
        ercot.check_payload(b"<html><body>Service unavailable</body></html>", "mirDownload")
    with pytest.raises(IsoErrorResponse, match="400"):
        ercot.check_payload(b'{"code": 400, "message": "bad docIds"}', "archive download")
    ercot.check_payload(b"PK\x03\x04rest", "mirDownload")


@pytest.mark.parametrize(
    ("name", "dataset", "day"),
    [
        # The DAM for a day posts the day before.
        ("cdr.00012331.0000000000000000.20240101.123005.DAMSPNP4190.csv", "lmp_da", date(2024, 1, 2)),
        # MIS post times may carry milliseconds; the 24:00 interval is named for 00:00 next day.
        ("cdr.00012301.0000000000000000.20240823.000201899.SPPHLZNP6905_20240823_0000_csv.zip",
         "lmp_rt15", date(2024, 8, 22)),
        ("cdr.00012301.0000000000000000.20230608.154702.SPPHLZNP6905_retry_20230608_1545.csv",
         "lmp_rt15", date(2023, 6, 8)),
        # A garbled post date ERCOT really published: the interval in the name still places it.
        ("cdr.00012301.0000000000000000.2023202306110610.001705730.SPPHLZNP6905_20230611_0000_csv.zip",
         "lmp_rt15", date(2023, 6, 10)),
        ("cdr.00012300.0000000000000000.20251102.013100000.LMPSROSNODENP6788_20251102_013018_csv.zip",
         "lmp_rt5", date(2025, 11, 2)),
        ("1000100592.cdr.00012329.0000000000000000.20240430.123245.DAMCPCNP4188_csv.zip",
         "as_da", date(2024, 5, 1)),
    ],
)  # fmt: skip
def test_document_names_give_the_market_day_they_cover(name, dataset, day):
    doc = parse_document_name(name)
    assert doc is not None and doc.is_csv
    assert REPORTS[dataset].covers(doc, day)
    assert not REPORTS[dataset].covers(doc, day + timedelta(days=1))


def test_xml_twins_and_unrelated_names_are_not_documents_to_read():
    xml = parse_document_name("cdr.00012331.0000000000000000.20240101.123005.DAMSPNP4190_xml.zip")
    assert xml is not None and not xml.is_csv
    assert parse_document_name("20240101damlbmp_zone.csv") is None
    assert (
        Ercot().dropped_file_day(
            "cdr.00012331.0000000000000000.20240101.123005.DAMSPNP4190_xml.zip"
        )
        is None
    )
