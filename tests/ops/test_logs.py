"""What an operator finds in the log file: parseable JSON lines, booking references, no secrets."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.logs import setup_logging

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
STRIPE_KEY = "sk_test_51HxFLyOabcdefghijklmnopqrstuvwxyz0123456789"
STRIPE_RESTRICTED = "rk_live_51HxFLyOabcdefghijklmnop"
WEBHOOK_SECRET = "whsec_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
SENDGRID_KEY = "SG.abcdefghijklmnopqrstuv.wxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabc"


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """JSON logging into <tmp>/logs/flyo.log, as `LOG_FORMAT=json` sets it up; restored afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    setup_logging("INFO", "json", tmp_path, console=False)
    yield tmp_path / "logs" / "flyo.log"
    for handler in list(root.handlers):
        handler.close()
        root.removeHandler(handler)
    for handler in saved_handlers:
        root.addHandler(handler)
    root.setLevel(saved_level)


def _lines(path: Path) -> list[dict[str, object]]:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_every_line_is_a_json_object_with_time_level_logger_and_message(log_file: Path) -> None:
    log = logging.getLogger("flyo.test")
    log.info("booking created for %s passengers", 2)
    log.warning("ünïcode ✈️ survives")
    records = _lines(log_file)
    assert [r["message"] for r in records] == ["booking created for 2 passengers", "ünïcode ✈️ survives"]
    assert [r["level"] for r in records] == ["INFO", "WARNING"]
    assert all(r["logger"] == "flyo.test" and str(r["ts"]).endswith("+00:00") for r in records)


def test_booking_reference_is_a_field_only_when_given(log_file: Path) -> None:
    log = logging.getLogger("flyo.test")
    log.info("payment confirmed", extra={"booking": "K7Q2MX"})
    log.info("no booking here")
    with_ref, without = _lines(log_file)
    assert with_ref["booking"] == "K7Q2MX"
    assert "booking" not in without


@pytest.mark.parametrize("secret", [TOKEN, STRIPE_KEY, STRIPE_RESTRICTED, WEBHOOK_SECRET, SENDGRID_KEY])
def test_secrets_never_reach_the_file(log_file: Path, secret: str) -> None:
    log = logging.getLogger("flyo.test")
    log.info("configured with %s", secret)
    log.info(f"HTTP Request: POST https://api.telegram.org/bot{TOKEN}/sendMessage")
    text = log_file.read_text(encoding="utf-8") if _lines(log_file) else ""
    assert secret not in text
    assert TOKEN.split(":")[1] not in text  # the secret half of the bot token, however it was written


def test_email_addresses_are_masked_but_recognisable(log_file: Path) -> None:
    logging.getLogger("flyo.mail").info("confirmation sent to ada.lovelace@example.com")
    (record,) = _lines(log_file)
    assert "ada.lovelace@example.com" not in str(record["message"])
    assert record["message"] == "confirmation sent to a***@example.com"


def test_tracebacks_are_redacted_too(log_file: Path) -> None:
    try:
        raise RuntimeError(f"Stripe refused key {STRIPE_KEY} for ada@example.com")
    except RuntimeError:
        logging.getLogger("flyo.test").exception("payment failed")
    (record,) = _lines(log_file)
    assert "RuntimeError" in str(record["exc"])
    assert STRIPE_KEY not in json.dumps(record) and "ada@example.com" not in json.dumps(record)


def test_text_format_tracebacks_are_redacted(tmp_path: Path) -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    setup_logging("INFO", "text", tmp_path, console=False)
    try:
        try:
            raise RuntimeError(f"bad token {TOKEN}")
        except RuntimeError:
            logging.getLogger("flyo.test").exception("startup failed", extra={"booking": "K7Q2MX"})
        for handler in root.handlers:
            handler.flush()
        text = (tmp_path / "logs" / "flyo.log").read_text(encoding="utf-8")
    finally:
        for handler in list(root.handlers):
            handler.close()
            root.removeHandler(handler)
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)
    assert "[K7Q2MX] startup failed" in text
    assert "RuntimeError" in text
    assert TOKEN.split(":")[1] not in text
