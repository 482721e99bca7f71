"""bot/logs.py's JsonFormatter (python-json-logger): FlyO's fields only, in order, secrets redacted."""

from __future__ import annotations

import json
import logging
import sys

from bot.logs import JsonFormatter, RedactingFilter


def _format(record: logging.LogRecord) -> dict[str, object]:
    RedactingFilter().filter(record)
    return dict(json.loads(JsonFormatter().format(record)))


def _record(msg: str, *args: object, exc: bool = False, **extra: object) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise RuntimeError("key sk_live_abcdefghijklmnop")
        except RuntimeError:
            exc_info = sys.exc_info()
    record = logging.LogRecord("flyo.test", logging.INFO, __file__, 1, msg, args, exc_info)
    record.__dict__.update(extra)
    return record


def test_fields_and_their_order() -> None:
    data = _format(_record("paid %s", "K7Q2MX", booking="K7Q2MX"))
    assert list(data) == ["ts", "level", "logger", "message", "booking"]
    assert data["message"] == "paid K7Q2MX" and data["level"] == "INFO" and data["logger"] == "flyo.test"
    assert str(data["ts"]).endswith("+00:00") and len(str(data["ts"]).split(".")[1]) == len("123+00:00")


def test_other_extras_are_not_written() -> None:
    data = _format(_record("sent", email="ada@example.com", token="sk_test_abcdefghijkl"))
    assert "email" not in data and "token" not in data and "booking" not in data


def test_tracebacks_are_redacted() -> None:
    data = _format(_record("failed", exc=True))
    assert "RuntimeError" in str(data["exc"]) and "sk_live_abcdefghijklmnop" not in json.dumps(data)
