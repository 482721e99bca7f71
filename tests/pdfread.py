"""Reading a PDF back as a person, a gate scanner and a mail client would: pages rasterised (pdfium, what Chrome
uses), barcodes decoded (zxing-cpp), the text layer extracted (pypdf, and pdfium's own reading)."""

from __future__ import annotations

from io import BytesIO

import pypdfium2  # type: ignore[import-untyped]
import zxingcpp  # type: ignore[import-untyped]
from PIL import Image
from pypdf import PdfReader

DPI = 200  # a gate scanner's resolution, roughly


def page_image(pdf: bytes, index: int, dpi: int = DPI) -> Image.Image:
    document = pypdfium2.PdfDocument(pdf)
    try:
        image: Image.Image = document[index].render(scale=dpi / 72).to_pil()
        return image
    finally:
        document.close()


def barcodes(pdf: bytes, index: int) -> dict[str, str]:
    """Format name ("PDF417", "QRCode") → decoded text of every barcode on page `index`."""
    return {result.format.name: result.text for result in zxingcpp.read_barcodes(page_image(pdf, index))}


def text_layer(pdf: bytes) -> list[str]:
    """pypdf's text of each page. It reads fpdf2's CFF (OpenType) font — the CJK fallback — as one-byte codes, so
    CJK characters come out with a NUL before each: read such names with `pdfium_texts`."""
    return [page.extract_text() for page in PdfReader(BytesIO(pdf)).pages]


def pdfium_texts(pdf: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [str(document[index].get_textpage().get_text_range()) for index in range(len(document))]
    finally:
        document.close()
