"""Seat-hold awareness: a traveller is told once when the seats they hold are about to lapse, and once when they
lapsed, while still choosing seats or filling in the booking (run by the periodic sweep, services.sweeps).

Only a traveller's own (chat) holds lapse; a booking's never do. Each message goes through the notification
outbox under a key of the chat and the hold's expiry, so two sweeps (or replicas) at once send it once, and a
seat held again (every tap, ✅ Continue) has a new expiry: the old one is never warned about.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from core.clock import Clock
from core.formatting import local_time
from core.i18n import DEFAULT_LOCALE, _, use_locale
from models.conversation import Conversation, Step
from models.seat import SeatHold
from repos.conversations import ConversationRepo
from repos.flights import FlightRepo
from services.conversations import ConversationStore
from services.notifications import NotificationService
from services.reference import ReferenceData
from services.seats import SeatService

WARN_BEFORE_MS = 2 * 60_000  # "about 2 minutes left"
CHOOSING = frozenset({Step.SEATS, Step.PAX, Step.REVIEW})  # the steps of a flow whose seats are held
BATCH = 500
CHAT = "chat:"


class HoldAlerts:
    def __init__(self, clock: Clock, seats: SeatService, notifications: NotificationService,
                 reference: ReferenceData, conversations: ConversationRepo | None = None,
                 flights: FlightRepo | None = None) -> None:
        self.clock = clock
        self.seats = seats
        self.notifications = notifications
        self.reference = reference
        self.conversations = conversations or ConversationRepo()
        self.flights = flights or FlightRepo()

    async def run(self) -> int:
        """Queue the due warnings and lapse notices (before the sweep deletes lapsed holds); how many were new."""
        now = self.clock.now_ms()
        per_chat: dict[int, list[SeatHold]] = defaultdict(list)
        for hold in await self.seats.repo.chat_holds_ending_by(now + WARN_BEFORE_MS, BATCH):
            chat = hold.holder.removeprefix(CHAT)
            if hold.holder.startswith(CHAT) and chat.lstrip("-").isdigit():
                per_chat[int(chat)].append(hold)
        queued = 0
        for chat_id, holds in per_chat.items():
            queued += await self._tell(chat_id, holds, now)
        return queued

    async def _tell(self, chat_id: int, holds: list[SeatHold], now: int) -> int:
        conversation = await self.conversations.get(chat_id)
        if conversation is None or conversation.step not in CHOOSING:
            return 0  # booked meanwhile, or started over: nothing to warn about
        with use_locale(conversation.locale or DEFAULT_LOCALE):  # the language the chat was last answered in
            return await self._tell_in_language(conversation, chat_id, holds, now)

    async def _tell_in_language(self, conversation: Conversation, chat_id: int, holds: list[SeatHold],
                                now: int) -> int:
        draft = ConversationStore.read_draft(conversation)
        chosen = {(p.flight_id, s) for p in draft.picks for s in p.seats if s} if draft else set()
        mine = [h for h in holds if (h.flight_id, h.seat) in chosen]  # this flow's seats, not an older one's
        lapsed = [h for h in mine if h.expires_ms < now]
        ending = [h for h in mine if h.expires_ms >= now]
        queued = 0
        if lapsed:
            last = max(h.expires_ms for h in lapsed)
            text = _("⌛ Your held seats {seats} were released after {minutes} minutes; they may still be free — "
                     "pick them again.").format(seats=_seats(lapsed), minutes=self.seats.hold_ms // 60_000)
            queued += await self.notifications.chat(f"hold-lapsed:{chat_id}:{last}", chat_id, text)
        if ending:
            first = min(h.expires_ms for h in ending)
            until = await self._local_time(ending[0].flight_id, first)
            keep = (_("Tap ✅ Continue to keep them.") if conversation.step == Step.SEATS
                    else _("Confirm your booking before then to keep them."))
            text = _("⏳ Your seats {seats} are held until {time} — about 2 minutes left.").format(
                seats=_seats(ending), time=until) + " " + keep
            queued += await self.notifications.chat(f"hold-warning:{chat_id}:{first}", chat_id, text)
        return queued

    async def _local_time(self, flight_id: str, at_ms: int) -> str:
        """"14:32 London time": the time at the flight's origin airport, as every time in FlyO."""
        moment = datetime.fromtimestamp(at_ms / 1000, UTC)
        flight = await self.flights.get(flight_id)
        airport = self.reference.airports.get(flight.origin) if flight else None
        if airport is None:
            return _("{time} UTC").format(time=local_time(moment, "UTC"))
        return _("{time} {city} time").format(time=local_time(moment, airport.tz), city=airport.city)


def _seats(holds: list[SeatHold]) -> str:
    return ", ".join(dict.fromkeys(h.seat for h in sorted(holds, key=lambda h: h.expires_ms)))
