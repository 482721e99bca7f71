"""A turn's replies kept with the chat, so an update handled again after its process died sends them again
(issue #21) instead of acting twice.

In webhook mode every update is stored before Telegram gets its 200 (services.telegram_inbox), and a replica that
dies after saving a turn but before its replies all went out leaves the update to another replica. Applied again,
it would act on the state it had already moved on: the phone question's "Skip" would skip the passport question
too, and a press would meet a later step and get only a toast (both found by tests/ops/test_replicas.py). So the
turn's replies are saved with the turn (the same write: no round trip more), and a recovered update the chat has
applied already is answered with exactly them — or, when the chat has moved on since, with nothing.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove

from handlers.turn import Markup, Out, Turn

APPLIED_KEPT = 8  # update ids remembered per chat: a recovered update comes back within a lease, a few updates later
_MARKUPS: dict[str, Any] = {"inline": InlineKeyboardMarkup, "reply": ReplyKeyboardMarkup,
                            "remove": ReplyKeyboardRemove}


def _markup_record(markup: Markup) -> dict[str, Any] | None:
    if markup is None:
        return None
    kind = next(k for k, cls in _MARKUPS.items() if isinstance(markup, cls))
    return {"kind": kind, "data": markup.to_dict()}


def _markup(record: dict[str, Any] | None) -> Markup:
    if not record or record.get("kind") not in _MARKUPS:
        return None
    restored: Markup = _MARKUPS[record["kind"]].de_json(record["data"], None)
    return restored


def remember(turn: Turn, update_id: int) -> None:
    """Note `update_id` as applied by this turn, and the turn's replies with it (saved with the turn)."""
    conv = turn.conv
    conv.applied_updates = [*[u for u in conv.applied_updates if u != update_id], update_id][-APPLIED_KEPT:]
    conv.last_turn = {
        "update_id": update_id, "notice": turn.notice, "alert": turn.alert,
        "replies": [{"text": o.text, "edit": o.edit, "markup": _markup_record(o.markup)} for o in turn.replies],
    }


def applied_before(turn: Turn, update_id: int) -> bool:
    return update_id in turn.conv.applied_updates


def replay(turn: Turn, update_id: int) -> None:
    """Answer a recovered update the chat applied already: its own replies again when it was the chat's last turn,
    else nothing (the traveller has gone on since, and has seen what followed)."""
    last = turn.conv.last_turn
    if last.get("update_id") != update_id:
        return
    turn.notice, turn.alert = last.get("notice"), bool(last.get("alert"))
    turn.replies = [Out(str(r["text"]), _markup(r.get("markup")), bool(r.get("edit"))) for r in last["replies"]]
