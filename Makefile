# autocrm — two commands: `make run` and `make test`. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format demo bench bench-quick messages vendor clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(BIN)/autocrm migrate --no-input
	$(BIN)/autocrm demo
	@echo ""
	@echo "  autocrm: http://$(HOST):$(PORT)/   (password for every demo login: autocrm-demo)"
	@echo ""
	$(BIN)/autocrm run --host $(HOST) --port $(PORT)

demo: $(VENV)/.installed
	$(BIN)/autocrm migrate --no-input
	$(BIN)/autocrm demo $(DEMO_ARGS)

test: $(VENV)/.installed-dev
	bash scripts/test.sh

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python tools/check_scoping.py

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.installed-dev
	bash benchmarks/run_all.sh

# The HTTP benchmark at its CI size (a small database of its own; no time asserted; needs wrk).
bench-quick: $(VENV)/.installed-dev
	BENCH_QUICK=1 bash benchmarks/run_all.sh

messages: $(VENV)/.installed-dev
	cd src/autocrm && ../../$(BIN)/autocrm makemessages -l zh_Hans --no-obsolete --no-location -i 'static/*' -i '*/tests/*' -i 'demo/data/*' && ../../$(BIN)/autocrm compilemessages -l zh_Hans

vendor:
	bash scripts/vendor.sh

clean:
	rm -rf $(VENV) var test-output
