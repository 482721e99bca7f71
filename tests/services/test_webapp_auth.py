"""Mini App init data (issue #19's authentication, services.webapp_auth) checked against a published implementation
— the `telegram-webapp-auth` package (a test dependency only) — so a wrong key order, secret or encoding on both
sides cannot pass: what FlyO signs, the package accepts; what the package refuses, FlyO refuses; and the
attacker's variants (a changed id, another bot's token, expired, from the future, duplicated or oversized fields,
no user) are all refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram_webapp_auth.auth import TelegramAuthenticator, generate_secret_key  # type: ignore[import-untyped]
from telegram_webapp_auth.errors import InvalidInitDataError  # type: ignore[import-untyped]

from services.webapp_auth import InitDataRefused, sign_init_data, validate_init_data

TOKEN = "7000000:AAH-flyo-test-token_0123456789abcdef"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _fields(user_id: int = 42, *, auth_date: datetime = NOW - timedelta(minutes=5), **extra: str) -> dict[str, str]:
    user = {"id": user_id, "first_name": "Zoë", "last_name": "Łukasiewicz", "language_code": "de",
            "allows_write_to_pm": True}
    return {"query_id": "AAHdF6IQAAAAAN0XohDhrOrc", "user": json.dumps(user, ensure_ascii=False, separators=(",", ":")),
            "auth_date": str(int(auth_date.timestamp())), **extra}


def test_what_flyo_signs_the_published_implementation_accepts_and_back() -> None:
    init_data = sign_init_data(_fields(signature="c2lnbmF0dXJl"), TOKEN)
    theirs = TelegramAuthenticator(generate_secret_key(TOKEN)).validate(init_data)
    assert theirs.user is not None and theirs.user.id == 42
    ours = validate_init_data(init_data, TOKEN, now=NOW, max_age=HOUR)
    assert (ours.user_id, ours.first_name, ours.language_code) == (42, "Zoë", "de")


@settings(max_examples=50, deadline=None)
@given(user_id=st.integers(1, 2**52), name=st.text(max_size=40), start=st.text(max_size=30))
def test_any_user_and_text_signed_by_flyo_passes_theirs(user_id: int, name: str, start: str) -> None:
    fields = _fields(user_id, start_param=start)
    fields["user"] = json.dumps({"id": user_id, "first_name": name}, ensure_ascii=False)
    init_data = sign_init_data(fields, TOKEN)
    assert TelegramAuthenticator(generate_secret_key(TOKEN)).validate(init_data).user.id == user_id
    assert validate_init_data(init_data, TOKEN, now=NOW, max_age=HOUR).user_id == user_id


def _tampered(init_data: str, **changes: str) -> str:
    pairs = dict(parse_qsl(init_data, keep_blank_values=True))
    return urlencode({**pairs, **changes})


@pytest.mark.parametrize("attack", ["another user", "another bot", "expired", "future", "twice", "huge", "no hash",
                                    "no user", "user without id", "not a query", "empty"])
def test_the_attackers_variants_are_refused_by_both(attack: str) -> None:
    good = sign_init_data(_fields(), TOKEN)
    init_data = {
        "another user": _tampered(good, user=json.dumps({"id": 1, "first_name": "Mallory"})),
        "another bot": sign_init_data(_fields(), "7000001:another-bots-token"),
        "expired": sign_init_data(_fields(auth_date=NOW - HOUR - timedelta(seconds=1)), TOKEN),
        "future": sign_init_data(_fields(auth_date=NOW + timedelta(minutes=5)), TOKEN),
        "twice": good + "&user=" + json.dumps({"id": 1}),
        "huge": sign_init_data(_fields(start_param="x" * 5000), TOKEN),
        "no hash": urlencode(_fields()),
        "no user": sign_init_data({k: v for k, v in _fields().items() if k != "user"}, TOKEN),
        "user without id": sign_init_data(_fields() | {"user": json.dumps({"first_name": "Ada"})}, TOKEN),
        "not a query": "%%%not=a&&query",
        "empty": "",
    }[attack]
    with pytest.raises(InitDataRefused):
        validate_init_data(init_data, TOKEN, now=NOW, max_age=HOUR)
    if attack in ("another user", "another bot", "no hash"):  # what the published implementation checks alike
        with pytest.raises(InvalidInitDataError):
            TelegramAuthenticator(generate_secret_key(TOKEN)).validate(init_data)
