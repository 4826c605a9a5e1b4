# The two set-up commands: `make run` and `make test`. Everything else is a helper for them.
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8082
DATA_DIR ?= var/localdruid

.PHONY: run test venv lint fmt bench corpus clean

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

fmt: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: lint
	$(VENV)/bin/pytest

run: venv
	$(PY) -m localdruid demo --port $(PORT) --data-dir $(DATA_DIR)

bench: venv
	$(PY) bench/engine.py

corpus: venv
	$(PY) bench/corpus.py

clean:
	rm -rf var .pytest_cache .ruff_cache
