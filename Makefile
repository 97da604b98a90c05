# The two set-up commands (README): `make run` and `make test`. Each creates the virtual
# environment it needs on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUN_STAMP  := $(VENV)/.run-deps
TEST_STAMP := $(VENV)/.test-deps
TRANSLATIONS := $(wildcard intake/translations caseworker/translations)

.PHONY: run test test-sqlite test-postgres lint lock translations browser-deps office-deps pdf-deps browser-crypto bench clean

# Every dependency, build tools included, comes from a lock with hashes (requirements/):
# pip refuses any file whose hash differs. Sealbox itself is then installed without
# dependencies and without build isolation, so nothing unpinned is fetched.
INSTALL_LOCKED = $(BIN)/pip install --quiet --require-hashes --no-deps -r
INSTALL_SELF   = $(BIN)/pip install --quiet --no-deps --no-build-isolation -e .

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): pyproject.toml requirements/run.lock | $(BIN)/python
	$(INSTALL_LOCKED) requirements/run.lock
	$(INSTALL_SELF)
	touch $@

$(TEST_STAMP): pyproject.toml requirements/test.lock $(RUN_STAMP)
	$(INSTALL_LOCKED) requirements/test.lock
	$(INSTALL_SELF)
	$(BIN)/pip check --quiet
	touch $@

## Re-resolve the locks after a change to pyproject.toml's dependencies (needs PyPI).
lock: $(TEST_STAMP)
	for extra in run test; do \
	  $(BIN)/pip-compile --quiet --allow-unsafe --generate-hashes --all-build-deps \
	    --no-emit-index-url --no-emit-find-links --strip-extras \
	    $$( [ $$extra = test ] && echo --extra=test ) \
	    --output-file=requirements/$$extra.lock pyproject.toml || exit 1; done

translations: $(RUN_STAMP)
	@for dir in $(TRANSLATIONS); do \
	  ls $$dir/*/LC_MESSAGES/*.po >/dev/null 2>&1 || continue; \
	  $(BIN)/pybabel compile -d $$dir >/dev/null || exit 1; done

## Start intake (http://127.0.0.1:8080) and caseworker (http://127.0.0.1:8081) on SQLite.
run: $(RUN_STAMP) translations browser-crypto pdf-deps
	$(BIN)/sealbox serve

## The whole suite: SQLite (store tests on PostgreSQL too), then again on PostgreSQL.
test: test-sqlite test-postgres

test-sqlite: $(TEST_STAMP) translations browser-deps office-deps pdf-deps browser-crypto
	$(BIN)/pytest

test-postgres: $(TEST_STAMP) translations pdf-deps
	$(BIN)/pytest --db=postgres -m "not browser"

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/bandit -q -c pyproject.toml -r . -lll
	.ci/pip-audit

# A case's PDF is set in Debian's Noto fonts, which cover the six UN languages' scripts
# (cases/casework/case_pdf.py); without them the back office says PDFs cannot be made yet.
PDF_FONTS = /usr/share/fonts/truetype/noto/NotoSans-Regular.ttf /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
pdf-deps:
	@ls $(PDF_FONTS) >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-core fonts-noto-cjk >/dev/null; \
	  else echo "fonts-noto-core and fonts-noto-cjk not installed: PDF export is off and its tests skip"; fi; }

# Browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium not installed: browser tests will be skipped"; fi; }

# libsodium.js for sealing in the reporter's browser: exactly what package-lock.json names,
# integrity-checked by npm, copied to intake/static/vendor (intake/sealing/vendor.py).
VENDORED = intake/static/vendor/libsodium-wrappers.mjs
browser-crypto: $(VENDORED)

$(VENDORED): package-lock.json intake/sealing/vendor.py intake/sealing/phonenumbers-entry.mjs | $(RUN_STAMP)
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --ignore-scripts --no-audit --no-fund --silent && $(BIN)/python -m intake.sealing.vendor >/dev/null; \
	else echo "npm not installed: the intake seals on the server only"; fi

# LibreOffice proves that cleaned Office files still open (tests/cases/attachments).
office-deps:
	@command -v soffice >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends libreoffice-writer-nogui libreoffice-calc-nogui \
	      libreoffice-impress-nogui >/dev/null; \
	  else echo "LibreOffice not installed: the office-suite test will be skipped"; fi; }

## Every benchmark, then each target met or missed (bench/all.py; QUICK=1: the short runs).
bench: $(TEST_STAMP) translations
	$(BIN)/python -m bench.all $(if $(QUICK),--quick,)

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache node_modules intake/static/vendor
