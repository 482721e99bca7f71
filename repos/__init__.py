"""Repositories: every database query FlyO makes, one class per area, between models and services.

Services decide (rules, money, messages) and call named operations here (`claim`, `transfer_holds`,
`confirm`, `claim_attempt`, `claim_notification`, ...); a repository knows collections, filters, indexes
and the nx-27017 workarounds (README, Database), each commented where it is used. Repositories hold no
state (Beanie's models are bound once at start-up), take times as arguments (`now_ms`) instead of reading
a clock, and answer with models, plain values or "did it change" booleans — never domain errors.
"""
