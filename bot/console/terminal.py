"""The terminal: output that does not trample the line being typed, and line input that keeps the loop free.

Input comes from one daemon thread calling `input()` (GNU readline when available: arrow keys, history
saved under DATA_DIR). A daemon thread, not the loop's executor, because a thread blocked in `input()`
cannot be joined: asyncio.run would wait for it forever after Ctrl-C. The thread reads one line only
when asked, so after /quit or Ctrl-D nothing is left reading the terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from pathlib import Path
from typing import IO, Any

try:  # stdlib, absent on some platforms (Windows); plain input() still works there
    import readline
except ImportError:  # pragma: no cover
    readline = None  # type: ignore[assignment]

try:
    import termios
except ImportError:  # pragma: no cover
    termios = None  # type: ignore[assignment]

from bot.console.render import Style

PROMPT = "you › "
QUIT = ("/quit", "/exit")
HISTORY_LINES = 500


def wants_colour(stream: IO[str]) -> bool:
    """Bold and dim only on a real terminal, and never when NO_COLOR is set (no-color.org)."""
    return stream.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


class Screen:
    """Prints whole blocks; while a prompt is waiting it clears that line first and redraws it after."""

    def __init__(self, out: IO[str] | None = None) -> None:
        self.out = out or sys.stdout
        self.style = Style(wants_colour(self.out))
        self.tty = self.out.isatty()
        self._prompt: str | None = None
        self._lock = threading.Lock()

    @property
    def width(self) -> int | None:
        """The terminal's columns now (it may have been resized), for wrapping; None for a pipe or file."""
        if not self.tty:
            return None
        try:
            return os.get_terminal_size(self.out.fileno()).columns or None
        except (OSError, ValueError):
            return None

    def show(self, text: str) -> None:
        with self._lock:
            if self._prompt is not None and self.tty:
                self.out.write("\r\x1b[K")
            self.out.write(text.rstrip("\n") + "\n")
            if self._prompt is not None and self.tty:
                typed = readline.get_line_buffer() if readline is not None else ""
                self.out.write(self._prompt + typed)
            self.out.flush()

    def prompting(self, prompt: str | None) -> None:
        with self._lock:
            self._prompt = prompt


class LineReader:
    """`await reader.read(prompt)` → a line, or None at end of input (Ctrl-D, closed pipe)."""

    def __init__(self, screen: Screen, history: Path | None) -> None:
        self.screen = screen
        self.history = history
        self._wanted = threading.Event()
        self._prompt = PROMPT
        self._loop: asyncio.AbstractEventLoop | None = None
        self._future: asyncio.Future[str | None] | None = None
        self._thread: threading.Thread | None = None
        self._saved_tty: Any = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if termios is not None and sys.stdin.isatty():
            # readline switches the terminal to raw mode while it waits; restore it whatever happens
            with contextlib.suppress(termios.error):
                self._saved_tty = termios.tcgetattr(sys.stdin.fileno())
        if readline is not None and self.history is not None:
            readline.set_history_length(HISTORY_LINES)
            with contextlib.suppress(OSError):
                readline.read_history_file(self.history)
        self._thread = threading.Thread(target=self._run, name="console-input", daemon=True)
        self._thread.start()

    async def read(self, prompt: str = PROMPT) -> str | None:
        assert self._loop is not None, "start() first"
        self._future = self._loop.create_future()
        self._prompt = prompt
        self._wanted.set()
        return await self._future

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            line: str | None
            self.screen.prompting(self._prompt)
            try:
                line = input(self._prompt if sys.stdin.isatty() else "")
            except EOFError:
                line = None
            except (OSError, ValueError):  # stdin closed under us
                line = None
            finally:
                self.screen.prompting(None)
            interactive = sys.stdin.isatty() and readline is not None  # only then did readline keep the line
            if line is not None and line.strip().lower() in QUIT and interactive:
                with contextlib.suppress(ValueError):  # ↑ then Enter should never quit by accident
                    readline.remove_history_item(readline.get_current_history_length() - 1)
            if line is not None and not sys.stdin.isatty():
                self.screen.show(self._prompt + line)  # piped input: show what was "typed" in the transcript
            self._deliver(line)
            if line is None:
                return

    def _deliver(self, line: str | None) -> None:
        loop, future = self._loop, self._future
        if loop is None or future is None or loop.is_closed():
            return

        def resolve() -> None:
            if not future.done():
                future.set_result(line)
        with contextlib.suppress(RuntimeError):  # the loop closed between the check and the call
            loop.call_soon_threadsafe(resolve)

    def stop(self) -> None:
        if self._thread is None:
            return  # never started: nothing to restore, and an empty history must not overwrite the file
        if readline is not None and self.history is not None:
            with contextlib.suppress(OSError):
                self.history.parent.mkdir(parents=True, exist_ok=True)
                readline.write_history_file(self.history)
        if self._saved_tty is not None and termios is not None:
            with contextlib.suppress(termios.error):
                termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, self._saved_tty)
