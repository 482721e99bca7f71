"""Which free seats to offer: the same rule for "Pick for me" and for re-seating a paid traveller."""

from __future__ import annotations

import itertools

from models.aircraft import CabinLayout


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
