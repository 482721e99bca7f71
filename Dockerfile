# FlyO: the Telegram bot, its webhooks, /healthz and /metrics in one process.
# Build: docker build -t flyo .      Run: docker run --env-file .env -p 8080:8080 -v flyo-data:/data flyo
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# tzdata: times are shown in each airport's local zone (zoneinfo needs the system database).
RUN apt-get update \
    && apt-get install -y --no-install-recommends tzdata \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies before code, so this layer is rebuilt only when the lock changes. The lock also pins
# the dev tools (pytest, mypy, ruff, pexpect); the image doesn't need them.
COPY requirements.lock ./
RUN sed -E '/^(pytest|pytest-asyncio|mypy|ruff|pexpect)==/d' requirements.lock > /tmp/runtime.txt \
    && pip install -r /tmp/runtime.txt \
    && rm /tmp/runtime.txt

COPY core ./core
COPY bot ./bot
COPY handlers ./handlers
COPY models ./models
COPY repos ./repos
COPY services ./services
COPY webhooks ./webhooks
COPY miniapp ./miniapp
# The translations (gettext catalogues, compiled in memory at first use).
COPY locales ./locales

# A non-root user owning only /data (logs, e-mail outbox, tickets; the embedded database when
# MONGODB_URI is empty). The code stays read-only for it.
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home --shell /usr/sbin/nologin flyo \
    && mkdir -p /data \
    && chown flyo:flyo /data
USER flyo

ENV HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080 \
    DATA_DIR=/data \
    LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080

# 200 only while the database answers; urlopen raises (exit 1) on 503 or a refused connection.
# start-period covers the first start with the embedded database, which loads the inventory.
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HTTP_PORT', '8080'), timeout=4)"]

# SIGTERM: FlyO stops taking updates, finishes the ones in flight, closes the database, exits 0.
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bot"]
