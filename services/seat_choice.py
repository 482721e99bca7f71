"""Which free seats to offer: the same rule for "Pick for me" and for re-seating a paid traveller."""

from __future__ import annotations

import itertools

from models.aircraft import CabinLayout


def suggest_seats(layout: CabinLayout, state: dict[str, str] | set[str], need: int) -> list[str]:
    """Adjacent free seats in one group of one row first, then in one row, then any free seats.

    `state` holds the seats that are not free (a taken-map or a set of codes).
    """
    free_rows = []
    for row in layout.rows():
        groups = [[f"{row}{c}" for c in g if f"{row}{c}" not in state] for g in layout.columns.split()]
        for group in groups:
            for start in range(len(group) - need + 1):
                block = group[start:start + need]
                if _consecutive(block, layout):
                    return block
        free_rows.append([s for g in groups for s in g])
    for seats in free_rows:
        if len(seats) >= need:
            return seats[:need]
    everything = [s for seats in free_rows for s in seats]
    return everything[:need]


def _consecutive(block: list[str], layout: CabinLayout) -> bool:
    letters = layout.seat_letters()
    idx = [letters.index(s[-1]) for s in block]
    return all(b - a == 1 for a, b in itertools.pairwise(idx))
