#!/usr/bin/env bash
# Soak run (loopback only): bash bench/soak.sh [SECONDS] [WORKERS]
# Builds the soak driver in release mode and runs it for SECONDS (default 600) with WORKERS
# concurrent session loops (default 32). It prints the server's RSS and open file descriptors
# every 10 s, and exits non-zero on RSS growth over 10 % after warm-up, fd growth, lost events or
# unexpected errors. See examples/examples/soak.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
workers="${2:-32}"
cargo build --release -q -p mcp-examples --example soak
exec target/release/examples/soak --seconds "$seconds" --workers "$workers"
