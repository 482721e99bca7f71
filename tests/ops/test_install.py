"""FlyO installed as a package, outside the source tree (issue #21, part 3): `pip install .` into a directory of
its own, then `python -m bot --help` and `python -m bot seed` run from another directory with only that install
on the path (the dependencies from this venv) — the package data is there: the Mini Apps' pages, the e-ticket
fonts, the translations. (What the Dockerfile's install does, without a container engine.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow  # a package build and a seed of the embedded database (≈ 15 s)

CHECK = """
from importlib import resources
import bot, core.i18n as i18n
assert bot.__file__.startswith({site!r}), bot.__file__
for package, name in [("miniapp", "static/seats.html"), ("miniapp", "static/seats.js"),
                      ("miniapp", "static/dashboard.html"), ("locales", "de/LC_MESSAGES/flyo.po"),
                      ("locales", "es/LC_MESSAGES/flyo.po")]:
    assert resources.files(package).joinpath(name).is_file(), (package, name)
assert any(resources.files("services.tickets").joinpath("fonts").iterdir())
assert set(i18n.available_locales()) == {{"en", "es", "de"}}, i18n.available_locales()
with i18n.use_locale("de"):
    assert i18n._("Choose your seats") == "Sitzplätze wählen"
print("ok")
"""


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 180) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args} → {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout


def _source_copy(target: Path) -> Path:
    """What a build reads, copied: building in the tree itself would leave build/ and *.egg-info in it."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, target / name)
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    for pattern in project["tool"]["setuptools"]["packages"]["find"]["include"]:  # "core*" → core/
        package = pattern.rstrip("*")
        shutil.copytree(REPO_ROOT / package, target / package, ignore=ignore)
    return target


def test_installed_outside_the_tree_it_runs_with_its_package_data(tmp_path: Path) -> None:
    site, elsewhere, source = tmp_path / "site", tmp_path / "elsewhere", tmp_path / "source"
    elsewhere.mkdir()
    source.mkdir()
    _run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
          "--target", str(site), str(_source_copy(source))], cwd=tmp_path, env=dict(os.environ), timeout=300)
    assert not (site / "tests").exists(), "the tests were installed with the package"
    # Only the install on the path (not the source tree: the working directory is elsewhere), no FlyO settings.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "PYTHONPATH": str(site),
           "DATA_DIR": str(tmp_path / "data"), "LANG": "C.UTF-8"}
    assert "usage: python -m bot" in _run([sys.executable, "-m", "bot", "--help"], cwd=elsewhere, env=env)
    assert _run([sys.executable, "-c", CHECK.format(site=str(site))], cwd=elsewhere, env=env).strip() == "ok"
    seeded = _run([sys.executable, "-m", "bot", "seed"], cwd=elsewhere, env=env, timeout=300)
    assert "seeded:" in seeded and "flights" in seeded
