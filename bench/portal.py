"""The member portal's pages for a member with a long history: each page loaded
50 times (after a few warm-up loads) through gunicorn, p50 and p99, at one or
more member counts; targets p50 <= 50 ms, p99 <= 250 ms.

Set-up per member count: a fresh ledger (`bench.generate`, a few lots and
orders per member) where member 1 has `--entries` ledger entries (10,000 by
default) and also coupons, inbox messages, rewards to choose from and
referrals; the night's `recalc_tiers`; gunicorn serving the site with
production settings (`bench.orders_http.serving`, DEBUG off, the client saying
X-Forwarded-Proto: https as the TLS proxy would). The client logs in as member 1
through the login page, then asks for each page over one keep-alive
connection, one request at a time, and checks every answer is 200.

    python -m bench portal                       # 100,000 members
    python -m bench portal --members 1000000     # the issue's scale
    python -m bench portal --quick               # 10,000 members, 20 loads a page
"""

import argparse
import http.client
import os
import secrets
import statistics
import subprocess
import sys
import time
import urllib.parse
from http.cookies import SimpleCookie
from unittest.mock import patch

from allauth.account.models import EmailAddress
from django.conf import settings
from django.utils import timezone

from batch.runner import job_run
from batch.services import program_today
from campaigns.models import Referral
from members.models import Member, User
from notifications.models import Message
from notifications.tasks import send_outbox
from rewards.models import Coupon, Reward

from .database import checkpoint, psycopg_connect, say
from .generate import generate
from .http_client import HOST
from .orders_http import serving

PASSWORD = "bench-portal-2026"  # noqa: S105 - the benchmark database's own member
TARGET_P50_MS = 50.0
TARGET_P99_MS = 250.0
WARM_UP = 3
COUPONS = 200
MESSAGES = 300
PAGES = [
    "/me/",
    "/me/points/",
    "/me/points/?kind=earned",
    "/me/tier/",
    "/me/rewards/",
    "/me/rewards/bench-10/",
    "/me/coupons/",
    "/me/coupons/?show=gifts",
    "/me/referral/",
    "/me/inbox/",
    "/me/profile/",
    "/me/privacy/",
]


def _heavy_member() -> Member:
    """Member 1, who logs in: a password, coupons, messages and rewards to choose
    from, and referrals (members 2..21 joined through them)."""
    member = Member.objects.select_related("user").get(pk=1)
    user: User = member.user
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    # The generated members' addresses are verified on the member; allauth, which
    # logs them in, keeps its own record of it.
    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    for n in range(1, 21):
        Reward.objects.update_or_create(
            code=f"bench-{n}",
            defaults={
                "name": f"Reward {n}",
                "kind": Reward.Kind.COUPON,
                "points": n * 500,
                "coupon": {"kind": "amount", "value": "10.00", "valid_days": 30},
            },
        )
    Coupon.objects.bulk_create(
        Coupon(code=f"BENCH{n:07d}", kind="free_shipping", owner=member, source="staff")
        for n in range(COUPONS)
    )
    now = timezone.now()
    Message.objects.bulk_create(
        Message(
            member=member,
            channel=Message.Channel.INBOX,
            template="rewards.coupon_issued",
            context={"reward": "bench-1", "points": 500, "code": f"BENCH{n:07d}"},
            state=Message.State.SENT,
            sent_at=now,
            read_at=now if n % 3 else None,
        )
        for n in range(MESSAGES)
    )
    Referral.objects.bulk_create(Referral(referee_id=n, referrer=member) for n in range(2, 22))
    return member


def _collect_static() -> None:
    """The pages' CSS and scripts, collected as the production image does (with
    DEBUG off: the manifest the templates' static URLs are read from)."""
    env = {**os.environ, "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(48)}
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
    )


class Client:
    """One keep-alive connection with the session's cookies, as a browser behind
    the TLS proxy."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.http = http.client.HTTPConnection(HOST, port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        headers = {
            "Host": f"{HOST}:{self.port}",
            "X-Forwarded-Proto": "https",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"https://{HOST}:{self.port}"
            headers["Referer"] = f"https://{HOST}:{self.port}/accounts/login/"
        self.http.request(method, path, body=data, headers=headers)
        response = self.http.getresponse()
        content = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, content

    def log_in(self, email: str) -> None:
        status, _body = self.request("GET", "/accounts/login/")
        if "csrftoken" not in self.cookies:
            raise RuntimeError(f"the login page answered {status} with no CSRF cookie")
        status, _body = self.request(
            "POST",
            "/accounts/login/",
            {
                "login": email,
                "password": PASSWORD,
                "csrfmiddlewaretoken": self.cookies["csrftoken"],
            },
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"logging in answered {status} without a session")


def _settle() -> None:
    """Leave nothing of the set-up for the measured loads to compete with: the
    night's job rewrote every member's tier row and queued a notice for most, so
    without this autovacuum (and the hint bits of a first read, and the
    checkpoint of the dirty pages) would run during the loads on this 2-core
    machine, and the pages would be timed against the set-up's housekeeping."""
    with psycopg_connect(autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    checkpoint()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run(*, members: int, entries: int, loads: int, workers: int, threads: int) -> dict:
    generate(members=members, lots_per_member=2, due_fraction=0.0, hot_lots=entries)
    # The night's tier notices (one for most members, who all start at the base
    # tier) stay queued: the sender would otherwise run inside the job (Celery is
    # eager here) and take hours at a million members; sending is not what this
    # measures.
    with patch.object(send_outbox, "delay"):
        job_run(name="recalc_tiers", as_of=program_today())
    _collect_static()
    member = _heavy_member()
    _settle()
    ledger = member.ledger.count()
    say(
        f"member {member.number}: {ledger:,} ledger entries, {COUPONS} coupons, {MESSAGES} messages"
    )
    results = {}
    with serving(workers=workers, threads=threads) as port:
        client = Client(port)
        client.log_in(member.user.email)
        for page in PAGES:
            for _ in range(WARM_UP):
                client.request("GET", page)
            timings = []
            for _ in range(loads):
                started = time.perf_counter()
                status, _body = client.request("GET", page)
                timings.append((time.perf_counter() - started) * 1000)
                if status != 200:
                    raise RuntimeError(f"{page} answered {status}")
            results[page] = (statistics.median(timings), _percentile(timings, 0.99))
    return {"members": members, "entries": ledger, "pages": results}


def report(result: dict) -> bool:
    say(
        f"\n{result['members']:,} members; the member's ledger: {result['entries']:,} entries"
        f" (targets: p50 <= {TARGET_P50_MS:g} ms, p99 <= {TARGET_P99_MS:g} ms)"
    )
    say(f"{'page':<28} {'p50 ms':>8} {'p99 ms':>8}")
    met = True
    for page, (p50, p99) in result["pages"].items():
        ok = p50 <= TARGET_P50_MS and p99 <= TARGET_P99_MS
        met &= ok
        say(f"{page:<28} {p50:>8.1f} {p99:>8.1f}  {'ok' if ok else 'MISSED'}")
    return met


def main(args: argparse.Namespace) -> None:
    sizes = args.members or ([10_000] if args.quick else [100_000])
    loads = 20 if args.quick else args.loads
    met = True
    for members in sizes:
        result = run(
            members=members,
            entries=args.entries,
            loads=loads,
            workers=args.workers,
            threads=args.threads,
        )
        met &= report(result)
    say("\nall pages within the targets" if met else "\nsome pages missed the targets")
