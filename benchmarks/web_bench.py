"""Web benchmark: the real final submit against a bare INSERT endpoint, and two staff pages.

    .venv/bin/python benchmarks/web_bench.py            # full run, updates RESULTS.md
    .venv/bin/python benchmarks/web_bench.py --quick    # fewer submissions and applications

In one run, on a fresh PostgreSQL database:

1. The final submit under gunicorn with the production settings (app/gunicorn_config.py, as
   `make serve` runs it): drafts are made with the app's services, resumed over HTTP by their
   private link and their check answers page read (not timed); then the declaration is posted
   (timed) by 10 and then 50 concurrent clients. The same client posts to
   benchmarks/bare_app.py, one INSERT of the same application row, under the same gunicorn
   settings on the same database; the two endpoints take turns of 250 requests, alternating, so
   a change in the machine's other load falls on both. The figure that counts is the ratio of
   throughputs; the CPU time each request cost the client, gunicorn and PostgreSQL is measured
   alongside (benchmarks/_http_load.py).
2. The staff shortlist page of a selection run over 5,000 applications, and the rationale XLSX
   of a run over 10,000, through the test client signed in as staff (median of several;
   benchmarks/_web_staff.py, which also runs on its own).

The client runs on the same 2 cores as the server and the database: one asyncio loop, a
fraction of a millisecond of CPU per request, so that it takes little from the server it
measures. The absolute figures are lower than with a separate client machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import platform
import re
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from the checkout, as `make` does

from benchmarks._http_load import (  # noqa: E402
    BadResponse,
    CpuMeter,
    CpuUse,
    DatabaseBackends,
    Reply,
    Timed,
    exchange,
    http_request,
    run_requests,
)
from benchmarks._results import write_section  # noqa: E402
from benchmarks._web_staff import (  # noqa: E402
    SHORTLIST_APPLICATIONS,
    XLSX_APPLICATIONS,
    bench_staff,
)
from benchmarks._web_staff import notes as staff_notes  # noqa: E402
from benchmarks._web_staff import table as staff_table  # noqa: E402
from benchmarks._web_staff import target_rows as staff_target_rows  # noqa: E402
from tests.load.http_journey import (  # noqa: E402
    CHECK_ANSWERS,
    CONFIRMATION,
    DECLARATION,
    answers_for,
    hidden_fields,
)
from tests.load.server import (  # noqa: E402
    BIN,
    HOST,
    POSTGRES_ADMIN_URL,
    Server,
    free_port,
    fresh_postgres_database,
    prepare_database,
    server_env,
)

# gunicorn's workers for both endpoints; None: app/gunicorn_config.py's default (2 x cores + 1).
WORKERS: int | None = None
SESSION_COOKIE = "partner_select_session"
LEVELS = (10, 50)
BARE_FORM = urlencode(DECLARATION).encode()
# Rate-limit counters in Redis, as in production (REDIS_URL); this run's own key prefix.
REDIS_URL = "redis://127.0.0.1:6379/12"
TARGET_RATIO = 0.40
# Timed requests per turn: each endpoint in turn, until each has had its share.
TURN = 250
TARGET_P95_MS = 250.0


@dataclass
class Level:
    clients: int
    timed: Timed
    cpu: CpuUse

    @property
    def count(self) -> int:
        return len(self.timed.latencies)

    @property
    def latencies(self) -> list[float]:
        return self.timed.latencies

    @property
    def errors(self) -> int:
        return self.timed.errors

    @property
    def per_second(self) -> float:
        return self.count / self.timed.seconds

    def cpu_ms(self, part: str) -> float:
        """CPU milliseconds per request spent by the client, server, database or in total."""
        return 1000 * float(getattr(self.cpu, part)) / self.count

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def cpu_name() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as info:
        found = re.search(r"^model name\s*:\s*(.+)$", info.read(), re.MULTILINE)
        if found:
            return found.group(1).strip()
    return platform.processor() or "unknown"


@contextlib.contextmanager
def bench_app(database_url: str, instance: Path) -> Iterator[Any]:
    """The service in this process (test settings, the bench database), for seeding and timing."""
    from app import create_app
    from app.extensions import db

    os.environ["INSTANCE_PATH"] = str(instance)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


# --- 1. The final submit ---------------------------------------------------------------------


def seed_drafts(database_url: str, instance: Path, count: int, first: int) -> list[str]:
    """Complete drafts, ready to send, made with the app's services; returns their tokens."""
    from app.applications.services import save_page, start_application
    from app.extensions import db
    from app.models import Round, utcnow

    tokens = []
    with bench_app(database_url, instance):
        round_ = db.session.query(Round).filter_by(slug="load").one()
        now = utcnow()
        for number in range(first, first + count):
            answers = answers_for(number)
            answers["location"]["postcode"] = answers["location"]["postcode"].upper()
            eligibility = dict.fromkeys(
                ("uk_based", "adult_social_care", "co_production", "share_learning"), "yes"
            )
            application, token = start_application(db.session, round_, eligibility, now)
            for page_id, values in answers.items():
                save_page(db.session, application, page_id, values, now)
            tokens.append(token)
        db.session.commit()
    return tokens


def round_id(database_url: str, instance: Path) -> int:
    from app.extensions import db
    from app.models import Round

    with bench_app(database_url, instance):
        return int(db.session.query(Round.id).filter_by(slug="load").one()[0])


def workers() -> int:
    """The number of gunicorn workers both endpoints run with."""
    if WORKERS is not None:
        return WORKERS
    from app import gunicorn_config

    return int(gunicorn_config.workers)


@contextlib.contextmanager
def gunicorn(env: dict[str, str], log: Path, app: str) -> Iterator[Server]:
    """gunicorn as `make serve` starts it (app/gunicorn_config.py), on a free loopback port."""
    port = free_port()
    command = [
        str(BIN / "gunicorn"),
        "--config",
        "python:app.gunicorn_config",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers()),
        app,
    ]
    server = Server(command, env, port, log)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def port_of(server: Server) -> int:
    return int(server.url.rsplit(":", 1)[1])


def session_cookie(reply: Reply) -> str | None:
    for header in reply.headers.get("set-cookie", []):
        pair = header.split(";", 1)[0]
        if pair.startswith(SESSION_COOKIE + "="):
            return pair
    return None


def final_submits(server: Server, tokens: list[str]) -> list[bytes]:
    """For each draft: resume it by its private link and read check answers (not timed); returns
    each draft's final submit, the declaration with the page's CSRF token, ready to send."""
    port = port_of(server)

    async def get(path: str, cookie: str | None = None) -> Reply:
        return await exchange(HOST, port, http_request("GET", HOST, port, path, cookie=cookie))

    async def one(token: str, gate: asyncio.Semaphore) -> bytes:
        async with gate:
            resumed = await get(f"/resume/{token}")
            cookie = session_cookie(resumed)
            if resumed.status != 302 or cookie is None:
                raise BadResponse(f"resume: {resumed.status}")
            page = await get(CHECK_ANSWERS, cookie)
            if page.status != 200:
                raise BadResponse(f"check answers: {page.status}")
        cookie = session_cookie(page) or cookie
        form = urlencode({**hidden_fields(page.body.decode()), **DECLARATION}).encode()
        return http_request("POST", HOST, port, CHECK_ANSWERS, form=form, cookie=cookie)

    async def every() -> list[bytes]:
        gate = asyncio.Semaphore(8)
        return list(await asyncio.gather(*(one(token, gate) for token in tokens)))

    return asyncio.run(every())


def sent(reply: Reply) -> bool:
    return reply.status == 302 and reply.header("location").endswith(CONFIRMATION)


def inserted(reply: Reply) -> bool:
    return reply.status == 302


def redis_server_pid() -> int:
    """The Redis server's process id (its CPU is counted with PostgreSQL's); exits if Redis is
    not running, as production would not start without it either."""
    import redis

    try:
        return int(redis.Redis.from_url(REDIS_URL, socket_timeout=2).info("server")["process_id"])
    except redis.RedisError as error:
        sys.exit(f"Redis is not reachable at {REDIS_URL} ({type(error).__name__}): start it.")


def bench_submit(
    database_url: str, work: Path, per_level: int, warmup: int
) -> dict[str, list[Level]]:
    env = server_env(
        work / "instance",
        database_url,
        "production",
        REDIS_URL=REDIS_URL,
        RATELIMIT_KEY_PREFIX=f"web-bench-{os.getpid()}-{int(dt.datetime.now().timestamp())}",
    )
    prepare_database(env, database_url)
    drafts = {
        clients: seed_drafts(
            database_url, work / "instance", per_level + warmup, first=index * 100_000
        )
        for index, clients in enumerate(LEVELS)
    }
    bare_env = {**env, "BENCH_ROUND_ID": str(round_id(database_url, work / "instance"))}
    backends = DatabaseBackends(
        POSTGRES_ADMIN_URL, database_url.rsplit("/", 1)[1], also=(redis_server_pid(),)
    )
    results: dict[str, list[Level]] = {"submit": [], "bare": []}
    with (
        gunicorn(env, work / "gunicorn.log", "wsgi:app") as real,
        gunicorn(bare_env, work / "bare.log", "benchmarks.bare_app:app") as bare,
    ):
        meters = {
            "submit": CpuMeter(real.process.pid, backends),
            "bare": CpuMeter(bare.process.pid, backends),
        }
        for clients in LEVELS:
            insert = http_request("POST", HOST, port_of(bare), "/submit", form=BARE_FORM)
            work_lists = {
                "submit": (port_of(real), final_submits(real, drafts[clients]), sent),
                "bare": (port_of(bare), [insert] * (per_level + warmup), inserted),
            }
            for port, requests, accept in work_lists.values():
                run_requests(HOST, port, requests[:warmup], clients, accept)
            timed = {name: Timed() for name in work_lists}
            cpu = {name: CpuUse(0.0, 0.0, 0.0, 0.0, 0.0) for name in work_lists}
            # Short turns, the endpoints alternating: the shared machine's speed drifts within
            # seconds, and each drift then falls on both endpoints alike.
            for turn, start in enumerate(range(warmup, warmup + per_level, TURN)):
                chunk = slice(start, min(start + TURN, warmup + per_level))
                order = list(work_lists.items())
                if turn % 2:
                    order.reverse()  # and each goes first in every other turn
                for name, (port, requests, accept) in order:
                    with meters[name].measure() as use:
                        part = run_requests(HOST, port, requests[chunk], clients, accept)
                    timed[name].add(part)
                    cpu[name].add(use)
            for name in work_lists:
                level = Level(clients, timed[name], cpu[name])
                results[name].append(level)
                print(
                    f"{name:7s} {clients:>3} clients: {level.per_second:7.1f}/s, CPU per request "
                    f"{level.cpu_ms('client'):.1f} client + {level.cpu_ms('server'):.1f} gunicorn"
                    f" + {level.cpu_ms('database'):.1f} PostgreSQL and Redis ms",
                    file=sys.stderr,
                )
    backends.close()
    return results


# --- Report -----------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def report(
    submit: dict[str, list[Level]], staff: dict[str, Any], args: argparse.Namespace, start: str
) -> str:
    from importlib.metadata import version

    real = {level.clients: level for level in submit["submit"]}
    bare = {level.clients: level for level in submit["bare"]}
    worst_ratio = min(real[c].per_second / bare[c].per_second for c in LEVELS)
    p95_50 = real[50].percentile(0.95)
    lines = [
        "## Web: final submit and staff pages (`benchmarks/web_bench.py`)",
        "",
        f"Command: `{' '.join(['.venv/bin/python benchmarks/web_bench.py', *sys.argv[1:]])}`",
        "",
        f"- CPU: {cpu_name()}, {len(os.sched_getaffinity(0))} cores available; the clients, "
        "gunicorn, PostgreSQL and Redis share them",
        f"- Load average (1, 5, 15 min) at the start: {start}; at the end: {load_average()}",
        f"- Python {platform.python_version()}, Flask {version('flask')}, gunicorn "
        f"{version('gunicorn')} (app/gunicorn_config.py: {workers()} sync workers), SQLAlchemy "
        f"{version('sqlalchemy')}, psycopg {version('psycopg')}, PostgreSQL on 127.0.0.1; "
        "rate-limit counters in Redis on 127.0.0.1 (REDIS_URL, as in production; redis-py "
        f"{version('redis')})",
        f"- Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- {args.submissions} timed submissions per level after {args.warmup} warm-up ones",
        "",
        "### Targets (issue 23: the floor after the plain send)",
        "",
        "| target | limit | measured | result |",
        "|---|---|---|---|",
        f"| real submit throughput / bare INSERT throughput (worst level) | ≥ 40% | "
        f"{worst_ratio:.0%} | {verdict(worst_ratio >= TARGET_RATIO)} |",
        f"| final submit p95 at 50 clients | < 250 ms | {p95_50:.0f} ms | "
        f"{verdict(p95_50 < TARGET_P95_MS)} |",
        *staff_target_rows(staff),
        "",
        "### Final submit against the bare INSERT endpoint (gunicorn + PostgreSQL)",
        "",
        "CPU time per request, from /proc: the client (this process), gunicorn (master and "
        "workers), and the PostgreSQL backends of the benchmark's database with the Redis server "
        "(the real submit's rate-limit counter; the bare endpoint has none). The last column is "
        "what every other process on the machine kept busy meanwhile, in cores.",
        "",
        "| endpoint | clients | per second | p50 ms | p95 ms | errors | ratio to bare | "
        "CPU ms: client + gunicorn + PostgreSQL and Redis = total | other load |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for clients in LEVELS:
        for name, level in (("final submit", real[clients]), ("bare INSERT", bare[clients])):
            ratio = level.per_second / bare[clients].per_second
            lines.append(
                f"| {name} | {clients} | {level.per_second:.1f} | {level.percentile(0.5):.0f} | "
                f"{level.percentile(0.95):.0f} | {level.errors} | {ratio:.0%} | "
                f"{level.cpu_ms('client'):.1f} + {level.cpu_ms('server'):.1f} + "
                f"{level.cpu_ms('database'):.1f} = {level.cpu_ms('total'):.1f} | "
                f"{level.cpu.rest_of_machine / level.cpu.wall:.1f} cores |"
            )
    lines += ["", *staff_table(staff, args.repeats)]
    lines += ["", *notes(real[50], bare[50])]
    return "\n".join(lines) + "\n"


def notes(real: Level, bare: Level) -> list[str]:
    """Why the figures are what they are: the arithmetic, and where the profiles put the time."""
    needed = 50 / (TARGET_P95_MS / 1000)
    cores = len(os.sched_getaffinity(0))
    return [
        "### Where the time goes",
        "",
        f"- Each client sends its next request as soon as the last one returns, so the mean "
        f"latency is about clients ÷ throughput (Little's law): p95 < {TARGET_P95_MS:.0f} ms at 50 "
        f"clients needs "
        f"more than {needed:.0f} submissions per second. The bare INSERT endpoint itself reaches "
        f"{bare.per_second:.0f}/s at 50 clients, with p95 {bare.percentile(0.95):.0f} ms; the "
        f"real submit {real.per_second:.0f}/s, p95 {real.percentile(0.95):.0f} ms."
        + (
            f" With the bare endpoint's own p95 over {TARGET_P95_MS:.0f} ms, this machine was "
            "too slow in this run for the p95 target, whatever the submit does."
            if bare.percentile(0.95) >= TARGET_P95_MS
            else ""
        ),
        f"- CPU is the limit: at 50 clients a submit costs {real.cpu_ms('total'):.1f} ms of CPU "
        f"across client, gunicorn and PostgreSQL, the bare INSERT {bare.cpu_ms('total'):.1f} ms. "
        f"With all {cores} cores to themselves that caps them at about "
        f"{cores * 1000 / real.cpu_ms('total'):.0f}/s and "
        f"{cores * 1000 / bare.cpu_ms('total'):.0f}/s; the other processes on the machine "
        f"kept {real.cpu.rest_of_machine / real.cpu.wall:.1f} cores busy during the run. "
        "Where CPU is the limit, the throughput ratio follows the CPU ratio (bare ÷ submit: "
        f"{bare.cpu_ms('total') / real.cpu_ms('total'):.0%} here). The p95 target needs a "
        f"submit under {cores * 1000 / needed:.1f} ms of CPU in all, with the {cores} cores to "
        "itself.",
        "- The final submit is the plain ORM send (app/apply/services.py submit_application): "
        "the draft, its round and its pages read, a conditional UPDATE (draft -> submitted only "
        "while unchanged since read) and the confirmation email's row, in one transaction; "
        "Flask-Limiter's decorator checks the rate limit in Redis first; SQLAlchemy's "
        "pool_pre_ping checks each pooled connection as it is checked out. The bare endpoint "
        "sends BEGIN, one INSERT and COMMIT.",
        *staff_notes(),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer submissions, smaller rounds")
    parser.add_argument("--submissions", type=int, default=None)
    # Enough for each of the 5 workers to have used every statement more than 5 times (psycopg
    # prepares a statement on its 5th use on a connection) and filled its caches.
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print, do not update RESULTS.md")
    args = parser.parse_args()
    if args.submissions is None:
        args.submissions = 500 if args.quick else 2000
    sizes = (1_000, 2_000) if args.quick else (SHORTLIST_APPLICATIONS, XLSX_APPLICATIONS)
    start = load_average()
    with tempfile.TemporaryDirectory() as tmp, fresh_postgres_database() as url:
        work = Path(tmp)
        submit = bench_submit(url, work, args.submissions, args.warmup)
        staff = bench_staff(url, work, args.repeats, sizes)
    text = report(submit, staff, args, start)
    print(text)
    if not args.no_write and not args.quick:
        write_section("web", text)


if __name__ == "__main__":
    main()
