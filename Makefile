# Switchboard: `make` lists the targets. Needs only python3 (3.11+) and make: uv is installed
# into .tools/ when it is not on PATH, everything else comes from uv.lock into .venv/.

.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

PYTHON ?= python3
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
RUN := $(UV) run --no-sync

PYTEST_ARGS ?=
ARGS ?=
# make up THREADS=2 GATEWAYS=2 WORKERS=3: how many of each service (default 1 each);
# NATS_NODES=3: a three-node JetStream cluster on the loopback, streams with 3 replicas
THREADS ?=
GATEWAYS ?=
WORKERS ?=
NATS_NODES ?=
STACK_ENV := $(if $(THREADS),SWITCHBOARD_THREADS=$(THREADS)) \
             $(if $(GATEWAYS),SWITCHBOARD_GATEWAYS=$(GATEWAYS)) \
             $(if $(WORKERS),SWITCHBOARD_WORKERS=$(WORKERS)) \
             $(if $(NATS_NODES),SWITCHBOARD_NATS_NODES=$(NATS_NODES))

SRC_DIRS := $(wildcard libs/*/src services/*/src tools/*/src clients/*/src)
SWITCHBOARD_PG_PORT ?= 55432

# `make replay -- --check`: words after `replay` are the replay's options, not make targets.
ifeq (replay,$(firstword $(MAKECMDGOALS)))
  REPLAY_EXTRA := $(wordlist 2,$(words $(MAKECMDGOALS)),$(MAKECMDGOALS))
  $(eval $(REPLAY_EXTRA):;@:)
endif

.PHONY: help install up test test-unit test-integration test-e2e test-faults lint format asyncapi \
        replay bench-list bench-chat bench-replay bench-load bench-bus bench-tree bench-import bench-search \
        bench-burst bench-context bench-usage bench-keys clean-data

help: ## show this list
	@awk -v tty="$$([ -t 1 ] && echo 1)" 'BEGIN { FS = ":.*## "; \
	    c = tty ? "\033[36m" : ""; r = tty ? "\033[0m" : ""; \
	    print "usage: make <target> [VAR=value ...]\n" } \
	  /^[a-zA-Z0-9_-]+:.*## / { printf "  %s%-17s%s %s\n", c, $$1, r, $$2 }' $(MAKEFILE_LIST)
	@echo
	@echo "variables: THREADS= GATEWAYS= WORKERS= NATS_NODES= (make up), PYTEST_ARGS= (make test),"
	@echo "           ARGS= (replay, bench-*), UV= PYTHON=; the stack's settings are"
	@echo "           SWITCHBOARD_* environment variables (see tools/devstack/src/devstack/settings.py)"

install: ## install uv into .tools/ if missing, then sync .venv from uv.lock
	@if ! command -v "$(UV)" >/dev/null 2>&1; then \
	  echo "uv not found: installing it into .tools/"; \
	  $(PYTHON) -m venv .tools; \
	  .tools/bin/python -m pip install --quiet --disable-pip-version-check uv; \
	fi
	@if [ -f uv.lock ]; then $(UV) sync --frozen; else $(UV) sync; fi

up: install ## run postgres, nats and every service here; Ctrl-C stops all (WORKERS=3 NATS_NODES=3 ...)
	$(STACK_ENV) $(RUN) switchboard-up

test: install ## run every test tier; PYTEST_ARGS="-x -k name" passes options to pytest
	$(RUN) pytest $(PYTEST_ARGS)

test-unit: install ## unit tests: pure code, no servers (seconds)
	$(RUN) pytest tests/unit $(PYTEST_ARGS)

test-integration: install ## one service's parts against real Postgres and NATS
	$(RUN) pytest tests/integration $(PYTEST_ARGS)

test-e2e: install ## the running stack through its HTTP API, the web page and the CLI
	$(RUN) pytest tests/e2e $(PYTEST_ARGS)

test-faults: install ## processes killed, paused and restarted; servers stopped under load
	$(RUN) pytest tests/faults $(PYTEST_ARGS)

lint: install ## ruff check, ruff format --check and mypy (all three run; fails if any fails)
	@status=0; \
	$(RUN) ruff check . || status=1; \
	$(RUN) ruff format --check . || status=1; \
	$(RUN) mypy $(SRC_DIRS) || status=1; \
	exit $$status

format: install ## rewrite the code: ruff format, then ruff check --fix
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

asyncapi: install ## regenerate the AsyncAPI document of the NATS contracts (GET /asyncapi.json)
	$(RUN) switchboard-asyncapi

replay: export THREADS_DATABASE_URL ?= postgresql+asyncpg://postgres@127.0.0.1:$(SWITCHBOARD_PG_PORT)/switchboard
replay: install ## rebuild every read model from the events, online (make replay -- --check)
	$(RUN) switchboard-threads replay $(ARGS) $(REPLAY_EXTRA)

bench-list: install ## benchmark listing threads (benchmarks/bench_list.py; ARGS= passes options)
	$(RUN) python benchmarks/bench_list.py $(ARGS)

bench-chat: install ## benchmark streaming chats against direct and LiteLLM (benchmarks/bench_chat.py)
	$(RUN) python benchmarks/bench_chat.py $(ARGS)

bench-replay: install ## benchmark a replay of the event store (benchmarks/bench_replay.py)
	$(RUN) python benchmarks/bench_replay.py $(ARGS)

bench-load: install ## mixed load from 200 simulated users for 2 minutes (benchmarks/bench_load.py)
	$(RUN) python benchmarks/bench_load.py $(ARGS)

bench-bus: install ## NATS request/reply: the services' route table against FastStream (benchmarks/bench_bus.py)
	$(RUN) python benchmarks/bench_bus.py $(ARGS)

bench-tree: install ## a thread of 1,000 messages on 50 branches: its active path (benchmarks/bench_tree.py)
	$(RUN) python benchmarks/bench_tree.py $(ARGS)

bench-import: install ## a 50 MB ChatGPT export imported while another user works (benchmarks/bench_import.py)
	$(RUN) python benchmarks/bench_import.py $(ARGS)

bench-search: install ## full-text search p99, one user with 1,000,000 messages (benchmarks/bench_search.py)
	$(RUN) python benchmarks/bench_search.py $(ARGS)

bench-burst: install ## 3,000 SSE readers connecting at once to 375 streaming answers (benchmarks/bench_burst.py)
	$(RUN) python benchmarks/bench_burst.py $(ARGS)

bench-context: install ## first-token overhead of the context budget: a 2,000-message thread vs a 10-message one (benchmarks/bench_context.py)
	$(RUN) python benchmarks/bench_context.py $(ARGS)

bench-usage: install ## GET /api/usage p99 for a user with a year of daily ledger rows (benchmarks/bench_usage.py)
	$(RUN) python benchmarks/bench_usage.py $(ARGS)

bench-keys: install ## gateway CPU per request of an API key against a login token (benchmarks/bench_keys.py)
	$(RUN) python benchmarks/bench_keys.py $(ARGS)

clean-data: ## delete .data/ (the local database and streams); refuses while make up runs
	@if [ -f .data/devstack.pid ] && kill -0 "$$(cat .data/devstack.pid)" 2>/dev/null; then \
	  echo "make up is running (pid $$(cat .data/devstack.pid)): stop it first"; exit 1; \
	fi
	rm -rf -- .data
