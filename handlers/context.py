"""Typed python-telegram-bot context: `context.bot_data.services` instead of string keys."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram.ext import CallbackContext, ExtBot

if TYPE_CHECKING:
    from services.context import Services


class BotData:
    """The Application's bot_data: the process's services, set once in post_init."""

    def __init__(self) -> None:
        self._services: Services | None = None

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("services are not attached yet (post_init has not run)")
        return self._services

    @services.setter
    def services(self, value: Services) -> None:
        self._services = value


FlyOContext = CallbackContext[ExtBot[None], dict[object, object], dict[object, object], BotData]
