"""Rendering e-ticket PDFs in a process of their own, so a burst of confirmations never slows the bot.

fpdf2 is pure Python: ~0.1 s of CPU for a Latin-only ticket, ~0.25 s with CJK names. On a thread that time
holds the GIL against the event loop, which then answers Telegram and Stripe at half speed while tickets are
drawn (the webhook bench fell from ~420 to ~280 events/s with 200 confirmations drawing alongside). One renderer
process takes that work to another core instead: the pages (plain strings and PNG bytes) go to it, the PDF's bytes
come back.

- One process per FlyO process, started on the first ticket ("spawn": a clean interpreter, never a fork of a
  process that runs threads), then kept; the pool's own exit handler stops it with the interpreter.
- It ignores SIGINT, so Ctrl-C in the terminal chat stops FlyO, not the renderer with a traceback.
- A renderer that dies (killed, out of memory) is replaced on the next ticket; the ticket in hand is rendered
  on a thread instead, so it is not lost.
- `RENDER_IN_PROCESS = False` (or a platform that cannot start processes) renders on threads.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime

from core.i18n import use_locale
from services.tickets.pdf import TicketPage, render

log = logging.getLogger(__name__)

RENDER_IN_PROCESS = True
_pool: ProcessPoolExecutor | None = None


def _quiet_on_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _render_in(locale: str, pages: Sequence[TicketPage], title: str, issued: datetime) -> bytes:
    """What the renderer process runs: the labels in the traveller's language, then the PDF."""
    with use_locale(locale):
        return render(pages, title=title, issued=issued)


def _process_pool() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                    initializer=_quiet_on_ctrl_c)
    return _pool


def _forget_pool() -> None:
    global _pool
    broken, _pool = _pool, None
    if broken is not None:
        broken.shutdown(wait=False, cancel_futures=True)


async def render_pdf(pages: Sequence[TicketPage], *, title: str, issued: datetime, locale: str) -> bytes:
    """The PDF of these pages, rendered off the event loop and, where possible, off this process's GIL."""
    loop = asyncio.get_running_loop()
    if RENDER_IN_PROCESS:
        try:
            return await loop.run_in_executor(_process_pool(), _render_in, locale, list(pages), title, issued)
        except (BrokenProcessPool, OSError) as exc:  # died, or could not start: this one on a thread
            log.warning("the ticket renderer process is gone (%s); rendering on a thread", exc)
            _forget_pool()
    return await asyncio.to_thread(_render_in, locale, list(pages), title, issued)
