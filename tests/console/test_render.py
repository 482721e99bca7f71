"""The console's renderer: Telegram HTML → terminal text, keyboards → numbers, seat maps → grids."""

from __future__ import annotations

from typing import Any

from bot.console.render import (
    INDENT,
    PLAIN,
    Keyboard,
    Style,
    Tap,
    display_width,
    html_to_text,
    render_keyboard,
    render_message,
)

ANSI = Style(ansi=True)


def cb(label: str, action: str, arg: str = "") -> dict[str, Any]:
    return {"text": label, "callback_data": f"f1:{action}:{arg}"}


def tapped(board: Keyboard | None, typed: str) -> Tap:
    assert board is not None
    tap = board.find(typed)
    assert tap is not None, f"{typed!r} taps nothing"
    return tap


def inline(*rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"inline_keyboard": [list(r) for r in rows]}


# ---- HTML --------------------------------------------------------------------------------------
def test_html_tags_are_stripped_and_entities_unescaped() -> None:
    text = "✈️ <b>Where to?</b> Use <code>LHR JFK 15 Dec</code> &amp; <i>relax</i> &lt;3"
    assert html_to_text(text) == "✈️ Where to? Use LHR JFK 15 Dec & relax <3"


def test_bold_becomes_ansi_only_when_asked() -> None:
    assert html_to_text("a <b>b</b> c", ANSI) == "a \x1b[0m\x1b[1mb\x1b[0m c"
    assert "\x1b" not in html_to_text("a <b>b</b> c", PLAIN)


def test_nested_styles_restore_the_outer_one() -> None:
    out = html_to_text("<b>bold <i>both</i> bold</b>", ANSI)
    assert out.endswith("\x1b[0m\x1b[1m bold\x1b[0m")


def test_links_keep_their_address_unless_it_is_the_text() -> None:
    assert html_to_text('<a href="https://x.test/p">Pay</a>') == "Pay (https://x.test/p)"
    assert html_to_text('<a href="https://x.test">https://x.test</a>') == "https://x.test"


def test_web_page_insides_are_not_text() -> None:
    page = "<html><head><title>T</title><style>p{}</style></head><body><h1>Paid</h1><p>Back</p></body></html>"
    assert html_to_text(page).split() == ["Paid", "Back"]  # block tags end lines: no "PaidBack"


def test_message_block_indents_under_the_sender() -> None:
    board = render_keyboard(inline([cb("Yes", "rv", "ok")]))
    out = render_message("<b>Review</b>\nline 2", "HTML", board)
    assert out.splitlines() == ["FlyO: Review", "      line 2", "      [1] Yes"]
    assert render_message("x", "HTML", None, edited=True).startswith("FlyO (updated): x")


def test_text_without_parse_mode_is_shown_as_sent() -> None:
    assert render_message("<b>not html</b>", None, None) == "FlyO: <b>not html</b>"


# ---- keyboards ---------------------------------------------------------------------------------
def test_buttons_are_numbered_in_reading_order() -> None:
    board = render_keyboard(inline([cb("LHR · London Heathrow", "org", "LHR")],
                                   [cb("LGW · London Gatwick", "org", "LGW")],
                                   [cb("Any London airport", "org", "*LHR,LGW")]))
    assert board is not None
    assert board.lines == ["[1] LHR · London Heathrow", "[2] LGW · London Gatwick", "[3] Any London airport"]
    tap = board.find("2")
    assert tap is not None and tap.kind == "callback" and tap.value == "f1:org:LGW"
    assert board.find("4") is None and board.find("LGW") is None


def test_integer_labels_keep_their_number() -> None:
    """Passenger counts: typing 3 means 3 passengers, whatever the button order."""
    board = render_keyboard(inline([cb(str(n), "px", str(n)) for n in range(1, 6)],
                                   [cb(str(n), "px", str(n)) for n in range(6, 10)]))
    assert board is not None
    assert board.lines == ["[1] [2] [3] [4] [5]", "[6]   [7]   [8]   [9]"]
    assert tapped(board, "7").value == "f1:px:7"


def test_calendar_days_are_tapped_by_day_and_labels_are_not_numbered() -> None:
    week_days = [cb(d, "nop") for d in ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")]
    week = [cb("·", "nop")] * 3 + [cb(str(d), "day", f"202612{d:02d}") for d in (24, 25, 26, 27)]
    board = render_keyboard(inline([cb(" ", "nop"), cb("December 2026", "nop"), cb("»", "cal", "2027-01")],
                                   week_days, week))
    assert board is not None
    assert board.lines[0] == "December 2026   [28] »"  # after the largest day
    assert board.lines[1].split() == ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]
    assert board.lines[2].split() == ["·", "·", "·", "[24]", "[25]", "[26]", "[27]"]
    assert tapped(board, "25").value == "f1:day:20261225"
    assert tapped(board, "28").value == "f1:cal:2027-01"
    assert board.find("1") is None  # a label (nop) is never tappable


def test_duplicate_integer_labels_fall_back_to_sequential_numbers() -> None:
    board = render_keyboard(inline([cb("2", "a", "x"), cb("2", "a", "y")]))
    assert board is not None
    assert tapped(board, "1").value == "f1:a:x" and tapped(board, "2").value == "f1:a:y"


def test_url_buttons_show_the_link_and_are_numbered() -> None:
    board = render_keyboard(inline([{"text": "💳 Pay €350.00", "url": "http://127.0.0.1:9/demo/checkout/cs_1"}]))
    assert board is not None
    assert board.lines == ["[1] 🔗 💳 Pay €350.00: http://127.0.0.1:9/demo/checkout/cs_1"]
    assert tapped(board, "1").kind == "url"


def test_reply_keyboard_with_contact_button() -> None:
    board = render_keyboard({"keyboard": [[{"text": "📱 Share my number", "request_contact": True}],
                                          [{"text": "⏭ Skip"}]], "one_time_keyboard": True})
    assert board is not None and board.reply and board.one_time
    assert board.lines == ["⌨️  [1] 📱 Share my number (shares a phone number)", "    [2] ⏭ Skip"]
    assert tapped(board, "1").kind == "contact"
    skip = board.find("2")
    assert skip is not None and skip.kind == "text" and skip.value == "⏭ Skip"


def test_removal_and_no_markup_render_nothing() -> None:
    assert render_keyboard(None) is None
    assert render_keyboard({"remove_keyboard": True}) is None


# ---- seat maps ---------------------------------------------------------------------------------
def seat_row(row: int, taken: set[str], mine: set[str], *, label: bool = True) -> list[dict[str, Any]]:
    out = [cb(str(row), "nop")] if label else []
    for group_index, group in enumerate(("ABC", "DEF")):
        if group_index:
            out.append(cb("┊", "nop"))
        for letter in group:
            code = f"{row}{letter}"
            if code in mine:
                out.append(cb(f"✅{code}", "s", code))
            elif code in taken:
                out.append(cb("✖", "x", code))
            else:
                out.append(cb(code, "s", code))
    return out


def seat_map(label: bool = True) -> dict[str, Any]:
    return inline(seat_row(9, {"9B"}, set(), label=label), seat_row(10, set(), {"10F"}, label=label),
                  [cb("‹ Prev", "sp", "0"), cb("2/3", "nop"), cb("Next ›", "sp", "2")],
                  [cb("🎲 Pick for me", "auto"), cb("✅ Continue (1/2)", "sd")])


def test_seat_map_becomes_an_aligned_grid() -> None:
    board = render_keyboard(seat_map())
    assert board is not None
    assert board.lines[:3] == [
        "    A    B    C   ┊  D    E    F",
        " 9 [1]   x   [2]  ┊ [3]  [4]  [5]",
        "10 [6]  [7]  [8]  ┊ [9]  [10] (11)",
    ]
    assert "x taken" in board.lines[3]
    assert board.lines[4:] == ["[12] ‹ Prev   2/3   [13] Next ›",
                               "[14] 🎲 Pick for me   [15] ✅ Continue (1/2)"]


def test_seats_tap_by_number_or_code_and_taken_seats_have_no_number() -> None:
    board = render_keyboard(seat_map())
    assert board is not None
    assert tapped(board, "1").value == "f1:s:9A"
    assert tapped(board, "2").value == "f1:s:9C"  # 9B is taken: skipped in the numbering
    assert tapped(board, "9b").value == "f1:x:9B"  # typed: FlyO says it is taken
    assert tapped(board, "10f").value == "f1:s:10F"  # yours: tap to release
    assert tapped(board, "11").value == "f1:s:10F"


def test_seat_rows_without_row_labels_take_the_row_from_the_seat_code() -> None:
    board = render_keyboard(seat_map(label=False))
    assert board is not None
    assert board.lines[1].split()[:2] == ["9", "[1]"]
    assert board.lines[2].split()[:2] == ["10", "[6]"]


# ---- long lines: wrapped under their own indentation, not at the terminal's column 0 ------------------
CONNECTION = ("1. FO370 LHR 09:50 → SIN 07:05+1 · 3h 35m in Singapore · FO1150 SIN 10:40 → SYD 21:35"
              " · total 24h 45m, 1 stop\n    Business £4,922.23 (42 left) · Economy £1,175.70 (270 left)")


def test_a_connection_result_line_wraps_between_its_parts_under_its_item() -> None:
    out = render_message("London LHR → Sydney SYD\n\n" + CONNECTION, "HTML", None, width=80).splitlines()
    assert out[2:] == [
        "      1. FO370 LHR 09:50 → SIN 07:05+1 · 3h 35m in Singapore",
        "          · FO1150 SIN 10:40 → SYD 21:35 · total 24h 45m, 1 stop",
        "          Business £4,922.23 (42 left) · Economy £1,175.70 (270 left)",
    ]
    assert all(display_width(line) <= 80 for line in out)
    narrow = render_message(CONNECTION, "HTML", None, width=44).splitlines()
    assert narrow[:4] == ["FlyO: 1. FO370 LHR 09:50 → SIN 07:05+1", "          · 3h 35m in Singapore",
                          "          · FO1150 SIN 10:40 → SYD 21:35", "          · total 24h 45m, 1 stop"]
    assert all(display_width(line) <= 44 for line in narrow)


def test_lines_that_fit_or_a_pipe_without_width_are_left_alone() -> None:
    wide = render_message("London LHR → Sydney SYD\n" + CONNECTION, "HTML", None, width=160)
    assert wide == render_message("London LHR → Sydney SYD\n" + CONNECTION, "HTML", None)
    assert "FO1150" in wide.splitlines()[1]  # one line, as sent


def test_words_and_addresses_are_never_broken() -> None:
    url = "http://127.0.0.1:48077/demo/checkout/cs_demo_ZWMazKubBCp49XA_TxWCofkez0YP2AbzQQUwL8Q6tL4"
    out = render_message(f"Pay within 30 minutes to confirm it. Open {url} to pay", None, None,
                         width=50, edited=True).splitlines()
    assert out[0].startswith("FlyO (updated): Pay within 30 minutes")  # the header stays on the first line
    assert f"          {url}" in out  # on a line of its own, whole, so it can still be copied
    words = " ".join(line.strip() for line in out).removeprefix("FlyO (updated): ").split()
    assert words == f"Pay within 30 minutes to confirm it. Open {url} to pay".split()


def test_a_wide_button_row_wraps_between_buttons_but_a_grid_never_does() -> None:
    board = render_keyboard(inline([cb("📅 Tue 15 Dec 2026 (a week later)", "rd", "2026-12-15"),
                                    cb("➡️ One way", "rt", "one"), cb("🔁 Return", "rt", "ret")]))
    out = render_message("One way or return?", "HTML", board, width=50).splitlines()
    assert out[1:] == ["      [1] 📅 Tue 15 Dec 2026 (a week later)", "          [2] ➡️ One way   [3] 🔁 Return"]
    seats = render_keyboard(seat_map())
    assert seats is not None
    grid = render_message("Seats", "HTML", seats, width=24).splitlines()
    assert grid[1:] == [INDENT + line for line in seats.lines]  # a grid wider than the terminal stays a grid


def test_display_width_counts_terminal_columns() -> None:
    assert display_width("abc") == 3
    assert display_width("\x1b[1mabc\x1b[0m") == 3  # styling takes no columns
    assert display_width("📅 15") == 5 and display_width("✈️") == 1  # wide emoji; U+FE0F takes none
