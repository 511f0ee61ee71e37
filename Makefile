# clausewatch: `make demo` replays the corpus into a database and serves it; `make test` runs the tests.
# Both create the virtual environment (.venv) when it is missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CORPUS ?= ../shared/corpus
DB ?= data/clausewatch.db
export CLAUSEWATCH_CORPUS := $(abspath $(CORPUS))

.PHONY: install demo test run lint bench browser redis clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

install: $(BIN)/.installed

browser:
	@scripts/ensure-chromium

# Debian's redis-server for the cluster tests (they start their own instances on 127.0.0.1)
redis:
	@scripts/ensure-redis

demo: install
	$(BIN)/clausewatch crawl --replay $(CORPUS) --db $(DB)
	$(BIN)/clausewatch status --db $(DB)
	@echo "serving the tracker on http://127.0.0.1:8001 (Ctrl-C to stop)"
	$(BIN)/clausewatch serve --db $(DB) --host 127.0.0.1 --port 8001

run: install
	$(BIN)/clausewatch crawl --db $(DB)
	$(BIN)/clausewatch status --db $(DB)

lint: install
	$(BIN)/ruff check .

test: install browser redis lint
	$(BIN)/pytest -q

bench: install
	$(BIN)/python bench/crawl.py

clean:
	rm -rf data/*.db data/*.db-wal data/*.db-shm artifacts
