"""The terminal chat with the real FlyO bot (`python -m bot console`, or `make run` without a token)."""

from __future__ import annotations

from bot.console.app import run_console

__all__ = ["run_console"]
