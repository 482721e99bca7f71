"""POST /webhooks/telegram: Telegram's webhook delivery (webhook mode), and registering it at start-up.

An update is accepted only with the secret Telegram echoes in `X-Telegram-Bot-Api-Secret-Token`
(set by our setWebhook call), compared in constant time. Accepted updates are stored
(services.telegram_inbox: a crash after the answer loses none, a redelivery is dropped), go onto the PTB
Application's queue, and the request is answered at once: Telegram waits for the answer before it
delivers the chat's next update, so handling inline would slow every chat down and, past Telegram's
timeout, cause redeliveries. Behind a load balancer any replica may get any update; conversation
state lives in MongoDB, so that is fine.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from aiohttp import web
from pymongo.errors import PyMongoError
from telegram import Update
from telegram.ext import Application

from core.config import Settings
from services.metrics import TELEGRAM_WEBHOOK_REQUESTS
from webhooks.keys import SERVICES, SETTINGS, TELEGRAM

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# What FlyO handles; my_chat_member tells us when a traveller blocks or restarts the bot.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]


def _reject(status: int, outcome: str, reason: str) -> web.Response:
    TELEGRAM_WEBHOOK_REQUESTS.labels(outcome).inc()
    return web.json_response({"error": reason}, status=status)


@routes.post("/webhooks/telegram")
async def telegram_update(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    expected = settings.TELEGRAM_WEBHOOK_SECRET.get_secret_value() if settings.TELEGRAM_WEBHOOK_SECRET else ""
    application = request.app.get(TELEGRAM)
    if not settings.webhook_mode or not expected or application is None:
        # Polling mode: accepting posted updates too would let anyone inject them next to getUpdates.
        return _reject(404, "disabled", "webhook mode is off")
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        log.warning("telegram webhook: wrong or missing secret token from %s", request.remote)
        return _reject(403, "forbidden", "forbidden")
    try:
        data = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        return _reject(400, "bad_request", "body is not JSON")
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        return _reject(400, "bad_request", "not a Telegram Update")
    try:
        update = Update.de_json(data, application.bot)
    except (TypeError, ValueError, KeyError, AttributeError):
        return _reject(400, "bad_request", "not a Telegram Update")
    inbox = request.app[SERVICES].telegram_inbox
    if inbox is not None:
        try:
            fresh = await inbox.receive(data)  # stored before the 200: a crash after it loses nothing
        except PyMongoError:
            log.warning("telegram webhook: database unavailable; Telegram will deliver again", exc_info=True)
            return _reject(503, "unavailable", "database unavailable")
        if not fresh:
            TELEGRAM_WEBHOOK_REQUESTS.labels("duplicate").inc()
            return web.Response(status=200)  # delivered before (our answer was lost): handled once already
    await application.update_queue.put(update)
    TELEGRAM_WEBHOOK_REQUESTS.labels("accepted").inc()
    return web.Response(status=200)


async def register_webhook(application: Application[Any, Any, Any, Any, Any, Any], settings: Settings,
                           ) -> None:
    """Point Telegram at TELEGRAM_WEBHOOK_URL. Never deleted on shutdown: other replicas keep serving."""
    assert settings.TELEGRAM_WEBHOOK_SECRET is not None  # enforced by Settings
    await application.bot.set_webhook(
        url=settings.TELEGRAM_WEBHOOK_URL,
        secret_token=settings.TELEGRAM_WEBHOOK_SECRET.get_secret_value(),
        allowed_updates=ALLOWED_UPDATES,
        drop_pending_updates=False,  # updates sent while we were down are still answered
    )
    log.info("telegram webhook set to %s", settings.TELEGRAM_WEBHOOK_URL)
