"""Commands every traveller has: /start, /help, /search, /cancel (/mybookings: handlers.mybookings)."""

from __future__ import annotations

from telegram import Update

from core.i18n import N_, _
from handlers.context import FlyOContext
from handlers.render import esc
from handlers.router import new_search, reprompt, run_turn
from handlers.turn import Turn
from models.conversation import Step
from services.seats import chat_holder

HELP = N_(
    "✈️ <b>FlyO</b> books flights right here in the chat.\n\n"
    "• /search — find a flight step by step, or all at once: <code>/search LHR JFK 2026-12-15 2</code> "
    "(you can also just type <code>London New York 15 Dec</code>; a return: <code>LHR JFK 15 Dec 22 Dec 2</code>). "
    "Where no flight goes direct, FlyO offers connections.\n"
    "• Pick seats on the seat map, enter passenger details, review, then pay by card through a secure "
    "Stripe link. The confirmation arrives here and by e-mail, with your e-ticket (PDF) and a calendar file.\n"
    "• /mybookings — your bookings: pay, see the details or cancel\n"
    "• /ticket — your e-ticket and calendar file again (<code>/ticket REF</code> for a given booking)\n"
    "• /profile — the travellers FlyO saved when you booked, and your contact: see, edit or delete them\n"
    "• /support — write to the FlyO team (<code>/support REF your message</code>); they answer here\n"
    "• /cancel — stop the current booking; <code>/cancel REF</code> cancels booking REF\n"
    "• /help — this message"
)
DELETEME_HELP = N_("• /deleteme — delete your data from FlyO (you are asked first)")
LANGUAGE_HELP = N_("• /language — English, Español or Deutsch")


def help_text() -> str:
    """/help in the traveller's language, the /language and /deleteme lines last."""
    return _(HELP) + "\n" + _(LANGUAGE_HELP) + "\n" + _(DELETEME_HELP)


ADMIN_HELP = ("\n\nAdmin: /booking REF · /resend REF · /cancel REF [reason] [-- message to the traveller] · "
              "/stats · /dashboard · /find name|e-mail|REF · /flagged · /reply REF text · /flight FO280 2026-12-03 · "
              "/delay FO280 2026-12-03 45 [reason] · /gate FO280 2026-12-03 B32 [terminal] · "
              "/cancelflight FO280 2026-12-03 [reason]")


async def start(update: Update, context: FlyOContext) -> None:
    """Greeting and what FlyO can do; an unfinished booking is picked up where it was."""
    async def body(turn: Turn) -> None:
        name = esc(turn.first_name) or _("there")
        turn.say(_("Hi {name}!").format(name=name) + " " + help_text() + (ADMIN_HELP if turn.is_admin else ""))
        if turn.conv.step not in (Step.IDLE, Step.BOOKED):
            turn.say(_("You have a booking in progress — here is where you left off:"))
            await reprompt(turn)
    await run_turn(update, context, body)


async def help_command(update: Update, context: FlyOContext) -> None:
    """What FlyO can do and how to ask."""
    async def body(turn: Turn) -> None:
        turn.say(help_text() + (ADMIN_HELP if turn.is_admin else ""))
        if turn.conv.step not in (Step.IDLE, Step.BOOKED):  # mid-booking: the question again, to carry on
            turn.say(_("You have a booking in progress — here is where you left off:"))
            await reprompt(turn)
    await run_turn(update, context, body)


async def search_command(update: Update, context: FlyOContext) -> None:
    """Starts a new search (guided, or parsed from the arguments)."""
    args = " ".join(context.args or [])

    async def body(turn: Turn) -> None:
        await new_search(turn, args)
    await run_turn(update, context, body)


async def cancel_command(update: Update, context: FlyOContext) -> None:
    """/cancel aborts the current step and frees held seats; /cancel REF [reason] cancels a booking."""
    args = list(context.args or [])
    if args:
        from handlers.manage import cancel_booking_command

        await cancel_booking_command(update, context, args)
        return

    async def body(turn: Turn) -> None:
        released = await turn.svc.seats.release_holder(chat_holder(turn.chat_id))
        had_draft = turn.conv.step not in (Step.IDLE, Step.BOOKED)
        turn.restart(Step.IDLE)
        if had_draft:
            if released:
                turn.say(_("Cancelled the booking in progress and released {count} held seat(s). Send /search to "
                           "start again.").format(count=released))
            else:
                turn.say(_("Cancelled the booking in progress. Send /search to start again."))
        else:
            turn.say(_("Nothing in progress to cancel. To cancel a booking, send /cancel REF "
                       "(see /mybookings for your references)."))
    await run_turn(update, context, body)


async def unknown_command(update: Update, context: FlyOContext) -> None:
    """A command FlyO doesn't have: say which ones exist."""
    async def body(turn: Turn) -> None:
        turn.say(_("I don't know that command.") + " " + help_text())
    await run_turn(update, context, body)
