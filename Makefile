# The quick start: `make run` chats with the bot in the terminal, `make test` runs the tests.
# Both create the virtual environment in .venv first (only Python 3.11+ is needed).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run chat test lint format check install clean vendor screenshots

run: $(STAMP)
	$(BIN)/buurtbot run

chat: $(STAMP)
	$(BIN)/buurtbot chat

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: lint test

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Buurtbot needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# htmx from the pinned npm package into the dashboard's static files; axe-core for the tests.
vendor:
	npm ci --no-audit --no-fund
	cp node_modules/htmx.org/dist/htmx.min.js bot/dashboard/static/vendor/htmx.min.js

# The dashboard's screenshots in docs/dashboard, made by its browser tests.
screenshots: $(STAMP)
	BUURTBOT_SCREENSHOTS=docs/dashboard $(BIN)/pytest -q tests/dashboard/test_accessibility.py tests/dashboard/test_people.py \
		tests/dashboard/test_polls_browser.py tests/dashboard/test_activity_accessibility.py -k sqlite

clean:
	rm -rf $(VENV) build *.egg-info
