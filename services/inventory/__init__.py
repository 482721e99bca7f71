"""The local inventory: a realistic network of airports, aircraft and scheduled flights (see seed.py)."""
