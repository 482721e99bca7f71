"""Which free seats to offer (the same rule for "Pick for me" and for re-seating a paid traveller), how a cabin is
cut into seat-map pages, and what a seat typed on the seat step means."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from core.formatting import cabin_name
from core.i18n import _, ngettext
from models.aircraft import CabinLayout

MAX_ROW_BUTTONS = 8  # Telegram shows at most 8 buttons in a row of an inline keyboard
MAX_ROWS_PER_PAGE = 9  # 9 × 8 seats + 3 control rows stays well under the 100-button limit
TYPED_SEAT = re.compile(r"\s*(?:seat\s*)?(\d{1,3})\s*([a-z])\s*", re.IGNORECASE)


@dataclass(frozen=True)
class SeatPage:
    """A block of rows and some of the cabin's column groups that fit one keyboard row (pages never overlap)."""

    rows: tuple[int, ...]
    groups: tuple[str, ...]
    with_row_label: bool

    def title(self, cabin: str) -> str:
        return _("{cabin} · rows {first_row}–{last_row} · seats {letters}").format(
            cabin=cabin_name(cabin), first_row=self.rows[0], last_row=self.rows[-1], letters=self.letters())

    def letters(self) -> str:
        """The seat letters shown, group by group: "A–C · D–F", "H–K", "AC · DF" (a range from 3 letters)."""
        return " · ".join(f"{g[0]}–{g[-1]}" if len(g) > 2 else g for g in self.groups)

    def shows(self, seat: str) -> bool:
        row, letter = seat[:-1], seat[-1:]
        return row.isdigit() and int(row) in self.rows and any(letter in g for g in self.groups)


def _width(groups: list[str]) -> int:
    """Buttons in one keyboard row: a seat per letter and an aisle mark between groups."""
    return sum(len(g) for g in groups) + len(groups) - 1


def column_views(columns: str) -> list[tuple[tuple[str, ...], bool]]:
    """The cabin's column groups split, left to right and without overlap, into views of at most 8 buttons a
    row (Telegram's limit), each with the row label when it still fits: the whole cabin on narrow-bodies;
    "ABC DEF" + "HJK" on a 787's economy. A group wider than a row is cut into pieces."""
    pieces = [g[i:i + MAX_ROW_BUTTONS] for g in columns.split() for i in range(0, len(g), MAX_ROW_BUTTONS)]
    views: list[list[str]] = []
    for piece in pieces:
        if views and _width([*views[-1], piece]) <= MAX_ROW_BUTTONS:
            views[-1].append(piece)
        else:
            views.append([piece])
    return [(tuple(v), _width(v) + 1 <= MAX_ROW_BUTTONS) for v in views]


def seat_pages(layout: CabinLayout) -> list[SeatPage]:
    views = column_views(layout.columns)
    rows = layout.rows()
    blocks = [tuple(rows[i:i + MAX_ROWS_PER_PAGE]) for i in range(0, len(rows), MAX_ROWS_PER_PAGE)]
    return [SeatPage(block, view, label) for block in blocks for view, label in views]


def page_of(pages: list[SeatPage], seat: str) -> int | None:
    """The index of the page that shows `seat`."""
    return next((i for i, page in enumerate(pages) if page.shows(seat)), None)



def suggest_seats(layout: CabinLayout, state: dict[str, str] | set[str], need: int, *, spread: int = 0) -> list[str]:
    """Adjacent free seats in one group of one row first, then in one row, then any free seats.

    `state` holds the seats that are not free (a taken-map or a set of codes). `spread`: take the block that
    many places further down the list of adjacent blocks (or the last one found), so that parties picking at the
    same moment from the same state aim at different seats instead of all at the first block.
    """
    free_rows = []
    found: list[str] | None = None
    skipped = 0
    for row in layout.rows():
        groups = [[f"{row}{c}" for c in g if f"{row}{c}" not in state] for g in layout.columns.split()]
        for group in groups:
            start = 0
            while start <= len(group) - need:
                block = group[start:start + need]
                if _consecutive(block, layout):
                    found = block
                    if skipped >= spread:
                        return block
                    skipped += 1
                    start += need  # the next block that shares no seat with this one
                    continue
                start += 1
        free_rows.append([s for g in groups for s in g])
    if found is not None:
        return found
    for seats in free_rows:
        if len(seats) >= need:
            return seats[:need]
    everything = [s for seats in free_rows for s in seats]
    return everything[:need]


def _consecutive(block: list[str], layout: CabinLayout) -> bool:
    letters = layout.seat_letters()
    idx = [letters.index(s[-1]) for s in block]
    return all(b - a == 1 for a, b in itertools.pairwise(idx))


def nearest_free(layout: CabinLayout, state: dict[str, str] | set[str], seat: str, count: int = 2) -> list[str]:
    """Up to `count` free seats nearest to `seat` (a seat of `layout`): its own row first, by how many seats
    away, then the rows nearest to it. `state` holds the seats that are not free."""
    rows = layout.rows()
    letters = layout.seat_letters()
    row, letter = int(seat[:-1]), seat[-1]
    at_row, at_col = rows.index(row), letters.index(letter)
    free = [(abs(r - at_row), abs(c - at_col), r, c) for r in range(len(rows)) for c in range(len(letters))
            if f"{rows[r]}{letters[c]}" not in state and (r, c) != (at_row, at_col)]
    return [f"{rows[r]}{letters[c]}" for _dr, _dc, r, c in sorted(free)[:count]]


def parse_seat(text: str) -> str | None:
    """A seat typed on the seat step — "12A", "12 a", "seat 12a" — as its code ("12A"); None for other text."""
    match = TYPED_SEAT.fullmatch(text[:20]) if len(text) <= 20 else None
    return f"{int(match.group(1))}{match.group(2).upper()}" if match else None


def where_else(seat: str, cabin: str, layouts: dict[str, CabinLayout]) -> str:
    """Why `seat` (not a seat of `cabin`) can't be picked, precisely: in another cabin, no such row, or no such
    letter in its row. `layouts`: every cabin of the aircraft."""
    row, letter = int(seat[:-1]), seat[-1]
    for other, layout in layouts.items():
        if other != cabin and seat in layout.seat_codes():
            return _("{seat} is in {other}; you are choosing {cabin} seats.").format(
                seat=seat, other=cabin_name(other), cabin=cabin_name(cabin))
    if not any(row in layout.rows() for layout in layouts.values()):
        return _("There is no row {row} on this aircraft.").format(row=row)
    return _("Row {row} has no seat {letter}.").format(row=row, letter=letter)


def taken_answer(layout: CabinLayout, state: dict[str, str] | set[str], seat: str) -> str:
    """"12A is taken; 12B and 12C next to it are free." — the nearest free seats, in its row when there are."""
    near = nearest_free(layout, state, seat)
    if not near:
        return _("{seat} is taken, and no other {cabin} seat is free.").format(
            seat=seat, cabin=cabin_name(layout.cabin))
    seats = near[0] if len(near) == 1 else _("{seat} and {other}").format(seat=near[0], other=near[1])
    if all(s[:-1] == seat[:-1] for s in near):
        return ngettext("{seat} is taken; {seats} next to it is free.", "{seat} is taken; {seats} next to it are free.",
                        len(near)).format(seat=seat, seats=seats)
    return ngettext("{seat} is taken; the nearest free seat is {seats}.",
                    "{seat} is taken; the nearest free seats are {seats}.", len(near)).format(seat=seat, seats=seats)
