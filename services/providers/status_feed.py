"""Flight status feeds (issue #18): where reports come from besides the admins.

`StatusFeed` is what an adapter for a real status API (FlightAware, Cirium, an airline's own) implements: hand over
the reports that are due. `ScriptedFeed` is the simulated one, for the terminal chat and the tests: it replays a
scripted day, each line relative to the scheduled departure of the flights it names, as the sweep's clock reaches
it. A script (JSON, `FLIGHT_STATUS_FEED=scripted:<path>`):

    [{"flight": "FO280", "minutes": -180, "kind": "gate", "gate": "B32", "terminal": "5"},
     {"flight": "FO280", "minutes": -120, "kind": "delayed", "delay": 45, "reason": "late inbound aircraft"},
     {"flight": "FO280", "minutes": -30, "kind": "boarding", "gate": "B32"}]

`flight` is a flight number (of the local inventory, any day it flies); `minutes` is when the report happens,
relative to the scheduled departure; `delay` (for "delayed") is minutes after the schedule. Each report's key is
"scripted:<line>:<flight id>", so the replay is idempotent however often it is polled and by however many replicas.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from core.clock import as_utc, from_ms, to_ms
from core.config import ConfigError
from models.flight import Flight
from models.flight_status import FlightStatusKind
from repos.flights import FlightRepo

LOOK_AHEAD = timedelta(days=2)  # flights whose scripted day may have begun: departing within two days
MAX_LINES = 200

_flights = FlightRepo()


@dataclass(frozen=True)
class ScriptLine:
    flight: str  # "FO280"
    minutes: int
    kind: FlightStatusKind
    delay: int | None = None
    gate: str | None = None
    terminal: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class StatusUpdate:
    """One status report, from an admin or a feed. `key` makes it idempotent ("admin:<request>", "<feed>:<id>")."""

    key: str
    flight: Flight
    kind: FlightStatusKind
    at_ms: int
    source: str
    departs_ms: int | None = None
    arrives_ms: int | None = None
    gate: str | None = None
    terminal: str | None = None
    diverted_to: str | None = None
    reason: str = ""


class StatusFeed(Protocol):
    name: str

    async def due(self, now_ms: int) -> list[StatusUpdate]:
        """Reports whose time has come (a repeat of one already handed over is harmless: keys make it once)."""


def parse_script(raw: Any) -> list[ScriptLine]:
    """The script's lines; ConfigError naming the first wrong line."""
    if not isinstance(raw, list) or len(raw) > MAX_LINES:
        raise ConfigError(f"a status script is a JSON list of at most {MAX_LINES} lines")
    lines = []
    for number, item in enumerate(raw, start=1):
        try:
            kind = FlightStatusKind(str(item["kind"]))
            minutes = int(item["minutes"])
            delay = int(item["delay"]) if kind == FlightStatusKind.DELAYED else None
            if delay is not None and not 1 <= delay <= 48 * 60:
                raise ValueError("delay out of range")
            lines.append(ScriptLine(str(item["flight"]).strip().upper(), minutes, kind, delay,
                                    str(item["gate"])[:5] if item.get("gate") else None,
                                    str(item["terminal"])[:4] if item.get("terminal") else None,
                                    str(item.get("reason", ""))[:200]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"status script line {number} is not valid ({exc}): {item!r}") from None
    return lines


class ScriptedFeed:
    def __init__(self, lines: list[ScriptLine], name: str = "scripted") -> None:
        self.lines = lines
        self.name = name
        self._flights: dict[tuple[str, str], Flight | None] = {}
        self._handed: set[str] = set()  # keys handed over by this process (a restart hands them again: harmless)

    @classmethod
    def from_file(cls, path: Path) -> ScriptedFeed:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"FLIGHT_STATUS_FEED: cannot read the script {path}: {exc}") from None
        return cls(parse_script(raw))

    async def due(self, now_ms: int) -> list[StatusUpdate]:
        now = from_ms(now_ms)
        reports: list[StatusUpdate] = []
        days = [(now + timedelta(days=offset)).date().isoformat() for offset in (-1, 0, 1, 2)]
        for number in dict.fromkeys(line.flight for line in self.lines):
            for day in days:
                flight = await self._flight(number, day)
                if flight is not None:
                    reports += self._reports(flight, now)
        fresh = [r for r in reports if r.key not in self._handed]
        self._handed.update(r.key for r in fresh)
        return fresh

    async def _flight(self, number: str, day: str) -> Flight | None:
        """Inventory flights keep their schedule: each (number, day) is looked up once per process."""
        key = (number, day)
        if key not in self._flights:
            self._flights[key] = await _flights.numbered(number, day, local_only=True)
        return self._flights[key]

    def _reports(self, flight: Flight, now: datetime) -> list[StatusUpdate]:
        departs = as_utc(flight.departs_at)
        reports = []
        for number, line in enumerate(self.lines):
            at = departs + timedelta(minutes=line.minutes)
            if line.flight != flight.flight_number or at > now or departs + LOOK_AHEAD < now:
                continue
            shift = timedelta(minutes=line.delay or 0)
            reports.append(StatusUpdate(
                key=f"{self.name}:{number}:{flight.id}", flight=flight, kind=line.kind, at_ms=to_ms(at),
                source=self.name,
                departs_ms=to_ms(departs + shift) if line.delay else None,
                arrives_ms=to_ms(as_utc(flight.arrives_at) + shift) if line.delay else None,
                gate=line.gate, terminal=line.terminal, reason=line.reason))
        return reports
