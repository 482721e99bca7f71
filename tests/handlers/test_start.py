"""The real Application on the fake Bot API answers /start and /help."""

from __future__ import annotations

from typing import Any


async def test_start_greets_the_traveller_and_lists_what_flyo_does(bot: Any) -> None:
    ada = bot.telegram.traveller(1001, first_name="Ada")
    await ada.send("/start")
    reply = await ada.wait_for("FlyO")
    text = reply.plain_text()
    assert "Hi Ada" in text
    assert "/search" in text and "/mybookings" in text and "/cancel" in text
    assert "Admin:" not in text  # not an admin


async def test_unknown_command_says_which_commands_exist(bot: Any) -> None:
    ada = bot.telegram.traveller(1002)
    await ada.send("/fly")
    reply = await ada.wait_for("don't know that command")
    assert "/search" in reply.plain_text()


async def test_bot_commands_are_registered_at_startup(bot: Any) -> None:
    calls = bot.telegram.calls_of("setMyCommands")
    assert calls, "setMyCommands was not called in post_init"
    default = [c for c in calls if not c.params.get("language_code")]
    names = [c["command"] for c in default[-1].params["commands"]]
    assert names == ["search", "mybookings", "ticket", "profile", "cancel", "language", "support", "deleteme", "help"]
    # The same menu in every other language FlyO speaks, for Telegram to show users of that language.
    from core.i18n import available_locales

    per_language = {c.params["language_code"]: c.params["commands"] for c in calls if c.params.get("language_code")}
    assert set(per_language) == set(available_locales()) - {"en"}
    for commands in per_language.values():
        assert [c["command"] for c in commands] == names
