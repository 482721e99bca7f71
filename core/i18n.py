"""Every traveller-facing string goes through gettext here; the locale is chosen per update.

`_("Where to?")` translates now, in the locale of the update being handled (a context variable, so
concurrent updates of different travellers never mix). `N_()` only marks a module-level constant for
extraction: translate it with `_()` where it is shown. Catalogues are `locales/<locale>/LC_MESSAGES/flyo.po`,
compiled in memory on first use (no binary .mo in git); `make i18n` extracts `locales/flyo.pot` with Babel.
English is the source language and needs no catalogue.
"""

from __future__ import annotations

import functools
import gettext
import inspect
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar, cast

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "flyo"
DEFAULT_LOCALE = "en"

F = TypeVar("F", bound=Callable[..., Any])
_current: ContextVar[str] = ContextVar("flyo_locale", default=DEFAULT_LOCALE)
_catalogues: dict[str, gettext.NullTranslations] = {}
_installed: set[str] = set()  # locales given a catalogue in memory (tests' pseudo-locale)


def _po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def available_locales() -> list[str]:
    """The source language plus every locale with a catalogue."""
    found = sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    extra = sorted(_installed - set(found))
    return [DEFAULT_LOCALE, *[code for code in [*found, *extra] if code != DEFAULT_LOCALE]]


def pick_locale(language_code: str | None) -> str:
    """Telegram's `language_code` ("pt-br", "en", None) → a locale we have, else English."""
    if not language_code:
        return DEFAULT_LOCALE
    wanted = language_code.replace("-", "_").lower()
    have = {code.lower(): code for code in available_locales()}
    return have.get(wanted) or have.get(wanted.split("_")[0]) or DEFAULT_LOCALE


def _load(locale: str) -> gettext.NullTranslations:
    path = _po_path(locale)
    if locale == DEFAULT_LOCALE or not path.exists():
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with path.open("rb") as source:
        catalogue = read_po(source, locale=locale, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def translations(locale: str | None = None) -> gettext.NullTranslations:
    code = locale or _current.get()
    found = _catalogues.get(code)
    if found is None:
        found = _catalogues[code] = _load(code)
    return found


def install(locale: str, catalogue: gettext.NullTranslations) -> None:
    """Use `catalogue` for `locale` (tests install a pseudo-locale to find untranslated text)."""
    _catalogues[locale] = catalogue
    _installed.add(locale)


def uninstall(locale: str) -> None:
    _catalogues.pop(locale, None)
    _installed.discard(locale)


def current_locale() -> str:
    return _current.get()


def set_locale(locale: str) -> None:
    """The language of the rest of this task: one update, since PTB handles each update in its own task."""
    _current.set(locale)


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    token = _current.set(locale)
    try:
        yield
    finally:
        _current.reset(token)


def in_booking_language(method: F) -> F:
    """For a method that tells a traveller about their booking outside their own update (a webhook, a sweep, an
    admin's action): its texts in the language the booking was made in — the `locale` of its first argument that
    has one (the booking). Sync and async methods alike; a booking without a locale speaks English."""
    def language(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        for value in (*args[1:], *kwargs.values()):
            found = getattr(value, "locale", None)
            if isinstance(found, str):
                return found or DEFAULT_LOCALE
        return DEFAULT_LOCALE

    if inspect.iscoroutinefunction(method):
        @functools.wraps(method)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            with use_locale(language(args, kwargs)):
                return await method(*args, **kwargs)
        return cast(F, run_async)

    @functools.wraps(method)
    def run(*args: Any, **kwargs: Any) -> Any:
        with use_locale(language(args, kwargs)):
            return method(*args, **kwargs)
    return cast(F, run)


def _(message: str) -> str:
    return translations().gettext(message)


def translate(message_id: str) -> str:
    """A message id held in a variable (a label in data, a table entry), marked with N_() where it is defined."""
    return translations().gettext(message_id)


def ngettext(singular: str, plural: str, count: int) -> str:
    return translations().ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Mark for extraction only; the caller translates with `_()` when showing it."""
    return message
