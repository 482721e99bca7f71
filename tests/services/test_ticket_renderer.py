"""The renderer process (services.tickets.renderer): the same bytes as a render in this process, and a renderer
killed with SIGKILL costs no ticket."""

from __future__ import annotations

import os
import signal

from services.tickets import renderer
from services.tickets.pdf import render
from services.tickets.sample import ISSUED, sample_page


async def test_the_renderer_process_draws_what_this_process_would() -> None:
    pages = [sample_page(), sample_page("王芳", infant=None, seat="14D")]
    here = render(pages, title="FlyO e-ticket FLY4Q2", issued=ISSUED)
    there = await renderer.render_pdf(pages, title="FlyO e-ticket FLY4Q2", issued=ISSUED, locale="en")
    assert there == here
    assert renderer._pool is not None and renderer._pool._processes  # it ran in another process


async def test_a_renderer_killed_mid_life_loses_no_ticket() -> None:
    pages = [sample_page()]
    expected = render(pages, title="t", issued=ISSUED)
    assert await renderer.render_pdf(pages, title="t", issued=ISSUED, locale="en") == expected
    pool = renderer._process_pool()
    for pid in list(pool._processes):
        os.kill(pid, signal.SIGKILL)
    # the next ticket: rendered by a thread while the pool is found broken, or by a fresh renderer
    assert await renderer.render_pdf(pages, title="t", issued=ISSUED, locale="en") == expected
    assert await renderer.render_pdf(pages, title="t", issued=ISSUED, locale="en") == expected
    assert renderer._pool is not None and renderer._pool is not pool  # replaced
