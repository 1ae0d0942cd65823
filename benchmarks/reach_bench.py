"""Reach while a call is open (issue 21): "can the quota table be met yet?" for 10,000
applications, and the whole reach page's work on a database of 10,000 sent applications and
1,000 drafts.

Target: computed on request in well under a second for 10,000 applications (we hold it to
0.5 s for the engine's answer, both pools, and 1 s for everything the page computes).

    .venv/bin/python -m benchmarks.reach_bench            # writes the reach section of RESULTS.md
    .venv/bin/python -m benchmarks.reach_bench --quick    # 2,000 applications, prints only

Each figure is the median of several runs after one warm-up, wall and CPU time of this process
(SQLite in a temporary folder, so the database's work is in the CPU figure too).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._results import write_section  # noqa: E402

TARGET_ENGINE_S = 0.5
TARGET_PAGE_S = 1.0
NATIONS = ["england"] * 6 + ["wales", "scotland", "northern-ireland"]
REGIONS = ["north-east", "north-west", "yorkshire-humber", "east-midlands", "west-midlands",
           "east", "london", "south-east", "south-west"]  # fmt: skip
AREAS = ["urban", "mixed", "rural", "remote"]
SIZES = ["none", "1-9", "10-49", "50-249", "250+"]
LED_BY = ["user-led", "carer-led", "both", "neither"]
PRESSURES = ["stable", "stretched", "struggling"]
SITES = 40
# Minimums on several dimensions, some of them on rare categories, as a centre would set them.
QUOTAS = [
    {"dimension": "nation", "category": "wales", "min": 4, "max": None},
    {"dimension": "nation", "category": "scotland", "min": 4, "max": None},
    {"dimension": "nation", "category": "northern-ireland", "min": 3, "max": None},
    {"dimension": "nation", "category": "england", "min": None, "max": 28},
    {"dimension": "area_type", "category": "rural", "min": 6, "max": None},
    {"dimension": "area_type", "category": "remote", "min": 4, "max": None},
    {"dimension": "size_band", "category": "none", "min": 4, "max": None},
    {"dimension": "size_band", "category": "250+", "min": None, "max": 6},
    {"dimension": "led_by", "category": "user-led", "min": 5, "max": None},
    {"dimension": "first_time", "category": "yes", "min": 12, "max": None},
    {"dimension": "pressures", "category": "struggling", "min": 6, "max": None},
]


def mix(rng: random.Random, remote_share: float) -> dict[str, Any]:
    nation = rng.choice(NATIONS)
    return {
        "nation": nation,
        "region": rng.choice(REGIONS) if nation == "england" else nation,
        "area_type": "remote" if rng.random() < remote_share else rng.choice(AREAS[:3]),
        "size_band": rng.choice(SIZES),
        "led_by": rng.choice(LED_BY),
        "first_time": rng.random() < 0.4,
        "pressures": rng.choice(PRESSURES),
        "local_deprivation": None,
    }


def timed(work: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``repeats`` calls after one warm-up."""
    work()
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return statistics.median(walls), statistics.median(cpus)


def bench_engine(count: int, repeats: int) -> list[tuple[str, float, float, str]]:
    """The engine's answer alone (selection.quota_reach) on a pool that meets the table and on
    one short of remote applications (a shortfall to find)."""
    import pandas as pd

    from selection import quota_reach, read_quotas

    rows = []
    table = read_quotas(pd.DataFrame(QUOTAS), SITES)
    for name, remote_share in (("can be met", 0.1), ("not yet (remote short)", 0.0)):
        rng = random.Random(21)
        frame = pd.DataFrame([mix(rng, remote_share) for _ in range(count)])
        frame["first_time"] = frame["first_time"].map({True: "yes", False: "no"})
        frame = frame.fillna("")
        answer = quota_reach(frame, table, SITES)
        wall, cpu = timed(lambda f=frame: quota_reach(f, table, SITES), repeats)
        said = "met" if answer.feasible else f"{len(answer.shortfalls)} shortfall(s)"
        rows.append((f"quota_reach, {name}", wall, cpu, said))
    return rows


def seed(count: int, drafts: int) -> Any:
    """A round open for 8 weeks more, with ``count`` sent applications and ``drafts`` drafts
    (three answered pages each), inserted in bulk."""
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models import AnswerPage, Application, utcnow
    from app.rounds import create_round

    now = utcnow()
    rng = random.Random(2027)
    round_ = create_round(
        db.session,
        slug="reach-bench",
        title="Reach benchmark",
        opens_at=now - dt.timedelta(days=40),
        closes_at=now + dt.timedelta(days=20),
        sites_wanted=SITES,
    )
    round_.quotas = QUOTAS
    db.session.flush()
    rows = []
    for number in range(count + drafts):
        sent = number < count
        rows.append(
            {
                "round_id": round_.id,
                "status": "submitted" if sent else "draft",
                "token_hash": hashlib.sha256(f"reach-{number}".encode()).hexdigest(),
                "reference": f"EOI-RB-{number:06d}" if sent else None,
                "eligibility": {},
                "created_at": now - dt.timedelta(days=39),
                "updated_at": now,
                "submitted_at": now - dt.timedelta(days=rng.uniform(0, 39)) if sent else None,
                "organisation_name": f"Organisation {number:05d}" if sent else None,
                "screening": rng.choice(["unscreened", "eligible", "eligible", "ineligible"]),
                **(mix(rng, 0.05) if sent else {}),
            }
        )
    db.session.execute(insert(Application), rows)
    draft_ids = db.session.scalars(
        select(Application.id).where(
            Application.round_id == round_.id, Application.status == "draft"
        )
    ).all()
    pages = []
    for i in draft_ids:
        m = mix(rng, 0.05)
        location = {"nation": m["nation"], "area_type": m["area_type"], "postcode": "CF37 1AA"}
        pages += [
            {"application_id": i, "page_id": "organisation", "answers": {"organisation_name": "X"}},
            {"application_id": i, "page_id": "location", "answers": location},
            {
                "application_id": i,
                "page_id": "leadership",
                "answers": {"led_by": m["led_by"], "staff_band": m["size_band"]},
            },
        ]
    db.session.execute(insert(AnswerPage), pages)
    db.session.commit()
    return round_


def bench_page(count: int, drafts: int, repeats: int) -> list[tuple[str, float, float, str]]:
    """Everything the reach page computes, on SQLite, and its parts."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.models import utcnow
    from app.staff.reach import services

    rows = []
    with tempfile.TemporaryDirectory() as work:
        os.environ["INSTANCE_PATH"] = str(Path(work) / "instance")
        url = f"sqlite:///{Path(work) / 'reach.sqlite3'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
        with app.app_context():
            upgrade()
            round_ = seed(count, drafts)
            entries = services.round_entries(db.session, round_)

            def whole() -> None:
                found = services.round_entries(db.session, round_)
                services.dimension_counts(round_, found)
                services.combination_counts(round_, found)
                services.weekly_sent(round_, found, utcnow())
                services.feasibility(round_, found, with_complete_drafts=False)
                services.feasibility(round_, found, with_complete_drafts=True)
                services.reminder_summary(db.session, round_)

            parts: list[tuple[str, Callable[[], Any]]] = [
                (
                    "read the applications and drafts",
                    lambda: services.round_entries(db.session, round_),
                ),
                ("counts by every dimension", lambda: services.dimension_counts(round_, entries)),
                (
                    "can the quotas be met (both pools)",
                    lambda: (
                        services.feasibility(round_, entries, with_complete_drafts=False),
                        services.feasibility(round_, entries, with_complete_drafts=True),
                    ),
                ),
                ("everything the page computes", whole),
            ]
            for name, work_ in parts:
                wall, cpu = timed(work_, repeats)
                rows.append((name, wall, cpu, ""))
            sentence = services.feasibility(round_, entries, with_complete_drafts=False).sentence
            rows[-2] = (*rows[-2][:3], sentence)
            db.session.remove()
            db.engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 applications; print only")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    count, drafts = (2_000, 200) if args.quick else (10_000, 1_000)
    engine = bench_engine(count, args.repeats)
    page = bench_page(count, drafts, args.repeats)
    lines = [
        "## Reach while the call is open (`benchmarks/reach_bench.py`)",
        "",
        f"{count:,} sent applications and {drafts:,} drafts, {SITES} sites, {len(QUOTAS)} quota "
        f"rows on 6 dimensions; median of {args.repeats} after a warm-up; "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs (shared).",
        f"Targets: the engine's answer <= {TARGET_ENGINE_S} s, all the page computes "
        f"<= {TARGET_PAGE_S} s, in CPU time (the machine is shared: other work stretches the "
        "wall time).",
        "",
        "| What | Wall (s) | CPU (s) | Result |",
        "|---|---:|---:|---|",
    ]
    for name, wall, cpu, said in [*engine, *page]:
        lines.append(f"| {name} | {wall:.3f} | {cpu:.3f} | {said} |")
    text = "\n".join(lines)
    print(text)
    # Judged on CPU time: the machine is shared, and other work stretches the wall time.
    engine_ok = all(c <= TARGET_ENGINE_S for _, _, c, _ in engine)
    page_ok = page[-1][2] <= TARGET_PAGE_S
    verdict = f"Engine target met: {engine_ok}; page target met: {page_ok}."
    print(verdict)
    text += "\n\n" + verdict
    if not args.quick:
        write_section("reach", text)


if __name__ == "__main__":
    main()
