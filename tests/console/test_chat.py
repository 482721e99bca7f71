"""The chat's state in the terminal: which keyboard a typed number taps, contact shares, the demo link."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from bot.console.bot_api import ChatEvent, ChatMessage, ConsoleUser, LocalBotApi
from bot.console.chat import ChatView
from bot.console.render import DEMO_PHONE
from bot.console.terminal import Screen


class Chat:
    def __init__(self, tmp_path: Path) -> None:
        self.api = LocalBotApi(ConsoleUser(7000001, "Traveller"), tmp_path / "files")
        self.out = io.StringIO()
        self.view = ChatView(self.api, Screen(self.out), tmp_path / "outbox")
        self.view.reply_wait = 0.01  # no bot here: don't wait for answers
        self.next_id = 100

    def bot_says(self, text: str, markup: dict[str, Any] | None = None, *, edit_of: int | None = None) -> int:
        message_id = edit_of or self.next_id
        self.next_id += 1
        message = ChatMessage(message_id, text, "HTML", markup, 0, edited=edit_of is not None)
        self.api.messages[message_id] = message
        self.view.show_event(ChatEvent("edited" if edit_of else "sent", message))
        return message_id

    def updates(self) -> list[dict[str, Any]]:
        taken, self.api._updates = self.api._updates, []
        return taken


def buttons(*labels: str) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": label, "callback_data": f"f:a:{label}"}] for label in labels]}


async def test_a_number_taps_the_newest_keyboard_and_other_text_is_a_message(tmp_path: Path) -> None:
    chat = Chat(tmp_path)
    chat.bot_says("Old", buttons("old 1", "old 2"))
    newest = chat.bot_says("New", buttons("new 1"))
    chat.bot_says("No keyboard here")  # a keyboard stays tappable below later messages, as in Telegram
    await chat.view.on_line("1")
    await chat.view.on_line("7")  # no button 7: sent as text (a passport number, a count…)
    tap, text = chat.updates()
    assert tap["callback_query"]["data"] == "f:a:new 1"
    assert tap["callback_query"]["message"]["message_id"] == newest
    assert text["message"]["text"] == "7"
    assert "tapped “new 1”" in chat.out.getvalue()


async def test_an_edit_moves_its_keyboard_to_the_front_and_removal_forgets_it(tmp_path: Path) -> None:
    chat = Chat(tmp_path)
    seat_map = chat.bot_says("Seats", buttons("seat"))
    chat.bot_says("Other", buttons("other"))
    chat.bot_says("Seats again", buttons("seat again"), edit_of=seat_map)
    assert "FlyO (updated): Seats again" in chat.out.getvalue()
    await chat.view.on_line("1")
    assert chat.updates()[0]["callback_query"]["data"] == "f:a:seat again"
    chat.bot_says("Seats chosen", None, edit_of=seat_map)  # the edit dropped the keyboard
    await chat.view.on_line("1")
    assert chat.updates()[0]["callback_query"]["data"] == "f:a:other"


async def test_contact_button_shares_the_demo_number_or_the_typed_one(tmp_path: Path) -> None:
    chat = Chat(tmp_path)
    share = {"keyboard": [[{"text": "📱 Share my number", "request_contact": True}], [{"text": "⏭ Skip"}]],
             "one_time_keyboard": True}
    chat.bot_says("Phone?", share)
    await chat.view.on_line("1")
    assert chat.view.prompt == "phone › " and chat.updates() == []
    await chat.view.on_line("")
    contact = chat.updates()[0]["message"]["contact"]
    assert contact["phone_number"] == DEMO_PHONE and contact["user_id"] == 7000001
    assert chat.view.keyboards == []  # one-time keyboard: gone after use

    chat.bot_says("Phone?", share)
    await chat.view.on_line("2")
    assert chat.updates()[0]["message"]["text"] == "⏭ Skip"  # a plain reply button sends its label
    chat.bot_says("Phone?", share)
    await chat.view.on_line("1")
    await chat.view.on_line("/cancel")  # a command at the phone prompt is a command, not a number
    assert chat.updates()[0]["message"]["text"] == "/cancel"


async def test_reply_keyboard_removal(tmp_path: Path) -> None:
    chat = Chat(tmp_path)
    chat.bot_says("Pick", buttons("inline"))
    chat.bot_says("Phone?", {"keyboard": [[{"text": "⏭ Skip"}]]})
    chat.bot_says("Thanks.", {"remove_keyboard": True})
    await chat.view.on_line("1")
    assert chat.updates()[0]["callback_query"]["data"] == "f:a:inline"


async def test_pay_finds_the_newest_demo_link_and_refuses_other_hosts(tmp_path: Path) -> None:
    chat = Chat(tmp_path)
    assert chat.view.demo_link() is None
    link = {"inline_keyboard": [[{"text": "💳 Pay", "url": "http://127.0.0.1:1/demo/checkout/cs_demo_1"}]]}
    chat.bot_says("Pay here", link)
    chat.bot_says("Reminder without a link")
    assert chat.view.demo_link() == "http://127.0.0.1:1/demo/checkout/cs_demo_1"
    await chat.view.pay()  # nothing listens on port 1: reported, not raised
    assert "could not be opened" in chat.out.getvalue()
    await chat.view.pay("https://checkout.stripe.com/c/pay/cs_test_1")
    assert "not on this machine" in chat.out.getvalue()


@pytest.mark.slow  # pay() waits its full 5 s for a confirmation e-mail that this test never writes
async def test_pay_views_the_checkout_then_presses_pay_and_never_posts_a_refused_one(tmp_path: Path) -> None:
    """`pay` is the person opening the demo page and pressing its POST button; a GET alone never pays."""
    from aiohttp import web

    seen: list[str] = []
    gone = {"cs_demo_old"}

    async def page(request: web.Request) -> web.Response:
        seen.append(f"{request.method} {request.match_info['sid']}")
        if request.match_info["sid"] in gone:
            return web.Response(text="<h2>Payment link expired</h2>", content_type="text/html", status=410)
        if request.method == "GET":
            form = f"<form method='post' action='{request.path}'><button>Pay (demo) £1.00</button></form>"
            return web.Response(text=f"<h2>FlyO demo checkout</h2>{form}", content_type="text/html")
        return web.Response(text="<h2>Demo payment done</h2>", content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/demo/checkout/{sid}", page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        chat = Chat(tmp_path)
        await chat.view.pay(f"http://127.0.0.1:{port}/demo/checkout/cs_demo_new")
        assert seen == ["GET cs_demo_new", "POST cs_demo_new"]
        assert "Pay (demo)" in chat.out.getvalue() and "Demo payment done" in chat.out.getvalue()
        await chat.view.pay(f"http://127.0.0.1:{port}/demo/checkout/cs_demo_old")
        assert seen[2:] == ["GET cs_demo_old"]  # refused: nothing is pressed
        assert "expired" in chat.out.getvalue()
    finally:
        await runner.cleanup()
