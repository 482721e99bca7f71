"""Placeholder while issue #19 is built."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
