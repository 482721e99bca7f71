"""What the terminal shows of a chat: HTML as text, keyboards as numbered buttons, seat maps as grids.

Pure functions over Bot API JSON (what the bot sent), so the same code renders live messages and tests.
Numbering rule, chosen so typing reads naturally: a tappable button whose label is a small integer
(passenger counts, calendar days) keeps that integer as its number when the labels are unique; every other
tappable button is numbered in reading order after the largest such label. Seats can also be typed by code.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Literal

JSON = Mapping[str, Any]
TapKind = Literal["callback", "url", "text", "contact"]

DEMO_PHONE = "+44 20 7946 0958"  # Ofcom's range reserved for drama: never a real person's number
SEAT = re.compile(r"^(\d{1,3})([A-Z])$")
# FlyO's callback data is "flow:action:arg"; action "nop" marks labels (calendar header, row numbers, aisles)
NOP = re.compile(r"^[^:]*:nop(:|$)")

_STYLES = {"b": "1", "strong": "1", "i": "3", "em": "3", "u": "4", "ins": "4", "s": "9", "strike": "9",
           "del": "9", "code": "36", "pre": "36"}
_HIDDEN = {"script", "style", "title", "head"}
_BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "main", "body"}


@dataclass(frozen=True)
class Style:
    """ANSI styling only on a terminal that wants it (NO_COLOR and pipes get plain text)."""

    ansi: bool = False

    def sgr(self, codes: str, text: str) -> str:
        return f"\x1b[{codes}m{text}\x1b[0m" if self.ansi and text else text

    def bold(self, text: str) -> str:
        return self.sgr("1", text)

    def dim(self, text: str) -> str:
        return self.sgr("2", text)


PLAIN = Style(False)


class _HtmlToText(HTMLParser):
    """Telegram's HTML subset → text; links keep their address, entities are unescaped by the parser."""

    def __init__(self, style: Style) -> None:
        super().__init__(convert_charrefs=True)
        self.style = style
        self.parts: list[str] = []
        self.open: list[str] = []  # SGR codes of the open tags, to restore after a nested tag closes
        self.links: list[tuple[str, int]] = []
        self.hidden = 0  # inside <script>/<style>/<title>: a web page's insides, not its text

    def _sgr(self) -> str:
        return "\x1b[0m" + "".join(f"\x1b[{code}m" for code in self.open)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        if tag in _BLOCKS:  # web pages (the demo checkout) only: Telegram's HTML has no block tags
            self.parts.append("\n")
        code = _STYLES.get(tag)
        if code is not None:
            self.open.append(code)
            if self.style.ansi:
                self.parts.append(self._sgr())
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.parts)))

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        if tag in _BLOCKS:
            self.parts.append("\n")
        if tag in _STYLES and self.open:
            self.open.pop()
            if self.style.ansi:
                self.parts.append(self._sgr())
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            shown = "".join(self.parts[start:])
            if href and href not in shown and not href.startswith("tg://"):
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(text: str, style: Style = PLAIN) -> str:
    parser = _HtmlToText(style)
    parser.feed(text)
    parser.close()
    out = "".join(parser.parts)
    return out + "\x1b[0m" if style.ansi and parser.open else out


def message_text(text: str, parse_mode: str | None, style: Style = PLAIN) -> str:
    """A message's text as shown; FlyO sends HTML, anything else is shown as sent."""
    if (parse_mode or "").upper() == "HTML":
        return html_to_text(text, style)
    return text


# ---- keyboards -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tap:
    """What tapping a button does: a callback, opening a link, sending text, or sharing a contact."""

    kind: TapKind
    label: str
    value: str


@dataclass
class Keyboard:
    lines: list[str]
    numbers: dict[int, Tap] = field(default_factory=dict)
    names: dict[str, Tap] = field(default_factory=dict)  # typed aliases: seat codes
    reply: bool = False
    one_time: bool = False
    grids: set[int] = field(default_factory=set)  # indexes of lines in a grid (calendar, seats): never wrapped

    def find(self, typed: str) -> Tap | None:
        word = typed.strip()
        if word.isdigit():
            return self.numbers.get(int(word))
        return self.names.get(word.upper())


@dataclass
class _Cell:
    label: str
    tap: Tap | None  # None: a label only (nop) or a button the console cannot use
    seat: str = ""  # seat code when the button is a seat
    state: Literal["", "free", "mine", "taken"] = ""
    number: int | None = None


def _tap_of(button: JSON) -> Tap | None:
    label = str(button.get("text", ""))
    if "callback_data" in button:
        data = str(button["callback_data"])
        return None if NOP.match(data) else Tap("callback", label, data)
    if "url" in button:
        return Tap("url", label, str(button["url"]))
    if button.get("request_contact"):
        return Tap("contact", label, "")
    if set(button) <= {"text"}:
        return Tap("text", label, label)  # a plain reply-keyboard button sends its label
    return None  # web apps, logins, polls, locations: not in the console


def _cell(button: JSON | str) -> _Cell:
    if isinstance(button, str):  # the Bot API accepts bare strings in reply keyboards
        button = {"text": button}
    cell = _Cell(str(button.get("text", "")), _tap_of(button))
    label = cell.label.strip()
    data = str(button.get("callback_data", ""))
    code = label.removeprefix("✅").strip()
    if SEAT.match(code):
        cell.seat, cell.state = code, ("mine" if label.startswith("✅") else "free")
    elif data and SEAT.match(data.rsplit(":", 1)[-1]) and len(label) <= 2:
        cell.seat, cell.state = data.rsplit(":", 1)[-1], "taken"  # e.g. "✖": taken, code only in the data
    return cell


def _is_seat_row(row: list[_Cell]) -> bool:
    seats = [c for c in row if c.seat]
    return len(seats) >= 2 and all(c.seat or c.tap is None for c in row)


def _number(cells: list[_Cell]) -> None:
    tappable = [c for c in cells if c.tap is not None and c.state != "taken"]
    integers = [c for c in tappable if c.label.strip().isdigit() and 0 < int(c.label) < 1000]
    labels = [int(c.label) for c in integers]
    keep = len(set(labels)) == len(labels)
    if keep:
        for c in integers:
            c.number = int(c.label)
    following = max(labels) + 1 if keep and labels else 1
    for c in tappable:
        if c.number is None:
            c.number = following
            following += 1


def render_keyboard(markup: JSON | None, style: Style = PLAIN) -> Keyboard | None:
    """Inline or reply keyboard → lines and numbers; None for no markup or a keyboard removal."""
    if not markup:
        return None
    reply = "keyboard" in markup
    raw_rows: Sequence[Sequence[Any]] = markup.get("inline_keyboard") or markup.get("keyboard") or []
    rows = [[_cell(b) for b in raw] for raw in raw_rows]
    if not rows:
        return None
    _number([c for row in rows for c in row])
    board = Keyboard([], reply=reply, one_time=bool(markup.get("one_time_keyboard")))
    for row in rows:
        for c in row:
            if c.tap is not None and c.number is not None:
                board.numbers[c.number] = c.tap
            if c.seat and c.tap is not None:
                board.names[c.seat] = c.tap
    index = 0
    while index < len(rows):
        if _is_seat_row(rows[index]):
            block = _block(rows, index, _is_seat_row)
            start = len(board.lines)
            board.lines += seat_grid(block, style)
            board.grids.update(range(start, len(board.lines) - 1))  # the legend under it may wrap
        elif len(rows[index]) >= 5:
            block = _block(rows, index, lambda r: len(r) >= 5 and not _is_seat_row(r))
            board.grids.update(range(len(board.lines), len(board.lines) + len(block)))
            board.lines += _grid(block, style)
        else:
            block = [rows[index]]
            board.lines.append(_plain_row(block[0], style))
        index += len(block)
    if reply:
        board.lines = [("⌨️  " if i == 0 else "    ") + line for i, line in enumerate(board.lines)]
    return board


def _block(rows: list[list[_Cell]], start: int, keep: Any) -> list[list[_Cell]]:
    end = start
    while end < len(rows) and keep(rows[end]):
        end += 1
    return rows[start:end]


def _button_text(c: _Cell, style: Style) -> str:
    if c.tap is None:
        return style.dim(c.label.strip()) if c.label.strip() not in ("", "·") else ""
    number = style.bold(f"[{c.number}]")
    if c.tap.kind == "url":
        return f"{number} 🔗 {c.label}: {c.tap.value}"
    if c.tap.kind == "contact":
        return f"{number} {c.label} (shares a phone number)"
    return number if c.label.strip() == str(c.number) else f"{number} {c.label}"


def _plain_row(row: list[_Cell], style: Style) -> str:
    return "   ".join(t for t in (_button_text(c, style) for c in row) if t)


def _grid(block: list[list[_Cell]], style: Style) -> list[str]:
    """Wide rows (a calendar) as aligned columns; labels only where nothing can be tapped."""
    def raw(c: _Cell) -> str:
        if c.tap is None:
            return c.label.strip() or " "
        return f"[{c.number}]" if c.label.strip() == str(c.number) else f"[{c.number}] {c.label}"

    width = max(len(raw(c)) for row in block for c in row)
    lines = []
    for row in block:
        cells = []
        for c in row:
            text = raw(c).center(width)
            cells.append(style.dim(text) if c.tap is None else text)
        lines.append(" ".join(cells).rstrip())
    return lines


def seat_grid(block: list[list[_Cell]], style: Style = PLAIN) -> list[str]:
    """Seat rows → a header of seat letters and one line per row: [n] free, (n) yours, x taken, ┊ aisle."""
    numbers = [c.number for row in block for c in row if c.number is not None]
    width = max(3, max((len(str(n)) for n in numbers), default=1) + 2)
    label_width = max(len(SEAT.match(c.seat).group(1)) for row in block for c in row  # type: ignore[union-attr]
                      if c.seat)
    template = max(block, key=len)
    header = []
    for c in template:
        if c.seat:
            header.append(c.seat[-1].center(width))
        elif not c.label.strip().isdigit():
            header.append("┊")
    lines = [" " * (label_width + 1) + " ".join(header).rstrip()]
    for row in block:
        seat_row = next(c.seat for c in row if c.seat)
        cells = []
        for c in row:
            if c.seat and c.state == "taken":
                cells.append(style.dim("x".center(width)))
            elif c.seat and c.state == "mine":
                cells.append(style.sgr("1;32", f"({c.number})".center(width)))
            elif c.seat:
                cells.append(f"[{c.number}]".center(width))
            elif not c.label.strip().isdigit():
                cells.append("┊")
        lines.append(seat_row[:-1].rjust(label_width) + " " + " ".join(cells).rstrip())
    lines.append(style.dim("type a number or a seat (12A) · [n] free · (n) yours · x taken · ┊ aisle"))
    return lines


# ---- whole messages --------------------------------------------------------------------------------
INDENT = "      "


HANG = "    "  # a wrapped line's continuation, under its own start: reads as one item, not the next
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_ZERO_WIDTH = {"\u200d", "\ufe0e", "\ufe0f"}  # joiners and emoji/text presentation selectors
# where a long line may break, best first, and what joins the parts back: between "a · b" parts (result
# lines, confirmations), between buttons ("[1] x   [2] y"), then between words. A word itself (an address)
# is never broken, so it stays copyable; the terminal wraps what cannot break.
_BREAKS = ((re.compile(r" (?=· )"), " "), (re.compile(r"   (?=\[\d+\])"), "   "), (re.compile(r" +"), " "))


def display_width(text: str) -> int:
    """Terminal columns of text: styling codes take none, wide (CJK, most emoji) characters two."""
    width = 0
    for char in _ANSI.sub("", text):
        if char in _ZERO_WIDTH or unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in "WF" else 1
    return width


def wrap_line(line: str, width: int | None, hang: str | None = None) -> list[str]:
    """One indented line → lines of at most `width` columns, broken where _BREAKS allow.

    Left to the terminal, a long line goes on at column 0, through the middle of a word, and the indentation
    that says whose message it is and which item it belongs to is lost (a connection's result line is ~120
    columns). Continuations start at `hang`: the line's own indentation plus HANG unless given.
    """
    lead = line[: len(line) - len(line.lstrip(" "))]
    hang = lead + HANG if hang is None else hang
    if not width or display_width(line) <= width or len(hang) + 20 > width:
        return [line]  # fits, or a terminal too narrow for indentation to help
    return _split(line, width, hang, 0)


def _split(line: str, width: int, hang: str, level: int) -> list[str]:
    if display_width(line) <= width or level == len(_BREAKS):
        return [line]
    pattern, joiner = _BREAKS[level]
    prefix = line[: len(line) - len(line.lstrip(" "))]
    pieces = [piece for piece in pattern.split(line[len(prefix):]) if piece]
    out = [prefix + pieces[0]]
    for piece in pieces[1:]:
        if display_width(out[-1] + joiner + piece) <= width:
            out[-1] += joiner + piece
        else:
            out.append(hang + piece)
    return [part for line_part in out for part in _split(line_part, width, hang, level + 1)]


def render_message(text: str, parse_mode: str | None, keyboard: Keyboard | None, style: Style = PLAIN,
                   *, edited: bool = False, who: str = "FlyO", width: int | None = None) -> str:
    """One bot message as a block: "FlyO: first line", the rest and the keyboard indented under it.

    With a `width` (the terminal's columns) long lines are wrapped under their own indentation.
    """
    head = style.bold(f"{who}{' (updated)' if edited else ''}:")
    body = message_text(text, parse_mode, style).split("\n")
    lines = [f"{head} {body[0]}"] + [INDENT + line if line else "" for line in body[1:]]
    if width:
        pad = " " * (display_width(head) + 1)  # the first line wraps under the indented rest, not under itself
        first = wrap_line(pad + body[0], width, hang=INDENT + HANG)
        first[0] = f"{head} {first[0][len(pad):]}"
        lines = first + [part for line in lines[1:] for part in wrap_line(line, width)]
    if keyboard is not None:
        lines += [INDENT + line if i in keyboard.grids or not width else "\n".join(wrap_line(INDENT + line, width))
                  for i, line in enumerate(keyboard.lines)]
    return "\n".join(lines)
