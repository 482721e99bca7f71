"""The run book's alerting rules (docs/prometheus-rules.yml) watch metrics FlyO really exports: every metric name
in an expression is registered in services.metrics (a renamed metric would silently never fire), and every alert
the rules define is explained in docs/operations.md."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from services.metrics import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "docs" / "prometheus-rules.yml"
SUFFIXES = ("_total", "_bucket", "_sum", "_count", "_created")


def exported() -> set[str]:
    names: set[str] = set()
    for family in REGISTRY.collect():
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
    return names


def test_every_metric_the_alerts_use_is_exported() -> None:
    used = set(re.findall(r"\bflyo_[a-z_]+\b", RULES.read_text()))
    assert used, "no FlyO metric in the rules"
    known = exported()
    missing = sorted(n for n in used if n not in known and not any(n.removesuffix(s) in known for s in SUFFIXES))
    assert not missing, f"the rules use metrics FlyO does not export: {missing}"


def test_every_alert_is_explained_in_the_run_book() -> None:
    alerts = re.findall(r"^\s*- alert: (\w+)", RULES.read_text(), re.MULTILINE)
    run_book = (ROOT / "docs" / "operations.md").read_text()
    assert len(alerts) >= 6
    assert [a for a in alerts if a not in run_book] == []


def test_the_check_catches_a_metric_that_does_not_exist() -> None:
    assert "flyo_no_such_metric_total" not in exported()


async def test_responses_are_counted_by_status_class_and_the_outbox_is_a_gauge(bot: Any) -> None:
    from tests.ops.helpers import http, sample

    before = sample("flyo_http_responses_total", status="4xx"), sample("flyo_http_responses_total", status="2xx")
    assert (await http("GET", f"{bot.url}/no-such-page"))[0] == 404
    assert (await http("GET", f"{bot.url}/healthz"))[0] == 200
    assert sample("flyo_http_responses_total", status="4xx") == before[0] + 1
    assert sample("flyo_http_responses_total", status="2xx") >= before[1] + 1
    status, _, body = await http("GET", f"{bot.url}/metrics")
    assert status == 200 and b'flyo_outbox{status="pending"}' in body and b'flyo_outbox{status="failed"}' in body
