"""The console's local Bot API, spoken to by python-telegram-bot's own `Bot` — the client FlyO uses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.console.bot_api import ChatEvent, ConsoleUser, LocalBotApi

USER = ConsoleUser(7000001, "Traveller")


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[LocalBotApi]:
    server = LocalBotApi(USER, tmp_path / "files")
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def bot(api: LocalBotApi) -> AsyncIterator[Bot]:
    client = Bot(api.token, base_url=f"{api.root}/bot", base_file_url=f"{api.root}/file/bot")
    async with client:  # initialize() calls getMe, as Application.initialize() does
        yield client


def event(api: LocalBotApi) -> ChatEvent:
    return api.events.get_nowait()


async def test_get_me_and_commands(bot: Bot, api: LocalBotApi) -> None:
    assert bot.username == "flyo_console_bot"
    from telegram import BotCommand

    assert await bot.set_my_commands([BotCommand("search", "Find a flight")])
    assert api.commands == [{"command": "search", "description": "Find a flight"}]


async def test_send_edit_and_not_modified(bot: Bot, api: LocalBotApi) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="f:rv:ok")]])
    sent = await bot.send_message(USER.id, "<b>Review</b> &amp; pay", parse_mode=ParseMode.HTML,
                                  reply_markup=markup)
    assert sent.text == "Review & pay"  # what Telegram returns: text without the markup
    assert sent.reply_markup == markup
    shown = event(api)
    assert shown.kind == "sent" and shown.message is not None
    assert shown.message.text == "<b>Review</b> &amp; pay"  # the renderer gets the HTML as sent

    await bot.edit_message_text("Paid", chat_id=USER.id, message_id=sent.message_id)
    edited = event(api)
    assert edited.kind == "edited" and edited.message is not None and edited.message.markup is None
    with pytest.raises(BadRequest, match="not modified"):  # Telegram's answer, which FlyO's handlers expect
        await bot.edit_message_text("Paid", chat_id=USER.id, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER.id, message_id=999)


async def test_only_the_console_chat_exists(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(12345, "hello")
    with pytest.raises(BadRequest, match=r"(?i)text is empty"):
        await bot.send_message(USER.id, "<b></b>", parse_mode=ParseMode.HTML)


async def test_typed_text_taps_and_contacts_become_updates(bot: Bot, api: LocalBotApi) -> None:
    sent = await bot.send_message(USER.id, "Pick", reply_markup=InlineKeyboardMarkup(
        [[InlineKeyboardButton("A", callback_data="f:s:1A")]]))
    api.send_text("/search LHR JFK")
    api.tap(sent.message_id, "f:s:1A")
    api.share_contact("+44 20 7946 0958")
    updates = await bot.get_updates(timeout=1)
    command, tap, contact = updates
    assert command.message is not None and command.message.text == "/search LHR JFK"
    assert command.message.entities[0].type == "bot_command" and command.message.entities[0].length == 7
    assert tap.callback_query is not None and tap.callback_query.data == "f:s:1A"
    assert tap.callback_query.message is not None and tap.callback_query.message.message_id == sent.message_id
    assert contact.message is not None and contact.message.contact is not None
    assert contact.message.contact.user_id == USER.id
    # confirmed by the next offset, as Telegram does; an empty long poll then returns []
    assert await bot.get_updates(offset=contact.update_id + 1, timeout=0) == ()


async def test_notices_and_documents(bot: Bot, api: LocalBotApi, tmp_path: Path) -> None:
    assert await bot.answer_callback_query("q1", text="12A is yours", show_alert=True)
    notice = event(api)
    assert notice.kind == "notice" and notice.text == "12A is yours" and notice.alert
    ticket = tmp_path / "ticket.pdf"
    ticket.write_bytes(b"%PDF-1.4 demo")
    message = await bot.send_document(USER.id, ticket, caption="Your ticket")
    assert message.document is not None and message.caption == "Your ticket"
    stored = event(api).message
    assert stored is not None and stored.document is not None
    assert stored.document.read_bytes() == b"%PDF-1.4 demo"


async def test_a_wrong_token_is_unauthorized(api: LocalBotApi) -> None:
    from telegram.error import InvalidToken

    with pytest.raises(InvalidToken):
        async with Bot("1:wrong", base_url=f"{api.root}/bot"):
            pass


# ---- the console refuses what Telegram refuses: it is the server the tests' fake Telegram builds on ---------
# A reply FlyO could not send on Telegram must not look fine in the terminal.
def keyboard(count: int, data: str = "f:x") -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(str(i), callback_data=f"{data}{i}") for i in range(count)]
    return InlineKeyboardMarkup([buttons[i:i + 8] for i in range(0, count, 8)])


REFUSED = [
    ("x" * 4097, None, None, "message is too long"),
    ("<b>" + "x" * 4097 + "</b>", ParseMode.HTML, None, "message is too long"),
    ("a<br>b", ParseMode.HTML, None, 'unsupported start tag "br"'),
    ("1 < 2", ParseMode.HTML, None, "can't parse entities"),
    ("<b>open", ParseMode.HTML, None, "can't parse entities"),
    ("Pick", None, keyboard(1, "x" * 64), "button_data_invalid"),  # 65 bytes of callback data
    ("Seats", None, keyboard(101), "reply markup is too long"),
    ("   ", None, None, "message text is empty"),
]


@pytest.mark.parametrize(("text", "mode", "markup", "error"), REFUSED,
                         ids=["4097", "4097-parsed", "br", "bare-lt", "unclosed", "data-65", "101-buttons", "blank"])
async def test_what_telegram_refuses_the_console_refuses(bot: Bot, api: LocalBotApi, text: str, mode: str | None,
                                                         markup: InlineKeyboardMarkup | None, error: str) -> None:
    with pytest.raises(BadRequest) as refused:
        await bot.send_message(USER.id, text, parse_mode=mode, reply_markup=markup)
    assert error in str(refused.value).lower()
    assert api.events.empty()  # nothing reached the terminal


async def test_limits_are_inclusive_and_count_what_is_shown(bot: Bot, api: LocalBotApi) -> None:
    await bot.send_message(USER.id, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    await bot.send_message(USER.id, "Seats", reply_markup=keyboard(100))
    await bot.send_message(USER.id, "Pick", reply_markup=keyboard(1, "é" * 31 + "x"))  # 64 bytes exactly
    assert api.events.qsize() == 3


async def test_a_second_answer_to_a_press_is_refused(bot: Bot, api: LocalBotApi) -> None:
    sent = await bot.send_message(USER.id, "Pick", reply_markup=keyboard(1))
    api.tap(sent.message_id, "f:x0")
    (update,) = await bot.get_updates(timeout=1)
    assert update.callback_query is not None
    assert await bot.answer_callback_query(update.callback_query.id, text="Saved")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(update.callback_query.id, text="Again")
    events = [api.events.get_nowait() for _ in range(api.events.qsize())]
    assert [e.kind for e in events] == ["sent", "notice"] and events[-1] == ChatEvent("notice", text="Saved")
