"""`power-assets`: the console script's parser and dispatch.

    power-assets backfill ISO START END [--dataset D ...] [--stage S ...] [--chunk-days N]
    power-assets status [ISO] [--reports DIR]
    power-assets query "SQL" [--csv FILE | --parquet FILE] [--rows N]
    power-assets catalog [--csv FILE | --parquet FILE] [--rows N]
    power-assets realtime on|off [ISO]

What belongs here: the arguments, checking their values before anything runs, choosing the
Dagster instance (DAGSTER_HOME, default `./.dagster_home`: the one `python3 tasks.py ui` shows)
and how an error reaches the user. A wrong value is one line on stderr naming the valid choices,
exit 2; a command that fails (a run's partition, a refused SQL statement) says so in one line,
exit 1. Each command's work is in its own module (see the package docstring).
"""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from power_assets.scale.backfill import UsageError

USAGE = 2
FAILED = 1
COMMANDS = ("backfill", "status", "query", "catalog", "realtime")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not the usage block and a message
        raise UsageError(f"{self.prog}: error: {message}")


def _whole(minimum: int):
    def parse(text: str) -> int:
        if not text.strip().isdigit() or int(text) < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= {minimum}")
        return int(text)

    return parse


def _exports(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--csv", metavar="FILE", type=Path, help="also write the result as CSV")
    target.add_argument("--parquet", metavar="FILE", type=Path, help="also write it as parquet")
    parser.add_argument(
        "--rows", metavar="N", type=_whole(1), default=40, help="rows shown (first and last; 40)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="power-assets",
        description="US electricity market data: backfill, status, query, catalog, realtime. "
        "Runs use the Dagster instance in $DAGSTER_HOME (default ./.dagster_home, the one "
        "`python3 tasks.py ui` shows) and the data in $POWER_ASSETS_DATA_DIR (default ./data).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    backfill = commands.add_parser("backfill", help="run a range of market days, with progress")
    backfill.add_argument("iso", metavar="ISO", help="ISO id (any case), or ISO,ISO,...")
    backfill.add_argument("start", metavar="START", help="first market day, YYYY-MM-DD")
    backfill.add_argument("end", metavar="END", help="last market day, YYYY-MM-DD (included)")
    backfill.add_argument(
        "--dataset", metavar="D", nargs="+", action="extend", help="datasets (default: all)"
    )
    backfill.add_argument(
        "--stage", metavar="S", nargs="+", action="extend", help="stages (default: all)"
    )
    backfill.add_argument(
        "--chunk-days", metavar="N", type=_whole(1), default=7, help="days per run (7)"
    )
    backfill.add_argument(
        "--force-download", action="store_true", help="fetch again responses already kept"
    )

    status = commands.add_parser("status", help="stored ranges, missing days, failed checks")
    status.add_argument("iso", metavar="ISO", nargs="?", help="one ISO (default: all)")
    status.add_argument(
        "--reports", metavar="DIR", type=Path, help="report folder (default: data/reports)"
    )

    query = commands.add_parser("query", help="run read-only SQL on the warehouse")
    query.add_argument("sql", metavar="SQL")
    _exports(query)
    _exports(commands.add_parser("catalog", help="what the warehouse holds (the catalog view)"))

    realtime = commands.add_parser("realtime", help="switch real-time sensors and schedules")
    realtime.add_argument("action", metavar="on|off", choices=("on", "off"))
    realtime.add_argument("iso", metavar="ISO", nargs="?", help="one ISO (default: all)")
    return parser


def _checked(args: argparse.Namespace):
    """The command's request with every value checked (UsageError otherwise); nothing runs yet."""
    from power_assets import settings
    from power_assets.scale.backfill import parse_isos

    if args.command == "backfill":
        from power_assets.cli.backfill import parse_request

        try:
            settings.executor_name()  # the definitions read it when they load
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        return parse_request(
            args.iso, args.start, args.end, args.dataset, args.stage, args.chunk_days,
            args.force_download,
        )  # fmt: skip
    if args.command in ("status", "realtime"):
        isos = parse_isos(args.iso) if args.iso else ()
        if args.command == "realtime":
            from power_assets.cli.realtime import targets

            targets(isos)  # an ISO without sensors or schedules is a wrong value too
        return isos
    return None


def _run(args: argparse.Namespace, request) -> int:
    from power_assets.cli import home

    # No warning filter here: power_assets/__init__.py silences only the project's own uses of
    # Dagster's beta and preview APIs, so anyone else's warnings still show.
    if args.command in ("query", "catalog"):
        from power_assets.cli.query import run_catalog, run_query

        options = {"csv": args.csv, "parquet": args.parquet, "rows": args.rows, "print_error": _err}
        if args.command == "query":
            return run_query(args.sql, **options)
        return run_catalog(**options)
    if args.command == "realtime":
        from power_assets.cli.realtime import switch

        home.ready()  # dagster-graphql opens the same instance: prepared first
        for instigator, status in switch(args.action == "on", request):
            print(f"{instigator}: {status}")
        print("sensors and schedules tick while the Dagster daemon runs (python3 tasks.py ui)")
        return 0
    with home.instance() as instance:
        if args.command == "backfill":
            from power_assets.cli.backfill import run_backfill

            return run_backfill(request, instance)
        from power_assets import settings
        from power_assets.cli.reports import print_status, write_reports
        from power_assets.cli.status import gather

        status = gather(instance, request)
        folder = write_reports(status, args.reports or settings.data_dir() / "reports", request)
        print_status(status, folder)
        return 0


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit status (0 ok, 1 failed, 2 wrong arguments)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            raise UsageError(f"power-assets: error: choose a command: {', '.join(COMMANDS)}")
        try:
            request = _checked(args)
        except UsageError as exc:
            raise UsageError(f"power-assets {args.command}: error: {exc}") from None
    except UsageError as exc:
        _err(str(exc))
        return USAGE
    from power_assets.cli.realtime import RealtimeError
    from power_assets.errors import PowerAssetsError

    try:
        return _run(args, request)
    except (PowerAssetsError, RealtimeError) as exc:
        _err(f"power-assets {args.command}: {exc}")
        return FAILED
    except KeyboardInterrupt:
        _err(f"power-assets {args.command}: interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
