#!/usr/bin/env bash
# The test command of the README, and what CI runs: services up, formatting, lints, every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-services.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
