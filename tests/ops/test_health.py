"""GET /healthz as a load balancer and an operator see it (503 during an outage: test_outage.py)."""

from __future__ import annotations

import json
from typing import Any

from core.version import __version__
from tests.ops.helpers import http


async def test_healthz_reports_database_version_and_uptime(bot: Any) -> None:
    status, headers, body = await http("GET", f"{bot.url}/healthz")
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    report = json.loads(body)
    assert report["status"] == "ok"
    assert report["database"] == "up"
    assert report["version"] == __version__
    assert isinstance(report["uptime_seconds"], float) and report["uptime_seconds"] >= 0
