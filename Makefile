# Two commands set everything up: `make run` (one monitoring pass) and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export HF_HUB_OFFLINE := 1

.PHONY: run test demo check serve lint format bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV) || python3 -m venv $(VENV)

# torch first and pinned: an unpinned torch would pull a multi-GB CUDA build
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/newswatch run

demo: $(STAMP)
	$(BIN)/newswatch demo

check: $(STAMP)
	$(BIN)/newswatch check

serve: $(STAMP)
	$(BIN)/newswatch serve

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python benchmarks/detection.py
	$(BIN)/python benchmarks/extraction.py
	$(BIN)/python benchmarks/throughput.py

clean:
	rm -rf $(VENV) data .pytest_cache
