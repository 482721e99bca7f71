"""Which free seats `suggest_seats` offers ("Pick for me", re-seating a paid traveller), on FlyO's real layouts."""

from __future__ import annotations

import pytest

from models.aircraft import CabinLayout
from services.seat_choice import suggest_seats

# Layouts of FlyO's fleet (services/inventory/network.py); a space in `columns` is an aisle.
A320_ECONOMY = CabinLayout(cabin="economy", first_row=4, last_row=30, columns="ABC DEF", skip_rows=[13])
A320_BUSINESS = CabinLayout(cabin="business", first_row=1, last_row=3, columns="AC DF")
B787_ECONOMY = CabinLayout(cabin="economy", first_row=10, last_row=40, columns="ABC DEF HJK", skip_rows=[13])
B777_ECONOMY = CabinLayout(cabin="economy", first_row=10, last_row=48, columns="ABC DEFG HJK", skip_rows=[13])
TINY = CabinLayout(cabin="economy", first_row=1, last_row=2, columns="AB CD")  # 8 seats, for "almost full"


def row(number: int, letters: str) -> set[str]:
    return {f"{number}{letter}" for letter in letters}


def all_but(layout: CabinLayout, *free: str) -> set[str]:
    return set(layout.seat_codes()) - set(free)


# (case, layout, seats not free, how many are needed, the seats offered)
CASES: list[tuple[str, CabinLayout, set[str], int, list[str]]] = [
    ("one seat: the first", A320_ECONOMY, set(), 1, ["4A"]),
    ("two together by the window", A320_ECONOMY, set(), 2, ["4A", "4B"]),
    ("three fill one side of the aisle", A320_ECONOMY, set(), 3, ["4A", "4B", "4C"]),
    ("a taken middle seat splits a pair", A320_ECONOMY, {"4B"}, 2, ["4D", "4E"]),
    ("a taken middle seat leaves no three on that side", A320_ECONOMY, {"4B"}, 3, ["4D", "4E", "4F"]),
    ("a full row is skipped", A320_ECONOMY, row(4, "ABCDEF"), 1, ["5A"]),
    ("row 13 does not exist", A320_ECONOMY, row(4, "ABCDEF") | row(5, "ABCDEF") | {
        f"{r}{c}" for r in range(6, 13) for c in "ABCDEF"}, 2, ["14A", "14B"]),
    ("only aisle and window left on each side: next row", A320_ECONOMY, row(4, "BE"), 2, ["5A", "5B"]),
    ("pair found later in the same row", A320_ECONOMY, row(4, "AB"), 2, ["4D", "4E"]),
    ("four never fit one side of a 3-3 row: one row, across the aisle", A320_ECONOMY, set(), 4,
     ["4A", "4B", "4C", "4D"]),
    ("six take a whole row", A320_ECONOMY, set(), 6, ["4A", "4B", "4C", "4D", "4E", "4F"]),
    ("no pair anywhere: two in one row", A320_ECONOMY, all_but(A320_ECONOMY, "7A", "7F", "9C"), 2, ["7A", "7F"]),
    ("no row holds three: any three free seats", A320_ECONOMY, all_but(A320_ECONOMY, "7A", "9C", "30F"), 3,
     ["7A", "9C", "30F"]),
    ("need more than free: every free seat, fewer than asked", TINY, all_but(TINY, "1B", "2D"), 3, ["1B", "2D"]),
    ("cabin full: nothing", TINY, set(TINY.seat_codes()), 1, []),
    ("nothing needed: nothing offered", A320_ECONOMY, set(), 0, []),
    ("business 2-2: A and C sit together", A320_BUSINESS, set(), 2, ["1A", "1C"]),
    ("business 2-2: three span the aisle", A320_BUSINESS, set(), 3, ["1A", "1C", "1D"]),
    ("787 3-3-3: a middle block", B787_ECONOMY, row(10, "ABC"), 3, ["10D", "10E", "10F"]),
    ("787: seat letters skip I, so H and J are neighbours", B787_ECONOMY, row(10, "ABCDEF"), 2, ["10H", "10J"]),
    ("787: F and H are across an aisle, not together", B787_ECONOMY, row(10, "ABCDEJK"), 2, ["11A", "11B"]),
    ("777 3-4-3: four together in the middle", B777_ECONOMY, set(), 4, ["10D", "10E", "10F", "10G"]),
    ("777: a family of four after the middle block is taken", B777_ECONOMY, row(10, "E"), 4,
     ["11D", "11E", "11F", "11G"]),
]


@pytest.mark.parametrize(("layout", "taken", "need", "offered"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_suggested_seats(layout: CabinLayout, taken: set[str], need: int, offered: list[str]) -> None:
    assert suggest_seats(layout, taken, need) == offered
    assert not set(offered) & taken  # never a seat that is not free
    assert len(set(offered)) == len(offered)


def test_a_taken_map_works_like_a_set() -> None:
    taken = {"4A": "booked", "4B": "held", "5A": "yours"}  # what the seat map's state looks like
    assert suggest_seats(A320_ECONOMY, taken, 2) == ["4D", "4E"]
    assert suggest_seats(A320_ECONOMY, taken, 1) == ["4C"]
