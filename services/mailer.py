"""E-mail delivery: SendGrid when SENDGRID_API_KEY is set, else `.eml` files in <DATA_DIR>/outbox/.

The SendGrid client is synchronous, so it runs in threads of its own with a socket timeout. Its
exceptions are translated here into MailError(retryable=...) for the notification outbox to decide on
a retry.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import logging
import re
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attachment:
    """A file sent along: an e-mail attachment, or a document in the chat."""

    filename: str
    content: bytes
    media_type: str  # "application/pdf", "text/calendar"


@dataclass(frozen=True)
class Email:
    key: str  # the notification key: one logical e-mail, whatever the number of attempts
    to: str
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...] = ()


DEFAULT_ADDRESS = "no-reply@flyo.local"


def sender_parts(sender: str, name: str) -> tuple[str, str]:
    """(display name, address) from EMAIL_FROM and EMAIL_FROM_NAME: a name written in EMAIL_FROM itself
    ("Acme Air <tickets@acme.test>") wins; otherwise `name` ("FlyO"). No address → no-reply@flyo.local."""
    own_name, address = parseaddr(sender.strip())
    return (own_name or name.strip() or "FlyO"), (address or DEFAULT_ADDRESS)


class MailError(Exception):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class Mailer(Protocol):
    async def send(self, email: Email) -> str: ...

    async def close(self) -> None: ...


class OutboxMailer:
    """Like Django's file backend: one RFC 5322 file per e-mail, named by its key (so never twice)."""

    def __init__(self, outbox: Path, sender: str, *, name: str = "FlyO") -> None:
        self.outbox = outbox
        self.sender = formataddr(sender_parts(sender, name))

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
        for attachment in email.attachments:  # multipart/mixed: the text/html alternative first, then the files
            maintype, _slash, subtype = attachment.media_type.partition("/")
            message.add_attachment(attachment.content, maintype=maintype, subtype=subtype or "octet-stream",
                                   filename=attachment.filename)
        await asyncio.to_thread(self._write, path, message.as_bytes())
        return str(path)

    async def close(self) -> None:
        """Nothing to release: each write is a short call on the default executor."""

    def _write(self, path: Path, data: bytes) -> None:
        self.outbox.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        partial.write_bytes(data)
        partial.replace(path)  # atomic: a reader never sees half an e-mail


class SendGridMailer:
    """SendGrid v3 mail/send through the official client (host from SENDGRID_API_URL).

    Two guards against a SendGrid that accepts the connection and then says nothing:
    * a socket timeout (python_http_client's `Client(timeout=None)` default waits forever): connecting,
      sending and each read give up after `timeout` seconds, so the thread is freed and the send fails
      as retryable for the outbox to try again later;
    * its own small thread pool: even stuck sends can only take these `workers` threads, never the
      default executor that DNS look-ups (Telegram, Stripe) and Amadeus calls run on.
    """

    def __init__(self, api_key: str, api_url: str, sender: str, timeout: float = 10.0, *, workers: int = 4,
                 name: str = "FlyO") -> None:
        from sendgrid import SendGridAPIClient

        self._client = SendGridAPIClient(api_key, host=api_url.rstrip("/"))
        # Every request builds a child Client that copies this timeout; urllib applies it to the socket.
        self._client.client.timeout = timeout
        self.sender_name, self.sender = sender_parts(sender, name)
        self.timeout = timeout
        # A slow trickle can outlast one socket timeout per read: cap the whole call too. (When this cap
        # fires the thread may still be reading, but on this pool only; its socket timeout ends it.)
        self.deadline = 3 * timeout
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="flyo-sendgrid")
        # Waiting for a free thread costs no time budget: the deadline starts once a thread has the call.
        self._slots = asyncio.Semaphore(workers)
        self._closed = False
        # Forgotten without close(): still let the threads go once they are idle.
        self._finalizer = weakref.finalize(self, self._executor.shutdown, wait=False, cancel_futures=True)

    async def close(self) -> None:
        """Stop taking e-mails; calls in flight end by their socket timeout without holding up the exit."""
        self._closed = True
        self._finalizer()

    async def send(self, email: Email) -> str:
        from python_http_client.exceptions import HTTPError
        from sendgrid.helpers.mail import Attachment as SendGridAttachment
        from sendgrid.helpers.mail import Content, CustomArg, From, Mail

        mail = Mail(from_email=From(self.sender, self.sender_name), to_emails=email.to, subject=email.subject)
        mail.add_content(Content("text/plain", email.text))
        mail.add_content(Content("text/html", email.html))
        mail.add_custom_arg(CustomArg("flyo_key", email.key))
        for attachment in email.attachments:
            mail.add_attachment(SendGridAttachment(base64.b64encode(attachment.content).decode("ascii"),
                                                   attachment.filename, attachment.media_type, "attachment"))
        post = functools.partial(self._client.client.mail.send.post, request_body=mail.get(), timeout=self.timeout)
        try:
            async with self._slots:
                if self._closed:
                    raise MailError("the SendGrid mailer is closed", retryable=True)
                future = asyncio.get_running_loop().run_in_executor(self._executor, post)
                response = await asyncio.wait_for(future, self.deadline)
        except TimeoutError:  # the socket timeout in the thread, or the overall deadline here
            raise MailError(f"SendGrid did not answer within {self.timeout:g} s", retryable=True) from None
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # this task is being cancelled: let it
            # The pool was closed under a call still queued for a thread (close() cancels those): the e-mail
            # was not sent, and stays in the outbox for the next process.
            raise MailError("the SendGrid mailer is closed", retryable=True) from None
        except HTTPError as exc:
            status = int(getattr(exc, "status_code", 0) or 0)
            retryable = status == 429 or status >= 500
            raise MailError(f"SendGrid answered HTTP {status}", retryable=retryable) from None
        except OSError as exc:
            raise MailError(f"SendGrid unreachable: {exc}", retryable=True) from None
        except RuntimeError as exc:
            if "shutdown" not in str(exc):
                raise
            # the pool was shut down between the check and the call
            raise MailError("the SendGrid mailer is closed", retryable=True) from None
        message_id = response.headers.get("X-Message-Id", "") if response.headers else ""
        return f"sendgrid:{message_id}"
