"""Aircraft types and their cabin layouts, from which every seat map is drawn."""

from __future__ import annotations

from beanie import Document
from pydantic import BaseModel
from pymongo import ASCENDING, IndexModel


class CabinLayout(BaseModel):
    """One cabin: rows first..last (skipped rows omitted) and columns; a space in `columns` is an aisle."""

    cabin: str  # "business" | "economy"
    first_row: int
    last_row: int
    columns: str  # e.g. "ABC DEF", "AC DF", "AC DG HK"
    skip_rows: list[int] = []
    # What the seat map draws besides seats (empty where unknown, e.g. a provider that does not say):
    exit_rows: list[int] = []  # rows beside an emergency exit
    wing_rows: list[int] = []  # rows over the wing
    legroom_rows: list[int] = []  # rows with extra legroom (bulkhead, exits)

    def rows(self) -> list[int]:
        return [r for r in range(self.first_row, self.last_row + 1) if r not in self.skip_rows]

    def seat_letters(self) -> list[str]:
        return [c for c in self.columns if c != " "]

    def seat_codes(self) -> list[str]:
        return [f"{row}{letter}" for row in self.rows() for letter in self.seat_letters()]

    def seat_kind(self, letter: str) -> str:
        """"window" (a group at the cabin's side, outer seat), "aisle" (next to an aisle) or "middle"."""
        groups = self.columns.split()
        for g, group in enumerate(groups):
            if letter not in group:
                continue
            at = group.index(letter)
            if (g == 0 and at == 0) or (g == len(groups) - 1 and at == len(group) - 1):
                return "window"
            if (at == 0 and g > 0) or (at == len(group) - 1 and g < len(groups) - 1):
                return "aisle"
            return "middle"
        raise ValueError(f"no seat {letter} in {self.columns!r}")


class AircraftType(Document):
    code: str  # IATA aircraft type code, e.g. "320", "789", "E90"
    name: str
    cabins: list[CabinLayout]

    class Settings:
        name = "aircraft_types"
        indexes = [IndexModel([("code", ASCENDING)], unique=True)]

    def cabin(self, name: str) -> CabinLayout | None:
        return next((c for c in self.cabins if c.cabin == name), None)

    def cabin_of_seat(self, seat: str) -> str | None:
        row = int("".join(ch for ch in seat if ch.isdigit()) or 0)
        letter = seat[-1:]
        for cabin in self.cabins:
            if row in cabin.rows() and letter in cabin.seat_letters():
                return cabin.cabin
        return None

    def capacity(self) -> dict[str, int]:
        return {c.cabin: len(c.seat_codes()) for c in self.cabins}
