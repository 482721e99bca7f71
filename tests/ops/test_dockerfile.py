"""The image holds everything FlyO runs: every package of the layers (tests/test_architecture.LAYERS) and the
translations, installed with `pip install .` into a venv with the lock's runtime pins and none of its dev tools,
and it runs as a non-root user. (No container engine here to build it; this reads the Dockerfile as a build
would. tests/ops/test_install.py runs the same install, as a non-root user, outside the source tree.)"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from tests.test_architecture import LAYERS

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def copied() -> set[str]:
    return {m[1].strip("./") for m in re.finditer(r"^COPY\s+(\S+)\s+\S+\s*$", DOCKERFILE, re.MULTILINE)}


def stages() -> list[str]:
    """The Dockerfile's build stages, each from its FROM line; the last one is the image."""
    return re.split(r"^(?=FROM\s)", DOCKERFILE, flags=re.MULTILINE)[1:]


def instructions(stage: str, name: str) -> list[str]:
    """Every `name` instruction of a stage, its continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", stage)
    return [m[1].strip() for m in re.finditer(rf"^{name}\s+(.*)$", joined, re.MULTILINE)]


def project_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def pinned(lines: list[str]) -> set[str]:
    return {project_name(line) for line in lines if line.strip() and not line.startswith("#")}


def test_the_image_copies_every_package_and_the_translations() -> None:
    missing = (set(LAYERS) | {"locales"}) - copied()
    assert not missing, f"the Dockerfile does not COPY {sorted(missing)}: the image would fail to import or speak"


def test_every_copied_path_exists() -> None:
    assert all((ROOT / path).exists() for path in copied())


def test_flyo_is_pip_installed_into_a_venv_and_the_image_holds_only_that_venv() -> None:
    build, image = stages()[0], stages()[-1]
    assert len(stages()) >= 2, "one stage: the image would carry the source tree next to the installed package"
    venv = re.search(r"python -m venv (\S+)", build)
    assert venv, "no venv in the build stage"
    runs = instructions(build, "RUN")
    assert any(re.search(r"\bpip install\b[^&;]*\s\.(\s|$)", run) for run in runs), "no `pip install .`"
    assert copied() >= {"pyproject.toml"}, "pip install . needs pyproject.toml"
    assert instructions(image, "COPY") == [f"--from=build {venv[1]} {venv[1]}"], "the image copies more than the venv"
    assert any(f"PATH={venv[1]}/bin:" in env for env in instructions(image, "ENV")), "the venv is not on PATH"
    assert instructions(image, "CMD") == ['["python", "-m", "bot"]']


def test_the_image_runs_as_a_non_root_user() -> None:
    image = stages()[-1]
    users = instructions(image, "USER")
    assert users, "no USER: the container would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), users[-1]
    last = {name: max(m.start() for m in re.finditer(rf"^{name}\s", image, re.MULTILINE)) for name in ("USER", "CMD")}
    assert last["USER"] < last["CMD"], "CMD comes before USER"
    created = f"--uid {user} " if user.isdigit() else f" {user}"
    assert any(r.startswith("useradd") and created in r for r in instructions(image, "RUN")), f"no useradd of {user}"
    assert re.search(r"chown\s+\S+\s+/data\b", image), "the user does not own /data"


def test_the_image_installs_the_locks_runtime_pins_and_no_dev_tool() -> None:
    marker = re.search(r"sed '/\^(.+?)/,\$d' requirements\.lock", DOCKERFILE)
    assert marker, "the Dockerfile does not cut the lock at its dev section"
    lock = (ROOT / "requirements.lock").read_text().splitlines()
    cut = [i for i, line in enumerate(lock) if line.startswith(marker[1])]
    assert len(cut) == 1, f"the lock has {len(cut)} lines starting {marker[1]!r}"
    runtime, dev = pinned(lock[: cut[0]]), pinned(lock[cut[0]:])
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not {project_name(r) for r in project["dependencies"]} - runtime, "a runtime dependency is not pinned"
    tools = {project_name(r) for r in project["optional-dependencies"]["dev"]}
    assert tools <= dev, f"dev tools pinned above the dev section (they would be in the image): {tools - dev}"
    assert not runtime & dev, f"pinned twice: {runtime & dev}"
