"""`python -m bench [--quick] [scenario ...]`: run the benchmarks, print one Markdown table, save it.

Exit status: 0 when every correctness check held (a missed speed goal is reported, not fatal);
1 when a correctness check failed or a scenario crashed — the reason is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
import time
import traceback
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from bench.common import BENCH_DIR, WORK_DIR, BenchConfig, ScenarioResult, progress, render_table

SCENARIOS = ("conversation", "seat_race", "webhook", "search", "connections", "memory", "parse", "mongodb",
             "mini_app", "flood")


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("scenarios", nargs="*", metavar="scenario",
                        help=f"which to run (default: all): {', '.join(SCENARIOS)}")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run in well under a minute each")
    parser.add_argument("--reps", type=int, default=3, help="measured repetitions after the warm-up (default 3)")
    parser.add_argument("--output", type=Path, default=None,
                        help="where to save the table (default: bench/RESULTS.md for a full run of all "
                             "scenarios, else bench/.work/RESULTS.md)")
    parser.add_argument("--keep", action="store_true",
                        help="keep each scenario's data directory (logs, e-mails) under bench/.work/runs")
    return parser.parse_args(argv)


def run_scenario(name: str, config: BenchConfig) -> ScenarioResult:
    """Each scenario on its own event loop, so one's leftovers (tasks, clients) cannot slow the next."""
    module = importlib.import_module(f"bench.{name}")
    runner: Callable[[BenchConfig], Coroutine[Any, Any, ScenarioResult]] = module.run
    started = time.perf_counter()
    try:
        result = asyncio.run(runner(config))
    except Exception as exc:  # a crash is reported in the table and fails the run
        traceback.print_exc()
        result = ScenarioResult(name, error=f"{type(exc).__name__}: {exc}")
    result.seconds = time.perf_counter() - started
    progress(f"{name}: done in {result.seconds:.0f} s")
    return result


def main(argv: list[str]) -> int:
    args = _parse(argv)
    if args.reps < 1:
        print("--reps must be at least 1", file=sys.stderr)
        return 2
    unknown = [s for s in args.scenarios if s not in SCENARIOS]
    if unknown:
        print(f"unknown scenario {unknown[0]!r}; choose from {', '.join(SCENARIOS)}", file=sys.stderr)
        return 2
    chosen = [s for s in SCENARIOS if s in args.scenarios] if args.scenarios else list(SCENARIOS)
    config = BenchConfig(quick=args.quick, reps=args.reps, mongo_uri=os.environ.get("MONGODB_URI", "").strip(),
                         keep=args.keep)
    started = time.perf_counter()
    results = [run_scenario(name, config) for name in chosen]
    total = time.perf_counter() - started
    table = render_table(results, config, total)
    print(table)
    full_run = not args.quick and chosen == list(SCENARIOS)
    output: Path = args.output or (BENCH_DIR / "RESULTS.md" if full_run else WORK_DIR / "RESULTS.md")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(table, encoding="utf-8")
    progress(f"saved to {output} (total {total:.0f} s)")

    failures = [(r.name, r.error or "; ".join(f"{c.name}: {c.detail}" for c in r.failed_checks))
                for r in results if r.error or r.failed_checks]
    if failures:
        print("\nBENCHMARK FAILED — correctness broken:", file=sys.stderr)
        for name, why in failures:
            print(f"  {name}: {why}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
