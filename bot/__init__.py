"""FlyO composition root: settings, database, Telegram application, HTTP server."""

__version__ = "0.1.0"
