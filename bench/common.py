"""Shared benchmark plumbing: statistics, the results table, the database and data directory of a run.

Why ratios: on a shared 2-core machine absolute numbers move by tens of percent between runs, while
FlyO and a baseline measured minutes apart in the same process on the same machine move together.
So every row carries a baseline from the same run, and the table reports FlyO against it.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.db import open_database
from core.database import Database

BENCH_DIR = Path(__file__).resolve().parent
WORK_DIR = BENCH_DIR / ".work"  # git-ignored: cached seeded databases and scratch data directories
REPO_ROOT = BENCH_DIR.parent


# ---- configuration ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class BenchConfig:
    """What a run was asked for; scenarios scale their sizes with `quick` and repeat `reps` times."""

    quick: bool = False
    reps: int = 3
    mongo_uri: str = ""  # MONGODB_URI: a real mongod instead of the embedded nx-27017
    work_dir: Path = WORK_DIR
    keep: bool = False  # keep the per-run data directories (logs, outbox) for inspection

    def size(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    @property
    def database_label(self) -> str:
        return f"MongoDB at MONGODB_URI ({uri_hosts(self.mongo_uri)})" if self.mongo_uri else "embedded nx-27017"


def uri_hosts(uri: str) -> str:
    """The hosts of a MongoDB URI as written (`mongodb://user:pw@h1:27017,h2/db?x` → `h1:27017,h2`) — never its
    user name or password (the table is committed); no DNS look-up for mongodb+srv."""
    scheme, sep, rest = uri.partition("://")
    if not sep or not scheme.startswith("mongodb"):
        return "hosts unknown"
    hosts = rest.split("/", 1)[0].split("?", 1)[0].rpartition("@")[2]
    return hosts or "hosts unknown"


class CorrectnessError(AssertionError):
    """A correctness column broke (a double-booked seat, a second confirmation...): the run must fail."""


# ---- statistics ---------------------------------------------------------------------------------------
def percentile(values: Sequence[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), so small samples don't jump."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * pct / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Latency:
    """p50/p95/p99 of one repetition, in milliseconds."""

    p50: float
    p95: float
    p99: float
    count: int

    @classmethod
    def of_seconds(cls, samples: Sequence[float]) -> Latency:
        ms = [s * 1000.0 for s in samples]
        return cls(percentile(ms, 50), percentile(ms, 95), percentile(ms, 99), len(ms))


@dataclass(frozen=True)
class Summary:
    """A metric over repetitions: the median is reported, min–max is the spread."""

    values: tuple[float, ...]

    @classmethod
    def of(cls, values: Iterable[float]) -> Summary:
        vals = tuple(values)
        if not vals:
            raise ValueError("no repetitions to summarise")
        return cls(vals)

    @property
    def median(self) -> float:
        return float(statistics.median(self.values))

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    @property
    def spread_pct(self) -> float:
        """(max − min) / median, in percent: how far apart the repetitions were."""
        med = self.median
        return (self.high - self.low) / med * 100.0 if med else 0.0

    def show(self, unit: str = "", digits: int = 1) -> str:
        """`123.4 ms (±3%)` — the median and the half-range of the repetitions relative to it."""
        return f"{fmt(self.median, digits)}{unit} (±{self.spread_pct / 2:.0f}%)"


def summarise(reps: Sequence[Any], key: Callable[[Any], float]) -> Summary:
    return Summary.of(key(r) for r in reps)


def fmt(value: float, digits: int = 1) -> str:
    if math.isnan(value):
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


# ---- results ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    """A correctness column: must hold in every repetition or the run fails."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Row:
    """One line of the table. `status`: "pass" / "MISS" against the goal, or "info" for report-only rows."""

    scenario: str
    metric: str
    goal: str
    measured: str
    baseline: str
    ratio: str
    correctness: str
    status: str


@dataclass
class ScenarioResult:
    name: str
    rows: list[Row] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(name, ok, detail))

    def correctness_text(self) -> str:
        if not self.checks:
            return "—"
        failed = self.failed_checks
        if failed:
            return "**FAILED**: " + "; ".join(f"{c.name}: {c.detail}" for c in failed)
        # One line per distinct check name: the first measured run's detail stands for all (they all passed).
        first: dict[str, str] = {}
        for c in self.checks:
            first.setdefault(c.name, c.detail)
        runs = max(Counter(c.name for c in self.checks).values())
        return f"✔ {'; '.join(first.values())}" + (f" (checked in each of {runs} runs)" if runs > 1 else "")


def status_for(passed: bool) -> str:
    return "pass" if passed else "MISS"


def machine_info() -> dict[str, str]:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0
    cpu_model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": f"{os.cpu_count()} (usable: {affinity})",
        "cpu_model": cpu_model or platform.processor() or "unknown",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
    }


def render_table(results: Sequence[ScenarioResult], config: BenchConfig, total_seconds: float) -> str:
    info = machine_info()
    lines = [
        "# FlyO benchmarks",
        "",
        f"- Machine: {info['cpus']} CPUs, {info['cpu_model']}; {info['platform']}",
        f"- Python: {info['python']}; database: {config.database_label}",
        f"- Run: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, {'quick' if config.quick else 'full'} mode, "
        f"{config.reps} repetitions after a warm-up; total {total_seconds:.0f} s",
        "- Measured = median over repetitions (±half the min–max range, relative). Ratio = FlyO ÷ the baseline "
        "measured in the same run (for latencies: how many times the baseline's); see bench/README.md.",
        "",
        "| Scenario | Metric | Goal | Measured | Baseline (same run) | Ratio | Correctness | Result |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        if result.error is not None:
            lines.append(f"| {result.name} | — | — | — | — | — | **ERROR**: {_cell(result.error)} | FAIL |")
            continue
        for row in result.rows:
            status = "FAIL" if result.failed_checks else row.status
            cells = [row.scenario, row.metric, row.goal, row.measured, row.baseline, row.ratio,
                     row.correctness, status]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    notes = [(r.name, n) for r in results for n in r.notes]
    if notes:
        lines += ["", "Notes:", ""]
        lines += [f"- **{name}**: {note}" for name, note in notes]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# ---- process and environment --------------------------------------------------------------------------
def rss_bytes(pid: int | str = "self") -> int:
    """Resident set size from /proc/<pid>/status (VmRSS, kB) — what the kernel charges the process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS in /proc/{pid}/status")


def quiet_product_logging(data_dir: Path) -> None:
    """Log like production (INFO, redacting filter, rotating file in DATA_DIR) but not to the console.

    The product's own logging is part of its cost, so it stays on; the console stays readable.
    """
    from bot.logs import setup_logging

    setup_logging("INFO", "text", data_dir, console=False)


@contextlib.contextmanager
def scratch_dir(config: BenchConfig, name: str) -> Any:
    """A fresh DATA_DIR under bench/.work/runs/ (removed afterwards unless --keep)."""
    root = config.work_dir / "runs"
    root.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=root))
    try:
        yield path
    finally:
        _close_file_handlers()
        if not config.keep:
            shutil.rmtree(path, ignore_errors=True)


def _close_file_handlers() -> None:
    # The rotating log file lives in the scratch directory: close it before the directory goes.
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, logging.FileHandler):
            handler.close()
            root.removeHandler(handler)


@contextlib.asynccontextmanager
async def bench_database(config: BenchConfig, data_dir: Path, name: str = "flyo_bench") -> AsyncIterator[Database]:
    """The product's database path: `open_database` starts the embedded nx-27017 in `data_dir` (or uses
    MONGODB_URI, where the bench's database is dropped afterwards)."""
    database = await open_database(config.mongo_uri, name, data_dir)
    try:
        yield database
    finally:
        if config.mongo_uri:
            with contextlib.suppress(Exception):
                await database.client.drop_database(name)
        await database.close()


class Timer:
    """`with Timer() as t: ...; t.seconds` — perf_counter, the clock meant for intervals."""

    def __init__(self) -> None:
        self.started = 0.0
        self.seconds = 0.0

    def __enter__(self) -> Timer:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started


def progress(message: str) -> None:
    """One line on stderr so a long run shows it is alive; the table goes to stdout."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---- database state ------------------------------------------------------------------------------------
INVENTORY_COLLECTIONS = frozenset({"airports", "aircraft_types", "flights"})


async def clear_state() -> None:
    """Empty everything but the seeded inventory, so each repetition starts from the same database."""
    from models import ALL_DOCUMENTS

    for model in ALL_DOCUMENTS:
        coll = model.get_pymongo_collection()  # type: ignore[attr-defined]
        if coll.name not in INVENTORY_COLLECTIONS:
            await coll.delete_many({})


async def ensure_small_inventory(days: int = 30) -> None:
    """The tests' inventory (30 days of the network, ~16k flights): enough routes and seats for the runs."""
    from core.clock import Clock
    from services.inventory.seed import inventory_is_empty, seed_inventory

    if await inventory_is_empty():
        await seed_inventory(Clock(), days=days)


# ---- where the time goes --------------------------------------------------------------------------------
def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads) from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU used by this process and by the embedded database server over a block, as shares of one core.

    On a 2-core machine this says what saturates: ~100% here means the Python process (bot, fakes,
    clients) is the bottleneck; the database process near 100% means the embedded server is.
    """

    def __init__(self, database: Database | None) -> None:
        embedded = database.embedded if database is not None else None
        self.db_pid = embedded.process.pid if embedded is not None and embedded.process is not None else None
        self.wall = self.own = self.db = 0.0

    def _read(self) -> tuple[float, float, float]:
        db = _cpu_seconds(self.db_pid) if self.db_pid else 0.0
        return time.perf_counter(), _cpu_seconds(os.getpid()), db

    def __enter__(self) -> CpuMeter:
        self._start = self._read()
        return self

    def __exit__(self, *exc: object) -> None:
        end = self._read()
        self.wall, self.own, self.db = (b - a for a, b in zip(self._start, end, strict=True))

    @property
    def own_share(self) -> float:
        return self.own / self.wall * 100 if self.wall else math.nan

    @property
    def db_share(self) -> float:
        return self.db / self.wall * 100 if self.wall and self.db_pid else math.nan


def cpu_note(meters: Sequence[CpuMeter], what: str) -> str:
    own = statistics.median(m.own_share for m in meters)
    db = [m.db_share for m in meters if not math.isnan(m.db_share)]
    db_text = f", the database server {statistics.median(db):.0f}%" if db else ""
    return f"CPU during {what} (median, % of one core): this process {own:.0f}%{db_text}."
