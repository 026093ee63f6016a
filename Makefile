PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1:8000
# The settings default to production (DEBUG off, SECRET_KEY required); what this
# Makefile runs is development: the demo server, the linters, the translations.
export DEBUG ?= true

.PHONY: run install test lint format pytest bench lock messages clean

## run: install, migrate, seed the demo data and serve on http://127.0.0.1:8000
run: install
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo
	$(MANAGE) runserver $(HOST)

install: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.lock
	touch $@

## test: install, lint, then the whole test suite
test: install lint pytest

pytest: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(wildcard */services.py */selectors.py */services/*.py */selectors/*.py)
	$(BIN)/lint-imports
	$(MANAGE) makemigrations --check --dry-run
	$(BIN)/djlint templates --lint

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/djlint templates --reformat

## bench: the benchmarks in bench/ (PostgreSQL: set DATABASE_URL)
bench: install
	$(BIN)/python -m bench

## lock: re-resolve the locked versions from pyproject.toml (runtime, then runtime + dev)
lock: install
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 \
		-c requirements.lock -o requirements-dev.lock

## messages: collect new strings into locale/*/django.po and compile the .mo files
## (committed); translate the new entries, run it again and commit both
messages: install
	$(MANAGE) makemessages -l zh_Hans -l zh_Hant --ignore=.venv --ignore=bench --ignore=tests
	$(MANAGE) compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache staticfiles
