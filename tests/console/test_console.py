"""`python -m bot console` driven like a person would: in a pseudo-terminal, typing and reading the screen.

Each test runs the real program (embedded nx-27017, inventory seeding on the first start, the local Bot
API, FlyO's HTTP server) in a child process; nothing here talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

REPO_ROOT = Path(__file__).resolve().parents[2]

# slow: each test starts `python -m bot console` in a pty (the first one seeds the inventory)
pytestmark = [pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pty tests need Linux (/proc)"),
              pytest.mark.slow]

PROMPT = r"(you|phone) › "
FIRST_START_SECONDS = 120  # the first start seeds ~65k flights (~20 s here); slow CI machines get headroom


class Console:
    """The terminal as a person sees it: `say` types a line and waits for the next prompt."""

    def __init__(self, data_dir: Path, *args: str) -> None:
        ours = ("TELEGRAM_", "STRIPE_", "SENDGRID_", "AMADEUS_", "MONGODB_", "HTTP_", "PUBLIC_URL",
                "ADMIN_IDS")
        env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}  # no developer keys leak in
        env.update(
            DATA_DIR=str(data_dir), CI="true", TERM="xterm-256color",
            NO_COLOR="1",  # plain text to match on; the ANSI styling itself is unit-tested in test_render
            # pexpect types at machine speed; a person never sends 20 updates in 10 s, so the flood gate
            # (which this test must not trip) is widened — everything else is the production configuration.
            FLOOD_MAX_UPDATES="1000",
        )
        self.child = pexpect.spawn(sys.executable, ["-m", "bot", "console", *args], cwd=str(REPO_ROOT),
                                   env=env, encoding="utf-8", timeout=30, dimensions=(60, 160))
        self.transcript: list[str] = []
        self.screen = ""

    def wait_prompt(self, timeout: float = 30) -> str:
        self.child.expect(PROMPT, timeout=timeout)
        self.screen = self.child.before.replace("\r\n", "\n")
        self.transcript.append(self.screen + self.child.after)
        return self.screen

    def say(self, line: str, expect: str | None = None) -> str:
        self.child.sendline(line)
        screen = self.wait_prompt()
        if expect is not None:
            assert expect in screen, f"expected {expect!r} after typing {line!r}; the screen shows:\n{screen}"
        return screen

    def number_of(self, label: str) -> str:
        found = re.findall(r"\[(\d+)\] " + re.escape(label), self.screen)
        assert found, f"no button {label!r} on the screen:\n{self.screen}"
        return str(found[-1])

    def tap(self, label: str, expect: str | None = None) -> str:
        return self.say(self.number_of(label), expect)

    def quit(self, how: str = "/quit") -> int:
        if how == "ctrl-d":
            self.child.sendeof()
        elif how == "ctrl-c":
            self.child.sendintr()
        else:
            self.child.sendline(how)
        self.child.expect("Bye!", timeout=30)
        self.child.expect(pexpect.EOF, timeout=30)
        self.child.close()
        return int(self.child.exitstatus if self.child.exitstatus is not None else -1)


def embedded_servers(data_dir: Path) -> list[int]:
    """nx-27017 processes serving this DATA_DIR (none may outlive the console)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if "nx_27017" in cmdline and str(data_dir.resolve()) in cmdline:
            pids.append(int(proc.name))
    return pids


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One DATA_DIR for the module: the first test pays for seeding, the others start in seconds."""
    return tmp_path_factory.mktemp("console-data")


@pytest.fixture
def console(data_dir: Path) -> Iterator[Console]:
    running = Console(data_dir)
    yield running
    if running.child.isalive():
        running.child.terminate(force=True)


def test_book_a_flight_in_the_console_to_confirmed(console: Console, data_dir: Path) -> None:
    screen = console.wait_prompt(timeout=FIRST_START_SECONDS)
    assert "This is the real FlyO bot" in screen
    assert "DEMO mode" in screen and "pay" in screen
    assert "Hi Traveller!" in screen and "/search" in screen  # /start was sent, like Telegram's START button

    console.say("/search", expect="Where are you flying from?")
    console.say("London", expect="[3] LHR · London Heathrow Airport")
    console.tap("LHR · London Heathrow Airport", expect="Where to?")
    console.say("New York", expect="JFK · John F Kennedy International Airport")
    screen = console.tap("JFK · John F Kennedy International Airport", expect="When?")
    assert "Mo   Tu   We   Th   Fr   Sa   Su" in screen  # the calendar is a grid

    day = date.today() + timedelta(days=10)
    if day.month != date.today().month:
        console.tap("»", expect=day.strftime("%B %Y"))
    console.say(str(day.day), expect="One way or return?")  # a calendar day is tapped by its number
    console.tap("➡️ One way", expect="How many passengers?")
    screen = console.say("2", expect="2 passengers")
    assert "tap a fare" in screen and "source:" not in screen  # one source: nothing to say about it

    screen = console.tap("1. Economy", expect="Tap a seat for passenger 1 of 2")
    assert re.search(r"^\s+A\s+B\s+C\s+┊\s+D\s+E\s+F", screen, re.MULTILINE), screen  # the seat grid header
    first_free = re.search(r"^\s+(\d+) [^\n]*?\[(\d+)\]", screen, re.MULTILINE)
    assert first_free is not None, screen
    screen = console.say(first_free.group(2), expect="FlyO (updated):")
    assert "is yours for" in screen and "Tap a seat for passenger 2 of 2" in screen
    assert f"({first_free.group(2)})" in screen  # shown as yours in the grid
    console.tap("🎲 Pick for me", expect="All seats picked")
    console.tap("✅ Continue", expect="Passenger 1 of 2")

    console.say("Ada Lovelace", expect="Date of birth of Ada Lovelace")
    console.say("1990-12-10", expect="E-mail address")
    screen = console.say("ada@example.com", expect="Share my number")
    assert "⌨️" in screen  # the reply keyboard
    console.tap("📱 Share my number", expect="press Enter to share the demo number +44 20 7946 0958")
    console.say("", expect="Passport or ID number of Ada Lovelace")
    console.tap("⏭ Skip", expect="Passenger 2 of 2")
    console.say("Charles Babbage", expect="Date of birth of Charles Babbage")
    console.say("1991-12-26", expect="Passport or ID number of Charles Babbage")
    screen = console.say("X1234567", expect="Please review your booking")
    assert "Ada Lovelace" in screen and "+44 20 7946 0958" in screen and "doc …567" in screen

    screen = console.tap("✅ Confirm and pay", expect="/demo/checkout/")
    assert "DEMO payment" in screen  # labelled as a demo in the message itself
    reference = re.search(r"Booking ([A-Z0-9]{6})", screen)
    assert reference is not None, screen

    screen = console.say("pay", expect="is confirmed")
    assert f"Booking {reference.group(1)} is confirmed" in screen
    assert "Pay (demo)" in screen  # the checkout page was shown, then its POST button pressed
    assert "DEMO payment — no money was taken" in screen  # the confirmation itself says it was a demo
    mail = re.search(r"📧 Confirmation e-mail: (\S+\.eml)", screen)
    assert mail is not None, screen
    path = Path(mail.group(1))
    path = path if path.is_absolute() else REPO_ROOT / path
    assert path.parent == data_dir.resolve() / "outbox" and path.exists()
    assert reference.group(1) in path.read_text(errors="replace")

    # The e-ticket and calendar file: saved where the person can open them, the paths shown in the chat.
    console.say("/ticket", expect=f"e-ticket of booking {reference.group(1)}")
    shown = "\n".join(console.transcript)
    for name in (f"FlyO-e-ticket-{reference.group(1)}.pdf", f"FlyO-{reference.group(1)}.ics"):
        saved = re.findall(r"📎 \S*" + re.escape(name) + r" saved as (\S+)", shown)
        assert saved, f"no {name} in the chat:\n{shown[-3000:]}"
        file = Path(saved[0]) if Path(saved[0]).is_absolute() else REPO_ROOT / saved[0]
        assert file.parent == data_dir.resolve() / "tickets" and file.exists()
    console.say("/mybookings", expect="Confirmed")
    assert console.quit() == 0
    assert embedded_servers(data_dir) == []


def test_admin_history_and_ctrl_d(data_dir: Path) -> None:
    console = Console(data_dir, "--admin")
    try:
        screen = console.wait_prompt(timeout=FIRST_START_SECONDS)
        assert "are an admin" in screen
        console.say("/stats", expect="FlyO stats")
        console.say("/help", expect="/mybookings")
        console.child.send("\x1b[A")  # ↑ recalls /help (readline history)
        console.child.sendline("")
        screen = console.wait_prompt()
        assert "/help" in screen and "Admin:" in screen
        assert console.quit("ctrl-d") == 0
    finally:
        if console.child.isalive():
            console.child.terminate(force=True)
    assert embedded_servers(data_dir) == []


def test_ctrl_c_leaves_cleanly_and_strangers_get_no_admin_commands(console: Console, data_dir: Path) -> None:
    console.wait_prompt(timeout=FIRST_START_SECONDS)
    console.say("/stats", expect="for FlyO staff only")
    assert console.quit("ctrl-c") == 0
    assert embedded_servers(data_dir) == []


def fill_in_a_passenger(console: Console, name: str, born: str, *, first: bool, expect: str) -> None:
    """One passenger's details as typed; only the first passenger is asked for an e-mail and phone."""
    console.say(name, expect=f"Date of birth of {name}")
    if first:
        console.say(born, expect="E-mail address")
        console.say(name.split()[0].lower() + "@example.com", expect="Share my number")
        console.tap("📱 Share my number", expect="press Enter to share the demo number")
        console.say("", expect=f"Passport or ID number of {name}")
    else:
        console.say(born, expect=f"Passport or ID number of {name}")
    console.tap("⏭ Skip", expect=expect)


def seat_everyone(console: Console, flight: str, then: str) -> str:
    """One seat map: 🎲 Pick for me seats every passenger, ✅ Continue moves on."""
    assert flight in console.screen, f"expected the seat map of {flight!r}; the screen shows:\n{console.screen}"
    console.tap("🎲 Pick for me", expect="All seats picked")
    return console.tap("✅ Continue", expect=then)


def pay_and_confirm(console: Console) -> str:
    """✅ Confirm and pay, then `pay` on the demo checkout page: the confirmation screen."""
    screen = console.tap("✅ Confirm and pay", expect="/demo/checkout/")
    reference = re.search(r"Booking ([A-Z0-9]{6})", screen)
    assert reference is not None, screen
    screen = console.say("pay", expect="is confirmed")
    assert f"Booking {reference.group(1)} is confirmed" in screen
    assert "DEMO payment — no money was taken" in screen
    return screen


def open_calendar_on(console: Console, day: date) -> None:
    """Turns the calendar on the screen to `day`'s month (it opens on the current one)."""
    if day.month != date.today().month:
        console.tap("»", expect=day.strftime("%B %Y"))


def test_return_trip_for_two_booked_and_paid_in_the_console(console: Console) -> None:
    console.wait_prompt(timeout=FIRST_START_SECONDS)
    console.say("/cancel", expect="in progress")  # whatever an earlier test of this session left half-done
    console.say("/search", expect="Where are you flying from?")
    console.say("London", expect="LHR · London Heathrow Airport")
    console.tap("LHR · London Heathrow Airport", expect="Where to?")
    console.say("New York", expect="JFK · John F Kennedy International Airport")
    console.tap("JFK · John F Kennedy International Airport", expect="When?")
    out = date.today() + timedelta(days=10)
    back = out + timedelta(days=7)
    open_calendar_on(console, out)
    console.say(str(out.day), expect="One way or return?")
    screen = console.tap("🔁 Return", expect="When do you fly back")
    week_later = f"📅 {back:%a %d %b %Y} (a week later)"
    assert week_later in screen  # a button of its own above the calendar, readable as one label
    console.tap(week_later, expect="How many passengers?")
    screen = console.say("2", expect="Outbound · London LHR → New York JFK")
    assert "2 passengers" in screen

    screen = console.tap("1. Economy", expect="Return · New York JFK → London LHR")
    assert f"{back:%a %d %b %Y}" in screen and "Your outbound: FO" in screen
    back_fare = re.search(r"\[(\d+)\] (\d+\. Economy £[\d,.]+)", screen)
    assert back_fare is not None, screen
    screen = console.say(back_fare.group(1), expect="Flight 1 of 2 · Outbound")
    screen = seat_everyone(console, "Flight 1 of 2 · Outbound", then="Flight 2 of 2 · Return")
    assert "JFK" in screen and "LHR" in screen
    seat_everyone(console, "Flight 2 of 2 · Return", then="Passenger 1 of 2")

    fill_in_a_passenger(console, "Ada Lovelace", "1990-12-10", first=True, expect="Passenger 2 of 2")
    fill_in_a_passenger(console, "Charles Babbage", "1991-12-26", first=False, expect="Please review")
    screen = console.screen
    assert "Ada Lovelace" in screen and "Charles Babbage" in screen
    assert "Outbound · " in screen and "London (LHR) → New York (JFK)" in screen, screen  # both legs…
    assert "Return · " in screen and "New York (JFK) → London (LHR)" in screen, screen
    assert re.search(r"× 2 = £[\d,.]+", screen), screen  # …and one total for both

    screen = pay_and_confirm(console)
    assert "Outbound:" in screen and "Return:" in screen, screen
    numbers = re.findall(r"\bFO\d+\b", screen)
    assert len(set(numbers)) >= 2, screen
    console.say("/mybookings", expect="Confirmed")
    assert console.quit() == 0


def test_connection_booked_from_a_one_line_search_in_the_console(console: Console) -> None:
    console.wait_prompt(timeout=FIRST_START_SECONDS)
    console.say("/cancel", expect="in progress")  # whatever an earlier test of this session left half-done
    day = date.today() + timedelta(days=10)
    screen = console.say(f"LHR SYD {day:%Y-%m-%d} 1", expect="1 stop")
    connection = re.search(r"^\s+(\d+)\. (FO\d+) LHR [^\n]*· (FO\d+) \w{3} [^\n]*· total [^\n]*1 stop$",
                           screen, re.MULTILINE)
    assert connection is not None, screen  # one connection per result line: both flights and the change
    line, first, second = connection.groups()
    fare = re.search(r"\[(\d+)\] " + line + r"\. \w+ £[\d,.]+", screen)
    assert fare is not None, screen
    screen = console.say(fare.group(1), expect="Flight 1 of 2 · Connection")
    assert first in screen, screen
    screen = seat_everyone(console, "Flight 1 of 2 · Connection", then="Flight 2 of 2 · Connection")
    assert second in screen, screen
    seat_everyone(console, "Flight 2 of 2 · Connection", then="Passenger 1 of 1")
    fill_in_a_passenger(console, "Grace Hopper", "1986-12-09", first=True, expect="Please review")
    assert first in console.screen and second in console.screen, console.screen

    screen = pay_and_confirm(console)
    assert first in screen and second in screen, screen
    assert console.quit() == 0
