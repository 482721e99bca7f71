"""The buttons of an admin's flight status card (handlers.flight_ops): "✅ Yes, send" ("*:fsy:<request>") records
the change once and tells every traveller on the flight, "Keep as is" ("*:fsn:<request>") drops it. Both answer
only the admin who asked, once (services.flight_actions). A module of their own: handlers.flow routes them, and
must not import the commands' module (which imports handlers.admin, which imports the router)."""

from __future__ import annotations

from core.errors import FlyOError
from handlers.render import esc
from handlers.turn import Turn
from services.flight_actions import FlightOps
from services.flight_status_texts import status_name


def flight_ops(turn: Turn) -> FlightOps:
    found = turn.svc.flight_ops
    if found is None:
        raise RuntimeError("the composition root did not build the flight status service")
    return found


async def on_yes(turn: Turn, arg: str) -> None:
    if not turn.is_admin:
        turn.notice = "This button is for FlyO staff only."
        return
    try:
        request, recorded = await flight_ops(turn).confirm(arg, turn.user_id)
    except FlyOError as exc:
        turn.notice = str(exc)[:190]
        return
    target = f"<b>{esc(request.flight_number)} {esc(request.departure_date)}</b>"
    if not recorded.applied:
        turn.say(f"Not sent: {target} already shows a newer or final status (see /flight "
                 f"{esc(request.flight_number)} {esc(request.departure_date)}).", edit=True)
        return
    turn.say(f"✅ Sent: {target} {esc(status_name(request.kind).lower())}. {recorded.told} booking(s) told by chat "
             "and e-mail.", edit=True)


async def on_no(turn: Turn, arg: str) -> None:
    if not turn.is_admin:
        turn.notice = "This button is for FlyO staff only."
        return
    try:
        request = await flight_ops(turn).keep(arg, turn.user_id)
    except FlyOError as exc:
        turn.notice = str(exc)[:190]
        return
    turn.say(f"Kept as is: nothing was sent for <b>{esc(request.flight_number)} {esc(request.departure_date)}</b>.",
             edit=True)
