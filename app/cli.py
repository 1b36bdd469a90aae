"""The ``cityops`` command."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

DEFAULT_PORT = 8770


def _add_store_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, required=True, help="the server's data directory")
    p.add_argument("--db", default=None, help="SQLAlchemy URL of the store (default: SQLite in the data directory)")


def _cmd_server(args: argparse.Namespace) -> int:
    from app.server.config import ServerConfig
    from app.server.main import run

    config = ServerConfig(
        data_dir=args.data_dir, host=args.host, port=args.port, db_url=args.db, call_grace_s=args.call_grace
    )
    run(config, args.log_level)
    return 0


def _cmd_user_add(args: argparse.Namespace) -> int:
    from app.domain.permissions import Principal, Role
    from app.server.config import ServerConfig
    from app.server.passwords import hash_password
    from app.storage.catalog_file import read_catalog
    from app.storage.server_store import ServerStore

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
    if not password:
        print("error: empty password", file=sys.stderr)
        return 2
    role = Role(args.role)
    catalog = read_catalog()
    if role in (Role.STREET_OPERATOR,) and not args.street:
        print("error: a street operator needs --street CODE", file=sys.stderr)
        return 2
    if args.street and args.street not in catalog.streets:
        print(f"error: unknown street {args.street}; expected one of {', '.join(catalog.streets)}", file=sys.stderr)
        return 2
    if role is Role.PROFESSIONAL_CENTER and not args.field:
        print("error: a professional center needs --field (fire, water, emergency, ...)", file=sys.stderr)
        return 2
    config = ServerConfig(data_dir=args.data_dir, db_url=args.db)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    store = ServerStore(config.store_url)
    try:
        store.add_user(
            Principal(
                name=args.name,
                role=role,
                street=args.street,
                field=args.field,
                display_name=args.display_name or args.name,
            ),
            hash_password(password),
        )
    finally:
        store.close()
    print(f"user {args.name} ({role.value}) saved")
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from app.sim.simulator import main as simulate

    return simulate(args)


def _cmd_feed(args: argparse.Namespace) -> int:
    from app.services.feed import main as feed

    return feed(args)


def _cmd_demo(args: argparse.Namespace) -> int:
    from app.services.demo import main as demo

    return demo(args)


def _cmd_console(args: argparse.Namespace) -> int:
    from app.console.app import main as console

    return console(args)


def _cmd_setup_data(args: argparse.Namespace) -> int:
    from app.setup_data import main as setup_data

    return setup_data(args)


def _cmd_report(args: argparse.Namespace) -> int:
    from app.report.main import main as report

    return report(args)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import json
    import time

    from app.domain.evaluation import GroupBy, parse_period, report
    from app.server.config import ServerConfig, StoreNotOpened, open_existing_store
    from app.storage.catalog_file import read_catalog

    now = time.time()
    try:
        period = parse_period(args.period, now)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        store = open_existing_store(ServerConfig(data_dir=args.data_dir, db_url=args.db))
    except StoreNotOpened as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        group_by = GroupBy(args.by)
        rows = store.evaluate(period.start, period.end, group_by, as_of=now)
    finally:
        store.close()
    result = report(rows, period, group_by, now, read_catalog())
    _print_evaluation(result)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"\nwritten to {args.json}")
    return 0


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: Chinese characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    space = " " * max(0, width - _width(text))
    return space + text if right else text + space


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


#: The table's columns: header (the standard's term), the figure, how it is shown.
_EVALUATION_COLUMNS = (
    ("立案", "registered", str),
    ("应结案", "due_to_close", str),
    ("结案", "closed", str),
    ("按期结案", "closed_on_time", str),
    ("结案率", "close_rate", _percent),
    ("按期结案率", "on_time_close_rate", _percent),
    ("应处置", "due_to_handle", str),
    ("处置", "handled", str),
    ("按期处置", "handled_on_time", str),
    ("处置率", "handle_rate", _percent),
    ("按期处置率", "on_time_handle_rate", _percent),
    ("返工", "reworked", str),
    ("返工率", "rework_rate", _percent),
    ("超期", "overdue", str),
    ("超期未结", "overdue_open", str),
    ("立案用时", "avg_register_s", _duration),
    ("派遣用时", "avg_dispatch_s", _duration),
    ("处置用时", "avg_handle_s", _duration),
    ("核查用时", "avg_verify_s", _duration),
)


def _print_evaluation(result: dict[str, object]) -> None:
    period = result["period"]
    assert isinstance(period, dict)
    rows = result["rows"]
    assert isinstance(rows, list)
    by = {"unit": "单位 unit", "street": "街镇 street", "category": "类别 category"}[str(result["group_by"])]
    print(
        f"综合评价 evaluation of the cases registered {period['label']} ({period['start']} to {period['end']}),"
        f" as of {result['as_of']}"
    )
    if not rows:
        print("no cases registered in this period")
        return
    table = [[by, *(h for h, _f, _s in _EVALUATION_COLUMNS)]]
    for row in rows:
        table.append([row["name"]["zh"], *(show(row[field]) for _h, field, show in _EVALUATION_COLUMNS)])
    widths = [max(_width(line[i]) for line in table) for i in range(len(table[0]))]
    for line in table:
        cells = [_pad(line[0], widths[0])] + [_pad(c, w, right=True) for c, w in zip(line[1:], widths[1:], strict=True)]
        print("  ".join(cells))
    print("rates: e.g. 按期结案率 = 按期结案数 / 应结案数; times are averages per case; definitions in --json")


def _cmd_bench(args: argparse.Namespace) -> int:
    from bench import run_bench

    return run_bench(args.name, args.json, args.n)


def build_parser() -> argparse.ArgumentParser:
    from app.domain.permissions import Role

    parser = argparse.ArgumentParser(prog="cityops", description="CityOps Console — 一网统管 command center")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("server", help="run the central server")
    _add_store_args(p)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--log-level", default="warning")
    p.add_argument(
        "--call-grace",
        type=float,
        default=15.0,
        help="seconds a console whose connection dropped keeps its talk groups, floor and rooms (default 15)",
    )
    p.set_defaults(func=_cmd_server)

    user = sub.add_parser("user", help="manage users").add_subparsers(dest="user_command", required=True)
    p = user.add_parser("add", help="add or replace a user")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.add_argument("--street", help="9-digit street code (street operator, field commander)")
    p.add_argument("--field", help="professional field (professional center)")
    p.add_argument("--display-name", default="")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    _add_store_args(p)
    p.set_defaults(func=_cmd_user_add)

    p = sub.add_parser("simulate", help="send a realistic stream of reports to a server's intake API")
    p.add_argument("--server", required=True, help="server URL, e.g. http://127.0.0.1:8770")
    p.add_argument("--key-file", type=Path, required=True, help="file holding an intake key (DIR/intake.key)")
    p.add_argument("--rate", type=float, default=2.0, help="reports per second")
    p.add_argument("--duration", type=float, default=60.0, help="seconds to run (0: until interrupted)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--no-devices", action="store_true", help="do not register the simulated sensors and cameras")
    p.set_defaults(func=_cmd_simulate)

    p = sub.add_parser("feed", help="sign in and print the live change feed as a console receives it")
    p.add_argument("--server", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password-stdin", action="store_true")
    p.add_argument("--password", default=None, help=argparse.SUPPRESS)
    p.add_argument("--cache", type=Path, default=None, help="console cache file (default: a temporary one)")
    p.add_argument("--duration", type=float, default=0.0, help="seconds to run (0: until interrupted)")
    p.set_defaults(func=_cmd_feed)

    p = sub.add_parser("demo", help="run server, simulator and a live client on the embedded default")
    p.add_argument("--data-dir", type=Path, default=Path(".demo-data"))
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--rate", type=float, default=3.0)
    p.add_argument("--duration", type=float, default=0.0, help="seconds to run (0: until interrupted)")
    p.add_argument("--headless", action="store_true", help="Qt offscreen unless QT_QPA_PLATFORM is set")
    p.add_argument("--screenshot", type=Path, default=None, help="the console writes one PNG per screen here")
    p.add_argument("--quit-after", type=float, default=None, help="quit after this many seconds")
    p.add_argument("--language", default="zh", choices=["zh", "en"])
    p.add_argument("--feed", action="store_true", help="the text change feed instead of the console")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("console", help="the operator console")
    p.add_argument("--server", required=True, help="server URL, e.g. http://127.0.0.1:8770")
    p.add_argument("--user", default=None)
    p.add_argument("--password-stdin", action="store_true", help="sign in with the password on standard input")
    p.add_argument(
        "--language", default=None, choices=["zh", "en"], help="UI language, kept for this workstation (default zh)"
    )
    p.add_argument("--cache-dir", type=Path, default=None, help="where the local cache lives")
    p.add_argument("--headless", action="store_true", help="Qt offscreen unless QT_QPA_PLATFORM is set")
    p.add_argument("--screenshot", type=Path, default=None, help="write one PNG per screen into this folder")
    p.add_argument("--quit-after", type=float, default=None, help="quit after this many seconds")
    p.add_argument("--memory-keyring", action="store_true", help=argparse.SUPPRESS)
    p.add_argument(
        "--profile",
        choices=["district", "street", "field", "trainer"],
        default=None,
        help="workspace profile (default: by role)",
    )
    p.set_defaults(func=_cmd_console)

    p = sub.add_parser("setup-data", help="build derived data (translations, map layers); fast when up to date")
    p.add_argument(
        "--geo-dir", type=Path, default=None, help="where the map layers go (default: $CITYOPS_GEO_DIR, else data/geo)"
    )
    p.set_defaults(func=_cmd_setup_data)

    p = sub.add_parser("report", help="城市体检报告: the health check report of a period, as PDF and HTML")
    _add_store_args(p)
    p.add_argument(
        "--period",
        default="today",
        help="today, YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD (Shanghai local days; default today)",
    )
    p.add_argument("--out", type=Path, required=True, help="the PDF to write; the HTML goes beside it (FILE.html)")
    p.add_argument("--language", choices=["zh", "en"], default="zh", help="language of the report (default zh)")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("evaluate", help="综合评价: closing, handling and rework rates by unit, street or category")
    _add_store_args(p)
    p.add_argument(
        "--period",
        required=True,
        help="today, YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD: the cases registered on these Shanghai local days",
    )
    p.add_argument(
        "--by", choices=["unit", "street", "category"], default="unit", help="one row per ... (default unit)"
    )
    p.add_argument("--json", type=Path, default=None, help="also write the figures and their definitions here")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("bench", help="run a benchmark")
    p.add_argument("name", help="sync")
    p.add_argument("--json", type=Path, default=None, help="write the results here")
    p.add_argument("--n", type=int, default=None, help="size (sync: incidents in the initial sync)")
    p.set_defaults(func=_cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
