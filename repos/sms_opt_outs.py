"""Phone numbers that replied STOP (`sms_opt_outs`): one document per number, inserted once."""

from __future__ import annotations

import contextlib
from datetime import datetime

from pymongo.errors import DuplicateKeyError

from models.sms_opt_out import SmsOptOut


class SmsOptOutRepo:
    async def has(self, number: str) -> bool:
        return await SmsOptOut.find_one({"number": number}) is not None

    async def add(self, number: str, at: datetime, code: int) -> None:
        """Remember the opt-out (a repeat is harmless: the number is unique)."""
        with contextlib.suppress(DuplicateKeyError):
            await SmsOptOut(number=number, at=at, code=code).insert()
