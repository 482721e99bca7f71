"""Presentation helpers shared by handlers: money, local times, durations, HTML escaping."""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

from services.money import money

__all__ = ["money"]

CABIN_NAMES = {"economy": "Economy", "premium": "Premium economy", "business": "Business", "first": "First"}


def esc(text: object) -> str:
    return html.escape(str(text), quote=False)


def local_time(moment: datetime, tz: str, fmt: str = "%H:%M") -> str:
    return moment.astimezone(ZoneInfo(tz)).strftime(fmt)


def local_datetime(moment: datetime, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).strftime("%a %d %b %Y, %H:%M")


def day_shift(departs: datetime, dep_tz: str, arrives: datetime, arr_tz: str) -> str:
    shift = (arrives.astimezone(ZoneInfo(arr_tz)).date() - departs.astimezone(ZoneInfo(dep_tz)).date()).days
    return f" (+{shift})" if shift > 0 else (f" ({shift})" if shift < 0 else "")


def duration(minutes: int) -> str:
    return f"{minutes // 60}h {minutes % 60:02d}m"


def cabin_name(cabin: str) -> str:
    return CABIN_NAMES.get(cabin, cabin.title())
