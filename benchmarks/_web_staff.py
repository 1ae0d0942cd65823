"""The staff part of the web benchmark: the shortlist page of a run over 5,000 applications and
the rationale XLSX of a run over 10,000, through the test client signed in as staff.

``benchmarks/web_bench.py`` runs it after the submit part and writes both to RESULTS.md. On its
own it prints the staff rows only (RESULTS.md is left alone):

    .venv/bin/python -m benchmarks._web_staff            # 5,000 and 10,000 applications
    .venv/bin/python -m benchmarks._web_staff --quick    # 1,000 and 2,000

Each figure is the median of several requests after one warm-up, as wall time and as this
process's CPU time (the test client runs the app in this process; PostgreSQL's own work is not in
the CPU figure). The machine is shared, so the CPU time is the steadier of the two.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from the checkout, as `make` does

TARGET_SHORTLIST_MS = 300.0
TARGET_XLSX_S = 3.0
SHORTLIST_APPLICATIONS = 5_000
XLSX_APPLICATIONS = 10_000

NATIONS = ["england", "wales", "scotland", "northern-ireland"]
AREAS = ["urban", "rural", "mixed", "remote"]
SIZES = ["none", "1-9", "10-49", "50-249", "250+"]
LED_BY = ["user-led", "carer-led", "both", "neither"]
CRITERIA = ("difference", "inequalities", "resources", "evidence")
PAGES = (("shortlist", "shortlist page /staff/runs/ID"), ("xlsx", "rationale XLSX"))


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


def timed_get(
    client: Any, url: str, repeats: int, form: dict[str, str] | None = None
) -> dict[str, float]:
    """Median wall and CPU seconds of `repeats` GETs (or POSTs of `form`: a download recorded
    on the audit log is a POST) after one warm-up; status and body size."""

    def fetch() -> Any:
        return client.get(url) if form is None else client.post(url, data=form)

    response = fetch()
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        response = fetch()
        body = response.get_data()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return {
        "seconds": statistics.median(walls),
        "cpu_seconds": statistics.median(cpus),
        "status": response.status_code,
        "bytes": len(body),
    }


def bench_staff(
    database_url: str, work: Path, repeats: int, sizes: tuple[int, int]
) -> dict[str, Any]:
    """Seed two rounds, run the selection on each and time the two pages; the database must be
    migrated already (``tests.load.server.prepare_database``)."""
    from flask import g

    from app.auth.services import create_user
    from app.extensions import db
    from app.models import utcnow
    from app.staff.runs.services import start_run
    from benchmarks.web_bench import bench_app
    from tests.load.http_journey import hidden_fields

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
            form = None
            if name == "xlsx":  # the run page's download button: a POST with its CSRF token
                # Requests here share bench_app's application context, so Flask-WTF would reuse
                # the token it kept in `g` before sign-in, which the signed-in session lacks.
                g.pop("csrf_token", None)
                run_page = client.get(f"/staff/runs/{run.id}").get_data(as_text=True)
                form = {"csrf_token": hidden_fields(run_page)["csrf_token"]}
            timing = timed_get(client, url, repeats, form)
            assert timing["status"] == 200, (url, timing["status"])
            result[name] = {
                "applications": count,
                **timing,
                "seed_seconds": started - seeded,
                "run_seconds": run_seconds,
            }
            print(
                f"{name:9s} n={count}: {timing['seconds'] * 1000:.0f} ms "
                f"(CPU {timing['cpu_seconds'] * 1000:.0f} ms), load {load_average()}",
                file=sys.stderr,
            )
    return result


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def verdict(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def target_rows(staff: dict[str, Any]) -> list[str]:
    """The two staff rows of the targets table."""
    shortlist, xlsx = staff["shortlist"], staff["xlsx"]
    return [
        f"| staff shortlist page, {shortlist['applications']:,} applications | < 300 ms | "
        f"{shortlist['seconds'] * 1000:.0f} ms | "
        f"{verdict(shortlist['seconds'] * 1000 < TARGET_SHORTLIST_MS)} |",
        f"| rationale XLSX, {xlsx['applications']:,} applications | < 3 s | "
        f"{xlsx['seconds']:.2f} s | {verdict(xlsx['seconds'] < TARGET_XLSX_S)} |",
    ]


def table(staff: dict[str, Any], repeats: int) -> list[str]:
    """The staff pages section: figures and where the time goes."""
    lines = [
        f"### Staff pages (test client, median of {repeats}, PostgreSQL)",
        "",
        "| page | applications | median | CPU (app process) | size | seeding (bulk) | "
        "selection run |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, label in PAGES:
        s = staff[name]
        lines.append(
            f"| {label} | {s['applications']:,} | {s['seconds'] * 1000:.0f} ms | "
            f"{s['cpu_seconds'] * 1000:.0f} ms | {s['bytes'] / 1024:.0f} KB | "
            f"{s['seed_seconds']:.1f} s | {s['run_seconds']:.1f} s |"
        )
    return lines


def notes() -> list[str]:
    """Where the staff pages' time goes (from profiles of this code, not measured each run)."""
    return [
        "- Shortlist page: 100 rows a page (filters by decision and nation, the same pagination "
        "as the applications list). The page loads a light (id, decision, rank, nation) row per "
        "application to filter, count and order them, then the full rows of the shown 100 only.",
        "- Rationale XLSX (~300,000 cells): written by `selection.spreadsheets.write_xlsx`, the "
        "one XLSX writer (XlsxWriter in constant-memory mode, every text cell through the one "
        "formula guard), which the selection command line uses too. Nearly all of the time is "
        "XlsxWriter writing one cell at a time; the rest is reading the run's decisions (plain "
        "rows, no ORM objects) and building the four sheets. The writer it replaced, which wrote "
        "the workbook's XML itself, took about 0.5 s; pandas with openpyxl about 5.8 s.",
    ]


def main() -> None:
    from tests.load.server import fresh_postgres_database, prepare_database, server_env

    parser = argparse.ArgumentParser(description="The staff part of the web benchmark.")
    parser.add_argument("--quick", action="store_true", help="1,000 and 2,000 applications")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    sizes = (1_000, 2_000) if args.quick else (SHORTLIST_APPLICATIONS, XLSX_APPLICATIONS)
    start = load_average()
    with tempfile.TemporaryDirectory() as tmp, fresh_postgres_database() as url:
        work = Path(tmp)
        prepare_database(server_env(work / "instance", url, "production"), url)
        staff = bench_staff(url, work, args.repeats, sizes)
    print(f"Load average at the start: {start}; at the end: {load_average()}")
    print("\n".join([*target_rows(staff), "", *table(staff, args.repeats)]))


if __name__ == "__main__":
    main()
