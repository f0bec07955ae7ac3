# treasure — every target is listed by `make help`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_RECORDING := runs/blowup-12k.trec
NATIVE_SOURCES := $(wildcard rust/loadgen/Cargo.toml rust/loadgen/Cargo.lock rust/loadgen/src/*.rs \
	rust/serve/Cargo.toml rust/serve/Cargo.lock rust/serve/src/*.rs)
RUST_SOURCES := $(NATIVE_SOURCES) $(wildcard rust/Cargo.toml rust/Cargo.lock rust/pyproject.toml rust/python/treasure_rs/*.py) \
	$(shell find rust/src rust/vendor -name target -prune -o \( -name '*.rs' -o -name Cargo.toml \) -print 2>/dev/null)

.DEFAULT_GOAL := help
.PHONY: help install install-test-deps demo gate test test-python test-rust fuzz-rust lint bench schema clean \
	fuzz fuzz-recordings fuzz-scan fuzz-routing fuzz-kills

help: ## Show every target with what it does
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | \
		awk 'BEGIN {FS = ":.*## "} {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml $(RUST_SOURCES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,contenders,cluster]'
	if command -v cargo >/dev/null; then $(BIN)/python -m pip install --quiet ./rust; \
	else echo "cargo not found: the Rust backends (rust-serde, rust-events) are not built"; fi
	if command -v cargo >/dev/null; then cargo build --quiet --release --manifest-path rust/loadgen/Cargo.toml \
		&& cp rust/loadgen/target/release/treasure-loadgen $(BIN)/ \
		&& cargo build --quiet --release --manifest-path rust/serve/Cargo.toml \
		&& cp rust/serve/target/release/treasure-serve-native $(BIN)/; \
	else echo "cargo not found: the native sender and server are not built (the pure-Python sender is used)"; fi
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install treasure, its dev tools and the Rust backend

install-test-deps: ## Install what only some tests need (headless Chromium for the HTML report)
	bash scripts/install-chromium.sh

$(DEMO_RECORDING): | $(STAMP)
	$(BIN)/treasure generate blowup-12k -o $(DEMO_RECORDING)

demo: $(STAMP) $(DEMO_RECORDING) ## Set up, then compare every backend on the blowup-12k recording
	$(BIN)/treasure compare $(DEMO_RECORDING) --limit 5000 --heap-messages 500 -o runs/demo.json

gate: $(STAMP) ## Compare on the committed smoke recording and gate it against treasure.toml
	$(BIN)/treasure compare recordings/smoke.trec -b pyyaml-dom,pyyaml-stream,rust-serde,rust-events \
		--heap-messages 150 -o runs/ci/smoke.json
	$(BIN)/treasure gate runs/ci/smoke.json --junit runs/ci/gate.xml --markdown runs/ci/gate.md

test-rust: $(STAMP) ## Rust tests: treasure-rs, the vendored granit-parser's own suite, its patch
	if command -v cargo >/dev/null; then \
		cargo test --quiet --manifest-path rust/Cargo.toml && \
		timeout 900 rust/scripts/granit-parser.sh test && \
		rust/scripts/granit-parser.sh check && \
		cargo test --quiet --manifest-path rust/serve/Cargo.toml; fi

fuzz-rust: ## rust-serde against rust-events on many more generated messages (FUZZ_CASES)
	PROPTEST_CASES=$${FUZZ_CASES:-200000} cargo test --release --manifest-path rust/Cargo.toml \
		--test differential

fuzz-scan: ## rust-scan against the full parser on 1,000,000 generated messages (SCAN_FUZZ_SEED to vary)
	SCAN_FUZZ_MESSAGES=$${SCAN_FUZZ_MESSAGES:-1000000} cargo test --release --manifest-path rust/Cargo.toml \
		--test scan_differential -- --nocapture

test-python: $(STAMP) ## The pytest suite (unit, CLI, contract, integration)
	$(BIN)/pytest

test: test-rust test-python ## Set up, then run every test (Rust, then Python)

fuzz-recordings: $(STAMP) ## Recording mutation fuzz and writer kills, long (ROUNDS=200 KILLS=200)
	TREASURE_FUZZ_ROUNDS=$${ROUNDS:-200} TREASURE_FUZZ_KILLS=$${KILLS:-200} $(BIN)/pytest -q -s \
		tests/unit/test_recording_mutations.py tests/unit/test_recording_kills.py

fuzz-routing: $(STAMP) ## Every backend, and rust-scan on its own generator, against the routing reference on 20,000 hypothesis messages each (EXAMPLES=N)
	TREASURE_DIFFERENTIAL_EXAMPLES=$${EXAMPLES:-20000} $(BIN)/pytest -q tests/parsers/test_differential.py \
		tests/parsers/test_scan_differential.py

fuzz-kills: $(STAMP) ## SIGKILL of compare at random moments, long (COMPARE_KILLS=50)
	TREASURE_FUZZ_COMPARE_KILLS=$${COMPARE_KILLS:-50} $(BIN)/pytest -q -s \
		tests/integration/test_compare_kills.py

fuzz: fuzz-recordings fuzz-scan fuzz-routing fuzz-rust fuzz-kills ## Every fuzz target, long versions of what `make test` runs bounded

lint: $(STAMP) ## ruff (lint and format check) and mypy --strict over src, tests and benchmarks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

bench: $(STAMP) $(DEMO_RECORDING) ## Benchmarks on the blowup-12k recording: ratios measured side by side
	$(BIN)/python benchmarks/run.py $(DEMO_RECORDING)
	$(BIN)/python benchmarks/targets.py $(DEMO_RECORDING)
	$(BIN)/python benchmarks/truth.py $(DEMO_RECORDING)
	$(BIN)/python benchmarks/state_of_art.py $(DEMO_RECORDING)
	$(BIN)/python benchmarks/shards.py $(DEMO_RECORDING)
	$(BIN)/python benchmarks/shard_spin.py --rounds 5

schema: $(STAMP) ## Regenerate docs/result-schema.json from the result types
	$(BIN)/python -c 'import sys; from treasure.results import schema_text; sys.stdout.write(schema_text())' > docs/result-schema.json.tmp
	mv docs/result-schema.json.tmp docs/result-schema.json

clean: ## Remove the venv, runs and caches
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache rust/target rust/loadgen/target rust/serve/target
