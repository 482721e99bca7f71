"""Audit trail (`audit`): append-only, one document per admin action or refused attempt."""

from __future__ import annotations

from models.ops import AuditEntry


class AuditRepo:
    async def add(self, entry: AuditEntry) -> None:
        await entry.insert()
