"""Telegram Mini App authentication (issue #19): the `initData` a Mini App page receives from Telegram, checked
exactly as Telegram documents it (core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app):

    data_check_string = every received field except `hash`, as "key=value", sorted by key, joined by "\\n"
    secret_key        = HMAC_SHA256(key="WebAppData", message=bot_token)
    valid             = hex(HMAC_SHA256(key=secret_key, message=data_check_string)) == hash   (constant time)

`signature` (Telegram's Ed25519 signature for third parties) is one of the fields, so it is in the string too.
Beyond the signature: `auth_date` no older than a setting (default one hour) and not from the future, one value
per key, at most MAX_LENGTH characters, and a `user` object with an integer id — anything else is refused with a
reason for the log and nothing for the caller to leak. The tests check these rules against a published
implementation (the `telegram-webapp-auth` package), so a wrong key order on both sides cannot pass.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

MAX_LENGTH = 4096  # Telegram's initData is a few hundred characters; a long one is not Telegram's
FUTURE_SKEW = timedelta(minutes=1)


class InitDataRefused(Exception):
    """The init data is not Telegram's, or no longer valid: `str(exc)` says why (for the log, not the page)."""


@dataclass(frozen=True)
class WebAppUser:
    user_id: int
    first_name: str
    language_code: str
    auth_date: datetime
    query_id: str | None
    start_param: str | None


def _secret(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def _check_string(fields: Mapping[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def sign_init_data(fields: Mapping[str, str], bot_token: str) -> str:
    """The init data Telegram would send for these fields (the terminal chat's local link; tests)."""
    digest = hmac.new(_secret(bot_token), _check_string(fields).encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest})


def validate_init_data(init_data: str, bot_token: str, *, now: datetime, max_age: timedelta) -> WebAppUser:
    """The user the init data vouches for; InitDataRefused (with the reason) for anything else."""
    if not init_data or len(init_data) > MAX_LENGTH:
        raise InitDataRefused("missing or oversized init data")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InitDataRefused("init data is not a query string") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InitDataRefused("a field appears twice")
    received = fields.get("hash", "")
    expected = hmac.new(_secret(bot_token), _check_string(fields).encode(), hashlib.sha256).hexdigest()
    if not received or not hmac.compare_digest(expected, received):
        raise InitDataRefused("the hash does not match (not signed with this bot's token)")
    try:
        auth_date = datetime.fromtimestamp(int(fields.get("auth_date", "")), now.tzinfo)
    except (ValueError, OverflowError, OSError):
        raise InitDataRefused("auth_date is missing or not a time") from None
    if auth_date > now + FUTURE_SKEW:
        raise InitDataRefused("auth_date is in the future")
    if now - auth_date > max_age:
        raise InitDataRefused(f"expired: signed {int((now - auth_date).total_seconds())} s ago")
    user = _user(fields.get("user"))
    return WebAppUser(user_id=user["id"], first_name=str(user.get("first_name", "")),
                      language_code=str(user.get("language_code", "")), auth_date=auth_date,
                      query_id=fields.get("query_id"), start_param=fields.get("start_param"))


def _user(raw: str | None) -> dict[str, Any]:
    try:
        user = json.loads(raw or "")
    except ValueError:
        raise InitDataRefused("user is missing or not JSON") from None
    if not isinstance(user, dict) or isinstance(user.get("id"), bool) or not isinstance(user.get("id"), int):
        raise InitDataRefused("user has no integer id")
    return user
