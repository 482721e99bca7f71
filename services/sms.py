"""SMS through Twilio's REST API (issue #18): flight changes and the 24 h reminder, to travellers who gave a phone.

Plain HTTP over aiohttp (one POST per message, `Messages.json`, HTTP Basic with the account SID and auth token),
as Twilio documents it — no SDK needed for one call, and the adapter stays async. Twilio's answers are translated
here: 201 → sent (its message SID); error 21610 (the recipient replied STOP) and the other "this number cannot
take SMS" codes → `SmsRefused`, never retried and the traveller is not texted again; 429 and 5xx and network
failures → `SmsError(retryable=True)` for the outbox's backoff; other 4xx → not retryable.

Texts are kept to one SMS: `sms_text` writes only characters of the GSM 03.38 default alphabet (accents dropped,
other characters replaced) and cuts at 160 characters, so no message is split (or sent as UCS-2 at 70 characters
a part, which one emoji or "ł" would otherwise force).
"""

from __future__ import annotations

import asyncio
import logging
import unicodedata
from dataclasses import dataclass
from typing import Protocol

import aiohttp

log = logging.getLogger(__name__)

# GSM 03.38 default alphabet (basic table); the extension table ({}[]~\\|^€) costs two characters each, so it is
# not used: those characters are replaced.
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà")
SMS_LIMIT = 160
# Twilio error codes for a number that will not take this SMS: 21610 unsubscribed (STOP), 21211 invalid 'To',
# 21614 not a mobile number, 21408 region not enabled, 21612 unreachable via this 'From'.
REFUSED_CODES = frozenset({21610, 21211, 21614, 21408, 21612})
OPTED_OUT = 21610


class SmsError(Exception):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class SmsRefused(Exception):
    """This number will not take SMS from FlyO (opted out, invalid, landline): don't retry."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class SmsSender(Protocol):
    async def send(self, to: str, text: str) -> str: ...

    async def close(self) -> None: ...


def sms_text(text: str) -> str:
    """`text` in the GSM default alphabet, one SMS long: accents dropped where that gives a GSM letter (ł → l,
    ç stays Ç only in capitals, as GSM has it), anything else → "?", whitespace collapsed, cut with "..."."""
    out = []
    for char in " ".join(text.split()):
        if char in GSM_BASIC:
            out.append(char)
            continue
        plain = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        out.append(plain if plain and all(c in GSM_BASIC for c in plain) else _FALLBACK.get(char, "?"))
    joined = "".join(out)
    return joined if len(joined) <= SMS_LIMIT else joined[:SMS_LIMIT - 3].rstrip() + "..."


_FALLBACK = {"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "→": "-", "—": "-", "–": "-", "’": "'", "‘": "'", "“": '"',
             "”": '"', "…": "...", "·": "-", "€": "EUR"}


@dataclass
class TwilioSms:
    account_sid: str
    auth_token: str
    sender: str  # E.164 number or a Messaging Service SID (MG…)
    api_url: str = "https://api.twilio.com"
    timeout: float = 10.0
    _session: aiohttp.ClientSession | None = None

    async def send(self, to: str, text: str) -> str:
        """Send one SMS; Twilio's message SID. SmsRefused / SmsError as the module says."""
        url = f"{self.api_url.rstrip('/')}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        form = {"To": to, "Body": sms_text(text)}
        form["MessagingServiceSid" if self.sender.startswith("MG") else "From"] = self.sender
        try:
            headers = {"Authorization": aiohttp.encode_basic_auth(self.account_sid, self.auth_token)}
            async with self._client().post(url, data=form, headers=headers) as response:
                status = response.status
                body = await response.json(content_type=None) if response.content_length != 0 else {}
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise SmsError(f"Twilio unreachable: {exc}", retryable=True) from None
        if status in (200, 201) and isinstance(body, dict) and body.get("sid"):
            return str(body["sid"])
        code = int(body.get("code") or 0) if isinstance(body, dict) else 0
        message = str(body.get("message") or "") if isinstance(body, dict) else ""
        if code in REFUSED_CODES:
            raise SmsRefused(f"Twilio error {code}: {message}", code)
        raise SmsError(f"Twilio answered HTTP {status} (error {code}: {message})",
                       retryable=status == 429 or status >= 500)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            await asyncio.sleep(0)
