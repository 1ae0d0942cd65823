"""Web benchmark: the real final submit against a bare INSERT endpoint, and two staff pages.

    .venv/bin/python benchmarks/web_bench.py            # full run, updates RESULTS.md
    .venv/bin/python benchmarks/web_bench.py --quick    # fewer submissions and applications

In one run, on a fresh PostgreSQL database:

1. The final submit under gunicorn (4 sync workers): drafts are made with the app's services and
   resumed over HTTP by their private link, each client opens check answers (not timed), then
   the declaration is posted (timed) by 10 and then 50 concurrent clients. The same clients then
   post to benchmarks/bare_app.py, one INSERT of the same application row, under the same
   gunicorn settings on the same database. The figure that counts is the ratio of throughputs.
2. The staff shortlist page of a selection run over 5,000 applications, and the rationale XLSX
   of a run over 10,000, through the test client signed in as staff (median of several).

The clients run on the same 2 cores as the server and the database, as the load tests do: the
absolute figures are lower than on a separate client machine, the ratio much less affected.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from the checkout, as `make` does

from benchmarks._results import write_section  # noqa: E402
from tests.load.http_journey import (  # noqa: E402
    CHECK_ANSWERS,
    CONFIRMATION,
    DECLARATION,
    answers_for,
    hidden_fields,
)
from tests.load.server import (  # noqa: E402
    fresh_postgres_database,
    gunicorn_server,
    prepare_database,
    server_env,
)

WORKERS = 4
LEVELS = (10, 50)
TARGET_RATIO = 0.60
TARGET_P95_MS = 150.0
TARGET_SHORTLIST_MS = 300.0
TARGET_XLSX_S = 3.0
SHORTLIST_APPLICATIONS = 5_000
XLSX_APPLICATIONS = 10_000


@dataclass
class Level:
    clients: int
    count: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def per_second(self) -> float:
        return self.count / self.seconds

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
    from app.apply.services import save_page, start_application
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


def in_parallel(items: list[Any], clients: int, work: Callable[[Any], float | None]) -> Level:
    """Run `work` on every item with `clients` threads; time the whole and each item."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    queue = list(reversed(items))

    def worker() -> None:
        nonlocal errors
        while True:
            with lock:
                if not queue:
                    return
                item = queue.pop()
            try:
                latency = work(item)
            except Exception:
                latency = None
            with lock:
                if latency is None:
                    errors += 1
                else:
                    latencies.append(latency)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Level(clients, len(latencies), time.perf_counter() - started, latencies, errors)


def open_check_answers(url: str, token: str) -> tuple[requests.Session, dict[str, str]]:
    """Resume the draft by its private link and read the declaration form (not timed)."""
    session = requests.Session()
    response = session.get(f"{url}/resume/{token}", allow_redirects=False, timeout=60)
    assert response.status_code == 302, response.status_code
    page = session.get(url + CHECK_ANSWERS, timeout=60)
    assert page.status_code == 200, page.status_code
    return session, {**hidden_fields(page.text), **DECLARATION}


def final_submit(url: str) -> Callable[[tuple[requests.Session, dict[str, str]]], float | None]:
    def post(item: tuple[requests.Session, dict[str, str]]) -> float | None:
        session, form = item
        started = time.perf_counter()
        response = session.post(url + CHECK_ANSWERS, data=form, allow_redirects=False, timeout=60)
        latency = time.perf_counter() - started
        session.close()
        ok = response.status_code == 302 and response.headers["Location"].endswith(CONFIRMATION)
        return latency if ok else None

    return post


def bare_insert(url: str) -> Callable[[int], float | None]:
    local = threading.local()

    def post(_item: int) -> float | None:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        started = time.perf_counter()
        response = local.session.post(
            url + "/submit", data=DECLARATION, allow_redirects=False, timeout=60
        )
        latency = time.perf_counter() - started
        return latency if response.status_code == 302 else None

    return post


def bench_submit(
    database_url: str, work: Path, per_level: int, warmup: int
) -> dict[str, list[Level]]:
    env = server_env(work / "instance", database_url, "production")
    prepare_database(env, database_url)
    drafts = {
        clients: seed_drafts(
            database_url, work / "instance", per_level + warmup, first=index * 100_000
        )
        for index, clients in enumerate(LEVELS)
    }
    results: dict[str, list[Level]] = {"submit": [], "bare": []}
    with gunicorn_server(env, work / "gunicorn.log", workers=WORKERS) as server:
        for clients in LEVELS:
            with ThreadPoolExecutor(clients) as pool:
                forms = list(pool.map(lambda t: open_check_answers(server.url, t), drafts[clients]))
            warm, timed = forms[:warmup], forms[warmup:]
            in_parallel(warm, clients, final_submit(server.url))
            level = in_parallel(timed, clients, final_submit(server.url))
            results["submit"].append(level)
            print(f"submit  {clients:>3} clients: {level.per_second:7.1f}/s", file=sys.stderr)
    bare_env = {**env, "BENCH_ROUND_ID": str(round_id(database_url, work / "instance"))}
    with gunicorn_server(
        bare_env, work / "bare.log", workers=WORKERS, app="benchmarks.bare_app:app"
    ) as server:
        for clients in LEVELS:
            in_parallel(list(range(warmup)), clients, bare_insert(server.url))
            level = in_parallel(list(range(per_level)), clients, bare_insert(server.url))
            results["bare"].append(level)
            print(f"bare    {clients:>3} clients: {level.per_second:7.1f}/s", file=sys.stderr)
    return results


# --- 2. Staff pages over large rounds ---------------------------------------------------------

NATIONS = ["england", "wales", "scotland", "northern-ireland"]
AREAS = ["urban", "rural", "mixed", "remote"]
SIZES = ["none", "1-9", "10-49", "50-249", "250+"]
LED_BY = ["user-led", "carer-led", "both", "neither"]
CRITERIA = ("difference", "inequalities", "resources", "evidence")


def seed_round(slug: str, count: int, reviewers: list[Any], rng: random.Random) -> Any:
    """A round of `count` sent, screened applications, each with two submitted reviews.

    Rows are inserted in bulk through the models: making 15,000 applications page by page
    through the services would take longer than everything being measured.
    """
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models import Application, Review, ReviewScore, utcnow
    from app.rounds import create_round

    now = utcnow()
    round_ = create_round(
        db.session,
        slug=slug,
        title=f"Benchmark {slug}",
        opens_at=now - dt.timedelta(days=60),
        closes_at=now - dt.timedelta(days=1),
        sites_wanted=40,
    )
    round_.reviews_required = 2
    round_.quotas = [
        {"dimension": "nation", "category": "wales", "min": 4, "max": None},
        {"dimension": "nation", "category": "scotland", "min": 4, "max": None},
        {"dimension": "area_type", "category": "rural", "min": 8, "max": None},
    ]
    db.session.flush()
    rows = []
    for number in range(count):
        nation = rng.choice(NATIONS)
        rows.append(
            {
                "round_id": round_.id,
                "status": "submitted",
                "token_hash": hashlib.sha256(f"{slug}-{number}".encode()).hexdigest(),
                "reference": f"EOI-{slug[-4:].upper()}-{number:06d}",
                "eligibility": {},
                "created_at": now,
                "updated_at": now,
                "submitted_at": now,
                "declaration_at": now,
                "organisation_name": f"Organisation {slug} {number:05d}",
                "nation": nation,
                "region": "north-west" if nation == "england" else nation,
                "area_type": rng.choice(AREAS),
                "size_band": rng.choice(SIZES),
                "led_by": rng.choice(LED_BY),
                "first_time": rng.random() < 0.4,
                "screening": "eligible",
            }
        )
    db.session.execute(insert(Application), rows)
    ids = db.session.scalars(
        select(Application.id).where(Application.round_id == round_.id).order_by(Application.id)
    ).all()
    db.session.execute(
        insert(Review),
        [
            {"application_id": i, "reviewer_id": r.id, "status": "submitted"}
            for i in ids
            for r in reviewers
        ],
    )
    review_ids = db.session.scalars(
        select(Review.id).where(Review.application_id.in_(ids)).order_by(Review.id)
    ).all()
    db.session.execute(
        insert(ReviewScore),
        [
            {"review_id": r, "criterion": c, "score": rng.randint(1, 5), "comment": ""}
            for r in review_ids
            for c in CRITERIA
        ],
    )
    db.session.commit()
    return round_


def timed_get(client: Any, url: str, repeats: int) -> tuple[float, int, int]:
    """Median seconds of `repeats` GETs after one warm-up; with status and body size."""
    response = client.get(url)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(url)
        body = response.get_data()
        times.append(time.perf_counter() - started)
    return statistics.median(times), response.status_code, len(body)


def bench_staff(
    database_url: str, work: Path, repeats: int, sizes: tuple[int, int]
) -> dict[str, Any]:
    from app.auth.services import create_user
    from app.extensions import db
    from app.models import utcnow
    from app.staff.run_services import start_run

    password = "correct horse battery staple"
    rng = random.Random(20270101)
    result: dict[str, Any] = {}
    with bench_app(database_url, work / "instance") as app:
        staff = create_user(
            db.session,
            email="bench-staff@example.org",
            name="Bench",
            role="staff",
            password=password,
        )
        reviewers = [
            create_user(
                db.session,
                email=f"bench-reviewer-{i}@example.org",
                name=f"Reviewer {i}",
                role="reviewer",
                password=password,
            )
            for i in range(2)
        ]
        db.session.commit()
        client = app.test_client()
        page = client.get("/sign-in")
        form = hidden_fields(page.get_data(as_text=True))
        signed_in = client.post(
            "/sign-in", data={**form, "email": staff.email, "password": password}
        )
        assert signed_in.status_code == 302, signed_in.status_code
        for name, count in (("shortlist", sizes[0]), ("xlsx", sizes[1])):
            seeded = time.perf_counter()
            round_ = seed_round(f"bench-{name}", count, reviewers, rng)
            started = time.perf_counter()
            run = start_run(db.session, round_, staff, utcnow(), seed=7)
            db.session.commit()
            run_seconds = time.perf_counter() - started
            url = f"/staff/runs/{run.id}" + ("/rationale.xlsx" if name == "xlsx" else "")
            seconds, status, size = timed_get(client, url, repeats)
            assert status == 200, (url, status)
            result[name] = {
                "applications": count,
                "seconds": seconds,
                "bytes": size,
                "seed_seconds": started - seeded,
                "run_seconds": run_seconds,
            }
            print(f"{name:9s} n={count}: {seconds * 1000:.0f} ms", file=sys.stderr)
    return result


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
        "gunicorn and PostgreSQL share them",
        f"- Load average (1, 5, 15 min) at the start: {start}; at the end: {load_average()}",
        f"- Python {platform.python_version()}, Flask {version('flask')}, gunicorn "
        f"{version('gunicorn')} ({WORKERS} sync workers, --preload), SQLAlchemy "
        f"{version('sqlalchemy')}, psycopg {version('psycopg')}, PostgreSQL on 127.0.0.1",
        f"- Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- {args.submissions} timed submissions per level after {args.warmup} warm-up ones",
        "",
        "### Targets (issue 5)",
        "",
        "| target | limit | measured | result |",
        "|---|---|---|---|",
        f"| real submit throughput / bare INSERT throughput (worst level) | ≥ 60% | "
        f"{worst_ratio:.0%} | {verdict(worst_ratio >= TARGET_RATIO)} |",
        f"| final submit p95 at 50 clients | < 150 ms | {p95_50:.0f} ms | "
        f"{verdict(p95_50 < TARGET_P95_MS)} |",
        f"| staff shortlist page, {staff['shortlist']['applications']:,} applications | "
        f"< 300 ms | {staff['shortlist']['seconds'] * 1000:.0f} ms | "
        f"{verdict(staff['shortlist']['seconds'] * 1000 < TARGET_SHORTLIST_MS)} |",
        f"| rationale XLSX, {staff['xlsx']['applications']:,} applications | < 3 s | "
        f"{staff['xlsx']['seconds']:.2f} s | {verdict(staff['xlsx']['seconds'] < TARGET_XLSX_S)} |",
        "",
        "### Final submit against the bare INSERT endpoint (gunicorn + PostgreSQL)",
        "",
        "| endpoint | clients | per second | p50 ms | p95 ms | errors | ratio to bare |",
        "|---|---|---|---|---|---|---|",
    ]
    for clients in LEVELS:
        for name, level in (("final submit", real[clients]), ("bare INSERT", bare[clients])):
            ratio = level.per_second / bare[clients].per_second
            lines.append(
                f"| {name} | {clients} | {level.per_second:.1f} | {level.percentile(0.5):.0f} | "
                f"{level.percentile(0.95):.0f} | {level.errors} | {ratio:.0%} |"
            )
    lines += [
        "",
        f"### Staff pages (test client, median of {args.repeats}, PostgreSQL)",
        "",
        "| page | applications | median | size | seeding (bulk) | selection run |",
        "|---|---|---|---|---|---|",
    ]
    for name, label in (("shortlist", "shortlist page /staff/runs/ID"), ("xlsx", "rationale XLSX")):
        s = staff[name]
        lines.append(
            f"| {label} | {s['applications']:,} | {s['seconds'] * 1000:.0f} ms | "
            f"{s['bytes'] / 1024:.0f} KB | {s['seed_seconds']:.1f} s | {s['run_seconds']:.1f} s |"
        )
    lines += ["", *notes(real[50], bare[50])]
    return "\n".join(lines) + "\n"


def notes(real: Level, bare: Level) -> list[str]:
    """Why the figures are what they are: the arithmetic, and where the profiles put the time."""
    needed = 50 / (TARGET_P95_MS / 1000)
    return [
        "### Where the time goes",
        "",
        f"- Each client sends its next request as soon as the last one returns, so the mean "
        f"latency is about clients ÷ throughput (Little's law): p95 < 150 ms at 50 clients needs "
        f"more than {needed:.0f} submissions per second. The bare INSERT endpoint itself reaches "
        f"{bare.per_second:.0f}/s at 50 clients, with p95 {bare.percentile(0.95):.0f} ms; the "
        f"real submit {real.per_second:.0f}/s, p95 {real.percentile(0.95):.0f} ms.",
        "- Final submit (cProfile, test client): about half in `submit_application` (eight SQL "
        "statements: the draft by its token, its round and pages, a SAVEPOINT around the "
        "conditional UPDATE, a refresh, the confirmation email rendered and queued, COMMIT), the "
        "rest in the request around it: CSRF check, session cookie, rate-limit counter, page "
        "headers. No single hot spot; the bare endpoint skips all of it.",
        "- Shortlist page: about 80% is Jinja rendering every one of the 5,000 rows (a 3.7 MB "
        "page); loading the run's decisions is the rest. Under 300 ms needs fewer rows per page "
        "(paging or showing the selected and reserves first), not faster code.",
        "- Rationale XLSX: over 85% is openpyxl writing ~300,000 cells one by one through "
        "pandas' `to_excel` (et_xmlfile's pure-Python XML writer). Measured on 220,000 cells: "
        "openpyxl's write-only mode (with or without lxml) was roughly 1.6 to 2× faster on a "
        "busy machine; not enough for 3 s at 10,000 applications on this machine.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer submissions, smaller rounds")
    parser.add_argument("--submissions", type=int, default=None)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print, do not update RESULTS.md")
    args = parser.parse_args()
    if args.submissions is None:
        args.submissions = 100 if args.quick else 400
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
