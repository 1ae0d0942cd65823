# Two commands do all set-up on a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
# Tests run in parallel, one worker per core of the 2-core CI machine.
PYTEST_WORKERS ?= 2
export FLASK_APP := wsgi.py

.PHONY: run test lint typecheck serve bench clean translations extract-messages

# The package, editable, with the test tools (pyproject.toml builds it; setup.cfg declares the
# dependencies). pip shows what it fetches and installs: the first time takes a few minutes.
$(VENV)/.installed: pyproject.toml setup.cfg
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing Partner Select and its dependencies into $(VENV)/ (a few minutes the first time)"
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e ".[test]"
	touch $(VENV)/.installed

# The compiled Welsh catalogue (.mo, not in git) from its source (.po): built before the app runs,
# is tested or packaged. `make extract-messages` refreshes the .pot and merges it into the .po.
CATALOGUES := $(wildcard app/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGUES:.po=.mo)
translations: $(COMPILED)
app/translations/%/LC_MESSAGES/messages.mo: app/translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile -d app/translations -l $*
	@test -f $@

extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l --no-location --sort-output -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching

# Development server on http://127.0.0.1:$(PORT) with embedded SQLite under instance/, and the
# mail worker beside it: each email is written to the instance folder's outbox/ as an .eml file
# about a second after it is queued. Ctrl+C stops both.
OUTBOX = $(or $(INSTANCE_PATH),instance)/outbox
run: $(VENV)/.installed translations
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty
	@echo "Emails: each one is written to $(OUTBOX)/ as an .eml file a second after it is queued."
	$(BIN)/flask send-mail --loop --interval 1 & \
	trap 'kill $$! 2>/dev/null' EXIT; \
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

# Production server: gunicorn (settings in app/gunicorn_config.py) with the production config,
# after migrating the database. Needs SECRET_KEY, DATABASE_URL and REDIS_URL in the environment;
# WEB_CONCURRENCY sets the workers (default 2 x cores + 1). See "Production deployment" in README.
BIND ?= 127.0.0.1:8000
serve: export APP_ENV = production
serve: $(VENV)/.installed translations
	$(BIN)/flask db upgrade
	exec $(BIN)/gunicorn --config python:app.gunicorn_config --bind $(BIND) wsgi:app

# The issue's counts: 1,000 applications from 50 clients on each stack, 200 in the crash test,
# 1,000 fuzz bodies per POST endpoint (about 4 and 2.5 minutes of the 2-core machine). Lower them
# for a quick local run, e.g. `make test LOAD_APPLICATIONS=150 FUZZ_EXAMPLES=150`.
LOAD_APPLICATIONS ?= 1000
CRASH_APPLICATIONS ?= 200
FUZZ_EXAMPLES ?= 1000
export LOAD_APPLICATIONS CRASH_APPLICATIONS FUZZ_EXAMPLES

test: $(VENV)/.installed translations
	$(BIN)/ruff check app selection tests benchmarks
	$(BIN)/mypy selection
	$(BIN)/pytest -n $(PYTEST_WORKERS)


lint: $(VENV)/.installed
	$(BIN)/ruff check app selection tests benchmarks
	$(BIN)/ruff format --check app selection tests benchmarks

typecheck: $(VENV)/.installed
	$(BIN)/mypy selection

# Benchmarks (figures into benchmarks/RESULTS.md): the selection engine against its baselines,
# with the `bench` extra (sortition-algorithms, for comparison only), and the web benchmark.
bench: $(VENV)/.installed
	$(BIN)/pip install -e ".[test,bench]"
	$(BIN)/python benchmarks/selection_bench.py
	$(BIN)/python benchmarks/web_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist *.egg-info
