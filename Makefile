# make run  — set up .venv and start trayagent
# make test — set up .venv with the test extras and run the whole suite
# make lint — ruff + mypy

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: run test lint clean

run: $(VENV)/.installed-run
	$(BIN)/trayagent serve

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check trayagent tests
	$(BIN)/ruff format --check trayagent tests
	$(BIN)/mypy

$(VENV)/.installed-run: pyproject.toml scripts/bootstrap
	scripts/bootstrap run
	$(MAKE) --no-print-directory $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml scripts/bootstrap
	scripts/bootstrap test
	$(MAKE) --no-print-directory $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@ $(VENV)/.installed-run

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("trayagent needs Python 3.11 or newer, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts
