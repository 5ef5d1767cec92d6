PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[embedded,test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/fhir-server serve

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check fhir_server profiles terminology consent importers tests bench

bench: $(STAMP)
	$(BIN)/python -m bench.rest_crud

clean:
	rm -rf $(VENV) data .pytest_cache
