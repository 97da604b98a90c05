# The two set-up commands (README): `make run` and `make test`. Each creates the virtual
# environment it needs on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUN_STAMP  := $(VENV)/.run-deps
TEST_STAMP := $(VENV)/.test-deps
TRANSLATIONS := $(wildcard intake/translations caseworker/translations)

.PHONY: run test test-sqlite test-postgres lint translations browser-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml $(RUN_STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

translations: $(RUN_STAMP)
	@for dir in $(TRANSLATIONS); do \
	  ls $$dir/*/LC_MESSAGES/*.po >/dev/null 2>&1 || continue; \
	  $(BIN)/pybabel compile -d $$dir >/dev/null || exit 1; done

## Start intake (http://127.0.0.1:8080) and caseworker (http://127.0.0.1:8081) on SQLite.
run: $(RUN_STAMP) translations
	$(BIN)/sealbox serve

## The whole suite: SQLite (store tests on PostgreSQL too), then again on PostgreSQL.
test: test-sqlite test-postgres

test-sqlite: $(TEST_STAMP) translations browser-deps
	$(BIN)/pytest

test-postgres: $(TEST_STAMP) translations
	$(BIN)/pytest --db=postgres -m "not browser"

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/bandit -q -c pyproject.toml -r . -lll
	.ci/pip-audit

# Browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium not installed: browser tests will be skipped"; fi; }

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
