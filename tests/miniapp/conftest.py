"""A FlyO whose PUBLIC_URL is https (so the seat step offers the Mini App), on the fake Bot API and the test
database; and a traveller brought to the seat map with the page's link in hand."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from core.database import Database
from tests.conftest import SCRIPTED_FLOOD_LIMIT
from tests.flows import pick_first_fare, search_one_line, travel_day
from tests.harness import RunningBot, running_bot
from tests.miniapp.webapp_browser import init_data

PUBLIC = "https://flyo.example.com"


@pytest.fixture
async def app_bot(inventory_db: Database, telegram: Any, tmp_path: Path) -> AsyncIterator[RunningBot]:
    async with running_bot(inventory_db, telegram, tmp_path, FLOOD_MAX_UPDATES=SCRIPTED_FLOOD_LIMIT,
                           PUBLIC_URL=PUBLIC) as running:
        yield running


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """The phone-sized Chromium of the Mini App browser tests (tests.miniapp.webapp_browser)."""
    from tests.miniapp.webapp_browser import mini_app_browser

    with mini_app_browser(tmp_path / "profile") as driver:
        yield driver


@dataclass
class SeatPage:
    """A traveller on the seat step, and what Telegram would open: the page's path and its init data."""

    bot: RunningBot
    traveller: Any
    flow: str
    seat_map: Any  # the chat's seat map message

    @property
    def init_data(self) -> str:
        return init_data(self.bot.settings.bot_token, self.traveller.user_id)

    def headers(self, data: str | None = None) -> dict[str, str]:
        return {"Authorization": "tma " + (data if data is not None else self.init_data)}

    async def state(self, data: str | None = None, flow: str | None = None) -> tuple[int, Any]:
        async with aiohttp.ClientSession() as http, http.get(
                f"{self.bot.url}/app/api/seats", params={"f": flow if flow is not None else self.flow},
                headers=self.headers(data)) as response:
            return response.status, await response.json()

    async def confirm(self, seats: list[list[str]], data: str | None = None, flow: str | None = None
                      ) -> tuple[int, Any]:
        body = {"flow": flow if flow is not None else self.flow, "seats": seats}
        async with aiohttp.ClientSession() as http, http.post(
                f"{self.bot.url}/app/api/seats", json=body, headers=self.headers(data)) as response:
            return response.status, await response.json()


def app_url(seat_map: Any) -> str:
    """The URL of the seat map message's "Open seat map" web_app button."""
    url = seat_map.find_button("Open seat map").web_app
    assert isinstance(url, str), "the seat map button is not a web_app button"
    return url


async def to_seat_page(bot: RunningBot, user_id: int, pax: int = 2, days_ahead: int = 10,
                       route: tuple[str, str] = ("LHR", "JFK")) -> SeatPage:
    traveller = bot.telegram.traveller(user_id)
    await search_one_line(traveller, route[0], route[1], travel_day(bot.clock, days_ahead), pax)
    seat_map = await pick_first_fare(traveller)
    url = app_url(seat_map)
    assert url.startswith(PUBLIC + "/app/seats/?")
    flow = parse_qs(urlsplit(url).query)["f"][0]
    return SeatPage(bot, traveller, flow, seat_map)
