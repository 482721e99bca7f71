"""The image holds everything FlyO runs: every package of the layers (tests/test_architecture.LAYERS) and the
translations. (No container engine here to build it; this reads the Dockerfile as a build would.)"""

from __future__ import annotations

import re
from pathlib import Path

from tests.test_architecture import LAYERS

ROOT = Path(__file__).resolve().parents[2]


def copied() -> set[str]:
    text = (ROOT / "Dockerfile").read_text()
    return {m[1].strip("./") for m in re.finditer(r"^COPY\s+(\S+)\s+\S+\s*$", text, re.MULTILINE)}


def test_the_image_copies_every_package_and_the_translations() -> None:
    missing = (set(LAYERS) | {"locales"}) - copied()
    assert not missing, f"the Dockerfile does not COPY {sorted(missing)}: the image would fail to import or speak"


def test_every_copied_path_exists() -> None:
    assert all((ROOT / path).exists() for path in copied())
