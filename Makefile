# The two set-up commands: `make run` and `make test`. Everything else is a helper for them.
VENV ?= .venv
PY := $(VENV)/bin/python
DATA_DIR ?= var/localdruid

.PHONY: run test venv lint fmt bench bench-stream bench-load corpus clean

$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-fund --no-audit --loglevel=error
	touch $@

venv: $(VENV)/.installed node_modules/.installed

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy explorer localdruid druidsite

fmt: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: lint
	$(VENV)/bin/pytest

run: venv
	$(PY) manage.py demo --data-dir $(DATA_DIR)

bench: venv
	$(PY) bench/engine.py

bench-stream: venv
	$(PY) bench/stream.py

bench-load: venv
	$(PY) bench/load.py

corpus: venv
	$(PY) bench/corpus.py

clean:
	rm -rf var .pytest_cache .ruff_cache
