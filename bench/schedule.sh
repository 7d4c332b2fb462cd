#!/usr/bin/env bash
# The schedule-quality benchmark (issue 15): seeded role-constrained DAGs
# and the seed plan, each scheduled by the real policy (`swarmctl plan
# simulate`), by first-in-first-out list scheduling, and solved to a proven
# optimum by OR-Tools CP-SAT. Prints mean and worst ratios to the optimum
# per size. OR-Tools lives in a virtual environment under target/ and is
# used only here; optima are cached in target/schedule-bench/ so a second
# run (after a policy change) solves nothing again.
# Usage: bench/schedule.sh [INSTANCES_PER_SIZE] [extra bench.py flags]
set -euo pipefail
cd "$(dirname "$0")/.."
per_size=${1:-100}
shift || true
venv=target/schedule-bench/venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet 'ortools==9.15.6755'
fi
cargo build -p swarm-ctl >&2
"$venv/bin/python" bench/schedule/bench.py --swarmctl target/debug/swarmctl \
  --per-size "$per_size" --cache target/schedule-bench/optima.json "$@"
