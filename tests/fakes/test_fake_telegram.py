"""Tests of the fake Bot API against the REAL python-telegram-bot client.

Why: FlyO's end-to-end tests are only as trustworthy as this fake.  These tests prove that PTB 22.8 can
run a full conversation through it (polling and webhook), and that PTB raises the same exception types
from it as from Telegram for the failure modes the bot must handle.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import time
import warnings
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

from .telegram import BotMessage, FakeTelegram, UploadedFile

OFFERS = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Offer 1", callback_data="offer:1"),
            InlineKeyboardButton("Offer 2", callback_data="offer:2"),
        ]
    ]
)


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest_asyncio.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url) as client:
        yield client


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        "Choose an <b>offer</b>:", parse_mode="HTML", reply_markup=OFFERS
    )


async def _on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Saved")
    await query.edit_message_text(f"Picked {query.data}")


AnyApplication = Application[Any, Any, Any, Any, Any, Any]


@contextlib.asynccontextmanager
async def running_app(
    fake: FakeTelegram, *, concurrent: bool | int = False, pool: int = 256
) -> AsyncIterator[AnyApplication]:
    """A real PTB Application polling the fake, torn down the way FlyO's runner does it."""
    app = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .concurrent_updates(concurrent)
        .connection_pool_size(pool)
        .build()
    )
    app.add_handler(CommandHandler("start", _start))
    app.add_handler(CallbackQueryHandler(_on_press))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


def _seconds(value: int | float | dtm.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


@pytest.mark.asyncio
async def test_ptb_polling_conversation_start_press_edit(fake: FakeTelegram) -> None:
    ada = fake.traveller(1111111)
    async with running_app(fake):
        await ada.send("/start")
        menu = await ada.next_message()
        assert menu.plain_text() == "Choose an offer:"
        assert menu.text == "Choose an <b>offer</b>:" and menu.parse_mode == "HTML"
        assert menu.button_labels() == ["Offer 1", "Offer 2"]
        # Like Telegram, the bot gets parsed text + entities back, never the HTML source.
        assert menu.raw["text"] == "Choose an offer:"
        assert menu.raw["entities"] == [{"type": "bold", "offset": 10, "length": 5}]

        await ada.press("offer 2")  # case-insensitive substring match
        edited = await ada.wait_for("picked offer:2")
        assert edited.edited and edited.message_id == menu.message_id
        assert edited.buttons == []  # editMessageText without reply_markup drops the keyboard
        assert [a.get("text") for a in ada.callback_answers] == ["Saved"]
        assert ada.last_message().plain_text() == "Picked offer:2"

    send = fake.calls_of("sendMessage")[0]
    assert send.params["chat_id"] == 1111111  # form strings decoded
    assert send.params["reply_markup"]["inline_keyboard"][0][1]["callback_data"] == "offer:2"
    assert fake.calls_of("getMe") and fake.calls_of("deleteWebhook")


@pytest.mark.slow  # 200 travellers at once (1.6 s)
@pytest.mark.asyncio
async def test_two_hundred_concurrent_travellers(fake: FakeTelegram) -> None:
    travellers = [fake.traveller(5_000_000 + i, first_name=f"T{i}") for i in range(200)]

    async def journey(index: int) -> None:
        traveller = travellers[index]
        await traveller.send("/start")
        await traveller.next_message(timeout=8)
        await traveller.press(f"Offer {index % 2 + 1}")
        await traveller.wait_for(f"Picked offer:{index % 2 + 1}", timeout=8)

    started = time.monotonic()
    # A bounded pool: with PTB's default 256-connection httpx pool, httpcore's pool bookkeeping is
    # O(requests x connections) per request and 200 in-flight requests take seconds of client CPU.
    async with running_app(fake, concurrent=16, pool=16):
        await asyncio.gather(*(journey(i) for i in range(200)))
    assert len(fake.calls_of("editMessageText")) == 200
    assert time.monotonic() - started < 20  # ~2 s idle; generous for loaded CI


@pytest.mark.asyncio
async def test_flood_control_surfaces_as_retry_after(fake: FakeTelegram, bot: Bot) -> None:
    fake.traveller(42)
    fake.fail_next("sendMessage", 429, retry_after=3)
    with warnings.catch_warnings():  # PTB warns about retry_after becoming a timedelta in v23
        warnings.simplefilter("ignore")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(42, "hello")
        assert _seconds(caught.value.retry_after) == 3
    assert fake.calls_of("sendMessage")[0].error_code == 429
    message = await bot.send_message(42, "hello")  # fault consumed
    assert message.text == "hello"


@pytest.mark.asyncio
async def test_blocked_chat_is_forbidden(fake: FakeTelegram, bot: Bot) -> None:
    fake.traveller(7)
    fake.blocked_chats.add(7)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(7, "Your flight is delayed")


@pytest.mark.asyncio
async def test_callback_data_over_64_bytes_is_rejected(fake: FakeTelegram, bot: Bot) -> None:
    fake.traveller(8)
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("Book", callback_data="x" * 65)]])
    # PTB strips "Bad Request: " and .capitalize()s the rest: the exception says "Button_data_invalid".
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(8, "Pick", reply_markup=too_long)
    exactly_64 = InlineKeyboardMarkup([[InlineKeyboardButton("Book", callback_data="é" * 32)]])
    await bot.send_message(8, "Pick", reply_markup=exactly_64)


@pytest.mark.asyncio
async def test_real_telegram_error_replies(fake: FakeTelegram, bot: Bot) -> None:
    ada = fake.traveller(9)
    sent = await bot.send_message(9, "Hi", reply_markup=OFFERS)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Hi", chat_id=9, message_id=sent.message_id, reply_markup=OFFERS)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("Hi again", chat_id=9, message_id=999)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(9, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(9, "<b></b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(9, "1 < 2", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(404404, "who?")

    update = await ada.press("Offer 1")
    query_id = update["callback_query"]["id"]
    assert await bot.answer_callback_query(query_id, text="ok")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id)
    assert ada.callback_answers == [{"callback_query_id": query_id, "text": "ok"}]


@pytest.mark.asyncio
async def test_webhook_delivery_with_secret_header(fake: FakeTelegram, bot: Bot) -> None:
    received: asyncio.Queue[tuple[str | None, dict[str, Any]]] = asyncio.Queue()

    async def receive(request: web.Request) -> web.Response:
        await received.put((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response()

    receiver = web.Application()
    receiver.router.add_post("/telegram", receive)
    runner = web.AppRunner(receiver)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/telegram"
    try:
        assert await bot.set_webhook(url, secret_token="s3cr3t-token", allowed_updates=["message"])
        info = await bot.get_webhook_info()
        assert info.url == url and info.allowed_updates == ("message",)
        with pytest.raises(Conflict):
            await bot.get_updates(timeout=0)

        ada = fake.traveller(10)
        await ada.send("LHR")
        secret, payload = await asyncio.wait_for(received.get(), 5)
        assert secret == "s3cr3t-token"
        update = Update.de_json(payload, bot)
        assert update.message is not None and update.message.text == "LHR"
        assert update.message.from_user is not None and update.message.from_user.id == 10

        assert await bot.delete_webhook()
        await ada.send("JFK")
        updates = await bot.get_updates(timeout=0)
        assert [u.message.text for u in updates if u.message] == ["JFK"]
        assert received.empty()
    finally:
        await runner.cleanup()


@pytest.mark.asyncio
async def test_send_document_multipart_is_recorded(fake: FakeTelegram, bot: Bot) -> None:
    ada = fake.traveller(11)
    pdf = b"%PDF-1.4 fake itinerary"
    sent = await bot.send_document(
        11, document=pdf, filename="itinerary.pdf", caption="Your <b>e-ticket</b>", parse_mode="HTML"
    )
    assert sent.document is not None and sent.document.file_name == "itinerary.pdf"
    upload = fake.calls_of("sendDocument")[0].params["document"]
    assert upload == UploadedFile("itinerary.pdf", pdf, "application/pdf")
    message = await ada.next_message()
    assert message.document is not None and message.document.content == pdf
    assert message.plain_text() == "Your e-ticket"
    # Re-sending by file_id works, as on Telegram.
    again = await bot.send_document(11, document=sent.document.file_id)
    assert again.document is not None and again.document.file_name == "itinerary.pdf"


@pytest.mark.asyncio
async def test_media_group_of_documents_and_what_telegram_refuses(fake: FakeTelegram, bot: Bot) -> None:
    ada = fake.traveller(12)
    pdf, ics = b"%PDF-1.4 e-ticket", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    sent = await bot.send_media_group(12, [
        InputMediaDocument(pdf, filename="t.pdf", caption="Booking <b>ABC123</b>", parse_mode="HTML"),
        InputMediaDocument(ics, filename="t.ics")])
    assert [m.document.file_name for m in sent if m.document] == ["t.pdf", "t.ics"]
    assert len({m.media_group_id for m in sent}) == 1 and sent[0].media_group_id
    first, second = await ada.next_message(), await ada.next_message()
    assert first.document is not None and first.document.content == pdf and first.plain_text() == "Booking ABC123"
    assert second.document is not None and second.document.content == ics

    one = [InputMediaDocument(pdf, filename="t.pdf")]
    with pytest.raises(BadRequest, match=r"(?i)wrong number of messages"):
        await bot.send_media_group(12, one * 11)
    with pytest.raises(BadRequest, match=r"(?i)can.t be mixed"):
        await bot.send_media_group(12, [*one, InputMediaPhoto(b"\x89PNG fake")])
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_media_group(12, [InputMediaDocument(pdf, filename="t.pdf", caption="x" * 1025), *one])
    with pytest.raises(BadRequest, match=r"(?i)unsupported start tag"):
        await bot.send_media_group(12, [InputMediaDocument(pdf, filename="t.pdf", caption="<u2>x</u2>",
                                                           parse_mode="HTML"), *one])
    assert len(ada.messages()) == 2  # a refused album sends nothing, not half of it


@pytest.mark.asyncio
async def test_raw_http_semantics_and_long_poll(fake: FakeTelegram) -> None:
    base = f"{fake.api_root}/bot{fake.token}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/GETME") as response:  # method names are case-insensitive
            assert (await response.json())["result"]["username"] == "flyo_test_bot"
        async with http.post(f"{fake.api_root}/bot1:wrong/getMe") as response:
            assert response.status == 401 and (await response.json())["description"] == "Unauthorized"
        async with http.post(f"{base}/sendPigeon") as response:
            assert response.status == 404
            assert (await response.json())["description"] == "Not Found: method not found"

        ada = fake.traveller(12)
        started = time.monotonic()
        poll = asyncio.create_task(http.post(f"{base}/getUpdates", data={"timeout": "5"}))
        await fake.wait_for_call("getUpdates")  # the poll is waiting now (it is recorded as it starts)
        await ada.send("/start now")
        async with await poll as response:
            updates = (await response.json())["result"]
        assert time.monotonic() - started < 3  # woken by the update, not by the timeout
        assert updates[0]["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]

        first = updates[0]["update_id"]
        async with http.post(f"{base}/getUpdates", json={"offset": first + 1, "timeout": 0}) as response:
            assert (await response.json())["result"] == []  # confirmed by offset > update_id
        started = time.monotonic()
        async with http.post(f"{base}/getUpdates", data={"timeout": "0.2"}) as response:
            assert (await response.json())["result"] == []
        assert 0.15 < time.monotonic() - started < 3


@pytest.mark.asyncio
async def test_invalid_token_raises_invalid_token(fake: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:nope", base_url=fake.base_url):
            pass


@pytest.mark.asyncio
async def test_reply_keyboard_contact_and_message_helpers(fake: FakeTelegram, bot: Bot) -> None:
    ada = fake.traveller(13, username="ada")
    keyboard = ReplyKeyboardMarkup([[KeyboardButton("Share my phone", request_contact=True)], ["Cancel"]])
    sent = await bot.send_message(13, "We need your number", reply_markup=keyboard)
    assert sent.reply_markup is None  # Telegram never echoes reply keyboards
    ask = await ada.next_message()
    assert ask.reply_keyboard == [["Share my phone"], ["Cancel"]] and ask.requests_contact
    with pytest.raises(AssertionError, match="no button 'Nope'"):
        ask.find_button("Nope")

    update = Update.de_json(await ada.share_contact("+441234567890"), bot)
    assert update.message is not None and update.message.contact is not None
    assert update.message.from_user is not None
    assert update.message.contact.user_id == update.message.from_user.id == 13
    stranger = await ada.share_contact("+15550000000", own=False)
    assert "user_id" not in stranger["message"]["contact"]

    await bot.send_message(13, "Thanks", reply_markup=ReplyKeyboardRemove())
    assert (await ada.next_message()).remove_keyboard

    await bot.send_message(13, "Fare is 10\\.50 *GBP*", parse_mode="MarkdownV2")
    fare = await ada.wait_for(lambda m: "GBP" in m.plain_text())
    assert fare.plain_text() == "Fare is 10.50 GBP"
    with pytest.raises(BadRequest, match=r"(?i)reserved"):
        await bot.send_message(13, "Fare is 10.50", parse_mode="MarkdownV2")
    with pytest.raises(AssertionError, match="saw:"):
        await ada.wait_for("never sent", timeout=0.1)
    await ada.assert_no_message(timeout=0.05)
    assert [m.plain_text() for m in ada.messages()] == ["We need your number", "Thanks", "Fare is 10.50 GBP"]


@pytest.mark.asyncio
async def test_stale_buttons_deleted_messages_and_commands(fake: FakeTelegram, bot: Bot) -> None:
    ada = fake.traveller(14)
    sent = await bot.send_message(14, "Old offers", reply_markup=OFFERS)
    menu: BotMessage = await ada.next_message()
    assert await bot.delete_message(14, sent.message_id)
    with pytest.raises(AssertionError, match="does not exist"):
        await ada.press("Offer 1", menu)
    stale = await ada.press_data("offer:1", sent.message_id)
    parsed = Update.de_json(stale, bot)
    assert parsed.callback_query is not None and parsed.callback_query.message is not None
    assert not parsed.callback_query.message.is_accessible  # InaccessibleMessage, date 0

    reply_only = await bot.send_message(14, "Markup only", reply_markup=OFFERS)
    await bot.edit_message_reply_markup(14, reply_only.message_id, reply_markup=None)
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_reply_markup(14, reply_only.message_id, reply_markup=None)

    await bot.set_my_commands([("start", "Plan a trip"), ("help", "How FlyO works")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    assert await bot.send_chat_action(14, "typing")
    call = await fake.wait_for_call("sendChatAction", lambda c: c.params["action"] == "typing", timeout=1)
    assert call.params["chat_id"] == 14


@pytest.mark.asyncio
async def test_competing_polls_and_fast_stop() -> None:
    """A newer getUpdates terminates the older one (409), and stop() never waits out a long-poll."""
    fake = await FakeTelegram().start()
    base = f"{fake.api_root}/bot{fake.token}"
    async with aiohttp.ClientSession() as http:
        first = asyncio.create_task(http.post(f"{base}/getUpdates", data={"timeout": "30"}))
        await fake.wait_for_call("getUpdates")  # the first poll is waiting before the second arrives
        second = asyncio.create_task(http.post(f"{base}/getUpdates", data={"timeout": "30"}))
        async with await first as response:
            assert response.status == 409
            assert "terminated by other getUpdates request" in (await response.json())["description"]
        started = time.monotonic()
        await fake.stop()
        async with await second as response:
            assert (await response.json())["result"] == []
        assert time.monotonic() - started < 5  # the poll asked for 30 s


@pytest.mark.asyncio
async def test_webhook_rejections_are_retried_and_reported(fake: FakeTelegram, bot: Bot) -> None:
    attempts: list[int] = []

    async def flaky(request: web.Request) -> web.Response:
        attempts.append((await request.json())["update_id"])
        return web.Response(status=500 if len(attempts) == 1 else 200)

    receiver = web.Application()
    receiver.router.add_post("/hook", flaky)
    runner = web.AppRunner(receiver)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        await bot.set_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/hook")
        update = await fake.traveller(15).send("hi")
        delivery = await fake.wait_for_delivery(update["update_id"])
        assert delivery.status == 200 and delivery.attempt == 1
        assert attempts == [update["update_id"]] * 2
        assert [d.status for d in fake.webhook_deliveries] == [500, 200]
        info = await bot.get_webhook_info()
        assert info.last_error_message is not None and "500" in info.last_error_message
        with pytest.raises(BadRequest, match=r"(?i)bad webhook"):
            await bot.set_webhook("https://example.com/hook")  # never leaves loopback
    finally:
        await runner.cleanup()


# ---- strictness: the errors FlyO must never trigger, exactly as Telegram reports them ---------------------
@pytest.mark.asyncio
async def test_callback_queries_are_tracked_until_answered_exactly_once(fake: FakeTelegram, bot: Bot) -> None:
    ada = fake.traveller(16)
    await bot.send_message(16, "Pick", reply_markup=OFFERS)
    first = (await ada.press("Offer 1"))["callback_query"]["id"]
    second = (await ada.press("Offer 2"))["callback_query"]["id"]
    assert [(c.query_id, c.data, c.answers) for c in fake.unanswered_callbacks()] == [
        (first, "offer:1", 0), (second, "offer:2", 0)]

    assert await bot.answer_callback_query(first, text="Saved")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):  # a second answer is refused
        await bot.answer_callback_query(first, text="Again")
    record = fake.callback_query(first)
    assert record.answers == 1 and record.rejected_answers == 1 and record.answer_texts == ["Saved"]
    assert [c.query_id for c in fake.unanswered_callbacks()] == [second]
    with pytest.raises(AssertionError, match="offer:2"):
        await fake.wait_until_callbacks_answered(timeout=0.05)

    async def answer_soon() -> None:
        await asyncio.sleep(0)
        await bot.answer_callback_query(second)

    task = asyncio.create_task(answer_soon())
    await fake.wait_until_callbacks_answered(timeout=5)
    await task
    assert fake.unanswered_callbacks() == []


@pytest.mark.asyncio
async def test_inline_keyboards_over_100_buttons_are_rejected(fake: FakeTelegram, bot: Bot) -> None:
    fake.traveller(17)

    def keyboard(count: int) -> InlineKeyboardMarkup:
        buttons = [InlineKeyboardButton(str(i), callback_data=str(i)) for i in range(count)]
        return InlineKeyboardMarkup([buttons[i : i + 8] for i in range(0, count, 8)])

    await bot.send_message(17, "Seats", reply_markup=keyboard(100))
    with pytest.raises(BadRequest, match=r"(?i)reply markup is too long"):
        await bot.send_message(17, "Seats", reply_markup=keyboard(101))


@pytest.mark.asyncio
async def test_text_limit_counts_the_parsed_text_not_the_markup(fake: FakeTelegram, bot: Bot) -> None:
    fake.traveller(18)
    await bot.send_message(18, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")  # 4096 shown: fine
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(18, "<b>" + "x" * 4097 + "</b>", parse_mode="HTML")
    await bot.send_message(18, "&lt;" * 4096, parse_mode="HTML")  # each entity shows as one character
    sent = await bot.send_message(18, "short")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.edit_message_text("y" * 4097, chat_id=18, message_id=sent.message_id)


@pytest.mark.asyncio
async def test_only_telegrams_html_tags_are_accepted(fake: FakeTelegram, bot: Bot) -> None:
    fake.traveller(19)
    supported = (
        '<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike>'
        '<del>d</del><span class="tg-spoiler">p</span><tg-spoiler>t</tg-spoiler><a href="https://x.test">a</a>'
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji><code>c</code><pre>p</pre>'
        '<pre><code class="language-python">x = 1</code></pre><blockquote>q</blockquote>'
        "<blockquote expandable>long quote</blockquote>"
    )
    message = await bot.send_message(19, supported, parse_mode="HTML")
    kinds = {entity.type for entity in message.entities}
    assert {"bold", "italic", "underline", "strikethrough", "spoiler", "text_link", "custom_emoji", "code",
            "pre", "blockquote", "expandable_blockquote"} <= kinds
    for tag, offset in (("br", 6), ("p", 0), ("div", 3), ("h1", 0), ("img", 2)):
        text = "x" * offset + f"<{tag}>y</{tag}>"
        with pytest.raises(BadRequest, match=rf'(?i)unsupported start tag "{tag}" at byte offset {offset}$'):
            await bot.send_message(19, text, parse_mode="HTML")
    with pytest.raises(BadRequest, match=r'(?i)unsupported start tag "br" at byte offset 5'):
        await bot.send_message(19, "éé" + "x<br>", parse_mode="HTML")  # offsets count UTF-8 bytes
    with pytest.raises(BadRequest, match=r'(?i)tag "span" must have class "tg-spoiler"'):
        await bot.send_message(19, '<span class="x">y</span>', parse_mode="HTML")


@pytest.mark.asyncio
async def test_edits_that_change_nothing_are_rejected(fake: FakeTelegram, bot: Bot) -> None:
    ada = fake.traveller(20)
    sent = await bot.send_message(20, "Pick <b>one</b>", parse_mode="HTML", reply_markup=OFFERS)
    await ada.next_message()
    with pytest.raises(BadRequest, match=r"(?i)message is not modified: specified new message content"):
        await bot.edit_message_text("Pick <b>one</b>", chat_id=20, message_id=sent.message_id,
                                    parse_mode="HTML", reply_markup=OFFERS)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(20, sent.message_id, reply_markup=OFFERS)
    # Same text, other formatting: that is a change.
    await bot.edit_message_text("Pick one", chat_id=20, message_id=sent.message_id, reply_markup=OFFERS)
    # Same text and formatting, keyboard dropped: a change too.
    await bot.edit_message_text("Pick one", chat_id=20, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Pick one", chat_id=20, message_id=sent.message_id)
    assert [c.method for c in fake.not_modified_edits()] == [
        "editMessageText", "editMessageReplyMarkup", "editMessageText"]


@pytest.mark.asyncio
async def test_web_app_buttons_need_https_and_a_private_chat(fake: FakeTelegram, bot: Bot) -> None:
    from telegram import WebAppInfo

    from bot.console.telegram_errors import ApiError
    from bot.console.telegram_rules import check_markup

    fake.traveller(19)
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("🗺 Open seat map", web_app=WebAppInfo("https://f.example/app"))]])
    sent = await bot.send_message(19, "Seats", reply_markup=ok)
    assert sent.reply_markup is not None
    assert fake.traveller(19).last_message().buttons[0][0].web_app == "https://f.example/app"
    for url in ("http://f.example/app", "tg://resolve?domain=x", "https://"):
        plain = InlineKeyboardMarkup([[InlineKeyboardButton("Open", web_app=WebAppInfo(url))]])
        with pytest.raises(BadRequest, match=r"(?i)Web App URL .* is invalid: Only HTTPS links are allowed"):
            await bot.send_message(19, "Seats", reply_markup=plain)
    with pytest.raises(ApiError, match="BUTTON_TYPE_INVALID"):  # a group: Telegram allows web_app only in private
        check_markup(ok.to_dict(), private=False)
