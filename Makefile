PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Test processes: each runs whole test files with its own embedded database and server.
# Bytecode is kept (some machines set PYTHONDONTWRITEBYTECODE): the suite starts dozens of
# server and command processes, each of which would otherwise compile the server again.
# A worker that dies ends the run (red) at once: pytest-xdist 3.8 can wait forever for the
# work of a replaced worker under --dist loadfile (pytest-dev/pytest-xdist#1378). The 15
# slowest tests are listed at the end.
TEST_WORKERS ?= 2

.PHONY: install run test lint bench browser screenshots clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[embedded,test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/fhir-server serve

test: $(STAMP) browser
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile --max-worker-restart 0 --durations 15

# Debian's headless Chromium for the SMART JS-client test: best effort, the test skips without it.
browser:
	@(command -v chromium >/dev/null && command -v chromedriver >/dev/null) || \
	 ([ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) || \
	 echo "chromium not installed: the browser test will be skipped"

# The web app's screenshots in docs/images, taken by its browser tests.
screenshots: $(STAMP) browser
	WEBAPP_SCREENSHOTS=$(CURDIR)/docs/images $(BIN)/pytest -q tests/webapp

lint: $(STAMP)
	$(BIN)/ruff check fhir_server profiles terminology consent importers tests bench

bench: $(STAMP)
	$(BIN)/python -m bench.rest_crud

clean:
	rm -rf $(VENV) data .pytest_cache
