"""Where each MISO dataset of a market day is published, by date: file names, API paths, history.

What belongs here: the request for one file or API answer of a dataset and day (market report
CSVs and workbooks at `docs.misoenergy.org/marketreports/`, the public API at
`public-api.misoenergy.org/api/`), the weekly 5-minute archive a past day falls in, and the
messages saying where history lives when no source MISO offers covers a day. Choosing among
them for a day (today, yesterday, older) is `definition`'s.
"""

from datetime import date, datetime, timedelta

from power_assets.errors import IsoNoDataError
from power_assets.isos.base import DownloadRequest
from power_assets.isos.miso.common import ISO, est_midnight_utc

PUBLIC_API = "public_api"
REPORTS_URL = "https://docs.misoenergy.org/marketreports"
PUBLIC_API_URL = "https://public-api.misoenergy.org/api"
# Daily LMP and ASM CSVs exist from this market day (2022-12-31 answers 404).
DAILY_CSVS_FROM = date(2023, 1, 1)
# Before them, hub LMPs (DA and RT) are in monthly `{YYYYMM}_{da|rt}_pr_xls.zip` archives of daily
# workbooks, published for 2015-2022 (third-party reports; earlier months are not known to exist).
MONTHLY_FROM = date(2015, 1, 1)
DROP_DIR_ENV = "POWER_ASSETS_MISO_DROP_DIR"  # stages/drop.drop_env_var("MISO")
# Report id of each dataset's daily file; the second is the preliminary version served until
# the final one exists (real-time results are final 3-5 days after the day).
REPORTS = {
    "lmp_da": ("da_expost_lmp.csv", None),
    "lmp_da_exante": ("da_exante_lmp.csv", None),
    "lmp_rt_hourly": ("rt_lmp_final.csv", "rt_lmp_prelim.csv"),
    "as_da": ("asm_expost_damcp.csv", None),
    "as_rt": ("asm_rtmcp_final.csv", "asm_rtmcp_prelim.csv"),
}
LOAD_REPORT = "df_al.xls"
WEEKLY_FIVE_MINUTE = "5MIN_LMP.zip"
# How many days after a day real-time results may still be preliminary (then the final file is
# asked for first, and the preliminary one used while the final answers 404).
PRELIM_DAYS = 7
# A df_al file published on P (stamped 00:00 EST) holds the forecast of P-1 .. P+5: the files of
# D-5 .. D forecast day D ahead of it (P-1's hours had begun when it was published).
FORECAST_VINTAGES = 6


def day_window(day: date) -> tuple[datetime, datetime]:
    start = est_midnight_utc(day)
    return start, start + timedelta(days=1)


def prelim_final_after(day: date) -> datetime:
    """When a preliminary real-time file of `day` stops standing in for the final one: from then
    the final file is planned without asking (PRELIM_DAYS after the day's end); before, the
    preliminary file is not final, so each run asks again whether the final one is out."""
    return est_midnight_utc(day + timedelta(days=PRELIM_DAYS + 1))


def report_request(
    dataset: str, day: date, file_day: date, report: str, *, final_after: datetime | None = None
) -> DownloadRequest:
    """The market report `{file_day:%Y%m%d}_{report}` serving market `day` of `dataset`."""
    name = f"{file_day:%Y%m%d}_{report}"
    start, end = day_window(day)
    return DownloadRequest(
        iso=ISO, dataset=dataset, path=name, params=(), file_name=name, window_start=start,
        window_end=end, final_after=final_after,
    )  # fmt: skip


def api_request(dataset: str, day: date, path: str, file_name: str) -> DownloadRequest:
    """A public-API answer serving market `day`; refetched until the day is over."""
    start, end = day_window(day)
    return DownloadRequest(
        iso=ISO, dataset=dataset, path=path, params=(), file_name=file_name,
        window_start=start, window_end=end, endpoint=PUBLIC_API,
        headers=(("Accept", "application/json"),),
    )  # fmt: skip


def weekly_archive_day(day: date) -> date:
    """The Monday whose `_5MIN_LMP.zip` holds `day`: it covers the Monday-Sunday week that
    ended eight days before it (D-14 .. D-8)."""
    monday = day - timedelta(days=day.weekday())
    return monday + timedelta(days=14)


def weekly_request(day: date) -> DownloadRequest:
    """The weekly archive holding `day`, kept once for the seven days it serves."""
    published = weekly_archive_day(day)
    name = f"{published:%Y%m%d}_{WEEKLY_FIVE_MINUTE}"
    start, end = day_window(day)
    return DownloadRequest(
        iso=ISO, dataset="lmp_rt5", path=name, params=(), file_name=name, window_start=start,
        window_end=end, shared=True, final_after=est_midnight_utc(published),
    )  # fmt: skip


def monthly_request(dataset: str, day: date, archive: str, member: str) -> DownloadRequest:
    """Member `member` of the monthly pricing archive `archive` serving market `day`; the
    archive is kept once for the month's days and final once its month is over."""
    start, end = day_window(day)
    named = datetime.strptime(member[:8], "%Y%m%d").date()
    month_end = (named.replace(day=1) + timedelta(days=32)).replace(day=1)
    return DownloadRequest(
        iso=ISO, dataset=dataset, path=archive, params=(), file_name=archive, window_start=start,
        window_end=end, shared=True, member=member, final_after=est_midnight_utc(month_end),
    )  # fmt: skip


def no_history(dataset: str, day: date, what: str) -> IsoNoDataError:
    """The error for a day no source MISO offers (without a key) covers; says where it is."""
    return IsoNoDataError(f"{ISO} {dataset} {day}", "not-offered", what)


def before_daily_csvs(dataset: str, day: date) -> IsoNoDataError:
    kind = "da" if dataset in ("lmp_da", "lmp_da_exante", "as_da") else "rt"
    if dataset in ("lmp_da", "lmp_rt_hourly"):
        where = (
            f"MISO's daily report CSVs start on {DAILY_CSVS_FROM} and its monthly archives "
            f"({day:%Y%m}_{kind}_pr_xls.zip, hub LMPs only) are known from {MONTHLY_FROM}: "
            f"if you have the monthly archive holding {day}, drop it into {DROP_DIR_ENV}"
        )
    else:
        where = (
            f"MISO's daily report CSVs start on {DAILY_CSVS_FROM}; earlier {kind.upper()} "
            f"prices are only in the monthly archive {day:%Y%m}_{kind}_pr_xls.zip (hub LMPs only) "
            f"at {REPORTS_URL}/, which serves the lmp_da and lmp_rt_hourly datasets, not {dataset}"
        )
    return no_history(dataset, day, where)
