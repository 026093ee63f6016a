"""The command line of `python -m bench`, kept free of Django imports: it is read
before Django is set up (the database it is set up with depends on it)."""

import argparse
import datetime as dt

# The scale for expire_points: 5 million lots of which 1 million are due.
EXPIRE_MEMBERS = 500_000
EXPIRE_LOTS_PER_MEMBER = 10
EXPIRE_DUE_FRACTION = 0.2
QUICK = 50  # --quick divides the scale by this
ALL_EXPIRE_SCALE = 0.1  # `python -m bench` (all): expire at a tenth of the scale
TIERS_MEMBERS = 1_000_000  # recalc_tiers: a million members with ten orders each
TIERS_ORDERS = 10_000_000
ALL_TIERS_SCALE = 0.1  # `python -m bench` (all): tiers at a tenth of that
ADMIN_MEMBERS = 1_000_000  # the admin and the dashboard: a million members
ADMIN_ENTRIES = 30_000_000  # and 30 million ledger entries


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


def _floats(text: str) -> list[float]:
    return [float(part) for part in text.split(",") if part]


def _words(text: str) -> list[str]:
    return [part for part in text.split(",") if part]


def _generate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--lots-per-member", type=int, default=10)
    parser.add_argument("--due-fraction", type=float, default=0.2)
    parser.add_argument(
        "--hot-lots", type=int, default=0, help="lots of member 1 (default: as any)"
    )
    parser.add_argument("--no-orders", action="store_true", help="do not load orders")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None)


def _ledger_writes(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--lots-per-member", type=int, default=5)
    parser.add_argument("--threads", type=_ints, default=[1, 4, 16], help="e.g. 1,4,16")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--operations", type=_words, default=["earn", "redeem"])
    parser.add_argument("--targets", type=_words, default=["random", "hot"])


def _expire(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--members", type=int, default=EXPIRE_MEMBERS)
    parser.add_argument("--lots-per-member", type=int, default=EXPIRE_LOTS_PER_MEMBER)
    parser.add_argument("--due-fraction", type=float, default=EXPIRE_DUE_FRACTION)
    parser.add_argument(
        "--sizes",
        type=_floats,
        default=[0.2, 1.0],
        help="fractions of the scale to run at, smallest first (memory as data grows)",
    )
    parser.add_argument("--chunk-size", type=int, default=None, help="default: the job's")
    parser.add_argument("--quick", action="store_true", help=f"1/{QUICK} of the scale")
    parser.add_argument("--no-orders", action="store_true", help="do not load orders")


def _tiers(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--members", type=int, default=TIERS_MEMBERS)
    parser.add_argument("--orders", type=int, default=TIERS_ORDERS)
    parser.add_argument(
        "--scales",
        type=_floats,
        default=[0.25, 1.0],
        help="fractions of the scale to run at, smallest first (memory as members grow)",
    )
    parser.add_argument("--chunk-size", type=int, default=None, help="default: the job's")
    parser.add_argument("--quick", action="store_true", help=f"1/{QUICK} of the scale")


def _segments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--members", type=int, default=TIERS_MEMBERS)
    parser.add_argument("--orders", type=int, default=TIERS_ORDERS)
    parser.add_argument("--chunk-size", type=int, default=None, help="default: the job's")
    parser.add_argument("--quick", action="store_true", help=f"1/{QUICK} of the scale")


def _orders_http(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--lots-per-member", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase")
    parser.add_argument(
        "--rounds", type=int, default=3, help="ceiling and orders phases, alternated"
    )
    parser.add_argument(
        "--campaigns",
        type=int,
        default=0,
        help="then this many active campaigns and the orders again (the issue's figure: 20)",
    )


def _admin(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--members", type=int, default=ADMIN_MEMBERS)
    parser.add_argument("--entries", type=int, default=ADMIN_ENTRIES)
    parser.add_argument("--chunk-size", type=int, default=None, help="default: the job's")
    parser.add_argument("--quick", action="store_true", help=f"1/{QUICK} of the scale")


def _coupons(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clients", type=_ints, default=[1, 4, 16], help="e.g. 1,4,16")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase")
    parser.add_argument("--batch", type=int, default=1_000_000, help="codes in the batch")


def _recommendations(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--lines", type=int, default=10_000_000, help="order lines")
    parser.add_argument("--events", type=int, default=50_000_000, help="behaviour events")
    parser.add_argument("--requests", type=int, default=2_000, help="API requests timed")
    parser.add_argument("--chunk-size", type=int, default=None, help="default: the job's")
    parser.add_argument("--quick", action="store_true", help=f"1/{QUICK} of the sizes")


def _portal(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--members", type=_ints, default=[], help="member counts, e.g. 100000,1000000"
    )
    parser.add_argument("--entries", type=int, default=10_000, help="the member's ledger entries")
    parser.add_argument("--loads", type=int, default=50, help="timed loads of each page")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker")
    parser.add_argument("--quick", action="store_true", help="10,000 members, 20 loads a page")


def add_all(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    _generate(commands.add_parser("generate", help="load a ledger at a chosen scale"))
    _ledger_writes(commands.add_parser("ledger_writes", help="earn and redeem, tx/s"))
    _expire(commands.add_parser("expire", help="the expire_points job vs one statement"))
    _orders_http(
        commands.add_parser("orders_http", help="order intake over HTTP vs the stack's ceiling")
    )
    _tiers(commands.add_parser("tiers", help="the recalc_tiers job vs one aggregate and UPDATE"))
    _segments(commands.add_parser("segments", help="the segments job vs one statement"))
    _coupons(commands.add_parser("coupons", help="coupon redeems over HTTP vs one UPDATE; a batch"))
    _admin(commands.add_parser("admin", help="admin list pages and the dashboard; kpi_snapshot"))
    _recommendations(
        commands.add_parser(
            "recommendations", help="behaviour ingestion, the recommendations night, the API"
        )
    )
    _portal(commands.add_parser("portal", help="portal pages of a long-history member, p50/p99"))
    everything = commands.add_parser("all", help="every benchmark at a modest scale (default)")
    everything.add_argument("--quick", action="store_true", help="smaller and shorter still")
    child = commands.add_parser("_expire_job")  # internal: the job alone, in a child process
    child.add_argument("--as-of", type=dt.date.fromisoformat, required=True)
    child.add_argument("--chunk-size", type=int, default=None)
    child = commands.add_parser("_kpi_job")  # internal: one timed kpi_snapshot
    child.add_argument("--as-of", type=dt.date.fromisoformat, required=True)
    child.add_argument("--chunk-size", type=int, default=None)
    child = commands.add_parser("_tiers_job")  # internal: one timed run, in a child process
    child.add_argument("--as-of", type=dt.date.fromisoformat, required=True)
    child.add_argument("--chunk-size", type=int, default=None)
    child.add_argument("--plain", action="store_true", help="the plain-SQL baseline")
    child = commands.add_parser("_recommendations_job")  # internal: the job, in a child
    child.add_argument("--as-of", type=dt.date.fromisoformat, required=True)
    child.add_argument("--chunk-size", type=int, default=None)
    child = commands.add_parser("_coupon_batch")  # internal: one batch, in a child process
    child.add_argument("--count", type=int, required=True)


BENCHMARKS = {
    "ledger_writes": _ledger_writes,
    "expire": _expire,
    "orders_http": _orders_http,
    "tiers": _tiers,
    "coupons": _coupons,
}


def for_all(args: argparse.Namespace, command: str) -> argparse.Namespace:
    """The arguments `all` runs `command` with: its defaults, expire and tiers
    scaled down."""
    parser = argparse.ArgumentParser()
    BENCHMARKS[command](parser)
    defaults = parser.parse_args([])
    quick = getattr(args, "quick", False)
    if command == "expire":
        defaults.members = int(EXPIRE_MEMBERS * ALL_EXPIRE_SCALE)
        defaults.quick = quick
    elif command == "tiers":
        defaults.members = int(TIERS_MEMBERS * ALL_TIERS_SCALE)
        defaults.orders = int(TIERS_ORDERS * ALL_TIERS_SCALE)
        defaults.quick = quick
    elif quick:
        defaults.duration = 2.0 if command == "ledger_writes" else 4.0
    return defaults
