"""Every translatable string can be translated: literal msgids with named placeholders, extraction works,
catalogues compile, and the locale is per update (a context variable), never global."""

from __future__ import annotations

import ast
import asyncio
import re
import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import write_po

from core import i18n
from core.i18n import _, ngettext, pick_locale, use_locale

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("core", "models", "repos", "services", "handlers", "webhooks", "bot")
GETTEXT_CALLS = {"_": 1, "N_": 1, "ngettext": 2}


def _product_files() -> list[Path]:
    return sorted(p for package in PRODUCT for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


def _gettext_calls() -> list[tuple[str, ast.Call]]:
    found = []
    for path in _product_files():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in GETTEXT_CALLS:
                found.append((f"{path.relative_to(ROOT)}:{node.lineno}", node))
    return found


def _fields(message: str) -> set[str]:
    return {name for _text, name, _spec, _conv in string.Formatter().parse(message) if name is not None}


def test_msgids_are_literal_strings_with_named_placeholders() -> None:
    """An f-string or variable inside _() can't be extracted; "{}" or "{0}" can't be reordered by translators."""
    problems = []
    calls = _gettext_calls()
    for where, call in calls:
        function = call.func.id if isinstance(call.func, ast.Name) else ""
        texts = call.args[: GETTEXT_CALLS[function]]
        for arg in texts:
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                if function == "_" and isinstance(arg, ast.Name) and arg.id.isupper():
                    continue  # _(CONSTANT): the constant itself is marked with N_()
                problems.append(f"{where}: not a literal string")
                continue
            for name in _fields(arg.value):
                if not re.fullmatch(r"[a-z_][a-z0-9_]*", name.split(".")[0].split("[")[0]):
                    problems.append(f"{where}: placeholder {{{name}}} must be named")
        if function == "ngettext" and all(isinstance(a, ast.Constant) for a in texts):
            singular, plural = (a.value for a in texts)  # type: ignore[attr-defined]
            if _fields(singular) - _fields(plural):
                problems.append(f"{where}: the plural form lacks placeholders of the singular")
    assert len(calls) > 50, "gettext calls were not found: the walk is broken"
    assert not problems, "\n".join(problems)


def test_babel_extracts_the_catalogue_template() -> None:
    """What `make i18n` does: every marked string lands in the template translators start from."""
    messages = {
        message if isinstance(message, str) else message[0]
        for package in PRODUCT
        for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT / package))
    }
    assert "Seat {seat} was just taken by another traveller." in messages
    assert "within {minutes} minute (by {clock} {city} time)" in messages  # ngettext: the singular is the key
    assert "Refunds usually reach your card within 5–10 business days." in messages  # N_() constant
    assert len(messages) > 50


def _write_catalogue(directory: Path, locale: str, translations: dict[str | tuple[str, str], str | tuple[str, ...]]
                     ) -> None:
    catalogue = Catalog(locale=locale, domain=i18n.DOMAIN)
    for msgid, msgstr in translations.items():
        catalogue.add(msgid, msgstr)
    target = directory / locale / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / f"{i18n.DOMAIN}.po").open("wb") as out:
        write_po(out, catalogue)


def test_a_po_catalogue_is_compiled_and_used_in_its_locale_only(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _write_catalogue(tmp_path, "de", {
        "Seat {seat} was just taken by another traveller.": "Sitz {seat} wurde gerade vergeben.",
        ("{count} hour", "{count} hours"): ("{count} Stunde", "{count} Stunden"),
    })
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    monkeypatch.setattr(i18n, "_catalogues", {})
    assert i18n.available_locales() == ["en", "de"]
    assert pick_locale("de-AT") == "de" and pick_locale("fr") == "en" and pick_locale(None) == "en"
    with use_locale("de"):
        seat_taken = _("Seat {seat} was just taken by another traveller.").format(seat="3C")
        assert seat_taken == "Sitz 3C wurde gerade vergeben."
        assert ngettext("{count} hour", "{count} hours", 1) == "{count} Stunde"
        assert ngettext("{count} hour", "{count} hours", 5) == "{count} Stunden"
        assert _("Not in the catalogue") == "Not in the catalogue"  # untranslated: the English source
    assert _("Seat {seat} was just taken by another traveller.").startswith("Seat")


async def test_the_locale_belongs_to_one_update_not_the_process(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Two travellers handled concurrently each see their own language (a global would leak between them)."""
    _write_catalogue(tmp_path, "de", {"Where to?": "Wohin?"})
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    monkeypatch.setattr(i18n, "_catalogues", {})
    seen: dict[str, str] = {}

    async def traveller(name: str, locale: str) -> None:
        with use_locale(locale):
            await asyncio.sleep(0)  # let the other traveller run in between
            seen[name] = _("Where to?")

    await asyncio.gather(traveller("hans", "de"), traveller("ada", "en"))
    assert seen == {"hans": "Wohin?", "ada": "Where to?"}


@pytest.mark.parametrize("code", ["", "zz", "en-GB", "x" * 4000, "../../etc/passwd"])
def test_odd_language_codes_fall_back_to_english(code: str) -> None:
    assert pick_locale(code) == "en"
