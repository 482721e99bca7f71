"""E-mail delivery: SendGrid when SENDGRID_API_KEY is set, else `.eml` files in <DATA_DIR>/outbox/.

The SendGrid client is synchronous, so it runs in a thread with a timeout. Its exceptions are
translated here into MailError(retryable=...) for the notification outbox to decide on a retry.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Email:
    key: str  # the notification key: one logical e-mail, whatever the number of attempts
    to: str
    subject: str
    text: str
    html: str


class MailError(Exception):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class Mailer(Protocol):
    async def send(self, email: Email) -> str: ...


class OutboxMailer:
    """Like Django's file backend: one RFC 5322 file per e-mail, named by its key (so never twice)."""

    def __init__(self, outbox: Path, sender: str) -> None:
        self.outbox = outbox
        self.sender = sender or "FlyO <no-reply@flyo.local>"

    def path_for(self, key: str) -> Path:
        return self.outbox / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', key)}.eml"

    async def send(self, email: Email) -> str:
        path = self.path_for(email.key)
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = email.to
        message["Subject"] = email.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain="flyo.local")
        message["X-FlyO-Key"] = email.key
        message.set_content(email.text)
        message.add_alternative(email.html, subtype="html")
        await asyncio.to_thread(self._write, path, message.as_bytes())
        return str(path)

    def _write(self, path: Path, data: bytes) -> None:
        self.outbox.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        partial.write_bytes(data)
        partial.replace(path)  # atomic: a reader never sees half an e-mail


class SendGridMailer:
    """SendGrid v3 mail/send through the official client (host from SENDGRID_API_URL)."""

    def __init__(self, api_key: str, api_url: str, sender: str, timeout: float = 10.0) -> None:
        from sendgrid import SendGridAPIClient

        self._client = SendGridAPIClient(api_key, host=api_url.rstrip("/"))
        self.sender = sender
        self.timeout = timeout

    async def send(self, email: Email) -> str:
        from python_http_client.exceptions import HTTPError
        from sendgrid.helpers.mail import Content, CustomArg, Mail

        mail = Mail(from_email=self.sender, to_emails=email.to, subject=email.subject)
        mail.add_content(Content("text/plain", email.text))
        mail.add_content(Content("text/html", email.html))
        mail.add_custom_arg(CustomArg("flyo_key", email.key))
        try:
            response = await asyncio.wait_for(asyncio.to_thread(self._client.send, mail), self.timeout)
        except TimeoutError:
            raise MailError("SendGrid did not answer in time", retryable=True) from None
        except HTTPError as exc:
            status = int(getattr(exc, "status_code", 0) or 0)
            retryable = status == 429 or status >= 500
            raise MailError(f"SendGrid answered HTTP {status}", retryable=retryable) from None
        except OSError as exc:
            raise MailError(f"SendGrid unreachable: {exc}", retryable=True) from None
        message_id = response.headers.get("X-Message-Id", "") if response.headers else ""
        return f"sendgrid:{message_id}"
