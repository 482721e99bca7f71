"""Telegram-facing code only: parse the update, call a service, render the reply."""
