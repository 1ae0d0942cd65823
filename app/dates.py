"""Dates and times as people type them in a form: day/month/year (or year-month-day) and 24-hour
times, read one way for every form that asks for one."""

from __future__ import annotations

import re
from datetime import date, datetime, time

DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y")
TIME = re.compile(r"^(\d{1,2})[:.](\d{2})$")


def parse_date(value: str) -> date | None:
    """A date typed as day/month/year (or year-month-day), between 2000 and 2100."""
    for fmt in DATE_FORMATS:
        try:
            day = datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
        return day if 2000 <= day.year <= 2100 else None
    return None


def parse_time(value: str) -> time | None:
    match = TIME.match(value.strip())
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)
