"""MISO's LMP history before 2023: the monthly `{YYYYMM}_{da|rt}_pr_xls.zip` archives of daily hub
workbooks. A member reads as 24 EST hours of MISO System and the hubs (DST days too: MISO stays
on EST), an hour at 0.0 at every hub is missing (null, not $0), the RT member named for its
publication day holds the day before, and a day comes from a dropped archive or, through every
stage, from the portal's archive (fetched once for the month). Expected values come from the
generator's `hub_lmp` and the layout written out in miso_history_fixtures."""

import io
import zipfile
from datetime import UTC, date, datetime, timedelta, timezone

import dagster as dg
import pytest

from power_assets.demo import miso_history_fixtures as history
from power_assets.demo.miso_server import FakeMiso
from power_assets.errors import MalformedFileError
from power_assets.isos import get_iso
from power_assets.keys import daily_job_name, partition_key, stage_keys
from power_assets.layout import Layout
from power_assets.parsing import parse_files
from power_assets.stages.drop import drop_env_var
from power_assets.stages.raw import download_day
from power_assets_tests.e2e_support import check_results, query

MISO = get_iso("MISO")
EST = timezone(timedelta(hours=-5))
# Node names of the hub columns, written out from the daily CSVs' names for the same hubs.
NODES = {
    "MISO System": "MISO System", "Arkansas Hub": "ARKANSAS.HUB", "Illinois Hub": "ILLINOIS.HUB",
    "Indiana Hub": "INDIANA.HUB", "Louisiana Hub": "LOUISIANA.HUB", "Michigan Hub": "MICHIGAN.HUB",
    "Minnesota Hub": "MINN.HUB", "MS.HUB": "MS.HUB", "Texas Hub": "TEXAS.HUB",
}  # fmt: skip


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 5, tzinfo=UTC)  # 00:00 EST


def check_day(frame, market: str, label: str, day: date) -> None:
    assert frame.height == 24 * len(NODES)
    assert set(frame["location"]) == set(NODES.values())
    starts = {midnight(day) + timedelta(hours=h) for h in range(24)}
    assert set(frame["interval_start"]) == starts
    for he in (1, 2, 3, 24):
        for shown, node in NODES.items():
            row = frame.filter(
                (frame["location"] == node)
                & (frame["interval_start"] == midnight(day) + timedelta(hours=he - 1))
            )
            assert row["lmp"].to_list() == [history.hub_lmp(label, shown, day, he)], (node, he)
    assert frame["market"].unique().to_list() == [market]
    assert frame["congestion"].null_count() == frame.height  # hub LMPs only


@pytest.mark.parametrize("day", [date(2022, 3, 13), date(2022, 11, 6), date(2024, 3, 10),
                                 date(2024, 11, 3)])  # fmt: skip
def test_a_day_ahead_member_on_dst_days_reads_as_24_est_hours(tmp_path, day):
    path = tmp_path / f"{day:%Y%m%d}_da_pr.xls"
    path.write_bytes(history.pricing_report("da", day))
    frame = MISO.parse("lmp_da", [path])
    check_day(frame, "DAM", "da", day)
    types = dict(zip(frame["location"], frame["location_type"], strict=True))
    assert types["MISO System"] == "System" and types["MINN.HUB"] == "Hub"


def test_the_real_time_member_named_for_its_publication_day_holds_the_day_before(tmp_path):
    day = date(2022, 11, 6)
    path = tmp_path / "20221107_rt_pr.xls"
    path.write_bytes(history.pricing_report("rt", day))
    check_day(MISO.parse("lmp_rt_hourly", [path]), "RTH", "rt", day)
    wrong = tmp_path / "20221106_rt_pr.xls"  # named as if it held its own day
    wrong.write_bytes(history.pricing_report("rt", day))
    with pytest.raises(MalformedFileError, match=r"20221106_rt_pr\.xls.*2022-11-06.*2022-11-05"):
        MISO.parse("lmp_rt_hourly", [wrong])


def test_an_hour_at_zero_at_every_hub_is_missing_not_a_zero_price(tmp_path):
    day = date(2020, 6, 15)
    path = tmp_path / "20200615_da_pr.xls"
    path.write_bytes(history.pricing_report("da", day, missing_hours=(17,)))
    frame = MISO.parse("lmp_da", [path])
    hour17 = frame.filter(frame["interval_start"] == midnight(day) + timedelta(hours=16))
    assert hour17.height == len(NODES) and hour17["lmp"].null_count() == len(NODES)
    assert frame.filter(frame["lmp"].is_null()).height == len(NODES)
    assert 0.0 not in frame["lmp"].to_list()


def test_a_workbook_without_the_hour_block_is_refused_naming_it(tmp_path):
    from power_assets.demo.miso_fixtures import xls_workbook

    path = tmp_path / "20200615_da_pr.xls"
    path.write_bytes(xls_workbook([["Day-Ahead Pricing Report"], ["Market Date:  06/15/2020"]]))
    with pytest.raises(MalformedFileError, match=r"20200615_da_pr\.xls.*MISO System"):
        MISO.parse("lmp_da", [path])
    rows = [["t"], ["Market Date:  06/15/2020"], [None, "MISO System", "Texas Hub"]]
    rows += [[f"Hour  {he:02d}", 20.0, 21.0] for he in range(1, 24)]  # HE 24 missing
    path.write_bytes(xls_workbook(rows))
    with pytest.raises(MalformedFileError, match=r"20200615_da_pr\.xls.*Hour 01 \.\. Hour 24"):
        MISO.parse("lmp_da", [path])


class NoHttp:
    def __getattr__(self, name: str):
        raise AssertionError(f"drop-folder day used http.{name}")


def test_days_come_from_dropped_monthly_archives_month_end_from_the_next(tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    folder.mkdir()
    for name, market in (("202211_rt_pr_xls.zip", "rt"), ("202211_da_pr_xls.zip", "da")):
        (folder / name).write_bytes(history.monthly_pricing_zip(market, 2022, 11))
    monkeypatch.setenv(drop_env_var("MISO"), str(folder))
    layout = Layout(tmp_path / "data")
    # 2022-10-31's RT member is published 11-01: in the November archive.
    for dataset, day, member, market in (
        ("lmp_rt_hourly", date(2022, 10, 31), "20221101_rt_pr.xls", "rt"),
        ("lmp_rt_hourly", date(2022, 11, 6), "20221107_rt_pr.xls", "rt"),
        ("lmp_da", date(2022, 11, 6), "20221106_da_pr.xls", "da"),
    ):
        download = download_day(MISO, dataset, day, NoHttp(), layout)
        assert download.source == "drop_folder"
        (record,) = download.records
        assert record.file_name == member
        kept = layout.raw_downloads("MISO", dataset, day) / member
        frame = parse_files("MISO", dataset, [kept])
        check_day(frame, "RTH" if market == "rt" else "DAM", market, day)
    # The November DA archive has no member for 10-31: not served from it.
    with pytest.raises(AssertionError, match="drop-folder day used http"):
        download_day(MISO, "lmp_da", date(2022, 10, 31), NoHttp(), layout)


@pytest.mark.e2e
def test_history_days_through_every_stage_from_the_portals_monthly_archives(tmp_path):
    from power_assets_tests.e2e_support import loopback_defs

    days = (date(2022, 11, 6), date(2022, 11, 30))  # the DST day, and RT's month end
    now = datetime(2024, 11, 20, 9, 0, tzinfo=EST)
    with dg.instance_for_test() as instance, FakeMiso(now=now) as fake:
        defs = loopback_defs(tmp_path, {"MISO": fake.base_url, "MISO:public_api": fake.api_url})
        job = defs.resolve_job_def(daily_job_name("MISO"))
        results = [
            job.execute_in_process(
                partition_key=partition_key(day, "MISO"), instance=instance,
                raise_on_error=False, asset_selection=stage_keys(["lmp_da", "lmp_rt_hourly"]),
                run_config={"resources": {"clock": {"config": {"frozen_at": now.isoformat()}}}},
            )
            for day in days
        ]  # fmt: skip
        log = [(r.path, r.status) for r in fake.requests]
    for result in results:
        errors = [e.event_specific_data.error.to_string() for e in result.all_events
                  if e.is_step_failure]  # fmt: skip
        assert result.success, errors
        assert all(check_results(result).values())
    # Each month's archive is fetched once; RT's 11-30 is published 12-01, in December's.
    assert sorted(log) == [
        ("/marketreports/202211_da_pr_xls.zip", 200), ("/marketreports/202211_rt_pr_xls.zip", 200),
        ("/marketreports/202212_rt_pr_xls.zip", 200),
    ]  # fmt: skip
    for day in days:
        for dataset, market, label in (("lmp_da", "DAM", "da"), ("lmp_rt_hourly", "RTH", "rt")):
            rows = query(
                tmp_path,
                "SELECT location, interval_start, lmp FROM lmp WHERE iso = 'MISO' AND "
                "dataset = ? AND market = ? AND market_date = ?",
                [dataset, market, day],
            )
            assert len(rows) == 24 * len(NODES), (dataset, day)
            by_node = {node: shown for shown, node in NODES.items()}
            for node, start, lmp in rows:
                he = (start - midnight(day)) // timedelta(hours=1) + 1
                assert lmp == history.hub_lmp(label, by_node[node], day, he), (node, start)
        folder = tmp_path / "data" / "MISO" / "csv_files" / "lmp_da" / day.isoformat()
        assert [p.name for p in folder.rglob("*.xls")] == [f"{day:%Y%m%d}_da_pr.xls"]


def _member_names(archive: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(archive)) as handle:
        return handle.namelist()


def test_the_generated_archives_name_members_as_miso_does():
    assert _member_names(history.monthly_pricing_zip("rt", 2022, 11))[:2] == [
        "20221101_rt_pr.xls", "20221102_rt_pr.xls",
    ]  # fmt: skip
    assert len(_member_names(history.monthly_pricing_zip("da", 2022, 2))) == 28
