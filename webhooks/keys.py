"""Typed aiohttp application keys shared by the routes and the runtime."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from telegram.ext import Application

from core.config import Settings
from services.context import Services

SETTINGS: web.AppKey[Settings] = web.AppKey("settings", Settings)
SERVICES: web.AppKey[Services] = web.AppKey("services", Services)
TELEGRAM: web.AppKey[Application[Any, Any, Any, Any, Any, Any]] = web.AppKey("telegram", Application)
