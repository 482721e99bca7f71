"""Logging: timestamped lines to the console and a rotating file; LOG_FORMAT=json for one object per line.

Every record may carry `booking` (a reference) through `extra=`; secrets and e-mail addresses are
masked by a filter so a careless log line cannot leak them.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pythonjsonlogger.json

EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
SECRETS = re.compile(r"(sk_(?:test|live)_|rk_(?:test|live)_|whsec_|SG\.)[A-Za-z0-9_.\-]+"
                     r"|bot\d+:[A-Za-z0-9_-]{20,}"
                     r"|\b\d{6,}:[A-Za-z0-9_-]{30,}")  # a bot token written without its "bot" URL prefix


def redact(text: str) -> str:
    text = SECRETS.sub(lambda m: (m.group(1) or "bot") + "***", text)
    return EMAIL.sub(r"\1***@\2", text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:  # the text format prints exc_text as it is
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        if not hasattr(record, "booking"):
            record.booking = "-"
        return True


class JsonFormatter(pythonjsonlogger.json.JsonFormatter):
    """python-json-logger, kept to FlyO's fields: ts (UTC, milliseconds), level, logger, message, booking (only
    when given) and exc (redacted). Other `extra=` values are not written: the filter cleans only the message."""

    FIELDS = ("ts", "level", "logger", "message", "booking", "exc")

    def __init__(self) -> None:
        super().__init__(["levelname", "name", "message", "booking"], timestamp="ts", json_ensure_ascii=False,
                         rename_fields={"levelname": "level", "name": "logger", "exc_info": "exc"})

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        ts = log_data.get("ts")
        if isinstance(ts, datetime):
            log_data["ts"] = ts.isoformat(timespec="milliseconds")
        if log_data.get("booking") in (None, "-"):
            log_data.pop("booking", None)
        if log_data.get("exc"):
            log_data["exc"] = redact(str(log_data["exc"]))
        return {key: log_data[key] for key in self.FIELDS if key in log_data}


TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(booking)s] %(message)s"


def setup_logging(level: str, fmt: str, data_dir: Path | None, *, console: bool = True) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    formatter: logging.Formatter = JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT)
    handlers: list[logging.Handler] = []
    if console:
        handlers.append(logging.StreamHandler())
    if data_dir is not None:
        logs = data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.handlers.RotatingFileHandler(logs / "flyo.log", maxBytes=5_000_000, backupCount=5,
                                                             encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(RedactingFilter())
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler", "pymongo", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
