# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app civicreport
PORT ?= 5000
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed
LINT_STAMP := $(VENV)/.lint-installed
BENCH_CASES ?= 1000000
BENCH_SUBMISSIONS ?= 300

.PHONY: run test test-fast lint install migrate demo bench clean serve-prod

# The first install takes minutes (about 3½ on the 2-core machine): one line per stage, and while
# pip works one line per package it fetches, so a newcomer sees it moving. pip's own exit status is
# lost in the pipe; the import check after it is what fails the target.
PIP_PROGRESS := grep --line-buffered -E '^(Collecting|Installing collected|Successfully installed|ERROR)' \
	| sed -u 's/ (from .*//' | cut -c1-110
$(STAMP): pyproject.toml
	@echo "== [1/4] virtualenv $(VENV) (Python: $(PYTHON)) =="
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "== [2/4] upgrading pip =="
	@$(PY) -m pip install --upgrade pip 2>&1 | $(PIP_PROGRESS) || true
	@echo "== [3/4] civicreport and its test tools (the first time: a few minutes) =="
	@$(PY) -m pip install -e '.[test]' 2>&1 | $(PIP_PROGRESS) || true
	@echo "== [4/4] checking the install =="
	$(PY) -c "import civicreport, PIL, pillow_heif, shapely, boto3, moto, pytest"
	@touch $(STAMP)
	@echo "== installed =="

install: $(STAMP)

migrate: install
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) load-demo --if-empty

# The notification worker and the month-end settling (flask settle) run beside the web server and
# stop with it; once the server answers, the site's pages are printed (civicreport/web/landing.py:
# the same links as the page at /).
run: demo
	$(FLASK) worker & worker=$$!; \
	$(FLASK) settle & settler=$$!; \
	$(PY) -m civicreport.web.landing http://127.0.0.1:$(PORT) & announce=$$!; \
	trap 'kill $$worker $$settler $$announce 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# Production: gunicorn with gunicorn.conf.py, which migrates once before forking workers.
# Set CIVICREPORT_DATABASE_URL, CIVICREPORT_STORAGE=s3 and the S3 settings first; run
# `$(FLASK) worker` and `$(FLASK) settle` as their own services beside it (see README, Production).
serve-prod: install
	$(VENV)/bin/gunicorn --config gunicorn.conf.py wsgi:app

test: install
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# The edit-and-rerun loop: the suite without the e2e and slow markers (pyproject.toml says which),
# one worker per core (pytest-xdist): each has its own SQLite file and media folder, so on
# PostgreSQL (one shared database) add PYTEST_ARGS=-n0.
test-fast: install
	$(PY) -m pytest -q -p no:cacheprovider -m "not e2e and not slow" -n auto $(PYTEST_ARGS)

# ruff (lint and format), mypy and the import-linter contracts in pyproject.toml; all four
# run, and any one failing fails the target. .ci/run starts with it.
lint: $(LINT_STAMP)
	@status=0; \
	echo "== ruff check =="; $(VENV)/bin/ruff check . || status=1; \
	echo "== ruff format --check =="; $(VENV)/bin/ruff format --check . || status=1; \
	echo "== mypy =="; $(VENV)/bin/mypy || status=1; \
	echo "== lint-imports =="; $(VENV)/bin/lint-imports --no-logo || status=1; \
	exit $$status

$(LINT_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[lint]' 2>&1 | grep -v '^WARNING: Location' || true
	$(PY) -c "import mypy, importlinter, ruff"
	touch $(LINT_STAMP)

# Every benchmark and one table against the targets; BENCH_CASES=100000 for a shorter queue run.
bench: $(BENCH_STAMP)
	$(PY) bench/summary.py --cases $(BENCH_CASES) --submissions $(BENCH_SUBMISSIONS)

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,bench]' 2>&1 | grep -v '^WARNING: Location' || true
	$(PY) -c "import locust, psutil"
	touch $(BENCH_STAMP)

clean:
	rm -rf $(VENV) instance .pytest_cache
