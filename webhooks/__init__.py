"""aiohttp routes: Stripe and Telegram webhooks, health and metrics. They call services, never handlers."""
