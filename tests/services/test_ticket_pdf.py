"""The e-ticket PDF renderer (services/tickets/pdf.py), read back the way a gate scanner and a mail client would:
pages rasterised at 200 dpi (pypdfium2) and decoded (zxing-cpp), text extracted (pypdf), bytes compared.

FLYO_TICKET_SAMPLE=path saves page 1 of the two-page render as a PNG (`python -m services.tickets.sample`
does the same without the tests)."""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
import zxingcpp  # type: ignore[import-untyped]
from pypdf import PdfReader

from services.tickets.barcodes import pdf417_png, qr_png
from services.tickets.pdf import TicketPage, clean, render
from services.tickets.sample import sample_page
from tests.pdfread import DPI, page_image, pdfium_texts, text_layer

BCBP = "M1BRZECZYSZCZYKIEWIC/LEFLY4Q2 LHRJFKFO 0280 012Y014C0001 100"
ISSUED = datetime(2027, 1, 5, 14, 30, tzinfo=UTC)


PDF417_PNG, QR_PNG = pdf417_png(BCBP), qr_png(BCBP)


def _page(name: str, **changes: str | None) -> TicketPage:
    """The README's sample page (services.tickets.sample) with this test's name, barcodes and shorter texts."""
    page = dataclasses.replace(
        sample_page(name, infant=None, seat="14C", bcbp=BCBP), aircraft="Boeing 787-9", baggage="1 × 23 kg checked",
        conditions="Changes allowed for a fee of £75 plus any fare difference. Refundable less a £150 fee.",
        pdf417_png=PDF417_PNG, qr_png=QR_PNG)
    return dataclasses.replace(page, **changes)  # type: ignore[arg-type]


PAGES = [
    _page("王芳", seat="14D"),
    _page("Łukasz Zoë Brzęczyszczykiewicz", seat="14C", ticket_number="000 1234567891",
          infant_line="+ infant on lap: Ella Lovelace"),
]


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return render(PAGES, title="FlyO e-ticket FLY4Q2", issued=ISSUED)


def test_the_barcode_string_is_60_characters() -> None:
    assert len(BCBP) == 60  # the IATA BCBP mandatory items of one leg


@pytest.mark.parametrize("index", [0, 1])
def test_both_barcodes_scan_from_each_page_at_200_dpi(pdf: bytes, index: int) -> None:
    image = page_image(pdf, index)
    assert image.size == (round(210 / 25.4 * DPI), round(297 / 25.4 * DPI))  # A4 portrait
    found = {(result.format, result.text) for result in zxingcpp.read_barcodes(image)}
    assert (zxingcpp.BarcodeFormat.PDF417, BCBP) in found
    assert (zxingcpp.BarcodeFormat.QRCode, BCBP) in found


def test_one_page_per_ticket_and_the_text_layer_has_what_staff_look_for(pdf: bytes) -> None:
    first, second = text_layer(pdf)
    for text in (first, second):
        for expected in ("FLY4Q2", "Tue 12 Jan 2027, 09:40 GMT", "Tue 12 Jan 2027, 12:55 EST", "FO280", "LHR", "JFK",
                         "London", "John F. Kennedy International Airport", "£412.30", "1 × 23 kg checked",
                         "E-TICKET / ITINERARY RECEIPT — not a boarding pass"):
            assert expected in text, (expected, text)
    assert "王芳" in pdfium_texts(pdf)[0] and "000 1234567890" in first and "14D" in first
    assert "Łukasz Zoë Brzęczyszczykiewicz" in second and "000 1234567891" in second and "14C" in second
    assert "+ infant on lap: Ella Lovelace" in second and "infant" not in first


def test_cjk_names_are_drawn_with_the_bundled_cjk_font(pdf: bytes) -> None:
    reader = PdfReader(BytesIO(pdf))
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()  # type: ignore[index, union-attr]
    }
    assert any("NotoSansSC" in font for font in fonts), fonts
    assert any("DejaVuSansBold" in font for font in fonts), fonts
    assert "?" not in clean("王芳 Łukasz Zoë Иван Ørjan")


def test_the_same_input_renders_the_same_bytes_dated_from_the_argument(pdf: bytes) -> None:
    again = render(PAGES, title="FlyO e-ticket FLY4Q2", issued=ISSUED)
    assert again == pdf
    assert PdfReader(BytesIO(pdf)).metadata.creation_date == ISSUED  # type: ignore[union-attr]
    assert render(PAGES, title="FlyO e-ticket FLY4Q2", issued=datetime(2027, 1, 6, tzinfo=UTC)) != pdf


HOSTILE = {
    "a 500-character name": _page("Wolfeschlegelsteinhausenbergerdorff " * 14),
    "an empty seat": _page("Ada Lovelace", seat="", baggage=None, infant_line=""),
    "control characters": _page("Ada\x00\x07\x1b[31m Love\u202elace\r\n\t", seat="1\x00A",
                                booking_reference="FLY\x08\x084Q2"),
    "right-to-left text": _page("\u05d3\u05d5\u05d3 \u05dc\u05d5\u05d9 محمد عبد الله", infant_line="+ \u202eevil"),
    "a 4 KB wall everywhere": _page("Ada " * 1000, conditions="No refunds. " * 400, aircraft="A" * 4096,
                                    origin_airport="X" * 4096, carrier="Y " * 2000, departure="9" * 4096),
    "glyphs no font has": _page("김민준 😀 \U00020000", seat="🪑"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_fields_never_raise_and_stay_on_one_page_each(case: str) -> None:
    pages = [HOSTILE[case], PAGES[0]]
    pdf = render(pages, title=f"\x00{case}", issued=ISSUED)
    texts = text_layer(pdf)
    assert len(texts) == 2
    assert not any(ord(char) < 32 and char not in "\n" for char in texts[0])
    assert "FLY4Q2" in texts[1] and "王芳" in pdfium_texts(pdf)[1]
    found = {(result.format, result.text) for result in zxingcpp.read_barcodes(page_image(pdf, 0))}
    assert (zxingcpp.BarcodeFormat.PDF417, BCBP) in found  # nothing long was drawn over the barcode


def test_clean_drops_controls_and_marks_what_no_font_can_draw() -> None:
    assert clean("Ada\x00\x07 \u200bLove\u202elace\r\n") == "Ada Lovelace"
    assert clean("김민준") == "???"
    assert clean("M1A/B   E", collapse=False) == "M1A/B   E"


def test_no_pages_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        render([], title="empty", issued=ISSUED)


def test_save_a_sample_png_when_asked(pdf: bytes) -> None:
    target = os.environ.get("FLYO_TICKET_SAMPLE")
    if not target:
        pytest.skip("set FLYO_TICKET_SAMPLE=path.png to save page 1")
    image = page_image(pdf, 0)
    image.save(Path(target), format="PNG", optimize=True)
