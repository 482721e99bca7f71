"""Presentation helpers shared by handlers: money, local times, durations, cabins (core/formatting.py, in the
update's locale) and HTML escaping."""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

from core import formatting
from services.money import money

__all__ = ["money"]

CABIN_NAMES = formatting.CABIN_NAMES

# The strftime formats handlers pass today → the locale-aware field they mean.
_FIELDS = {"%H:%M": formatting.local_time, "%a %d %b, %H:%M": formatting.local_day_time,
           "%a %d %b %Y, %H:%M": formatting.local_datetime}


def esc(text: object) -> str:
    return html.escape(str(text), quote=False)


def local_time(moment: datetime, tz: str, fmt: str = "%H:%M") -> str:
    """"08:54" at the airport; `fmt` names a field (see _FIELDS), any other strftime format is used as is."""
    field = _FIELDS.get(fmt)
    return field(moment, tz) if field else moment.astimezone(ZoneInfo(tz)).strftime(fmt)


def local_day_time(moment: datetime, tz: str) -> str:
    return formatting.local_day_time(moment, tz)


def local_datetime(moment: datetime, tz: str) -> str:
    return formatting.local_datetime(moment, tz)


def day_shift(departs: datetime, dep_tz: str, arrives: datetime, arr_tz: str) -> str:
    shift = (arrives.astimezone(ZoneInfo(arr_tz)).date() - departs.astimezone(ZoneInfo(dep_tz)).date()).days
    return f" (+{shift})" if shift > 0 else (f" ({shift})" if shift < 0 else "")


def duration(minutes: int) -> str:
    return formatting.duration(minutes)


def cabin_name(cabin: str) -> str:
    return formatting.cabin_name(cabin)
