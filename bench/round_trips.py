"""Append the round-trip table (written by tests/ops/test_round_trips.py with ROUND_TRIP_TABLE) to a results file,
replacing the section a previous run left there. `make bench` runs it after the scenarios:

    python -m bench.round_trips bench/.work/round_trips.md bench/RESULTS.md
"""

from __future__ import annotations

import sys
from pathlib import Path

HEADING = "## Database round trips per path"
INTRO = ("One passenger, one flight, counted by PyMongo command monitoring for each unit of work "
         "(tests/ops/test_round_trips.py, part of `make test`; the budgets are its assertions).")


def main(table_path: str, results_path: str) -> int:
    table = Path(table_path).read_text(encoding="utf-8").strip()
    results = Path(results_path)
    text = results.read_text(encoding="utf-8") if results.exists() else ""
    if HEADING in text:
        text = text[:text.index(HEADING)].rstrip() + "\n"
    results.write_text(f"{text.rstrip()}\n\n{HEADING}\n\n{INTRO}\n\n{table}\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
