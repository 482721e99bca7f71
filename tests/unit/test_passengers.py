"""The passenger answers' pure functions: names capitalised as on a ticket, phone numbers, dates of birth."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.passengers import (
    BadAnswer,
    ambiguous_birth_date,
    capitalise_name,
    format_phone,
    parse_birth_date,
    parse_full_name,
    parse_phone,
)

TODAY = date(2026, 11, 28)


@pytest.mark.parametrize(("typed", "saved"), [
    ("josé müller-o'brien", "José Müller-O'Brien"),
    ("ADA LOVELACE", "Ada Lovelace"),
    ("ada lovelace", "Ada Lovelace"),
    ("ludwig van beethoven", "Ludwig van Beethoven"),
    ("maria de la cruz", "Maria de la Cruz"),
    ("MARIA DE LA CRUZ", "Maria De La Cruz"),  # typed in capitals: no case to keep, every word capitalised
    ("Van Morrison", "Van Morrison"),
    ("van morrison", "Van Morrison"),  # the first word is never a particle
    ("mcdonald smith", "Mcdonald Smith"),  # no Mc/Mac guessing: Macey and Mack are names too
    ("Ronald McDonald", "Ronald McDonald"),  # mixed case is the traveller's: kept
    ("danny DeVito", "Danny DeVito"),
    ("d'angelo o'neil", "D'Angelo O'Neil"),
    ("ngũgĩ wa thiong'o", "Ngũgĩ Wa Thiong'o"),  # an apostrophe after more than one letter: no capital after it
    ("jean-luc picard", "Jean-Luc Picard"),
    ("zoë łukasz", "Zoë Łukasz"),
    ("ŁUKASZ ŻÓŁW", "Łukasz Żółw"),
    ("王芳 李", "王芳 李"),
    ("ΣΟΦΙΑ ΠΑΠΑΔΟΠΟΥΛΟΣ", "Σοφια Παπαδοπουλος"),  # the final sigma written as ς
    ("ada o’brien", "Ada O’Brien"),  # the typographic apostrophe too
])
def test_names_are_capitalised_as_on_a_ticket(typed: str, saved: str) -> None:
    assert parse_full_name(typed) == saved


def test_name_typed_decomposed_is_accepted_and_composed() -> None:
    assert parse_full_name("zoe\u0308 lovelace") == "Zoë Lovelace"  # macOS keyboards send e + combining diaeresis


@pytest.mark.parametrize(("typed", "reason"), [
    ("Ada", "both the given name and the family name"),
    ("Ad4 Lovelace", "“Ad4” can't be part of a name"),
    ("Ada Love_lace", "can't be part of a name"),
    ("Ada --Lovelace", "can't be part of a name"),
    ("Ada Lovelace-", "can't be part of a name"),
    ("\u0301\u0301 Lovelace", "can't be part of a name"),
    ("   ", "full name as in the passport"),
    ("Ada " + "Lovelace" * 10, "longer than airlines accept (70 characters)"),
])
def test_bad_names_get_their_reason(typed: str, reason: str) -> None:
    with pytest.raises(BadAnswer) as bad:
        parse_full_name(typed)
    assert reason in str(bad.value)


def test_a_4_kb_name_is_refused_with_a_short_reply() -> None:
    with pytest.raises(BadAnswer, match="longer than airlines accept") as long:
        parse_full_name("Ada " + "Lovelace " * 455)
    with pytest.raises(BadAnswer, match="can't be part of a name") as bad:
        parse_full_name("Ada " + "#" * 4096)
    with pytest.raises(BadAnswer, match="both the given name") as one:
        parse_full_name("a" * 4096)
    assert all(len(str(e.value)) < 200 for e in (long, bad, one))


def test_two_hundred_combining_characters() -> None:
    with pytest.raises(BadAnswer, match="can't be part of a name") as alone:
        parse_full_name("\u0308" * 200 + " Lovelace")
    with pytest.raises(BadAnswer, match="longer than airlines accept") as on_a_letter:
        parse_full_name("Zo" + "\u0308" * 200 + " Lovelace")
    assert all(len(str(e.value)) < 200 for e in (alone, on_a_letter))


NAME_CHARS = st.characters(categories=("L", "M", "Nd", "Zs", "P", "S"), include_characters="'’- ")


def _only_case_changed(before: str, after: str) -> bool:
    return len(before) == len(after) and all(
        a == b or a.lower() == b.lower() or a.upper() == b.upper() for a, b in zip(before, after, strict=True))


@settings(max_examples=400)
@given(st.text(NAME_CHARS, max_size=40))
def test_capitalising_is_idempotent_and_only_changes_case(name: str) -> None:
    once = capitalise_name(name)
    assert capitalise_name(once) == once
    assert _only_case_changed(name, once)  # never drops, adds or replaces a character


@settings(max_examples=200)
@given(st.lists(st.text(st.characters(categories=("Ll", "Lu", "Lo")), min_size=1, max_size=12), min_size=2,
                max_size=4))
def test_every_accepted_name_is_saved_capitalised_and_stable(words: list[str]) -> None:
    typed = unicodedata.normalize("NFC", " ".join(words))  # as saved: 丽 (U+F9E9) is written 丽
    try:
        saved = parse_full_name(typed)
    except BadAnswer:
        return  # too long for a ticket
    assert parse_full_name(saved) == saved
    assert saved.casefold() == typed.casefold() or _only_case_changed(typed, saved)


@pytest.mark.parametrize(("typed", "stored", "shown"), [
    ("+44 20 7946 0958", "+442079460958", "+44 20 7946 0958"),
    ("442079460958", "+442079460958", "+44 20 7946 0958"),
    ("0044 20 7946 0958", "+442079460958", "+44 20 7946 0958"),
    ("+1 212 555 0100", "+12125550100", "+1 212 555 0100"),
    ("+1 (212) 555-0100", "+12125550100", "+1 212 555 0100"),
    ("+33 1 23 45 67 89", "+33123456789", "+33 1 23 45 67 89"),
])
def test_phone_numbers_stored_e164_and_shown_formatted(typed: str, stored: str, shown: str) -> None:
    assert parse_phone(typed) == stored
    assert format_phone(stored) == shown


def test_format_phone_leaves_what_it_cannot_read() -> None:
    assert format_phone("not a number") == "not a number"


@pytest.mark.parametrize(("typed", "reason"), [
    ("+1 555 0100", "+1 555 0100 has too few digits. After +1 (US/Canada) a number has 10 digits, e.g. +1 "),
    ("+1 212 555 01000", "has too many digits. After +1 (US/Canada) a number has 10 digits"),
    ("+44 20 7946", "has too few digits. After +44 (United Kingdom) a number has 9 to 10 digits, e.g. +44 "),
    ("+33 1 23", "has too few digits. After +33 (France) a number has 9 digits"),
    ("020 7946 0958", "without its country code"),
    ("+999 1234", "doesn't start with a country code I know"),
    ("12", "international format"),
    ("call me", "international format"),
    ("+" + "9" * 4096, "international format"),
])
def test_bad_phone_numbers_get_a_precise_reason(typed: str, reason: str) -> None:
    with pytest.raises(BadAnswer) as bad:
        parse_phone(typed)
    assert reason in str(bad.value)
    assert len(str(bad.value)) < 200


@pytest.mark.parametrize(("typed", "born"), [
    ("1990-12-13", date(1990, 12, 13)),
    ("13.12.1990", date(1990, 12, 13)),
    ("13/12/1990", date(1990, 12, 13)),
    ("1990/12/13", date(1990, 12, 13)),
    ("2026-11-28", TODAY),  # born today: an infant
    ("1906-11-28", date(1906, 11, 28)),  # exactly 120
])
def test_birth_dates(typed: str, born: date) -> None:
    assert parse_birth_date(typed, TODAY) == born


@pytest.mark.parametrize(("typed", "reason"), [
    ("12/13/1990", "13 is not a month: write it as 13.12.1990 or 1990-12-13."),
    ("1990-13-12", "13 is not a month: write it as 13.12.1990 or 1990-12-13."),
    ("31.02.1990", "31.02.1990 is not a date in the calendar: February 1990 has 28 days."),
    ("29.02.2000", None),
    ("30.02.2000", "February 2000 has 29 days"),
    ("31/13/1990", "31/13/1990 is not a date in the calendar: 13 is not a month."),
    ("00.01.1990", "January 1990 has 31 days"),
    ("0000-01-01", "there is no year 0"),
    ("2026-11-29", "can't be in the future"),
    ("1905-11-28", "older than 120"),  # 121 today
    ("1905-11-29", None),  # 120 today
    ("10 Dec", "YYYY-MM-DD or DD.MM.YYYY"),
    ("1" * 4096, "YYYY-MM-DD or DD.MM.YYYY"),
])
def test_bad_birth_dates_get_a_precise_reason(typed: str, reason: str | None) -> None:
    if reason is None:
        parse_birth_date(typed, TODAY)
        return
    with pytest.raises(BadAnswer) as bad:
        parse_birth_date(typed, TODAY)
    assert reason in str(bad.value)


@pytest.mark.parametrize(("typed", "ambiguous"), [
    ("05/06/1990", True), ("13/06/1990", False), ("05/05/1990", False), ("05.06.1990", False),
    ("1990-05-06", False),
])
def test_ambiguous_birth_dates(typed: str, ambiguous: bool) -> None:
    assert ambiguous_birth_date(typed) is ambiguous
