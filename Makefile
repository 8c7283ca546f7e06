# Two commands matter on a fresh machine: `make synth` and `make test`. Both install what
# they need (uv from PyPI into .tools, the locked dependencies into .venv).
.DEFAULT_GOAL := help
STACK ?= dev
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin
# pytest-xdist: three workers per core, 6 to 24 (the e2e tests mostly wait on real servers'
# clocks, so they overlap well even on 2 cores). loadgroup keeps the tests that share one
# live estate (xdist_group) on one worker; pytest-randomly shuffles the order on every run.
WORKERS ?= $(shell n=$$(( $$(nproc 2>/dev/null || echo 2) * 3 )); [ $$n -lt 6 ] && n=6; [ $$n -gt 24 ] && n=24; echo $$n)
PYTEST := $(BIN)/pytest -n $(WORKERS) --dist loadgroup

.PHONY: help install tools synth synth-all check test lint typecheck unit e2e bench bench-suite bench-cost clean

help:  ## List the targets
	@grep -E '^[a-z0-9-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	bash scripts/bootstrap.sh

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --compile-bytecode
	@touch $@

install: $(VENV)/.synced  ## Install the locked dependencies into .venv

synth: install  ## Synthesize STACK (default dev) into out/STACK and print the summary
	$(BIN)/estate synth $(STACK)

synth-all: install  ## Synthesize every stack
	$(BIN)/estate synth --all

check: install tools  ## estate check --all: every validator on every stack (exit 1 on errors)
	$(BIN)/estate check --all

lint: install  ## ruff (lint and format check)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install  ## mypy, strict on the project's code
	$(BIN)/mypy

unit: install tools  ## The fast tests: neither e2e (real servers) nor slow (long real-tool runs)
	$(PYTEST) -m "not e2e and not slow"

e2e: install tools  ## The end-to-end tests: real Prometheus and Alertmanager on 127.0.0.1
	$(PYTEST) -m e2e

tools:  ## Prometheus >= 3.5 and Alertmanager >= 0.28 (+ promtool, amtool) into .tools/prometheus
	bash scripts/install-prometheus.sh

test: install tools lint typecheck  ## The whole suite: ruff, mypy, pytest (real promtool/amtool)
	$(PYTEST)

bench: install  ## Benchmarks; writes benchmarks/README.md
	$(BIN)/python -m benchmarks.run --write benchmarks/README.md

bench-suite: install  ## make test on a fresh clone, timed; updates benchmarks/README.md
	$(BIN)/python -m benchmarks.suite_time --write benchmarks/README.md

bench-cost: install tools  ## The estate's rules on a real Prometheus at 10/100/1,000 services
	$(BIN)/python -m benchmarks.estate_cost

clean:  ## Remove out/ and caches
	rm -rf out .pytest_cache .mypy_cache .ruff_cache
