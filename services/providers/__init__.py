"""Flight providers behind services.flights: the interface (base), Amadeus, and the circuit breaker."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from bot.config import Settings
    from services.providers.base import FlightProvider

log = logging.getLogger(__name__)


def parse_api_url(url: str) -> tuple[str, int, bool]:
    """AMADEUS_API_URL → (host, port, ssl) for amadeus.Client; https defaults to 443, http to 80.

    A path is refused: the SDK joins host, port and API path itself, so a gateway prefix would be lost.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/"):
        raise ValueError("expected https://host[:port] without a path")
    ssl = parts.scheme == "https"
    return parts.hostname, parts.port or (443 if ssl else 80), ssl


def live_providers(settings: Settings) -> list[FlightProvider]:
    """Amadeus when AMADEUS_CLIENT_ID/SECRET are set (AMADEUS_API_URL may point at a compatible gateway)."""
    if not settings.amadeus_configured:
        return []
    from services.providers.amadeus import AmadeusProvider  # the SDK loads only where it is used

    provider = AmadeusProvider.from_settings(settings)
    log.info("live fares from Amadeus at %s (timeout %g s)", settings.AMADEUS_API_URL, provider.timeout)
    return [provider]
