# Two commands set up a fresh machine: `make run` serves, `make test` proves it works.
# Both create .venv and install what they need on first use.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST := $(BIN)/pytest -p no:cacheprovider
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test imports test-unit test-contract test-e2e fuzz lint typecheck clean bench \
	bench-micro bench-baseline bench-check mutation browser screenshots oidc-provider oidc-dev-provider

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "neodyme needs Python 3.11 or newer (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/neodyme db upgrade
	$(BIN)/neodyme serve --host $(HOST) --port $(PORT)

# Lint (with the import contracts: the domain imports only the standard library), the
# type check and every tier, each timed: part of the test command, not a separate habit.
test: $(STAMP)
	@suite_start=$$(date +%s%N); \
	$(MAKE) --no-print-directory lint typecheck test-unit test-contract test-e2e || exit $$?; \
	echo "== whole suite: $$(( ($$(date +%s%N) - suite_start) / 1000000 )) ms"

define timed
	@start=$$(date +%s%N); $(2); rc=$$?; \
	echo "== $(1): $$(( ($$(date +%s%N) - start) / 1000000 )) ms (exit $$rc)"; exit $$rc
endef

imports: $(STAMP)
	$(call timed,import contracts,$(BIN)/lint-imports --no-cache)

# Two xdist workers (measured best on two cores; a third only adds start-up) in every tier:
# each test has its own in-memory database, SQLite file or emptied PostgreSQL scratch
# database (one per worker), and each e2e worker runs its own server on its own database.
# worksteal: the unit tier's few slow property tests would otherwise leave a worker idle.
test-unit: $(STAMP)
	$(call timed,unit tier,$(PYTEST) tests/unit -q -n 2 --dist worksteal)

test-contract: $(STAMP)
	$(call timed,contract tier,$(PYTEST) tests/contract -q -n 2)

# The e2e tier includes the browser tier (tests/e2e/browser: the pages in Chromium, driven
# by Playwright), hence `browser` first.
test-e2e: $(STAMP) browser oidc-provider
	$(call timed,e2e tier,$(PYTEST) tests/e2e -q -n 2)

# A local OpenID Connect provider to try "Sign in with" by hand beside `make run` (README):
# the tests' provider, on port 9400, signing everyone in as alice@example.com.
oidc-dev-provider: oidc-provider
	PORT=9400 CLIENT_ID=neodyme-dev CLIENT_SECRET=dev-secret-not-for-production \
	  REDIRECT_URIS=http://localhost:$(PORT)/login/oidc/local/callback \
	  node $(OIDC_PROVIDER)/provider.js

# The e2e tier signs in with a real OpenID Connect provider: panva's oidc-provider from
# npm (tests/support/oidc_provider/, its lock file committed), installed once per lock.
OIDC_PROVIDER := tests/support/oidc_provider
oidc-provider: $(OIDC_PROVIDER)/node_modules/.package-lock.json

$(OIDC_PROVIDER)/node_modules/.package-lock.json: $(OIDC_PROVIDER)/package-lock.json
	@command -v npm >/dev/null || { echo "the federation tests need Node.js 20+ and npm:" \
	  "https://nodejs.org, or apt-get install nodejs npm"; exit 1; }
	npm ci --prefix $(OIDC_PROVIDER) --no-audit --no-fund --loglevel=error
	@touch $@

# The browser tier drives the system's Chromium (Debian's `chromium` package), never one
# that Playwright downloads (`playwright install` is not used): installed here if missing,
# when root (CI's case), as `make bench` installs wrk.
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y chromium || { apt-get update && apt-get install -y chromium; }; \
	  else echo "the browser tests need Chromium: sudo apt-get install chromium"; exit 1; fi; }

# PNGs of the main pages in docs/screenshots/ (tests/support/screenshots.py: its own
# server, SMTP sink and Chromium; a fixed person, viewport and user agent). Not part of
# `make test`, which runs the same writer into a temporary directory.
screenshots: $(STAMP) browser
	$(BIN)/python -m tests.support.screenshots docs/screenshots

# API fuzzing (tests/e2e/test_fuzzing.py, schemathesis) with many more requests per
# operation than the bounded run of `make test-e2e`: its own server, scratch database and
# SMTP sink, like the e2e tier. NEODYME_FUZZ_SEED=<seed> replays a failing run.
FUZZ_EXAMPLES ?= 500
fuzz: $(STAMP)
	$(call timed,API fuzzing ($(FUZZ_EXAMPLES) examples per operation),NEODYME_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PYTEST) tests/e2e/test_fuzzing.py -q)

# The API contract (docs/testing.md): rewrite docs/openapi.json from the live document.
# Refuses (exit 1, the classified report) while a breaking difference has no entry in
# docs/api-changes.md, or while two processes generate different documents.
.PHONY: openapi
openapi: $(STAMP)
	$(BIN)/python -m tests.support.openapi_snapshot

# Performance against bare reference apps (bench/run.py; docs/performance.md): one table,
# bench/results/latest.json and docs/bench.png; the run's ratios are appended to the
# committed bench/history.jsonl and their trend drawn in docs/bench-history.png
# (`python -m bench.report --history` redraws it). Takes a few minutes, `make test` included.
# BENCH_ARGS="--skip-make-test --seconds 4" for a quick run. PostgreSQL: a scratch database
# on 127.0.0.1:5432 (or NEODYME_BENCH_DATABASE_URL); left out, with a note, if none answers.
BENCH_STAMP := $(VENV)/.installed-bench
BENCH_ARGS ?=
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }; \
	  else echo "make bench needs wrk (HTTP load generator): sudo apt-get install wrk"; exit 1; fi; }
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# Micro-benchmarks of the hot pure code (bench/micro.py; docs/performance.md): the password
# policy check, a token issued and verified, a login on memory:// with cheap argon2, each
# timed in rounds alternating with a fixed reference workload, so that the figure is a
# ratio that a busy machine leaves alone. bench-micro prints the ratios (a few seconds);
# bench-baseline writes bench/micro_baseline.json from five runs (commit it);
# bench-check fails, naming the benchmark, when a ratio is over 30% worse than that.
bench-micro: $(STAMP)
	$(BIN)/python -m bench.micro

bench-baseline: $(STAMP)
	$(BIN)/python -m bench.micro --write-baseline

bench-check: $(STAMP)
	$(BIN)/python -m bench.micro --check

# Load test (bench/locustfile.py; docs/testing.md, "Realistic test data"): headless locust
# against a RUNNING server at HOST:PORT (`make run` in another terminal), as the accounts
# of LOAD_CSV. When that file is missing, LOAD_ACCOUNTS accounts are seeded first with
# `neodyme seed --realistic --credentials-csv` into the database this environment names
# (the one `make run` serves: same directory, same NEODYME_* variables). Prints locust's
# table, then the verdict; fails when the error rate (percent) or the p95 latency (ms)
# passes its threshold. `rm bench/results/credentials.csv` to seed afresh.
.PHONY: load
LOAD_STAMP := $(VENV)/.installed-load
LOAD_CSV ?= bench/results/credentials.csv
LOAD_ACCOUNTS ?= 200
LOAD_USERS ?= 20
LOAD_SPAWN_RATE ?= 5
LOAD_TIME ?= 30s
LOAD_MAX_ERROR_RATE ?= 1
LOAD_MAX_P95_MS ?= 500
$(LOAD_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,load]'
	@touch $(LOAD_STAMP)

$(LOAD_CSV): | $(LOAD_STAMP)
	@mkdir -p $(dir $(LOAD_CSV))
	$(BIN)/neodyme seed --users $(LOAD_ACCOUNTS) --realistic --credentials-csv $(LOAD_CSV)

load: $(LOAD_STAMP) $(LOAD_CSV)
	$(BIN)/locust -f bench/locustfile.py --headless --only-summary --host http://$(HOST):$(PORT) \
	  --users $(LOAD_USERS) --spawn-rate $(LOAD_SPAWN_RATE) --run-time $(LOAD_TIME) \
	  --credentials $(LOAD_CSV) --max-error-rate $(LOAD_MAX_ERROR_RATE) --max-p95-ms $(LOAD_MAX_P95_MS)

# Mutation testing (mutation/run.py; docs/testing.md, "Mutation testing"): mutmut over the
# domain and the security-critical adapters against the unit tier; prints the score per
# module, lists survivors, writes mutation/summary.json. About 10-20 minutes on 2 cores, so
# not part of `make test`. CHANGED=1: only the modules changed since main.
MUTATION_STAMP := $(VENV)/.installed-mutation
$(MUTATION_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,mutation]'
	@touch $(MUTATION_STAMP)

mutation: $(MUTATION_STAMP)
	$(BIN)/python -m mutation.run $(if $(CHANGED),--changed)

# Both part of `make test` (first: they take seconds), each with its timed line, which
# .ci/run requires as it does the tiers'. lint includes the import contracts.
lint: $(STAMP)
	$(call timed,lint,$(BIN)/ruff check --no-cache src tests bench mutation examples \
	  && $(BIN)/ruff format --no-cache --check src tests bench mutation examples && $(BIN)/lint-imports --no-cache)

typecheck: $(STAMP)
	$(call timed,typecheck,$(BIN)/mypy)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .hypothesis build src/*.egg-info
