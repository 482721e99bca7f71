"""A phone number that replied STOP to FlyO's SMS (Twilio error 21610): never texted again, whatever booking."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from beanie import Document
from pymongo import ASCENDING, IndexModel


class SmsOptOut(Document):
    number: str  # E.164
    at: datetime
    code: int = 21610

    class Settings:
        name = "sms_opt_outs"
        indexes: ClassVar[list[IndexModel]] = [IndexModel([("number", ASCENDING)], unique=True)]
