"""The terminal chat's Bot API refuses what Telegram refuses: it is the same server the tests' fake builds on.

A reply FlyO could not send on Telegram must not look fine in the terminal, so these are the fake's strictness
tests run against `LocalBotApi` through python-telegram-bot's own `Bot`.
"""

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
    async with Bot(api.token, base_url=f"{api.root}/bot", base_file_url=f"{api.root}/file/bot") as client:
        yield client


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
