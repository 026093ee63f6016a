"""The benchmarks' own PostgreSQL database and Django set-up.

The benchmarks never run on the developer's data: they take the server from
DATABASE_URL and use a database of their own on it (`loyalty_bench` unless told
otherwise), dropped and migrated afresh at the start of every run so that every
run starts from the same state (no bloat or statistics left by an earlier run).
Nothing here imports Django models: it runs before `django.setup()`.
"""

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import environ
import psycopg
from psycopg import sql

DEFAULT_NAME = "loyalty_bench"
HINT = "DATABASE_URL=postgres://postgres@127.0.0.1:5432/loyalty_bench make bench"


class NotPostgres(SystemExit):
    pass


def bench_url(name: str) -> str:
    """DATABASE_URL with its database replaced by `name`; refuses anything but
    PostgreSQL with the command that would work."""
    url = os.environ.get("DATABASE_URL", "")
    engine = environ.Env.db_url_config(url)["ENGINE"] if url else "sqlite"
    if "postgresql" not in engine:
        raise NotPostgres(
            "The benchmarks need PostgreSQL (row locks, COPY, concurrent connections); "
            f"DATABASE_URL is {'unset (SQLite)' if not url else repr(url)}.\n"
            f"Run them as:\n    {HINT}\n"
            f"They use a database of their own on that server ({DEFAULT_NAME}), "
            "dropped and re-created on every run."
        )
    if "bench" not in name:
        raise SystemExit(
            f"The benchmark database is dropped on every run; {name!r} does not look "
            "like one (its name must contain 'bench')."
        )
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def connect_params(url: str) -> dict[str, object]:
    config = environ.Env.db_url_config(url)
    params: dict[str, object] = {
        "dbname": config["NAME"],
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
    }
    return {key: value for key, value in params.items() if value is not None}


class InUse(SystemExit):
    pass


def recreate(url: str) -> None:
    """Drop and create the benchmark database (connected to the server's
    `postgres` database meanwhile). Refused while anything is connected to it:
    two benchmarks on one database would drop each other's data mid-run."""
    params = connect_params(url)
    name = str(params["dbname"])
    with psycopg.connect(**{**params, "dbname": "postgres"}, autocommit=True) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = %s", [name]
        ).fetchone()
        if row and row[0]:
            raise InUse(
                f"{row[0]} connection(s) to {name} are open: another benchmark may be "
                "running on it. Give this one a database of its own "
                f"(--database {name}_2), or close them first."
            )
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup_django(url: str, *, migrate: bool) -> None:
    """Point Django at the benchmark database, with Celery eager (no broker: the
    job runs in this process) and without DEBUG's query log (it would grow with
    every statement and distort both time and memory). The settings are read in
    development mode unless the environment says otherwise (no SECRET_KEY needed);
    DEBUG is then turned off."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "true")
    os.environ["CELERY_BROKER_URL"] = ""  # "" rather than unset: a .env cannot put one back
    os.environ["DJANGO_SETTINGS_MODULE"] = "loyalty_site.settings"
    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)


def psycopg_connect(*, autocommit: bool = False) -> psycopg.Connection:
    """A plain psycopg connection to the database Django uses (the baselines')."""
    return psycopg.connect(**connect_params(os.environ["DATABASE_URL"]), autocommit=autocommit)


def say(message: str = "") -> None:
    print(message, flush=True)
    sys.stdout.flush()


def memory_mb(key: str) -> float:
    """This process's resident set now (`VmRSS`) or at its peak (`VmHWM`), in MB.
    Not `getrusage`'s `ru_maxrss`: Linux carries the parent's peak into a child
    through fork and exec, so a child would report the larger parent's."""
    with open("/proc/self/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name == key:
                return int(value.split()[0]) / 1024  # kB
    raise RuntimeError(f"no {key} in /proc/self/status")


def checkpoint() -> None:
    """Start a timed run with no dirty pages left from the load."""
    with psycopg_connect(autocommit=True) as conn:
        try:
            conn.execute("CHECKPOINT")
        except psycopg.Error as error:  # not a superuser: go on without
            say(f"  (no CHECKPOINT: {error})")


def run_child(command: str, *arguments: str) -> dict:
    """Run `python -m bench <command> <arguments>` on this benchmark's database in
    a child process (whose memory is then the job's alone) and return the JSON
    object it prints last."""
    from django.conf import settings

    database = str(settings.DATABASES["default"]["NAME"])
    done = subprocess.run(  # noqa: S603 - this interpreter, this package, our arguments
        [sys.executable, "-m", "bench", "--database", database, command, *arguments],
        cwd=settings.BASE_DIR,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"{command} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


@dataclass
class TimedRun:
    """What a timed child process reports: its wall time, and its resident set
    before the run and at its peak."""

    seconds: float
    rss_before_mb: float
    rss_peak_mb: float

    @property
    def rss_growth_mb(self) -> float:
        return self.rss_peak_mb - self.rss_before_mb
