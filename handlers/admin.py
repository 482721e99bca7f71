"""Admin commands (only for ADMIN_IDS): /booking, /resend, /stats; refusals are logged and audited."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Admin handlers are added by the payments/operations work; nothing yet."""
