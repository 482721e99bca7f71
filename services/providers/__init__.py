"""Flight providers behind services.flights: the interface (base), Amadeus, and the circuit breaker."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.config import Settings
    from services.providers.base import FlightProvider

log = logging.getLogger(__name__)



def live_providers(settings: Settings) -> list[FlightProvider]:
    """Amadeus when AMADEUS_CLIENT_ID/SECRET are set (AMADEUS_API_URL may point at a compatible gateway)."""
    if not settings.amadeus_configured:
        return []
    from services.providers.amadeus import AmadeusProvider  # the SDK loads only where it is used

    provider = AmadeusProvider.from_settings(settings)
    log.info("live fares from Amadeus at %s (timeout %g s)", settings.AMADEUS_API_URL, provider.timeout)
    return [provider]
