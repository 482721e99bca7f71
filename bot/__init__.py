"""FlyO composition root: settings, database, Telegram application, HTTP server."""
