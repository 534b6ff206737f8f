# Entry points; README.md explains each. Everything a fresh machine needs beyond the Rust toolchain and
# python3 (moto's server, the aws CLI and the linters in .venv/, promtool beside them) is installed by
# `make setup`, which the others run first.

CARGO ?= cargo

.PHONY: setup build test demo bench model

setup:
	scripts/setup-venv.sh
	scripts/setup-promtool.sh

build:
	$(CARGO) build --workspace --locked

# Format, lints and the whole test suite; fails if any of them fails.
test: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --all-targets --locked --no-fail-fast; \
	else \
		echo "cargo-nextest not found; running cargo test"; \
		$(CARGO) test --workspace --all-targets --locked --no-fail-fast; \
	fi

# Starts moto (SQS) and ecs-sim (ECS) on loopback and deploys a service through them.
demo: setup
	scripts/demo.sh

# Measures what the worker adds on top of SQS and ECS (release build, moto and ecs-sim on loopback) and
# writes the results table into BENCHMARKS.md; a missed target is reported there, never a failure. The worker
# is built on its own, as it ships, not with the harness's or the benchmark's dependency features.
bench: setup
	$(CARGO) bench --locked --profile release -p ecs-deployment --bench message_path
	$(CARGO) build --release --locked -p ecs-deployment
	$(CARGO) run --release --locked -p ecs-bench

# Regenerates crates/ecs-model/model/ecs.json from the botocore installed in .venv/.
model: setup
	.venv/bin/python scripts/gen-ecs-model.py
