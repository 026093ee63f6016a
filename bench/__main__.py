"""Benchmarks: `make bench` (python -m bench). Each prints its figures beside a
plain-SQL baseline run on the same machine, in the same run, on the same data.

    python -m bench                  # all, at a modest scale (about 10 minutes)
    python -m bench ledger_writes    # earn and redeem, services vs plain SQL
    python -m bench expire           # expire_points at the issue's scale (--quick: 1/50)
    python -m bench orders_http      # POST /api/v1/orders through gunicorn vs its ceiling
    python -m bench tiers            # recalc_tiers at 1M members / 10M orders and at a quarter
    python -m bench segments         # the segments job at 1M members / 10M orders vs one statement
    python -m bench coupons          # coupon redeems over HTTP vs plain SQL; 1M codes generated
    python -m bench admin            # admin lists and the dashboard at 1M members / 30M entries
    python -m bench recommendations  # behaviour ingestion, the recommender's night, its API
    python -m bench portal           # each portal page for a member with 10,000 entries
    python -m bench generate         # only load a ledger (to look at it)

PostgreSQL only (DATABASE_URL); the benchmarks drop, create and migrate a
database of their own on that server (`--database`, default loyalty_bench).
"""

import argparse
import sys

from . import database


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database",
        default=database.DEFAULT_NAME,
        help="the benchmark database (dropped and re-created), default %(default)s",
    )
    commands = parser.add_subparsers(dest="command")
    from . import arguments

    arguments.add_all(commands)
    return parser


def main(argv: list[str]) -> None:
    parser = _parser()
    args = parser.parse_args(argv or ["all"])
    command = args.command or "all"
    url = database.bench_url(args.database)
    internal = command.startswith("_")
    if not internal:
        database.say(f"benchmark database: {args.database} (dropped and re-created)")
        database.recreate(url)
    database.setup_django(url, migrate=not internal)
    # Imported only now: they import models, which needs Django set up.
    if command == "generate":
        from . import generate

        generate.main(args)
        return
    from . import (
        admin,
        arguments,
        coupons,
        expire,
        ledger_writes,
        orders_http,
        portal,
        recommendations,
        segments,
        tiers,
    )

    if command == "ledger_writes":
        ledger_writes.main(args)
    elif command == "expire":
        expire.main(args)
    elif command == "orders_http":
        orders_http.main(args)
    elif command == "tiers":
        tiers.main(args)
    elif command == "segments":
        segments.main(args)
    elif command == "admin":
        admin.main(args)
    elif command == "_kpi_job":
        admin.job_child(args)
    elif command == "coupons":
        coupons.main(args)
    elif command == "recommendations":
        recommendations.main(args)
    elif command == "_recommendations_job":
        recommendations.job_child(args)
    elif command == "portal":
        portal.main(args)
    elif command == "_coupon_batch":
        coupons.batch_child(args)
    elif command == "_expire_job":
        expire.job_child(args)
    elif command == "_tiers_job":
        tiers.job_child(args)
    else:
        ledger_writes.main(arguments.for_all(args, "ledger_writes"))
        expire.main(arguments.for_all(args, "expire"))
        orders_http.main(arguments.for_all(args, "orders_http"))
        tiers.main(arguments.for_all(args, "tiers"))
        coupons.main(arguments.for_all(args, "coupons"))


if __name__ == "__main__":
    main(sys.argv[1:])
