"""The seat map Mini App's API (issue #19) against the real FlyO: the real Application on the fake Bot API, the
real holds in the test database. What the page gets, what a confirm holds, and the chat moving on by itself —
and the attacker's and the unlucky traveller's versions: forged, expired or foreign init data, another
traveller's seat, 25 confirms at once, a stale page, malformed bodies, the clock past the cut-off."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from models.conversation import Step
from services.seats import chat_holder
from tests.harness import RunningBot
from tests.miniapp.conftest import PUBLIC, SeatPage, to_seat_page
from tests.miniapp.webapp_browser import init_data


async def mine_on(bot: RunningBot, flight_id: str, user_id: int) -> set[str]:
    state = await bot.services.seats.taken(flight_id, chat_holder(user_id))
    return {seat for seat, who in state.items() if who == "mine"}


def free_codes(view: dict[str, Any], segment: int = 0) -> list[str]:
    return [seat[0] for row in view["segments"][segment]["rows"] for seat in row["seats"] if seat[2] == "free"]


async def test_the_seat_step_offers_the_mini_app_and_the_page_gets_the_cabin(app_bot: RunningBot) -> None:
    page = await to_seat_page(app_bot, 5101, pax=2)
    status, view = await page.state()
    assert status == 200
    assert view["passengers"] == 2 and view["complete"] is True and view["flow"] == page.flow
    segment = view["segments"][0]
    assert segment["origin"] == "LHR" and segment["destination"] == "JFK"
    assert segment["picked"] == [None, None] and segment["cabin"] == "economy"
    kinds = {seat[0][-1]: seat[1] for seat in segment["rows"][0]["seats"]}
    # A 777-300ER economy "ABC DEFG HJK" or a 787 "ABC DEF HJK": windows at the sides, aisles beside the aisles.
    assert kinds["A"] == "window" and kinds["C"] == "aisle" and kinds["K"] == "window"
    assert any(row["exit"] for row in segment["rows"]) and any(row["wing"] for row in segment["rows"])
    assert any(row["legroom"] for row in segment["rows"])
    assert any(c["chosen"] and c["price"] == segment["price"] for c in segment["classes"])
    assert "£" in segment["price"] or "$" in segment["price"]


async def test_no_seat_map_button_without_https(bot: RunningBot) -> None:
    from tests.flows import pick_first_fare, search_one_line, travel_day

    traveller = bot.telegram.traveller(5102)
    await search_one_line(traveller, "LHR", "JFK", travel_day(bot.clock), 1)
    seat_map = await pick_first_fare(traveller)
    assert not any("seat map" in label.lower() for label in seat_map.button_labels())
    assert "Pick for me" in " ".join(seat_map.button_labels())  # the inline grid is still there


async def test_confirm_holds_the_seats_and_the_chat_moves_on(app_bot: RunningBot) -> None:
    page = await to_seat_page(app_bot, 5103, pax=2)
    _status, view = await page.state()
    flight_id = view["segments"][0]["flight_id"]
    wanted = free_codes(view)[3:5]
    status, answer = await page.confirm([wanted])
    assert status == 200 and answer["status"] == "ok"
    assert await mine_on(app_bot, flight_id, 5103) == set(wanted)
    prompt = await page.traveller.wait_for("Passenger 1 of 2")
    said = page.traveller.messages()
    assert any("Seats from the seat map" in m.plain_text() and all(s in m.plain_text() for s in wanted)
               for m in said)
    assert prompt is not None
    conv = await app_bot.services.conversations.load(5103, 5103)
    assert conv.step == Step.PAX
    # The same confirm again (a double tap, a retry) answers as the first did and says nothing more in the chat.
    before = len(page.traveller.messages())
    status, again = await page.confirm([wanted])
    assert status == 200 and again["status"] == "ok"
    assert len(page.traveller.messages()) == before
    # The page is done: its state now says so, with no seat data.
    status, late = await page.state()
    assert status == 409 and late["error"] == "moved_on" and "segments" not in late


async def test_a_seat_taken_since_the_page_drew_it(app_bot: RunningBot) -> None:
    page = await to_seat_page(app_bot, 5104, pax=2)
    _status, view = await page.state()
    flight_id = view["segments"][0]["flight_id"]
    first, second = free_codes(view)[:2]
    rival = await to_seat_page(app_bot, 5105, pax=1)  # another traveller, same flight, taps it in the chat
    await rival.traveller.press(first)
    await rival.traveller.wait_for(lambda m: f"✅{first}" in m.button_labels())
    status, answer = await page.confirm([[first, second]])
    assert status == 409 and answer["error"] == "taken"
    assert answer["taken"] == [{"segment": 0, "seat": first}]
    assert first in answer["message"]
    redrawn = {seat[0]: seat[2] for row in answer["map"]["segments"][0]["rows"] for seat in row["seats"]}
    assert redrawn[first] == "taken" and redrawn[second] == "free"  # the seat won in this request is freed again
    assert await mine_on(app_bot, flight_id, 5104) == set()
    assert await mine_on(app_bot, flight_id, 5105) == {first}
    conv = await app_bot.services.conversations.load(5104, 5104)
    assert conv.step == Step.SEATS  # nothing moved on
    third = next(seat for seat in free_codes(answer["map"]) if seat != second)
    status, answer = await page.confirm([[third, second]])
    assert status == 200
    assert await mine_on(app_bot, flight_id, 5104) == {third, second}


async def test_changing_seats_on_the_page_frees_the_ones_picked_in_the_chat(app_bot: RunningBot) -> None:
    page = await to_seat_page(app_bot, 5106, pax=1)
    _status, view = await page.state()
    flight_id = view["segments"][0]["flight_id"]
    tapped = free_codes(view)[0]
    await page.traveller.press(tapped)
    await page.traveller.wait_for(lambda m: f"✅{tapped}" in m.button_labels())
    _status, view = await page.state()
    assert view["segments"][0]["picked"] == [tapped]
    other = free_codes(view)[5]
    status, _answer = await page.confirm([[other]])
    assert status == 200
    assert await mine_on(app_bot, flight_id, 5106) == {other}


@pytest.mark.parametrize("case", ["no header", "bearer", "forged", "other bot", "expired", "future", "4 KB"])
async def test_init_data_refused_leaks_nothing(app_bot: RunningBot, case: str) -> None:
    page = await to_seat_page(app_bot, 5107, pax=1)
    token = app_bot.settings.bot_token
    now = app_bot.clock.now().timestamp()
    data = {
        "no header": None, "bearer": None,
        "forged": page.init_data.replace("5107", "5108"),
        "other bot": init_data("999:other-bot-token", 5107),
        "expired": init_data(token, 5107, signed_at=now - 3601),
        "future": init_data(token, 5107, signed_at=now + 600),
        "4 KB": init_data(token, 5107) + "&x=" + "A" * 4096,
    }[case]
    headers = {} if case == "no header" else {"Authorization": "Bearer x"} if case == "bearer" else \
        {"Authorization": f"tma {data}"}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{app_bot.url}/app/api/seats", params={"f": page.flow}, headers=headers) as got:
            body = await got.text()
            assert got.status == 401
        async with http.post(f"{app_bot.url}/app/api/seats", headers=headers,
                             json={"flow": page.flow, "seats": [["12A"]]}) as posted:
            posted_body = await posted.text()
            assert posted.status == 401
    for text in (body, posted_body):
        assert json.loads(text)["error"] == "unauthorized"
        assert "segments" not in text and "LHR" not in text and page.flow not in text
    conv = await app_bot.services.conversations.load(5107, 5107)
    assert conv.step == Step.SEATS and all(s is None for s in conv.draft["picks"][0]["seats"])


async def test_init_data_expires_when_the_clock_moves(app_bot: RunningBot) -> None:
    page = await to_seat_page(app_bot, 5109, pax=1)
    signed = init_data(app_bot.settings.bot_token, 5109, signed_at=app_bot.clock.now().timestamp())
    assert (await page.state(signed))[0] == 200
    app_bot.clock.advance(timedelta(seconds=app_bot.settings.WEBAPP_AUTH_MAX_AGE_SECONDS + 1))
    assert (await page.state(signed))[0] == 401


async def test_another_travellers_init_data_reaches_only_their_own_chat(app_bot: RunningBot) -> None:
    victim = await to_seat_page(app_bot, 5110, pax=1)
    _status, view = await victim.state()
    seat = free_codes(view)[0]
    intruder = init_data(app_bot.settings.bot_token, 5111)  # valid, but someone else
    status, answer = await victim.state(intruder)
    assert status == 409 and "segments" not in answer
    status, answer = await victim.confirm([[seat]], intruder)
    assert status == 409 and answer["error"] == "stale"
    assert await mine_on(app_bot, view["segments"][0]["flight_id"], 5110) == set()
    assert await mine_on(app_bot, view["segments"][0]["flight_id"], 5111) == set()


async def test_a_page_from_an_earlier_search_is_told_so(app_bot: RunningBot) -> None:
    page = await to_seat_page(app_bot, 5112, pax=1)
    _status, view = await page.state()
    await page.traveller.send("/search")
    await page.traveller.wait_for(lambda m: "search" in m.plain_text().lower())
    status, answer = await page.state()
    assert status == 409 and answer["error"] == "stale"
    status, answer = await page.confirm([[free_codes(view)[0]]])
    assert status == 409 and answer["error"] == "stale"


@pytest.mark.parametrize(("body", "status"), [
    (b"not json", 400), (b"[]", 400), (b'{"flow": "x"}', 400), (b'{"flow": 5, "seats": [["12A"]]}', 400),
    (b'{"flow": "' + b"f" * 4000 + b'", "seats": [["12A"]]}', 400),
    (b'{"seats": [["12A", {"x": 1}]], "flow": "F"}', 400), (b'{"seats": [[]], "flow": "F"}', 400),
    (b'{"seats": [["12A"]], "flow": "F", "pad": "' + b"x" * 9000 + b'"}', 413),
])
async def test_malformed_confirms_are_refused_plainly(app_bot: RunningBot, body: bytes, status: int) -> None:
    page = await to_seat_page(app_bot, 5113, pax=1)
    async with aiohttp.ClientSession() as http, http.post(
            f"{app_bot.url}/app/api/seats", data=body.replace(b'"F"', f'"{page.flow}"'.encode()),
            headers={**page.headers(), "Content-Type": "application/json"}) as got:
        assert got.status == status
        assert (await got.json())["message"]


@pytest.mark.parametrize("seats", [["12A", "12A"], ["12A"], ["1A", "12B"], ["99Z", "12B"], ["12A", "12B", "12C"]])
async def test_seats_that_cannot_be_chosen(app_bot: RunningBot, seats: list[str]) -> None:
    page = await to_seat_page(app_bot, 5114, pax=2)
    _status, view = await page.state()
    status, answer = await page.confirm([seats])
    assert status == 400 and answer["error"] == "invalid" and answer["message"]
    assert await mine_on(app_bot, view["segments"][0]["flight_id"], 5114) == set()
    status, answer = await page.confirm([free_codes(view)[:2], free_codes(view)[2:4]])  # one flight, two lists
    assert status == 400


async def test_twenty_five_confirms_at_once_hold_once_and_say_it_once(app_bot: RunningBot) -> None:
    page = await to_seat_page(app_bot, 5115, pax=2)
    _status, view = await page.state()
    wanted = free_codes(view)[6:8]
    results = await asyncio.gather(*(page.confirm([wanted]) for _ in range(25)))
    assert all(status == 200 for status, _answer in results)
    await page.traveller.wait_for("Passenger 1 of 2")
    await asyncio.sleep(0)  # the replies of the turn that moved on were all sent before its response
    said = [m for m in page.traveller.messages() if "Seats from the seat map" in m.plain_text()]
    asked = [m for m in page.traveller.messages() if "Passenger 1 of 2" in m.plain_text()]
    assert len(said) == 1 and len(asked) == 1
    assert await mine_on(app_bot, view["segments"][0]["flight_id"], 5115) == set(wanted)


async def test_past_the_booking_cut_off_the_page_and_the_chat_say_so(app_bot: RunningBot) -> None:
    page = await to_seat_page(app_bot, 5116, pax=1, days_ahead=1)
    _status, view = await page.state()
    flight = await app_bot.services.flights.get(view["segments"][0]["flight_id"])
    assert flight is not None
    app_bot.clock.advance(flight.departs_at - app_bot.clock.now() - timedelta(minutes=30))
    fresh = init_data(app_bot.settings.bot_token, 5116, signed_at=app_bot.clock.now().timestamp())
    status, answer = await page.confirm([[free_codes(view)[0]]], fresh)
    assert status == 409 and answer["error"] == "closed"
    await page.traveller.wait_for("Please pick another flight")
    assert await mine_on(app_bot, str(flight.id), 5116) == set()


async def test_the_page_and_its_files_are_served_with_strict_headers(app_bot: RunningBot) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{app_bot.url}/app/seats/?f=abcd") as got:
            html = await got.text()
            assert got.status == 200 and "telegram-web-app.js" in html and "/app/static/seats.js" in html
            csp = got.headers["Content-Security-Policy"]
            assert "script-src 'self' https://telegram.org" in csp and "'unsafe-inline'" not in csp
            assert "frame-ancestors" in csp and got.headers["Cache-Control"] == "no-store"
        for name in ("app.js", "seats.js", "seats.css", "common.css"):
            async with http.get(f"{app_bot.url}/app/static/{name}") as got:
                assert got.status == 200 and len(await got.read()) > 100
        for name in ("..%2Fweb.py", "../web.py", "seats.html", "nope.js", "%2e%2e%2fseats.py"):
            async with http.get(f"{app_bot.url}/app/static/{name}") as got:
                assert got.status == 404
    assert PUBLIC.startswith("https://")


async def test_a_return_trip_confirms_both_flights_at_once(app_bot: RunningBot) -> None:
    from urllib.parse import parse_qs, urlsplit

    from tests.flows import travel_day
    from tests.miniapp.conftest import app_url

    traveller = app_bot.telegram.traveller(5117)
    out = travel_day(app_bot.clock, 11)
    await traveller.send(f"LHR JFK {out.isoformat()} {(out + timedelta(days=6)).isoformat()} 2")
    await traveller.wait_for("Outbound ·")
    await traveller.press("1. Economy")
    await traveller.wait_for("Return ·")
    await traveller.press("1. Economy")
    seat_map = await traveller.wait_for("Flight 1 of 2")
    page = SeatPage(app_bot, traveller, parse_qs(urlsplit(app_url(seat_map)).query)["f"][0], seat_map)
    status, view = await page.state()
    assert status == 200 and len(view["segments"]) == 2
    assert [s["origin"] for s in view["segments"]] == ["LHR", "JFK"]
    out_seats, back_seats = free_codes(view, 0)[:2], free_codes(view, 1)[10:12]
    status, answer = await page.confirm([out_seats])  # only one flight's seats: both are needed
    assert status == 400
    status, answer = await page.confirm([out_seats, back_seats])
    assert status == 200, answer
    for index, wanted in ((0, out_seats), (1, back_seats)):
        assert await mine_on(app_bot, view["segments"][index]["flight_id"], 5117) == set(wanted)
    await traveller.wait_for("Passenger 1 of 2")
