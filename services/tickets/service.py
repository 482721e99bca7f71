"""Issuing and drawing a booking's e-ticket files: the PDF (services.tickets.pdf) and the calendar (.ics).

Ticket numbers are issued on the first delivery after confirmation, not in the paid event itself: the paid event's
path stays at its five round trips (issue #16), and issuing is idempotent on its own — the serials come from one
atomic counter and are written by a conditional update that only an unticketed booking matches, so two deliveries
at once (the chat's document and the e-mail's attachment) leave the booking with one set of numbers; the loser's
serials are simply never used (numbers are unique, not gap-free, as airline ticket stock is). The date of issue is
the confirmation time stored on the booking, so a re-sent ticket shows the same date.

The files are drawn when they are delivered, from the booking as it is then (a replaced seat shows its new number),
and are never stored: the same booking draws the same bytes. The pages are composed on a small thread pool (a few
ms a page) and the PDF is rendered in a process of its own (services.tickets.renderer), so a burst of
confirmations never takes the event loop's CPU.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context

from core.clock import Clock
from core.i18n import _, current_locale, in_booking_language, ngettext
from models.booking import Booking, BookingStatus, TicketIssue
from repos.bookings import BookingRepo
from repos.ticket_numbers import TicketNumberRepo
from services.mailer import Attachment
from services.notifications import NothingToSend, NotificationService
from services.reference import ReferenceData
from services.tickets.calendar import MEDIA_TYPE as ICS_TYPE
from services.tickets.calendar import booking_ics
from services.tickets.compose import issued_at, page_count, ticket_pages
from services.tickets.numbers import ticket_number
from services.tickets.pdf import TicketPage
from services.tickets.renderer import render_pdf

log = logging.getLogger(__name__)

PDF_TYPE = "application/pdf"
RENDER_WORKERS = 2
KEPT_DRAWINGS = 32  # ~50 KB each
SEND_AGAIN_AFTER_MS = 60_000  # /ticket sends the files at most once a minute per booking and chat


class NoTicket(NothingToSend):
    """This booking has no e-ticket (not paid, or cancelled): `str(exc)` says why, for the traveller."""


def pdf_name(booking: Booking) -> str:
    return f"FlyO-e-ticket-{booking.reference}.pdf"


def ics_name(booking: Booking) -> str:
    return f"FlyO-{booking.reference}.ics"


def why_no_ticket(booking: Booking) -> str | None:
    """None when the booking can have an e-ticket; else the reason, in the traveller's words."""
    if booking.redacted_ms is not None:  # services.erasure: the trip is over and the names are gone
        return _("The trip of booking {reference} is over and its personal details were removed, so it has no "
                 "e-ticket any more.").format(reference=booking.reference)
    if booking.status == BookingStatus.CONFIRMED:
        return None
    if booking.status == BookingStatus.CANCELLED:
        return _("Booking {reference} was cancelled, so it has no e-ticket.").format(reference=booking.reference)
    return _("Booking {reference} is not paid yet: its e-ticket comes as soon as the payment arrives.").format(
        reference=booking.reference)


def caption(booking: Booking) -> str:
    """The chat caption of the e-ticket (HTML): the PNR, and how many pages."""
    pages = page_count(booking)
    return _("🎫 Your e-ticket for booking <b>{reference}</b> ({pages}). Show it with your passport or ID; "
             "the calendar file adds your flights to your calendar.").format(
        reference=booking.reference, pages=ngettext("{count} page", "{count} pages", pages).format(count=pages))


class TicketService:
    def __init__(self, clock: Clock, reference: ReferenceData, notifications: NotificationService, *,
                 bookings: BookingRepo | None = None, numbers: TicketNumberRepo | None = None,
                 workers: int = RENDER_WORKERS) -> None:
        self.clock = clock
        self.reference = reference
        self.notifications = notifications
        self.bookings = bookings or BookingRepo()
        self.numbers = numbers or TicketNumberRepo()
        self._threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="flyo-tickets")
        self._drawn: dict[str, asyncio.Future[list[Attachment]]] = {}  # the last drawings, oldest first

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)

    async def issue(self, booking: Booking) -> Booking:
        """The booking with its ticket numbers, issuing them if it has none. NoTicket unless CONFIRMED."""
        reason = why_no_ticket(booking)
        if reason is not None:
            raise NoTicket(reason)
        if booking.tickets is not None:
            return booking
        serials = await self.numbers.next_serials(len(booking.passengers))
        issue = TicketIssue(numbers=[ticket_number(s) for s in serials],
                            issued_ms=booking.confirmed_ms or self.clock.now_ms())
        if await self.bookings.issue_tickets(booking, issue):
            log.info("tickets issued: %s", ", ".join(issue.numbers), extra={"booking": booking.reference})
            issued: Booking = booking.model_copy(update={"tickets": issue})
            return issued
        fresh = await self.bookings.get(booking.id)  # another delivery issued them first, or it was cancelled
        if fresh is None or fresh.tickets is None:
            raise NoTicket(why_no_ticket(fresh) if fresh is not None and why_no_ticket(fresh) else
                           _("Booking {reference} has no e-ticket.").format(reference=booking.reference))
        return fresh

    async def send_to_chat(self, booking: Booking, chat_id: int) -> bool:
        """/ticket: the e-ticket files to `chat_id` through the outbox (retried like any message). Once a minute
        per booking and chat: False when one is already on its way (a button pressed 25 times sends one).
        NoTicket (with the reason) unless the booking is CONFIRMED."""
        reason = why_no_ticket(booking)
        if reason is not None:
            raise NoTicket(reason)
        minute = self.clock.now_ms() // SEND_AGAIN_AFTER_MS
        return await self.notifications.enqueue_all([self.notifications.tickets_note(
            f"ticket:{booking.id}:{chat_id}:{minute}", chat_id, str(booking.id), caption(booking),
            reference=booking.reference)]) == 1

    async def files_for(self, booking_id: str) -> tuple[Booking, list[Attachment]]:
        """The booking's e-ticket PDF and calendar file, issued if need be. NoTicket when it has none."""
        booking = await self.bookings.get(booking_id)
        if booking is None:
            raise NoTicket(_("That booking no longer exists."))
        booking = await self.issue(booking)
        return booking, await self.draw(booking)

    @in_booking_language
    async def draw(self, booking: Booking) -> list[Attachment]:
        """The two files of a ticketed booking, in the caller's language.

        The confirmation's album and its e-mail ask for the same booking moments apart: the last few drawings
        are kept, keyed by everything they are drawn from (the booking as stored, the language), so the second
        asker — even one that comes while the first is still drawing — gets the same files without drawing
        them again. Any change to the booking changes the key."""
        key = hashlib.sha256(f"{current_locale()}\n{booking.model_dump_json()}".encode()).hexdigest()
        found = self._drawn.get(key)
        if found is None or (found.done() and found.exception() is not None):
            found = asyncio.ensure_future(self._draw(booking))
            self._drawn[key] = found
            while len(self._drawn) > KEPT_DRAWINGS:
                self._drawn.pop(next(iter(self._drawn)))
        return list(await asyncio.shield(found))

    async def _draw(self, booking: Booking) -> list[Attachment]:
        """Compose the pages and the calendar on a thread (barcodes, formatting: a few ms a page), then render the
        PDF in the renderer process (renderer.render_pdf)."""
        loop = asyncio.get_running_loop()
        pages, ics = await loop.run_in_executor(self._threads, copy_context().run, self._compose, booking)
        title = _("FlyO e-ticket {reference}").format(reference=booking.reference)
        pdf = await render_pdf(pages, title=title, issued=issued_at(booking), locale=current_locale())
        return [Attachment(pdf_name(booking), pdf, PDF_TYPE), Attachment(ics_name(booking), ics, ICS_TYPE)]

    def _compose(self, booking: Booking) -> tuple[list[TicketPage], bytes]:
        pages = ticket_pages(booking, self.reference)
        return pages, booking_ics(booking, self.reference.airports, bot_username=self.reference.bot_username or "")
