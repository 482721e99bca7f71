"""One update's worth of conversation: the chat's state, the input, and the replies to send."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from telegram import (
    CallbackQuery,
    Contact,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)

from models.booking import Booking
from models.conversation import Conversation, Draft, Step
from services.context import Services
from services.seats import chat_holder

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


@dataclass
class Out:
    text: str
    markup: Markup = None
    edit: bool = False  # replace the message whose button was pressed (calendar, paging, seat map)


@dataclass
class Turn:
    svc: Services
    conv: Conversation
    draft: Draft
    user_id: int
    chat_id: int
    first_name: str = ""
    text: str | None = None
    contact: Contact | None = None
    query: CallbackQuery | None = None
    action: str = ""
    arg: str = ""
    replies: list[Out] = field(default_factory=list)
    notice: str | None = None  # short text for answerCallbackQuery
    alert: bool = False
    is_admin: bool = False
    next: Step | None = None  # set by goto: the router shows this step next (handlers.flow)
    redraw: bool = False  # the step being shown replaces the pressed message
    booking: Booking | None = None  # the booking this turn made (handlers.review): the next prompt doesn't read it

    def goto(self, step: Step, *, edit: bool = False) -> None:
        """Move to `step`; once the handler returns, the router shows it (its prompt in handlers.flow)."""
        self.conv.step = step
        self.next, self.redraw = step, edit

    async def start_over(self) -> None:
        """A new search: free the draft's held seats, forget the draft, and ask where from. A draft holding no
        seat costs no release (a hold the draft doesn't list — a step that failed after holding — lapses by
        itself after HOLD_MINUTES)."""
        if any(seat for pick in self.draft.picks for seat in pick.seats):
            await self.svc.seats.release_holder(chat_holder(self.chat_id))
        self.restart(Step.ASK_ORIGIN)
        self.goto(Step.ASK_ORIGIN)

    def restart(self, step: Step = Step.IDLE) -> None:
        """A new flow at `step` with an empty draft: buttons of the previous one become stale."""
        self.svc.conversations.restart(self.conv, step)
        self.draft = Draft()

    def say(self, text: str, markup: Markup = None, *, edit: bool = False) -> None:
        self.replies.append(Out(text, markup, edit))

    def button(self, label: str, action: str, arg: str = "") -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=callback_data(self.conv.flow, action, arg))

    def today(self, tz: str | None = None) -> date:
        now = self.svc.clock.now()
        return now.astimezone(ZoneInfo(tz)).date() if tz else now.date()


def callback_data(flow: str, action: str, arg: str = "") -> str:
    data = f"{flow}:{action}:{arg}"
    if len(data.encode()) > 64:  # Telegram's limit; a longer one is a programming error
        raise ValueError(f"callback data over 64 bytes: {data!r}")
    return data


def pressed(update: Update) -> tuple[str, str] | None:
    """(action, arg) of a pressed button; ("", "") for data that isn't FlyO's; None when it isn't a press."""
    query = update.callback_query
    if query is None:
        return None
    parsed = parse_callback(query.data or "")
    return (parsed[1], parsed[2]) if parsed else ("", "")


def parse_callback(data: str) -> tuple[str, str, str] | None:
    parts = data.split(":", 2)
    if len(parts) != 3:
        return None
    return parts[0], parts[1], parts[2]
