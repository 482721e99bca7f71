"""Self-service and staff help: /support (traveller → admins), and for admins /reply REF, /find, /flagged.

Messages to another chat go through the notification outbox (services.support). Staff-only texts are English,
like the other admin commands; every admin command is refused and audited for anyone else (handlers.admin).
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from core.errors import FlyOError
from core.formatting import local_date
from core.i18n import _
from handlers.admin import admin_only
from handlers.context import FlyOContext
from handlers.render import esc, money
from handlers.router import run_turn
from handlers.turn import Turn
from models.booking import Booking, BookingFlag
from services import itinerary_texts, support
from services.audit import audit
from services.passengers import BadAnswer, format_phone, parse_email, parse_phone

REFERENCE_LIKE = re.compile(r"[A-Z0-9]{6}")  # as a reference is typed: six capitals and digits
FIND_LIMIT = 10

FLAG_REASONS = {
    BookingFlag.AMOUNT_MISMATCH: "the amount paid differs from the booking's price",
    BookingFlag.REFUND_FAILED: "a refund failed — refund it in the Stripe dashboard",
    BookingFlag.OVERSOLD: "oversold — a seat was lost after payment and could not be replaced",
    BookingFlag.DISPUTED: "disputed by the card holder (chargeback)",
    BookingFlag.PARTIALLY_REFUNDED: "partially refunded in Stripe",
}


def _after_command(update: Update, words: int) -> str:
    """The message text after the command and `words` more words, line breaks kept."""
    message = update.effective_message
    parts = (message.text or "").split(maxsplit=words) if message is not None else []
    return parts[words] if len(parts) > words else ""


def _message_key(update: Update, kind: str) -> str:
    """One outbox key per Telegram message: a replayed update queues nothing twice."""
    message = update.effective_message
    chat = update.effective_chat
    return f"{kind}:{chat.id if chat else 0}:{message.message_id if message else 0}"


# ---- /support ----------------------------------------------------------------------------------------
async def support_command(update: Update, context: FlyOContext) -> None:
    """/support text, or /support REF text: the message to the admins with the booking's reference."""
    text = _after_command(update, 1)
    key = _message_key(update, "support")

    async def body(turn: Turn) -> None:
        svc = turn.svc
        words = text.split(maxsplit=1)
        if not words:
            turn.say(_("Tell us what you need after /support, e.g. <code>/support K7Q2MX Can I bring a "
                       "bike?</code> — your message goes to the FlyO team, who answer here."))
            return
        message, booking = text, None
        if REFERENCE_LIKE.fullmatch(words[0].upper()):
            booking = await svc.bookings.own_by_reference(words[0], turn.user_id)
            if booking is not None:
                message = words[1] if len(words) > 1 else ""
            elif REFERENCE_LIKE.fullmatch(words[0]):
                # Typed as references are (capitals and digits) but not one of theirs: refused, whether it exists
                # or not, so references can't be probed. (A word in lower case, "please", is the message.)
                turn.say(_("There is no booking {reference} among yours (/mybookings lists them).").format(
                    reference=esc(words[0])))
                return
        if not message.strip():
            turn.say(_("What should we tell the team about {reference}? Send <code>/support {reference} your "
                       "message</code>.").format(reference=esc(words[0].upper())))
            return
        if booking is None:
            booking = await svc.bookings.latest_for_user(turn.user_id)
        reference = booking.reference if booking is not None else None
        message, trimmed = support.trim(message, support.MAX_SUPPORT_CHARS)
        sent = await support.forward_to_admins(svc.notifications, key=key, user_id=turn.user_id,
                                               name=turn.first_name, reference=reference, text=message,
                                               trimmed=trimmed)
        if not sent:
            turn.say(_("Sorry — support is not set up on this FlyO yet, so your message could not be sent."))
            return
        if reference:
            done = _("✉️ Sent to the FlyO team, about booking <b>{reference}</b>. They will answer here.").format(
                reference=reference)
        else:
            done = _("✉️ Sent to the FlyO team. They will answer here.")
        if trimmed:
            done += "\n" + _("Your message was long, so only its first {count} characters were sent.").format(
                count=support.MAX_SUPPORT_CHARS)
        turn.say(done)
    await run_turn(update, context, body)


# ---- admins ------------------------------------------------------------------------------------------
def _reply(update: Update) -> Any:
    text = _after_command(update, 2)
    key = _message_key(update, "reply")

    async def body(turn: Turn, args: list[str]) -> None:
        svc = turn.svc
        if not args or not text.strip():
            turn.say("Usage: /reply REF your answer (it is sent to the traveller of booking REF).")
            return
        reference = args[0].upper()[:40]
        try:
            booking = await svc.bookings.by_reference(reference)
        except FlyOError:
            await audit(svc.clock, turn.user_id, "reply", reference, "not_found")
            turn.say(f"There is no booking {esc(reference)}: nothing was sent (/find looks bookings up).")
            return
        answer, trimmed = support.trim(text, support.MAX_REPLY_CHARS)
        await support.reply_to_traveller(svc.notifications, booking, key=key, text=answer)
        await audit(svc.clock, turn.user_id, "reply", booking.reference, "sent", answer[:200])
        turn.say(f"Sent to the traveller of <b>{booking.reference}</b> (chat {booking.chat_id})."
                 + (f" Cut to its first {support.MAX_REPLY_CHARS} characters." if trimmed else ""))
    return body


def summary_line(turn: Turn, booking: Booking) -> str:
    """One line per booking for the admins: reference, status, route, date, first passenger, e-mail, total."""
    origin = turn.svc.airports.get(booking.first_flight.origin)
    day = booking.first_flight.departs_at.astimezone(ZoneInfo(origin.tz if origin else "UTC")).date()
    people = booking.passengers[0].full_name if booking.passengers else "?"
    if len(booking.passengers) > 1:
        people += f" +{len(booking.passengers) - 1}"
    line = (f"<b>{booking.reference}</b> · {booking.status.value} · {itinerary_texts.route(booking)} · "
            f"{local_date(day)} · {esc(people)} · {esc(booking.email)} · "
            f"{money(booking.price.total, booking.price.currency)}")
    return line + (f" · ⚠️ {FLAG_REASONS.get(booking.flag, booking.flag)}" if booking.flag else "")


async def find(turn: Turn, args: list[str]) -> None:
    query = " ".join(args)[:100]
    if len(query.strip()) < 2:
        turn.say("Usage: /find name, e-mail or reference (at least 2 characters).")
        return
    found = await turn.svc.bookings.find(query, FIND_LIMIT)
    await audit(turn.svc.clock, turn.user_id, "find", query[:40], "shown", f"{len(found)} found")
    if not found:
        turn.say(f"No booking matches “{esc(query)}”.")
        return
    more = f" (the newest {FIND_LIMIT})" if len(found) == FIND_LIMIT else ""
    turn.say("\n".join([f"🔎 {len(found)} booking(s) for “{esc(query)}”{more}:",
                        *(summary_line(turn, b) for b in found)])[:4000])


async def flagged(turn: Turn, _args: list[str]) -> None:
    found = await turn.svc.bookings.flagged()
    await audit(turn.svc.clock, turn.user_id, "flagged", "", "shown", f"{len(found)} flagged")
    if not found:
        turn.say("No booking is flagged: nothing needs a look.")
        return
    turn.say("\n".join(["⚠️ Flagged bookings, newest first (/booking REF for the details):",
                        *(summary_line(turn, b) for b in found)])[:4000])


# ---- /contact ----------------------------------------------------------------------------------------
async def contact_command(update: Update, context: FlyOContext) -> None:
    """/contact REF email new@example.com, /contact REF phone +44 20 7946 0958: where later messages go."""
    args = list(context.args or [])

    async def body(turn: Turn) -> None:
        if len(args) < 3 or args[1].lower() not in ("email", "e-mail", "phone"):
            turn.say(_("To change where a booking's messages go: <code>/contact REF email new@example.com</code> "
                       "or <code>/contact REF phone +44 20 7946 0958</code>."))
            return
        booking = await turn.svc.bookings.own_by_reference(args[0][:40], turn.user_id)
        if booking is None:
            turn.say(_("There is no booking {reference} among yours (/mybookings lists them).").format(
                reference=esc(args[0][:40].upper())))
            return
        value = " ".join(args[2:])
        try:
            if args[1].lower() == "phone":
                phone = parse_phone(value)
                booking = await turn.svc.bookings.change_contact(booking, phone=phone, actor=f"user:{turn.user_id}")
                turn.say(_("✅ Booking <b>{reference}</b>: phone now {phone}.").format(
                    reference=booking.reference, phone=esc(format_phone(phone))))
            else:
                email = parse_email(value)
                booking = await turn.svc.bookings.change_contact(booking, email=email, actor=f"user:{turn.user_id}")
                turn.say(_("✅ Booking <b>{reference}</b>: e-mails now go to {email}.").format(
                    reference=booking.reference, email=esc(email)))
        except BadAnswer as exc:
            turn.say(f"⚠️ {esc(exc)}")
        except FlyOError:
            turn.say(_("Booking <b>{reference}</b> is cancelled: there is nothing more to send.").format(
                reference=booking.reference))
    await run_turn(update, context, body)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("support", support_command, filters=private))
    app.add_handler(CommandHandler("contact", contact_command, filters=private))

    async def reply_command(update: Update, context: FlyOContext) -> None:
        await admin_only("reply", _reply(update))(update, context)

    app.add_handler(CommandHandler("reply", reply_command, filters=private))
    app.add_handler(CommandHandler("find", admin_only("find", find), filters=private))
    app.add_handler(CommandHandler("flagged", admin_only("flagged", flagged), filters=private))
