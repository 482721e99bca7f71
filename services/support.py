"""Traveller ↔ staff messages: /support forwards a traveller's words to the admins, /reply answers them.

Both go through the notification outbox (another chat than the one that asked): a restart or a rate limit
delays a message, never loses or doubles it (one outbox key per Telegram message).
"""

from __future__ import annotations

import html

from core.i18n import _
from models.booking import Booking
from services.notifications import NotificationService

MAX_SUPPORT_CHARS = 1000  # what a traveller's message may carry to the admins
MAX_REPLY_CHARS = 3500  # an admin's answer, framed, stays under Telegram's 4096


def trim(text: str, limit: int) -> tuple[str, bool]:
    """`text` without surrounding blanks, cut to `limit` characters; True when it was cut."""
    text = text.strip()
    return (text[:limit].rstrip(), True) if len(text) > limit else (text, False)


async def forward_to_admins(notifications: NotificationService, *, key: str, user_id: int, name: str,
                            reference: str | None, text: str, trimmed: bool) -> bool:
    """The traveller's message to every admin (staff texts are English); False when there are no admins."""
    if not notifications.admin_ids:
        return False
    about = f"booking <b>{reference}</b>" if reference else "no booking yet"
    answer = (f"Answer with /reply {reference} your text" if reference
              else "They have no booking, so /reply can't reach them; answer by their Telegram user id.")
    note = f" (cut to its first {MAX_SUPPORT_CHARS} characters)" if trimmed else ""
    await notifications.tell_admins(
        key, f"📨 <b>Support</b> from {html.escape(name)} (user {user_id}) about {about}{note}:\n"
             f"{html.escape(text)}\n\n{answer}", reference=reference)
    return True


async def reply_to_traveller(notifications: NotificationService, booking: Booking, *, key: str, text: str) -> bool:
    """An admin's answer in the booking's chat; False when this message was already queued (a replay)."""
    framed = _("💬 <b>FlyO support</b> about booking <b>{reference}</b>:").format(reference=booking.reference)
    return await notifications.chat(key, booking.chat_id, f"{framed}\n{html.escape(text)}",
                                    reference=booking.reference)
