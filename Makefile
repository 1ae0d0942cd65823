# Two commands do all set-up on a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
# Tests run in parallel, one worker per core of the 2-core CI machine.
PYTEST_WORKERS ?= 2
export FLASK_APP := wsgi.py

# The design card keeps setup.cfg as the one place that declares dependencies (no setup.py or
# pyproject.toml), so they are read from it and installed; the code runs from the checkout.
define DEPS_FROM_SETUP_CFG
import configparser, sys
cfg = configparser.ConfigParser()
cfg.read("setup.cfg")
lines = cfg["options"]["install_requires"].split()
for extra in sys.argv[1:]:
    lines += cfg["options.extras_require"][extra].split()
print("\n".join(line for line in lines if line))
endef
export DEPS_FROM_SETUP_CFG

.PHONY: run test lint typecheck serve bench clean

$(VENV)/.installed: setup.cfg
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/python -c "$$DEPS_FROM_SETUP_CFG" test > $(VENV)/requirements.txt
	$(BIN)/pip install --quiet -r $(VENV)/requirements.txt
	touch $(VENV)/.installed

# Development server on http://127.0.0.1:$(PORT) with embedded SQLite under instance/.
run: $(VENV)/.installed
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

# Production server: gunicorn (settings in app/gunicorn_config.py) with the production config,
# after migrating the database. Needs SECRET_KEY, DATABASE_URL and REDIS_URL in the environment;
# WEB_CONCURRENCY sets the workers (default 2 x cores + 1). See "Production deployment" in README.
BIND ?= 127.0.0.1:8000
serve: export APP_ENV = production
serve: $(VENV)/.installed
	$(BIN)/flask db upgrade
	exec $(BIN)/gunicorn --config python:app.gunicorn_config --bind $(BIND) wsgi:app

# The issue's counts: 1,000 applications from 50 clients on each stack, 200 in the crash test,
# 1,000 fuzz bodies per POST endpoint (about 4 and 2.5 minutes of the 2-core machine). Lower them
# for a quick local run, e.g. `make test LOAD_APPLICATIONS=150 FUZZ_EXAMPLES=150`.
LOAD_APPLICATIONS ?= 1000
CRASH_APPLICATIONS ?= 200
FUZZ_EXAMPLES ?= 1000
export LOAD_APPLICATIONS CRASH_APPLICATIONS FUZZ_EXAMPLES

test: $(VENV)/.installed
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
	$(BIN)/python -c "$$DEPS_FROM_SETUP_CFG" test bench > $(VENV)/bench-requirements.txt
	$(BIN)/pip install --quiet -r $(VENV)/bench-requirements.txt
	$(BIN)/python benchmarks/selection_bench.py
	$(BIN)/python benchmarks/web_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
