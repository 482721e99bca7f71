"""A sample e-ticket for the README: `python -m services.tickets.sample [out.png]` renders two made-up pages and
rasterises page 1 at 200 dpi to docs/e-ticket-sample.png (pypdfium2, a test dependency, only needed here).

Invented data, barcodes from services.tickets.barcodes — no database, no booking. The tests start from
these pages too (tests/services/test_ticket_pdf.py)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from services.tickets.barcodes import pdf417_png, qr_png
from services.tickets.pdf import TicketPage, render

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_PNG = ROOT / "docs" / "e-ticket-sample.png"
ISSUED = datetime(2027, 1, 5, 14, 30, tzinfo=UTC)
BCBP = "M1LOVELACE/ADA        EFLY4Q2 LHRJFKFO 0280 012Y014C0001 100"


def sample_page(name: str = "Ada Lovelace", *, infant: str | None = "+ infant on lap: Ella Lovelace",
                seat: str = "14C", bcbp: str = BCBP) -> TicketPage:
    return TicketPage(
        booking_reference="FLY4Q2",
        ticket_number="000 1234567890",
        passenger_name=name,
        infant_line=infant,
        flight_number="FO280",
        carrier="FlyO · operated by FlyO",
        origin_city="London",
        origin_airport="Heathrow Airport, Terminal 5",
        origin_iata="LHR",
        destination_city="New York",
        destination_airport="John F. Kennedy International Airport",
        destination_iata="JFK",
        departure="Tue 12 Jan 2027, 09:40 GMT",
        arrival="Tue 12 Jan 2027, 12:55 EST",
        duration="8 h 15 min",
        aircraft="Boeing 787-9 Dreamliner",
        cabin="Economy",
        seat=seat,
        fare="£412.30",
        issued_on="5 Jan 2027",
        baggage="1 × 23 kg checked, 1 cabin bag",
        conditions="Changes allowed for a fee of £75 plus any fare difference until 24 hours before departure. "
                   "Refundable less a £150 fee. No-show: the ticket loses its value. Name changes not permitted.",
        bcbp=bcbp,
        pdf417_png=pdf417_png(bcbp),
        qr_png=qr_png(bcbp),
    )


def sample_pdf() -> bytes:
    return render([sample_page(), sample_page("王芳", infant=None, seat="14D")], title="FlyO e-ticket FLY4Q2",
                  issued=ISSUED)


def page_png(pdf: bytes, index: int = 0, dpi: int = 200) -> bytes:
    import pypdfium2  # type: ignore[import-untyped]  # a test/dev dependency: only this script and the tests rasterise

    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[index].render(scale=dpi / 72).to_pil()
    finally:
        document.close()
    out = BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def main(argv: list[str]) -> None:
    target = Path(argv[0]) if argv else SAMPLE_PNG
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(page_png(sample_pdf()))
    print(target)


if __name__ == "__main__":
    main(sys.argv[1:])
