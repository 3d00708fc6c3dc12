# make run  — set up .venv and start the tray agent (no display: it says so and runs the proxy in the foreground)
# make test — set up .venv with the test extras and the real client CLIs (.clients/), run the whole suite
#             (GUI tests under Xvfb and Claude Code / Codex / Gemini CLI against the proxy included) on
#             PYTEST_WORKERS pytest-xdist workers (default 2; 0: one process), each file's tests on one worker
# make lint — ruff + mypy
# make bench — proxy vs a bare Sanic+aiohttp pass-through vs the fake upstream alone, Gemini-native and
#              OpenAI / Anthropic rows (BENCH_ARGS=--quick)

PYTHON ?= python3
VENV   ?= .venv
CLIENTS_DIR ?= .clients
BIN     = $(VENV)/bin
PIP     = $(BIN)/pip install --quiet --disable-pip-version-check
# The tray menu on Linux needs PyGObject (the linux-gui extra, built from source against GTK).
ON_LINUX  = $(filter Linux,$(shell uname -s))
RUN_SPEC  = .[compile$(if $(ON_LINUX),$(COMMA)linux-gui,)]
TEST_SPEC = .[test$(COMMA)compile$(if $(ON_LINUX),$(COMMA)linux-gui,)]
COMMA    := ,
# Two workers: the suite waits on child processes, real CLIs and retry timers, so even two cores do more at once.
# --dist loadfile keeps a file's tests together: its module-scoped proxies start once, its GUI tests share a desktop.
PYTEST_WORKERS ?= 2
# The front ends compiled to C by mypyc, in the venv (trayagent/compiled.py), rebuilt when a source they are made
# from changes (about a minute). Where it cannot be built the front ends run as pure Python, the same code, and
# make goes on: the build is retried next time.
COMPILED = $(VENV)/trayagent-compiled/manifest.json
COMPILED_FROM = $(wildcard trayagent/translate/*.py) trayagent/errors.py trayagent/frozen.py trayagent/compiled.py \
	scripts/compile_translators.py
XDIST = $(if $(filter-out 0,$(PYTEST_WORKERS)),-n $(PYTEST_WORKERS) --dist loadfile,)

.PHONY: run test lint bench clean

run: $(VENV)/.installed-run $(COMPILED)
	$(BIN)/trayagent

test: $(VENV)/.installed-test $(CLIENTS_DIR)/versions $(COMPILED)
	CLIENTS_DIR=$(abspath $(CLIENTS_DIR)) $(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check trayagent tests scripts
	$(BIN)/ruff format --check trayagent tests scripts
	$(BIN)/mypy

bench: $(VENV)/.installed-test $(COMPILED)
	$(BIN)/python scripts/bench.py $(BENCH_ARGS)

$(VENV)/.installed-run: pyproject.toml scripts/bootstrap
	scripts/bootstrap run
	$(MAKE) --no-print-directory $(BIN)/python
	$(PIP) -e '$(RUN_SPEC)' || { echo "make: PyGObject did not build; the tray icon will have no menu" >&2; $(PIP) -e '.[compile]'; }
	touch $@

$(VENV)/.installed-test: pyproject.toml scripts/bootstrap
	scripts/bootstrap test
	$(MAKE) --no-print-directory $(BIN)/python
	$(PIP) -e '$(TEST_SPEC)' || { echo "make: PyGObject did not build; the GUI tests will skip" >&2; $(PIP) -e '.[test,compile]'; }
	touch $@ $(VENV)/.installed-run

$(COMPILED): $(COMPILED_FROM) | $(VENV)/.installed-run
	$(BIN)/python scripts/compile_translators.py || echo "make: going on with pure-Python front ends" >&2

# The real client CLIs the integration tests drive (about 1.1 GB, under a minute); the script writes the
# stamp only once every CLI answers, and without npm it says so and the tests that need them skip.
$(CLIENTS_DIR)/versions: scripts/install-clients
	scripts/install-clients $(CLIENTS_DIR)

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("trayagent needs Python 3.11 or newer, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)

clean:
	rm -rf $(VENV) $(CLIENTS_DIR) .pytest_cache .mypy_cache .ruff_cache test-artifacts bench-results.json
