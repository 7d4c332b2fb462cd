#!/usr/bin/env bash
# Runs every benchmark of issue 3 RUNS times (default 3) and prints each
# JSON line, then the median of each figure per shape. With --scale, also
# issue 14's: a million wide tasks and ten thousand idle agents (about two
# minutes a run more).
# Usage: bench/run.sh [RUNS] [--scale]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
scale=${2:-}
cargo build --release -p swarm-bench >&2
out=$(mktemp)
for _ in $(seq "$runs"); do
  ./target/release/swarm-bench --shape wide --tasks 100000 --slots 64 | tee -a "$out"
  ./target/release/swarm-bench --shape chain --tasks 1000 | tee -a "$out"
  ./target/release/swarm-bench --agents 1000 --idle 30s | tee -a "$out"
  if [ "$scale" = "--scale" ]; then
    ./target/release/swarm-bench --shape wide --tasks 1000000 --slots 64 | sed 's/"shape":"wide"/"shape":"wide1m"/' | tee -a "$out"
    ./target/release/swarm-bench --agents 10000 --idle 30s | sed 's/"shape":"idle"/"shape":"idle10k"/' | tee -a "$out"
  fi
done
python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
for shape in ("wide", "chain", "idle", "wide1m", "idle10k"):
    group = [r for r in rows if r["shape"] == shape]
    if not group:
        continue
    keys = [k for k, v in group[0].items() if isinstance(v, (int, float))]
    print(json.dumps({"shape": shape, "runs": len(group), "median": {k: statistics.median(r[k] for r in group) for k in keys}}))
PY
