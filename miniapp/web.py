"""What every Mini App route shares: Telegram init data checked on each API call, JSON errors that leak nothing,
and the pages and assets served from the package with strict headers.

The init data travels as `Authorization: tma <initData>` (the convention Telegram's Mini App docs use). Missing,
forged, expired or oversized → 401; a valid user without the right (an admin page, someone else's chat) → 403.
The reason goes to the log only.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import cache
from importlib import resources
from typing import Any

from aiohttp import web

from core.config import Settings
from core.i18n import pick_locale, set_locale
from services.context import Services
from services.webapp_auth import InitDataRefused, WebAppUser, validate_init_data
from webhooks.keys import SERVICES, SETTINGS

log = logging.getLogger(__name__)

SCHEME = "tma "
# Telegram Web (web.telegram.org) shows Mini Apps in an iframe; the phone apps use a web view.
PAGE_CSP = ("default-src 'none'; script-src 'self' https://telegram.org; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'self' https://web.telegram.org https://*.telegram.org")
PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": PAGE_CSP}
API_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
ASSET_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".svg": "image/svg+xml"}


def json_error(status: int, code: str, message: str, **extra: Any) -> web.Response:
    """`{"error": code, "message": text for the page}`; `extra` only where the caller is already authorised."""
    return web.json_response({"error": code, "message": message, **extra}, status=status, headers=API_HEADERS)


class Refused(Exception):
    """An API call that must stop with this response (raised by `authenticate`)."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def authenticate(request: web.Request, *, admin: bool = False) -> WebAppUser:
    """The Telegram user the request's init data vouches for; Refused(401/403) otherwise."""
    settings: Settings = request.app[SETTINGS]
    services: Services = request.app[SERVICES]
    header = request.headers.get("Authorization", "")
    if not header.startswith(SCHEME):
        raise Refused(json_error(401, "unauthorized", "Open this page from the FlyO chat in Telegram."))
    try:
        user = validate_init_data(header[len(SCHEME):], settings.bot_token, now=services.clock.now(),
                                  max_age=timedelta(seconds=settings.WEBAPP_AUTH_MAX_AGE_SECONDS))
    except InitDataRefused as exc:
        log.info("Mini App call refused (%s %s): %s", request.method, request.path, exc)
        raise Refused(json_error(401, "unauthorized", "This page has expired. Open it again from the FlyO chat."
                                 )) from None
    set_locale(pick_locale(user.language_code))  # the rest of this request speaks the user's language
    if admin and user.user_id not in settings.ADMIN_IDS:
        log.warning("Mini App admin call by non-admin %s refused: %s %s", user.user_id, request.method, request.path)
        raise Refused(json_error(403, "forbidden", "This page is for FlyO admins."))
    return user


@cache
def _asset(name: str) -> bytes:
    return resources.files("miniapp").joinpath("static", name).read_bytes()


def asset_response(name: str, *, page: bool = False) -> web.Response:
    """A file of `static/` (a fixed name chosen by the route, never from the URL)."""
    suffix = name[name.rfind("."):]
    headers = PAGE_HEADERS if page else {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
    return web.Response(body=_asset(name), headers={**headers, "Content-Type": ASSET_TYPES[suffix] + "; charset=utf-8"})
