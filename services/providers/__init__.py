"""Flight providers behind services.flights: the interface (base), Amadeus, and the circuit breaker.

Which providers run is decided by the composition root (bot.runtime.build_providers) from the settings.
"""
