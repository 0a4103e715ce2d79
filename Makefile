# RareCircle: `make run` to serve the site on SQLite, `make test` to run the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export FLASK_APP := forum

.PHONY: run dev test test-postgres bench lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

## run: install, migrate, load the demo content and serve on http://127.0.0.1:$(PORT),
##      with the mail worker beside it (without MAIL_SERVER each email is printed here)
run: $(VENV)/.installed
	$(BIN)/flask db upgrade
	$(BIN)/flask seed
	@echo "Serving RareCircle on http://127.0.0.1:$(PORT)  (Ctrl+C to stop)"
	@echo "Email: without MAIL_SERVER every email the site sends is printed in this terminal."
	SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)} $(BIN)/flask deliver & DELIVER=$$!; \
	trap 'kill $$DELIVER 2>/dev/null' EXIT INT TERM; \
	SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)} PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

## dev: the same with Flask's reloading debug server
dev: $(VENV)/.installed
	$(BIN)/flask db upgrade
	$(BIN)/flask seed
	$(BIN)/flask run --debug --port $(PORT)

## test: install the dev extras and run the whole suite
test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

## test-postgres: the whole suite against the local PostgreSQL
test-postgres: $(VENV)/.installed-dev
	DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test $(BIN)/python -m pytest

## bench: measure page speed against a baseline (see bench/README.md)
bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench.run

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check forum tests bench
	$(BIN)/ruff format --check forum tests bench

format: $(VENV)/.installed-dev
	$(BIN)/ruff format forum tests bench
	$(BIN)/ruff check --fix forum tests bench

clean:
	rm -rf $(VENV) instance .pytest_cache
