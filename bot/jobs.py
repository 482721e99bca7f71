"""Scheduled jobs through python-telegram-bot's JobQueue (APScheduler 3): one periodic sweep.

The sweep reads the database each time, so nothing is lost on restart, and claims every unit of
work with a conditional update, so replicas may run it at the same moment (services.sweeps).
"""

from __future__ import annotations

import logging
from typing import Any

from handlers.context import FlyOContext
from services.metrics import JOB_RUNS, job_timer

log = logging.getLogger(__name__)


async def sweep(context: FlyOContext) -> None:
    sweeper = context.bot_data.services.sweeper
    if sweeper is None:
        return
    try:
        with job_timer("sweep"):
            report = await sweeper.run()
    except Exception:
        log.warning("sweep failed; the next run will pick the work up", exc_info=True)
        return
    if any(vars(report).values()):
        log.info("sweep: %s", report)


def schedule(app: Any, interval_seconds: int) -> None:
    if app.job_queue is None:
        raise RuntimeError("python-telegram-bot's job-queue extra is not installed")
    app.job_queue.run_repeating(sweep, interval=interval_seconds, first=interval_seconds / 2, name="sweep",
                                job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": 30})


__all__ = ["JOB_RUNS", "schedule", "sweep"]
