"""Admin flight status commands (issue #18), English like every admin text:

/flight FO280 2026-12-03            the status card: times, state, travellers on it, the latest events
/delay FO280 2026-12-03 45 [reason] a delay of 45 min after the schedule
/gate FO280 2026-12-03 B32 [5]      gate (and terminal)
/cancelflight FO280 2026-12-03 [reason]

Each change shows a card first (what will be sent, to how many bookings); its buttons are handlers.flight_cards.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import Application, CommandHandler, filters

from core.clock import as_utc, from_ms
from core.errors import FlyOError
from core.formatting import local_datetime
from handlers.admin import admin_only
from handlers.flight_cards import flight_ops as _ops
from handlers.render import esc
from handlers.turn import Turn, callback_data
from models.flight_status import FlightStatusKind
from services.bookings import snapshot
from services.flight_actions import ActionPreview
from services.flight_status_texts import state_line, status_name

USAGE = {
    "flight": "Usage: /flight FO280 2026-12-03",
    "delay": "Usage: /delay FO280 2026-12-03 45 [reason] — minutes after the scheduled departure",
    "gate": "Usage: /gate FO280 2026-12-03 B32 [terminal]",
    "cancelflight": "Usage: /cancelflight FO280 2026-12-03 [reason]",
}
ACTIONS = {"delay": FlightStatusKind.DELAYED, "gate": FlightStatusKind.GATE,
           "cancelflight": FlightStatusKind.CANCELLED}


def _local(turn: Turn, moment: Any, code: str) -> str:
    return f"{local_datetime(as_utc(moment), turn.svc.airports.tz(code))} ({code})"


async def flight_card(turn: Turn, args: list[str]) -> None:
    if len(args) < 2:
        turn.say(USAGE["flight"])
        return
    ops = _ops(turn)
    try:
        flight = await ops.flight(args[0], args[1])
    except FlyOError as exc:
        turn.say(f"Can't show it: {esc(exc)}")
        return
    state = await ops.status.state(str(flight.id))
    bookings, passengers = await ops.travellers_on(flight)
    lines = [f"✈️ <b>{esc(flight.flight_number)} {esc(flight.departure_date)}</b> {flight.origin} → "
             f"{flight.destination}",
             f"Scheduled: departs {_local(turn, flight.departs_at, flight.origin)}, arrives "
             f"{_local(turn, flight.arrives_at, flight.destination)}",
             f"Status: {esc(status_name(state.kind) if state else 'On schedule')}"]
    shown = state_line(state, snapshot(flight, "economy"), turn.svc.airports)
    if shown:
        lines.append(esc(shown))
    lines.append(f"Travellers: {bookings} confirmed booking(s), {passengers} passenger(s)")
    events = await ops.status.repo.events(str(flight.id), 5)
    if events:
        lines.append("Latest events:")
        for event in events:
            stale = " (stale: not applied)" if event.stale else ""
            lines.append(f"  · {from_ms(event.at_ms):%d %b %H:%M} UTC {esc(status_name(event.kind))}"
                         f"{' — ' + esc(event.reason) if event.reason else ''} — {esc(event.source)}{stale}")
    turn.say("\n".join(lines))


def _change(command: str) -> Any:
    async def body(turn: Turn, args: list[str]) -> None:
        kind = ACTIONS[command]
        needed = 3 if kind in (FlightStatusKind.DELAYED, FlightStatusKind.GATE) else 2
        if len(args) < needed:
            turn.say(USAGE[command])
            return
        ops = _ops(turn)
        minutes = gate = terminal = None
        reason = " ".join(args[2:])
        if kind == FlightStatusKind.DELAYED:
            if not args[2].isdigit() or len(args[2]) > 5:
                turn.say(f"The delay is a number of minutes. {USAGE[command]}")
                return
            minutes, reason = int(args[2]), " ".join(args[3:])
        elif kind == FlightStatusKind.GATE:
            gate, terminal, reason = args[2], args[3] if len(args) > 3 else None, ""
        try:
            flight = await ops.flight(args[0], args[1])
            preview = await ops.ask(kind, flight, turn.user_id, minutes=minutes, gate=gate, terminal=terminal,
                                    reason=reason)
        except FlyOError as exc:
            turn.say(f"Can't send it: {esc(exc)}")
            return
        turn.say(_card(turn, preview), InlineKeyboardMarkup([[
            InlineKeyboardButton("✅ Yes, send", callback_data=callback_data("*", "fsy", str(preview.request.id))),
            InlineKeyboardButton("Keep as is", callback_data=callback_data("*", "fsn", str(preview.request.id)))]]))
    return body


def _card(turn: Turn, preview: ActionPreview) -> str:
    flight, request = preview.flight, preview.request
    title = f"<b>{esc(flight.flight_number)} {esc(flight.departure_date)}</b> {flight.origin} → {flight.destination}"
    if request.kind == FlightStatusKind.DELAYED and preview.departs is not None:
        what = (f"⏰ Delay {title} by {request.delay_minutes} min: new departure "
                f"{_local(turn, preview.departs, flight.origin)}.")
    elif request.kind == FlightStatusKind.GATE:
        where = f"gate {esc(request.gate)}" + (f", terminal {esc(request.terminal)}" if request.terminal else "")
        what = f"🚪 {title} departs from {where}."
    else:
        what = f"❌ <b>Cancel</b> {title}."
    if request.reason:
        what += f" Reason for travellers: “{esc(request.reason)}”."
    return (f"{what}\n{preview.bookings} confirmed booking(s), {preview.passengers} passenger(s) will be told by chat "
            f"and e-mail. Send it?")


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("flight", admin_only("flight", flight_card), filters=private))
    for command in ACTIONS:
        app.add_handler(CommandHandler(command, admin_only(command, _change(command)), filters=private))
