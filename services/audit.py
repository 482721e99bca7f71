"""Audit trail: who did what, when, with which outcome (admin actions and refused attempts)."""

from __future__ import annotations

import logging

from core.clock import Clock
from models.ops import AuditEntry
from repos.audit import AuditRepo

log = logging.getLogger("flyo.audit")
_audit = AuditRepo()


async def audit(clock: Clock, actor_id: int, action: str, target: str, outcome: str, detail: str = "") -> None:
    await _audit.add(AuditEntry(actor_id=actor_id, action=action, target=target, outcome=outcome,
                                detail=detail[:500], at=clock.now()))
    log.info("audit: user %s %s %s → %s %s", actor_id, action, target, outcome, detail,
             extra={"booking": target or "-"})
