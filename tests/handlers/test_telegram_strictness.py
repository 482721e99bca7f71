"""FlyO against a Bot API as strict as Telegram: no wasted edits, no silent 400s, every press answered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.database import Database
from handlers.errors import COULD_NOT_SHOW
from tests.flows import search_one_line, to_passengers, travel_day
from tests.harness import RunningBot, running_bot

LONG_WORD = "Q" * 4090  # one token: fits Telegram's 4096 alone, not inside any reply that echoes it
MAX_ECHO = 60


@pytest.fixture
async def strict_bot(inventory_db: Database, telegram: Any, tmp_path: Path) -> AsyncIterator[RunningBot]:
    # Flood control is tested elsewhere; here a burst of presses must reach the handlers.
    async with running_bot(inventory_db, telegram, tmp_path, FLOOD_MAX_UPDATES=1000) as running:
        yield running


async def test_a_burst_of_identical_presses_never_sends_an_edit_telegram_rejects(strict_bot: RunningBot) -> None:
    fake = strict_bot.telegram
    ada = fake.traveller(5301)
    results = await search_one_line(ada, "LHR", "JFK", travel_day(strict_bot.clock), 1)
    data = results.find_button("By price").callback_data
    assert data is not None
    # 18 quick taps on the same button: Telegram attaches the message as it was when tapped, so all but
    # the first redraw what the message already shows after the first one.
    presses = [(await ada.press_data(data, results.message_id))["callback_query"]["id"] for _ in range(18)]
    await fake.wait_until_callbacks_answered(timeout=30)
    assert [fake.callback_query(q).answers for q in presses] == [1] * 18
    assert fake.not_modified_edits() == []
    edits = [c for c in fake.calls_of("editMessageText") if c.params.get("message_id") == results.message_id]
    assert len(edits) == 1 and edits[0].error_code is None  # the first tap redrew it; the rest had nothing to do
    assert ada.last_message().message_id == results.message_id

    # A later tap on the same (now stale) button: the pressed message already shows that content.
    before = len(fake.calls_of("editMessageText"))
    query_id = (await ada.press_data(data, results.message_id))["callback_query"]["id"]
    await fake.wait_until_callbacks_answered(timeout=10)
    assert fake.callback_query(query_id).answers == 1
    assert len(fake.calls_of("editMessageText")) == before
    assert fake.not_modified_edits() == []


async def test_a_press_whose_edit_changes_something_still_edits(strict_bot: RunningBot) -> None:
    fake = strict_bot.telegram
    ada = fake.traveller(5302)
    results = await search_one_line(ada, "LHR", "JFK", travel_day(strict_bot.clock), 1)
    await ada.press("By price")
    by_price = await ada.wait_for(lambda m: m.edited and m.message_id == results.message_id, timeout=10)
    await ada.press("By time", by_price)  # the other order: a real change
    await ada.wait_for(lambda m: m.edited and m.message_id == results.message_id, timeout=10)
    assert ada.last_message().find_button("By price")
    assert fake.not_modified_edits() == []


def _assert_short_echo(replies: list[str]) -> None:
    for text in replies:
        assert "Q" * (MAX_ECHO + 1) not in text, f"a reply echoes the traveller's 4 KB input: {text[:120]!r}…"


async def _reply_to_long_word(ada: Any) -> list[str]:
    await ada.send(LONG_WORD)
    first = await ada.next_message(timeout=15)
    replies = [first.plain_text()]
    try:  # a step may answer with two messages (a hint and the question again)
        while True:
            replies.append((await ada.next_message(timeout=0.5)).plain_text())
    except AssertionError:
        pass
    return replies


async def test_a_4kb_word_when_idle_gets_a_short_reply(strict_bot: RunningBot) -> None:
    ada = strict_bot.telegram.traveller(5303)
    _assert_short_echo(await _reply_to_long_word(ada))


async def test_a_4kb_word_as_the_origin_gets_a_short_reply(strict_bot: RunningBot) -> None:
    ada = strict_bot.telegram.traveller(5304)
    await ada.send("/search")
    await ada.wait_for("Where are you flying from")
    _assert_short_echo(await _reply_to_long_word(ada))


async def test_a_4kb_word_as_a_passenger_name_gets_a_short_reply(strict_bot: RunningBot) -> None:
    ada = strict_bot.telegram.traveller(5305)
    await to_passengers(ada, strict_bot.clock)
    _assert_short_echo(await _reply_to_long_word(ada))
    await ada.send("Ada Lovelace")  # and the conversation goes on
    await ada.wait_for("Date of birth", timeout=10)


async def test_a_reply_telegram_rejects_becomes_a_short_apology(strict_bot: RunningBot) -> None:
    """Whatever makes Telegram answer 400 (here: an injected one), the traveller is never left in silence."""
    fake = strict_bot.telegram
    ada = fake.traveller(5306)
    fake.fail_next("sendMessage", 400, "Bad Request: message is too long")
    await ada.send("/help")
    reply = await ada.next_message(timeout=10)
    assert reply.plain_text() == COULD_NOT_SHOW


async def test_a_4kb_word_as_an_e_mail_address_gets_a_short_reply(strict_bot: RunningBot) -> None:
    ada = strict_bot.telegram.traveller(5307)
    await to_passengers(ada, strict_bot.clock)
    await ada.send("Ada Lovelace")
    await ada.wait_for("Date of birth", timeout=10)
    await ada.send("1985-12-10")
    await ada.wait_for("E-mail address", timeout=10)
    _assert_short_echo(await _reply_to_long_word(ada))


async def test_a_4kb_booking_reference_gets_a_short_reply(strict_bot: RunningBot) -> None:
    ada = strict_bot.telegram.traveller(5308)
    await ada.send("/cancel " + LONG_WORD[:4080])  # a Telegram message holds at most 4096 characters
    first = await ada.next_message(timeout=15)
    _assert_short_echo([first.plain_text()])


@pytest.mark.parametrize("text", [
    "plain", "  padded \n", "<b>bold</b> and <i>it</i>", "<b>outer <i>inner</i></b>", "a &lt;tag&gt; &amp; &quot;",
    "<code>LHR JFK 15 Dec 2</code>", '<a href="https://pay.test/x?a=1&amp;b=2">Pay</a>', "emoji ✈️ <b>👍🏽</b> end",
    '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>', "<u>u</u><s>s</s><del>d</del><em>e</em>",
    "<b> spaced </b>", "\n<b>lead</b>", "<pre>block\ntext</pre><blockquote>q</blockquote>", "<b></b>x",
])
def test_flyos_reading_of_html_matches_what_telegram_shows(text: str) -> None:
    """The edit-skipping compares FlyO's reading of its HTML with what the message shows; they must agree."""
    from handlers.shown import html_shown
    from tests.fakes.telegram import _parse_html, _strip_text

    shown = html_shown(text)
    assert shown is not None
    plain, entities = _strip_text(*_parse_html(text))
    expected = sorted((e["type"], e["offset"], e["length"], e.get("url", "")) for e in entities)
    assert (shown[0], sorted(shown[1])) == (plain, expected)


@pytest.mark.parametrize("text", [
    '<pre><code class="language-py">x</code></pre>', '<tg-emoji emoji-id="1">👍</tg-emoji>',
    "<blockquote expandable>q</blockquote>", "<b>unclosed", "<unknown>x</unknown>",
])
def test_html_flyo_does_not_read_is_never_skipped(text: str) -> None:
    from handlers.shown import html_shown

    assert html_shown(text) is None  # unsure → the edit is sent, and "not modified" is still handled


async def test_a_press_whose_handler_crashes_is_still_answered(strict_bot: RunningBot,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from handlers import router
    from handlers.errors import SORRY
    from handlers.flow import FLOW
    from models.conversation import Step

    fake = strict_bot.telegram
    ada = fake.traveller(5309)
    await search_one_line(ada, "LHR", "JFK", travel_day(strict_bot.clock), 1)

    async def crash(turn: Any, arg: str) -> None:
        raise RuntimeError("a bug in a handler")

    monkeypatch.setitem(FLOW[Step.RESULTS].buttons, "sort", crash)
    query_id = (await ada.press("By price"))["callback_query"]["id"]
    await ada.wait_for(SORRY, timeout=10)
    await fake.wait_until_callbacks_answered(timeout=10)
    assert fake.callback_query(query_id).answer_texts == [router.PRESS_FAILED]
