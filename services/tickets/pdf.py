"""The e-ticket / itinerary receipt PDF: one A4 page per passenger per flight, drawn with fpdf2.

A pure renderer: it is handed `TicketPage`s whose strings are already formatted for display (local times with
date and zone, money, names as entered) and the two barcode PNGs, and returns the PDF's bytes. No database, no
booking rules, no clock: the PDF's creation date is the `issued` argument, and fpdf2's file /ID is a hash of the
content, so the same input gives the same bytes (tests/services/test_ticket_pdf.py checks byte equality).

Fonts — why these, and where they come from (services/tickets/fonts/README.md has the details):

* DejaVu Sans (regular + bold) is the main face: Latin with every accent (Zoë, Łukasz, Brzęczyszczykiewicz),
  Greek, Cyrillic, Hebrew and Arabic letters, arrows. It is copied into the package from Debian's
  fonts-dejavu-core (Bitstream Vera licence, which allows redistribution), so the renderer never depends on
  what a machine has installed: CI runs `make test` without apt.
* Noto Sans SC (SIL OFL 1.1) is the fallback for Chinese/Japanese characters (王芳), through fpdf2's
  `set_fallback_fonts`, so a name that mixes scripts ("Wang 王芳") takes each character from the font that has
  it. No CJK font is installed on the machines and DejaVu has none; Noto Sans SC comes from PyPI (the
  pylopdf-fonts-zh-cn package ships the single-region OpenType file, not the 20 MB TTC) and is bundled as a
  subset made with fontTools: the whole CJK Unified Ideographs block U+4E00–U+9FFF plus kana, CJK punctuation,
  Bopomofo and full-width forms, 4.9 MB (the full font is 8.3 MB). fpdf2 reads its CFF outlines directly and
  embeds only the glyphs a ticket uses, so a PDF stays small (~40 KB).
* A character none of the bundled fonts has (Hangul, CJK Extension A/B, emoji) is drawn as "?" — checked here
  against the fonts' character maps, so the page never carries an invisible gap. Control and format
  characters (C0/C1, bidi overrides, zero-width) are dropped. Right-to-left names are drawn letter by letter
  left to right (fpdf2 has no bidi without HarfBuzz): legible to staff, not typographically right.

Every field is fitted to its box — the font shrinks down to a floor, then the text is cut with "…" — and
automatic page breaks are off, so hostile input (a 500-character name) never spills onto a second page.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos

from core.i18n import _

FONTS = Path(__file__).resolve().parent / "fonts"
SANS = FONTS / "DejaVuSans.ttf"
SANS_BOLD = FONTS / "DejaVuSans-Bold.ttf"
CJK = FONTS / "NotoSansSC-Regular-subset.otf"

PAGE_W, PAGE_H = 210.0, 297.0  # A4, mm
MARGIN = 14.0
CONTENT_W = PAGE_W - 2 * MARGIN
NAVY = (16, 42, 84)
ACCENT = (0, 118, 190)
GREY = (96, 104, 115)
INK = (20, 24, 31)
RULE = (205, 211, 219)
MISSING = "?"


@dataclass(frozen=True)
class TicketPage:
    """One page: one passenger (with an infant on lap, if any) on one flight, every string ready to print."""

    booking_reference: str
    ticket_number: str
    passenger_name: str
    flight_number: str
    carrier: str  # "FlyO" or "Operated by British Airways"
    origin_city: str
    origin_airport: str
    origin_iata: str
    destination_city: str
    destination_airport: str
    destination_iata: str
    departure: str  # local time with date and zone: "Mon 12 Jan 2027, 09:40 GMT"
    arrival: str
    duration: str
    aircraft: str
    cabin: str
    seat: str
    fare: str
    issued_on: str
    conditions: str
    bcbp: str
    pdf417_png: bytes
    qr_png: bytes
    infant_line: str | None = None  # "+ infant on lap: Ella Lovelace"
    baggage: str | None = None


@lru_cache(maxsize=3)
def _cmap(path: Path) -> frozenset[int]:
    font = TTFont(str(path), lazy=True)
    try:
        return frozenset(font.getBestCmap())
    finally:
        font.close()


@lru_cache(maxsize=1)
def _latin() -> frozenset[int]:
    """Code points DejaVu draws in both weights."""
    return _cmap(SANS) & _cmap(SANS_BOLD)


@lru_cache(maxsize=1)
def _covered() -> frozenset[int]:
    """Code points some bundled font can draw (DejaVu in both weights, or the CJK fallback)."""
    return _latin() | _cmap(CJK)


def _needs_cjk(pages: Sequence[TicketPage]) -> bool:
    """Whether any page has a character only the CJK font draws. Loading that font is most of a render's time
    (~0.1 s: a 4.9 MB OpenType file parsed by fontTools), so a ticket with Latin names never loads it."""
    latin = _latin()
    return any(ord(char) not in latin and ord(char) in _covered()
               for ticket in pages for value in vars(ticket).values() if isinstance(value, str) for char in value)


def clean(text: str, *, collapse: bool = True) -> str:
    """What can be printed: control/format characters dropped, whitespace runs collapsed (unless not
    `collapse`: the BCBP string's padding matters), characters no bundled font has → "?"."""
    covered = _covered()
    out: list[str] = []
    for char in text:
        category = unicodedata.category(char)
        if category in ("Zl", "Zp") or char in "\t\n\r\v\f":
            out.append(" ")
        elif category.startswith("C"):
            continue  # Cc control, Cf bidi overrides/zero-width, Cs surrogates, Co private use, Cn unassigned
        elif category.startswith("Z"):
            out.append(" ")
        elif ord(char) in covered:
            out.append(char)
        elif unicodedata.combining(char):
            continue
        else:
            out.append(MISSING)
    printable = "".join(out)
    return " ".join(printable.split()) if collapse else printable.strip()


class _Page:
    """Drawing helpers on one fpdf2 document."""

    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf

    def font(self, size: float, *, bold: bool = False, colour: tuple[int, int, int] = INK) -> None:
        self.pdf.set_font("DejaVu", "B" if bold else "", size)
        self.pdf.set_text_color(*colour)

    def fit(self, text: str, width: float, size: float, *, floor: float = 6.5,
            collapse: bool = True) -> tuple[str, float]:
        """The text at the largest size ≤ `size` that fits `width`, cut with "…" at the floor size."""
        text = clean(text, collapse=collapse)
        current = size
        while True:
            self.pdf.set_font_size(current)
            if self.pdf.get_string_width(text) <= width:
                return text, current
            if current <= floor:
                break
            current = max(floor, current - 0.5)
        return self.cut(text, width, "…"), current

    def cut(self, text: str, width: float, mark: str) -> str:
        """The longest prefix of `text` that fits `width` with `mark` after it (binary search: hostile input
        can be kilobytes long, and each measure walks the string)."""
        low, high = 0, len(text)
        while low < high:
            middle = (low + high + 1) // 2
            if self.pdf.get_string_width(text[:middle] + mark) <= width:
                low = middle
            else:
                high = middle - 1
        return text[:low].rstrip() + mark

    def line(self, x: float, y: float, width: float, text: str, size: float, *, bold: bool = False,
             colour: tuple[int, int, int] = INK, align: str = "L", floor: float = 6.5, collapse: bool = True) -> None:
        self.font(size, bold=bold, colour=colour)
        fitted, used = self.fit(text, width, size, floor=floor, collapse=collapse)
        self.pdf.set_font_size(used)
        self.pdf.set_xy(x, y)
        self.pdf.cell(width, used * 0.3528 * 1.25, fitted, align=align, new_x=XPos.RIGHT, new_y=YPos.TOP)

    def field(self, x: float, y: float, width: float, label: str, value: str, size: float = 11,
              *, bold: bool = True) -> None:
        """A small grey caption over its value."""
        self.line(x, y, width, label.upper(), 7, colour=GREY)
        self.line(x, y + 3.6, width, value or "—", size, bold=bold)

    def section(self, y: float, title: str) -> None:
        self.line(MARGIN, y, CONTENT_W, title.upper(), 8.5, bold=True, colour=ACCENT)
        self.pdf.set_draw_color(*RULE)
        self.pdf.set_line_width(0.3)
        self.pdf.line(MARGIN, y + 5, PAGE_W - MARGIN, y + 5)

    def paragraph(self, x: float, y: float, width: float, text: str, size: float, max_lines: int) -> None:
        """Wrapped text of at most `max_lines` lines, the last cut with "…" if there was more."""
        self.font(size, colour=GREY)
        text = clean(text)
        wrapped = self.pdf.multi_cell(width, size * 0.45, text, dry_run=True, output=MethodReturnValue.LINES)
        lines = [str(each).strip() for each in wrapped] if isinstance(wrapped, list) else [text]
        if len(lines) > max_lines:
            lines = lines[:max_lines]
            lines[-1] = self.cut(lines[-1], width, " …")
        for index, text_line in enumerate(lines):
            self.pdf.set_xy(x, y + index * size * 0.45)
            self.pdf.cell(width, size * 0.45, text_line, new_x=XPos.RIGHT, new_y=YPos.TOP)


def _draw(page: _Page, ticket: TicketPage) -> None:
    pdf = page.pdf
    pdf.add_page()

    # Header band: brand left, booking reference right.
    pdf.set_fill_color(*NAVY)
    pdf.rect(0, 0, PAGE_W, 30, style="F")
    page.line(MARGIN, 7.5, 70, "FlyO", 30, bold=True, colour=(255, 255, 255))
    page.line(110, 7, PAGE_W - MARGIN - 110, _("Booking reference").upper(), 7.5, colour=(190, 205, 225), align="R")
    page.line(110, 11.5, PAGE_W - MARGIN - 110, ticket.booking_reference, 22, bold=True, colour=(255, 255, 255),
              align="R")
    pdf.set_fill_color(*ACCENT)
    pdf.rect(0, 30, PAGE_W, 1.2, style="F")
    page.line(MARGIN, 35, CONTENT_W, _("E-TICKET / ITINERARY RECEIPT — not a boarding pass"), 12.5, bold=True)

    # Passenger.
    page.section(45, _("Passenger"))
    page.line(MARGIN, 52.5, CONTENT_W, ticket.passenger_name, 17, bold=True, floor=7)
    if ticket.infant_line:
        page.line(MARGIN, 60.5, CONTENT_W, ticket.infant_line, 10.5, colour=GREY, floor=6.5)
    column = CONTENT_W / 3
    page.field(MARGIN, 67, column - 4, _("Ticket number"), ticket.ticket_number)
    page.field(MARGIN + column, 67, column - 4, _("Date of issue"), ticket.issued_on)
    page.field(MARGIN + 2 * column, 67, column, _("Booking reference"), ticket.booking_reference)

    # Itinerary: flight title, then FROM | → | TO, then the details row.
    page.section(81, _("Flight {flight}").format(flight=clean(ticket.flight_number)))
    page.line(MARGIN + 60, 81, CONTENT_W - 60, ticket.carrier, 8.5, colour=GREY, align="R")
    half = (CONTENT_W - 14) / 2
    for x, caption, iata, city, airport, when_caption, when in (
        (MARGIN, _("From"), ticket.origin_iata, ticket.origin_city, ticket.origin_airport, _("Departure"),
         ticket.departure),
        (MARGIN + half + 14, _("To"), ticket.destination_iata, ticket.destination_city, ticket.destination_airport,
         _("Arrival"), ticket.arrival),
    ):
        page.line(x, 89, half, caption.upper(), 7, colour=GREY)
        page.line(x, 92.5, half, iata, 30, bold=True, colour=NAVY)
        page.line(x, 106, half, city, 13, bold=True)
        page.line(x, 112, half, airport, 9, colour=GREY)
        page.field(x, 118, half, when_caption, when, 12)
    page.line(MARGIN + half, 96, 14, "→", 20, colour=ACCENT, align="C")
    details = (
        (_("Duration"), ticket.duration),
        (_("Aircraft"), ticket.aircraft),
        (_("Cabin"), ticket.cabin),
        (_("Seat"), ticket.seat),
    )
    widths = (0.22, 0.38, 0.24, 0.16)
    x = MARGIN
    pdf.set_fill_color(242, 245, 249)
    pdf.rect(MARGIN, 129, CONTENT_W, 14, style="F")
    for (caption, value), share in zip(details, widths, strict=True):
        page.field(x + 3, 131, CONTENT_W * share - 5, caption, value, 11.5)
        x += CONTENT_W * share

    # Fare.
    page.section(149, _("Fare"))
    page.field(MARGIN, 156.5, column * 1.2 - 4, _("Fare paid"), ticket.fare, 12)
    page.field(MARGIN + column * 1.2, 156.5, CONTENT_W - column * 1.2, _("Baggage allowance"),
               ticket.baggage or _("See the fare conditions"), 10.5, bold=ticket.baggage is not None)
    page.paragraph(MARGIN, 167, CONTENT_W, ticket.conditions, 8.5, max_lines=3)

    # Barcodes: PDF417 wide on the left, QR square on the right, both sized for a 200 dpi scan.
    page.section(183, _("Barcode (IATA BCBP)"))
    qr_side = 52.0
    pdf417_w = CONTENT_W - qr_side - 10
    top = 192.0
    pdf.image(BytesIO(ticket.pdf417_png), x=MARGIN, y=top, w=pdf417_w, h=qr_side, keep_aspect_ratio=True)
    pdf.image(BytesIO(ticket.qr_png), x=PAGE_W - MARGIN - qr_side, y=top, w=qr_side, h=qr_side,
              keep_aspect_ratio=True)
    page.line(MARGIN, top + qr_side + 3, CONTENT_W, ticket.bcbp, 7, colour=GREY, floor=5, collapse=False)

    # Footer.
    pdf.set_draw_color(*RULE)
    pdf.line(MARGIN, 282, PAGE_W - MARGIN, 282)
    page.line(MARGIN, 284, CONTENT_W, _("This itinerary receipt is not a boarding pass. Check in online or at the "
                                        "airport to receive your boarding pass."), 7.5, colour=GREY, floor=5)


def render(pages: Sequence[TicketPage], *, title: str, issued: datetime) -> bytes:
    """The PDF: one A4 page per TicketPage, in order. `issued` is the PDF's creation date (never "now")."""
    if not pages:
        raise ValueError("an e-ticket needs at least one page")
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.add_font("DejaVu", "", SANS)
    pdf.add_font("DejaVu", "B", SANS_BOLD)
    if _needs_cjk(pages):
        pdf.add_font("NotoSansSC", "", CJK)
        pdf.set_fallback_fonts(["NotoSansSC"], exact_match=False)
    pdf.set_title(clean(title))
    pdf.set_author("FlyO")
    pdf.set_creator("FlyO")
    pdf.set_creation_date(issued)
    page = _Page(pdf)
    for ticket in pages:
        _draw(page, ticket)
    return bytes(pdf.output())
