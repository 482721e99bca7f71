"""FlyO's Mini Apps (issue #19): web pages opened from a chat button, served by FlyO's own aiohttp server.

`/app/seats/` is the seat map travellers pick seats on; `/app/dashboard/` is the admins' analytics. Every API call
carries Telegram's signed init data (miniapp.web.authenticate); the pages are static files shipped in this
package (`static/`), with no CDN but Telegram's own `telegram-web-app.js`, which they do without if it cannot
load. A Mini App request is a front end like a Telegram update, so this package sits above handlers and
webhooks: it runs chat turns (handlers.router) and reads the webhooks' application keys.
"""
