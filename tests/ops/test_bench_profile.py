"""bench.profile's bucketing: a tiny synthetic profile of functions in known files lands in the right buckets."""

from __future__ import annotations

import cProfile
import json
import pstats
import sysconfig
import time
from pathlib import Path

from bench import profile
from bench.common import REPO_ROOT


def _synthetic_stats(tmp_path: Path) -> pstats.Stats:
    """Profile a function of a FlyO package (services/) and one of a bench fake, each burning known CPU."""
    code = {
        "services/spin_here.py": "import time\ndef flyo_work(s):\n    end = time.thread_time() + s\n"
                                 "    while time.thread_time() < end:\n        pass\n",
        "tests/fakes_spin.py": "import time\ndef fake_work(s):\n    end = time.thread_time() + s\n"
                               "    while time.thread_time() < end:\n        pass\n",
    }
    namespaces: dict[str, dict[str, object]] = {}
    for rel, src in code.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(src)
        ns: dict[str, object] = {}
        exec(compile(src, str(path), "exec"), ns)  # our own two-line test modules
        namespaces[rel] = ns
    prof = cProfile.Profile(time.thread_time)
    prof.enable()
    namespaces["services/spin_here.py"]["flyo_work"](0.06)  # type: ignore[operator]
    namespaces["tests/fakes_spin.py"]["fake_work"](0.02)  # type: ignore[operator]
    json.dumps({"a": [1, 2, 3]})
    prof.disable()
    return pstats.Stats(prof)


def test_buckets_of_a_synthetic_profile(tmp_path: Path) -> None:
    stats = _synthetic_stats(tmp_path)
    got = {}
    for (filename, _line, _name) in stats.stats:  # type: ignore[attr-defined]
        got[filename] = profile.bucket_of(filename, repo_root=tmp_path)
    per_bucket = profile.buckets(stats, repo_root=tmp_path)
    assert got[str(tmp_path / "services/spin_here.py")] == profile.FLYO
    assert got[str(tmp_path / "tests/fakes_spin.py")] == profile.FAKES
    assert profile.BUILTINS in per_bucket  # time.thread_time is a C builtin
    assert any(b == "json" for b in got.values())
    # The CPU burnt in each file's function is in its bucket (self time; the loop's calls are builtins).
    assert per_bucket[profile.FLYO] > per_bucket[profile.FAKES] > 0
    assert list(per_bucket.values()) == sorted(per_bucket.values(), reverse=True)
    top = profile.top_functions(stats, 3)
    assert len(top) == 3 and top[0][1] >= top[1][1] >= top[2][1]


def test_bucket_of_known_paths() -> None:
    stdlib = sysconfig.get_paths()["stdlib"]
    root = REPO_ROOT
    site = "/venv/lib/python3.11/site-packages"
    cases = {
        "~": profile.BUILTINS,
        f"{site}/telegram/_bot.py": "telegram",
        f"{site}/pymongo/asynchronous/pool.py": "pymongo",
        f"{site}/bson/__init__.py": "bson",
        f"{site}/pydantic_core/core_schema.py": "pydantic",
        f"{site}/httpcore/_async/connection.py": "httpx/httpcore/anyio",
        f"{site}/multidict/_multidict_py.py": "aiohttp",
        f"{site}/somethingelse/x.py": profile.OTHER_THIRD_PARTY,
        f"{stdlib}/asyncio/base_events.py": "asyncio (+ selectors, ssl, socket)",
        f"{stdlib}/selectors.py": "asyncio (+ selectors, ssl, socket)",
        f"{stdlib}/json/encoder.py": "json",
        f"{stdlib}/logging/__init__.py": profile.OTHER_STDLIB,
        "<frozen importlib._bootstrap>": profile.OTHER_STDLIB,
        str(root / "handlers/flow.py"): profile.FLYO,
        str(root / "webhooks/stripe.py"): profile.FLYO,
        str(root / "bench/webhook.py"): profile.FAKES,
        str(root / "tests/fakes/telegram.py"): profile.FAKES,
        str(root / "bot/console/bot_api_core.py"): profile.FAKES,  # the fake Bot API's server, not the bot
        str(root / "bot/telegram_request.py"): profile.FLYO,
    }
    for filename, bucket in cases.items():
        assert profile.bucket_of(filename) == bucket, filename
