"""The place questions of a search (shared by the search steps): resolving what was typed, asking which airport of
a city, "Did you mean…?" for a loose match, and what is said about a place FlyO doesn't know."""

from __future__ import annotations

from typing import Literal

from telegram import InlineKeyboardMarkup

from core.i18n import N_, _
from handlers.render import esc
from handlers.turn import Turn
from services.airports import MAX_QUERY_CHARS, AirportMatch
from services.dates import shorten

NOT_AN_AIRPORT = N_("I didn't recognise “{typed}” as an airport.")
NONE_OF_THESE = "-"  # the "None of these" button's arg under the org/dst actions (whose args are IATA codes)


def quote(text: str) -> str:
    """The traveller's text as a reply may show it: at most 60 characters (then "…"), HTML-escaped."""
    return esc(shorten(text))


def place_label(match_codes: list[str], turn: Turn) -> str:
    directory = turn.svc.airports
    if len(match_codes) == 1:
        airport = directory.get(match_codes[0])
        return f"{airport.city} {airport.iata}" if airport else match_codes[0]
    first = directory.get(match_codes[0])
    return _("{city} (any: {codes})").format(city=first.city if first else "", codes=", ".join(match_codes))


def unknown_airport(turn: Turn, match: AirportMatch, action: str, typed: str) -> None:
    if match.suggestions:
        names = ", ".join(f"{a.city} ({a.iata})" for a in match.suggestions)
        buttons = [[turn.button(f"{a.city} · {a.iata}", action, a.iata)] for a in match.suggestions]
        turn.say(_("I don't know the airport “{typed}”. Did you mean {names}?").format(
                     typed=quote(typed), names=esc(names)),
                 InlineKeyboardMarkup(buttons))
    else:
        turn.say(_("I don't know the airport “{typed}”. Type a city, airport name or 3-letter code.").format(
            typed=quote(typed)))


def did_you_mean(turn: Turn, match: AirportMatch, action: str) -> None:
    """A fuzzy guess under SURE_SCORE ("atlantis" → Atlanta): ask, with its top 3 airports and "None of these"."""
    guess = match.airports
    city = guess[0].city
    offered = match.suggestions or guess[:3]
    buttons = [[turn.button(f"{a.city} · {a.iata}", action, a.iata)] for a in offered]
    buttons.append([turn.button(_("None of these"), action, NONE_OF_THESE)])
    turn.say(_("Did you mean {city} ({codes})?").format(city=esc(city), codes=", ".join(a.iata for a in guess)),
             InlineKeyboardMarkup(buttons))


def type_again(turn: Turn) -> None:
    turn.say(_("Please type the place again: a city, airport name or 3-letter code."))


def city_choice(turn: Turn, match: AirportMatch, action: str, question: str) -> None:
    buttons = [[turn.button(f"{a.iata} · {a.name}", action, a.iata)] for a in match.airports]
    buttons.append([turn.button(_("Any {city} airport").format(city=match.city), action,
                                "*" + ",".join(a.iata for a in match.airports))])
    turn.say(_("{city} has {count} airports.").format(city=esc(match.city), count=len(match.airports)) + " "
             + question, InlineKeyboardMarkup(buttons))


async def resolve_place(turn: Turn, text: str) -> AirportMatch:
    """The local airport list first; a place it doesn't know is looked up live (Amadeus) when configured.

    Only the first MAX_QUERY_CHARS characters are used (no place name is longer), so a long message costs
    no more fuzzy matching, and no longer live keyword, than a long city name.
    """
    text = text.strip()[:MAX_QUERY_CHARS]
    match = turn.svc.airports.resolve(text)
    if not match.found:
        # A bigger directory when a live provider knows the place; FlightSearch also makes it the one every
        # service reads (turn.svc.airports), so later turns know the new airports too.
        learned = await turn.svc.flights.learn_airports(turn.svc.airports, text)
        if learned is not None:
            match = learned.resolve(text)
    return match


def set_place(turn: Turn, key: Literal["origin", "destination"], codes: list[str]) -> None:
    setattr(turn.draft, key, codes)
    setattr(turn.draft, f"{key}_label", place_label(codes, turn))
