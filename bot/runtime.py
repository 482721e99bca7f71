"""One lifecycle for everything: aiohttp `cleanup_ctx` opens the database, builds services and runs
the Telegram Application; shutdown unwinds in reverse (updates stop first, the database closes last).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from telegram import Update

from bot import jobs
from bot.app import build_application
from bot.db import open_database
from bot.notify import TelegramChatSender
from core import crypto
from core.clock import Clock
from core.config import ConfigError, Settings
from core.data_keys import ring_for
from core.database import Database
from miniapp import routes as mini_apps
from repos.flights import AircraftRepo, AirportRepo, FlightRepo
from services.airline_orders import AirlineOrderService
from services.airports import AirportDirectory
from services.bookings import BookingRules, BookingService
from services.cancellations import Cancellations
from services.connections import ConnectionSearch
from services.context import Services
from services.conversations import ConversationStore
from services.erasure import Erasure
from services.flight_actions import FlightOps
from services.flight_status import FlightStatusService
from services.flights import FlightSearch
from services.flood import FloodGate, Gate, SharedFloodGate
from services.mailer import Mailer, OutboxMailer, SendGridMailer
from services.metrics import (
    DISRUPTION_CHOICES,
    FLIGHT_ALERTS,
    FLIGHT_STATUS_REPORTS,
    count_email,
    count_webhook_event,
    record_round_trips,
)
from services.notifications import NotificationService
from services.payment_events import PaymentEvents
from services.payments import PaymentService
from services.providers.base import FlightProvider
from services.providers.status_feed import ScriptedFeed, StatusFeed
from services.rebooking import Rebooking
from services.reference import ReferenceData
from services.route_graph import MinConnectTimes
from services.seats import SeatService
from services.sms import TwilioSms
from services.stats import flush_counters
from services.stripe_gateway import DemoGateway, PaymentGateway, StripeGateway
from services.sweeps import Sweeper
from services.telegram_inbox import TelegramInbox
from services.tickets.service import TicketService
from services.travellers import TravellerService
from webhooks import demo, health, metrics, pages
from webhooks import stripe as stripe_webhook
from webhooks import telegram as telegram_webhook
from webhooks.keys import SERVICES, SETTINGS, TELEGRAM

log = logging.getLogger(__name__)


def build_mailer(settings: Settings) -> Mailer:
    if settings.sendgrid_key:
        return SendGridMailer(settings.sendgrid_key, settings.SENDGRID_API_URL, settings.EMAIL_FROM,
                              name=settings.EMAIL_FROM_NAME)
    return OutboxMailer(settings.DATA_DIR / "outbox", settings.EMAIL_FROM, name=settings.EMAIL_FROM_NAME)


def build_gateway(settings: Settings) -> PaymentGateway | None:
    if settings.stripe_key:
        return StripeGateway(settings.stripe_key, settings.STRIPE_API_URL)
    if settings.demo_payments:  # the terminal chat only (its own Bot API); see Settings.for_console
        return DemoGateway(settings.public_url)
    return None


def booking_rules(settings: Settings) -> BookingRules:
    return BookingRules(
        payment_window_minutes=settings.PAYMENT_WINDOW_MINUTES, hold_grace_minutes=settings.HOLD_GRACE_MINUTES,
        cutoff_minutes=settings.BOOKING_CUTOFF_MINUTES, max_pending_per_user=settings.MAX_PENDING_BOOKINGS_PER_USER,
        max_seats_per_flight=settings.MAX_HELD_SEATS_PER_FLIGHT)


def build_providers(settings: Settings) -> list[FlightProvider]:
    """Amadeus when AMADEUS_CLIENT_ID/SECRET are set (AMADEUS_API_URL may point at a compatible gateway)."""
    if not settings.amadeus_configured:
        return []
    from services.providers.amadeus import AmadeusProvider  # the SDK loads only where it is used

    secret = settings.AMADEUS_CLIENT_SECRET.get_secret_value() if settings.AMADEUS_CLIENT_SECRET else ""
    provider = AmadeusProvider(settings.AMADEUS_CLIENT_ID, secret, settings.AMADEUS_API_URL,
                               settings.AMADEUS_TIMEOUT_SECONDS)
    log.info("live fares from Amadeus at %s (timeout %g s)", settings.AMADEUS_API_URL, provider.timeout)
    return [provider]


def build_airline_orders(clock: Clock, flights: FlightSearch,
                         notifications: NotificationService) -> AirlineOrderService | None:
    """Paid live fares become Amadeus flight orders, through the search adapter's client (one token)."""
    if not any(p.name == "amadeus" for p in flights.live):
        return None
    from services.providers.amadeus import AmadeusProvider  # the SDK loads only where it is used
    from services.providers.amadeus_orders import AmadeusOrders

    provider = next((p for p in flights.live if isinstance(p, AmadeusProvider)), None)
    if provider is None:
        return None
    return AirlineOrderService(clock, AmadeusOrders(provider), notifications, source=provider.name)


def build_status_feed(settings: Settings) -> StatusFeed | None:
    """FLIGHT_STATUS_FEED: None, or the scripted day it names (ConfigError, naming the line, for a bad script)."""
    if not settings.FLIGHT_STATUS_FEED:
        return None
    return ScriptedFeed.from_file(Path(settings.FLIGHT_STATUS_FEED.removeprefix("scripted:").strip()))


async def load_reference_data() -> ReferenceData:
    """Airports, aircraft and the inventory's last day: read once at start-up (after the seed) and injected."""
    return ReferenceData(
        airports=AirportDirectory(await AirportRepo().all()),
        aircraft={a.code: a for a in await AircraftRepo().all()},
        last_day=await FlightRepo().last_local_date(),
    )


def conversation_cache_size(settings: Settings) -> int:
    """CONVERSATION_CACHE_SIZE, or by default 512 with the embedded database and off with MONGODB_URI."""
    if settings.CONVERSATION_CACHE_SIZE is not None:
        return settings.CONVERSATION_CACHE_SIZE
    return 0 if settings.MONGODB_URI else 512


def seat_count_cache(settings: Settings) -> bool:
    """SEAT_COUNT_CACHE, or by default on with the embedded database (this FlyO writes every hold) and off with
    MONGODB_URI (another replica's holds would not be seen)."""
    return settings.SEAT_COUNT_CACHE if settings.SEAT_COUNT_CACHE is not None else not settings.MONGODB_URI


def flood_gate(settings: Settings) -> Gate:
    """FLOOD_SHARED, or by default the shared window with MONGODB_URI (replicas) and this process's own without."""
    shared = settings.FLOOD_SHARED if settings.FLOOD_SHARED is not None else bool(settings.MONGODB_URI)
    gate = SharedFloodGate if shared else FloodGate
    return gate(settings.FLOOD_MAX_UPDATES, settings.FLOOD_WINDOW_SECONDS)


async def build_services(settings: Settings, database: Database, clock: Clock | None = None) -> Services:
    clock = clock or Clock()
    seats = SeatService(clock, settings.HOLD_MINUTES, cache_counts=seat_count_cache(settings))
    notifications = NotificationService(clock, build_mailer(settings), settings.ADMIN_IDS, on_email=count_email)
    reference = await load_reference_data()
    flights = FlightSearch(seats, build_providers(settings), reference=reference)
    if settings.sms_configured:
        notifications.sms = TwilioSms(settings.TWILIO_ACCOUNT_SID, settings.twilio_token,
                                      settings.TWILIO_FROM, settings.TWILIO_API_URL)
    tickets = TicketService(clock, reference, notifications)
    notifications.documents = tickets  # e-ticket files, drawn when their outbox row is delivered
    travellers = TravellerService(clock)
    services = Services(
        settings=settings, clock=clock, database=database, tickets=tickets,
        conversations=ConversationStore(clock, cache_size=conversation_cache_size(settings)),
        flights=flights,
        connections=ConnectionSearch(flights, mct=MinConnectTimes(settings.MIN_CONNECT_MINUTES),
                                     max_layover=timedelta(hours=settings.MAX_LAYOVER_HOURS)),
        seats=seats,
        bookings=BookingService(clock, seats, booking_rules(settings)),
        reference=reference,
        notifications=notifications,
        travellers=travellers,
        started_monotonic=time.monotonic(),
        on_webhook_event=count_webhook_event,  # WEBHOOK_EVENTS counts what the Stripe webhook reports
    )
    gateway = build_gateway(settings)
    if gateway is not None:
        services.payments = PaymentService(
            clock, services.bookings, seats, notifications, gateway, reference, public_url=settings.public_url,
            max_attempts=settings.MAX_PAYMENT_ATTEMPTS, window_minutes=settings.PAYMENT_WINDOW_MINUTES)
        if not gateway.demo:  # a demo payment takes no money: it must not buy an airline ticket either
            services.payments.orders = build_airline_orders(clock, flights, notifications)
        services.payment_events = PaymentEvents(services.payments, services.flights)
        services.payment_events.inbox.on_outcome = services.count_webhook  # the worker's outcomes, by type
        services.payment_events.inbox.on_round_trips = lambda kind, commands: record_round_trips(
            "inbox_event", kind, kind, commands)
        # Demo mode signs its own events with a per-process secret; Stripe's may be two (rotation).
        services.webhook_secret = f"whsec_demo_{secrets.token_hex(16)}" if gateway.demo else (
            settings.stripe_webhook_secret)
    services.cancellations = Cancellations(clock, services.bookings, services.payments)
    services.sweeper = Sweeper(clock, seats, services.bookings, notifications, services.payments, reference,
                               services.payment_events)
    services.sweeper.flush_counters = flush_counters  # the searches counted for /stats
    services.flood_gate = flood_gate(settings)
    if isinstance(services.flood_gate, SharedFloodGate):
        services.sweeper.forget_flood_windows = services.flood_gate.forget_idle
    services.flight_status = FlightStatusService(clock, notifications, reference)
    services.flight_ops = FlightOps(clock, services.flight_status)
    services.sweeper.finish_flight_alerts = services.flight_status.finish_interrupted
    services.sweeper.flight_state = services.flight_status.state
    services.rebooking = Rebooking(clock, seats, reference, delay_minutes=settings.DISRUPTION_DELAY_MINUTES,
                                   refund_hours=settings.DISRUPTION_REFUND_HOURS, payments=services.payments,
                                   notifications=notifications, mct=MinConnectTimes(settings.MIN_CONNECT_MINUTES))
    services.flight_status.rebooking = services.rebooking
    services.flight_status.on_report = lambda kind, outcome: FLIGHT_STATUS_REPORTS.labels(kind, outcome).inc()
    services.flight_status.on_alerts = lambda kind, bookings: FLIGHT_ALERTS.labels(kind).inc(bookings)
    services.rebooking.on_outcome = lambda choice: DISRUPTION_CHOICES.labels(choice).inc()
    if settings.webhook_mode:
        services.telegram_inbox = TelegramInbox(clock, settings.TELEGRAM_UPDATE_LEASE_SECONDS)
    services.sweeper.finish_rebookings = services.rebooking.finish_interrupted
    services.sweeper.refund_unanswered = services.rebooking.refund_unanswered
    services.erasure = Erasure(clock, services.bookings, seats, travellers, services.conversations,
                               services.payments, retention_days=settings.PERSONAL_DATA_RETENTION_DAYS)
    services.sweeper.redact_personal_data = services.erasure.sweep
    feed = build_status_feed(settings)
    if feed is not None:
        status = services.flight_status
        services.sweeper.poll_status_feed = lambda: status.poll(feed)
    return services


async def ensure_inventory(clock: Clock) -> None:
    """The first start on an empty database loads the local inventory (before the services read it)."""
    from services.inventory.seed import inventory_is_empty, seed_inventory

    if await inventory_is_empty():
        log.info("empty database: loading the local flight inventory (first start)")
        report = await seed_inventory(clock)
        log.info("inventory loaded: %s flights in %.1f s", report.flights_total, report.seconds)


def create_web_app(settings: Settings, *, clock: Clock | None = None, seed: bool = True,
                   database: Database | None = None) -> web.Application:
    """The aiohttp app whose start-up opens everything. `database`: an open one to share (tests)."""
    if settings.DEMO_PAYMENTS and not settings.console_chat:
        # Settings from the environment already refuse this; settings built in code get the same answer.
        raise ConfigError("Invalid configuration: DEMO_PAYMENTS is only for the terminal chat "
                          "(`python -m bot console`), never on a real Bot API")
    # The key ring before anything starts: with MONGODB_URI and no DATA_ENCRYPTION_KEYS this refuses (ConfigError).
    crypto.install(ring_for(settings))
    app = web.Application(client_max_size=1024 * 1024, middlewares=[metrics.count_responses])
    app[SETTINGS] = settings
    app.add_routes(health.routes)
    app.add_routes(stripe_webhook.routes)
    app.add_routes(pages.routes)  # /paid and /unpaid: Stripe Checkout's success_url and cancel_url
    if settings.demo_payments:  # no /demo/* at all on a FlyO that talks to Telegram
        app.add_routes(demo.routes)
    app.add_routes(metrics.routes)
    app.add_routes(telegram_webhook.routes)
    mini_apps.install(app)  # /app/…: the seat map and the admin dashboard (issue #19)

    async def database_ctx(app: web.Application) -> AsyncIterator[None]:
        owned = database is None
        db = database or await open_database(settings.mongodb_uri, settings.MONGODB_DB, settings.DATA_DIR)
        own_clock = clock or Clock()
        if seed:
            await ensure_inventory(own_clock)
        services = await build_services(settings, db, own_clock)
        app[SERVICES] = services
        yield
        await flush_counters()  # the searches counted since the last sweep
        if services.payments is not None and services.payments.gateway is not None:
            await services.payments.gateway.close()
        await services.notifications.mailer.close()  # SendGrid's own thread pool
        if services.notifications.sms is not None:
            await services.notifications.sms.close()
        if services.tickets is not None:
            services.tickets.close()  # the e-ticket drawing pool
        if owned:
            await db.close()
            log.info("database closed")

    async def telegram_ctx(app: web.Application) -> AsyncIterator[None]:
        services = app[SERVICES]
        telegram = build_application(settings, services, with_updater=not settings.webhook_mode)
        app[TELEGRAM] = telegram
        await telegram.initialize()
        if telegram.post_init is not None:  # run_polling() would call it; we own the loop, so we do
            await telegram.post_init(telegram)
        await telegram.start()
        if telegram.updater is not None:
            await telegram.updater.start_polling(poll_interval=0.0, timeout=10, drop_pending_updates=False)
        else:  # webhook mode; no deleteWebhook on shutdown: other replicas behind the URL keep serving
            await telegram_webhook.register_webhook(telegram, settings)
            if services.telegram_inbox is not None and services.sweeper is not None:
                updates, bot = services.telegram_inbox, telegram.bot

                async def handle(body: dict[str, Any]) -> None:
                    await telegram.update_queue.put(Update.de_json(body, bot))

                services.sweeper.recover_updates = lambda: updates.recover(handle)
        services.notifications.chat_sender = TelegramChatSender(telegram.bot)
        jobs.schedule(telegram, settings.SWEEP_INTERVAL_SECONDS)
        stop_pump = asyncio.Event()
        pump = asyncio.create_task(services.notifications.pump(stop_pump), name="notification-pump")
        inbox = services.payment_events.inbox if services.payment_events is not None else None
        worker = asyncio.create_task(inbox.run(stop_pump), name="inbox-worker") \
            if inbox is not None and settings.INBOX_WORKER_ENABLED else None
        leases = asyncio.create_task(services.telegram_inbox.keep_leases(stop_pump), name="telegram-leases") \
            if services.telegram_inbox is not None else None
        yield
        stop_pump.set()
        await pump
        if worker is not None:
            await worker
        if leases is not None:
            await leases
        if telegram.updater is not None and telegram.updater.running:
            await telegram.updater.stop()
        await telegram.stop()  # finishes the updates in flight
        await telegram.shutdown()
        if telegram.post_shutdown is not None:
            await telegram.post_shutdown(telegram)

    app.cleanup_ctx.append(database_ctx)
    app.cleanup_ctx.append(telegram_ctx)
    return app


async def serve(settings: Settings, *, stop: asyncio.Event | None = None, clock: Clock | None = None) -> None:
    """Run until SIGINT/SIGTERM (or `stop` is set), then shut down in order and return."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    app = create_web_app(settings, clock=clock)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.HTTP_HOST, settings.HTTP_PORT)
        await site.start()
        log.info("FlyO listening on http://%s:%s", settings.HTTP_HOST, settings.HTTP_PORT)
        await stop.wait()
        log.info("shutting down")
    finally:
        await runner.cleanup()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)

