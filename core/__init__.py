"""FlyO's kernel: settings, version, clock, domain errors and the database handle. Imports nothing of FlyO.

Every other package builds on it (core ← models ← repos ← services ← handlers / webhooks ← bot);
tests/test_architecture.py keeps the direction.
"""
