"""A loopback SendGrid v3 `mail/send` fake for FlyO's e-mail tests.

Why it exists: booking confirmations and refund notices go out through the real `sendgrid` SDK
(`SendGridAPIClient(api_key, host=fake.url)`, synchronous urllib - call it via `asyncio.to_thread`).
Tests need to see exactly what would have been mailed (recipients, subject, text and HTML parts) and to
make SendGrid fail on demand, without sending anything.

Behaviour follows SendGrid's documented contract: `Authorization: Bearer SG....`, JSON body with required
personalizations/from/subject/content (content optional with a template_id), 202 Accepted with an empty
body and the id in `X-Message-Id`, errors as `{"errors": [{"message", "field", "help"}]}`. Sandbox mode
(`mail_settings.sandbox_mode.enable`) is validated and answered 200 without being "delivered", as SendGrid
does.
The 401 body is the one SendGrid really returns; 400 messages are modelled on SendGrid's, not byte-exact.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import secrets
import string
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from ._server import RecordedRequest as RecordedRequest
from ._server import RecordingServer, route

JSON = dict[str, Any]

UNAUTHORIZED_BODY: JSON = {
    "errors": [
        {
            "message": "The provided authorization grant is invalid, expired, or revoked",
            "field": None,
            "help": None,
        }
    ]
}
UNVERIFIED_SENDER_BODY: JSON = {
    "errors": [
        {
            "message": "The from address does not match a verified Sender Identity. Mail cannot be sent "
            "until this error is resolved. Visit https://sendgrid.com/docs/for-developers/sending-email/"
            "sender-identity/ to see the Sender Identity requirements",
            "field": "from",
            "help": None,
        }
    ]
}
_HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#"
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ID_ALPHABET = string.ascii_letters + string.digits + "-_"


@dataclass(frozen=True)
class SentMail:
    """One accepted mail, flattened so tests can assert on what a person would receive.

    `to`/`cc`/`bcc` collect addresses over all personalizations; `subject` is the top-level subject or, when
    absent, the first personalization's; `headers` merges top-level and personalization headers. `raw` keeps
    the whole request body for anything not flattened here.
    """

    message_id: str
    to: list[str]
    cc: list[str]
    bcc: list[str]
    from_email: str
    from_name: str | None
    reply_to: str | None
    subject: str | None
    text: str | None
    html: str | None
    headers: dict[str, str]
    categories: list[str]
    custom_args: dict[str, str]
    attachments: list[JSON]
    template_id: str | None
    personalizations: list[JSON]
    raw: JSON = field(repr=False)

    @property
    def recipients(self) -> list[str]:
        """Every address the mail is delivered to (to + cc + bcc)."""
        return [*self.to, *self.cc, *self.bcc]


class FakeSendGrid(RecordingServer):
    """SendGrid v3 fake serving `POST /v3/mail/send`.

    `messages` holds accepted (non-sandbox) mails in order; `requests` every request, accepted or not.
    `verified_senders`, when set, makes other from-addresses fail with SendGrid's real 403 body - the error
    a misconfigured EMAIL_FROM produces in production.

    Point the SDK here with `SendGridAPIClient(key, host=fake.url)`. `fail_next(...)` (body None -> a
    SendGrid-shaped error for the status) lets tests check that mail delivery degrades gracefully (booking
    still confirmed, mail retried later); faulted mails are not stored.

    `hang()` makes it accept connections and requests and never answer (until `hang(False)` or stop): the
    outage that only a client-side socket timeout survives.
    """

    def __init__(self, *, api_keys: set[str] | None = None, verified_senders: set[str] | None = None) -> None:
        """`api_keys`: when given, only these keys are accepted; otherwise any key starting `SG.` is."""
        super().__init__()
        self.api_keys = api_keys
        self.verified_senders = verified_senders
        self.messages: list[SentMail] = []
        self.hung_requests = 0  # requests held without an answer so far (total)
        self._hanging = False
        self._release = asyncio.Event()
        self._hung_signal = asyncio.Event()

    # ---- test API ---------------------------------------------------------------------------------------
    def messages_to(self, address: str) -> list[SentMail]:
        """Accepted mails that reach `address` as to, cc or bcc (case-insensitive, as mailboxes are)."""
        wanted = address.strip().lower()
        return [m for m in self.messages if wanted in (r.lower() for r in m.recipients)]

    def hang(self, enabled: bool = True) -> None:
        """Hold every request from now on without answering; `hang(False)` lets the held ones go (503)."""
        self._hanging = enabled
        if enabled:
            self._release = asyncio.Event()
        else:
            self._release.set()

    async def wait_for_hung(self, count: int, timeout: float = 5.0) -> None:
        """Wait until at least `count` requests have been held without an answer."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.hung_requests < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"only {self.hung_requests} of {count} requests reached the silent SendGrid")
            self._hung_signal.clear()
            try:
                await asyncio.wait_for(self._hung_signal.wait(), remaining)
            except TimeoutError:
                continue

    async def _stopping(self) -> None:
        self._release.set()  # held handlers return, so shutdown never waits for them

    # ---- server -----------------------------------------------------------------------------------------
    async def _serve(self, request: web.Request, handler: Handler, recorded: RecordedRequest) -> web.StreamResponse:
        if self._hanging:
            release = self._release
            self.hung_requests += 1
            self._hung_signal.set()
            await release.wait()  # the client's socket timeout is what ends this request for it
            return _json(503, {"errors": [{"message": "Service Unavailable", "field": None, "help": None}]})
        if not self._authorized(request.headers.get("Authorization")):
            return _json(401, UNAUTHORIZED_BODY)
        return await super()._serve(request, handler, recorded)

    def _encode_json(self, body: object) -> bytes:
        return _dumps(body)

    def _default_fault_body(self, status: int) -> JSON:
        return _default_fault_body(status)

    def _authorized(self, header: str | None) -> bool:
        scheme, _, key = (header or "").partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            return False
        return key in self.api_keys if self.api_keys is not None else key.startswith("SG.")

    async def _unknown(self, request: web.Request) -> web.Response:
        return _json(404, {"errors": [{"field": None, "message": "resource not found"}]})

    @route("POST", "/v3/mail/send")
    async def _mail_send(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            return _json(400, {"errors": [{"message": "Bad Request", "field": None, "help": None}]})
        if not isinstance(body, dict):
            return _json(400, {"errors": [{"message": "Bad Request", "field": None, "help": None}]})
        errors = _validate(body)
        if errors:
            return _json(400, {"errors": errors})
        sender = str(body["from"]["email"]).lower()
        if self.verified_senders is not None and sender not in {s.lower() for s in self.verified_senders}:
            return _json(403, UNVERIFIED_SENDER_BODY)
        message_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(22))
        sandbox = body.get("mail_settings", {}).get("sandbox_mode", {}).get("enable") is True
        if sandbox:
            return web.Response(status=200)
        self.messages.append(_to_sent_mail(message_id, body))
        return web.Response(status=202, headers={"X-Message-Id": message_id})


# ---- validation and flattening --------------------------------------------------------------------------
def _error(message: str, field_name: str | None, anchor: str | None) -> JSON:
    return {"message": message, "field": field_name, "help": _HELP + anchor if anchor else None}


def _validate(body: JSON) -> list[JSON]:
    """Collect SendGrid-style field errors (SendGrid reports several at once, so this does too)."""
    errors: list[JSON] = []
    has_template = bool(body.get("template_id"))
    personalizations = body.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        errors.append(
            _error(
                "The personalizations field is required and must have at least one personalization.",
                "personalizations",
                "-Personalizations-Errors",
            )
        )
        personalizations = []
    every_p_has_subject = bool(personalizations)
    for i, p in enumerate(personalizations):
        if not isinstance(p, dict):
            errors.append(_error("Invalid type. Expected: object", f"personalizations.{i}", None))
            every_p_has_subject = False
            continue
        if not p.get("subject"):
            every_p_has_subject = False
        to = p.get("to")
        if not isinstance(to, list) or not to:
            errors.append(
                _error(
                    "The to array is required for all personalization objects, and must have at least one "
                    "email object with a valid email address.",
                    f"personalizations.{i}.to",
                    "message.personalizations.to",
                )
            )
        seen: set[str] = set()
        for kind in ("to", "cc", "bcc"):
            entries = p.get(kind) or []
            for j, entry in enumerate(entries if isinstance(entries, list) else []):
                email = entry.get("email") if isinstance(entry, dict) else None
                if not isinstance(email, str) or not _EMAIL_RE.match(email):
                    errors.append(
                        _error(
                            "Does not contain a valid address.",
                            f"personalizations.{i}.{kind}.{j}.email",
                            f"message.personalizations.{kind}",
                        )
                    )
                    continue
                if email.lower() in seen:
                    errors.append(
                        _error(
                            "Each email address in the personalization block should be unique between to, "
                            f"cc, and bcc. We found the first duplicate instance of [{email}] in the "
                            f"personalizations.{i}.{kind} field.",
                            f"personalizations.{i}.{kind}",
                            "message.recipient.duplicate",
                        )
                    )
                seen.add(email.lower())
    sender = body.get("from")
    sender_email = sender.get("email") if isinstance(sender, dict) else None
    if not sender_email:
        errors.append(
            _error(
                "The from object must be provided for every email send. It is an object that requires the "
                'email parameter, but may also contain a name parameter.  e.g. {"email" : '
                '"example@example.com"}  or {"email" : "example@example.com", "name" : "Example Recipient"}.',
                "from.email",
                "message.from",
            )
        )
    elif not isinstance(sender_email, str) or not _EMAIL_RE.match(sender_email):
        errors.append(
            _error("The from email does not contain a valid address.", "from.email", "message.from")
        )
    if not body.get("subject") and not every_p_has_subject and not has_template:
        errors.append(
            _error(
                "The subject is required. You can get around this requirement if you use a template with a "
                "subject defined or if every personalization has a subject defined.",
                "subject",
                "message.subject",
            )
        )
    content = body.get("content")
    if content is None or content == []:
        if not has_template:
            errors.append(
                _error(
                    "Unless a valid template_id is provided, the content parameter is required. There must "
                    "be at least one defined content block. We typically suggest both text/plain and "
                    "text/html blocks are included, but only one block is required.",
                    "content",
                    "message.content",
                )
            )
    elif not isinstance(content, list):
        errors.append(_error("Invalid type. Expected: array, given: object.", "content", "message.content"))
    else:
        types: list[str] = []
        for i, block in enumerate(content):
            if not isinstance(block, dict) or not block.get("type"):
                errors.append(
                    _error("The content type must be provided.", f"content.{i}.type", "message.content.type")
                )
                continue
            types.append(str(block["type"]))
            value = block.get("value")
            if not isinstance(value, str) or not value:
                errors.append(
                    _error(
                        "The content value must be a string at least one character in length.",
                        f"content.{i}.value",
                        "message.content.value",
                    )
                )
        if "text/plain" in types and types[0] != "text/plain":
            errors.append(
                _error(
                    "If present, text/plain content must be first, followed by text/html, followed by any "
                    "other content.",
                    "content",
                    "message.content.type",
                )
            )
    errors.extend(_attachment_errors(body.get("attachments")))
    return errors


MAX_MESSAGE_BYTES = 30 * 1024 * 1024  # "The total size of your email, including attachments, must be less than 30MB."


def _attachment_errors(attachments: Any) -> list[JSON]:
    """SendGrid's attachment rules: content (base64) and filename required, type without ";" or CRLF,
    disposition inline|attachment, content_id with inline, and 30 MB for the whole message."""
    if attachments is None:
        return []
    if not isinstance(attachments, list):
        return [_error("Invalid type. Expected: array, given: object.", "attachments", "message.attachments")]
    errors: list[JSON] = []
    total = 0
    for i, item in enumerate(attachments):
        where = f"attachments.{i}"
        if not isinstance(item, dict):
            errors.append(_error("Invalid type. Expected: object.", where, "message.attachments"))
            continue
        content = item.get("content")
        if not isinstance(content, str) or not content:
            errors.append(_error("The attachment content is required.", f"{where}.content",
                                 "message.attachments.content"))
        else:
            try:
                total += len(base64.b64decode(content, validate=True))
            except (binascii.Error, ValueError):
                errors.append(_error("The attachment content must be base64 encoded.", f"{where}.content",
                                     "message.attachments.content"))
        if not isinstance(item.get("filename"), str) or not item.get("filename"):
            errors.append(_error("The attachment filename parameter is required.", f"{where}.filename",
                                 "message.attachments.filename"))
        kind = item.get("type")
        if kind is not None and (not isinstance(kind, str) or any(c in kind for c in ";\r\n")):
            errors.append(_error("The attachment type cannot contain ';', or CRLF characters.", f"{where}.type",
                                 "message.attachments.type"))
        disposition = item.get("disposition", "attachment")
        if disposition not in ("attachment", "inline"):
            errors.append(_error("The disposition of your attachment can be either 'inline' or 'attachment'.",
                                 f"{where}.disposition", "message.attachments.disposition"))
        elif disposition == "inline" and not item.get("content_id"):
            errors.append(_error("The content_id parameter is required if disposition is set to inline.",
                                 f"{where}.content_id", "message.attachments.content_id"))
    if total > MAX_MESSAGE_BYTES:
        errors.append(_error("The attachment size is too big. The total size of your email, including "
                             "attachments, must be less than 30MB.", "attachments", "message.attachments"))
    return errors


def _addresses(personalizations: list[JSON], kind: str) -> list[str]:
    return [str(e["email"]) for p in personalizations for e in (p.get(kind) or []) if isinstance(e, dict)]


def _to_sent_mail(message_id: str, body: JSON) -> SentMail:
    personalizations: list[JSON] = body["personalizations"]
    parts = {str(c.get("type")): str(c.get("value")) for c in body.get("content") or []}
    headers: dict[str, str] = dict(body.get("headers") or {})
    custom_args: dict[str, str] = dict(body.get("custom_args") or {})
    for p in personalizations:
        headers.update(p.get("headers") or {})
        custom_args.update(p.get("custom_args") or {})
    subject = body.get("subject") or next((p["subject"] for p in personalizations if p.get("subject")), None)
    reply_to = body.get("reply_to")
    return SentMail(
        message_id=message_id,
        to=_addresses(personalizations, "to"),
        cc=_addresses(personalizations, "cc"),
        bcc=_addresses(personalizations, "bcc"),
        from_email=str(body["from"]["email"]),
        from_name=body["from"].get("name"),
        reply_to=reply_to.get("email") if isinstance(reply_to, dict) else None,
        subject=subject,
        text=parts.get("text/plain"),
        html=parts.get("text/html"),
        headers=headers,
        categories=list(body.get("categories") or []),
        custom_args=custom_args,
        attachments=list(body.get("attachments") or []),
        template_id=body.get("template_id"),
        personalizations=personalizations,
        raw=body,
    )


def _dumps(body: object) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _json(status: int, body: object) -> web.Response:
    return web.Response(status=status, body=_dumps(body), content_type="application/json")


def _default_fault_body(status: int) -> JSON:
    if status == 401:
        return UNAUTHORIZED_BODY
    if status == 403:
        return UNVERIFIED_SENDER_BODY
    if status == 429:
        return {"errors": [{"field": None, "message": "too many requests"}]}
    if status == 413:
        return {"errors": [{"message": "Payload too large", "field": None, "help": None}]}
    if status >= 500:
        return {"errors": [{"message": "Internal server error", "field": None, "help": None}]}
    return {"errors": [{"message": f"Injected HTTP {status} from FakeSendGrid", "field": None, "help": None}]}
