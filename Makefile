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

test: $(VENV)/.installed
	$(BIN)/ruff check app selection tests benchmarks
	$(BIN)/mypy selection
	$(BIN)/pytest -n $(PYTEST_WORKERS)

lint: $(VENV)/.installed
	$(BIN)/ruff check app selection tests benchmarks
	$(BIN)/ruff format --check app selection tests benchmarks

typecheck: $(VENV)/.installed
	$(BIN)/mypy selection

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
