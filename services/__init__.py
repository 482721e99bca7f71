"""Domain rules and one adapter per outside service; handlers and webhooks both call these."""
