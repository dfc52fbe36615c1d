"""ERCOT post times are UTC instants from the moment they are read, also in the repeated fall-back
hour: the MIS listing's offset is kept, the Public API archive's naive Central `postDatetime` is
settled by posting order (docIds), and a bare document name says only what it can."""

import json
from datetime import UTC, date, datetime

import pytest

from power_assets.isos.ercot import Ercot
from power_assets.isos.ercot.reports import archive_instants, parse_document_name

FALL_BACK = date(2024, 11, 3)  # 01:00-01:59 Central happens twice: CDT (UTC-5), then CST (UTC-6)


def mis_listing(*documents: tuple[str, str, str]) -> bytes:
    """An MIS IceDocListJsonWS answer, written as ERCOT publishes it: (DocID, PublishDate, name)."""
    return json.dumps({"ListDocsByRptTypeRes": {"DocumentList": [
        {"Document": {"DocID": doc_id, "PublishDate": published, "ConstructedName": name,
                      "FriendlyName": name.split(".")[-2], "ReportTypeID": name[4:12].lstrip("0"),
                      "ContentSize": "1234", "Extension": "zip"}}
        for doc_id, published, name in documents
    ]}}).encode()  # fmt: skip


def plan(dataset: str, day: date, listing: bytes):
    return Ercot().plan_day(dataset, day, lambda request: listing, today=date(2024, 11, 5))


def test_mis_publish_dates_in_the_repeated_hour_keep_their_offset():
    listing = mis_listing(
        # The 15-minute file for 01:45 CDT, then the one for 01:00 CST, 15 real minutes later.
        ("900000001", "2024-11-03T01:47:02-05:00",
         "cdr.00012301.0000000000000000.20241103.014702.SPPHLZNP6905_20241103_0145_csv.zip"),
        ("900000002", "2024-11-03T01:02:31-06:00",
         "cdr.00012301.0000000000000000.20241103.010231.SPPHLZNP6905_20241103_0100_csv.zip"),
    )  # fmt: skip
    requests = plan("lmp_rt15", FALL_BACK, listing)
    # Oldest first by the instant posted, and final from that instant, not an hour early.
    assert [(r.file_name[30:45], r.final_after) for r in requests] == [
        ("20241103.014702", datetime(2024, 11, 3, 6, 47, 2, tzinfo=UTC)),
        ("20241103.010231", datetime(2024, 11, 3, 7, 2, 31, tzinfo=UTC)),
    ]


def test_the_latest_forecast_is_the_one_posted_last_not_the_one_with_the_latest_wall_clock():
    listing = mis_listing(
        ("900000011", "2024-11-03T01:55:00-05:00",
         "cdr.00012311.0000000000000000.20241103.015500.LFCCONGESTNP3560_csv.zip"),
        ("900000012", "2024-11-03T01:10:00-06:00",
         "cdr.00012311.0000000000000000.20241103.011000.LFCCONGESTNP3560_csv.zip"),
    )  # fmt: skip
    (chosen,) = plan("load_forecast", date(2024, 11, 4), listing)
    assert ".20241103.011000." in chosen.file_name
    assert chosen.final_after == datetime(2024, 11, 3, 7, 10, tzinfo=UTC)


def test_archive_post_times_are_settled_by_posting_order():
    walls = {  # docId: postDatetime as the Public API lists it (Central, no offset)
        1049800001: datetime(2024, 11, 3, 0, 55),
        1049800002: datetime(2024, 11, 3, 1, 20),  # CDT
        1049800003: datetime(2024, 11, 3, 1, 50),  # CDT
        1049800004: datetime(2024, 11, 3, 1, 5),  # back in time: CST from here
        1049800005: datetime(2024, 11, 3, 1, 55),  # still CST
        1049800006: datetime(2024, 11, 3, 2, 5),
    }
    assert archive_instants(walls) == {
        1049800001: datetime(2024, 11, 3, 5, 55, tzinfo=UTC),
        1049800002: datetime(2024, 11, 3, 6, 20, tzinfo=UTC),
        1049800003: datetime(2024, 11, 3, 6, 50, tzinfo=UTC),
        1049800004: datetime(2024, 11, 3, 7, 5, tzinfo=UTC),
        1049800005: datetime(2024, 11, 3, 7, 55, tzinfo=UTC),
        1049800006: datetime(2024, 11, 3, 8, 5, tzinfo=UTC),
    }


def test_archive_listing_plans_the_last_posted_forecast():
    secrets = {"username": "x", "password": "x", "subscription_key": "x"}
    archive = json.dumps({
        "_meta": {"totalRecords": 2, "pageSize": 1000, "totalPages": 1, "currentPage": 1},
        "product": {"emilId": "NP3-560-CD", "reportTypeId": 12311},
        "archives": [  # newest first, as the API sorts them
            {"docId": 1049800012, "friendlyName": "LFCCONGESTNP3560_csv",
             "postDatetime": "2024-11-03T01:10:00.000"},
            {"docId": 1049800011, "friendlyName": "LFCCONGESTNP3560_csv",
             "postDatetime": "2024-11-03T01:55:00.000"},
        ],
    }).encode()  # fmt: skip

    def lister(request) -> bytes:
        return archive if "archive" in request.path else mis_listing()

    (chosen,) = Ercot().plan_day(
        "load_forecast", date(2024, 11, 4), lister, today=date(2025, 6, 1), secrets=secrets
    )
    assert json.loads(chosen.json_body) == {"docIds": [1049800012]}
    assert chosen.final_after == datetime(2024, 11, 3, 7, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "posted"),
    [
        # Outside the repeated hour a name is exact.
        ("cdr.00012331.0000000000000000.20240310.123005.DAMSPNP4190.csv",
         datetime(2024, 3, 10, 17, 30, 5, tzinfo=UTC)),
        ("cdr.00012331.0000000000000000.20241103.023005.DAMSPNP4190.csv",
         datetime(2024, 11, 3, 8, 30, 5, tzinfo=UTC)),
        # Just after the spring-forward gap (02:00 -> 03:00 CDT) a name is exact too.
        ("cdr.00012301.0000000000000000.20240310.031503.SPPHLZNP6905_20240310_0315.csv",
         datetime(2024, 3, 10, 8, 15, 3, tzinfo=UTC)),
        # In it, a post wall time before its own SCED run's wall time can only be the CST pass.
        ("cdr.00012300.0000000000000000.20241103.010215.LMPSROSNODENP6788_20241103_015912.csv",
         datetime(2024, 11, 3, 7, 2, 15, tzinfo=UTC)),
        # Otherwise the name cannot tell: the CDT reading.
        ("cdr.00012300.0000000000000000.20241103.011015.LMPSROSNODENP6788_20241103_010912.csv",
         datetime(2024, 11, 3, 6, 10, 15, tzinfo=UTC)),
    ],
)  # fmt: skip
def test_names_give_utc_post_times(name: str, posted: datetime):
    doc = parse_document_name(name)
    assert doc is not None and doc.posted == posted and doc.posted.tzinfo is UTC
