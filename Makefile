# RareCircle: `make run` to serve the site on SQLite, `make test` to run the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Test processes (pytest-xdist): one per CPU; `make test WORKERS=0` runs in this process alone.
WORKERS ?= auto
# The versions CI tested: every install goes through them (`make constraints` records new ones).
PIP_INSTALL := $(BIN)/pip install --quiet -c constraints.txt
export FLASK_APP := forum

.PHONY: run dev test test-fast test-postgres constraints bench lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP_INSTALL) -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP_INSTALL) -e '.[dev]'
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

## test: install the dev extras and run the whole suite, browser and gunicorn tests included
test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n $(WORKERS)

## test-fast: the suite without the browser (e2e) and gunicorn (slow) tests
test-fast: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n $(WORKERS) -m "not e2e and not slow"

## test-postgres: the whole suite against the local PostgreSQL
test-postgres: $(VENV)/.installed-dev
	DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test $(BIN)/python -m pytest -n $(WORKERS)

## constraints: record the versions installed in .venv as the ones every install uses
constraints: | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	{ echo "# The versions CI tested: pip install -c constraints.txt (make run and make test do)."; \
	  echo "# Regenerate with 'make constraints' after changing pyproject.toml and passing CI."; \
	  $(BIN)/pip freeze --exclude-editable; } > constraints.txt
	touch $(VENV)/.installed-dev $(VENV)/.installed

## bench: measure page speed against a baseline (see bench/README.md)
bench: $(VENV)/.installed-dev
	$(BIN)/python bench/run.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check forum tests bench
	$(BIN)/ruff format --check forum tests bench

format: $(VENV)/.installed-dev
	$(BIN)/ruff format forum tests bench
	$(BIN)/ruff check --fix forum tests bench

clean:
	rm -rf $(VENV) instance .pytest_cache
