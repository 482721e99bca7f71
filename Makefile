# Two commands matter: `make run` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-fast bench lint seed console clean i18n

$(STAMP): requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m bot

console: $(STAMP)
	$(PY) -m bot console $(ARGS)

seed: $(STAMP)
	$(PY) -m bot seed

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy .

test: lint
	$(PY) -m pytest -q

test-fast: lint
	$(PY) -m pytest -q -m "not slow"

# Extract every _()/ngettext/N_ string into locales/flyo.pot (translators start from it).
i18n: $(STAMP)
	$(VENV)/bin/pybabel -q extract -F babel.cfg --no-location --sort-output --project FlyO \
		-o locales/flyo.pot core models repos services handlers webhooks miniapp bot

bench: $(STAMP)
	$(PY) -m bench
	ROUND_TRIP_TABLE=bench/.work/round_trips.md $(PY) -m pytest -q -p no:cacheprovider tests/ops/test_round_trips.py
	$(PY) -m bench.round_trips bench/.work/round_trips.md bench/RESULTS.md

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
