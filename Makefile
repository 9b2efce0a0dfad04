# Ladder. `make run` starts the portal; `make test` checks everything. Needs only python3.11.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
export DJANGO_SETTINGS_MODULE := portal.settings

.PHONY: run test faults bench screenshots browser-deps checkov-deps clean

$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null || { echo "ladder: $(PYTHON) not found: install Python 3.11 or set PYTHON"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.run-installed $@

# checkov in a virtualenv of its own: it pins a boto3 that conflicts with ours.
CHECKOV_VENV := .venv-checkov
$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	@command -v $(PYTHON) >/dev/null || { echo "ladder: $(PYTHON) not found: install Python 3.11 or set PYTHON"; exit 2; }
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet -r requirements-checkov.txt
	touch $@

checkov-deps: $(CHECKOV_VENV)/.installed

run: $(VENV)/.run-installed
	$(PY) -m worker.run

# Tests run against PostgreSQL and Redis (CI: the machine's own).
test: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
test: export REDIS_URL ?= redis://127.0.0.1:6379/0
test: $(VENV)/.dev-installed checkov-deps browser-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy provisioning
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest -n 2 --dist loadgroup -m "not faults"

# Issue 8's budgets at scale: bench/report.json and a table. Needs the machine's PostgreSQL
# (creates and drops the ladder_bench database) and Redis. BENCH_ARGS=--quick for a short run.
bench: export REDIS_URL ?= redis://127.0.0.1:6379/0
bench: $(VENV)/.dev-installed
	$(PY) -m bench $(BENCH_ARGS)

# Issue 7's fault harness and security re-run: docs/reliability.md (slower than `make test`,
# which runs the fast fault cases too). Needs the machine's PostgreSQL (own database).
FAULTS_DIR := .local/faults
faults: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/faultstest
faults: export REDIS_URL ?= redis://127.0.0.1:6379/0
faults: export FAULTS_RESULTS_DIR := $(FAULTS_DIR)
faults: $(VENV)/.dev-installed checkov-deps
	rm -rf $(FAULTS_DIR)
	-$(VENV)/bin/pytest tests/faults -q -p no:cacheprovider --junitxml=$(FAULTS_DIR)/faults.xml
	-$(VENV)/bin/pytest -n 2 -q -p no:cacheprovider --junitxml=$(FAULTS_DIR)/security.xml \
	  tests/portal/test_security.py tests/portal/test_settings.py tests/api/test_tenancy.py \
	  tests/api/test_schema.py tests/api/test_hostile_input.py tests/provisioning/test_aws_access.py tests/provisioning/test_checkov.py
	$(PY) -m tests.faults.report $(FAULTS_DIR)

# The README's screenshots, taken by the browser tests in a real Chromium.
screenshots: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
screenshots: $(VENV)/.dev-installed browser-deps
	SCREENSHOT_DIR=docs/screenshots $(VENV)/bin/pytest tests/browser -q

# Debian's Chromium for the browser tests (never a downloaded browser build).
browser-deps:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "ladder: browser tests need Debian's chromium: sudo apt-get install chromium"; fi; }

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .local staticfiles .pytest_cache .mypy_cache .ruff_cache
