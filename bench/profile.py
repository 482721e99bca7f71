"""`python -m bench.profile [conversation|webhook|seat_race ...] [--quick]`: where a scenario's CPU time goes.

Runs the named scenarios exactly as `python -m bench` does (each module's `run(config)`, one process: the fake
Bot API, the simulated travellers, FlyO and the baseline) under cProfile (stdlib, deterministic), with one
profile per phase: the scenario module's FlyO-side round functions are wrapped (the module's globals, looked up
by `run()` at call time) so the profiler is on only while they run, and likewise for the baseline's rounds.
Setup (seeding, booking creation, checks) is not profiled. Self time per function is summed into buckets by the
function's file (FlyO's own packages, bench & test fakes, third-party packages by top-level name, asyncio,
other stdlib, C builtins) and written to bench/PROFILE.md (or --output).

cProfile's per-call hook inflates Python-heavy code relative to C code and the database server's own process
is not profiled at all (its CPU shows in `python -m bench`'s CPU note): read the shares, not the absolute times.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import importlib
import os
import pstats
import sys
import sysconfig
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import BENCH_DIR, REPO_ROOT, BenchConfig, machine_info, progress

FLYO_PACKAGES = ("bot", "core", "handlers", "models", "repos", "services", "webhooks")
FAKE_PACKAGES = ("bench", "tests")
NAMED_PACKAGES = {
    "telegram": "telegram", "aiohttp": "aiohttp", "multidict": "aiohttp", "yarl": "aiohttp",
    "aiosignal": "aiohttp", "frozenlist": "aiohttp", "pymongo": "pymongo", "gridfs": "pymongo",
    "bson": "bson", "beanie": "beanie", "pydantic": "pydantic", "pydantic_core": "pydantic",
    "httpx": "httpx/httpcore/anyio", "httpcore": "httpx/httpcore/anyio", "anyio": "httpx/httpcore/anyio",
    "h11": "httpx/httpcore/anyio", "sniffio": "httpx/httpcore/anyio", "stripe": "stripe",
}
ASYNCIO_STDLIB = ("asyncio", "selectors", "ssl", "socket")  # the event loop and its I/O
BUILTINS = "C builtins (~)"
OTHER_STDLIB = "other stdlib"
OTHER_THIRD_PARTY = "other third-party"
FLYO = "FlyO (bot, core, handlers, models, repos, services, webhooks)"
FAKES = "bench & test fakes (incl. the fake Bot API's server, bot/console)"

# scenario → phase → (wrapped function names, what one unit is, the result attribute that counts units)
PHASES: dict[str, dict[str, tuple[tuple[str, ...], str, str]]] = {
    "conversation": {"flyo": (("flyo_round",), "update", "updates"),
                     "baseline": (("echo_round",), "update", "updates")},
    "webhook": {"flyo": (("post_all", "process_inbox", "drain_outbox"), "post", "posts"),
                "baseline": (("floor_all",), "post", "posts")},
    "seat_race": {"flyo": (("race",), "tap", "taps"), "baseline": (("race",), "tap", "taps")},
}
SCENARIOS = tuple(PHASES)


# ---- bucketing --------------------------------------------------------------------------------------
def _stdlib_dirs() -> tuple[str, ...]:
    paths = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib")}
    return tuple(sorted(os.path.realpath(p) + os.sep for p in paths))


def bucket_of(filename: str, repo_root: Path = REPO_ROOT, stdlib: Sequence[str] | None = None) -> str:
    """The bucket of a function by its file, as pstats names it (`~` for C builtins)."""
    if filename == "~" or filename.startswith("<built-in"):
        return BUILTINS
    path = os.path.realpath(filename) if os.path.isabs(filename) else filename
    parts = Path(path).parts
    if "site-packages" in parts or "dist-packages" in parts:
        idx = max(i for i, p in enumerate(parts) if p in ("site-packages", "dist-packages"))
        top = parts[idx + 1].removesuffix(".py").split(".")[0] if len(parts) > idx + 1 else ""
        return NAMED_PACKAGES.get(top, OTHER_THIRD_PARTY)
    root = os.path.realpath(repo_root) + os.sep
    if path.startswith(root):
        inside = Path(path[len(root):]).parts
        top = inside[0]
        if inside[:2] == ("bot", "console"):  # the Bot API server the fake (tests/fakes/telegram.py) runs
            return FAKES
        if top in FLYO_PACKAGES:
            return FLYO
        if top in FAKE_PACKAGES:
            return FAKES
        return OTHER_THIRD_PARTY
    for lib in stdlib if stdlib is not None else _stdlib_dirs():
        if path.startswith(lib):
            top = Path(path[len(lib):]).parts[0].removesuffix(".py")
            if top in ASYNCIO_STDLIB:
                return "asyncio (+ selectors, ssl, socket)"
            if top == "json":
                return "json"
            return OTHER_STDLIB
    if filename.startswith("<frozen "):  # importlib, codecs, os… compiled into the interpreter
        return OTHER_STDLIB
    return OTHER_THIRD_PARTY


StatKey = tuple[str, int, str]


def _raw(stats: pstats.Stats) -> Mapping[StatKey, tuple[int, int, float, float, Any]]:
    return stats.stats  # type: ignore[attr-defined, no-any-return]


def buckets(stats: pstats.Stats, repo_root: Path = REPO_ROOT) -> dict[str, float]:
    """Self CPU seconds summed per bucket, largest first."""
    stdlib = _stdlib_dirs()
    out: dict[str, float] = defaultdict(float)
    for (filename, _line, _name), (_cc, _nc, tt, _ct, _callers) in _raw(stats).items():
        out[bucket_of(filename, repo_root, stdlib)] += tt
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def top_functions(stats: pstats.Stats, n: int = 25) -> list[tuple[str, float, float]]:
    """(file:line name, self s, cumulative s) of the n functions with the most self time."""
    rows = sorted(_raw(stats).items(), key=lambda kv: -kv[1][2])[:n]
    return [(f"{_short(fn)}:{line} {name}", tt, ct) for (fn, line, name), (_cc, _nc, tt, ct, _c) in rows]


def _short(filename: str) -> str:
    for marker in ("site-packages" + os.sep, str(REPO_ROOT) + os.sep):
        if marker in filename:
            return filename.split(marker, 1)[1]
    for lib in _stdlib_dirs():
        if filename.startswith(lib):
            return filename[len(lib):]
    return filename


# ---- profiling the phases ---------------------------------------------------------------------------
@dataclass
class Phase:
    unit: str
    # CPU time of this thread, not wall time: an await parked in epoll is not cost.
    profiler: cProfile.Profile = field(default_factory=lambda: cProfile.Profile(time.thread_time))
    units: int = 0
    calls: int = 0
    active: bool = False


@contextmanager
def _profiled(phase: Phase) -> Iterator[None]:
    if phase.active:  # nested call of a wrapped function: already on
        yield
        return
    phase.active = True
    phase.profiler.enable()
    try:
        yield
    finally:
        phase.profiler.disable()
        phase.active = False


def _wrap(func: Callable[..., Any], pick: Callable[[tuple[Any, ...], dict[str, Any]], Phase | None],
          count: str) -> Callable[..., Any]:
    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        phase = pick(args, kwargs)
        if phase is None:
            return await func(*args, **kwargs)
        with _profiled(phase):
            result = await func(*args, **kwargs)
        first = result[0] if isinstance(result, tuple) and result else result  # flyo_round → (Round, settings)
        phase.units += int(getattr(first, count, 0) or 0)
        phase.calls += count != "__none__"
        return result
    return wrapper


def instrument(name: str, module: Any) -> dict[str, Phase]:
    """Wrap the scenario module's round functions so each phase has its own profiler."""
    phases = {p: Phase(unit) for p, (_f, unit, _c) in PHASES[name].items()}
    if name == "seat_race":  # one race(), two kinds of tap: tag the tap builders' results
        for tag, builder in (("flyo", "product_tap"), ("baseline", "floor_tap")):
            original = getattr(module, builder)

            def tagged(*a: Any, _orig: Any = original, _tag: str = tag, **k: Any) -> Any:
                tap = _orig(*a, **k)
                return functools.partial(tap), _tag

            setattr(module, builder, tagged)
        race = module.race

        @functools.wraps(race)
        async def race_wrapper(n: int, free: Any, cap: int, tap: Any, seed: int) -> Any:
            fn, tag = tap
            with _profiled(phases[tag]):
                result = await race(n, free, cap, fn, seed)
            phases[tag].units += result.taps
            phases[tag].calls += 1
            return result

        module.race = race_wrapper
        return phases
    for phase_name, (funcs, _unit, count) in PHASES[name].items():
        for func_name in funcs:
            phase = phases[phase_name]
            unit_count = count if func_name == funcs[0] else "__none__"

            def pick(_a: tuple[Any, ...], _k: dict[str, Any], p: Phase = phase) -> Phase | None:
                return p

            setattr(module, func_name, _wrap(getattr(module, func_name), pick, unit_count))
    return phases


def profile_scenario(name: str, config: BenchConfig) -> tuple[dict[str, Phase], float, str]:
    module = importlib.import_module(f"bench.{name}")
    phases = instrument(name, module)
    started = time.perf_counter()
    error = ""
    try:
        result = asyncio.run(module.run(config))
        if result.failed_checks:
            error = "; ".join(f"{c.name}: {c.detail}" for c in result.failed_checks)
    except Exception as exc:  # reported in the profile; go on with the next scenario
        error = f"{type(exc).__name__}: {exc}"
    return phases, time.perf_counter() - started, error


# ---- the report -------------------------------------------------------------------------------------
def render_phase(scenario: str, phase_name: str, phase: Phase, top: int = 25) -> list[str]:
    stats = pstats.Stats(phase.profiler)
    per_bucket = buckets(stats)
    total = sum(per_bucket.values())
    units = phase.units
    lines = [f"### {scenario} — {phase_name}", "",
             f"{phase.calls} rounds (warm-up and solo rounds included), {units} {phase.unit}s; "
             f"profiled self CPU {total:.2f} s"
             + (f", {total / units * 1000:.3f} ms per {phase.unit}" if units else ""), "",
             f"| bucket | self CPU s | % of total | per {phase.unit} ms |", "|---|---:|---:|---:|"]
    for bucket, secs in per_bucket.items():
        pct = secs / total * 100 if total else 0.0
        per = f"{secs / units * 1000:.3f}" if units else "n/a"
        lines.append(f"| {bucket} | {secs:.2f} | {pct:.1f}% | {per} |")
    lines += ["", f"Top {top} functions by self time:", "",
              "| function | self s | cumulative s |", "|---|---:|---:|"]
    for label, tt, ct in top_functions(stats, top):
        lines.append(f"| `{label.replace('|', '/')}` | {tt:.3f} | {ct:.3f} |")
    return [*lines, ""]


def render(results: Sequence[tuple[str, dict[str, Phase], float, str]], config: BenchConfig, command: str) -> str:
    info = machine_info()
    lines = [
        "# FlyO bench — CPU profile", "",
        f"- Machine: {info['cpus']} CPUs, {info['cpu_model']}; {info['platform']}",
        f"- Python: {info['python']}; database: {config.database_label} (its server process is not profiled)",
        f"- Run: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, {'quick' if config.quick else 'full'} mode, "
        f"{config.reps} repetitions after a warm-up",
        f"- Command: `{command}`",
        "- cProfile (deterministic) on the bench process, switched on only inside each phase's rounds; "
        "CPU time of the thread (`time.thread_time`), so awaiting I/O costs nothing "
        "(`flyo` = FlyO's rounds, `baseline` = the baseline's). Self time per function summed by the "
        "function's file; cProfile's per-call overhead inflates call-heavy Python code, so read the shares.",
        "",
    ]
    for scenario, phases, seconds, error in results:
        lines += [f"## {scenario}", "", f"Scenario wall time {seconds:.0f} s under the profiler."
                  + (f" **Scenario error**: {error}" if error else ""), ""]
        for phase_name, phase in phases.items():
            lines += render_phase(scenario, phase_name, phase)
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n")[0])
    parser.add_argument("scenarios", nargs="*", help=f"which to profile (default: all): {', '.join(SCENARIOS)}")
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--output", type=Path, default=None,
                        help="default: bench/PROFILE.md (bench/.work/PROFILE.md with --quick)")
    args = parser.parse_args(argv)
    unknown = [s for s in args.scenarios if s not in SCENARIOS]
    if unknown:
        print(f"unknown scenario {unknown[0]!r}; choose from {', '.join(SCENARIOS)}", file=sys.stderr)
        return 2
    chosen = [s for s in SCENARIOS if s in args.scenarios] if args.scenarios else list(SCENARIOS)
    config = BenchConfig(quick=args.quick, reps=args.reps, mongo_uri=os.environ.get("MONGODB_URI", ""))
    results = []
    for name in chosen:
        progress(f"profiling {name}")
        results.append((name, *profile_scenario(name, config)))
    command = "python -m bench.profile " + " ".join(argv)
    output: Path = args.output or (BENCH_DIR / ".work" / "PROFILE.md" if args.quick else BENCH_DIR / "PROFILE.md")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render(results, config, command.strip()))
    progress(f"wrote {output}")
    return 1 if any(err for *_r, err in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
