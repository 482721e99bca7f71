# FlyO: the Telegram bot, its webhooks, /healthz and /metrics in one process.
# Build: docker build -t flyo .      Run: docker run --env-file .env -p 8080:8080 -v flyo-data:/data flyo
# Production (MongoDB replica set, two replicas, Caddy for HTTPS): docker-compose.yml and docs/operations.md.

# ---- build: FlyO installed as a package (`pip install .`) into the venv /opt/flyo ----
FROM python:3.11-slim AS build

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/flyo
ENV PATH=/opt/flyo/bin:$PATH
WORKDIR /src

# Dependencies before code, so this layer is rebuilt only when the lock changes: the lock's runtime pins are the
# lines above its dev section (pytest, mypy, ruff, the browser, PDF and compose-schema test tools stay out).
COPY requirements.lock ./
# constraints.txt: the same pins without extras, which pip refuses in a constraints file.
RUN sed '/^# ---- dev and test tools/,$d' requirements.lock > runtime.txt \
    && sed -E 's/\[[^]]*\]//' runtime.txt > constraints.txt \
    && pip install -r runtime.txt

# What `pip install .` reads: pyproject.toml and the packages it lists. Their package data (the Mini Apps' pages,
# the e-ticket fonts, the translations) goes into the venv with them; tests/ops/test_install.py does the same
# install outside the source tree, as a non-root user, and runs `python -m bot seed` and `--help` from it.
COPY pyproject.toml ./
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
# The lock as constraints: FlyO's dependencies are the pinned ones above; `pip check` fails the build on a conflict.
RUN pip install --constraint constraints.txt . \
    && pip check

# ---- the image: the venv only (no source tree), run by a non-root user ----
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/flyo/bin:$PATH

# tzdata: times are shown in each airport's local zone (zoneinfo needs the system database).
RUN apt-get update \
    && apt-get install -y --no-install-recommends tzdata \
    && rm -rf /var/lib/apt/lists/*

# Owned by root: the code is read-only for the user FlyO runs as.
COPY --from=build /opt/flyo /opt/flyo

# A non-root user owning only /data (logs, e-mail outbox, tickets; the embedded database when MONGODB_URI is
# empty). USER is numeric, so runtimes that insist on a non-root user (Kubernetes' runAsNonRoot) can tell.
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home --shell /usr/sbin/nologin flyo \
    && mkdir -p /data \
    && chown flyo:flyo /data
USER 10001:10001
WORKDIR /data

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
