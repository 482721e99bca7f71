"""Every text FlyO can show has its Spanish and German translation (issue #20), and each translation keeps what
the code fills in: the same {placeholders}, the same HTML tags, the same leading and trailing newlines. The
msgids are extracted from the code as `make i18n` does, so a new `_()` without a translation fails here."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from core.i18n import LOCALE_DIR

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "models", "repos", "services", "handlers", "webhooks", "miniapp", "bot")
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
TAG = re.compile(r"</?[a-z-]+(?:\s[^>]*)?>")
LOCALES = ("es", "de")


@cache
def extracted() -> dict[str, tuple[str, ...]]:
    """msgid → its forms (one, or singular and plural), from the code."""
    found: dict[str, tuple[str, ...]] = {}
    for package in PACKAGES:
        for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT / package)):
            forms = (message,) if isinstance(message, str) else tuple(m for m in message if m)
            found[forms[0]] = forms
    return found


@cache
def catalogue(locale: str) -> Catalog:
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "flyo.po").open("rb") as source:
        return read_po(source, locale=locale)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated(locale: str) -> None:
    missing = []
    for msgid in extracted():
        entry = catalogue(locale).get(msgid)
        strings = () if entry is None else entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if entry is None or entry.fuzzy or not strings or not all(strings):
            missing.append(msgid)
    assert not missing, f"{len(missing)} messages without a {locale} translation (make i18n, then translate): " \
                        f"{missing[:10]}"


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_placeholders_tags_and_newlines(locale: str) -> None:
    wrong = []
    for msgid, forms in extracted().items():
        entry = catalogue(locale).get(msgid)
        if entry is None:
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        for index, text in enumerate(str(form or "") for form in strings):
            source = forms[min(index, len(forms) - 1)]
            if set(PLACEHOLDER.findall(source)) != set(PLACEHOLDER.findall(text)):
                wrong.append(("placeholders", source, text))
            if sorted(TAG.findall(source)) != sorted(TAG.findall(text)):
                wrong.append(("tags", source, text))
            if source.endswith("\n") != text.endswith("\n") or source.startswith("\n") != text.startswith("\n"):
                wrong.append(("newlines", source, text))
    assert not wrong, wrong[:10]


@pytest.mark.parametrize("locale", LOCALES)
def test_the_catalogue_compiles_and_says_its_plural_rule(locale: str) -> None:
    import io

    from babel.messages.mofile import write_mo

    cat = catalogue(locale)
    assert cat.num_plurals == 2 and cat.plural_expr == "(n != 1)"
    write_mo(io.BytesIO(), cat)


def test_the_check_catches_a_lost_placeholder() -> None:
    assert set(PLACEHOLDER.findall("Booking {ref} is paid")) != set(PLACEHOLDER.findall("La reserva está pagada"))
