"""FlyO installed as a package, outside the source tree (issue #21, part 3): `pip install .` of a copy of what a
build reads, then `python -m bot --help` and `python -m bot seed` run from another directory with only that install
on the path — the package data is there, byte for byte: the Mini Apps' pages, the e-ticket fonts, the translations
(and the inventory `seed` loads, the e-mail layouts, which are code).

Twice: into a directory of its own (`pip install --target`, the dependencies from this venv), and as the
Dockerfile does it — into a fresh venv, by a non-root user, the venv then read-only while FlyO runs from it (the
image's user cannot write its code either). When the tests run as root, that install switches to the user
`nobody` (setpriv, else runuser) and skips, saying why, when it cannot; as a non-root user it just runs. Offline
but for the build backend (setuptools) pip fetches from the package index: FlyO's dependencies are this venv's,
seen by the fresh venv through a .pth file, so pip resolves them against the pinned versions and installs none.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow  # a package build and a seed of the embedded database (≈ 15 s each)

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
CHECK = """
import hashlib, json, sys
from importlib import resources
import bot, core.i18n as i18n
site, manifest = sys.argv[1], json.loads(sys.argv[2])
assert bot.__file__.startswith(site), bot.__file__
for package, name, digest in manifest:
    data = resources.files(package).joinpath(name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == digest, (package, name)
assert set(i18n.available_locales()) == {"en", "es", "de"}, i18n.available_locales()
with i18n.use_locale("de"):
    assert i18n._("Choose your seats") == "Sitzplätze wählen"
import services.email_layout, services.inventory.seed
print("ok")
"""
# Files the package data must include, whatever pyproject's patterns say.
EXPECTED = {("miniapp", "static/seats.html"), ("miniapp", "static/seats.js"), ("miniapp", "static/dashboard.html"),
            ("locales", "de/LC_MESSAGES/flyo.po"), ("locales", "es/LC_MESSAGES/flyo.po")}
# What pip needs from the environment to reach the package index as this process does.
PASSED_ON = ("PIP_", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
             "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")


def _run(args: Sequence[str], cwd: Path, env: dict[str, str], timeout: float = 180, user: Sequence[str] = ()) -> str:
    done = subprocess.run([*user, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args} → {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout


def _source_copy(target: Path, owner: tuple[int, int] | None = None) -> Path:
    """What a build reads, copied: building in the tree itself would leave build/ and *.egg-info in it. `owner`:
    the (uid, gid) the copy is handed to, as pip builds in it."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, target / name)
    for pattern in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]:  # "core*" → core/
        package = pattern.rstrip("*")
        shutil.copytree(REPO_ROOT / package, target / package, ignore=ignore)
    if owner is not None:
        for path in [target, *target.rglob("*")]:
            os.chown(path, *owner)
    return target


def _package_data() -> list[tuple[str, str, str]]:
    """(package, file inside it, sha256) of every file pyproject's package-data patterns match in the tree."""
    found = []
    for package, patterns in PYPROJECT["tool"]["setuptools"]["package-data"].items():
        base = REPO_ROOT.joinpath(*package.split("."))
        for path in sorted({p for pattern in patterns for p in base.glob(pattern)}):
            found.append((package, path.relative_to(base).as_posix(), hashlib.sha256(path.read_bytes()).hexdigest()))
    missing = EXPECTED - {(p, n) for p, n, _ in found}
    assert not missing, f"pyproject's package-data misses {sorted(missing)}"
    assert any(p == "services.tickets" and n.startswith("fonts/") for p, n, _ in found), "no e-ticket fonts"
    return found


def _exercise(python: str, site: Path, cwd: Path, env: dict[str, str], user: Sequence[str] = ()) -> None:
    """An installed FlyO, run from a directory that is not its source: --help, its package data, a seed."""
    assert "usage: python -m bot" in _run([python, "-m", "bot", "--help"], cwd, env, user=user)
    check = [python, "-c", CHECK, str(site), json.dumps(_package_data())]
    assert _run(check, cwd, env, user=user).strip() == "ok"
    seeded = _run([python, "-m", "bot", "seed"], cwd, env, timeout=300, user=user)
    assert "seeded:" in seeded and "flights" in seeded


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
    _exercise(sys.executable, site, elsewhere, env)


# ---- as the Dockerfile does it: a fresh venv, a non-root user ------------------------------------------------
def _non_root() -> tuple[list[str], tuple[int, int] | None]:
    """The command prefix that runs a program as a non-root user, and that user's (uid, gid) when it is another
    user than this process's: none of either when the tests do not run as root."""
    if os.geteuid() != 0:
        return [], None
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("the tests run as root and there is no user 'nobody' to install FlyO as")
    ids = (nobody.pw_uid, nobody.pw_gid)
    if setpriv := shutil.which("setpriv"):
        prefix = [setpriv, f"--reuid={ids[0]}", f"--regid={ids[1]}", "--clear-groups", "--"]
    elif runuser := shutil.which("runuser"):
        prefix = [runuser, "-u", "nobody", "--"]
    else:
        pytest.skip("the tests run as root and neither setpriv nor runuser is here to switch to a non-root user")
    done = subprocess.run([*prefix, "id", "-u"], capture_output=True, text=True, timeout=30)
    if done.returncode != 0 or done.stdout.strip() != str(ids[0]):
        pytest.skip(f"the tests run as root and `{prefix[0]}` cannot switch to nobody: {done.stderr.strip()[-300:]}")
    return prefix, ids


def _dependencies() -> str:
    """The directory FlyO's dependencies (and pip) are installed in for this process: this venv's site-packages."""
    return str(Path(aiohttp.__file__).resolve().parents[1])


def _python_for(user: list[str], scratch: Path, env: dict[str, str]) -> str:
    """A Python of this version that the user can run and that reads this venv's packages: this one, or the
    system's when this one lives where the user cannot reach (a pyenv under /root)."""
    version, deps = f"{sys.version_info.major}.{sys.version_info.minor}", _dependencies()
    # It must reach its own binary (pip runs it again for the build) and write where the install will go.
    probe = (f"import os, subprocess, sys; sys.path.insert(0, {deps!r}); import aiohttp, pydantic_core; "
             "assert os.access(os.path.realpath(sys.executable), os.X_OK); "
             "subprocess.run([sys.executable, '-c', ''], check=True); "
             f"open({str(scratch / 'probe')!r}, 'w').close(); print('%d.%d' % sys.version_info[:2])")
    candidates = [sys.executable, getattr(sys, "_base_executable", ""),
                  *(shutil.which(f"python{version}", path=d) for d in ("/usr/local/bin", "/usr/bin"))]
    for python in dict.fromkeys(c for c in candidates if c):
        done = subprocess.run([*user, python, "-c", probe], capture_output=True, text=True, env=env, timeout=60)
        if done.returncode == 0 and done.stdout.strip() == version:
            return python
    pytest.skip(f"no Python {version} that the non-root user can run with this venv's packages ({deps})")


@contextmanager
def _scratch(owner: tuple[int, int] | None) -> Iterator[Path]:
    """A temporary directory the user owns (pytest's tmp_path may be closed to it)."""
    path = Path(tempfile.mkdtemp(prefix="flyo-install-"))
    try:
        if owner is not None:
            os.chown(path, *owner)
        yield path
    finally:
        _set_writable(path, True)
        shutil.rmtree(path, ignore_errors=True)


def _set_writable(root: Path, writable: bool) -> None:
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink():
            mode = path.stat().st_mode
            path.chmod(mode | 0o200 if writable else mode & ~0o222)


def test_the_dockerfile_install_as_a_non_root_user_in_a_fresh_venv() -> None:
    user, owner = _non_root()
    with _scratch(owner) as tmp:
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp), "TMPDIR": str(tmp), "LANG": "C.UTF-8",
               **{k: v for k, v in os.environ.items() if k.startswith(PASSED_ON)}}
        python = _python_for(user, tmp, env)
        venv, elsewhere = tmp / "venv", tmp / "elsewhere"
        source = tmp / "source"
        source.mkdir()
        _source_copy(source, owner)
        _run([python, "-m", "venv", "--without-pip", str(venv)], tmp, env, user=user)
        # This venv's packages (pip and FlyO's pinned dependencies) behind the fresh venv's own site-packages.
        deps = _dependencies()
        link = f"import pathlib, sysconfig; p = sysconfig.get_paths()['purelib']; " \
               f"pathlib.Path(p, 'flyo-test-deps.pth').write_text({deps!r}); print(p)"
        site = Path(_run([str(venv / "bin" / "python"), "-c", link], tmp, env, user=user).strip())
        _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
              str(source)], tmp, env, timeout=300, user=user)
        installed = sorted(p.name for p in site.glob("*.dist-info"))
        assert [n.split("-")[0] for n in installed] == ["flyo"], f"pip installed more than FlyO: {installed}"
        assert not (site / "tests").exists(), "the tests were installed with the package"
        # As in the image: the code read-only, the data directory and the working directory elsewhere.
        _set_writable(venv, False)
        for directory in (elsewhere, tmp / "data"):
            directory.mkdir()
            if owner is not None:
                os.chown(directory, *owner)
        env |= {"PATH": f"{venv / 'bin'}:{env['PATH']}", "DATA_DIR": str(tmp / "data")}
        _exercise(str(venv / "bin" / "python"), site, elsewhere, env, user=user)
