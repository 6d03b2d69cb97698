# NAP Tracker. `make run` serves the app; `make test` runs the whole suite. Both set themselves up.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test bench setup db seed demo chromium translations translations-update clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

setup: $(VENV)/.installed

db: setup
	$(BIN)/tracker db upgrade

seed: db
	$(BIN)/tracker seed

demo: seed
	$(BIN)/tracker demo accounts
	$(BIN)/tracker demo entries

run: demo
	@echo "Serving NAP Tracker on http://$(HOST):$(PORT)"
	$(BIN)/tracker run --host $(HOST) --port $(PORT)

# Browser tests drive Debian's Chromium; installed here when missing and running as root.
chromium:
	@if { [ ! -x /usr/bin/chromium ] || ! ldconfig -p | grep -q libcairo.so.2; } && [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium (browser tests) and libcairo2 (the Word report's charts)"; \
		(apt-get install -y -qq chromium libcairo2 >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium libcairo2)); \
	fi

# The suite runs on SQLite; when TRACKER_TEST_DATABASE_URL is set it runs a second time on that database.
test: $(VENV)/.installed-dev chromium
	# With a PostgreSQL pass to follow, the multi-server deployment test waits for it (it runs on PostgreSQL anyway).
	env -u TRACKER_TEST_DATABASE_URL TRACKER_TEST_DEPLOYMENT=$${TRACKER_TEST_DATABASE_URL:+later} $(BIN)/pytest -q
	@if [ -n "$$TRACKER_TEST_DATABASE_URL" ]; then \
		echo "Running the suite again on $$TRACKER_TEST_DATABASE_URL"; \
		$(BIN)/pytest -q; \
	fi

# Benchmarks: timings of the heavy requests on this machine (not tests: nothing is asserted).
bench: $(VENV)/.installed-dev
	$(BIN)/python bench/bulk_import.py --rows 5000
	$(BIN)/python bench/matrix_import.py --indicators 2000

# Extract the strings to translate and merge them into the catalogs (then translate and `make translations`).
translations-update: $(VENV)/.installed-dev
	$(BIN)/pybabel extract -F tracker/translations/babel.cfg -k _l -k lazy_gettext -o tracker/translations/messages.pot --no-location --sort-output --ignore-dirs='.* .venv node_modules' .
	$(BIN)/pybabel update -i tracker/translations/messages.pot -d tracker/translations --no-fuzzy-matching --ignore-obsolete

translations: $(VENV)/.installed-dev
	$(BIN)/pybabel compile -d tracker/translations --statistics

clean:
	rm -rf $(VENV) instance .pytest_cache
