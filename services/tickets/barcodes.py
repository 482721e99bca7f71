"""The barcode images of a BCBP string (`services.tickets.bcbp`): PDF417, the symbology of paper boarding passes,
and QR, which phones and most gate readers also scan. PNG bytes, the same bytes for the same string.

PDF417 (pdf417gen): 6 data columns and error-correction (security) level 5 make the 60-character string a
wide, boarding-pass-shaped symbol (17 rows, about 3:1); level 5 adds 64 error-correction codewords, so a
creased or partly smudged print still reads. Each module is 3 px wide and each row 3 modules high (the
PDF417 minimum row height), with a 12 px quiet zone, so the image stays sharp when a PDF scales it down.
QR (segno): error correction M (15 % of the symbol recoverable), 6 px modules, the standard 4-module quiet zone.
"""

from __future__ import annotations

import io

import pdf417gen  # type: ignore[import-untyped]
import segno

PDF417_COLUMNS = 6
PDF417_SECURITY_LEVEL = 5
PDF417_MODULE_PX = 3
PDF417_ROW_HEIGHT = 3  # in module widths
PDF417_QUIET_ZONE_PX = 12
QR_ERROR = "m"
QR_MODULE_PX = 6
QR_QUIET_ZONE = 4  # modules


def pdf417_png(data: str) -> bytes:
    """`data` as a PDF417 symbol, PNG."""
    if not data:
        raise ValueError("an empty string makes no barcode")
    codes = pdf417gen.encode(data, columns=PDF417_COLUMNS, security_level=PDF417_SECURITY_LEVEL)
    image = pdf417gen.render_image(codes, scale=PDF417_MODULE_PX, ratio=PDF417_ROW_HEIGHT,
                                   padding=PDF417_QUIET_ZONE_PX)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def qr_png(data: str) -> bytes:
    """`data` as a QR code, PNG."""
    if not data:
        raise ValueError("an empty string makes no barcode")
    symbol = segno.make(data, error=QR_ERROR, micro=False, boost_error=False)
    out = io.BytesIO()
    symbol.save(out, kind="png", scale=QR_MODULE_PX, border=QR_QUIET_ZONE)
    return out.getvalue()
