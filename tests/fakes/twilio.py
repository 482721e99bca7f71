"""A loopback Twilio Messages API fake: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, as Twilio documents
it — HTTP Basic with the account SID and auth token (401 code 20003 otherwise), a form with `To` (E.164), `From`
(a number) or `MessagingServiceSid`, and `Body` (1–1600 characters); 201 with the message resource (`sid` SM…,
`status` "queued", `num_segments`); errors as `{"code", "message", "more_info", "status"}`.

`opted_out` numbers answer 400 with code 21610 ("Attempt to send to unsubscribed recipient"), as after the
recipient replied STOP. `fail_next(...)` injects 429/5xx. `messages` holds what was accepted."""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from ._server import RecordedRequest, RecordingServer, route

E164 = re.compile(r"\+[1-9][0-9]{6,14}")
GSM = frozenset("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
                "¿abcdefghijklmnopqrstuvwxyzäöñüà")


@dataclass(frozen=True)
class Sms:
    sid: str
    to: str
    sender: str
    body: str
    segments: int


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                              "status": status}, status=status)


def segments(body: str) -> int:
    """How many SMS Twilio bills for `body`: GSM-7 160 (153 per part), else UCS-2 70 (67 per part)."""
    single, part = (160, 153) if all(c in GSM for c in body) else (70, 67)
    return 1 if len(body) <= single else -(-len(body) // part)


class FakeTwilio(RecordingServer):
    def __init__(self, account_sid: str, auth_token: str) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[Sms] = []
        self.opted_out: set[str] = set()

    def to(self, number: str) -> list[Sms]:
        return [m for m in self.messages if m.to == number]

    def _default_fault_body(self, status: int) -> object:
        return {"code": 20429 if status == 429 else 20500, "message": "fault injected", "status": status}

    async def _serve(self, request: web.Request, handler: Handler, recorded: RecordedRequest) -> web.StreamResponse:
        scheme, _sep, value = (request.headers.get("Authorization") or "").partition(" ")
        try:
            user, _colon, password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            user = password = ""
        if scheme != "Basic" or (user, password) != (self.account_sid, self.auth_token):
            return _error(401, 20003, "Authenticate")
        return await super()._serve(request, handler, recorded)

    @route("POST", "/2010-04-01/Accounts/{account}/Messages.json")
    async def _create(self, request: web.Request) -> web.Response:
        if request.match_info["account"] != self.account_sid:
            return _error(404, 20404, "The requested resource was not found")
        form: dict[str, Any] = dict(await request.post())
        to, body = str(form.get("To", "")), str(form.get("Body", ""))
        sender = str(form.get("From") or form.get("MessagingServiceSid") or "")
        if not to:
            return _error(400, 21604, "A 'To' phone number is required.")
        if not E164.fullmatch(to):
            return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not sender:
            return _error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message.")
        if not body:
            return _error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            return _error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if to in self.opted_out:
            return _error(400, 21610, "Attempt to send to unsubscribed recipient")
        sms = Sms("SM" + secrets.token_hex(16), to, sender, body, segments(body))
        self.messages.append(sms)
        return web.json_response({"sid": sms.sid, "account_sid": self.account_sid, "to": to, "from": sender,
                                  "body": body, "status": "queued", "num_segments": str(sms.segments),
                                  "direction": "outbound-api", "api_version": "2010-04-01"}, status=201)
