"""MISO's `IsoDefinition`: datasets, bounds, schedules, which source serves a day, payload checks,
dispatch to the parsers, drop-folder names and the real-time probe.

Sources (no key): market report CSVs and workbooks for past days, the public API for today (and
yesterday, where it keeps one). MISO's clock is fixed EST (UTC-5) all year: every market day has
24 hours, DST or not, and hour ending n is [n-1, n) EST.
"""

import io
import json
import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path, PurePath
from typing import ClassVar

import polars as pl

from power_assets.errors import (
    DownloadError,
    IsoErrorResponse,
    IsoNoDataError,
    MalformedFileError,
    excerpt,
)
from power_assets.isos.base import (
    NO_SECRETS,
    AuthSession,
    CombinedSources,
    DatasetKind,
    DatasetSpec,
    DayAheadSchedule,
    DownloadRequest,
    IntervalLabel,
    IsoDefinition,
    Lister,
    RealtimeFeed,
    Secret,
    Secrets,
    ValueBound,
)
from power_assets.isos.miso import (
    data_exchange,
    load_report,
    pricing_report,
    public_api,
    reports,
    sources,
    weekly,
)
from power_assets.isos.miso.common import EST, FIVE_MINUTES, HOUR, TIMEZONE, est_midnight_utc

REAL_TIME_ALLOWANCE = timedelta(hours=36)  # preliminary real-time files post the next morning
_TEXT_REPORTS = {
    "lmp_da": reports.lmp_table, "lmp_da_exante": reports.lmp_table,
    "lmp_rt_hourly": reports.lmp_table,
    "as_da": reports.as_table, "as_rt": reports.as_table,
}  # fmt: skip
_DROPPED = re.compile(r"^(?P<day>\d{8})_(?P<report>[a-z_]+\.(?:csv|xls))$", re.IGNORECASE)
_DROPPED_REPORTS = {
    report: dataset for dataset, pair in sources.REPORTS.items() for report in pair if report
}
# The header line of a MISO report CSV: `Node,Type,Value,HE 1,..` (LMP), `..,MCP Type,HE 1,..`
# (ASM MCP) or `MKTHOUR_EST,PNODENAME,..` (weekly 5-minute), perhaps quoted or spaced.
_CSV_HEADER = re.compile(
    rb'(?:^|\n)[ \t"]*(?:NODE"?[ \t]*,[ \t"]*TYPE"?[ \t]*,[ \t"]*VALUE"?[ \t]*,[ \t"]*HE ?1\b'
    rb'|[^\n]*MCP TYPE"?[ \t]*,[ \t"]*HE ?1\b|MKTHOUR_EST\b)'
)
# Public-API answers named for the market day they were asked for (`20241103_FuelMix_...json`).
_API_ANSWERS = ("lmp_rt5", "fuel_mix", "load")


def _spec(id_: str, kind: DatasetKind, market: str, step: timedelta, text: str) -> DatasetSpec:
    label = IntervalLabel.START if step == FIVE_MINUTES else IntervalLabel.END
    return DatasetSpec(id_, kind, market, step, label, text)


class Miso(IsoDefinition):
    id: ClassVar[str] = "MISO"
    name: ClassVar[str] = "Midcontinent ISO (market reports, public API)"
    timezone: ClassVar[str] = TIMEZONE
    default_base_url: ClassVar[str] = sources.REPORTS_URL
    extra_base_urls: ClassVar[dict[str, str]] = {
        sources.PUBLIC_API: sources.PUBLIC_API_URL, data_exchange.ENDPOINT: data_exchange.URL,
    }  # fmt: skip
    # Optional: with a Data Exchange pricing key, 5-minute LMPs of the days between yesterday and
    # the weekly archive come from Data Exchange; without one those days wait for the archive.
    secrets: ClassVar[tuple[Secret, ...]] = (Secret("pricing_key", data_exchange.KEY_ENV),)
    # MISO asks for at most one public-API poll a minute per display; reports are static files.
    min_request_spacing_s: ClassVar[float] = 1.0
    datasets: ClassVar[dict[str, DatasetSpec]] = {
        "lmp_da": _spec("lmp_da", DatasetKind.LMP, "DAM", HOUR,
            "Day-ahead ex-post hourly LMP, every CPnode (YYYYMMDD_da_expost_lmp.csv, hour ending "
            "EST; energy = LMP - MCC - MLC) from 2023-01-01; 2015-2022 hub LMPs only, from the "
            "monthly {YYYYMM}_da_pr_xls.zip"),
        "lmp_da_exante": _spec("lmp_da_exante", DatasetKind.LMP, "DAM_EXANTE", HOUR,
            "Day-ahead ex-ante hourly LMP, every CPnode (YYYYMMDD_da_exante_lmp.csv: the prices "
            "as the day-ahead market cleared, before ex-post pricing); from 2023-01-01"),
        "lmp_rt_hourly": _spec("lmp_rt_hourly", DatasetKind.LMP, "RTH", HOUR,
            "Real-time hourly LMP, every CPnode: final (_rt_lmp_final.csv, market RTH) once MISO "
            "posts it, until then preliminary (_rt_lmp_prelim.csv, market RTH_PRELIM); 2015-2022 "
            "hub LMPs only, from the monthly {YYYYMM}_rt_pr_xls.zip"),
        "lmp_rt5": _spec("lmp_rt5", DatasetKind.LMP, "RT5M", FIVE_MINUTES,
            "Real-time 5-minute ex-post LMP, every CPnode: public API GetRealTimeFiveMinExPost "
            "(Rolling today, Previous yesterday), weekly YYYYMMDD_5MIN_LMP.zip for older days; "
            "with a Data Exchange pricing key (POWER_ASSETS_MISO_PRICING_KEY) the days in between "
            "from real-time/{date}/lmp-expost"),
        "as_da": _spec("as_da", DatasetKind.AS_PRICE, "DAM", HOUR,
            "Day-ahead ex-post ASM MCPs, MISO-wide and by reserve zone (_asm_expost_damcp.csv): "
            "GENREGMCP->REGULATION, GENSPINMCP->SPIN, GENSUPPMCP->NON_SPIN, STRMCP->"
            "SHORT_TERM_RESERVE, ramp up/down; demand-resource MCPs as *_DEMAND"),
        "as_rt": _spec("as_rt", DatasetKind.AS_PRICE, "RTH", HOUR,
            "Real-time hourly ASM MCPs, MISO-wide and by zone (_asm_rtmcp_final.csv, "
            "_asm_rtmcp_prelim.csv until final)"),
        "load": _spec("load", DatasetKind.LOAD, "RT", HOUR,
            "Hourly actual load by local resource zone and MISO-wide (YYYYMMDD_df_al.xls of the "
            "next day); today: public API RealTimeTotalLoad, 5-minute readings averaged per hour"),
        "load_forecast": _spec("load_forecast", DatasetKind.LOAD_FORECAST, "FORECAST", HOUR,
            "Medium-term load forecast (MTLF) by zone and MISO-wide, every df_al.xls vintage "
            "published before the day's hours (D-5 .. D, 00:00 EST)"),
        "fuel_mix": _spec("fuel_mix", DatasetKind.FUEL_MIX, "RT", FIVE_MINUTES,
            "5-minute generation by fuel (public API FuelMix/Today, FuelMix/Yesterday; values "
            "may be negative); older days are not offered without a Data Exchange key"),
    }  # fmt: skip
    combined: ClassVar[CombinedSources] = CombinedSources("lmp_da", "as_da", "lmp_rt5")
    realtime: ClassVar[RealtimeFeed] = RealtimeFeed("lmp_rt5", ("lmp_rt5", "fuel_mix", "load"))
    # Day-ahead results post around 14:00 EST the day before (bids close 10:30 EPT).
    day_ahead: ClassVar[DayAheadSchedule] = DayAheadSchedule(
        time(14, 30), time(17, 0), ("lmp_da", "lmp_da_exante", "as_da")
    )
    value_bounds: ClassVar[tuple[ValueBound, ...]] = (
        ValueBound(DatasetKind.LMP, 2000, 2024, -2_500.0, 6_000.0,
            "Offer cap $1,000/MWh and VOLL (top of the operating-reserve demand curve) $3,500; "
            "transmission-constraint demand curves push nodal prices past them, negative under "
            "congestion with wind"),
        ValueBound(DatasetKind.LMP, 2025, 2100, -2_500.0, 15_000.0,
            "VOLL raised to $10,000/MWh from 2025-09-30; congestion adds on top at nodes"),
        ValueBound(DatasetKind.AS_PRICE, 2000, 2024, -1.0, 5_000.0,
            "Reserve MCPs are not negative (-1 allows rounding); shortage pricing on the reserve "
            "demand curves stays below VOLL ($3,500)"),
        ValueBound(DatasetKind.AS_PRICE, 2025, 2100, -1.0, 12_000.0,
            "Reserve MCPs cascade up to VOLL, $10,000/MWh from 2025-09-30"),
        ValueBound(DatasetKind.LOAD, 2000, 2100, 0.0, 160_000.0,
            "MISO-wide record peak about 127 GW (2011); zones are smaller"),
        ValueBound(DatasetKind.LOAD_FORECAST, 2000, 2100, 0.0, 160_000.0,
            "Forecasts stay within the range of actual load"),
        ValueBound(DatasetKind.FUEL_MIX, 2000, 2100, -10_000.0, 90_000.0,
            "Storage is negative while charging; coal and gas, the largest fuels, stay far below "
            "MISO's peak load"),
    )  # fmt: skip

    # -- planning ----------------------------------------------------------------------------

    def plan_day(
        self,
        dataset_id: str,
        day: date,
        lister: Lister,
        today: date | None = None,
        secrets: Secrets = NO_SECRETS,
    ) -> list[DownloadRequest]:
        self.dataset(dataset_id)
        today = today or datetime.now(EST).date()
        if dataset_id in sources.REPORTS:
            return [self._report(dataset_id, day, today, lister)]
        if dataset_id == "load":
            if day >= today:
                return [
                    sources.api_request(
                        "load", day, "RealTimeTotalLoad", f"{day:%Y%m%d}_RealTimeTotalLoad.json"
                    )
                ]
            return [
                sources.report_request("load", day, day + timedelta(days=1), sources.LOAD_REPORT)
            ]
        if dataset_id == "load_forecast":
            return _forecast_vintages(day, today)
        if dataset_id == "fuel_mix":
            return [_recent_api("fuel_mix", day, today, "FuelMix")]
        return [self._five_minute(day, today, bool(secrets.get("pricing_key")))]

    def unoffered_reason(self, dataset_id: str, day: date, today: date) -> str | None:
        """Days MISO has no keyless source for: report datasets before the daily CSVs (and,
        for the LMPs, before the monthly archives), fuel mix before yesterday. The message is
        the one planning raises, saying where the history is."""
        if dataset_id in sources.REPORTS and day < sources.DAILY_CSVS_FROM:
            archived = dataset_id in pricing_report.ARCHIVES and day >= sources.MONTHLY_FROM
            return None if archived else sources.before_daily_csvs(dataset_id, day).description
        if dataset_id == "fuel_mix" and day < today - timedelta(days=1):
            return _not_recent("FuelMix", day, today)
        return None

    def _report(self, dataset: str, day: date, today: date, lister: Lister) -> DownloadRequest:
        if day < sources.DAILY_CSVS_FROM:
            if dataset in pricing_report.ARCHIVES and day >= sources.MONTHLY_FROM:
                archive, member = pricing_report.member_for(dataset, day)
                return sources.monthly_request(dataset, day, archive, member)
            raise sources.before_daily_csvs(dataset, day)
        final, prelim = sources.REPORTS[dataset]
        request = sources.report_request(dataset, day, day, final)
        if prelim is None or day < today - timedelta(days=sources.PRELIM_DAYS) or day >= today:
            return request
        try:
            lister(request)
        except DownloadError as exc:
            if exc.status != 404:  # only "not posted (yet)" means the preliminary file serves
                raise
            # Not final before MISO posts the final file: a later run asks for it again.
            return sources.report_request(
                dataset, day, day, prelim, final_after=sources.prelim_final_after(day)
            )
        return request

    def _five_minute(self, day: date, today: date, keyed: bool) -> DownloadRequest:
        if day >= today - timedelta(days=1):
            return _recent_api("lmp_rt5", day, today, "MarketPricing/GetRealTimeFiveMinExPost")
        published = sources.weekly_archive_day(day)
        if published > today and keyed:
            return data_exchange.five_minute_request(day, today)
        if published > today:
            raise sources.no_history(
                "lmp_rt5", day,
                f"MISO's public API serves only today and yesterday, and the weekly archive "
                f"{published:%Y%m%d}_{sources.WEEKLY_FIVE_MINUTE} holding this day is published "
                f"on {published}: run the day again then, or set {data_exchange.KEY_ENV} to a MISO "
                "Data Exchange pricing key (free) to fetch it from Data Exchange now",
            )  # fmt: skip
        return sources.weekly_request(day)

    def publication_allowance(self, dataset_id: str) -> timedelta:
        if dataset_id in ("lmp_rt_hourly", "as_rt", "load"):
            return REAL_TIME_ALLOWANCE
        return super().publication_allowance(dataset_id)

    # -- the optional Data Exchange key ---------------------------------------------------------

    def auth_headers(
        self, request: DownloadRequest, session: AuthSession, secrets: Secrets
    ) -> dict[str, str]:
        key = secrets.get("pricing_key")
        return {data_exchange.KEY_HEADER: key} if key else {}

    def pager(self, request: DownloadRequest) -> data_exchange.ExchangePager | None:
        return data_exchange.ExchangePager() if request.endpoint == data_exchange.ENDPOINT else None

    def explain_refusal(self, status: int, body: str) -> str | None:
        if status == 401:
            return (
                f"MISO Data Exchange refused the pricing key ({excerpt(body[:200])}): set "
                f"{data_exchange.KEY_ENV} to a valid Pricing API key (data-exchange.misoenergy.org)"
            )
        if status == 429 or (status == 403 and "quota" in body.lower()):
            return (
                f"MISO Data Exchange limits a key to 100 calls a minute (429) and 24,000 a day "
                f"(403): {excerpt(body[:200])}"
            )
        if status == 404:
            return (
                "MISO has not published this file (yet): day-ahead reports post about 14:00 EST "
                "the day before, real-time ones the next morning (final after 3-5 days), the "
                "weekly 5MIN_LMP archive on Mondays two weeks on"
            )
        return None

    # -- payloads ----------------------------------------------------------------------------

    def check_payload(self, content: bytes, source: str) -> None:
        path = source.split("?", 1)[0].lower()
        head = content[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
        if not head:
            raise MalformedFileError(f"{source}: empty answer from MISO")
        if head[:1] == b"<":
            raise MalformedFileError(
                f"{source}: MISO answered a markup page instead of data: {excerpt(head[:120])}"
            )
        if path.endswith(".xls"):
            if not content.startswith((b"\xd0\xcf\x11\xe0", b"PK\x03\x04")):
                raise MalformedFileError(f"{source}: not an Excel workbook: {excerpt(head[:60])}")
        elif path.endswith(".zip"):
            _check_zip(content, source)
        elif path.endswith(".csv"):
            if _CSV_HEADER.search(content[:8192].upper().replace(b"\r", b"")) is None:
                raise MalformedFileError(
                    f"{source}: not a MISO report CSV (no `Node,Type,Value,HE 1`, `MCP Type,HE 1` "
                    f"or `MKTHOUR_EST` header in its first 8 KB): {excerpt(head[:80])}"
                )
        else:
            _check_api(content, source)

    def parse(self, dataset_id: str, paths: Iterable[Path]) -> pl.DataFrame:
        return self.parse_with_notes(dataset_id, list(paths))[0]

    def parse_with_notes(
        self, dataset_id: str, paths: Sequence[Path]
    ) -> tuple[pl.DataFrame, dict[str, int]]:
        """The table of `paths`; for the load forecast, rows a vintage holds for hours that had
        begun when it was published are no forecast: dropped and counted in the notes."""
        spec = self.dataset(dataset_id)
        files = [file for path in paths for file in _files(Path(path))]
        # The pages of a Data Exchange answer are read together: their labelling (interval end
        # before 2026-05-06, start since) shows only over the whole day.
        paged = [spec.id == "lmp_rt5" and data_exchange.is_page(n, c) for n, c in files]
        pages = [file for file, page in zip(files, paged, strict=True) if page]
        frames = [_parse_one(spec, *f) for f, page in zip(files, paged, strict=True) if not page]
        if pages:
            frames.append(data_exchange.five_minute_table(pages))
        if not frames:
            raise MalformedFileError(f"{self.id} {dataset_id}: no data files to parse")
        frame = pl.concat(frames, how="vertical")
        if spec.id != "load_forecast":
            return frame, {}
        ahead, dropped = load_report.forecasts_ahead(frame)
        return ahead, ({load_report.NOT_AHEAD: dropped} if dropped else {})

    # -- drop folders ------------------------------------------------------------------------

    def dropped_file_day(self, name: str) -> tuple[str, date] | None:
        """A daily report (`20240310_da_expost_lmp.csv`) -> (dataset, market day); a df_al
        workbook holds the actual load of the day before its date."""
        match = _DROPPED.match(PurePath(name).name)
        if match is None:
            return None
        try:
            day = datetime.strptime(match["day"], "%Y%m%d").date()
        except ValueError:
            return None
        if (monthly := pricing_report.member_day(name)) is not None:
            return monthly  # a member of a monthly pricing archive (before 2023)
        report = match["report"].lower()
        if report == sources.LOAD_REPORT:
            return "load", day - timedelta(days=1)
        dataset = _DROPPED_REPORTS.get(report)
        return (dataset, day) if dataset else None

    def choose_dropped_files(self, dataset_id: str, day: date, names: list[str]) -> list[str]:
        """Final real-time files win over preliminary ones of the same day."""
        final = [n for n in names if "final" in PurePath(n).name.lower()]
        return final or names

    def dropped_span_dataset(self, name: str) -> str | None:
        """The weekly `YYYYMMDD_5MIN_LMP.zip` (or its CSV) holds seven days of `lmp_rt5`: each
        day is cut out of it (kept from the portal or dropped), not copied whole."""
        return weekly.span_dataset(name)

    def span_file_days(self, dataset_id: str, path: Path) -> list[date]:
        return weekly.span_days(path)

    def cut_span_day(self, dataset_id: str, path: Path, day: date, target: Path) -> int:
        return weekly.cut_day(path, day, target)

    # -- real time ---------------------------------------------------------------------------

    def latest_interval_request(self, now: datetime) -> DownloadRequest:
        day = now.astimezone(EST).date()
        start = est_midnight_utc(day)
        return DownloadRequest(
            iso=self.id, dataset="lmp_rt5", path="MarketPricing/GetRealTimeFiveMinExPost/Current",
            params=(), file_name=f"{day:%Y%m%d}_FiveMinExPost_Current.json", window_start=start,
            window_end=start + timedelta(days=1), endpoint=sources.PUBLIC_API,
            headers=(("Accept", "application/json"),),
        )  # fmt: skip

    def latest_interval_end(self, dataset_id: str, content: bytes, source: str) -> datetime | None:
        spec = self.dataset(dataset_id)
        if dataset_id not in ("lmp_rt5", "fuel_mix") or source.lower().endswith(".zip"):
            raise self.no_latest_interval(dataset_id)
        table = _parse_one(spec, source, content)
        return None if table.is_empty() else table.get_column("interval_end").max()  # type: ignore[return-value]


def _not_recent(path: str, day: date, today: date) -> str:
    return (
        f"MISO's public API serves {path} for today and yesterday only ({day} is neither, "
        f"today being {today} EST); older days are in MISO's Data Exchange, which needs a key "
        "and is not read by this pipeline yet"
    )


def _recent_api(dataset: str, day: date, today: date, path: str) -> DownloadRequest:
    """Today's or yesterday's public-API answer (GetRealTimeFiveMinExPost Rolling/Previous,
    FuelMix Today/Yesterday); older days are not offered."""
    rolling = "Rolling" if "MarketPricing" in path else "Today"
    previous = "Previous" if "MarketPricing" in path else "Yesterday"
    if day == today:
        which = rolling
    elif day == today - timedelta(days=1):
        which = previous
    else:
        raise sources.no_history(dataset, day, _not_recent(path, day, today))
    name = f"{day:%Y%m%d}_{path.rsplit('/', 1)[-1]}_{which}.json"
    return sources.api_request(dataset, day, f"{path}/{which}", name)


def _forecast_vintages(day: date, today: date) -> list[DownloadRequest]:
    """The df_al files published D-5 .. D that exist by `today`. The file of D+1 is not one: it is
    stamped 00:00 EST of D+1, after every hour of D."""
    days = [day - timedelta(days=5) + timedelta(days=n) for n in range(sources.FORECAST_VINTAGES)]
    published = [d for d in days if d <= today]
    if not published:
        raise IsoNoDataError(
            f"{sources.ISO} load_forecast {day}", "not-published",
            f"the first df_al.xls holding {day}'s forecast is published on {days[0]} "
            f"(today is {today} EST)",
        )  # fmt: skip
    return [
        sources.report_request("load_forecast", day, d, sources.LOAD_REPORT,
                               final_after=est_midnight_utc(d + timedelta(days=1)))
        for d in published
    ]  # fmt: skip


def _parse_one(spec: DatasetSpec, name: str, content: bytes) -> pl.DataFrame:
    table = _parse_content(spec, name, content)
    asked = reports.report_day(name)
    if spec.id in _API_ANSWERS and name.lower().endswith(".json") and asked is not None:
        _check_answer_day(table, asked, name)
    return table


def _check_answer_day(table: pl.DataFrame, asked: date, name: str) -> None:
    """A public-API answer (Today/Yesterday, Rolling/Previous) holds the day named at planning
    time: a request sent after EST midnight gets the next day's instead, not to be kept as this
    day's."""
    days = table.select(
        pl.col("interval_start").dt.convert_time_zone(TIMEZONE).dt.date().unique().sort()
    ).to_series()
    other = [d for d in days.to_list() if d != asked]
    if other:
        raise MalformedFileError(
            f"{name}: the answer holds {other[0]} (EST), not {asked}, the day it was asked "
            "for: MISO's public API moved to the next day (EST midnight) between planning and "
            "download; "
            "run the day again (today's and yesterday's answers are refetched)"
        )


def _parse_content(spec: DatasetSpec, name: str, content: bytes) -> pl.DataFrame:
    lowered = name.lower()
    if spec.id in pricing_report.ARCHIVES and lowered.endswith(".xls"):
        return pricing_report.hub_lmp_table(content, name)  # before 2023: hub LMPs only
    if spec.id in _TEXT_REPORTS:
        return _TEXT_REPORTS[spec.id](content, name)
    if spec.id == "lmp_rt5":
        if lowered.endswith(".csv"):
            return public_api.five_minute_csv_table(content, name)
        return public_api.five_minute_api_table(content, name)
    if spec.id == "fuel_mix":
        return public_api.fuel_mix_table(content, name)
    if spec.id == "load":
        if lowered.endswith(".json"):
            return public_api.load_table(content, name)
        return load_report.load_table(content, name)
    return load_report.load_forecast_table(content, name)


def _files(path: Path) -> list[tuple[str, bytes]]:
    """(source name, content) of a kept file, or of each member of a ZIP (the weekly archive)."""
    if path.suffix.lower() != ".zip":
        return [(str(path), path.read_bytes())]
    try:
        with zipfile.ZipFile(path) as archive:
            return [(f"{path}!{n}", archive.read(n)) for n in sorted(archive.namelist())
                    if not n.endswith("/")]  # fmt: skip
    except zipfile.BadZipFile as exc:
        raise MalformedFileError(f"{path}: not a readable ZIP: {exc}") from exc


def _check_zip(content: bytes, source: str) -> None:
    """The archive's directory lists a CSV or workbook. Members are not decompressed here (a
    weekly archive expands to hundreds of MB): extraction checks their CRCs as it streams."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile as exc:
        raise MalformedFileError(f"{source}: not a readable ZIP from MISO: {exc}") from exc
    # The weekly 5MIN_LMP archive holds a CSV, the monthly pricing archives .xls workbooks.
    if not any(n.lower().endswith((".csv", ".xls")) for n in names):
        raise MalformedFileError(
            f"{source}: ZIP without a readable CSV or workbook (members {names[:5]})"
        )


def _check_api(content: bytes, source: str) -> None:
    """A public-API answer: a JSON object with data; an empty one is no data, a bare message
    (`{"message": ...}` from the API gateway) an error."""
    try:
        body = json.loads(content)
    except ValueError as exc:
        raise MalformedFileError(f"{source}: MISO's API answered no JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise MalformedFileError(f"{source}: MISO's API answered {type(body).__name__}, no object")
    if "data" in body:
        if not body["data"]:
            raise IsoNoDataError(source, "no-data", "an empty data list")
        return
    if any(key in body for key in ("Fuel", "LoadInfo", "MCPData")):
        return
    said = str(body.get("message") or body.get("Message") or body)[:300]
    raise IsoErrorResponse(source, str(body.get("statusCode", "error")), said)
